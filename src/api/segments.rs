//! `rar_mine_segments`: the rules of every segment of a sales table (per
//! store, region, month...) in one call, as rows.
//!
//! It runs `rar_rules_agg` grouped by the segment column, so the scan is
//! shared by parallel workers like any aggregate query, and only one
//! segment's baskets are mined at a time. Segments too small for the
//! support threshold to mean anything (one basket alone would reach it,
//! and every subset of a large basket would become a rule) are skipped
//! unless `min_baskets` says otherwise.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use rar_core::layout::Layout;
use rar_core::rule::Rule;
use rar_core::MineError;
use serde_json::Value;

use crate::args::required;
use crate::error::{OrRaise, RarError};
use crate::progress::Progress;
use crate::spi::{ext_schema, pin_search_path};
use crate::{gucs, reader, relation, sources};

type Row = (Option<String>, Vec<String>, Vec<String>, f64, f64, f64, f64, f64, i64);

/// Mines the rules of each value of `segment_column` separately: the same
/// rules as `rar_mine` on that segment's lines alone (rules with one
/// consequent), segment by segment in the segment's text order.
#[allow(clippy::too_many_arguments)]
#[pg_extern(stable, parallel_unsafe, name = "rar_mine_segments")]
pub fn mine_segments(
    source: Option<&str>,
    segment_column: Option<&str>,
    min_support: default!(Option<f64>, 0.01),
    min_confidence: default!(Option<f64>, 0.5),
    max_length: default!(Option<i32>, 4),
    tid_column: default!(Option<&str>, "NULL"),
    item_column: default!(Option<&str>, "NULL"),
    min_baskets: default!(Option<i32>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(segment, Option<String>),
        name!(antecedent, Vec<String>),
        name!(consequent, Vec<String>),
        name!(support, f64),
        name!(confidence, f64),
        name!(lift, f64),
        name!(leverage, f64),
        name!(conviction, f64),
        name!(count, i64),
    ),
> {
    let segment = required("segment_column", "none", segment_column);
    let min_support = required("min_support", "0.01", min_support);
    let min_confidence = required("min_confidence", "0.5", min_confidence);
    let max_length = required("max_length", "4", max_length);
    if let Some(n) = min_baskets.filter(|n| *n < 1) {
        RarError::InvalidOption {
            name: "min_baskets",
            value: n.to_string(),
            expected: "a number of baskets of at least 1",
        }
        .raise();
    }
    let target = sources::relation_of("source", source);
    let (tid_column, item_column) = target.columns(tid_column, item_column);
    let src = relation::describe(target.relation, "rar_mine_segments");
    let _pinned = pin_search_path();
    let progress = Progress::start("rar_mine_segments");
    progress.report(&format!("counting the baskets of each segment of {}", src.display));
    if src.column(segment).is_none() {
        RarError::UndefinedSegment {
            relation: src.display.clone(),
            column: segment.to_string(),
            columns: src.columns.iter().map(|c| c.name.clone()).collect(),
        }
        .raise();
    }
    let (tid, item) = match src.layout(tid_column, item_column).or_raise() {
        Layout::Long { tid, item } => (tid, item),
        Layout::Baskets { .. } => RarError::ConflictingOptions {
            message: "rar_mine_segments needs a long-form source (one row per basket and item)",
            hint:
                "Name the basket and item columns with tid_column and item_column, or unnest the item array in a view.",
        }
        .raise(),
    };
    // A segment holds whole baskets of several items: the item column, or
    // the basket id itself, would make each segment one item or one basket
    // (one of several basket columns, a store with its invoices, is fine).
    for (role, column) in [("items", &item), ("basket id", &tid)] {
        if column == segment {
            RarError::SameColumn { column: segment.to_string(), roles: ["segment", role] }.raise();
        }
    }
    let floor = min_baskets.map(i64::from).unwrap_or_else(|| rar_core::params::min_segment_baskets(Some(min_support)));
    src.check_not_superuser_reading_user_view();
    let (kept, keep_null) = segments_from(&src, segment, &tid, &item, floor).or_raise();
    let n_segments = kept.len() + usize::from(keep_null);
    // Grouped by the column too (the same groups, as its text names them):
    // a Citus table distributed by the segment is then mined on the workers,
    // each its own segments, and a partitioned one partition-wise.
    let sql = format!(
        "SELECT {seg_text}, {ext}.rar_rules_agg({t}, {i}, $1::pg_catalog.float8, $2::pg_catalog.float8, $3::pg_catalog.int4) \
         FROM {src} WHERE {seg_text} OPERATOR(pg_catalog.=) ANY($4) OR ({seg} IS NULL AND $5) GROUP BY 1, {seg} ORDER BY 1",
        seg = quote_identifier(segment),
        seg_text = src.text_of(segment),
        ext = ext_schema().or_raise(),
        t = reader::key_arg(&src, &tid),
        i = reader::agg_arg(&src, &item),
        src = src.quoted,
    );
    // One segment's rules at a time, through a cursor: every segment fits
    // the budget on its own, and so must all of them together. The segments
    // are grouped by sorting, so that one segment's baskets are in memory
    // at a time (a hash aggregate would keep every segment's at once).
    let (max_rules, budget) = (gucs::max_rules(), gucs::memory_limit_bytes());
    let hashagg = crate::spi::one::<String>("SELECT pg_catalog.current_setting('enable_hashagg')", &[])
        .or_raise()
        .unwrap_or_else(|| "on".into());
    crate::spi::exec("SELECT pg_catalog.set_config('enable_hashagg', 'off', true)", &[]).or_raise();
    let mut rows: Vec<Row> = Vec::new();
    let mut bytes = 0u64;
    Spi::connect(|client| {
        let args = [min_support.into(), min_confidence.into(), max_length.into(), kept.into(), keep_null.into()];
        progress.report(&format!("mining {n_segments} segments of {}", src.display));
        let mut cursor = client.open_cursor(&sql, &args);
        // Planned: the caller's setting back (an error in between rolls it
        // back with the transaction or subtransaction).
        crate::spi::exec("SELECT pg_catalog.set_config('enable_hashagg', $1, true)", &[hashagg.clone().into()])?;
        let mut done = 0usize;
        loop {
            let t = cursor.fetch(1)?;
            done += 1;
            if t.is_empty() {
                break;
            }
            for r in t {
                let seg: Option<String> = r.get(1)?;
                let Some(Value::Array(list)) = r.get::<crate::args::Json>(2)?.map(|j| j.0) else { continue };
                for v in list {
                    let rule = Rule::from_json(&v);
                    bytes += rule.heap_bytes() + seg.as_ref().map_or(0, |s| s.len() as u64);
                    rows.push((
                        seg.clone(),
                        rule.antecedent,
                        rule.consequent,
                        rule.support,
                        rule.confidence,
                        rule.lift,
                        rule.leverage,
                        rule.conviction,
                        rule.count as i64,
                    ));
                }
            }
            if rows.len() as u64 > max_rules {
                return Err(RarError::Mine(MineError::TooManyRules { limit: max_rules }));
            }
            if bytes > budget {
                return Err(RarError::Mine(MineError::MemoryLimit { limit_bytes: budget }));
            }
            progress.report(&format!("{done} of {n_segments} segments mined, {} rules", rows.len()));
            check_for_interrupts!();
        }
        Ok::<_, RarError>(())
    })
    .or_raise();
    TableIterator::new(rows)
}

/// The segments with at least `floor` baskets (the NULL segment apart), and
/// a NOTICE for those skipped.
fn segments_from(
    src: &relation::Source,
    segment: &str,
    tid: &str,
    item: &str,
    floor: i64,
) -> Result<(Vec<String>, bool), RarError> {
    // The baskets mining will see: those with an item in the segment.
    let sql = format!(
        "SELECT {seg}, pg_catalog.count(DISTINCT {t}) FROM {src} WHERE {t} IS NOT NULL AND {i} IS NOT NULL GROUP BY 1",
        seg = src.text_of(segment),
        t = reader::key_arg(src, tid),
        i = quote_identifier(item),
        src = src.quoted,
    );
    let (mut kept, mut keep_null, mut skipped) = (Vec::new(), false, 0u64);
    Spi::connect(|client| {
        for row in client.select(&sql, None, &[])? {
            let baskets: i64 = row.get(2)?.unwrap_or(0);
            match (row.get::<String>(1)?, baskets >= floor) {
                (Some(seg), true) => kept.push(seg),
                (None, true) => keep_null = true,
                (_, false) => skipped += 1,
            }
        }
        Ok::<_, pgrx::spi::SpiError>(())
    })?;
    if skipped > 0 {
        pgrx::notice!(
            "rar_mine_segments skipped {skipped} segment{} with fewer than {floor} baskets; min_baskets => 1 mines every segment",
            if skipped == 1 { "" } else { "s" }
        );
    }
    Ok((kept, keep_null))
}
