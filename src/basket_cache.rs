//! The encoded baskets a session keeps between calls, so that exploring
//! thresholds (`rar_mine` again and again on one table) reads the table
//! once.
//!
//! Only tables that `rar_track_changes` tracks are kept (not views: what a
//! view returns can change with function bodies, settings, catalogs and its
//! owner's rights, which no stamp here sees): its trigger adds a
//! row to `rar.table_changes` in every transaction that changes the table
//! (`sql/tracking.sql`). An entry is kept with a stamp read in one query
//! (`basket_cache.sql`), under the snapshot of the call: the table's file
//! node and catalog row versions, the tracking trigger's row version, the
//! sum of the table's change weights, and the columns' numbers and types.
//! The stamp is read before the read and again after it, and the baskets
//! are kept only when both agree. A later call answers from the entry only
//! when it reads the same stamp. Of two snapshots, the later one sees every
//! change row the earlier one saw (or the row they were folded into), and
//! weights are positive, so an equal sum means the same changes are
//! visible: the entry holds exactly what a read would
//! give. Anything the stamp cannot vouch for is read as before: a table
//! changed (or locked for writing) by the calling transaction, row-level
//! security, a table with inheritance children or that is one (a partition
//! included: a change through the parent fires only the parent's statement
//! triggers), a temporary table, a subscription's table (logical
//! replication fires no statement triggers; every entry is dropped when a
//! table joins or leaves a subscription), a Citus table, a disabled or
//! altered trigger, columns whose text depends on more than their value.
//! Entries are per role: a session that changes roles reads again.
//!
//! Entries live in this backend's memory, at most `rar.basket_cache`
//! bytes in all, least recently used out first (`rar_core::cache`); a
//! relation cache invalidation of the table (any DDL, TRUNCATE) drops its
//! entries at once. An ALTER TABLE of a tracked table adds a change row
//! too (the event trigger `rar_table_altered`): rows changed through a
//! parent the table inherited from for a moment fire none of its triggers.
//! Baskets are kept only while the table's name, which the read used,
//! still names it. Privileges are checked on every use.

use once_cell::sync::Lazy;
use pgrx::prelude::*;
use rar_core::baskets::Baskets;
use rar_core::cache::{Cache, EntryInfo};
use rar_core::layout::Layout;
use std::sync::{Arc, Mutex};

use crate::error::RarError;
use crate::reader::{Filter, ReadStats};
use crate::relation::Source;

/// What an entry is for: a relation, the columns and part read, whether the
/// baskets are in canonical order, and the role that read them (a session
/// that changes roles never answers one role from another's read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub relid: u32,
    pub user: u32,
    /// The part read: [`crate::reader::Filter::key`] and its label; `None`:
    /// all of it.
    pub part: Option<(String, String)>,
    pub layout: Layout,
    pub canonical: bool,
}

/// An entry: the baskets, what reading them saw, and the memory the reader
/// checked against `rar.memory_limit` for them.
struct Kept {
    baskets: Arc<Baskets>,
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
    // SAFETY: registering callbacks that touch only Rust memory.
    unsafe {
        pg_sys::CacheRegisterRelcacheCallback(Some(forget_relation), pg_sys::Datum::from(0));
        pg_sys::CacheRegisterSyscacheCallback(
            pg_sys::SysCacheIdentifier::SUBSCRIPTIONRELMAP as i32,
            Some(forget_subscribed),
            pg_sys::Datum::from(0),
        );
    }
}

/// Drops every entry when a table joins or leaves a subscription (a row of
/// `pg_subscription_rel` changes): the stamp refuses a subscribed table,
/// whose replicated changes fire no trigger, but an entry kept before
/// `CREATE SUBSCRIPTION` would be served again after `DROP SUBSCRIPTION`
/// with the same stamp. Subscriptions change rarely: all entries go.
#[pg_guard]
unsafe extern "C-unwind" fn forget_subscribed(_arg: pg_sys::Datum, _cache: i32, _hash: u32) {
    cache().forget(|_| true);
}

/// Drops the entries of a relation whose cache entry PostgreSQL invalidated
/// (every entry for `InvalidOid`: the invalidation queue overflowed).
#[pg_guard]
unsafe extern "C-unwind" fn forget_relation(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    let all = relid == pg_sys::InvalidOid;
    let relid = relid.to_u32();
    cache().forget(|k| all || k.relid == relid);
}

/// The stamp of `src` for the columns `columns`, read under the current
/// snapshot; `None` when its baskets may not be kept (see
/// `basket_cache.sql`, and [`may_have_children`], by the latest catalogs).
/// The caller holds a lock on the table.
fn stamp(src: &Source, columns: &[String]) -> Result<Option<String>, RarError> {
    if may_have_children(src.oid) {
        return Ok(None);
    }
    // Untracked tables (and catalogs older than the tracking) stop here.
    let tracked = crate::spi::one_kept::<bool>(
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_trigger t WHERE t.tgrelid OPERATOR(pg_catalog.=) $1 \
                        AND t.tgfoid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure('rar.table_changed()'))",
        &[src.oid.into()],
    )?;
    if tracked != Some(true) {
        return Ok(None);
    }
    crate::spi::one_kept::<String>(STAMP, &[src.oid.into(), columns.to_vec().into()])
}

/// Whether the table may have inheritance children by the latest catalogs
/// (its relcache entry, current since the lock was taken), whatever the
/// call's snapshot. The stamp reads `pg_class` under that snapshot, and a
/// repeatable-read transaction's may predate an `INHERIT` that the read's
/// planner, which expands a table's children from the latest catalogs,
/// sees: baskets with a child's rows were kept under a stamp without it,
/// and served after `NO INHERIT` (which leaves the parent's catalog row as
/// it was). `relhassubclass` stays set after the last child goes, until a
/// `VACUUM` or `ANALYZE` of the table clears it: such a table is read on
/// every call until then.
fn may_have_children(oid: pg_sys::Oid) -> bool {
    // SAFETY: the caller holds a lock on the relation; the entry is closed
    // before returning, on both paths.
    unsafe {
        let rel = pg_sys::RelationIdGetRelation(oid);
        if rel.is_null() {
            return true;
        }
        let has = (*(*rel).rd_rel).relhassubclass;
        pg_sys::RelationClose(rel);
        has
    }
}

/// The query of [`stamp`].
const STAMP: &str = include_str!("basket_cache.sql");

/// The setting in bytes (0: keep nothing).
fn budget() -> u64 {
    crate::gucs::basket_cache_bytes()
}

/// What the cache says about a read.
pub enum Lookup {
    /// The baskets, as a read would give them now.
    Hit(Arc<Baskets>, ReadStats),
    /// Read them; then [`keep`] them under `key` when there is a stamp.
    Miss { key: Key, stamp: Option<Stamp> },
}

/// A stamp read before a read, with the columns it covers.
pub struct Stamp {
    stamp: String,
    columns: Vec<String>,
}

/// Looks up the baskets of `src` (or of the part `filter` selects) in the
/// layout `layout`. Reads nothing of the table.
pub fn lookup(
    src: &Source,
    layout: &Layout,
    filter: Option<&Filter>,
    canonical: bool,
    memory_limit: u64,
) -> Result<Lookup, RarError> {
    // SAFETY: reads the current user id of this backend.
    let user = unsafe { pg_sys::GetUserId() }.to_u32();
    let key = Key {
        relid: src.oid.to_u32(),
        user,
        part: filter.map(|f| (f.key.clone(), f.label.clone())),
        layout: layout.clone(),
        canonical,
    };
    if budget() == 0 {
        cache().forget(|_| true);
        return Ok(Lookup::Miss { key, stamp: None });
    }
    // Take the lock a read would take, first: invalidations sent before it
    // are processed (and drop entries) before the stamp is read.
    // SAFETY: a lock of the relation the caller names, kept to the end of
    // the transaction as a query's would be.
    unsafe { pg_sys::LockRelationOid(src.oid, pg_sys::AccessShareLock as pg_sys::LOCKMODE) };
    let mut columns: Vec<String> = match layout {
        Layout::Long { tid, item } => src.basket_column_names(tid).into_iter().chain([item.clone()]).collect(),
        Layout::Baskets { tid, items } => {
            tid.iter().flat_map(|t| src.basket_column_names(t)).chain([items.clone()]).collect()
        }
    };
    columns.extend(filter.iter().flat_map(|f| f.columns.iter().cloned()));
    columns.sort();
    columns.dedup();
    let Some(stamp) = stamp(src, &columns)? else { return Ok(Lookup::Miss { key, stamp: None }) };
    if src.changed_here()? || crate::reader::is_citus_table(src)? {
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
            Lookup::Hit(Arc::clone(&kept.baskets), ReadStats { null_lines: kept.null_lines })
        }
        _ => Lookup::Miss { key, stamp: Some(Stamp { stamp, columns }) },
    })
}

/// Keeps baskets just read under `key` at `stamp` (from [`lookup`]), when
/// the table's stamp is still the same after the read. A read in READ
/// COMMITTED may take a newer snapshot than the stamp's; the same stamp on
/// both sides means that no change became visible between them, so the
/// baskets are those of the stamp's snapshot whatever snapshot read them.
pub fn keep(
    src: &Source,
    key: Key,
    stamp: Stamp,
    baskets: &Arc<Baskets>,
    stats: &ReadStats,
    needed: u64,
) -> Result<(), RarError> {
    let bytes = baskets.total_bytes();
    let budget = budget();
    if bytes > budget || self::stamp(src, &stamp.columns)?.as_ref() != Some(&stamp.stamp) {
        return Ok(());
    }
    // The read named the table; the name must still be the table's (a
    // schema renamed meanwhile makes it another's, and sends no
    // invalidation of either table).
    let same = crate::spi::one_kept::<bool>(
        "SELECT pg_catalog.to_regclass($1)::pg_catalog.oid OPERATOR(pg_catalog.=) $2",
        &[src.quoted.clone().into(), src.oid.into()],
    )?;
    if same != Some(true) {
        return Ok(());
    }
    let kept = Kept { baskets: Arc::clone(baskets), null_lines: stats.null_lines, needed };
    cache().put(key, stamp.stamp, kept, bytes, budget);
    Ok(())
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
