//! `rar.shard_itemsets` and `rar.shard_counts`: the two rounds of counting
//! on the shards of a Citus table distributed by its basket column (the
//! method: `rar_core::shards`; the coordinator's side: `crate::distributed`).
//! The coordinator's `rar_mine` runs them on each shard through Citus's
//! `run_command_on_shards`. Each reads its shard as `rar_mine` reads a table,
//! with the caller's privileges and within `rar.memory_limit`, and answers
//! with base64 text of `rar_core::shards`' bytes. The SQL declarations are
//! in `sql/basket_state.sql`.

use base64::Engine;
use pgrx::prelude::*;
use rar_core::layout::Layout;
use rar_core::params::MineParams;
use rar_core::partial::StateError;
use rar_core::shards::{
    candidates_from_bytes_within, count_candidates, local_itemsets, local_min_count, ShardCounts, ShardItemsets,
    MIN_LOCAL_COUNT,
};

use crate::args::{required, Relation};
use crate::error::{OrRaise, RarError};
use crate::reader;
use crate::relation::Source;
use crate::spi::{pin_search_path, GucLevel};
use crate::{gucs, relation};

/// Round 1: the itemsets of at most `max_length` items held by at least
/// `share` of the shard's baskets (or the shard's refusal, when that is
/// fewer than `rar_core::shards::MIN_LOCAL_COUNT` baskets). `memory_limit`
/// (bytes) and `threads` are the coordinator's; the shard takes the smaller
/// of them and its own.
#[pg_extern(sql = false)]
fn shard_itemsets(
    shard: Option<pg_sys::Oid>,
    basket_column: Option<&str>,
    item_column: Option<&str>,
    share: Option<f64>,
    max_length: Option<i32>,
    memory_limit: Option<i64>,
    threads: Option<i32>,
) -> String {
    let max_length = required("max_length", "4", max_length);
    let params = MineParams {
        min_support: required("share", "0.01", share),
        max_length: usize::try_from(max_length).unwrap_or(0),
        memory_limit: budget(memory_limit),
        threads: gucs::mining_threads().min(usize::try_from(threads.unwrap_or(1)).unwrap_or(1).max(1)),
        ..MineParams::default()
    };
    params.validate().or_raise();
    let (src, layout) = shard_source(shard, basket_column, item_column);
    let pinned = pin_search_path();
    stop_with_the_coordinator(&pinned);
    // A shard whose statistics say it is far too small declines unread
    // (after the privilege check a read would make).
    if let Layout::Long { tid, item } = &layout {
        if may_read(&src, tid, item) {
            if let Some((_, estimate)) = reader::estimate(&src, tid).or_raise() {
                if local_min_count(params.min_support, estimate) < MIN_LOCAL_COUNT / 2 {
                    let answer = ShardItemsets { n_baskets: estimate, declined: true, ..ShardItemsets::default() };
                    return encode(&answer.to_bytes());
                }
            }
        }
    }
    let (baskets, _) = reader::read_baskets(&src, &layout, None, params.memory_limit, false).or_raise();
    let found = local_itemsets(&baskets, &params, &mut || {
        check_for_interrupts!();
    })
    .or_raise();
    drop(baskets);
    encode(&found.to_bytes())
}

/// Round 2: the count of every candidate (base64 of the coordinator's
/// request) on the shard's baskets, within `memory_limit` as above.
#[pg_extern(sql = false)]
fn shard_counts(
    shard: Option<pg_sys::Oid>,
    basket_column: Option<&str>,
    item_column: Option<&str>,
    candidates: Option<&str>,
    memory_limit: Option<i64>,
) -> String {
    let limit = budget(memory_limit);
    let text = required("candidates", "the coordinator's request", candidates);
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.as_bytes()).unwrap_or_else(|e| {
        RarError::BadShardRequest { message: format!("it is not base64: {e}"), text: true }.raise()
    });
    let request = candidates_from_bytes_within(&bytes, limit, &mut || {
        check_for_interrupts!();
    })
    .unwrap_or_else(|e| match e {
        StateError::Bad(b) => RarError::BadShardRequest { message: b.0.to_string(), text: false }.raise(),
        other => RarError::from(other).raise(),
    });
    drop(bytes);
    let (src, layout) = shard_source(shard, basket_column, item_column);
    let pinned = pin_search_path();
    stop_with_the_coordinator(&pinned);
    let left = limit.saturating_sub(request.heap_bytes());
    let (baskets, stats) = reader::read_baskets(&src, &layout, None, left, false).or_raise();
    let counts = count_candidates(&baskets, &request, left, &mut || {
        check_for_interrupts!();
    })
    .or_raise();
    let answer = ShardCounts { n_baskets: baskets.len() as u64, null_lines: stats.null_lines, counts };
    encode(&answer.to_bytes())
}

/// The smaller of the coordinator's budget and this node's.
fn budget(memory_limit: Option<i64>) -> u64 {
    let own = gucs::memory_limit_bytes();
    memory_limit.and_then(|m| u64::try_from(m).ok()).map_or(own, |m| m.clamp(1 << 20, own))
}

/// Whether the caller may read both columns (else reading fails with
/// PostgreSQL's own error).
fn may_read(src: &Source, tid: &str, item: &str) -> bool {
    crate::spi::one::<bool>(
        "SELECT pg_catalog.has_column_privilege($1, $2, 'SELECT') \
            AND pg_catalog.has_column_privilege($1, $3, 'SELECT')",
        &[src.oid.into(), tid.into(), item.into()],
    )
    .or_raise()
    .unwrap_or(false)
}

/// The shard to read, as `rar_mine` reads a table, and its columns.
fn shard_source(
    shard: Option<pg_sys::Oid>,
    basket_column: Option<&str>,
    item_column: Option<&str>,
) -> (Source, Layout) {
    let shard = required("shard", "a shard of a Citus table", shard);
    let tid = required("basket_column", "the basket column", basket_column);
    let item = required("item_column", "the item column", item_column);
    let src = relation::describe(Relation(shard), "rar_mine");
    let layout = src.layout(Some(tid), Some(item)).or_raise();
    (src, layout)
}

/// A coordinator that stops (cancelled, or an error on another shard)
/// closes its connection to this shard without a cancel request: looking
/// for a closed connection every second makes this backend stop too,
/// instead of counting for no one. Set for this call only (undone with the
/// pinned settings).
fn stop_with_the_coordinator(pinned: &GucLevel) {
    // SAFETY: a GUC variable of this backend, read on its own thread.
    if unsafe { pg_sys::client_connection_check_interval } == 0 {
        pinned.set(c"client_connection_check_interval", c"1000");
    }
}

/// Base64 of `bytes`, as a text value (at most 1 GB).
fn encode(bytes: &[u8]) -> String {
    // Four characters for every three bytes.
    if bytes.len().div_ceil(3) * 4 >= 1 << 30 {
        RarError::StateTooLarge { bytes: bytes.len() }.raise();
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
