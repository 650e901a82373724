//! `rar.basket_state`: partial baskets as a value of their own type, and the
//! aggregate `rar.baskets_shared` over it, what `rar_mine` reads a Citus
//! table through.
//!
//! Citus runs an aggregate's transition on the workers and only its combine
//! on the coordinator when the aggregate has a combine function and a state
//! type that is not `internal`: each worker sends its state as the type's
//! text. The other aggregates (`rar.baskets`, `rar_rules_agg`) keep the
//! `internal` state that PostgreSQL's own parallel workers pass as bytes, so
//! on Citus their rows would all travel to the coordinator.
//!
//! In a running aggregate the state is an expanded object (PostgreSQL's
//! `expandeddatum.h`): the [`Partial`] in Rust memory owned by the object's
//! memory context, updated in place line by line. Flattened (into a tuple,
//! or for the text output) it is [`Partial::to_bytes`] behind a varlena
//! header; its text is that in base64. The input function checks the bytes
//! in full (`aggregate::read_state`), so no role can hand the transition
//! or combine function a state it did not make.
//!
//! The final function hands the baskets to the `rar_mine` call that ran the
//! aggregate in this backend (see `reader::expects_handoff`) and returns
//! NULL; where no call expects them (the whole aggregate ran on a Citus
//! worker: a reference table, one shard) it returns them as bytes.
//!
//! The SQL declarations are in `sql/basket_state.sql` (pgrx declares no base
//! type of this shape): the functions here have `sql = false`.

use base64::Engine;
use pgrx::datum::Internal;
use pgrx::pg_sys;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;
use rar_core::partial::Partial;

use super::aggregate::{
    agg_context, check_live, checked_bytes, live_born, live_gone, read_state, take_state, transition_partial, MAX_FLAT,
};
use crate::error::{OrRaise, RarError};

/// The expanded form: the header PostgreSQL knows, then the state.
#[repr(C)]
struct Expanded {
    hdr: pg_sys::ExpandedObjectHeader,
    state: *mut State,
}

/// The baskets, and their bytes between PostgreSQL asking for the flat
/// size and flattening (made once, for both). Counted among the states
/// alive in the backend (see `aggregate::check_live`) from [`expand`] until
/// its memory context drops it.
struct State {
    partial: Partial,
    flat: Option<Vec<u8>>,
}

impl Drop for State {
    fn drop(&mut self) {
        live_gone(&mut self.partial);
    }
}

static METHODS: pg_sys::ExpandedObjectMethods =
    pg_sys::ExpandedObjectMethods { get_flat_size: Some(flat_size), flatten_into: Some(flatten_into) };

/// The expanded state behind a header PostgreSQL hands back.
///
/// # Safety
/// `eoh` is the header of an object made by [`expand`] (its methods are
/// `METHODS`), alive for as long as the result is used: the aggregate's
/// state, which lives until its memory context goes.
unsafe fn state_of<'a>(eoh: *mut pg_sys::ExpandedObjectHeader) -> &'a mut State {
    // SAFETY: only objects made by `expand` carry METHODS; their header is
    // the first field of an `Expanded` whose state lives as long as them.
    &mut *(*(eoh as *mut Expanded)).state
}

#[pg_guard]
unsafe extern "C-unwind" fn flat_size(eoh: *mut pg_sys::ExpandedObjectHeader) -> pg_sys::Size {
    let s = state_of(eoh);
    let bytes = s.flat.get_or_insert_with(|| checked_bytes(&s.partial));
    bytes.len() + pg_sys::VARHDRSZ
}

#[pg_guard]
unsafe extern "C-unwind" fn flatten_into(
    eoh: *mut pg_sys::ExpandedObjectHeader,
    result: *mut std::ffi::c_void,
    size: pg_sys::Size,
) {
    let s = state_of(eoh);
    let bytes = s.flat.take().unwrap_or_else(|| checked_bytes(&s.partial));
    assert_eq!(bytes.len() + pg_sys::VARHDRSZ, size, "flat size of a rar.basket_state changed");
    let out = result as *mut u8;
    pgrx::varlena::set_varsize_4b(out as *mut pg_sys::varlena, size as i32);
    std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.add(pg_sys::VARHDRSZ), bytes.len());
}

/// A new expanded state in a memory context of its own under `parent`;
/// the read-write pointer to it.
///
/// # Safety
/// `parent` is a valid memory context that outlives the use of the state.
unsafe fn expand(parent: pg_sys::MemoryContext, p: Partial) -> pg_sys::Datum {
    let ctx = pg_sys::AllocSetContextCreateInternal(
        parent,
        c"rar basket state".as_ptr(),
        pg_sys::ALLOCSET_SMALL_MINSIZE as usize,
        pg_sys::ALLOCSET_SMALL_INITSIZE as usize,
        pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
    );
    let eo = pg_sys::MemoryContextAllocZero(ctx, std::mem::size_of::<Expanded>()) as *mut Expanded;
    pg_sys::EOH_init_header(&mut (*eo).hdr, &METHODS, ctx);
    // Dropped (its Rust memory freed) when the object's context goes.
    (*eo).state = PgMemoryContexts::For(ctx).leak_and_drop_on_delete(State { partial: p, flat: None });
    live_born();
    check_live(&mut (*(*eo).state).partial);
    pg_sys::Datum::from((*eo).hdr.eoh_rw_ptr.as_ptr())
}

/// The state behind a pointer to one of our expanded objects, and whether
/// the pointer is read-write (`VARTAG_EXPANDED_RW`: the caller hands the
/// object over and it may be changed in place); with `read_only`,
/// read-only pointers too.
///
/// # Safety
/// `d` is a value of type `rar.basket_state` (or NULL); the result is used
/// only while the aggregate's state lives (within this call).
unsafe fn expanded(d: pg_sys::Datum, read_only: bool) -> Option<(&'static mut State, bool)> {
    let p = d.cast_mut_ptr::<pg_sys::varlena>();
    if p.is_null() || !pgrx::varlena::varatt_is_1b_e(p) {
        return None;
    }
    // VARTAG_EXTERNAL: the byte after the 1-byte external header.
    let tag = (*(p as *const pg_sys::varattrib_1b_e)).va_tag as u32;
    let rw = tag == pg_sys::vartag_external::VARTAG_EXPANDED_RW;
    if !(rw || read_only && tag == pg_sys::vartag_external::VARTAG_EXPANDED_RO) {
        return None;
    }
    let eoh = pg_sys::DatumGetEOHP(d);
    if !std::ptr::eq((*eoh).eoh_methods, &METHODS) {
        return None;
    }
    Some((state_of(eoh), rw))
}

/// The state of a read-write pointer to one of our expanded objects.
///
/// # Safety
/// As [`expanded`].
unsafe fn read_write(d: pg_sys::Datum) -> Option<&'static mut Partial> {
    let (s, _) = expanded(d, false)?;
    // About to change: bytes made for a flattening are stale.
    s.flat = None;
    Some(&mut s.partial)
}

/// The state of any value of the type: a flat one (from the input
/// function, a tuple, a Citus worker) parsed, checked as the input
/// function checks it.
///
/// # Safety
/// `d` is a non-NULL value of type `rar.basket_state`.
unsafe fn parse(d: pg_sys::Datum) -> Partial {
    let flat = pg_sys::pg_detoast_datum_packed(d.cast_mut_ptr());
    read_state(pgrx::varlena::varlena_to_byte_slice(flat)).or_raise()
}

/// Whether the aggregate calling this final function declared
/// `FINALFUNC_MODIFY = READ_WRITE`: only then may it take the state
/// (PostgreSQL hands a final function a read-only pointer, and shares one
/// state between aggregates whose final functions only read it). The
/// reader's own aggregate always does; this guards an aggregate a role
/// builds on `rar.basket_state_final` that ends up in that place anyway.
unsafe fn final_may_modify(fcinfo: pg_sys::FunctionCallInfo) -> bool {
    let aggref = pg_sys::AggGetAggref(fcinfo);
    if aggref.is_null() {
        return false;
    }
    let tuple =
        pg_sys::SearchSysCache1(pg_sys::SysCacheIdentifier::AGGFNOID as i32, pg_sys::Datum::from((*aggref).aggfnoid));
    if tuple.is_null() {
        return false;
    }
    let mut is_null = false;
    // Anum_pg_aggregate_aggfinalmodify
    let modify = pg_sys::SysCacheGetAttr(pg_sys::SysCacheIdentifier::AGGFNOID as i32, tuple, 14, &mut is_null);
    pg_sys::ReleaseSysCache(tuple);
    !is_null && modify.value() as u8 == b'w'
}

/// The state to update: the aggregate's own expanded object, or a new one
/// made from NULL or from a flat value.
unsafe fn updatable(
    state: Option<Internal>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> (pg_sys::Datum, &'static mut Partial) {
    let ctx = agg_context(fcinfo);
    let d = match state.and_then(Internal::unwrap) {
        Some(d) if read_write(d).is_some() => d,
        Some(d) => expand(ctx, parse(d)),
        None => expand(ctx, Partial::default()),
    };
    (d, read_write(d).expect("made above"))
}

fn to_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The support functions, in the catalog schema `rar`.
#[pg_schema]
mod rar {
    use super::*;
    use std::ffi::CStr;

    /// The type's input function: base64 of the state's bytes, checked.
    #[pg_extern(sql = false)]
    pub fn basket_state_in(text: &CStr) -> Internal {
        // Line breaks and spaces skipped, as PostgreSQL's decode(..., 'base64')
        // skips them (its encode() breaks lines every 76 characters).
        let text: Vec<u8> = text.to_bytes().iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&text)
            .unwrap_or_else(|e| RarError::BadStateText { message: e.to_string() }.raise());
        drop(read_state(&decoded).or_raise());
        // The checked bytes behind a varlena header, in the current context.
        let flat = pgrx::varlena::rust_byte_slice_to_bytea(&decoded).into_pg();
        Internal::from(Some(pg_sys::Datum::from(flat)))
    }

    /// The type's output function: the state's bytes in base64.
    #[pg_extern(sql = false)]
    pub fn basket_state_out(state: Internal) -> Internal {
        let d = state.unwrap().expect("the output function is strict");
        // SAFETY: a value of the type (flat, or expanded and flattened by
        // detoasting).
        let text = unsafe {
            let flat = pg_sys::pg_detoast_datum_packed(d.cast_mut_ptr());
            let bytes = pgrx::varlena::varlena_to_byte_slice(flat);
            // Base64 takes 4 bytes for 3: a state past about 805 MB has no
            // text PostgreSQL can hold (what Citus sends between nodes).
            if bytes.len().div_ceil(3) * 4 >= MAX_FLAT {
                RarError::StateTooLarge { bytes: bytes.len() }.raise();
            }
            to_base64(bytes)
        };
        // SAFETY: a NUL-terminated copy in the current context.
        unsafe {
            let out = pg_sys::palloc(text.len() + 1) as *mut u8;
            std::ptr::copy_nonoverlapping(text.as_ptr(), out, text.len());
            *out.add(text.len()) = 0;
            Internal::from(Some(pg_sys::Datum::from(out)))
        }
    }

    /// The transition functions, one per type pair of (basket, item).
    macro_rules! sfuncs {
        ($($name:ident: $b:ty, $i:ty;)*) => {$(
            #[pg_extern(sql = false, parallel_safe)]
            pub fn $name(state: Option<Internal>, basket: Option<$b>, item: Option<$i>, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
                // SAFETY: a transition function, with its fcinfo.
                let (d, p) = unsafe { updatable(state, fcinfo) };
                transition_partial(p, basket, item);
                Internal::from(Some(d))
            }
        )*};
    }

    sfuncs! {
        basket_state_sfunc: &str, &str;
        basket_state_sfunc_bi: i64, &str;
        basket_state_sfunc_ib: &str, i64;
        basket_state_sfunc_bb: i64, i64;
    }

    /// Merges two states (a Citus worker's into the coordinator's).
    #[pg_extern(sql = false, parallel_safe)]
    pub fn basket_state_combine(
        a: Option<Internal>,
        b: Option<Internal>,
        fcinfo: pg_sys::FunctionCallInfo,
    ) -> Option<Internal> {
        let Some(b) = b.and_then(Internal::unwrap) else { return a };
        // SAFETY: the combine function of the aggregate, with its fcinfo;
        // `b` is a value of the type.
        unsafe {
            let other = match read_write(b) {
                Some(p) => take_state(p),
                None => parse(b),
            };
            let (d, mine) = updatable(a, fcinfo);
            mine.merge(other).or_raise();
            check_live(mine);
            Some(Internal::from(Some(d)))
        }
    }

    /// `rar.baskets_shared`'s final function: hands the baskets to the
    /// `rar_mine` call that expects them in this backend (NULL), or returns
    /// them as bytes where none does.
    #[pg_extern(sql = false, parallel_safe)]
    pub fn basket_state_final(state: Option<Internal>, fcinfo: pg_sys::FunctionCallInfo) -> Option<Vec<u8>> {
        let d = state.and_then(Internal::unwrap);
        // SAFETY: this call's fcinfo.
        if !unsafe { crate::reader::expects_handoff(fcinfo) } {
            // SAFETY: the final function of the aggregate: `d` is its state.
            return d.map(|d| match unsafe { expanded(d, true) } {
                Some((s, _)) => checked_bytes(&s.partial),
                None => checked_bytes(&unsafe { parse(d) }),
            });
        }
        // No rows: no baskets (never what a nested call left behind).
        let p = match d {
            None => Partial::default(),
            // SAFETY: as above. The state is taken when the caller handed
            // it over read-write (Citus's coordinator does), or when the
            // aggregate lets its final function change it (PostgreSQL
            // passes final functions a read-only pointer).
            Some(d) => match unsafe { expanded(d, true) } {
                Some((s, rw)) if rw || unsafe { final_may_modify(fcinfo) } => {
                    s.flat = None;
                    take_state(&mut s.partial)
                }
                _ => unsafe { parse(d) },
            },
        };
        crate::reader::hand_over(p);
        None
    }
}
