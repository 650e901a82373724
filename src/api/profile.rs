//! `rar_profile`: what a sales table looks like before choosing thresholds.

use pgrx::prelude::*;
use pgrx::JsonB;
use rar_core::profile;

use crate::args::required;
use crate::error::{OrRaise, RarError};
use crate::progress::Progress;
use crate::spi::pin_search_path;
use crate::{gucs, reader, relation, sources};

/// Lines, baskets, distinct items, NULLs, basket sizes (mean, median, p90,
/// p99, max), the most frequent items and the share of rare items, as jsonb.
#[pg_extern(stable, parallel_unsafe, name = "rar_profile")]
pub fn profile(
    source: Option<&str>,
    tid_column: default!(Option<&str>, "NULL"),
    item_column: default!(Option<&str>, "NULL"),
    top: default!(Option<i32>, 10),
    rare_below: default!(Option<i32>, 5),
) -> JsonB {
    let top = required("top", "10", top);
    let rare_below = required("rare_below", "5", rare_below);
    for (name, value) in [("top", top), ("rare_below", rare_below)] {
        if value < 0 {
            RarError::InvalidOption { name, value: value.to_string(), expected: "counts of at least 0" }.raise();
        }
    }
    let target = sources::relation_of("source", source);
    let (tid_column, item_column) = target.columns(tid_column, item_column);
    let src = relation::describe(target.relation, "rar_profile");
    let _pinned = pin_search_path();
    let progress = Progress::start("rar_profile");
    progress.report(&format!("reading {}", src.display));
    let layout = src.layout(tid_column, item_column).or_raise();
    let (baskets, stats) = reader::read_baskets(&src, &layout, None, gucs::memory_limit_bytes(), true).or_raise();
    let p = profile::profile(&baskets, top as usize, rare_below as u64);
    let mut v = serde_json::to_value(p).unwrap_or(serde_json::Value::Null);
    v["null_lines"] = stats.null_lines.into();
    JsonB(v)
}
