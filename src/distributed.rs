//! Counting on the Citus workers: `rar_mine` (exact rules) on a table that
//! Citus distributes by its basket column runs the two rounds of
//! `rar_core::shards` on the shards, through Citus's `master_run_on_worker`
//! (a connection per shard, as the caller, at most two shards of a node at
//! a time) and the shard functions of `api::shards`, and makes the rules of
//! the summed counts. Only itemsets and counts cross the network. Each
//! command names its shard schema-qualified, so no search path on a worker
//! can put another table in its place, and carries the caller's
//! `rar.memory_limit` and threads.
//!
//! Where that does not apply, [`mine_on_shards`] answers `None` and the
//! caller reads the table as usual (the workers encode the baskets, the
//! coordinator mines): the setting `rar.count_on_workers` is off; the table
//! is not distributed by the basket column (or is a view, or has row
//! security); a split or a level is asked for; the call runs inside a
//! transaction block (the rounds run in connections of their own, which
//! would not see the block's uncommitted changes); the catalog is older
//! than the shard functions; the transaction changed or locked the table
//! (in a function, a DO block, a writable CTE); a shard declines (too few
//! baskets for `min_support` to mean much there), fails, or changes
//! between the rounds; the candidates would not fit in `rar.memory_limit`
//! on the coordinator. A DEBUG1 message says which.

use base64::Engine;
use pgrx::prelude::*;
use pgrx::spi::quote_literal;
use rar_core::layout::Layout;
use rar_core::params::MineParams;
use rar_core::rules::{rules_from_counts, RuleSet};
use rar_core::shards::{candidates_to_bytes, local_share, ShardCounts, ShardItemsets, Union};

use crate::error::{OrRaise, RarError};
use crate::gucs;
use crate::progress::Progress;
use crate::relation::Source;

/// Rules counted on the workers, and what reading saw.
pub struct OnShards {
    pub rules: RuleSet,
    pub null_lines: u64,
}

/// Shards of one node that count at once: each reads its lines and mines
/// on up to 1 + `max_parallel_workers_per_gather` threads within
/// `rar.memory_limit`, so a node holds at most this many of those at a time
/// (and as many extra connections), however many shards it has.
const SHARDS_AT_ONCE_PER_NODE: usize = 2;

/// Mines `src` on its shards, or `None` where that does not apply (see the
/// module's comment).
pub fn mine_on_shards(src: &Source, layout: &Layout, params: &MineParams, progress: &Progress) -> Option<OnShards> {
    let Layout::Long { tid, item } = layout else { return None };
    if !gucs::count_on_workers() || src.several_basket_columns(tid) || src.row_security {
        return None;
    }
    // The rounds run in connections of their own: they see what is
    // committed, not what this transaction changed (and would wait on the
    // locks it holds).
    // SAFETY: reads this backend's transaction state.
    if unsafe { pg_sys::IsTransactionBlock() } {
        return skip(src, "it runs inside a transaction block");
    }
    // Outside a block too (a function, a DO block, a pipeline, a writable
    // CTE of the same statement): a change to the table in this
    // transaction holds a lock on it stronger than a read's.
    if src.changed_here().or_raise() {
        return skip(src, "its transaction changed or locked the table");
    }
    let share = local_share(params);
    if share <= 0.0 {
        return skip(src, "min_support times min_confidence is 0: every itemset is a candidate");
    }
    match eligible(src, tid, item).or_raise() {
        Ok(()) => {}
        Err(why) => return skip(src, why),
    }
    let placements = match placements(src).or_raise() {
        Some(p) => p,
        None => return skip(src, "a shard has no active placement"),
    };
    let limit = params.memory_limit;
    let mut check = || {
        check_for_interrupts!();
    };
    // The caller's budget and threads go to every shard (a shard takes the
    // smaller of these and its node's own settings).
    let budget = format!("{}::pg_catalog.int8", limit);
    let threads = params.threads;

    progress.report(&format!("counting on the {} shards of {}: round 1 of 2", placements.len(), src.display));
    let round1 = |shard: &str| {
        format!(
            "SELECT rar.shard_itemsets({}::pg_catalog.regclass, {}, {}, {}::pg_catalog.float8, {}, {budget}, {threads})",
            quote_literal(shard),
            quote_literal(tid),
            quote_literal(item),
            quote_literal(format!("{share:e}")),
            params.max_length
        )
    };
    let mut union = Union::default();
    let mut baskets1: Vec<u64> = Vec::with_capacity(placements.len());
    let mut received1 = 0usize;
    let mut declined = false;
    let mut too_many = None;
    let done = run_on_shards(src, &placements, &round1, &mut |answer: String| {
        received1 += answer.len();
        let got = ShardItemsets::from_bytes_within(&decode(&answer), limit, &mut check).or_raise();
        drop(answer);
        baskets1.push(got.n_baskets);
        if got.declined {
            declined = true;
        } else if too_many.is_none() {
            if let Err(e) = union.add(&got.itemsets, limit, &mut check) {
                too_many = Some(e);
            }
        }
        !declined && too_many.is_none()
    })
    .or_raise();
    if declined {
        return skip(src, "a shard has too few baskets for min_support to mean 20 baskets there");
    }
    if let Some(e) = too_many {
        return skip(src, &format!("the shards' itemsets do not fit: {e}"));
    }
    done?;
    let candidates = union.into_candidates();

    progress.report(&format!(
        "counting on the {} shards of {}: round 2 of 2, {} candidate itemsets",
        placements.len(),
        src.display,
        candidates.len()
    ));
    let request = quote_literal(base64::engine::general_purpose::STANDARD.encode(candidates_to_bytes(&candidates)));
    // Each shard of a batch gets its own copy of the request.
    let batch = placements.len().min(SHARDS_AT_ONCE_PER_NODE * nodes(&placements));
    if (request.len() as u64).saturating_mul(batch as u64 + 1) > limit {
        return skip(src, "the candidate itemsets, sent to every shard, would pass rar.memory_limit");
    }
    let round2 = |shard: &str| {
        format!(
            "SELECT rar.shard_counts({}::pg_catalog.regclass, {}, {}, {request}, {budget})",
            quote_literal(shard),
            quote_literal(tid),
            quote_literal(item)
        )
    };
    let (mut n, mut null_lines, mut received2) = (0u64, 0u64, 0usize);
    let mut total = vec![0u64; candidates.len()];
    let mut shard = 0usize;
    let mut moved = false;
    run_on_shards(src, &placements, &round2, &mut |answer: String| {
        received2 += answer.len();
        let got = ShardCounts::from_bytes(&decode(&answer), candidates.len()).or_raise();
        // A shard whose baskets changed between the rounds (a write
        // committed meanwhile) may miss candidates: mine in one place.
        moved |= baskets1.get(shard) != Some(&got.n_baskets);
        shard += 1;
        n += got.n_baskets;
        null_lines += got.null_lines;
        for (t, c) in total.iter_mut().zip(got.counts) {
            *t += u64::from(c);
        }
        check();
        true
    })
    .or_raise()?;
    let sent2 = request.len();
    drop(request);
    if moved {
        return skip(src, "a shard's baskets changed between the two rounds");
    }
    let Ok(n) = u32::try_from(n) else {
        return skip(src, "it has more baskets than one count holds");
    };
    // The counted itemsets, and the copies rules_from_counts makes of them
    // (sorted, and indexed to check their subsets).
    let needed = candidates.heap_bytes().saturating_mul(4) + candidates.len() as u64 * 160;
    if needed > limit {
        return skip(src, "the candidate itemsets and their counts would pass rar.memory_limit on the coordinator");
    }
    let counted: Vec<(Vec<u32>, u32)> =
        candidates.iter().map(|s| s.to_vec()).zip(total.into_iter().map(|c| c.min(u64::from(n)) as u32)).collect();
    let n_candidates = counted.len();
    progress.report(&format!("making the rules of {n_candidates} itemsets counted on the shards"));
    let rules = match rules_from_counts(candidates.names, n, &counted, params, &mut check) {
        Ok(r) => r,
        // Mining in one place needs less memory than the candidates may.
        Err(rar_core::MineError::MemoryLimit { .. }) if n_candidates > 0 => {
            return skip(src, "the rules of the counted itemsets would pass rar.memory_limit on the coordinator")
        }
        Err(e) => RarError::Mine(e).raise(),
    };
    pgrx::debug1!(
        "rar_mine: counted {n_candidates} candidate itemsets on the {} shards of {}: \
         received {received1} bytes in round 1, sent {sent2} bytes to each shard and received {received2} in round 2",
        placements.len(),
        src.display
    );
    Some(OnShards { rules, null_lines })
}

/// Says at DEBUG1 why `src` is not counted on its shards.
fn skip<T>(src: &Source, why: &str) -> Option<T> {
    pgrx::debug1!("rar_mine: the workers encode the baskets of {} and the coordinator mines them: {why}", src.display);
    None
}

/// Whether `src` is a Citus table distributed by `tid` that the caller may
/// read, on a cluster whose catalog has the shard functions; else why not.
fn eligible(src: &Source, tid: &str, item: &str) -> Result<Result<(), &'static str>, RarError> {
    if !crate::reader::citus_installed()? {
        return Ok(Err("Citus is not installed"));
    }
    Ok(Spi::connect(|client| {
        let row = client.select(
            "SELECT p.partmethod OPERATOR(pg_catalog.=) 'h' \
                    AND pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) OPERATOR(pg_catalog.=) $2, \
                    pg_catalog.to_regprocedure('rar.shard_counts(pg_catalog.regclass, pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.int8)') IS NOT NULL \
                    AND pg_catalog.to_regprocedure('pg_catalog.master_run_on_worker(pg_catalog.text[], pg_catalog.int4[], pg_catalog.text[], pg_catalog.bool)') IS NOT NULL \
                    AND pg_catalog.to_regprocedure('pg_catalog.shard_name(pg_catalog.regclass, pg_catalog.int8, pg_catalog.bool)') IS NOT NULL, \
                    pg_catalog.has_column_privilege(p.logicalrelid, $2, 'SELECT') \
                    AND pg_catalog.has_column_privilege(p.logicalrelid, $3, 'SELECT') \
             FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1",
            Some(1),
            &[src.oid.into(), tid.into(), item.into()],
        )?;
        if row.is_empty() {
            return Ok::<_, pgrx::spi::SpiError>(Err("it is not a Citus table"));
        }
        let first = row.first();
        Ok(if !first.get::<bool>(1)?.unwrap_or(false) {
            Err("it is not distributed by its basket column")
        } else if !first.get::<bool>(2)?.unwrap_or(false) {
            Err("the catalog has no rar.shard_counts (ALTER EXTENSION rar UPDATE), or Citus is older than 13.1")
        } else if !first.get::<bool>(3)?.unwrap_or(false) {
            Err("the caller may not read its basket and item columns")
        } else {
            Ok(())
        })
    })?)
}

/// One shard and where to reach it.
struct Placement {
    /// Schema-qualified and quoted: never resolved through a search path.
    name: String,
    node: String,
    port: i32,
}

/// The shards of `src`, each at its first active placement; `None` when a
/// shard has none.
fn placements(src: &Source) -> Result<Option<Vec<Placement>>, RarError> {
    let rows = Spi::connect(|client| {
        client
            .select(
                "SELECT pg_catalog.shard_name(s.logicalrelid, s.shardid, false), p.nodename::pg_catalog.text, \
                        p.nodeport::pg_catalog.int4 \
                 FROM pg_catalog.pg_dist_shard s \
                 LEFT JOIN LATERAL (SELECT pl.nodename, pl.nodeport FROM pg_catalog.pg_dist_shard_placement pl \
                                    WHERE pl.shardid OPERATOR(pg_catalog.=) s.shardid \
                                      AND pl.shardstate OPERATOR(pg_catalog.=) 1 \
                                    ORDER BY pl.placementid LIMIT 1) p ON true \
                 WHERE s.logicalrelid OPERATOR(pg_catalog.=) $1 ORDER BY s.shardid",
                None,
                &[src.oid.into()],
            )?
            .map(|r| Ok((r.get::<String>(1)?, r.get::<String>(2)?, r.get::<i32>(3)?)))
            .collect::<Result<Vec<_>, pgrx::spi::SpiError>>()
    })?;
    Ok(rows
        .into_iter()
        .map(|(name, node, port)| Some(Placement { name: name?, node: node?, port: port? }))
        .collect::<Option<Vec<_>>>()
        .filter(|p| !p.is_empty()))
}

/// The number of nodes the placements are on.
fn nodes(placements: &[Placement]) -> usize {
    let mut seen: Vec<(&str, i32)> = placements.iter().map(|p| (p.node.as_str(), p.port)).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len().max(1)
}

/// Runs `command(shard)` on every shard through Citus's
/// `master_run_on_worker` (a connection per shard, as the caller), at most
/// [`SHARDS_AT_ONCE_PER_NODE`] per node at a time, handing each answer to
/// `take` as it comes (which says whether to go on). `Some(())` when every
/// shard answered; `None` (said at DEBUG1) when one failed.
fn run_on_shards(
    src: &Source,
    placements: &[Placement],
    command: &dyn Fn(&str) -> String,
    take: &mut dyn FnMut(String) -> bool,
) -> Result<Option<()>, RarError> {
    // Round-robin over the nodes: the k-th batch takes the k-th pair of
    // shards of every node.
    let mut by_node: Vec<Vec<&Placement>> = Vec::new();
    for p in placements {
        match by_node.iter_mut().find(|v| v[0].node == p.node && v[0].port == p.port) {
            Some(v) => v.push(p),
            None => by_node.push(vec![p]),
        }
    }
    let rounds = by_node.iter().map(|v| v.len().div_ceil(SHARDS_AT_ONCE_PER_NODE)).max().unwrap_or(0);
    for k in 0..rounds {
        let batch: Vec<&Placement> = by_node
            .iter()
            .flat_map(|v| v.iter().skip(k * SHARDS_AT_ONCE_PER_NODE).take(SHARDS_AT_ONCE_PER_NODE).copied())
            .collect();
        let nodes: Vec<String> = batch.iter().map(|p| p.node.clone()).collect();
        let ports: Vec<i32> = batch.iter().map(|p| p.port).collect();
        let commands: Vec<String> = batch.iter().map(|p| command(&p.name)).collect();
        let rows = Spi::connect(|client| {
            client
                .select(
                    "SELECT success, result FROM pg_catalog.master_run_on_worker($1, $2, $3, true)",
                    None,
                    &[nodes.into(), ports.into(), commands.into()],
                )?
                .map(|r| Ok((r.get::<bool>(1)?, r.get::<String>(2)?)))
                .collect::<Result<Vec<_>, pgrx::spi::SpiError>>()
        })?;
        if rows.len() != batch.len() {
            skip::<()>(src, "a shard did not answer");
            return Ok(None);
        }
        for ((success, result), p) in rows.into_iter().zip(&batch) {
            match (success, result) {
                (Some(true), Some(text)) => {
                    if !take(text) {
                        return Ok(None);
                    }
                }
                (_, message) => {
                    let why = format!("shard {} failed: {}", p.name, message.unwrap_or_default().trim());
                    skip::<()>(src, &why);
                    return Ok(None);
                }
            }
        }
    }
    Ok(Some(()))
}

/// The bytes of a shard's base64 answer.
fn decode(answer: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(answer.as_bytes())
        .unwrap_or_else(|e| RarError::BadStateText { message: e.to_string() }.raise())
}
