//! `rar_mine_segments`: the rules of every segment of a sales table (per
//! store, region, month...) in one call, as rows.
//!
//! It runs `rar_rules_agg` grouped by the segment column, so the scan is
//! shared by parallel workers like any aggregate query, and only one
//! segment's baskets are mined at a time.

use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use pgrx::JsonB;
use rar_core::layout::Layout;
use rar_core::rule::Rule;
use serde_json::Value;

use crate::args::{required, Relation};
use crate::error::{OrRaise, RarError};
use crate::spi::{ext_schema, pin_search_path};
use crate::{reader, relation};

type Row = (Option<String>, Vec<String>, Vec<String>, f64, f64, f64, f64, f64, i64);

/// Mines the rules of each value of `segment_column` separately: the same
/// rules as `rar_mine` on that segment's lines alone (rules with one
/// consequent), segment by segment in the segment's text order.
#[allow(clippy::too_many_arguments)]
#[pg_extern(stable, parallel_restricted)]
fn rar_mine_segments(
    source: Option<Relation>,
    segment_column: Option<&str>,
    min_support: default!(Option<f64>, 0.01),
    min_confidence: default!(Option<f64>, 0.5),
    max_length: default!(Option<i32>, 4),
    tid_column: default!(Option<&str>, "NULL"),
    item_column: default!(Option<&str>, "NULL"),
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
    let source = required("source", "", source);
    let segment = required("segment_column", "none", segment_column);
    let src = relation::describe(source, "rar_mine_segments");
    let _pinned = pin_search_path();
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
    let sql = format!(
        "SELECT {seg}::pg_catalog.text, {ext}.rar_rules_agg({t}, {i}, $1::pg_catalog.float8, $2::pg_catalog.float8, $3::pg_catalog.int4) \
         FROM {src} GROUP BY 1 ORDER BY 1",
        seg = quote_identifier(segment),
        ext = ext_schema().or_raise(),
        t = reader::agg_arg(&src, &tid),
        i = reader::agg_arg(&src, &item),
        src = src.quoted,
    );
    let groups: Vec<(Option<String>, Value)> = Spi::connect(|client| {
        let t = client.select(&sql, None, &[min_support.into(), min_confidence.into(), max_length.into()])?;
        t.map(|r| Ok((r.get::<String>(1)?, r.get::<JsonB>(2)?.map(|j| j.0).unwrap_or(Value::Null))))
            .collect::<Result<Vec<_>, pgrx::spi::SpiError>>()
    })
    .or_raise();
    let rows = groups.into_iter().flat_map(|(seg, rules)| {
        let list = match rules {
            Value::Array(a) => a,
            _ => Vec::new(),
        };
        list.into_iter().map(move |v| -> Row {
            let r = Rule::from_json(&v);
            (
                seg.clone(),
                r.antecedent,
                r.consequent,
                r.support,
                r.confidence,
                r.lift,
                r.leverage,
                r.conviction,
                r.count as i64,
            )
        })
    });
    TableIterator::new(rows.collect::<Vec<_>>())
}
