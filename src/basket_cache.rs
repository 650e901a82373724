//! The encoded baskets a session keeps between calls, so that exploring
//! thresholds (`rar_mine` again and again on one table) reads the table
//! once.
//!
//! Only tables that `rar_track_changes` tracks are kept: its trigger adds a
//! row to `rar.table_changes` in every transaction that changes the table
//! (`sql/tracking.sql`). An entry is kept with a stamp read in one query,
//! under the snapshot of the call: the table's file node and catalog row
//! versions, the tracking trigger's row version, the columns' numbers and
//! types, and the sum of the table's change weights. The baskets are read
//! after the stamp, so they are at least as new as it; a later call answers
//! from the entry only when it reads the same stamp. A session's snapshots
//! only move forward, and each sees every change row an earlier one saw
//! (or the row they were folded into), so an equal sum means that no change
//! became visible in between: the entry holds exactly what a read would
//! give. Anything the stamp cannot vouch for is read as before: a table
//! changed (or locked for writing) by the calling transaction, row-level
//! security, a table with inheritance children or that is one (a partition
//! included: a change through the parent fires only the parent's statement
//! triggers), a temporary table, a subscription's table (logical
//! replication fires no statement triggers), a Citus table, a disabled or
//! altered trigger, columns whose text depends on more than their value.
//! Entries are per role: a session that changes roles reads again.
//!
//! Entries live in this backend's memory, at most `rar.basket_cache`
//! bytes in all, least recently used out first (`rar_core::cache`); a
//! relation cache invalidation of the table (any DDL, TRUNCATE) drops its
//! entries at once. Privileges are checked on every use.

use once_cell::sync::Lazy;
use pgrx::prelude::*;
use rar_core::baskets::Baskets;
use rar_core::cache::{Cache, EntryInfo};
use rar_core::layout::Layout;
use std::sync::Mutex;

use crate::error::RarError;
use crate::reader::ReadStats;
use crate::relation::Source;

/// What an entry is for: a relation, the columns read, whether the
/// baskets are in canonical order, and the role that read them (a session
/// that changes roles never answers one role from another's read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub relid: u32,
    pub user: u32,
    pub layout: Layout,
    pub canonical: bool,
}

/// An entry: the baskets, what reading them saw, and the memory the reader
/// checked against `rar.memory_limit` for them.
struct Kept {
    baskets: Baskets,
    null_lines: u64,
    needed: u64,
}

static CACHE: Lazy<Mutex<Cache<Key, Kept>>> = Lazy::new(|| Mutex::new(Cache::default()));

fn cache() -> std::sync::MutexGuard<'static, Cache<Key, Kept>> {
    // Nothing that can panic runs under the lock; never give up the cache
    // for a poisoned lock anyway: forget it.
    CACHE.lock().unwrap_or_else(|poisoned| {
        let mut c = poisoned.into_inner();
        c.forget(|_| true);
        c
    })
}

/// Registers [`forget_relation`] for relation cache invalidations; called
/// once from `_PG_init`.
pub fn init() {
    // SAFETY: registering a callback that touches only Rust memory.
    unsafe { pg_sys::CacheRegisterRelcacheCallback(Some(forget_relation), pg_sys::Datum::from(0)) };
}

/// Drops the entries of a relation whose cache entry PostgreSQL invalidated
/// (every entry for `InvalidOid`: the invalidation queue overflowed).
#[pg_guard]
unsafe extern "C-unwind" fn forget_relation(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    let all = relid == pg_sys::InvalidOid;
    let relid = relid.to_u32();
    cache().forget(|k| all || k.relid == relid);
}

/// The types whose text does not depend on anything but the value (under
/// the settings `crate::spi::pin_search_path` pins): not bytea
/// (`bytea_output`), money (`lc_monetary`), enums (a label can be renamed),
/// reg* types (names), or types of extensions.
const PLAIN_TYPES: &str = "'{pg_catalog.int2,pg_catalog.int4,pg_catalog.int8,pg_catalog.numeric,\
pg_catalog.text,pg_catalog.varchar,pg_catalog.bpchar,pg_catalog.name,pg_catalog.char,pg_catalog.uuid,\
pg_catalog.bool,pg_catalog.oid,pg_catalog.date,pg_catalog.timestamp,pg_catalog.timestamptz,\
pg_catalog.float4,pg_catalog.float8}'::pg_catalog.regtype[]";

/// The stamp of `src` for the columns `columns`, read under the current
/// snapshot; `None` when its baskets may not be kept.
fn stamp(src: &Source, columns: &[String]) -> Result<Option<String>, RarError> {
    // Untracked tables (and catalogs older than the tracking) stop here.
    let tracked = crate::spi::one::<bool>(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) $1 \
                        AND t.tgfoid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure('rar.table_changed()'))",
        &[src.oid.into()],
    )?;
    if tracked != Some(true) {
        return Ok(None);
    }
    let sql = format!(
        "SELECT pg_catalog.concat_ws('/', c.relfilenode, c.xmin, t.oid, t.xmin, \
                (SELECT COALESCE(pg_catalog.sum(v.weight), 0) FROM rar.table_changes v \
                 WHERE v.relid OPERATOR(pg_catalog.=) c.oid), \
                (SELECT pg_catalog.string_agg(a.attnum::pg_catalog.text OPERATOR(pg_catalog.||) ':' \
                                               OPERATOR(pg_catalog.||) a.atttypid::pg_catalog.text, ',' ORDER BY a.attnum) \
                 FROM pg_catalog.pg_attribute a \
                 WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) ANY ($2))) \
         FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_trigger t ON t.tgrelid OPERATOR(pg_catalog.=) c.oid \
         WHERE c.oid OPERATOR(pg_catalog.=) $1 AND c.relkind OPERATOR(pg_catalog.=) 'r' \
           AND c.relpersistence OPERATOR(pg_catalog.<>) 't' AND NOT c.relrowsecurity \
           AND NOT c.relhassubclass AND NOT c.relispartition \
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhrelid OPERATOR(pg_catalog.=) c.oid) \
           AND pg_catalog.has_schema_privilege(c.relnamespace, 'USAGE') \
           AND t.tgfoid OPERATOR(pg_catalog.=) 'rar.table_changed()'::pg_catalog.regprocedure \
           AND t.tgenabled OPERATOR(pg_catalog.=) 'A' AND t.tgtype OPERATOR(pg_catalog.=) 60::pg_catalog.int2 \
           AND t.tgqual IS NULL AND pg_catalog.cardinality(t.tgattr::pg_catalog.int2[]) OPERATOR(pg_catalog.=) 0 \
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_subscription_rel s WHERE s.srrelid OPERATOR(pg_catalog.=) c.oid) \
           AND (SELECT pg_catalog.count(*) OPERATOR(pg_catalog.=) pg_catalog.cardinality($2) \
                       AND pg_catalog.bool_and(pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT') \
                           AND (CASE WHEN ty.typcategory OPERATOR(pg_catalog.=) 'A' THEN ty.typelem ELSE ty.oid END) \
                               OPERATOR(pg_catalog.=) ANY ({PLAIN_TYPES})) \
                FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid OPERATOR(pg_catalog.=) a.atttypid \
                WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) ANY ($2) \
                  AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) \
         ORDER BY t.oid LIMIT 1"
    );
    crate::spi::one::<String>(&sql, &[src.oid.into(), columns.to_vec().into()])
}

/// The setting in bytes (0: keep nothing).
fn budget() -> u64 {
    crate::gucs::basket_cache_bytes()
}

/// What the cache says about a read of a whole source.
pub enum Lookup {
    /// The baskets, as a read would give them now.
    Hit(Baskets, ReadStats),
    /// Read them; keep them under `key` at `stamp` when there is one.
    Miss { key: Key, stamp: Option<String> },
}

/// Looks up the baskets of all of `src` in the layout `layout`. Reads
/// nothing of the table.
pub fn lookup(src: &Source, layout: &Layout, canonical: bool, memory_limit: u64) -> Result<Lookup, RarError> {
    // SAFETY: reads the current user id of this backend.
    let user = unsafe { pg_sys::GetUserId() }.to_u32();
    let key = Key { relid: src.oid.to_u32(), user, layout: layout.clone(), canonical };
    if budget() == 0 {
        cache().forget(|_| true);
        return Ok(Lookup::Miss { key, stamp: None });
    }
    // Take the lock a read would take, first: invalidations sent before it
    // are processed (and drop entries) before the stamp is read.
    // SAFETY: a lock of the relation the caller names, kept to the end of
    // the transaction as a query's would be.
    unsafe { pg_sys::LockRelationOid(src.oid, pg_sys::AccessShareLock as pg_sys::LOCKMODE) };
    let columns: Vec<String> = match layout {
        Layout::Long { tid, item } => src.basket_column_names(tid).into_iter().chain([item.clone()]).collect(),
        Layout::Baskets { tid, items } => {
            tid.iter().flat_map(|t| src.basket_column_names(t)).chain([items.clone()]).collect()
        }
    };
    let Some(stamp) = stamp(src, &columns)? else { return Ok(Lookup::Miss { key, stamp: None }) };
    if locked_for_writing_here(src.oid) || crate::reader::is_citus_table(src)? {
        return Ok(Lookup::Miss { key, stamp: None });
    }
    let mut c = cache();
    c.shrink(budget());
    // Baskets in canonical order serve a caller that needs no order too.
    let canonical_key = Key { canonical: true, ..key.clone() };
    let kept = match c.get(&key, &stamp) {
        Some(kept) => Some(kept),
        None if !canonical => c.get(&canonical_key, &stamp),
        None => None,
    };
    Ok(match kept {
        Some(kept) if kept.needed <= memory_limit => {
            Lookup::Hit(kept.baskets.clone(), ReadStats { null_lines: kept.null_lines })
        }
        _ => Lookup::Miss { key, stamp: Some(stamp) },
    })
}

/// Whether this transaction holds a lock on `relid` stronger than a read's
/// (it changed, truncated or locked it): its own changes are not committed,
/// and baskets kept from other transactions would miss them.
fn locked_for_writing_here(relid: pg_sys::Oid) -> bool {
    // SAFETY: the relation is locked by the caller (lookup), so it exists;
    // opened and closed here without another lock.
    unsafe {
        let rel = pg_sys::RelationIdGetRelation(relid);
        if rel.is_null() {
            return true;
        }
        let held = pg_sys::CheckRelationLockedByMe(rel, pg_sys::RowShareLock as pg_sys::LOCKMODE, true);
        pg_sys::RelationClose(rel);
        held
    }
}

/// Keeps baskets just read under `key` at `stamp` (from [`lookup`]).
pub fn keep(key: Key, stamp: String, baskets: &Baskets, stats: &ReadStats, needed: u64) {
    let bytes = baskets.total_bytes();
    let budget = budget();
    if bytes > budget {
        return;
    }
    let kept = Kept { baskets: baskets.clone(), null_lines: stats.null_lines, needed };
    cache().put(key, stamp, kept, bytes, budget);
}

/// The entries of this session read by the current role, most recently
/// used first.
pub fn entries() -> Vec<EntryInfo<Key>> {
    // SAFETY: reads the current user id of this backend.
    let user = unsafe { pg_sys::GetUserId() }.to_u32();
    let mut c = cache();
    c.shrink(budget());
    c.entries().into_iter().filter(|e| e.key.user == user).collect()
}
