//! `rar_mine`: exact association rules of a sales table.

use pgrx::prelude::*;
use rar_core::params::{MineParams, SupportOf};
use rar_core::rule::Rule;
use rar_core::rules::mine_rules;
use rar_core::significance::{adjust, PAdjust};

use crate::args::required;
use crate::error::{OrRaise, RarError};
use crate::progress::Progress;
use crate::spi::pin_search_path;
use crate::{gucs, hierarchy, neural, reader, relation, sources, splits};

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
#[allow(clippy::too_many_arguments)]
#[pg_extern(stable, parallel_restricted, name = "rar_mine")]
pub fn mine(
    source: Option<&str>,
    min_support: default!(Option<f64>, 0.01),
    min_confidence: default!(Option<f64>, 0.5),
    max_length: default!(Option<i32>, 4),
    tid_column: default!(Option<&str>, "NULL"),
    item_column: default!(Option<&str>, "NULL"),
    max_consequent: default!(Option<i32>, 1),
    min_lift: default!(Option<f64>, 0.0),
    min_length: default!(Option<i32>, 1),
    support_of: default!(Option<&str>, "'rule'"),
    split: default!(Option<&str>, "NULL"),
    method: default!(Option<&str>, "'exact'"),
    model: default!(Option<i64>, "NULL"),
    antecedent_threshold: default!(Option<f64>, 0.01),
    consequent_threshold: default!(Option<f64>, 0.1),
    max_p_value: default!(Option<f64>, "NULL"),
    p_adjust: default!(Option<&str>, "'holm'"),
    min_improvement: default!(Option<f64>, "NULL"),
    level: default!(Option<&str>, "NULL"),
    min_interest: default!(Option<f64>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(antecedent, Vec<String>),
        name!(consequent, Vec<String>),
        name!(support, f64),
        name!(confidence, f64),
        name!(lift, f64),
        name!(leverage, f64),
        name!(conviction, f64),
        name!(count, i64),
        name!(model_score, Option<f64>),
        name!(p_value, f64),
    ),
> {
    let method = required("method", "'exact'", method);
    let filters = Filters::new(max_p_value, required("p_adjust", "'holm'", p_adjust), min_improvement);
    let antecedent_threshold = required("antecedent_threshold", "0.01", antecedent_threshold);
    let consequent_threshold = required("consequent_threshold", "0.1", consequent_threshold);
    if !matches!(method, "exact" | "neural" | "hybrid") {
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
        if v < 0 {
            RarError::InvalidOption { name, value: v.to_string(), expected: "a number of items of at least 0" }.raise();
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
    let (baskets, stats) = reader::read_baskets(&src, &layout, filter, params.memory_limit, false).or_raise();
    if stats.null_lines > 0 {
        let n = stats.null_lines;
        pgrx::notice!("rar_mine skipped {n} line{} with a NULL basket id or item", if n == 1 { "" } else { "s" });
    }
    let baskets = match level {
        Some(level) => {
            progress.report(&format!("lifting {} baskets to level {level}", baskets.len()));
            hierarchy::baskets_at(&target, source.unwrap_or_default(), level, baskets, params.memory_limit).or_raise()
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
            antecedent_threshold,
            consequent_threshold,
        );
        let mut p: Vec<f64> = rows.iter().map(Rule::p_value).collect();
        adjust(&mut p, filters.p_adjust);
        let kept: Vec<RuleRow> = rows
            .into_iter()
            .zip(p)
            .filter(|(_, p)| filters.max_p_value.is_none_or(|m| *p <= m))
            .map(|(r, p)| row(r, p))
            .collect();
        return TableIterator::new(kept);
    }
    let mut rules = mine_rules(baskets, &params, &mut || {
        check_for_interrupts!();
    })
    .or_raise();
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
    adjust(&mut p, filters.p_adjust);
    if let Some(max) = filters.max_p_value {
        let keep: Vec<bool> = p.iter().map(|x| *x <= max).collect();
        rules.retain(&keep);
        p.retain(|x| *x <= max);
    }
    let n = rules.len();
    TableIterator::new((0..n).map(move |i| {
        if i % 4096 == 0 {
            check_for_interrupts!();
        }
        row(Rule::from(rules.row(i)), p[i])
    }))
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
    if let Some(r) = min_interest.filter(|r| !(r.is_finite() && *r >= 0.0)) {
        RarError::InvalidOption {
            name: "min_interest",
            value: r.to_string(),
            expected: "a ratio of at least 0 (1.1, the default across levels, keeps the rules 10% above what a more general rule predicts; 0 keeps all)",
        }
        .raise();
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

/// A rule as a row of `rar_mine`, with its p-value.
fn row(r: Rule, p_value: f64) -> RuleRow {
    (
        r.antecedent,
        r.consequent,
        r.support,
        r.confidence,
        r.lift,
        r.leverage,
        r.conviction,
        r.count as i64,
        r.model_score,
        p_value,
    )
}

type RuleRow = (Vec<String>, Vec<String>, f64, f64, f64, f64, f64, i64, Option<f64>, f64);
