//! The aggregates, parallel-safe with combine, serialize and deserialize
//! functions, so that PostgreSQL's parallel workers (and Citus workers, and
//! postgres_fdw shards) do the scan and the encoding:
//!
//! - `rar_rules_agg(basket, item, min_support, min_confidence [, max_length])`:
//!   the rules of each group (`GROUP BY store_id`) as a jsonb array.
//! - `rar.baskets(basket, item)`: what `rar_mine` reads through; its final
//!   function hands the merged baskets to the calling `rar_mine` in the same
//!   backend (see `reader::hand_over`) and returns the number of lines.
//! - `rar.baskets_state(basket, item)`: the merged baskets as bytes, what a
//!   shard returns to the coordinator (`rar_mine` on a partitioned table with
//!   foreign partitions).
//!
//! The state ([`Partial`]) is Rust memory owned by the aggregate's memory
//! context: it is dropped when PostgreSQL resets that context, on success,
//! error or cancel alike. The final functions consume it
//! (`FINALFUNC_MODIFY = READ_WRITE`), so PostgreSQL refuses the aggregates
//! as window functions instead of calling them twice on one state.

use pgrx::datum::Internal;
use pgrx::prelude::*;
use pgrx::{JsonB, PgMemoryContexts};
use rar_core::params::{defaults, MineParams};
use rar_core::partial::{AggOptions, Partial};
use rar_core::rule::Rule;
use rar_core::rules::mine_rules;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, Ordering};

use crate::error::{OrRaise, RarError};
use crate::gucs;

/// The aggregate's memory context (states must outlive the per-row one).
pub(crate) unsafe fn agg_context(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::MemoryContext {
    let mut ctx: pg_sys::MemoryContext = std::ptr::null_mut();
    if pg_sys::AggCheckCallContext(fcinfo, &mut ctx) == 0 {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "rar aggregate support function called in a non-aggregate context",
            "Call the aggregates (rar_rules_agg, or rar_mine which uses the others), not their support functions."
        );
    }
    ctx
}

/// The most a varlena holds, header included (1 GB less a byte).
pub(crate) const MAX_FLAT: usize = (1 << 30) - 1;

/// A state's bytes, or an error when they would not fit in a value.
pub(crate) fn checked_bytes(p: &Partial) -> Vec<u8> {
    let bytes = p.to_bytes();
    if bytes.len() > MAX_FLAT - pg_sys::VARHDRSZ {
        RarError::StateTooLarge { bytes: bytes.len() }.raise();
    }
    bytes
}

/// Bytes read back as a state (from a parallel worker, a shard, a Citus
/// worker, or the text of a `rar.basket_state`): checked in full, within
/// `rar.memory_limit`, cancellable.
pub(crate) fn read_state(bytes: &[u8]) -> Result<Partial, RarError> {
    let limit = gucs::memory_limit_bytes();
    Ok(Partial::from_bytes_within(bytes, limit, &mut || {
        check_for_interrupts!();
    })?)
}

/// Bytes of the aggregate states alive in this backend, as last checked:
/// under a hash aggregate every group of a `GROUP BY` is alive at once, and
/// their memory is Rust's, which PostgreSQL's hash accounting does not see.
/// `rar.memory_limit` bounds them together.
static LIVE_STATE_BYTES: AtomicI64 = AtomicI64::new(0);
/// How many of them are alive.
static LIVE_STATES: AtomicI64 = AtomicI64::new(0);

/// What a state costs before it holds any line.
const STATE_BYTES: u64 = 512;

/// A state as the aggregate's memory context holds it: its live bytes are
/// given back when the context drops it.
#[repr(transparent)]
struct Live(Partial);

impl Drop for Live {
    fn drop(&mut self) {
        live_gone(&mut self.0);
    }
}

/// Counts a state as alive in the backend (every state made in an
/// aggregate's memory context: `Live`, and `rar.basket_state`'s expanded
/// objects); [`live_gone`] when its context drops it.
pub(crate) fn live_born() {
    LIVE_STATES.fetch_add(1, Ordering::Relaxed);
}

/// A state dropped: its bytes and itself are no longer alive.
pub(crate) fn live_gone(p: &mut Partial) {
    LIVE_STATE_BYTES.fetch_sub(std::mem::take(&mut p.charged) as i64, Ordering::Relaxed);
    LIVE_STATES.fetch_sub(1, Ordering::Relaxed);
}

/// A safety net at the end of each transaction: with no state alive, no
/// bytes are (each state gives its bytes back when dropped; states of an
/// aborted transaction's SPI calls are dropped after this callback, so
/// the count is only reset when none is left).
#[pg_guard]
unsafe extern "C-unwind" fn forget_live_states(_event: pg_sys::XactEvent::Type, _arg: *mut std::ffi::c_void) {
    if LIVE_STATES.load(Ordering::Relaxed) <= 0 {
        LIVE_STATES.store(0, Ordering::Relaxed);
        LIVE_STATE_BYTES.store(0, Ordering::Relaxed);
    }
}

/// Registers [`forget_live_states`] (from `_PG_init`).
pub(crate) fn init() {
    // SAFETY: a static callback with no argument, registered once.
    unsafe { pg_sys::RegisterXactCallback(Some(forget_live_states), std::ptr::null_mut()) };
}

/// A new state in the aggregate's memory context, dropped when that
/// context is reset or deleted.
pub(crate) unsafe fn new_state_ptr(fcinfo: pg_sys::FunctionCallInfo, value: Partial) -> *mut Partial {
    let ptr = PgMemoryContexts::For(agg_context(fcinfo)).leak_and_drop_on_delete(Live(value));
    live_born();
    // `Live` is `repr(transparent)` over the Partial.
    let p = ptr.cast::<Partial>();
    check_live(&mut *p);
    p
}

/// The state's contents, taken out (by a final or combine function): its
/// bytes are no longer counted as live.
pub(crate) fn take_state(p: &mut Partial) -> Partial {
    LIVE_STATE_BYTES.fetch_sub(std::mem::take(&mut p.charged) as i64, Ordering::Relaxed);
    std::mem::take(p)
}

/// [`new_state_ptr`] as an `internal` value.
pub(crate) unsafe fn new_state(fcinfo: pg_sys::FunctionCallInfo, value: Partial) -> Internal {
    Internal::from(Some(pg_sys::Datum::from(new_state_ptr(fcinfo, value))))
}

pub(crate) unsafe fn state_mut(state: &mut Internal) -> Option<&mut Partial> {
    state.get_mut::<Partial>()
}

/// Checks an aggregate's state, and all the states alive in the backend
/// together, against `rar.memory_limit`.
pub(crate) fn check_live(p: &mut Partial) {
    let limit = gucs::memory_limit_bytes();
    let now = p.baskets.heap_bytes() as u64 + STATE_BYTES;
    let delta = now as i64 - p.charged as i64;
    p.charged = now;
    let live = LIVE_STATE_BYTES.fetch_add(delta, Ordering::Relaxed) + delta;
    if now > limit || live > limit as i64 {
        RarError::InputTooLarge { lines: p.baskets.n_lines(), limit_bytes: limit }.raise();
    }
}

/// A basket id or an item as the aggregates take it: text, or an integer
/// (named by its decimal text, as `::text` would, without a cast in the
/// query: a cast to text would keep postgres_fdw from shipping the
/// aggregate; and integers skip printing and string hashing).
pub(crate) enum KeyRef<'a> {
    Text(&'a str),
    Int(i64),
}

pub(crate) trait Key {
    fn key(&self) -> KeyRef<'_>;
}

impl Key for &str {
    fn key(&self) -> KeyRef<'_> {
        KeyRef::Text(self)
    }
}

impl Key for i64 {
    fn key(&self) -> KeyRef<'_> {
        KeyRef::Int(*self)
    }
}

pub(crate) fn transition(
    mut state: Internal,
    basket: Option<impl Key>,
    item: Option<impl Key>,
    options: Option<AggOptions>,
    fcinfo: pg_sys::FunctionCallInfo,
) -> Internal {
    if !state.initialized() {
        // SAFETY: called as a transition function, with its fcinfo.
        state = unsafe { new_state(fcinfo, Partial { options, ..Partial::default() }) };
    }
    // SAFETY: the state holds a Partial: made by new_state above or in an
    // earlier call of this aggregate.
    let p = unsafe { state_mut(&mut state) }.expect("initialized above");
    transition_partial(p, basket, item);
    state
}

/// Adds one line to a state (or counts it as skipped, for a NULL).
pub(crate) fn transition_partial(p: &mut Partial, basket: Option<impl Key>, item: Option<impl Key>) {
    match (basket, item) {
        (Some(b), Some(i)) => {
            match (b.key(), i.key()) {
                (KeyRef::Text(b), KeyRef::Text(i)) => p.baskets.push(b, i),
                (KeyRef::Int(b), KeyRef::Int(i)) => p.baskets.push_ints(b, i),
                (KeyRef::Int(b), KeyRef::Text(i)) => p.baskets.push_int_basket(b, i),
                (KeyRef::Text(b), KeyRef::Int(i)) => p.baskets.push_int_item(b, i),
            }
            if p.baskets.budget_due() {
                check_live(p);
            }
        }
        _ => p.null_lines += 1,
    }
}

/// The support functions, in the catalog schema `rar`.
#[pg_schema]
mod rar {
    use super::*;

    /// The thresholds of `rar_rules_agg`, checked on a group's first row.
    pub(crate) fn agg_options(
        min_support: Option<f64>,
        min_confidence: Option<f64>,
        max_length: Option<i32>,
    ) -> AggOptions {
        let params = MineParams {
            threads: gucs::mining_threads(),
            min_support: crate::args::required("min_support", "none", min_support),
            min_confidence: crate::args::required("min_confidence", "none", min_confidence),
            max_length: match max_length_or_default(max_length) {
                m if m < 0 => RarError::InvalidOption {
                    name: "max_length",
                    value: m.to_string(),
                    expected: "a number of items from 1 to 32",
                }
                .raise(),
                m => m as usize,
            },
            ..MineParams::default()
        };
        params.validate().or_raise();
        AggOptions {
            min_support: params.min_support,
            min_confidence: params.min_confidence,
            max_length: params.max_length as u32,
        }
    }

    /// `max_length` as the aggregate reads it: NULL is the default.
    fn max_length_or_default(max_length: Option<i32>) -> i32 {
        max_length.unwrap_or(defaults::MAX_LENGTH as i32)
    }

    /// The thresholds a later row of a group gives, as [`agg_options`] keeps
    /// them (without its checks: None for NULL or a negative `max_length`).
    fn row_options(
        min_support: Option<f64>,
        min_confidence: Option<f64>,
        max_length: Option<i32>,
    ) -> Option<AggOptions> {
        Some(AggOptions {
            min_support: min_support?,
            min_confidence: min_confidence?,
            max_length: u32::try_from(max_length_or_default(max_length)).ok()?,
        })
    }

    /// Thresholds that differ between the rows of one group.
    pub(crate) fn same_thresholds_error() -> ! {
        RarError::ConflictingOptions {
            message: "the thresholds of rar_rules_agg must be the same for every row of a group",
            hint:
                "Give min_support, min_confidence and max_length as constants (or as values of the grouping columns).",
        }
        .raise()
    }

    /// The transition functions of `rar_rules_agg`, one per type pair of
    /// (basket, item): text or bigint (smaller integers are cast to bigint
    /// implicitly). Those of `rar.baskets` are [`super::baskets_sfuncs`].
    macro_rules! sfuncs {
        ($($rules:ident, $rules4:ident: $b:ty, $i:ty;)*) => {$(
            #[pg_extern(parallel_safe)]
            pub fn $rules(
                state: Option<Internal>,
                basket: Option<$b>,
                item: Option<$i>,
                min_support: Option<f64>,
                min_confidence: Option<f64>,
                max_length: Option<i32>,
                fcinfo: pg_sys::FunctionCallInfo,
            ) -> Internal {
                let mut state = state.unwrap_or_default();
                if state.initialized() {
                    // The thresholds hold for the whole group: every row must
                    // give the same (the plan decides which row is first).
                    // SAFETY: the state was made by new_state in an earlier call.
                    let kept = unsafe { state_mut(&mut state) }.and_then(|p| p.options);
                    if kept.is_some() && row_options(min_support, min_confidence, max_length) != kept {
                        // NULLs and out-of-range values get their own errors.
                        agg_options(min_support, min_confidence, max_length);
                        same_thresholds_error();
                    }
                    return transition(state, basket, item, None, fcinfo);
                }
                let options = Some(agg_options(min_support, min_confidence, max_length));
                transition(state, basket, item, options, fcinfo)
            }

            #[pg_extern(parallel_safe)]
            pub fn $rules4(
                state: Option<Internal>,
                basket: Option<$b>,
                item: Option<$i>,
                min_support: Option<f64>,
                min_confidence: Option<f64>,
                fcinfo: pg_sys::FunctionCallInfo,
            ) -> Internal {
                $rules(state, basket, item, min_support, min_confidence, Some(defaults::MAX_LENGTH as i32), fcinfo)
            }
        )*};
    }

    sfuncs! {
        rules_sfunc, rules_sfunc4: &str, &str;
        rules_sfunc_bi, rules_sfunc4_bi: i64, &str;
        rules_sfunc_ib, rules_sfunc4_ib: &str, i64;
        rules_sfunc_bb, rules_sfunc4_bb: i64, i64;
    }

    /// Merges two workers' states (not strict: either may be NULL).
    #[pg_extern(parallel_safe)]
    pub fn baskets_combine(a: Option<Internal>, b: Option<Internal>, fcinfo: pg_sys::FunctionCallInfo) -> Internal {
        let (mut a, mut b) = (a.unwrap_or_default(), b.unwrap_or_default());
        // SAFETY: both states were made by new_state (or are empty), and
        // this is the aggregate's combine function, called with its fcinfo.
        let taken = unsafe { state_mut(&mut b) }.map(take_state);
        // SAFETY: as above.
        match (unsafe { state_mut(&mut a) }, taken) {
            (_, None) => a,
            // SAFETY: as above.
            (None, Some(other)) => unsafe { new_state(fcinfo, other) },
            (Some(mine), Some(other)) => {
                if let (Some(x), Some(y)) = (mine.options, other.options) {
                    if x != y {
                        same_thresholds_error();
                    }
                }
                mine.merge(other).or_raise();
                check_live(mine);
                a
            }
        }
    }

    /// A worker's state as bytes for the leader (also `rar.baskets_state`'s
    /// final function).
    #[pg_extern(parallel_safe)]
    pub fn baskets_serial(state: Option<Internal>) -> Option<Vec<u8>> {
        let mut state = state.unwrap_or_default();
        // SAFETY: the state was made by new_state (or is empty).
        let p = unsafe { state_mut(&mut state) }?;
        Some(checked_bytes(p))
    }

    #[pg_extern(parallel_safe)]
    pub fn baskets_deserial(
        bytes: Option<&[u8]>,
        _unused: Option<Internal>,
        fcinfo: pg_sys::FunctionCallInfo,
    ) -> Internal {
        let Some(bytes) = bytes else { return Internal::default() };
        let p = read_state(bytes).or_raise();
        // SAFETY: the deserialize function of the aggregate, with its fcinfo.
        unsafe { new_state(fcinfo, p) }
    }

    /// `rar.baskets`'s final function: hands the baskets to `rar_mine`.
    #[pg_extern(parallel_safe)]
    pub fn baskets_final(state: Option<Internal>, fcinfo: pg_sys::FunctionCallInfo) -> i64 {
        // The baskets are handed over in this process's memory: a final
        // function run by a worker (a single-copy Gather over the whole
        // aggregate) would leave the reader with nothing.
        // SAFETY: a backend global, set once at process start.
        if unsafe { pg_sys::ParallelWorkerNumber } >= 0 {
            RarError::Unsupported {
                message: "rar.baskets cannot be finished in a parallel worker",
                hint: "rar's functions read tables with force_parallel_mode off; call rar.baskets only through them.",
            }
            .raise();
        }
        let mut state = state.unwrap_or_default();
        // SAFETY: the state was made by new_state (or is empty).
        let p = unsafe { state_mut(&mut state) }.map(take_state).unwrap_or_default();
        let lines = p.baskets.n_lines() as i64;
        // Called by hand, the baskets are dropped here rather than kept
        // until a later rar_mine would take them.
        // SAFETY: this call's fcinfo.
        if unsafe { crate::reader::expects_handoff(fcinfo) } {
            crate::reader::hand_over(p);
        }
        lines
    }

    /// The rules of one group as JSON objects, in `rar_mine`'s order.
    pub fn rules_json(p: Partial) -> Value {
        let Some(o) = p.options else { return json!([]) };
        let params = MineParams {
            threads: gucs::mining_threads(),
            min_support: o.min_support,
            min_confidence: o.min_confidence,
            max_length: o.max_length as usize,
            max_rules: gucs::max_rules(),
            memory_limit: gucs::memory_limit_bytes(),
            ..MineParams::default()
        };
        let rules = mine_rules(p.baskets.build(), &params, &mut || {
            check_for_interrupts!();
        })
        .or_raise();
        // jsonb holds at most 256 MB; a group past it gets a clear error
        // (PostgreSQL's own has no hint) before anything is built. What is
        // built (each rule's JSON, its text, then the jsonb) is charged to
        // rar.memory_limit first, at JSON_PEAK_PER_BYTE bytes a byte.
        let bytes: u64 = rules.rows().map(|r| r.jsonb_bytes()).sum();
        if bytes > JSONB_MAX_BYTES {
            RarError::JsonbTooLarge { rules: rules.len(), bytes }.raise();
        }
        let needed = bytes.saturating_mul(JSON_PEAK_PER_BYTE);
        if needed > params.memory_limit {
            RarError::JsonOverBudget { rules: rules.len(), needed, limit_bytes: params.memory_limit }.raise();
        }
        let mut out = Vec::with_capacity(rules.len());
        for (n, r) in rules.rows().enumerate() {
            if n % 4096 == 0 {
                check_for_interrupts!();
            }
            out.push(Rule::from(r).to_json());
        }
        Value::Array(out)
    }

    /// Bytes held at the peak of building a group's jsonb, per byte of the
    /// estimate above: the JSON values (a map and strings per rule), their
    /// text, PostgreSQL's parse of it and the jsonb itself. Measured: the
    /// backend's peak grew by 314MB for 90,000 two-item rules and 1,263MB
    /// for 360,000 (12.6 times the estimate), with some margin.
    const JSON_PEAK_PER_BYTE: u64 = 14;

    /// The most a jsonb value may hold (PostgreSQL's JENTRY_OFFLENMASK).
    const JSONB_MAX_BYTES: u64 = 0x0FFF_FFFF;

    /// `rar_rules_agg`'s final function: mines the group's baskets.
    #[pg_extern(parallel_safe)]
    pub fn rules_final(state: Option<Internal>) -> Option<JsonB> {
        let mut state = state.unwrap_or_default();
        // SAFETY: the state was made by new_state (or is empty).
        let p = unsafe { state_mut(&mut state) }.map(take_state)?;
        Some(JsonB(rules_json(p)))
    }
}

/// The transition functions of `rar.baskets` and `rar.baskets_state` (what
/// `rar_mine` reads every line of a table through), one per type pair of
/// (basket, item), written against the function manager directly: pgrx's
/// wrapper (argument iterator, context switches) cost more than the
/// transition itself, about a fifth of reading a table
/// (`benches/mine.sh`). Their SQL is below, as pgrx would declare them.
mod baskets_sfuncs {
    use pgrx::fcinfo::{pg_arg_is_null, pg_getarg_datum_raw};
    use pgrx::prelude::*;
    use pgrx::varlena;
    use rar_core::partial::Partial;

    use super::{new_state_ptr, transition_partial};
    use crate::error::RarError;

    /// A text argument as `&str`, detoasted when needed. PostgreSQL keeps
    /// the text of a UTF8 database valid UTF-8; in another encoding (a
    /// shard's database) the bytes are checked.
    unsafe fn text_arg<'a>(fcinfo: pg_sys::FunctionCallInfo, n: usize) -> Option<&'a str> {
        if pg_arg_is_null(fcinfo, n) {
            return None;
        }
        let mut p = pg_getarg_datum_raw(fcinfo, n).cast_mut_ptr::<pg_sys::varlena>();
        if varlena::varatt_is_4b_c(p) || varlena::varatt_is_1b_e(p) {
            p = pg_sys::pg_detoast_datum_packed(p);
        }
        if pg_sys::GetDatabaseEncoding() == pg_sys::pg_enc::PG_UTF8 as i32 {
            return Some(varlena::text_to_rust_str_unchecked(p));
        }
        match varlena::text_to_rust_str(p) {
            Ok(s) => Some(s),
            Err(_) => RarError::Unsupported {
                message: "rar reads only text that is valid UTF-8",
                hint: "Mine from a database with ENCODING 'UTF8', or convert the column with convert_to(..., 'UTF8').",
            }
            .raise(),
        }
    }

    unsafe fn int_arg(fcinfo: pg_sys::FunctionCallInfo, n: usize) -> Option<i64> {
        (!pg_arg_is_null(fcinfo, n)).then(|| pg_getarg_datum_raw(fcinfo, n).value() as i64)
    }

    /// Adds the row's line to the state (made on the group's first row, in
    /// the aggregate's memory context) and returns the state.
    unsafe fn step(
        fcinfo: pg_sys::FunctionCallInfo,
        basket: Option<impl super::Key>,
        item: Option<impl super::Key>,
    ) -> pg_sys::Datum {
        let state = if pg_arg_is_null(fcinfo, 0) {
            new_state_ptr(fcinfo, Partial::default())
        } else {
            // SAFETY: an internal state of these aggregates is always a
            // Partial made by new_state_ptr (here, or in the combine and
            // deserialize functions of the same aggregate).
            pg_getarg_datum_raw(fcinfo, 0).cast_mut_ptr::<Partial>()
        };
        transition_partial(&mut *state, basket, item);
        pg_sys::Datum::from(state)
    }

    macro_rules! sfunc {
        ($($name:ident, $finfo:ident: $b:ident, $i:ident;)*) => {$(
            #[no_mangle]
            pub extern "C" fn $finfo() -> &'static pg_sys::Pg_finfo_record {
                const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
                &V1
            }

            /// # Safety
            /// Called by PostgreSQL's function manager as the transition
            /// function of `rar.baskets` or `rar.baskets_state`.
            #[no_mangle]
            #[pg_guard]
            pub unsafe extern "C-unwind" fn $name(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
                step(fcinfo, $b(fcinfo, 1), $i(fcinfo, 2))
            }
        )*};
    }

    sfunc! {
        baskets_sfunc_wrapper, pg_finfo_baskets_sfunc_wrapper: text_arg, text_arg;
        baskets_sfunc_bi_wrapper, pg_finfo_baskets_sfunc_bi_wrapper: int_arg, text_arg;
        baskets_sfunc_ib_wrapper, pg_finfo_baskets_sfunc_ib_wrapper: text_arg, int_arg;
        baskets_sfunc_bb_wrapper, pg_finfo_baskets_sfunc_bb_wrapper: int_arg, int_arg;
    }
}

extension_sql!(
    r#"
CREATE FUNCTION rar."baskets_sfunc"("state" internal, "basket" TEXT, "item" TEXT) RETURNS internal
PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'baskets_sfunc_wrapper';
CREATE FUNCTION rar."baskets_sfunc_bi"("state" internal, "basket" bigint, "item" TEXT) RETURNS internal
PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'baskets_sfunc_bi_wrapper';
CREATE FUNCTION rar."baskets_sfunc_ib"("state" internal, "basket" TEXT, "item" bigint) RETURNS internal
PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'baskets_sfunc_ib_wrapper';
CREATE FUNCTION rar."baskets_sfunc_bb"("state" internal, "basket" bigint, "item" bigint) RETURNS internal
PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'baskets_sfunc_bb_wrapper';
"#,
    name = "baskets_sfuncs",
    requires = ["bootstrap"],
);

// The aggregates themselves, generated for each type pair: sql/aggregates.sql.
extension_sql_file!(
    "../../sql/aggregates.sql",
    name = "aggregates",
    requires = [
        "baskets_sfuncs",
        rar::rules_sfunc,
        rar::rules_sfunc4,
        rar::rules_sfunc_bi,
        rar::rules_sfunc4_bi,
        rar::rules_sfunc_ib,
        rar::rules_sfunc4_ib,
        rar::rules_sfunc_bb,
        rar::rules_sfunc4_bb,
        rar::baskets_combine,
        rar::baskets_serial,
        rar::baskets_deserial,
        rar::baskets_final,
        rar::rules_final
    ],
);
