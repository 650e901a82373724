//! Rule rows returned in materialize mode: each row goes straight into the
//! tuplestore the executor reads, as PostgreSQL's own set-returning
//! functions do (`InitMaterializedSRF`), instead of one function call per
//! row through pgrx's value-per-call protocol (which PostgreSQL's function
//! scan then copies into a tuplestore of its own). An item's name becomes a
//! `text` datum once per call, not once per rule that holds it. The
//! tuplestore keeps at most `work_mem` in memory and spills to a temporary
//! file beyond it.
//!
//! The SQL declaration of a function that returns rows this way is in a
//! `.sql` file (pgrx declares only the value-per-call protocol): see
//! `sql/mine.sql`.

use std::os::raw::c_char;

use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;

use crate::error::RarError;

/// Rows put into the result of the current call.
pub struct RuleRows {
    store: *mut pg_sys::Tuplestorestate,
    desc: pg_sys::TupleDesc,
    /// Arrays and texts of the row being put; reset after each row (items
    /// can be long: a batch of rows could take any amount of memory).
    scratch: PgMemoryContexts,
    /// `text` datums of names by rank, made when first needed.
    names: Vec<Option<pg_sys::Datum>>,
    names_cx: PgMemoryContexts,
    elems: Vec<pg_sys::Datum>,
}

/// Columns of a rule row, `p_value` last.
const COLUMNS: usize = 10;

/// The columns of a rule row after its two sides.
pub struct Figures {
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
    pub leverage: f64,
    pub conviction: f64,
    pub count: i64,
    pub model_score: Option<f64>,
    pub p_value: f64,
}

impl RuleRows {
    /// Sets up the call's result: an error in PostgreSQL's words (0A000)
    /// where the caller cannot take a set.
    ///
    /// A declaration of 0.1.0 (nine columns, no `p_value`, still in place
    /// until `ALTER EXTENSION rar UPDATE`) takes the first nine of each row.
    ///
    /// # Safety
    /// `fcinfo` must be the current call's, of a function declared to
    /// return the columns of a rule row.
    pub unsafe fn begin(fcinfo: pg_sys::FunctionCallInfo) -> RuleRows {
        // SAFETY: `fcinfo` is the current call's; InitMaterializedSRF checks
        // the ReturnSetInfo (raising an ERROR when there is none or it does
        // not allow materialize mode) and fills in the tuplestore and the
        // result's descriptor.
        let (store, desc) = unsafe {
            pg_sys::InitMaterializedSRF(fcinfo, 0);
            let rsinfo = (*fcinfo).resultinfo.cast::<pg_sys::ReturnSetInfo>();
            ((*rsinfo).setResult, (*rsinfo).setDesc)
        };
        // SAFETY: the descriptor InitMaterializedSRF just built.
        let columns = unsafe { (*desc).natts };
        if !(COLUMNS - 1..=COLUMNS).contains(&(columns as usize)) {
            RarError::Unsupported {
                message: "this declaration of rar_mine does not return the columns of a rule row",
                hint: "Run ALTER EXTENSION rar UPDATE so that the declarations match the installed library.",
            }
            .raise();
        }
        RuleRows {
            store,
            desc,
            scratch: PgMemoryContexts::new("rar rule rows"),
            names: Vec::new(),
            names_cx: PgMemoryContexts::new("rar rule names"),
            elems: Vec::new(),
        }
    }

    /// A row whose sides are name ranks, with `name_of` giving the names.
    pub fn put_ranked<'a>(&mut self, ante: &[u32], cons: &[u32], name_of: impl Fn(u32) -> &'a str, figures: &Figures) {
        let side = |ranks: &[u32], rows: &mut RuleRows| -> pg_sys::Datum {
            rows.elems.clear();
            for &rank in ranks {
                if rank as usize >= rows.names.len() {
                    rows.names.resize(rank as usize + 1, None);
                }
                let datum = match rows.names[rank as usize] {
                    Some(d) => d,
                    None => {
                        let d = text_datum(&mut rows.names_cx, name_of(rank));
                        rows.names[rank as usize] = Some(d);
                        d
                    }
                };
                rows.elems.push(datum);
            }
            rows.text_array()
        };
        let a = side(ante, self);
        let c = side(cons, self);
        self.put(a, c, figures);
    }

    /// A row whose sides are given as names.
    pub fn put_named(&mut self, ante: &[String], cons: &[String], figures: &Figures) {
        let side = |names: &[String], rows: &mut RuleRows| -> pg_sys::Datum {
            rows.elems.clear();
            for name in names {
                let d = text_datum(&mut rows.scratch, name);
                rows.elems.push(d);
            }
            rows.text_array()
        };
        let a = side(ante, self);
        let c = side(cons, self);
        self.put(a, c, figures);
    }

    /// A `text[]` of `self.elems`, in the scratch context.
    fn text_array(&mut self) -> pg_sys::Datum {
        let elems = &mut self.elems;
        // SAFETY: the elements are valid text datums; the array is built in
        // the scratch context, which outlives its use in `put`.
        unsafe {
            self.scratch.switch_to(|_| {
                let array = if elems.is_empty() {
                    pg_sys::construct_empty_array(pg_sys::TEXTOID)
                } else {
                    pg_sys::construct_array(
                        elems.as_mut_ptr(),
                        elems.len() as i32,
                        pg_sys::TEXTOID,
                        -1,
                        false,
                        pg_sys::TYPALIGN_INT as c_char,
                    )
                };
                pg_sys::Datum::from(array)
            })
        }
    }

    fn put(&mut self, ante: pg_sys::Datum, cons: pg_sys::Datum, f: &Figures) {
        let float = |x: f64| x.into_datum().unwrap_or(pg_sys::Datum::from(0));
        let mut values: [pg_sys::Datum; COLUMNS] = [
            ante,
            cons,
            float(f.support),
            float(f.confidence),
            float(f.lift),
            float(f.leverage),
            float(f.conviction),
            f.count.into_datum().unwrap_or(pg_sys::Datum::from(0)),
            f.model_score.map_or(pg_sys::Datum::from(0), float),
            float(f.p_value),
        ];
        let mut nulls = [false, false, false, false, false, false, false, false, f.model_score.is_none(), false];
        // SAFETY: `values` and `nulls` hold the declared result columns (or
        // one more, which the descriptor's nine columns leave unread; see
        // `begin`); the tuplestore copies the row into its own memory.
        unsafe { pg_sys::tuplestore_putvalues(self.store, self.desc, values.as_mut_ptr(), nulls.as_mut_ptr()) };
        // SAFETY: nothing made in the scratch context is used past the row
        // just put.
        unsafe { self.scratch.reset() };
    }
}

/// A `text` datum of `s`, made in `cx`.
fn text_datum(cx: &mut PgMemoryContexts, s: &str) -> pg_sys::Datum {
    // SAFETY: `s` is valid for `len` bytes; the text is copied into `cx`.
    unsafe {
        cx.switch_to(|_| {
            pg_sys::Datum::from(pg_sys::cstring_to_text_with_len(s.as_ptr() as *const c_char, s.len() as i32))
        })
    }
}
