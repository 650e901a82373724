//! Arguments of the SQL functions: the checks every entry point shares.
//!
//! Every argument an SQL caller can pass NULL for is an `Option` in Rust
//! and goes through [`required`], so that NULL gets a 22004 error naming the
//! argument and its default instead of an internal error; relations are
//! passed as [`Relation`] (SQL `regclass`), which is not opened until the
//! OID was checked.

use pgrx::callconv::ArgAbi;
use pgrx::datum::{FromDatum, IntoDatum};
use pgrx::pg_sys;

use crate::error::RarError;

/// The value of an argument that must not be NULL; `default` is shown in the
/// hint ("none" when the argument has no default).
pub fn required<T>(name: &'static str, default: &'static str, value: Option<T>) -> T {
    value.unwrap_or_else(|| RarError::NullArgument { name, default }.raise())
}

/// An array argument without NULL elements.
pub fn no_null_elements(name: &'static str, values: Vec<Option<String>>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| {
            v.unwrap_or_else(|| {
                RarError::InvalidOption { name, value: "NULL".into(), expected: "non-NULL array elements" }.raise()
            })
        })
        .collect()
}

/// A relation argument (SQL `regclass`), as its OID: unlike pgrx's
/// `PgRelation` it is not opened when the call starts, so an OID that names
/// no relation gets a clear error from [`crate::relation::describe`].
#[derive(Debug, Clone, Copy)]
pub struct Relation(pub pg_sys::Oid);

impl FromDatum for Relation {
    unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, _typoid: pg_sys::Oid) -> Option<Self> {
        if is_null {
            None
        } else {
            Some(Relation(pg_sys::Oid::from(datum.value() as u32)))
        }
    }
}

impl IntoDatum for Relation {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        Some(pg_sys::Datum::from(self.0.to_u32()))
    }
    fn type_oid() -> pg_sys::Oid {
        pg_sys::REGCLASSOID
    }
}

// SAFETY: regclass is a by-value 4-byte OID, read as such; the functions
// taking a Relation take it as `Option<Relation>` (never unboxed from NULL).
unsafe impl<'fcx> ArgAbi<'fcx> for Relation {
    unsafe fn unbox_arg_unchecked(arg: pgrx::callconv::Arg<'_, 'fcx>) -> Self {
        // SAFETY: the argument's type is regclass, as declared below.
        required("source", "none", unsafe { arg.unbox_arg_using_from_datum() })
    }
}

pgrx::impl_sql_translatable!(Relation, arg_only = "regclass");

/// A `jsonb` argument or catalog value, as serde_json's value. Unlike
/// pgrx's `JsonB`, whose conversion panics (an internal error, XX000) on a
/// value serde_json cannot hold (a number beyond double precision, nesting
/// deeper than 128 levels), such a value is a 22023 error in PostgreSQL's
/// words.
#[derive(Debug, Clone)]
pub struct Json(pub serde_json::Value);

impl FromDatum for Json {
    unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, _typoid: pg_sys::Oid) -> Option<Self> {
        if is_null {
            return None;
        }
        // SAFETY: a jsonb datum, as the caller promises.
        let text = unsafe { jsonb_text(datum) }?;
        match serde_json::from_str(&text) {
            Ok(v) => Some(Json(v)),
            Err(e) => RarError::BadJson { message: e.to_string() }.raise(),
        }
    }
}

impl IntoDatum for Json {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        pgrx::JsonB(self.0).into_datum()
    }
    fn type_oid() -> pg_sys::Oid {
        pg_sys::JSONBOID
    }
}

// SAFETY: a jsonb argument, read through FromDatum above; the functions
// taking one take it as `Option<Json>`.
unsafe impl<'fcx> ArgAbi<'fcx> for Json {
    unsafe fn unbox_arg_unchecked(arg: pgrx::callconv::Arg<'_, 'fcx>) -> Self {
        // SAFETY: the argument's type is jsonb, as declared below.
        unsafe { arg.unbox_arg_using_from_datum() }.unwrap_or(Json(serde_json::Value::Null))
    }
}

pgrx::impl_sql_translatable!(Json, arg_only = "jsonb");

/// A jsonb datum as PostgreSQL prints it (`jsonb_out`).
///
/// # Safety
/// `datum` is a non-null jsonb datum.
unsafe fn jsonb_text(datum: pg_sys::Datum) -> Option<String> {
    // SAFETY: a jsonb datum (detoasted by jsonb_out), printed as a C string
    // in the current memory context, copied, then freed.
    unsafe {
        let cstr = pgrx::fcinfo::direct_function_call::<&std::ffi::CStr>(pg_sys::jsonb_out, &[Some(datum)])?;
        let text = cstr.to_string_lossy().into_owned();
        pg_sys::pfree(cstr.as_ptr() as *mut std::ffi::c_void);
        Some(text)
    }
}

/// A `jsonb` argument as its text, numbers as PostgreSQL holds them (to be
/// checked before anything reads them as float8: serde_json rounds 1e-400
/// to 0 where PostgreSQL refuses it).
#[derive(Debug, Clone)]
pub struct JsonText(pub String);

impl FromDatum for JsonText {
    unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, _typoid: pg_sys::Oid) -> Option<Self> {
        if is_null {
            return None;
        }
        // SAFETY: a jsonb datum, as the caller promises.
        unsafe { jsonb_text(datum) }.map(JsonText)
    }
}

// SAFETY: a jsonb argument, read through FromDatum above; the functions
// taking one take it as `Option<JsonText>`.
unsafe impl<'fcx> ArgAbi<'fcx> for JsonText {
    unsafe fn unbox_arg_unchecked(arg: pgrx::callconv::Arg<'_, 'fcx>) -> Self {
        // SAFETY: the argument's type is jsonb, as declared below.
        unsafe { arg.unbox_arg_using_from_datum() }.unwrap_or(JsonText(String::from("null")))
    }
}

pgrx::impl_sql_translatable!(JsonText, arg_only = "jsonb");
