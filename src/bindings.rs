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
//! So while a [`Binding`] lives, every statement this backend parses whose
//! text names the schema (`"schema".`) is checked, right after its parse
//! (`post_parse_analyze_hook`, which also runs when a cached plan is parsed
//! again), to see the name still bound to the schema checked; else the
//! statement fails with 40001 before it plans or runs anything. A binding
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
    // SAFETY: the parse state and its source text live through the hook.
    let text = unsafe {
        if pstate.is_null() || (*pstate).p_sourcetext.is_null() {
            return;
        }
        CStr::from_ptr((*pstate).p_sourcetext).to_bytes()
    };
    let moved = BOUND.with(|b| {
        b.borrow()
            .iter()
            .filter(|x| names(text, &x.prefix))
            // SAFETY: a syscache lookup by name, None when it names none;
            // the same caches the parse just used.
            .find(|x| unsafe { pg_sys::get_namespace_oid(x.schema.as_ptr(), true) } != x.namespace)
            .map(|x| RarError::SchemaRenamed {
                schema: x.schema.to_string_lossy().into_owned(),
                relation: x.relation.clone(),
            })
    });
    if let Some(e) = moved {
        e.raise();
    }
}

/// Whether `text` holds `prefix` (a quoted schema name and its dot).
fn names(text: &[u8], prefix: &[u8]) -> bool {
    !prefix.is_empty() && text.windows(prefix.len()).any(|w| w == prefix)
}
