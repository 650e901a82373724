//! `rar_mine`: exact association rules of a sales table.

use std::sync::Arc;

use pgrx::prelude::*;
use rar_core::params::{MineParams, SupportOf};
use rar_core::rule::Rule;
use rar_core::rules::{mine_rules, RuleSet};
use rar_core::significance::{adjust, PAdjust};

use crate::args::required;
use crate::error::{OrRaise, RarError};
use crate::progress::Progress;
use crate::spi::pin_search_path;
use crate::srf::{Figures, RuleRows};
use crate::{distributed, gucs, hierarchy, neural, reader, relation, sources, splits};

fn support_of(s: &str) -> SupportOf {
    match s {
        "rule" => SupportOf::Rule,
        "antecedent" => SupportOf::Antecedent,
        other => RarError::InvalidOption {
            name: "support_of",
            value: other.to_string(),
            expected: "'rule' (support of antecedent and consequent together, the default) and 'antecedent' (Borgelt's apriori/fpgrowth default)",
        }
        .raise(),
    }
}

/// Mines the association rules of `source`: every rule `A => C` whose
/// support, confidence and lift reach the thresholds, ordered by lift,
/// confidence and count (all descending), then by antecedent and consequent.
/// The rows go straight into the call's result (see [`crate::srf`]); the SQL
/// declaration, with the defaults, is in `sql/mine.sql`.
#[allow(clippy::too_many_arguments)]
#[pg_extern(sql = false)]
fn mine(
    source: Option<&str>,
    min_support: Option<f64>,
    min_confidence: Option<f64>,
    max_length: Option<i32>,
    tid_column: Option<&str>,
    item_column: Option<&str>,
    max_consequent: Option<i32>,
    min_lift: Option<f64>,
    min_length: Option<i32>,
    support_of: Option<&str>,
    split: Option<&str>,
    method: Option<&str>,
    model: Option<i64>,
    antecedent_threshold: Option<f64>,
    consequent_threshold: Option<f64>,
    max_p_value: Option<f64>,
    p_adjust: Option<&str>,
    min_improvement: Option<f64>,
    level: Option<&str>,
    min_interest: Option<f64>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Option<i64> {
    // First: a caller that cannot take a set hears it before any work.
    // SAFETY: pgrx hands over this call's fcinfo; sql/mine.sql declares
    // the ten columns.
    let mut out = unsafe { RuleRows::begin(fcinfo) };
    // Not in `mined`: 0.1.0's signature (src/compat.rs) gives
    // consequent_threshold a default of 0.1 whatever the method.
    if method == Some("exact") && (model.is_some() || consequent_threshold.is_some()) {
        RarError::ConflictingOptions {
            message: "model and consequent_threshold apply to neural and hybrid rules only",
            hint: "Give method => 'neural' or 'hybrid' with them, or leave them out for exact rules.",
        }
        .raise();
    }
    let found = mined(MineArgs {
        source,
        min_support,
        min_confidence,
        max_length,
        tid_column,
        item_column,
        max_consequent,
        min_lift,
        min_length,
        support_of,
        split,
        method,
        model,
        antecedent_threshold,
        consequent_threshold,
        max_p_value,
        p_adjust,
        min_improvement,
        level,
        min_interest,
    });
    found.put(&mut out);
    None
}

/// What `rar_mine` returns, before it becomes rows.
pub enum Mined {
    /// Exact rules, with their p-values (after the p-value filter).
    Exact { rules: Box<RuleSet>, p: Vec<f64> },
    /// Neural or hybrid rules with their p-values.
    Rows(Vec<(Rule, f64)>),
}

impl Mined {
    /// Puts every rule into the call's result, in order.
    pub fn put(self, out: &mut RuleRows) {
        match self {
            Mined::Exact { rules, p } => {
                let (mut items, mut ante, mut cons) = (Vec::new(), Vec::new(), Vec::new());
                for (i, &p_value) in p.iter().enumerate() {
                    rules.sides_into(i, &mut items, &mut ante, &mut cons);
                    let (m, count) = rules.measures_of(i);
                    let figures = Figures {
                        support: m.support,
                        confidence: m.confidence,
                        lift: m.lift,
                        leverage: m.leverage,
                        conviction: m.conviction,
                        count: count as i64,
                        model_score: None,
                        p_value,
                    };
                    out.put_ranked(&ante, &cons, |r| rules.name_of_rank(r), &figures);
                }
            }
            Mined::Rows(rows) => {
                for (r, p_value) in rows {
                    let figures = Figures {
                        support: r.support,
                        confidence: r.confidence,
                        lift: r.lift,
                        leverage: r.leverage,
                        conviction: r.conviction,
                        count: r.count as i64,
                        model_score: r.model_score,
                        p_value,
                    };
                    out.put_named(&r.antecedent, &r.consequent, &figures);
                }
            }
        }
    }
}

/// The arguments of `rar_mine`, as SQL passed them (NULL: `None`).
pub struct MineArgs<'a> {
    pub source: Option<&'a str>,
    pub min_support: Option<f64>,
    pub min_confidence: Option<f64>,
    pub max_length: Option<i32>,
    pub tid_column: Option<&'a str>,
    pub item_column: Option<&'a str>,
    pub max_consequent: Option<i32>,
    pub min_lift: Option<f64>,
    pub min_length: Option<i32>,
    pub support_of: Option<&'a str>,
    pub split: Option<&'a str>,
    pub method: Option<&'a str>,
    pub model: Option<i64>,
    pub antecedent_threshold: Option<f64>,
    pub consequent_threshold: Option<f64>,
    pub max_p_value: Option<f64>,
    pub p_adjust: Option<&'a str>,
    pub min_improvement: Option<f64>,
    pub level: Option<&'a str>,
    pub min_interest: Option<f64>,
}

/// Mines as `rar_mine` does: the arguments checked, the table read, the
/// rules mined and filtered.
pub fn mined(args: MineArgs<'_>) -> Mined {
    let MineArgs {
        source,
        min_support,
        min_confidence,
        max_length,
        tid_column,
        item_column,
        max_consequent,
        min_lift,
        min_length,
        support_of,
        split,
        method,
        model,
        antecedent_threshold,
        consequent_threshold,
        max_p_value,
        p_adjust,
        min_improvement,
        level,
        min_interest,
    } = args;
    let method = required("method", "'exact'", method);
    let filters = Filters::new(max_p_value, required("p_adjust", "'holm'", p_adjust), min_improvement);
    let antecedent_threshold = required("antecedent_threshold", "0.01", antecedent_threshold);
    // Checked whatever the method (a NaN given with 'exact' was ignored).
    neural::check_thresholds(antecedent_threshold, consequent_threshold);
    if !rar_core::params::METHODS.contains(&method) {
        RarError::InvalidOption {
            name: "method",
            value: method.to_string(),
            expected: "'exact', 'neural' and 'hybrid'",
        }
        .raise();
    }
    if min_improvement.is_some() && method != "exact" {
        RarError::Unsupported {
            message: "min_improvement applies to exact rules only",
            hint: "Filter the exact rules (method 'exact'), or leave min_improvement out for neural and hybrid rules.",
        }
        .raise();
    }
    let across = check_level(level, min_interest, method);
    let int = |name: &'static str, default, v: Option<i32>| {
        let v = required(name, default, v);
        // Negative numbers here (they would wrap); 0 and the other bounds
        // in MineParams::validate, with its DETAIL and HINT.
        if v < 0 {
            RarError::InvalidOption { name, value: v.to_string(), expected: "a number of items of at least 1" }.raise();
        }
        v as usize
    };
    let params = MineParams {
        threads: gucs::mining_threads(),
        min_support: required("min_support", "0.01", min_support),
        min_confidence: required("min_confidence", "0.5", min_confidence),
        min_lift: required("min_lift", "0", min_lift),
        min_length: int("min_length", "1", min_length),
        max_length: int("max_length", "4", max_length),
        max_consequent: int("max_consequent", "1", max_consequent),
        support_of: self::support_of(required("support_of", "'rule'", support_of)),
        max_rules: gucs::max_rules(),
        memory_limit: gucs::memory_limit_bytes(),
    };
    params.validate().or_raise();
    let target = sources::relation_of("source", source);
    let (tid_column, item_column) = target.columns(tid_column, item_column);
    let src = relation::describe(target.relation, "rar_mine");
    let _pinned = pin_search_path();
    let progress = Progress::start("rar_mine");
    progress.report(&format!("reading {}", src.display));
    let layout = src.layout(tid_column, item_column).or_raise();
    let filter = split.map(|set| {
        if !matches!(set, "train" | "validation" | "test") {
            RarError::InvalidOption {
                name: "split",
                value: set.to_string(),
                expected: "'train', 'validation' and 'test'",
            }
            .raise();
        }
        splits::filter(&src, &splits::recorded(&src), set)
    });
    // Exact rules of a whole Citus table distributed by basket: counted on
    // its shards where that applies (see crate::distributed).
    let on_shards = (method == "exact" && level.is_none() && filter.is_none())
        .then(|| distributed::mine_on_shards(&src, &layout, &params, &progress))
        .flatten();
    let mut rules = match on_shards {
        Some(found) => {
            notice_null_lines(found.null_lines);
            found.rules
        }
        None => {
            // A model's rules depend on which baskets calibrate its
            // thresholds: read them in an order that parallel workers do not
            // change (exact mining's output order is its own).
            let canonical = method != "exact";
            let (baskets, stats) =
                reader::read_baskets(&src, &layout, filter, params.memory_limit, canonical).or_raise();
            notice_null_lines(stats.null_lines);
            let baskets = match level {
                Some(level) => {
                    progress.report(&format!("lifting {} baskets to level {level}", baskets.len()));
                    hierarchy::baskets_at(&target, source.unwrap_or_default(), level, &baskets, params.memory_limit)
                        .map(Arc::new)
                        .or_raise()
                }
                None => baskets,
            };
            progress.report(&format!("mining {} baskets ({method})", baskets.len()));
            if method != "exact" {
                let rows = neural::mine(
                    baskets,
                    &params,
                    src.oid,
                    &src.display,
                    method,
                    model,
                    layout.item_column(),
                    antecedent_threshold,
                    consequent_threshold,
                );
                let mut p: Vec<f64> = rows.iter().map(Rule::p_value).collect();
                adjust(&mut p, filters.p_adjust);
                let kept: Vec<(Rule, f64)> =
                    rows.into_iter().zip(p).filter(|(_, p)| filters.max_p_value.is_none_or(|m| *p <= m)).collect();
                return Mined::Rows(kept);
            }
            mine_rules(baskets, &params, &mut || {
                check_for_interrupts!();
            })
            .or_raise()
        }
    };
    // The p-values, their order for Holm's correction and the filters' flags
    // (24 bytes a rule) come on top of the rules and the tree.
    if rules.bytes().saturating_add(rules.len() as u64 * 24) > params.memory_limit {
        RarError::Mine(rar_core::MineError::MemoryLimit { limit_bytes: params.memory_limit }).raise();
    }
    if let Some(r) = across {
        progress.report(&format!("dropping rules of {} that their ancestors explain", rules.len()));
        let keep = rules.interesting(r, &mut || {
            check_for_interrupts!();
        });
        rules.retain(&keep);
    }
    if let Some(min) = filters.min_improvement {
        progress.report(&format!("dropping redundant rules of {}", rules.len()));
        let improvements = rules.improvements(&mut || {
            check_for_interrupts!();
        });
        let keep: Vec<bool> = improvements.iter().map(|i| *i > min).collect();
        rules.retain(&keep);
    }
    // Fisher's test of every rule that met the thresholds, corrected for
    // their number; then the p-value filter.
    let mut p = rules.p_values();
    rules.adjust_p_values(&mut p, filters.p_adjust);
    if let Some(max) = filters.max_p_value {
        let keep: Vec<bool> = p.iter().map(|x| *x <= max).collect();
        rules.retain(&keep);
        p.retain(|x| *x <= max);
    }
    Mined::Exact { rules: Box::new(rules), p }
}

/// Says how many lines were skipped for a NULL basket id or item.
fn notice_null_lines(n: u64) {
    if n > 0 {
        pgrx::notice!("rar_mine skipped {n} line{} with a NULL basket id or item", if n == 1 { "" } else { "s" });
    }
}

/// The interest ratio of rules across levels, when they are mined so: a
/// rule stays when its support or confidence is at least this many times
/// what a more general rule predicts (Srikant and Agrawal's R; they report
/// R = 1.1 to 2: 1.1 drops only the rules their ancestors predict to within
/// 10%).
pub const DEFAULT_MIN_INTEREST: f64 = 1.1;

/// Checks `level` and `min_interest`; the interest ratio to filter by when
/// mining across levels.
fn check_level(level: Option<&str>, min_interest: Option<f64>, method: &str) -> Option<f64> {
    if level.is_some() && method != "exact" {
        RarError::Unsupported {
            message: "level applies to exact rules only",
            hint: "A model knows the items it was trained on: mine a level with method 'exact'.",
        }
        .raise();
    }
    if let Some(r) = min_interest {
        MineParams::check_min_interest(r).or_raise();
    }
    match level {
        Some(hierarchy::ACROSS) => Some(min_interest.unwrap_or(DEFAULT_MIN_INTEREST)),
        _ if min_interest.is_some() => RarError::ConflictingOptions {
            message: "min_interest applies to rules across levels only",
            hint: "Give level => 'all' to mine across the items and every level of the hierarchy, or leave min_interest out.",
        }
        .raise(),
        _ => None,
    }
}

/// The significance and redundancy filters of `rar_mine`, checked.
struct Filters {
    max_p_value: Option<f64>,
    p_adjust: PAdjust,
    min_improvement: Option<f64>,
}

impl Filters {
    fn new(max_p_value: Option<f64>, p_adjust: &str, min_improvement: Option<f64>) -> Filters {
        if let Some(p) = max_p_value.filter(|p| !(0.0..=1.0).contains(p)) {
            RarError::InvalidOption {
                name: "max_p_value",
                value: p.to_string(),
                expected: "a probability between 0 and 1",
            }
            .raise();
        }
        let Some(how) = PAdjust::parse(p_adjust) else {
            RarError::InvalidOption {
                name: "p_adjust",
                value: p_adjust.to_string(),
                expected: "'holm' (the default), 'bonferroni' and 'none'",
            }
            .raise()
        };
        if let Some(m) = min_improvement.filter(|m| !(-1.0..=1.0).contains(m)) {
            RarError::InvalidOption {
                name: "min_improvement",
                value: m.to_string(),
                expected: "a difference of confidences between -1 and 1 (0 drops the rules that do not improve on a more general one)",
            }
            .raise();
        }
        Filters { max_p_value, p_adjust: how, min_improvement }
    }
}
