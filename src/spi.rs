//! The one way the extension runs SQL. Statements are built from quoted
//! identifiers, with every value passed as a parameter (`$1`, `$2`, ...);
//! failures come back as [`RarError`]; and [`pin_search_path`] makes every
//! statement of a call resolve names in `pg_catalog` (and the session's
//! own temporary schema) only, whatever the caller's `search_path`, so that
//! no object a role created can stand in for an operator or function the
//! extension uses. The extension's own functions are named through
//! [`ext_schema`], its catalog through the schema `rar`, user relations
//! schema-qualified.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use pgrx::datum::{DatumWithOid, FromDatum, IntoDatum};
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::spi::{quote_identifier, OwnedPreparedStatement, SpiClient, SpiResult, SpiTupleTable};
use pgrx::PgOid;

use crate::error::RarError;

/// Runs a statement; returns the number of rows it processed.
pub fn exec_count(sql: &str, args: &[DatumWithOid]) -> Result<i64, RarError> {
    Ok(Spi::connect_mut(|client| client.update(sql, None, args).map(|t| t.len() as i64))?)
}

/// Runs a statement.
pub fn exec(sql: &str, args: &[DatumWithOid]) -> Result<(), RarError> {
    exec_count(sql, args).map(|_| ())
}

/// The first column of the first row of a query (None for no row or NULL).
pub fn one<T: FromDatum + IntoDatum>(sql: &str, args: &[DatumWithOid]) -> Result<Option<T>, RarError> {
    Spi::connect(|client| first_value(client.select(sql, Some(1), args)?)).map_err(RarError::from)
}

/// The first column of a result's first row (None for no row or NULL).
fn first_value<T: FromDatum + IntoDatum>(t: SpiTupleTable) -> SpiResult<Option<T>> {
    if t.is_empty() {
        return Ok(None);
    }
    t.first().get::<T>(1)
}

/// Statements planned at most once per backend: [`select_kept`].
const KEPT_PLANS: usize = 64;

thread_local! {
    /// The kept plans, by statement text and argument types.
    static KEPT: RefCell<HashMap<(String, Vec<pg_sys::Oid>), Rc<OwnedPreparedStatement>>> =
        RefCell::new(HashMap::new());
}

/// Runs `sql`, a query whose text the code fixes (a catalog query: no
/// names or values in it, every value a parameter), through a plan kept
/// for the life of the backend: a call's fixed cost was mostly parsing and
/// planning the same catalog queries again. PostgreSQL's plan cache
/// replans a kept statement after any change to what it reads (catalog
/// rows, the role for row security, the search path), so that it answers
/// as a fresh one would. At most [`KEPT_PLANS`] are kept (all dropped when
/// full). Not for queries of user tables: kept plans are never parallel.
pub fn select_kept<'conn>(
    client: &SpiClient<'conn>,
    sql: &str,
    limit: Option<i64>,
    args: &[DatumWithOid],
) -> SpiResult<SpiTupleTable<'conn>> {
    let key = (sql.to_string(), args.iter().map(|a| a.oid()).collect::<Vec<_>>());
    let plan = match KEPT.with(|k| k.borrow().get(&key).cloned()) {
        Some(plan) => plan,
        None => {
            let types: Vec<PgOid> = key.1.iter().map(|&o| PgOid::from(o)).collect();
            let plan = Rc::new(client.prepare(sql, &types)?.keep());
            KEPT.with(|k| {
                let mut k = k.borrow_mut();
                if k.len() >= KEPT_PLANS {
                    k.clear();
                }
                k.insert(key, Rc::clone(&plan));
            });
            plan
        }
    };
    // The map is not borrowed while the statement runs: it may call a
    // function that runs this code again. One generic plan, made at the
    // first execution: PostgreSQL's plan cache would plan each of the
    // first five executions for its values (a backend's first calls spent
    // 8 to 20 ms more than later ones doing so), and these catalog
    // queries look up rows by key, which a generic plan does as well.
    let _generic = GucLevel::open(&[(c"plan_cache_mode", c"force_generic_plan")]);
    client.select(&*plan, limit, args)
}

/// Runs `f` with the latest committed state as the snapshot of its
/// statements (those of [`one`], [`select_kept`] and the like, which read
/// under the statement's snapshot otherwise). For what rar decides about a
/// relation's definition once it holds the relation's lock: the statement's
/// snapshot was taken before the lock wait, and would not show what was
/// committed during it (a new index, a changed type), which the planner
/// and executor then use.
pub fn with_latest_snapshot<T>(f: impl FnOnce() -> T) -> T {
    struct Pushed;
    impl Drop for Pushed {
        fn drop(&mut self) {
            // On an error the (sub)transaction's abort pops it.
            if !std::thread::panicking() {
                // SAFETY: pops the snapshot pushed below.
                unsafe { pg_sys::PopActiveSnapshot() };
            }
        }
    }
    // In parallel mode (rar's reading functions are PARALLEL UNSAFE: only a
    // caller's own PARALLEL SAFE function calling rar in a parallel plan
    // gets here) no snapshot can be taken: the statement's stands, and a
    // call that had to wait for its lock there is refused
    // ([`crate::relation`]'s lock_for_read).
    // SAFETY: reads this backend's parallel mode flag.
    if unsafe { pg_sys::IsInParallelMode() } {
        return f();
    }
    // SAFETY: PushActiveSnapshot copies the static latest snapshot.
    unsafe { pg_sys::PushActiveSnapshot(pg_sys::GetLatestSnapshot()) };
    let _pushed = Pushed;
    f()
}

/// As [`one`], through a kept plan ([`select_kept`]).
pub fn one_kept<T: FromDatum + IntoDatum>(sql: &str, args: &[DatumWithOid]) -> Result<Option<T>, RarError> {
    Spi::connect(|client| first_value(select_kept(client, sql, Some(1), args)?)).map_err(RarError::from)
}

/// A query returning one bigint (a count): 0 when it returns NULL.
pub fn count(sql: &str, args: &[DatumWithOid]) -> Result<i64, RarError> {
    Ok(one::<i64>(sql, args)?.unwrap_or(0))
}

/// Whether the extension's catalog table `rar.<table>` has `column`: false
/// between a new library and `ALTER EXTENSION rar UPDATE` from a version
/// without it, when the library must still work with the old catalog.
pub fn catalog_has_column(table: &str, column: &str) -> Result<bool, RarError> {
    Ok(one::<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace \
         WHERE n.nspname OPERATOR(pg_catalog.=) 'rar' AND c.relname OPERATOR(pg_catalog.=) $1 \
           AND a.attname OPERATOR(pg_catalog.=) $2 AND NOT a.attisdropped)",
        &[table.into(), column.into()],
    )?
    .unwrap_or(false))
}

/// The role the call runs as (`CURRENT_USER`), for messages and hints.
pub fn current_user() -> Result<String, RarError> {
    Ok(one::<String>("SELECT CURRENT_USER::pg_catalog.text", &[])?.unwrap_or_default())
}

/// The schema the extension's functions live in, quoted for SQL text.
pub fn ext_schema() -> Result<String, RarError> {
    // Its name stays its own while this transaction runs (a rename during
    // the call would steer the SQL built from it elsewhere).
    Ok(quote_identifier(&crate::bindings::extension_schema(None)?))
}

/// Settings saved at a GUC nest level of their own while alive (the
/// pattern of `fmgr_security_definer`): undone when dropped, or on an error
/// by the transaction's (or subtransaction's) abort, which pops the level.
pub struct GucLevel {
    nest_level: i32,
}

impl GucLevel {
    /// Opens a nest level and sets each `(name, value)` at it.
    pub fn open(settings: &[(&std::ffi::CStr, &std::ffi::CStr)]) -> GucLevel {
        // SAFETY: a new GUC nest level, the settings saved at it, undone by
        // AtEOXact_GUC(true, level) in `drop`.
        unsafe {
            let level = GucLevel { nest_level: pg_sys::NewGUCNestLevel() };
            for &(name, value) in settings {
                save_setting(name, value);
            }
            level
        }
    }

    /// Sets `name` to `value` for as long as the level lives.
    pub fn set(&self, name: &std::ffi::CStr, value: &std::ffi::CStr) {
        // SAFETY: a setting saved at this level, undone with it.
        unsafe { save_setting(name, value) };
    }
}

impl Drop for GucLevel {
    fn drop(&mut self) {
        // On an error PostgreSQL's abort processing pops the nest level.
        if !std::thread::panicking() {
            // SAFETY: undoes the nest level opened by `open`.
            unsafe { pg_sys::AtEOXact_GUC(true, self.nest_level) };
        }
    }
}

/// Pins the settings of the rest of the calling function: its statements
/// see `pg_catalog, pg_temp` as their search path (PostgreSQL does the same
/// for a function with a `SET search_path` clause), print floats exactly
/// (`extra_float_digits = 1`: rows compared by their text, as `rar_restore`
/// does, must not collide), and dates, times and intervals in one style
/// (`DateStyle = ISO`, `IntervalStyle = postgres`, `TimeZone = UTC`: a
/// basket id's text, which splits hash, must not depend on the session),
/// and never run a whole statement in one parallel worker
/// (`force_parallel_mode = off`: the reader's aggregate hands its baskets
/// over in this process, never through a single-copy Gather).
pub fn pin_search_path() -> GucLevel {
    GucLevel::open(&[
        (c"search_path", c"pg_catalog, pg_temp"),
        (c"extra_float_digits", c"1"),
        (c"DateStyle", c"ISO"),
        (c"IntervalStyle", c"postgres"),
        (c"TimeZone", c"UTC"),
        (c"force_parallel_mode", c"off"),
    ])
}

/// Sets `name` to `value`, saved at the current GUC nest level (undone
/// when that level ends).
///
/// # Safety
/// A nest level opened by [`GucLevel::open`] must be current.
unsafe fn save_setting(name: &std::ffi::CStr, value: &std::ffi::CStr) {
    pg_sys::set_config_option(
        name.as_ptr(),
        value.as_ptr(),
        pg_sys::GucContext::PGC_USERSET,
        pg_sys::GucSource::PGC_S_SESSION,
        pg_sys::GucAction::GUC_ACTION_SAVE,
        true,
        0,
        false,
    );
}
