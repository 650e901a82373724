//! Streams a source's rows into compact baskets through an SPI cursor, a
//! batch at a time, so that memory grows with the baskets (8 bytes a line
//! while reading) and not with the table's rows.
//!
//! Long-form sources (one line per basket and item) are read through the
//! aggregate `rar.baskets` (defined in `api::aggregate`, whose final function
//! hands its baskets back through [`hand_over`]), so that PostgreSQL's
//! parallel workers share the scan and the encoding when the planner
//! chooses a parallel plan (`max_parallel_workers_per_gather`). A
//! partitioned table with foreign partitions (shards behind postgres_fdw) is
//! read one partition at a time with `rar.baskets_state`, which postgres_fdw
//! pushes down to the shard when the server lists `rar` in its `extensions`
//! option: each shard encodes its own baskets and sends them as compact
//! bytes. A Citus table is read through `rar.baskets_shared`, which Citus
//! pushes down to its workers: each encodes its shards and sends one state.
//! Basket-form sources (an array of items per row) go through an SPI
//! cursor.
//!
//! Before a scan, the planner's statistics (`reltuples`, `n_distinct` of the
//! basket column) give an estimate of the memory needed, checked against
//! `rar.memory_limit`; the budget is checked again while reading.
//!
//! The queries are built from quoted identifiers only and run with the
//! caller's privileges: a caller without SELECT on the source gets
//! PostgreSQL's own `permission denied`.
//!
//! A table tracked by `rar_track_changes` is read once per session while it
//! does not change: [`read_baskets`] asks [`crate::basket_cache`] first.

use std::sync::Arc;

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::quote_identifier;
use pgrx::PgMemoryContexts;
use rar_core::baskets::{Baskets, BasketsBuilder};
use rar_core::layout::Layout;
use rar_core::partial::Partial;

use crate::basket_cache::{self, Lookup};
use crate::bindings::Binding;
use crate::error::RarError;
use crate::relation::Source;

/// Rows of a basket-form source (one array each) fetched at a time; one at
/// a time once rows turn out to hold more than `LONG_ROW` lines (a fetched
/// batch is in memory, arrays cast to text[] included, before any of it is
/// counted).
const BATCH: i64 = 256;
const LONG_ROW: usize = 1024;

/// A WHERE clause selecting part of a source (a split's set, a window of
/// time), with its parameters. `key` names the part for the baskets a
/// session keeps: the clause and the values of its parameters; `label`, for
/// people (`rar_basket_cache`); `columns`: the columns the clause reads
/// besides the basket and item columns.
pub struct Filter {
    pub clause: String,
    pub args: Vec<DatumWithOid<'static>>,
    pub key: String,
    pub label: String,
    pub columns: Vec<String>,
}

/// What reading saw besides the baskets.
#[derive(Debug, Default)]
pub struct ReadStats {
    /// Rows skipped for a NULL basket id or item (NULL array elements count
    /// one each).
    pub null_lines: u64,
}

/// The query of a basket-form source: its basket id (or NULL: each row its
/// own basket) and its items as `text[]`.
fn array_query(src: &Source, tid: Option<&str>, items: &str, filter: Option<&str>) -> String {
    let select = format!(
        "SELECT {}, {} FROM {}",
        tid.map_or("NULL::pg_catalog.text".to_string(), |t| src.text_of(t)),
        src.array_text_of(items),
        src.quoted
    );
    match filter {
        Some(f) => format!("{select} WHERE {f}"),
        None => select,
    }
}

/// Reads all baskets of `src`. Checks for cancellation as it reads and stops
/// with an error when the baskets outgrow `memory_limit` bytes.
/// `filter`: the part to read (a split set, a window).
/// `canonical`: baskets and items in an order that does not depend on how
/// parallel workers interleaved (training and evaluation need it; exact
/// mining, whose output order is defined by the rules, does not).
/// The baskets of a table that `rar_track_changes` tracks, or of a part of
/// it, come from this session's cache when the table has not changed since
/// they were read
/// ([`crate::basket_cache`]).
pub fn read_baskets(
    src: &Source,
    layout: &Layout,
    filter: Option<Filter>,
    memory_limit: u64,
    canonical: bool,
) -> Result<(Arc<Baskets>, ReadStats), RarError> {
    // SAFETY: reads the database encoding of this backend.
    if unsafe { pg_sys::GetDatabaseEncoding() } != pg_sys::pg_enc::PG_UTF8 as i32 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "rar_mine needs a database with UTF8 encoding",
            "Create the database with ENCODING 'UTF8', or mine from a UTF8 database through postgres_fdw."
        );
    }
    // A view's functions (or a foreign table's server) would run with a
    // superuser's rights: never for a role without them.
    src.check_not_superuser_reading_user_view();
    match basket_cache::lookup(src, layout, filter.as_ref(), canonical, memory_limit)? {
        Lookup::Hit(baskets, stats) => {
            debug1!("rar: the baskets of {} come from this session's cache", src.display);
            Ok((baskets, stats))
        }
        Lookup::Miss { key, stamp } => {
            let (baskets, stats, needed) = read_uncached(src, layout, filter, memory_limit, canonical)?;
            let baskets = Arc::new(baskets);
            if let Some(stamp) = stamp {
                basket_cache::keep(src, key, stamp, &baskets, &stats, needed)?;
            }
            Ok((baskets, stats))
        }
    }
}

/// [`read_baskets`] without the cache; also returns the bytes checked
/// against `memory_limit`.
fn read_uncached(
    src: &Source,
    layout: &Layout,
    filter: Option<Filter>,
    memory_limit: u64,
    canonical: bool,
) -> Result<(Baskets, ReadStats, u64), RarError> {
    let (cond, args) = match filter {
        Some(f) => (Some(f.clause), f.args),
        None => (None, Vec::new()),
    };
    let (tid, items) = match layout {
        Layout::Baskets { tid, items } => (tid.as_deref(), items.as_str()),
        Layout::Long { tid, item } => {
            if cond.is_none() {
                check_estimate(src, tid, memory_limit)?;
            }
            let mut p = read_long(src, tid, item, cond.as_deref(), &args, memory_limit)?;
            // Parallel workers interleave differently from run to run.
            if canonical {
                p.canonicalize();
            }
            let b = &p.baskets;
            let needed = (b.heap_bytes() + b.build_bytes()) as u64;
            if needed > memory_limit {
                return Err(RarError::InputTooLarge { lines: b.n_lines(), limit_bytes: memory_limit });
            }
            let stats = ReadStats { null_lines: p.null_lines };
            return Ok((p.baskets.build(), stats, needed));
        }
    };
    // A basket-form source (one array of items per row), through a cursor.
    let sql = array_query(src, tid, items, cond.as_deref());
    let mut builder = BasketsBuilder::default();
    let mut stats = ReadStats::default();
    let keyed = tid.is_some();
    let mut rows_cx = PgMemoryContexts::new("rar basket rows");
    let outcome: Result<(), RarError> = Spi::connect(|client| {
        let mut cursor = client.open_cursor(sql.as_str(), &args);
        let mut batch = BATCH;
        loop {
            let table = cursor.fetch(batch)?;
            if table.is_empty() {
                break;
            }
            let (rows, lines_before) = (table.len(), builder.n_lines());
            for row in table {
                // Each row's array is detoasted in a context reset after the
                // row (the builder keeps copies of the names): a batch of
                // large arrays must not pile up uncounted.
                // SAFETY: nothing made in `rows_cx` is used after the row.
                let pushed = unsafe {
                    rows_cx.switch_to(|_| {
                        let tid: Option<&str> = row.get(1)?;
                        let items: Option<Array<&str>> = row.get(2)?;
                        let (Some(items), false) = (items, keyed && tid.is_none()) else {
                            stats.null_lines += 1;
                            return Ok::<_, pgrx::spi::SpiError>(());
                        };
                        stats.null_lines += items.iter().filter(Option::is_none).count() as u64;
                        match tid {
                            Some(t) => {
                                builder.add_basket(t);
                                items.iter().flatten().for_each(|i| builder.push(t, i))
                            }
                            None => builder.push_basket(items.iter().flatten()),
                        }
                        Ok(())
                    })
                };
                // SAFETY: as above; the row's values are not used again.
                unsafe { rows_cx.reset() };
                pushed?;
                // Every row: one array can hold millions of lines.
                check_for_interrupts!();
                if builder.heap_bytes() as u64 > memory_limit {
                    return Err(RarError::InputTooLarge { lines: builder.n_lines(), limit_bytes: memory_limit });
                }
            }
            if builder.n_lines() - lines_before > LONG_ROW * rows {
                batch = 1;
            }
        }
        Ok(())
    });
    outcome?;
    let needed = builder.heap_bytes() as u64;
    Ok((builder.build(), stats, needed))
}

/// Stops before a scan that the planner's statistics say would not fit.
/// Sources without statistics (views, tables never analyzed) pass.
fn check_estimate(src: &Source, tid: &str, memory_limit: u64) -> Result<(), RarError> {
    let Some((lines, baskets)) = estimate(src, tid)? else { return Ok(()) };
    let needed = BasketsBuilder::estimate_bytes(lines, baskets);
    if needed > memory_limit {
        return Err(RarError::WouldNotFit { lines, baskets, needed, limit_bytes: memory_limit });
    }
    Ok(())
}

/// The lines and baskets of `src` by the planner's statistics; `None`
/// without statistics (views, tables never analyzed).
pub fn estimate(src: &Source, tid: &str) -> Result<Option<(u64, u64)>, RarError> {
    let row = Spi::connect(|client| {
        let t = crate::spi::select_kept(
            client,
            "SELECT CASE WHEN c.relkind = 'p' THEN \
                        (SELECT pg_catalog.sum(GREATEST(l.reltuples, 0))::float8 \
                         FROM pg_catalog.pg_partition_tree(c.oid) t \
                         JOIN pg_catalog.pg_class l ON l.oid = t.relid WHERE t.isleaf) \
                    ELSE GREATEST(c.reltuples, 0)::float8 END, \
                    (SELECT s.n_distinct::float8 FROM pg_catalog.pg_stats s \
                     WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = $2 \
                     ORDER BY s.inherited DESC LIMIT 1) \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.oid = $1",
            Some(1),
            &[src.oid.into(), src.first_basket_column(tid).into()],
        )?;
        let first = t.first();
        Ok::<_, pgrx::spi::SpiError>((first.get::<f64>(1)?, first.get::<f64>(2)?))
    })?;
    let lines = row.0.unwrap_or(0.0).max(0.0) as u64;
    if lines == 0 {
        return Ok(None);
    }
    // ANALYZE's sample underestimates the distinct basket ids of a large
    // table whose lines are stored basket by basket; a basket rarely has
    // more than 20 lines, so that bounds the estimate from below.
    let baskets = match row.1 {
        Some(d) if d < 0.0 => (-d * lines as f64) as u64,
        Some(d) if d > 0.0 => d as u64,
        _ => 0,
    }
    .max(lines / 20);
    Ok(Some((lines, baskets)))
}

/// The leaf partitions of a partitioned source, quoted, with whether each is
/// a foreign table; empty unless at least one is. Each leaf's schema name
/// is bound to its schema while the [`Binding`]s returned live (see
/// [`crate::bindings`]): the leaves are read by name, and may sit in
/// schemas of their own.
fn foreign_leaves(src: &Source) -> Result<(Vec<(String, bool)>, Vec<Binding>), RarError> {
    type Leaf = (String, bool, String, pg_sys::Oid);
    let leaves: Vec<Leaf> = Spi::connect(|client| {
        let t = crate::spi::select_kept(
            client,
            "SELECT pg_catalog.concat(pg_catalog.quote_ident(n.nspname), '.', pg_catalog.quote_ident(l.relname)), \
                    l.relkind OPERATOR(pg_catalog.=) 'f'::pg_catalog.\"char\", n.nspname::pg_catalog.text, n.oid \
             FROM pg_catalog.pg_partition_tree($1) t JOIN pg_catalog.pg_class l ON l.oid OPERATOR(pg_catalog.=) t.relid \
             JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) l.relnamespace \
             WHERE t.isleaf ORDER BY 1",
            None,
            &[src.oid.into()],
        )?;
        t.map(|r| {
            Ok((
                r.get::<String>(1)?.unwrap_or_default(),
                r.get::<bool>(2)?.unwrap_or(false),
                r.get::<String>(3)?.unwrap_or_default(),
                r.get::<pg_sys::Oid>(4)?.unwrap_or(pg_sys::InvalidOid),
            ))
        })
        .collect::<Result<Vec<_>, pgrx::spi::SpiError>>()
    })?;
    if !leaves.iter().any(|l| l.1) {
        return Ok((Vec::new(), Vec::new()));
    }
    let bindings = leaves.iter().map(|l| Binding::new(&l.2, l.3, &l.0)).collect::<Result<Vec<_>, _>>()?;
    Ok((leaves.into_iter().map(|l| (l.0, l.1)).collect(), bindings))
}

/// The basket id as an aggregate's argument: [`agg_arg`] of its column, or
/// the text of the row of several basket columns.
pub fn key_arg(src: &Source, tid: &str) -> String {
    if src.several_basket_columns(tid) {
        src.basket_key(tid)
    } else {
        agg_arg(src, &src.first_basket_column(tid))
    }
}

/// A column as an argument of the `rar.baskets` aggregates: text and
/// integer columns as they are (the aggregates take text and bigint), any
/// other type cast to text. No cast keeps the call shippable to a shard:
/// postgres_fdw does not push down a cast to text.
pub fn agg_arg(src: &Source, column: &str) -> String {
    let quoted = quote_identifier(column);
    let type_name = src.column(column).map(|c| c.type_name.as_str()).unwrap_or("");
    // pg_catalog's types by name (a role's type may be named "text" in a
    // schema first on the caller's path: its cast to text is the role's).
    let plain = !src.is_user_typed(column)
        && (matches!(type_name, "text" | "smallint" | "integer" | "bigint")
            || type_name.starts_with("character varying")
            || type_name.starts_with("character("));
    if plain {
        quoted
    } else {
        src.text_of(column)
    }
}

/// Runs `SELECT rar.baskets(...) ...` (or `rar.baskets_shared`) and takes
/// what its final function handed over, or the bytes it returned where it
/// ran on another node (`rar.baskets_shared` on a Citus worker).
///
/// The query's text starts with a comment naming this read; a final
/// function hands over only when the query it runs in carries that name
/// ([`expects_handoff`]), so the same aggregates in the source's own
/// subqueries (or in a read nested inside this one) answer as usual.
fn run_baskets_agg(sql: &str, args: &[DatumWithOid<'static>]) -> Result<Partial, RarError> {
    /// Puts back the mark and the slot of an enclosing read however the
    /// query ends (an error unwinds through): a read may run inside another
    /// (a view over a function that calls rar_mine).
    struct Expecting {
        outer_mark: Option<String>,
        outer: Option<Partial>,
    }
    impl Drop for Expecting {
        fn drop(&mut self) {
            EXPECTING.with(|e| *e.borrow_mut() = self.outer_mark.take());
            HANDOFF.with(|h| *h.borrow_mut() = self.outer.take());
        }
    }
    let mark = read_mark();
    let sql = format!("/* {mark} */ {sql}");
    let expecting = Expecting { outer_mark: EXPECTING.with(|e| e.replace(Some(mark))), outer: take_handoff() };
    let result = Spi::connect(|client| {
        let t = client.select(&sql, None, args)?;
        if t.is_empty() || t.columns()? == 0 {
            return Ok(None);
        }
        // rar.baskets returns a line count; rar.baskets_shared NULL, or
        // bytes where the final function ran on another node.
        Ok::<_, pgrx::spi::SpiError>(if t.column_type_oid(1)?.value() == pg_sys::BYTEAOID {
            t.first().get::<Vec<u8>>(1)?.map(Answer::Bytes)
        } else {
            t.first().get::<i64>(1)?.map(Answer::Lines)
        })
    });
    let handed = take_handoff();
    drop(expecting);
    match (result?, handed) {
        (_, Some(p)) => Ok(p),
        (Some(Answer::Bytes(bytes)), None) => crate::api::aggregate::read_state(&bytes),
        // Lines read, and the final function kept them: never mine nothing
        // in their place.
        (Some(Answer::Lines(n)), None) if n > 0 => Err(RarError::Unsupported {
            message: "rar read the source's lines but its aggregate did not hand them over",
            hint: "The plan of the read is not one rar knows: report it, with EXPLAIN of SELECT rar.baskets(basket, item) FROM the source.",
        }),
        // No lines, or no input rows (the final function got NULL).
        _ => Ok(Partial::default()),
    }
}

/// What the reader's query answered besides a handoff.
enum Answer {
    Lines(i64),
    Bytes(Vec<u8>),
}

/// A name for one read, unique in the backend and not guessable.
fn read_mark() -> String {
    use std::hash::{BuildHasher, Hasher};
    static READS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = READS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let salt = std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("rar read {n} {salt:016x}")
}

thread_local! {
    /// Baskets from the final function of `rar.baskets` or
    /// `rar.baskets_shared`, for the `rar_mine` call that ran the aggregate
    /// in this backend ([`run_baskets_agg`]).
    static HANDOFF: std::cell::RefCell<Option<Partial>> = const { std::cell::RefCell::new(None) };
    /// The name of the read in progress in this backend, if any.
    static EXPECTING: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Called by the final functions: the merged baskets, for the reader that
/// ran the aggregate.
pub fn hand_over(p: Partial) {
    HANDOFF.with(|h| *h.borrow_mut() = Some(p));
}

/// Whether this final function call finishes the aggregate of the read in
/// progress: the query it runs in is the reader's (else it runs on a Citus
/// worker for a coordinator, in a subquery of the source, or by hand).
///
/// # Safety
/// `fcinfo` is the call's own, as PostgreSQL passed it.
pub unsafe fn expects_handoff(fcinfo: pg_sys::FunctionCallInfo) -> bool {
    EXPECTING.with(|e| {
        let e = e.borrow();
        let Some(mark) = e.as_deref() else { return false };
        query_text(fcinfo).is_some_and(|text| text.contains(mark))
    })
}

/// The text of the query an aggregate's final function runs in, when the
/// aggregate is that query's top plan node (the reader's `SELECT
/// rar.baskets(...) FROM ...`; not an aggregate in one of its subqueries).
unsafe fn query_text<'a>(fcinfo: pg_sys::FunctionCallInfo) -> Option<&'a str> {
    let ctx = (*fcinfo).context;
    if ctx.is_null() || (*ctx).type_ != pg_sys::NodeTag::T_AggState {
        return None;
    }
    let agg = &*(ctx as *mut pg_sys::AggState);
    let estate = agg.ss.ps.state;
    if estate.is_null() || (*estate).es_sourceText.is_null() || (*estate).es_plannedstmt.is_null() {
        return None;
    }
    if !std::ptr::eq(agg.ss.ps.plan, (*(*estate).es_plannedstmt).planTree) {
        return None;
    }
    std::ffi::CStr::from_ptr((*estate).es_sourceText).to_str().ok()
}

fn take_handoff() -> Option<Partial> {
    HANDOFF.with(|h| h.borrow_mut().take())
}

/// Whether the relation `$1`, or a relation a view's rule reads (at any
/// depth), is in Citus's metadata, and the catalog has `rar.baskets_shared`
/// (a 0.1.0 catalog, before `ALTER EXTENSION rar UPDATE`, does not: its
/// reads gather the lines, as 0.1.0 did).
const CITUS_RELATIONS: &str = r"
WITH RECURSIVE rels(oid) AS (
    SELECT $1::pg_catalog.oid
    UNION
    SELECT d.refobjid
    FROM rels
    JOIN pg_catalog.pg_rewrite r ON r.ev_class OPERATOR(pg_catalog.=) rels.oid
    JOIN pg_catalog.pg_depend d
      ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
     AND d.objid OPERATOR(pg_catalog.=) r.oid
     AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
)
SELECT pg_catalog.to_regtype('rar.basket_state') IS NOT NULL AND EXISTS (
    SELECT FROM rels JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid OPERATOR(pg_catalog.=) rels.oid
)";

/// Whether `src` is a Citus table (distributed, reference or managed by the
/// coordinator), or a view over one (at any depth): Citus is loaded and
/// lists the table in its metadata.
pub fn is_citus_table(src: &Source) -> Result<bool, RarError> {
    if !citus_installed()? {
        return Ok(false);
    }
    Ok(crate::spi::one_kept::<bool>(CITUS_RELATIONS, &[src.oid.into()])?.unwrap_or(false))
}

/// Whether Citus's metadata is in this database (queries naming it would
/// not parse without it).
pub fn citus_installed() -> Result<bool, RarError> {
    Ok(crate::spi::one_kept::<bool>("SELECT pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL", &[])?
        .unwrap_or(false))
}

fn read_long(
    src: &Source,
    tid: &str,
    item: &str,
    cond: Option<&str>,
    args: &[DatumWithOid<'static>],
    memory_limit: u64,
) -> Result<Partial, RarError> {
    let cols = format!("{}, {}", key_arg(src, tid), agg_arg(src, item));
    let filter = cond.map(|c| format!(" WHERE {c}")).unwrap_or_default();
    if is_citus_table(src)? {
        // Citus pushes this one down: each worker encodes its shards and
        // sends their baskets as one rar.basket_state (see
        // api::basket_state); the coordinator merges them.
        return run_baskets_agg(&format!("SELECT rar.baskets_shared({cols}) FROM {}{filter}", src.quoted), args);
    }
    let (leaves, _bound) = foreign_leaves(src)?;
    if leaves.is_empty() {
        return run_baskets_agg(&format!("SELECT rar.baskets({cols}) FROM {}{filter}", src.quoted), args);
    }
    let mut all = Partial::default();
    for (leaf, foreign) in leaves {
        let part = if foreign {
            let sql = format!("SELECT rar.baskets_state({cols}) FROM ONLY {leaf}{filter}");
            let bytes: Option<Vec<u8>> =
                Spi::connect(|client| client.select(&sql, None, args)?.first().get::<Vec<u8>>(1))?;
            match bytes {
                Some(b) => crate::api::aggregate::read_state(&b)?,
                None => Partial::default(),
            }
        } else {
            run_baskets_agg(&format!("SELECT rar.baskets({cols}) FROM ONLY {leaf}{filter}"), args)?
        };
        all.merge(part)?;
        check_for_interrupts!();
        if all.baskets.heap_bytes() as u64 > memory_limit {
            return Err(RarError::InputTooLarge { lines: all.baskets.n_lines(), limit_bytes: memory_limit });
        }
    }
    Ok(all)
}
