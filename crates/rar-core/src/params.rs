//! Mining thresholds and limits, validated in one place.

use crate::error::{DefaultsError, MineError};

/// Which itemset `min_support` applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupportOf {
    /// `A ∪ C`, the textbook definition (arules, mlxtend, MADlib, Spark, and
    /// Borgelt's programs with option `o`). The default.
    Rule,
    /// `A` only: the default of Borgelt's apriori/fpgrowth/eclat (and so of
    /// pyfim's `arules`/`fpgrowth(target='r')`). The reported support is still
    /// that of `A ∪ C`, which may then be below `min_support`.
    Antecedent,
}

/// What to mine. Supports and confidences are shares in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct MineParams {
    /// Least share of baskets holding antecedent ∪ consequent, in `(0, 1]`.
    pub min_support: f64,
    /// Least confidence of a rule, in `[0, 1]`.
    pub min_confidence: f64,
    /// Least lift of a rule, `>= 0`.
    pub min_lift: f64,
    /// Fewest items in a rule (antecedent and consequent together). With 1,
    /// rules with an empty antecedent (`{} => {milk}`) are reported, as
    /// Borgelt's apriori/fpgrowth and R's arules do by default.
    pub min_length: usize,
    /// Most items in a rule, `1..=MAX_LENGTH`.
    pub max_length: usize,
    /// Most items on the right-hand side, `>= 1`.
    pub max_consequent: usize,
    /// Which itemset must reach `min_support`.
    pub support_of: SupportOf,
    /// Rule budget: mining stops with [`MineError::TooManyRules`] past it.
    pub max_rules: u64,
    /// Memory budget in bytes for the itemset tree, tid-lists and rules.
    pub memory_limit: u64,
    /// Threads for mining: the counting pass over the baskets, the itemset
    /// search, rule generation and the sort; 1 mines on the calling thread
    /// only. The result does not depend on it.
    pub threads: usize,
}

/// The documented defaults of the mining thresholds: `rar_mine`'s
/// signature, `CALL rar_refresh` (through `rar.mine_defaults()`),
/// `rar_evaluate` and the aggregates take them from here (a regression test
/// checks the SQL signatures agree).
pub mod defaults {
    pub const MIN_SUPPORT: f64 = 0.01;
    pub const MIN_CONFIDENCE: f64 = 0.5;
    pub const MAX_LENGTH: usize = 4;
    pub const MIN_LIFT: f64 = 0.0;
    /// Neural rules: the least probability the model gives an antecedent's
    /// items (autoencoders).
    pub const ANTECEDENT_THRESHOLD: f64 = 0.01;
    /// Neural and hybrid rules without a `consequent_threshold`: each item's
    /// own threshold is this quantile of the probabilities the model gives
    /// it when it is held out of a real basket (`probe::calibrate`). Chosen
    /// on Online Retail: the least of 0.5, 0.75 and 0.9 whose neural rules
    /// were at most a tenth of the exact rules for both architectures
    /// (BENCHMARKS.md, "Neural rules").
    pub const CONSEQUENT_QUANTILE: f64 = 0.75;
}

/// The longest rule the miner accepts (consequents are bit masks over the
/// items of an itemset).
pub const MAX_LENGTH: usize = 32;

impl Default for MineParams {
    fn default() -> Self {
        MineParams {
            min_support: defaults::MIN_SUPPORT,
            min_confidence: defaults::MIN_CONFIDENCE,
            min_lift: defaults::MIN_LIFT,
            min_length: 1,
            max_length: defaults::MAX_LENGTH,
            max_consequent: 1,
            support_of: SupportOf::Rule,
            max_rules: 10_000_000,
            memory_limit: 2 << 30,
            threads: 1,
        }
    }
}

fn invalid(name: &'static str, value: impl ToString, expected: &'static str) -> MineError {
    MineError::InvalidParameter { name, value: value.to_string(), expected }
}

impl MineParams {
    /// Checks every field against its range.
    pub fn validate(&self) -> Result<(), MineError> {
        let s = self.min_support;
        if !(s > 0.0 && s <= 1.0) {
            return Err(invalid("min_support", s, "greater than 0 and at most 1"));
        }
        let c = self.min_confidence;
        if !(0.0..=1.0).contains(&c) {
            return Err(invalid("min_confidence", c, "between 0 and 1"));
        }
        if !(self.min_lift >= 0.0 && self.min_lift.is_finite()) {
            return Err(invalid("min_lift", self.min_lift, "a finite number of at least 0"));
        }
        if !(1..=MAX_LENGTH).contains(&self.max_length) {
            return Err(invalid("max_length", self.max_length, "between 1 and 32"));
        }
        if self.min_length < 1 || self.min_length > self.max_length {
            return Err(invalid("min_length", self.min_length, "between 1 and max_length"));
        }
        if self.max_consequent < 1 {
            return Err(invalid("max_consequent", self.max_consequent, "at least 1"));
        }
        Ok(())
    }

    /// Checks an interest ratio across levels (`min_interest`): a finite
    /// number of at least 0. It is not a field of the parameters: levels
    /// are read apart from the baskets.
    pub fn check_min_interest(r: f64) -> Result<(), MineError> {
        if r.is_finite() && r >= 0.0 {
            return Ok(());
        }
        Err(invalid("min_interest", r, "a ratio of at least 0"))
    }

    /// The least basket count an itemset needs: the smallest integer `c >= 1`
    /// with `c >= min_support * n`, with a tolerance of 1e-9 so that
    /// `0.005 * 20000` means 100 and not 101.
    pub fn min_count(&self, n_baskets: usize) -> u32 {
        let x = self.min_support * n_baskets as f64;
        let c = (x - 1e-9).ceil();
        c.clamp(1.0, u32::MAX as f64) as u32
    }
}

/// The methods of rule mining: every rule, rules a model proposes (counted
/// exactly), and exact rules a model supports.
pub const METHODS: [&str; 3] = ["exact", "neural", "hybrid"];

/// The keys of a registered source's mining defaults, as `CALL
/// rar_refresh` reads them.
pub const SOURCE_DEFAULT_KEYS: [&str; 7] =
    ["min_support", "min_confidence", "max_length", "min_lift", "min_interest", "method", "level"];

/// Checks a registered source's mining defaults (`rar.sources.defaults`,
/// the JSON text of a jsonb object) against what `CALL rar_refresh` mines
/// with: the thresholds as [`MineParams::validate`] checks them for
/// `rar_mine`, `max_length` of at least 2 (a refresh keeps rules of two
/// items or more), `min_interest` only across levels (`"level": "all"`),
/// a level only with exact rules, and every number
/// within double precision (the refresh reads them as `float8`). A key
/// whose value is null stands for rar's own default.
pub fn check_source_defaults(json: &str) -> Result<(), DefaultsError> {
    use serde_json::value::RawValue;
    let object: std::collections::BTreeMap<String, &RawValue> =
        serde_json::from_str(json).map_err(|_| DefaultsError::NotObject)?;
    let given: Vec<(&str, &str)> =
        object.iter().map(|(k, v)| (k.as_str(), v.get())).filter(|(_, v)| *v != "null").collect();
    let is_number = |v: &str| v.starts_with(|c: char| c == '-' || c.is_ascii_digit());
    let is_string = |v: &str| v.starts_with('"');
    for &(key, value) in &given {
        let kind_ok = match key {
            "method" | "level" => is_string(value),
            k if SOURCE_DEFAULT_KEYS.contains(&k) => is_number(value),
            _ => true,
        };
        if !kind_ok {
            return Err(DefaultsError::WrongKind { key: key.to_string() });
        }
    }
    // Every key, null or not: a typo is refused, never ignored.
    if let Some(key) = object.keys().find(|k| !SOURCE_DEFAULT_KEYS.contains(&k.as_str())) {
        return Err(DefaultsError::UnknownKey { key: shortened(key) });
    }
    let get = |key: &str| given.iter().find(|(k, _)| *k == key).map(|&(_, v)| v);
    let mut p = MineParams::default();
    if let Some(v) = get("max_length") {
        p.max_length = v
            .parse::<usize>()
            .ok()
            .filter(|n| (2..=MAX_LENGTH).contains(n))
            .ok_or_else(|| DefaultsError::MaxLength { value: shortened(v) })?;
    }
    let text = |key: &str| get(key).map(|v| serde_json::from_str::<String>(v).unwrap_or_default());
    let level = text("level");
    if level.as_deref() == Some("") {
        return Err(DefaultsError::Level);
    }
    if get("min_interest").is_some() && level.as_deref() != Some(crate::hierarchy::ACROSS) {
        return Err(DefaultsError::InterestWithoutLevel);
    }
    if let Some(method) = text("method") {
        if !METHODS.contains(&method.as_str()) {
            return Err(DefaultsError::Method { value: shortened(&method) });
        }
        // rar_mine mines levels with exact rules only (a model knows items).
        if method != "exact" && level.is_some() {
            return Err(DefaultsError::LevelWithModel);
        }
    }
    let number = |name: &'static str| -> Result<Option<f64>, DefaultsError> {
        let Some(v) = get(name) else { return Ok(None) };
        let x: f64 = v.parse().unwrap_or(f64::NAN);
        // A number float8 cannot hold: past its range, or so small that it
        // rounds to zero (PostgreSQL refuses both).
        let underflow =
            x == 0.0 && v.split(['e', 'E']).next().is_some_and(|m| m.bytes().any(|b| matches!(b, b'1'..=b'9')));
        if !x.is_finite() || underflow {
            return Err(DefaultsError::OutOfRange {
                name,
                value: shortened(v),
                expected: "a number within double precision",
            });
        }
        Ok(Some(x))
    };
    p.min_support = number("min_support")?.unwrap_or(p.min_support);
    p.min_confidence = number("min_confidence")?.unwrap_or(p.min_confidence);
    p.min_lift = number("min_lift")?.unwrap_or(p.min_lift);
    let interest = number("min_interest")?.map_or(Ok(()), MineParams::check_min_interest);
    match interest.and_then(|()| p.validate()) {
        Err(MineError::InvalidParameter { name, value, expected }) => {
            Err(DefaultsError::OutOfRange { name, value: shortened(&value), expected })
        }
        _ => Ok(()),
    }
}

/// A value as an error message shows it: at most 40 characters.
fn shortened(v: &str) -> String {
    crate::text::shortened(v, 40)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_count_rounds_up_with_tolerance() {
        let p = |s| MineParams { min_support: s, ..MineParams::default() };
        assert_eq!(p(0.005).min_count(20000), 100);
        assert_eq!(p(0.01).min_count(20728), 208);
        assert_eq!(p(0.001).min_count(9835), 10);
        assert_eq!(p(1e-9).min_count(10), 1);
        assert_eq!(p(1.0).min_count(7), 7);
    }

    #[test]
    fn rejects_out_of_range() {
        let bad = [
            MineParams { min_support: 0.0, ..MineParams::default() },
            MineParams { min_support: 1.5, ..MineParams::default() },
            MineParams { min_support: f64::NAN, ..MineParams::default() },
            MineParams { min_confidence: -0.1, ..MineParams::default() },
            MineParams { min_confidence: 1.01, ..MineParams::default() },
            MineParams { min_lift: -1.0, ..MineParams::default() },
            MineParams { max_length: 0, ..MineParams::default() },
            MineParams { max_length: 33, ..MineParams::default() },
            MineParams { min_length: 5, ..MineParams::default() },
            MineParams { max_consequent: 0, ..MineParams::default() },
        ];
        for p in bad {
            assert!(p.validate().is_err(), "{p:?} should be rejected");
        }
        assert!(MineParams::default().validate().is_ok());
    }

    #[test]
    fn source_defaults_are_checked_as_rar_mine_checks_them() {
        let check = check_source_defaults;
        for ok in [
            "{}",
            r#"{"min_support": 0.02, "level": null, "method": null}"#,
            r#"{"min_interest": 1, "level": "all", "max_length": 32, "min_lift": 0}"#,
            r#"{"min_support": 1, "min_confidence": 0, "max_length": 2, "method": "hybrid"}"#,
            r#"{"method": "exact", "level": "aisle"}"#,
            r#"{"min_lift": 1e-310}"#,
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        let out_of_range = |name| move |e| matches!(e, DefaultsError::OutOfRange { name: n, .. } if n == name);
        let cases: Vec<(&str, Box<dyn Fn(DefaultsError) -> bool>)> = vec![
            ("[1]", Box::new(|e| e == DefaultsError::NotObject)),
            ("3", Box::new(|e| e == DefaultsError::NotObject)),
            (r#"{"min_support": "abc"}"#, Box::new(|e| matches!(e, DefaultsError::WrongKind { .. }))),
            (r#"{"level": 2}"#, Box::new(|e| matches!(e, DefaultsError::WrongKind { .. }))),
            (
                r#"{"min_supp": 0.1, "zz": null}"#,
                Box::new(|e| e == DefaultsError::UnknownKey { key: "min_supp".into() }),
            ),
            (r#"{"zz": null}"#, Box::new(|e| e == DefaultsError::UnknownKey { key: "zz".into() })),
            (r#"{"max_length": 1}"#, Box::new(|e| matches!(e, DefaultsError::MaxLength { .. }))),
            (r#"{"max_length": 33}"#, Box::new(|e| matches!(e, DefaultsError::MaxLength { .. }))),
            (r#"{"max_length": 4.0}"#, Box::new(|e| matches!(e, DefaultsError::MaxLength { .. }))),
            (r#"{"max_length": 1e10}"#, Box::new(|e| matches!(e, DefaultsError::MaxLength { .. }))),
            (r#"{"min_interest": 1}"#, Box::new(|e| e == DefaultsError::InterestWithoutLevel)),
            (r#"{"method": "bogus"}"#, Box::new(|e| e == DefaultsError::Method { value: "bogus".into() })),
            (r#"{"min_support": 7}"#, Box::new(out_of_range("min_support"))),
            (r#"{"min_support": 0}"#, Box::new(out_of_range("min_support"))),
            (r#"{"min_confidence": -0.5}"#, Box::new(out_of_range("min_confidence"))),
            (r#"{"min_lift": -1}"#, Box::new(out_of_range("min_lift"))),
            (r#"{"min_interest": -1, "level": "all"}"#, Box::new(out_of_range("min_interest"))),
            (r#"{"min_interest": 1, "level": "aisle"}"#, Box::new(|e| e == DefaultsError::InterestWithoutLevel)),
            (r#"{"level": ""}"#, Box::new(|e| e == DefaultsError::Level)),
            (r#"{"method": "neural", "level": "aisle"}"#, Box::new(|e| e == DefaultsError::LevelWithModel)),
            (r#"{"method": "hybrid", "level": "all"}"#, Box::new(|e| e == DefaultsError::LevelWithModel)),
            // float8 cannot hold these (the refresh reads them as float8).
            (r#"{"min_lift": 1e400}"#, Box::new(out_of_range("min_lift"))),
            (r#"{"min_confidence": 1e-400}"#, Box::new(out_of_range("min_confidence"))),
        ];
        for (json, expected) in cases {
            let e = check(json).expect_err(json);
            assert!(expected(e.clone()), "{json}: {e:?}");
        }
        // 1e-400 as jsonb prints it.
        let tiny = format!(r#"{{"min_confidence": 0.{}1}}"#, "0".repeat(399));
        assert!(matches!(check(&tiny), Err(DefaultsError::OutOfRange { name: "min_confidence", .. })));
        // Long values are shortened in the message, whatever the key.
        for long in [
            format!(r#"{{"method": "{}"}}"#, "x".repeat(1000)),
            format!(r#"{{"{}": 1}}"#, "k".repeat(1000)),
            r#"{"level": "all", "min_interest": -1.5e300}"#.to_string(),
        ] {
            let e = check(&long).unwrap_err();
            assert!(e.to_string().len() < 120, "{e}");
        }
        let e = check(&format!(r#"{{"min_lift": 1{}}}"#, "0".repeat(400))).unwrap_err();
        assert!(e.to_string().len() < 100, "{e}");
    }
}

/// The fewest baskets a segment needs for `min_support` to mean more than
/// one basket: below it, one basket alone reaches the threshold.
pub fn min_segment_baskets(min_support: Option<f64>) -> i64 {
    match min_support {
        Some(s) if s > 0.0 && s.is_finite() => ((1.0 / s).floor() as i64).saturating_add(1).max(1),
        _ => 1,
    }
}

#[cfg(test)]
mod segment_tests {
    use super::min_segment_baskets;

    #[test]
    fn one_basket_alone_never_reaches_min_support_in_a_kept_segment() {
        for s in [0.5, 0.1, 0.01, 0.005, 0.003, 0.001] {
            let n = min_segment_baskets(Some(s));
            assert!(1.0 / (n as f64) < s, "{s}: {n}");
            assert!(1.0 / ((n - 1) as f64) >= s, "{s}: {n}");
        }
        assert_eq!(min_segment_baskets(Some(0.0)), 1);
        assert_eq!(min_segment_baskets(None), 1);
    }
}
