//! Counting on the Citus workers: `rar_mine` (exact rules) on a table that
//! Citus distributes by its basket column runs the two rounds of
//! `rar_core::shards` on the shards, through Citus's `run_command_on_shards`
//! and the shard functions of `api::shards`, and makes the rules of the
//! summed counts. Only itemsets and counts cross the network.
//!
//! Where that does not apply, [`mine_on_shards`] answers `None` and the
//! caller reads the table as usual (the workers encode the baskets, the
//! coordinator mines): the setting `rar.count_on_workers` is off; the table
//! is not distributed by the basket column (or is a view, or has row
//! security); a split or a level is asked for; the call runs inside a
//! transaction block (the rounds run in connections of their own, which
//! would not see the block's uncommitted changes); the catalog is older
//! than the shard functions; a shard declines (too few baskets for
//! `min_support` to mean much there) or fails. A DEBUG1 message says which.

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

/// Mines `src` on its shards, or `None` where that does not apply (see the
/// module's comment).
pub fn mine_on_shards(src: &Source, layout: &Layout, params: &MineParams, progress: &Progress) -> Option<OnShards> {
    let Layout::Long { tid, item } = layout else { return None };
    if !gucs::count_on_workers() || src.several_basket_columns(tid) || src.row_security {
        return None;
    }
    // SAFETY: reads this backend's transaction state.
    if unsafe { pg_sys::IsTransactionBlock() } {
        return skip(src, "it runs inside a transaction block");
    }
    match eligible(src, tid, item).or_raise() {
        Ok(()) => {}
        Err(why) => return skip(src, why),
    }
    let limit = params.memory_limit;
    let mut check = || {
        check_for_interrupts!();
    };

    progress.report(&format!("counting on the shards of {}: round 1 of 2", src.display));
    let share = local_share(params);
    let round1 = format!(
        "SELECT rar.shard_itemsets(%L, {}, {}, {}::pg_catalog.float8, {})",
        literal(tid),
        literal(item),
        literal(&format!("{share:e}")),
        params.max_length
    );
    let answers = run_on_shards(src, &round1).or_raise()?;
    let received1: usize = answers.iter().map(String::len).sum();
    let mut union = Union::default();
    for answer in &answers {
        let bytes = decode(answer);
        let got = ShardItemsets::from_bytes_within(&bytes, limit, &mut check).or_raise();
        if got.declined {
            return skip(src, "a shard has too few baskets for min_support to mean 20 baskets there");
        }
        if let Err(e) = union.add(&got.itemsets, limit, &mut check) {
            return skip(src, &format!("the shards' itemsets do not fit: {e}"));
        }
    }
    drop(answers);
    let candidates = union.into_candidates();

    progress.report(&format!(
        "counting on the shards of {}: round 2 of 2, {} candidate itemsets",
        src.display,
        candidates.len()
    ));
    let request = base64::engine::general_purpose::STANDARD.encode(candidates_to_bytes(&candidates));
    let round2 =
        format!("SELECT rar.shard_counts(%L, {}, {}, {})", literal(tid), literal(item), quote_literal(&request));
    let sent2 = request.len();
    drop(request);
    let answers = run_on_shards(src, &round2).or_raise()?;
    let received2: usize = answers.iter().map(String::len).sum();
    let (mut n, mut null_lines) = (0u64, 0u64);
    let mut total = vec![0u64; candidates.len()];
    for answer in &answers {
        check();
        let got = ShardCounts::from_bytes(&decode(answer), candidates.len()).or_raise();
        n += got.n_baskets;
        null_lines += got.null_lines;
        for (t, c) in total.iter_mut().zip(got.counts) {
            *t += u64::from(c);
        }
    }
    let shards = answers.len();
    drop(answers);
    let Ok(n) = u32::try_from(n) else {
        return skip(src, "it has more baskets than one count holds");
    };
    let counted: Vec<(Vec<u32>, u32)> =
        candidates.iter().map(|s| s.to_vec()).zip(total.into_iter().map(|c| c.min(u64::from(n)) as u32)).collect();
    let n_candidates = counted.len();
    progress.report(&format!("making the rules of {n_candidates} itemsets counted on the shards"));
    let rules = rules_from_counts(candidates.names, n, &counted, params, &mut check).or_raise();
    pgrx::debug1!(
        "rar_mine: counted {n_candidates} candidate itemsets on the {shards} shards of {}: \
         received {received1} bytes in round 1, sent {sent2} bytes to each shard and received {received2} in round 2",
        src.display
    );
    Some(OnShards { rules, null_lines })
}

/// Says at DEBUG1 why `src` is not counted on its shards.
fn skip<T>(src: &Source, why: &str) -> Option<T> {
    pgrx::debug1!("rar_mine: the workers encode the baskets of {} and the coordinator mines them: {why}", src.display);
    None
}

/// A literal for a command run through `run_command_on_shards`, which
/// puts the shard's name in with `format()`: `%` doubled.
fn literal(s: &str) -> String {
    quote_literal(s).replace('%', "%%")
}

/// Whether `src` is a Citus table distributed by `tid` that the caller may
/// read, on a cluster whose catalog has the shard functions; else why not.
fn eligible(src: &Source, tid: &str, item: &str) -> Result<Result<(), &'static str>, RarError> {
    Ok(Spi::connect(|client| {
        let citus = client
            .select("SELECT pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL", None, &[])?
            .first()
            .get::<bool>(1)?
            .unwrap_or(false);
        if !citus {
            return Ok::<_, pgrx::spi::SpiError>(Err("Citus is not installed"));
        }
        let row = client.select(
            "SELECT p.partmethod OPERATOR(pg_catalog.=) 'h' \
                    AND pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) OPERATOR(pg_catalog.=) $2, \
                    pg_catalog.to_regprocedure('rar.shard_counts(pg_catalog.regclass, pg_catalog.text, pg_catalog.text, pg_catalog.text)') IS NOT NULL \
                    AND pg_catalog.to_regprocedure('pg_catalog.run_command_on_shards(pg_catalog.regclass, pg_catalog.text, pg_catalog.bool)') IS NOT NULL, \
                    pg_catalog.has_column_privilege(p.logicalrelid, $2, 'SELECT') \
                    AND pg_catalog.has_column_privilege(p.logicalrelid, $3, 'SELECT') \
             FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1",
            Some(1),
            &[src.oid.into(), tid.into(), item.into()],
        )?;
        if row.is_empty() {
            return Ok(Err("it is not a Citus table"));
        }
        let first = row.first();
        Ok(if !first.get::<bool>(1)?.unwrap_or(false) {
            Err("it is not distributed by its basket column")
        } else if !first.get::<bool>(2)?.unwrap_or(false) {
            Err("the catalog has no rar.shard_counts (ALTER EXTENSION rar UPDATE)")
        } else if !first.get::<bool>(3)?.unwrap_or(false) {
            Err("the caller may not read its basket and item columns")
        } else {
            Ok(())
        })
    })?)
}

/// Runs `command` (with `%L` for the shard's name) on every shard of `src`;
/// their answers, or `None` (said at DEBUG1) when a shard failed or has no
/// active placement.
fn run_on_shards(src: &Source, command: &str) -> Result<Option<Vec<String>>, RarError> {
    let (expected, rows) = Spi::connect(|client| {
        let expected = client
            .select(
                "SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_shard WHERE logicalrelid OPERATOR(pg_catalog.=) $1",
                Some(1),
                &[src.oid.into()],
            )?
            .first()
            .get::<i64>(1)?
            .unwrap_or(0);
        let rows = client
            .select(
                "SELECT shardid, success, result FROM pg_catalog.run_command_on_shards($1, $2)",
                None,
                &[src.oid.into(), command.into()],
            )?
            .map(|r| Ok((r.get::<i64>(1)?, r.get::<bool>(2)?, r.get::<String>(3)?)))
            .collect::<Result<Vec<_>, pgrx::spi::SpiError>>()?;
        Ok::<_, pgrx::spi::SpiError>((expected, rows))
    })?;
    if rows.len() as i64 != expected {
        skip::<()>(src, "a shard has no active placement");
        return Ok(None);
    }
    let mut answers = Vec::with_capacity(rows.len());
    for (shard, success, result) in rows {
        match (success, result) {
            (Some(true), Some(text)) => answers.push(text),
            (_, message) => {
                let message = message.unwrap_or_default();
                let why = format!("shard {} failed: {}", shard.unwrap_or(0), message.trim());
                skip::<()>(src, &why);
                return Ok(None);
            }
        }
    }
    Ok(Some(answers))
}

/// The bytes of a shard's base64 answer.
fn decode(answer: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(answer.as_bytes())
        .unwrap_or_else(|e| RarError::BadStateText { message: e.to_string() }.raise())
}
