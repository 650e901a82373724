//! Rule rows returned in materialize mode: each row goes straight into the
//! tuplestore the executor reads, as PostgreSQL's own set-returning
//! functions do (`InitMaterializedSRF`), instead of one function call per
//! row through pgrx's value-per-call protocol (which PostgreSQL's function
//! scan then copies into a tuplestore of its own). A rule's two `text[]`
//! sides are laid out in place in reused buffers (`TextArray`), with no
//! allocation per rule. The tuplestore keeps at most `work_mem` in memory
//! and spills to a temporary file beyond it.
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
    /// Elements of a side too large for [`TextArray`].
    elems: Vec<pg_sys::Datum>,
    /// The two sides of the row being put, built in place.
    sides: [TextArray; 2],
}

/// A one-dimensional `text[]` without NULLs, laid out byte for byte as
/// PostgreSQL's `construct_array` lays it out (header, dimension, lower
/// bound, then each element with its 4-byte length header, each padded to
/// 4 bytes), in a buffer reused row after row: no allocation, no copy of
/// the names into `text` datums first. `tuplestore_putvalues` copies it into
/// the row.
#[derive(Default)]
struct TextArray {
    /// 8-byte words, so that the header is aligned as a `varlena`'s must be.
    buf: Vec<u64>,
}

/// Bytes before the first element: `ArrayType` (16), one dimension and one
/// lower bound (8), MAXALIGNed (`ARR_OVERHEAD_NONULLS(1)`).
const ARRAY_DATA_OFFSET: usize = 24;
/// The largest `varlena` (1 GB - 1).
const MAX_VARLENA: usize = 0x3FFF_FFFF;

impl TextArray {
    /// The array of `names`, or `None` when it would pass 1 GB (left to
    /// `construct_array`, which raises PostgreSQL's own error).
    fn build<'a>(&mut self, names: impl Iterator<Item = &'a str> + Clone) -> Option<pg_sys::Datum> {
        let size = |n: &str| (4 + n.len()).next_multiple_of(4);
        let count = names.clone().count();
        let total = if count == 0 {
            std::mem::size_of::<pg_sys::ArrayType>()
        } else {
            ARRAY_DATA_OFFSET + names.clone().map(size).sum::<usize>()
        };
        if total > MAX_VARLENA {
            return None;
        }
        self.buf.clear();
        self.buf.resize(total.div_ceil(8), 0);
        let base = self.buf.as_mut_ptr() as *mut u8;
        // SAFETY: `buf` holds `total` bytes (zeroed: padding included), is
        // 8-byte aligned, and every write below stays inside it: the
        // header and dimensions in the first 24 bytes, each element at its
        // 4-byte aligned offset, `size(n)` bytes long.
        unsafe {
            pgrx::set_varsize_4b(base.cast(), total as i32);
            let head = base.cast::<pg_sys::ArrayType>();
            (*head).ndim = if count == 0 { 0 } else { 1 };
            (*head).dataoffset = 0;
            (*head).elemtype = pg_sys::TEXTOID;
            if count > 0 {
                let dims = base.add(std::mem::size_of::<pg_sys::ArrayType>()).cast::<i32>();
                *dims = count as i32;
                *dims.add(1) = 1;
                let mut at = ARRAY_DATA_OFFSET;
                for n in names {
                    let elem = base.add(at);
                    pgrx::set_varsize_4b(elem.cast(), (4 + n.len()) as i32);
                    std::ptr::copy_nonoverlapping(n.as_ptr(), elem.add(4), n.len());
                    at += size(n);
                }
            }
        }
        Some(pg_sys::Datum::from(base))
    }
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
            elems: Vec::new(),
            sides: Default::default(),
        }
    }

    /// A row whose sides are name ranks, with `name_of` giving the names.
    pub fn put_ranked<'a, 'r>(
        &mut self,
        ante: &'r [u32],
        cons: &'r [u32],
        name_of: impl Fn(u32) -> &'a str,
        figures: &Figures,
    ) {
        let side = |ranks: &'r [u32]| ranks.iter().map(|&r| name_of(r));
        self.put_sides([side(ante), side(cons)], figures);
    }

    /// A row whose sides are given as names.
    pub fn put_named(&mut self, ante: &[String], cons: &[String], figures: &Figures) {
        self.put_sides([ante.iter().map(String::as_str), cons.iter().map(String::as_str)], figures);
    }

    /// A row whose two sides are `sides`, each laid out by its
    /// [`TextArray`].
    fn put_sides<'a>(&mut self, sides: [impl Iterator<Item = &'a str> + Clone; 2], figures: &Figures) {
        let mut datums = [pg_sys::Datum::from(0); 2];
        for (k, names) in sides.into_iter().enumerate() {
            datums[k] = match self.sides[k].build(names.clone()) {
                Some(d) => d,
                None => self.array_of(&names.collect::<Vec<_>>()),
            };
        }
        self.put(datums[0], datums[1], figures);
    }

    /// A `text[]` of `names` by `construct_array`, in the scratch context:
    /// for a side of more than 1 GB, where PostgreSQL raises its error.
    fn array_of(&mut self, names: &[&str]) -> pg_sys::Datum {
        self.elems.clear();
        for name in names {
            let d = text_datum(&mut self.scratch, name);
            self.elems.push(d);
        }
        self.text_array()
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
        // Every row: one row can be megabytes (long items), written to a
        // temporary file once past work_mem.
        check_for_interrupts!();
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
