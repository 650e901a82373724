//! What `DROP EXTENSION rar` does with user work: it refuses, unless
//! CASCADE is given, while the catalog holds anything a user made (models,
//! rule sets, sources, splits, encodings, cleaning runs, tuning trials), so
//! that trained models are never deleted by a plain DROP; nor by `DROP
//! SCHEMA ... CASCADE` of its schema or `DROP OWNED BY` its owner, which drop
//! it along with other objects. The event trigger `rar_drop_guard` (created
//! in `sql/lifecycle.sql`, enabled ALWAYS) calls [`rar_drop_guard`] at the
//! start of each of those statements in the database.

use std::ffi::CStr;

use pgrx::pg_sys;
use pgrx::prelude::*;

use crate::error::OrRaise;

/// What the catalog holds, table by table, for the error's DETAIL.
const USER_WORK: &str = "SELECT pg_catalog.concat_ws(', ', \
     nullif(pg_catalog.format('%s models', (SELECT pg_catalog.count(*) FROM rar.models)), '0 models'), \
     nullif(pg_catalog.format('%s rule sets', (SELECT pg_catalog.count(*) FROM rar.rule_sets)), '0 rule sets'), \
     nullif(pg_catalog.format('%s sources', (SELECT pg_catalog.count(*) FROM rar.sources)), '0 sources'), \
     nullif(pg_catalog.format('%s splits', (SELECT pg_catalog.count(*) FROM rar.splits)), '0 splits'), \
     nullif(pg_catalog.format('%s encodings', (SELECT pg_catalog.count(*) FROM rar.encodings)), '0 encodings'), \
     nullif(pg_catalog.format('%s cleaning runs', (SELECT pg_catalog.count(*) FROM rar.clean_log)), '0 cleaning runs'), \
     nullif(pg_catalog.format('%s tuning trials', (SELECT pg_catalog.count(*) FROM rar.tuning_trials)), '0 tuning trials'))";

/// The schema of the extension's functions, its owner, the owners of that
/// schema and of `rar`, and the extensions it requires.
const EXTENSION: &str = "SELECT n.nspname::pg_catalog.text, e.extowner, n.nspowner, \
            (SELECT r.nspowner FROM pg_catalog.pg_namespace r WHERE r.nspname OPERATOR(pg_catalog.=) 'rar'), \
            ARRAY(SELECT x.extname::pg_catalog.text FROM pg_catalog.pg_depend d \
                  JOIN pg_catalog.pg_extension x ON x.oid OPERATOR(pg_catalog.=) d.refobjid \
                  WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass \
                    AND d.objid OPERATOR(pg_catalog.=) e.oid \
                    AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass) \
     FROM pg_catalog.pg_extension e \
     JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace \
     WHERE e.extname OPERATOR(pg_catalog.=) 'rar'";

/// What [`EXTENSION`] reads.
struct Extension {
    schema: String,
    /// The extension's owner and the owners of its two schemas: `DROP
    /// OWNED BY` any of them drops it.
    owners: [pg_sys::Oid; 3],
    requires: Vec<String>,
}

/// Whether the list `list` of `String` nodes names `name`.
///
/// # Safety
/// `list` is NULL or a List of nodes.
unsafe fn names(list: *mut pg_sys::List, name: &[u8]) -> bool {
    // SAFETY: every node is checked for NULL and its tag before use.
    unsafe {
        !list.is_null()
            && (0..(*list).length as usize).any(|i| {
                let node = (*(*list).elements.add(i)).ptr_value as *mut pg_sys::Node;
                !node.is_null()
                    && (*node).type_ == pg_sys::NodeTag::T_String
                    && !(*(node as *mut pg_sys::String)).sval.is_null()
                    && CStr::from_ptr((*(node as *mut pg_sys::String)).sval).to_bytes() == name
            })
    }
}

/// The statement of an event trigger call, when it would drop the extension
/// `rar` without naming it with CASCADE: `DROP EXTENSION rar` without
/// CASCADE, `DROP SCHEMA ... CASCADE` of its schema (or of `rar`), `DROP
/// OWNED BY` its owner.
///
/// # Safety
/// `fcinfo` is the call's FunctionCallInfo.
unsafe fn drop_of_rar(fcinfo: pg_sys::FunctionCallInfo) -> Option<&'static str> {
    // SAFETY: every pointer is checked for NULL and its node tag before use;
    // the parse tree lives for the statement.
    unsafe {
        let ctx = (*fcinfo).context;
        if ctx.is_null() || (*ctx).type_ != pg_sys::NodeTag::T_EventTriggerData {
            return None;
        }
        let tree = (*(ctx as *mut pg_sys::EventTriggerData)).parsetree;
        if tree.is_null() {
            return None;
        }
        if (*tree).type_ == pg_sys::NodeTag::T_DropStmt {
            let stmt = tree as *mut pg_sys::DropStmt;
            let cascade = (*stmt).behavior == pg_sys::DropBehavior::DROP_CASCADE;
            match (*stmt).removeType {
                pg_sys::ObjectType::OBJECT_EXTENSION if !cascade && names((*stmt).objects, b"rar") => {
                    return Some("drop extension rar");
                }
                // An extension rar requires, with CASCADE, takes rar along.
                pg_sys::ObjectType::OBJECT_EXTENSION if cascade => {
                    let ext = extension()?;
                    if ext.requires.iter().any(|r| names((*stmt).objects, r.as_bytes())) {
                        return Some("drop an extension that extension rar requires");
                    }
                }
                pg_sys::ObjectType::OBJECT_SCHEMA if cascade => {
                    let ext = extension()?;
                    if names((*stmt).objects, ext.schema.as_bytes()) || names((*stmt).objects, b"rar") {
                        return Some("drop the schema of extension rar");
                    }
                }
                _ => {}
            }
            return None;
        }
        if (*tree).type_ == pg_sys::NodeTag::T_DropOwnedStmt {
            let ext = extension()?;
            let roles = (*(tree as *mut pg_sys::DropOwnedStmt)).roles;
            let owns = !roles.is_null()
                && (0..(*roles).length as usize).any(|i| {
                    let spec = (*(*roles).elements.add(i)).ptr_value as *mut pg_sys::RoleSpec;
                    !spec.is_null() && {
                        let role = pg_sys::get_rolespec_oid(spec, true);
                        role != pg_sys::InvalidOid && ext.owners.contains(&role)
                    }
                });
            return owns.then_some("drop the objects of a role that owns extension rar or its schema");
        }
        None
    }
}

/// The extension's schema, owners and requirements (None while it is not
/// installed).
fn extension() -> Option<Extension> {
    Spi::connect(|client| {
        let t = client.select(EXTENSION, Some(1), &[])?;
        if t.is_empty() {
            return Ok(None);
        }
        let row = t.first();
        let none = pg_sys::InvalidOid;
        Ok::<_, pgrx::spi::SpiError>(row.get::<String>(1)?.map(|schema| {
            Extension {
                schema,
                owners: [1, 2, 3].map(|k| row.get::<pg_sys::Oid>(k + 1).ok().flatten().unwrap_or(none)),
                // Its functions are written in PL/pgSQL: the language's
                // extension, dropped with CASCADE, takes them and rar along.
                requires: row
                    .get::<Vec<String>>(5)
                    .ok()
                    .flatten()
                    .unwrap_or_default()
                    .into_iter()
                    .chain(["plpgsql".into()])
                    .collect(),
            }
        }))
    })
    .ok()
    .flatten()
}

#[no_mangle]
pub extern "C" fn pg_finfo_rar_drop_guard() -> &'static pg_sys::Pg_finfo_record {
    const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
    &V1
}

/// The event trigger function: raises 2BP01 for a plain `DROP EXTENSION rar`
/// while user work exists.
///
/// # Safety
/// Called by PostgreSQL's function manager as an event trigger.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn rar_drop_guard(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    // SAFETY: fcinfo comes from the function manager.
    if let Some(by) = unsafe { drop_of_rar(fcinfo) } {
        let _pinned = crate::spi::pin_search_path();
        // Every role's work counts, not the rows the caller's row security
        // shows (a database owner's DROP SCHEMA ... CASCADE would delete
        // every role's models): counted as the extension's owner, who owns
        // the catalog tables, in a restricted context.
        let owner = extension().map(|e| e.owners[0]);
        let (mut user, mut context) = (pg_sys::InvalidOid, 0);
        // SAFETY: PostgreSQL's pattern for running a fixed internal query as
        // another role (as its foreign key checks do); an error's abort
        // puts the user back.
        unsafe {
            pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
            if let Some(owner) = owner {
                pg_sys::SetUserIdAndSecContext(
                    owner,
                    context
                        | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32
                        | pg_sys::SECURITY_RESTRICTED_OPERATION as i32,
                );
            }
        }
        let work: Result<Option<String>, _> = crate::spi::one(USER_WORK, &[]);
        // SAFETY: puts back what was saved above.
        unsafe { pg_sys::SetUserIdAndSecContext(user, context) };
        let work = work.or_raise();
        if let Some(work) = work.filter(|w| !w.is_empty()) {
            crate::error::RarError::DropWouldDelete { work, by }.raise();
        }
    }
    pg_sys::Datum::from(0usize)
}
