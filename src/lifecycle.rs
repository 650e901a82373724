//! What `DROP EXTENSION rar` does with user work: it refuses, unless
//! CASCADE is given, while the catalog holds anything a user made (models,
//! rule sets, sources, splits, encodings, cleaning runs, tuning trials), so
//! that trained models are never deleted by a plain DROP. The event trigger
//! `rar_drop_guard` (created in `sql/lifecycle.sql`) calls [`rar_drop_guard`]
//! at the start of every `DROP EXTENSION` in the database.

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

/// Whether the statement of an event trigger call is `DROP EXTENSION` of
/// `rar` without CASCADE.
///
/// # Safety
/// `fcinfo` is the call's FunctionCallInfo.
unsafe fn plain_drop_of_rar(fcinfo: pg_sys::FunctionCallInfo) -> bool {
    // SAFETY: every pointer is checked for NULL and its node tag before use;
    // the parse tree lives for the statement.
    unsafe {
        let ctx = (*fcinfo).context;
        if ctx.is_null() || (*ctx).type_ != pg_sys::NodeTag::T_EventTriggerData {
            return false;
        }
        let tree = (*(ctx as *mut pg_sys::EventTriggerData)).parsetree;
        if tree.is_null() || (*tree).type_ != pg_sys::NodeTag::T_DropStmt {
            return false;
        }
        let stmt = tree as *mut pg_sys::DropStmt;
        if (*stmt).removeType != pg_sys::ObjectType::OBJECT_EXTENSION
            || (*stmt).behavior == pg_sys::DropBehavior::DROP_CASCADE
        {
            return false;
        }
        let list = (*stmt).objects;
        if list.is_null() {
            return false;
        }
        (0..(*list).length as usize).any(|i| {
            let node = (*(*list).elements.add(i)).ptr_value as *mut pg_sys::Node;
            !node.is_null()
                && (*node).type_ == pg_sys::NodeTag::T_String
                && !(*(node as *mut pg_sys::String)).sval.is_null()
                && CStr::from_ptr((*(node as *mut pg_sys::String)).sval).to_bytes() == b"rar"
        })
    }
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
    if unsafe { plain_drop_of_rar(fcinfo) } {
        let work: Option<String> = crate::spi::one(USER_WORK, &[]).or_raise();
        if let Some(work) = work.filter(|w| !w.is_empty()) {
            crate::error::RarError::DropWouldDelete { work }.raise();
        }
    }
    pg_sys::Datum::from(0usize)
}
