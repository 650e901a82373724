//! The schemas rar's SQL names stay the schemas it checked.
//!
//! rar checks and locks a relation by its OID ([`crate::relation`]), then
//! reads (or writes) it by name in SQL text: `"schema"."table"`. The lock
//! keeps the table's own name and schema, but not the schema's name: its
//! owner may rename it, and give its name to another schema holding a
//! table of the same name, between the checks and the statement's parse.
//! The statement would then reach that other table: a superuser's call
//! would run the code the checks refused there, and the basket cache would
//! keep its baskets under the checked table's OID.
//!
//! So while a [`Binding`] lives, every statement this backend parses is
//! checked right after its parse (`post_parse_analyze_hook`, which also
//! runs when a cached plan is parsed again): when the name now names
//! another schema than the one checked (one syscache lookup; the text is
//! read only then), a statement whose own text names it (`"schema".`, where
//! a name starts) fails with 40001 before it plans or runs anything. A binding
//! ends with the [`crate::relation::Source`] holding it, or, kept
//! ([`Binding::keep_to_transaction_end`]), when the transaction ends.

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString};

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::error::RarError;

struct Bound {
    id: u64,
    /// The schema's name as SQL text names it, with the dot: `"Sales".`.
    prefix: Vec<u8>,
    schema: CString,
    namespace: pg_sys::Oid,
    /// The relation, for the message.
    relation: String,
    to_transaction_end: bool,
    /// The subtransaction that made it: a kept binding ends when it aborts
    /// (with the locks it kept).
    subxact: pg_sys::SubTransactionId,
}

thread_local! {
    static BOUND: RefCell<Vec<Bound>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

static mut PREVIOUS_HOOK: pg_sys::post_parse_analyze_hook_type = None;

/// A schema name bound to a schema for as long as it lives.
#[derive(Default)]
pub struct Binding(Option<u64>);

impl Binding {
    /// Binds the name `schema` (the name rar's SQL gives the relation's
    /// schema) to the schema `namespace`, for statements that reach
    /// `relation` (its display name, for the message); an error when the
    /// name is bound to another schema already.
    pub fn new(schema: &str, namespace: pg_sys::Oid, relation: &str) -> Result<Binding, RarError> {
        let moved = || RarError::SchemaRenamed { schema: schema.to_string(), relation: relation.to_string() };
        let name = CString::new(schema).map_err(|_| moved())?;
        // SAFETY: a syscache lookup by name, None when it names none.
        if unsafe { pg_sys::get_namespace_oid(name.as_ptr(), true) } != namespace {
            return Err(moved());
        }
        let id = NEXT_ID.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        BOUND.with(|b| {
            b.borrow_mut().push(Bound {
                id,
                prefix: format!("{}.", pgrx::spi::quote_identifier(schema)).into_bytes(),
                schema: name,
                namespace,
                relation: relation.to_string(),
                to_transaction_end: false,
                // SAFETY: reads this backend's current subtransaction id.
                subxact: unsafe { pg_sys::GetCurrentSubTransactionId() },
            })
        });
        Ok(Binding(Some(id)))
    }

    /// Keeps the binding to the end of the transaction (with the locks
    /// `rar.lock_for_read` keeps for SQL that reads the relation later).
    pub fn keep_to_transaction_end(&mut self) {
        if let Some(id) = self.0.take() {
            BOUND.with(|b| b.borrow_mut().iter_mut().filter(|x| x.id == id).for_each(|x| x.to_transaction_end = true));
        }
    }
}

/// Binds, to the end of the transaction, the name `installed` to the
/// extension's own schema: the name its install script gave `@extschema@`
/// (which its PL/pgSQL bodies name its functions by, as rar's Rust code
/// does through [`crate::spi::ext_schema`]). An error when the schema is
/// no longer named so: its owner (in PostgreSQL 15, `public`'s is the
/// database's owner) could have renamed it and made a schema of that name
/// with functions of its own, which rar's calls would reach.
pub fn bind_extension_schema(installed: &str) -> Result<(), RarError> {
    extension_schema(Some(installed)).map(|_| ())
}

/// The name of the extension's schema now, bound to it to the end of the
/// transaction; an error when `expected` is given and is not that name.
pub fn extension_schema(expected: Option<&str>) -> Result<String, RarError> {
    let row: Option<(pg_sys::Oid, String)> = Spi::connect(|client| {
        let t = crate::spi::select_kept(
            client,
            "SELECT e.extnamespace, n.nspname::pg_catalog.text FROM pg_catalog.pg_extension e \
             JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace \
             WHERE e.extname OPERATOR(pg_catalog.=) 'rar'",
            Some(1),
            &[],
        )?;
        if t.is_empty() {
            return Ok::<_, pgrx::spi::SpiError>(None);
        }
        let r = t.first();
        Ok(Some((r.get::<pg_sys::Oid>(1)?.unwrap_or(pg_sys::InvalidOid), r.get::<String>(2)?.unwrap_or_default())))
    })?;
    let (namespace, now) = row.ok_or(RarError::NotInstalled)?;
    // The install script writes `@extschema@` as SQL quotes it.
    if let Some(installed) = expected.filter(|&i| i != now && i != pgrx::spi::quote_identifier(&now)) {
        return Err(RarError::ExtensionSchemaRenamed { installed: installed.to_string(), now });
    }
    let held = BOUND.with(|b| {
        b.borrow()
            .iter()
            .any(|x| x.to_transaction_end && x.namespace == namespace && x.schema.as_bytes() == now.as_bytes())
    });
    if !held {
        Binding::new(&now, namespace, "the functions of extension rar")?.keep_to_transaction_end();
    }
    Ok(now)
}

impl Drop for Binding {
    fn drop(&mut self) {
        if let Some(id) = self.0 {
            BOUND.with(|b| b.borrow_mut().retain(|x| x.id != id));
        }
    }
}

/// Installs the check after each parse and the end of kept bindings at the
/// end of each transaction.
pub fn init() {
    // SAFETY: _PG_init runs once per backend, before any statement; the
    // previous hook is kept and called first.
    unsafe {
        PREVIOUS_HOOK = pg_sys::post_parse_analyze_hook;
        pg_sys::post_parse_analyze_hook = Some(check_bindings);
        pg_sys::RegisterXactCallback(Some(end_of_transaction), std::ptr::null_mut());
        pg_sys::RegisterSubXactCallback(Some(end_of_subtransaction), std::ptr::null_mut());
    }
}

/// A subtransaction's abort ends the bindings it (or one it started) kept:
/// their locks are given back too. Subtransaction ids grow within a
/// transaction, and any subtransaction begun after the aborting one, and
/// not ended, is inside it.
#[pg_guard]
unsafe extern "C-unwind" fn end_of_subtransaction(
    event: pg_sys::SubXactEvent::Type,
    sub: pg_sys::SubTransactionId,
    _parent: pg_sys::SubTransactionId,
    _arg: *mut std::ffi::c_void,
) {
    if event == pg_sys::SubXactEvent::SUBXACT_EVENT_ABORT_SUB {
        BOUND.with(|b| b.borrow_mut().retain(|x| !(x.to_transaction_end && x.subxact >= sub)));
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn end_of_transaction(event: pg_sys::XactEvent::Type, _arg: *mut std::ffi::c_void) {
    use pg_sys::XactEvent::*;
    if matches!(
        event,
        XACT_EVENT_COMMIT
            | XACT_EVENT_ABORT
            | XACT_EVENT_PREPARE
            | XACT_EVENT_PARALLEL_COMMIT
            | XACT_EVENT_PARALLEL_ABORT
    ) {
        BOUND.with(|b| b.borrow_mut().retain(|x| !x.to_transaction_end));
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn check_bindings(
    pstate: *mut pg_sys::ParseState,
    query: *mut pg_sys::Query,
    jstate: *mut pg_sys::JumbleState,
) {
    // SAFETY: the previous hook gets what this one got.
    if let Some(previous) = unsafe { PREVIOUS_HOOK } {
        unsafe { previous(pstate, query, jstate) };
    }
    if pstate.is_null() || query.is_null() || BOUND.with(|b| b.borrow().is_empty()) {
        return;
    }
    let moved = BOUND.with(|b| {
        b.borrow().iter().find_map(|x| {
            // SAFETY: a syscache lookup by name, InvalidOid when it names
            // none; the same caches the parse just used. Where the name
            // still names the schema bound (always, but for a rename during
            // a call) nothing more is looked at: no scan of the text.
            let now = unsafe { pg_sys::get_namespace_oid(x.schema.as_ptr(), true) };
            // A name that names no schema now reaches nothing of anyone's
            // (the parse found no relation through it).
            if now == x.namespace || now == pg_sys::InvalidOid {
                return None;
            }
            // SAFETY: the parse state, its source text and the query live
            // through the hook; the statement's own part of a text of
            // several (`stmt_location`, `stmt_len`: 0 to the end) is
            // clamped to the text.
            let statement = unsafe {
                let text = if (*pstate).p_sourcetext.is_null() {
                    return None;
                } else {
                    CStr::from_ptr((*pstate).p_sourcetext).to_bytes()
                };
                let from = usize::try_from((*query).stmt_location).unwrap_or(0).min(text.len());
                let len = usize::try_from((*query).stmt_len).unwrap_or(0);
                let to = if len == 0 { text.len() } else { from.saturating_add(len).min(text.len()) };
                &text[from..to]
            };
            rar_core::names::names_schema(statement, &x.prefix).then(|| {
                let schema = x.schema.to_string_lossy().into_owned();
                let relation = x.relation.clone();
                if written_here(x.namespace) || written_here(now) {
                    RarError::SchemaRenamedHere { schema, relation }
                } else {
                    RarError::SchemaRenamed { schema, relation }
                }
            })
        })
    });
    if let Some(e) = moved {
        e.raise();
    }
}

/// Whether this transaction wrote the catalog row of schema `namespace`
/// (renamed or made it): then the rename is the caller's own, and running
/// the call again would not help.
fn written_here(namespace: pg_sys::Oid) -> bool {
    if namespace == pg_sys::InvalidOid {
        return false;
    }
    // SAFETY: a syscache lookup, released before returning; the row's
    // header is read while the cache holds it.
    unsafe {
        let tuple =
            pg_sys::SearchSysCache1(pg_sys::SysCacheIdentifier::NAMESPACEOID as i32, pg_sys::Datum::from(namespace));
        if tuple.is_null() {
            return false;
        }
        let xmin = (*(*tuple).t_data).t_choice.t_heap.t_xmin;
        pg_sys::ReleaseSysCache(tuple);
        pg_sys::TransactionIdIsCurrentTransactionId(xmin)
    }
}
