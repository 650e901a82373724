//! `rar_rules_over_time`: the rules of a source counted window by window
//! (`rar_core::trend`): support, confidence and lift in each day, week or
//! month, whether each rule holds there, how that changed from the window
//! before, and whether its confidence changed by more than chance.

use pgrx::datum::Timestamp;
use pgrx::prelude::*;
use rar_core::params::MineParams;
use rar_core::rules::mine_rules;
use rar_core::trend::{change, confidence_change_p, count_rules, WindowCounts};

use crate::args::required;
use crate::error::{OrRaise, RarError};
use crate::progress::Progress;
use crate::spi::pin_search_path;
use crate::{gucs, reader, relation, sources, splits};

type TrendRow =
    (Timestamp, Vec<String>, Vec<String>, i64, i64, f64, Option<f64>, Option<f64>, bool, Option<String>, Option<f64>);

/// Bytes a row of the result takes before it is returned (the rule's item
/// text apart), to check the rows against `rar.memory_limit`.
const ROW_BYTES: u64 = 160;

/// The rules mined on the whole source at the thresholds, counted in each
/// window of `time_column` (a basket belongs to the window of its first
/// line, in UTC): one row per window and rule, windows in time order and
/// rules in `rar_mine`'s order.
#[allow(clippy::too_many_arguments)]
#[pg_extern(stable, parallel_unsafe)]
fn rar_rules_over_time(
    source: Option<&str>,
    time_column: Option<&str>,
    period: default!(Option<&str>, "'month'"),
    min_support: default!(Option<f64>, 0.01),
    min_confidence: default!(Option<f64>, 0.5),
    max_length: default!(Option<i32>, 4),
    tid_column: default!(Option<&str>, "NULL"),
    item_column: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(window_start, Timestamp),
        name!(antecedent, Vec<String>),
        name!(consequent, Vec<String>),
        name!(baskets, i64),
        name!(count, i64),
        name!(support, f64),
        name!(confidence, Option<f64>),
        name!(lift, Option<f64>),
        name!(holds, bool),
        name!(change, Option<String>),
        name!(p_change, Option<f64>),
    ),
> {
    let _hint = crate::error::HintOn::new(
        &[PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW],
        c"If the time is time_column's, or a window of period around one of its values: these must be times PostgreSQL's timestamp holds (4713 BC to 294276 AD); leave out or fix the lines past that range.",
    );
    let time = required("time_column", "none", time_column);
    let window = required("period", "'month'", period);
    if !matches!(window, "day" | "week" | "month" | "quarter" | "year") {
        RarError::InvalidOption {
            name: "period",
            value: window.to_string(),
            expected: "'day', 'week', 'month' (the default), 'quarter' and 'year'",
        }
        .raise();
    }
    let max_length = required("max_length", "4", max_length);
    if max_length < 2 {
        RarError::InvalidOption {
            name: "max_length",
            value: max_length.to_string(),
            expected: "a number of items of at least 2 (rules over time have two items or more)",
        }
        .raise();
    }
    let params = MineParams {
        threads: gucs::mining_threads(),
        min_support: required("min_support", "0.01", min_support),
        min_confidence: required("min_confidence", "0.5", min_confidence),
        max_length: max_length as usize,
        min_length: 2,
        max_rules: gucs::max_rules(),
        memory_limit: gucs::memory_limit_bytes(),
        ..MineParams::default()
    };
    params.validate().or_raise();
    let target = sources::relation_of("source", source);
    let (tid_column, item_column) = target.columns(tid_column, item_column);
    let src = relation::describe(target.relation, "rar_rules_over_time");
    let _pinned = pin_search_path();
    let progress = Progress::start("rar_rules_over_time");
    src.time_column(time, "time of a basket", "of type date, timestamp or timestamptz");
    let layout = src.layout(tid_column, item_column).or_raise();
    let rar_core::layout::Layout::Long { tid, .. } = &layout else {
        RarError::ConflictingOptions {
            message: "rar_rules_over_time needs a long-form source (one row per basket and item)",
            hint:
                "Name the basket and item columns with tid_column and item_column, or unnest the item array in a view.",
        }
        .raise()
    };
    let key = src.basket_key(tid);
    let at = format!("({} AT TIME ZONE 'UTC')", splits::absolute_time(&src, time));
    // The rules of the whole source.
    progress.report(&format!("mining {}", src.display));
    let (all, _) = reader::read_baskets(&src, &layout, None, params.memory_limit, false).or_raise();
    let rules = mine_rules(all, &params, &mut || {
        check_for_interrupts!();
    })
    .or_raise();
    let sides: Vec<(Vec<String>, Vec<String>)> = rules
        .rows()
        .map(|r| {
            (r.antecedent.iter().map(|s| s.to_string()).collect(), r.consequent.iter().map(|s| s.to_string()).collect())
        })
        .collect();
    drop(rules);
    let windows: Vec<Timestamp> = Spi::connect(|client| {
        client
            .select(
                &format!(
                    "SELECT DISTINCT pg_catalog.date_trunc($1, pg_catalog.min({at})) FROM {src} \
                     WHERE {key} IS NOT NULL AND pg_catalog.isfinite({at}) GROUP BY {key} ORDER BY 1",
                    src = src.quoted
                ),
                None,
                &[window.into()],
            )?
            .filter_map(|r| r.get::<Timestamp>(1).transpose())
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(RarError::from)
    .or_raise();
    let text_bytes: u64 = sides.iter().flat_map(|(a, c)| a.iter().chain(c)).map(|s| s.len() as u64 + 24).sum();
    let needed = (windows.len() as u64).saturating_mul(sides.len() as u64 * ROW_BYTES + text_bytes);
    if needed > params.memory_limit {
        RarError::Mine(rar_core::MineError::MemoryLimit { limit_bytes: params.memory_limit }).raise();
    }
    // Each window's baskets, read whole, counted for every rule.
    let mut out: Vec<TrendRow> = Vec::new();
    let mut before: Option<Vec<WindowCounts>> = None;
    for (k, w) in windows.iter().enumerate() {
        progress.report(&format!("window {} of {} ({window}s), {} rules", k + 1, windows.len(), sides.len()));
        let filter = format!(
            "{key} IN (SELECT {key} FROM {src} WHERE {key} IS NOT NULL AND pg_catalog.isfinite({at}) GROUP BY {key} \
             HAVING pg_catalog.date_trunc($1, pg_catalog.min({at})) = $2)",
            src = src.quoted
        );
        let part = reader::Filter {
            key: format!("{filter} | {window} {w:?}"),
            label: format!("{window} of {w}"),
            clause: filter,
            args: vec![window.into(), (*w).into()],
            columns: vec![time.to_string()],
        };
        let (baskets, _) = reader::read_baskets(&src, &layout, Some(part), params.memory_limit, false).or_raise();
        // A window whose baskets have no item (NULL lines only) is no
        // window: the next is compared with the last window with baskets.
        if baskets.is_empty() {
            continue;
        }
        let counts = count_rules(&baskets, &sides, &mut || {
            check_for_interrupts!();
        });
        for (i, c) in counts.iter().enumerate() {
            let holds = c.holds(params.min_support, params.min_confidence);
            let prev = before.as_ref().map(|b| b[i]);
            out.push((
                *w,
                sides[i].0.clone(),
                sides[i].1.clone(),
                c.n as i64,
                c.ac as i64,
                c.support(),
                c.confidence(),
                c.lift(),
                holds,
                prev.map(|p| change(p.holds(params.min_support, params.min_confidence), holds).to_string()),
                prev.and_then(|p| confidence_change_p(&p, c)),
            ));
        }
        before = Some(counts);
    }
    TableIterator::new(out)
}

/// SQL functions of the catalog schema `rar`.
#[pg_schema]
pub mod rar {
    use pgrx::prelude::*;
    use rar_core::trend::WindowCounts;

    /// Two-sided p-value of the test that a rule's confidence is the same
    /// before and after (`count` of `antecedent_count` baskets in each), as
    /// `rar_rules_over_time` tests windows: what `rar.rule_trends` reports
    /// between two refreshes. NULL when a side has no basket with the
    /// antecedent, when the proportions leave no variance (a confidence of
    /// 0 or 1 on both sides), or when a count is out of range (negative,
    /// above the antecedent's, or past 2^32).
    #[pg_extern(immutable, parallel_safe)]
    pub fn confidence_change_p(
        count_before: Option<i64>,
        antecedent_before: Option<i64>,
        count_after: Option<i64>,
        antecedent_after: Option<i64>,
    ) -> Option<f64> {
        let side = |ac: Option<i64>, a: Option<i64>| -> Option<WindowCounts> {
            let (ac, a) = (u32::try_from(ac?).ok()?, u32::try_from(a?).ok()?);
            (ac <= a).then_some(WindowCounts { n: a, ac, a, c: 0 })
        };
        rar_core::trend::confidence_change_p(
            &side(count_before, antecedent_before)?,
            &side(count_after, antecedent_after)?,
        )
    }
}
