//! `rar_mine`: exact association rules of a sales table.

use pgrx::prelude::*;
use rar_core::params::{MineParams, SupportOf};
use rar_core::rule::Rule;
use rar_core::rules::mine_rules;

use crate::args::required;
use crate::error::{OrRaise, RarError};
use crate::progress::Progress;
use crate::spi::pin_search_path;
use crate::{gucs, neural, reader, relation, sources, splits};

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
    ),
> {
    let method = required("method", "'exact'", method);
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
        return TableIterator::new(rows.into_iter().map(row));
    }
    let rules = mine_rules(baskets, &params, &mut || {
        check_for_interrupts!();
    })
    .or_raise();
    let n = rules.len();
    TableIterator::new((0..n).map(move |i| {
        if i % 4096 == 0 {
            check_for_interrupts!();
        }
        row(Rule::from(rules.row(i)))
    }))
}

/// A rule as a row of `rar_mine`.
fn row(r: Rule) -> RuleRow {
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
    )
}

type RuleRow = (Vec<String>, Vec<String>, f64, f64, f64, f64, f64, i64, Option<f64>);
