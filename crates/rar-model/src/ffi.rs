//! The C ABI of the library, called by the extension through `dlopen`.
//!
//! Nothing unwinds across it: every call runs under `catch_unwind`, and
//! libtorch errors come back as a JSON report. The progress callback runs on
//! the caller's thread and answers 1 to stop (the extension answers 1 when
//! PostgreSQL has a cancel or timeout pending, then raises the error itself).

use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use rar_core::model_protocol::{HistoryArrays, ModelError, ScoreHistory};

use crate::config::TrainConfig;
use crate::data::{Histories, HistoryData, SparseBaskets};
use crate::train::{train, Control, Scorer, TrainData, TrainError};

/// Progress callback: `(user data, progress JSON) -> 0 to go on, 1 to stop`.
pub type ProgressFn = extern "C" fn(*mut c_void, *const c_char) -> i32;

/// ABI version; the extension checks it after loading the library.
#[no_mangle]
pub extern "C" fn rar_model_abi_version() -> u32 {
    3
}

/// Checks settings without training: NULL when valid, else an error report
/// (free it with `rar_model_free`).
///
/// # Safety
/// `config_json` must be a valid C string.
#[no_mangle]
pub unsafe extern "C" fn rar_model_check(config_json: *const c_char) -> *mut c_char {
    let text = CStr::from_ptr(config_json).to_string_lossy().into_owned();
    match catch_unwind(|| TrainConfig::from_json(&text).and_then(|c| server_model(&c, &text))) {
        Ok(Ok(_)) => std::ptr::null_mut(),
        Ok(Err(c)) => CString::new(error_json(&TrainError::Config(c)).to_json()).unwrap_or_default().into_raw(),
        Err(_) => CString::new(torch("panic while checking settings")).unwrap_or_default().into_raw(),
    }
}

/// Settings that only one model reads are refused for the others rather
/// than ignored: `history` is the sequence model's.
fn server_model(c: &TrainConfig, text: &str) -> Result<(), crate::config::ConfigError> {
    let bad = |name: &str, value: &str, expected: &str| {
        Err(crate::config::ConfigError { name: name.into(), value: value.into(), expected: expected.into() })
    };
    if c.model == "gru" {
        return Ok(());
    }
    let given = serde_json::from_str::<serde_json::Value>(text).ok();
    if let Some(h) = given.as_ref().and_then(|v| v.get("history")) {
        return bad("history", &h.to_string(), "no value: only the sequence model 'gru' reads it");
    }
    Ok(())
}

/// Whether libtorch sees a CUDA device.
#[no_mangle]
pub extern "C" fn rar_model_cuda_available() -> i32 {
    catch_unwind(tch::Cuda::is_available).unwrap_or(false) as i32
}

unsafe fn sparse(offsets: *const u64, items: *const u32, n: u64) -> SparseBaskets {
    let offsets = std::slice::from_raw_parts(offsets, n as usize + 1).to_vec();
    let len = offsets[n as usize] as usize;
    let items = if len == 0 { Vec::new() } else { std::slice::from_raw_parts(items, len).to_vec() };
    SparseBaskets { offsets, items }
}

/// # Safety
/// As [`sparse`]: the refs of `n` baskets.
unsafe fn histories(offsets: *const u64, refs: *const u32, n: u64) -> Histories {
    let b = sparse(offsets, refs, n);
    Histories { offsets: b.offsets, refs: b.items }
}

fn error_json(e: &TrainError) -> ModelError {
    match e {
        TrainError::Config(c) => {
            ModelError::Config { name: c.name.clone(), value: c.value.clone(), expected: c.expected.clone() }
        }
        TrainError::NoCuda => ModelError::NoCuda,
        TrainError::TooLarge { needed, limit } => ModelError::TooLarge { needed: *needed, limit: *limit },
        TrainError::TooFewBaskets { train, valid } => {
            ModelError::TooFewBaskets { train: *train as u64, valid: *valid as u64 }
        }
        TrainError::Cancelled => ModelError::Cancelled,
        TrainError::Torch(m) => ModelError::Torch { message: m.clone() },
    }
}

fn torch(message: &str) -> String {
    ModelError::Torch { message: message.into() }.to_json()
}

/// Trains a model. Returns 0 and sets `out_report` (JSON) and `out_weights`
/// on success; 1 with an error report in `out_report` otherwise. Free both
/// with `rar_model_free`.
///
/// # Safety
/// Pointers must be valid for the lengths given: `*_offsets` has `n + 1`
/// entries, `*_items` `offsets[n]`, `counts` `vocab`; `history` is NULL or
/// points to arrays of those sizes (see [`HistoryArrays`]).
#[no_mangle]
pub unsafe extern "C" fn rar_model_train(
    config_json: *const c_char,
    vocab: u32,
    train_offsets: *const u64,
    train_items: *const u32,
    n_train: u64,
    valid_offsets: *const u64,
    valid_items: *const u32,
    n_valid: u64,
    counts: *const u64,
    progress: ProgressFn,
    user: *mut c_void,
    out_report: *mut *mut c_char,
    out_weights: *mut *mut u8,
    out_len: *mut u64,
    history: *const HistoryArrays,
) -> i32 {
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<(String, Vec<u8>), ModelError> {
        let cfg_text = CStr::from_ptr(config_json).to_string_lossy().into_owned();
        let cfg = TrainConfig::from_json(&cfg_text).map_err(|c| error_json(&TrainError::Config(c)))?;
        let history = history.as_ref().map(|h| HistoryData {
            pool: sparse(h.pool_offsets, h.pool_items, h.n_pool),
            train: histories(h.train_offsets, h.train_refs, n_train),
            valid: histories(h.valid_offsets, h.valid_refs, n_valid),
        });
        let data = TrainData {
            vocab: vocab as i64,
            train: sparse(train_offsets, train_items, n_train),
            valid: sparse(valid_offsets, valid_items, n_valid),
            item_counts: std::slice::from_raw_parts(counts, vocab as usize).to_vec(),
            history,
        };
        let mut on_progress = |p: &crate::train::Progress| {
            let text = CString::new(serde_json::to_string(p).unwrap_or_default()).unwrap_or_default();
            if progress(user, text.as_ptr()) == 0 {
                Control::Continue
            } else {
                Control::Stop
            }
        };
        let out = train(&cfg, &data, &mut on_progress).map_err(|e| error_json(&e))?;
        Ok((serde_json::to_string(&out.report).unwrap_or_default(), out.weights))
    }));
    let (status, report, weights) = match result {
        Ok(Ok((r, w))) => (0, r, w),
        Ok(Err(e)) => (1, e.to_json(), Vec::new()),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            (1, torch(&msg), Vec::new())
        }
    };
    *out_report = CString::new(report).unwrap_or_default().into_raw();
    let mut w = weights.into_boxed_slice();
    *out_len = w.len() as u64;
    *out_weights = w.as_mut_ptr();
    std::mem::forget(w);
    status
}

/// Frees what `rar_model_train` returned.
///
/// # Safety
/// The pointers must come from one `rar_model_train` call, freed once.
#[no_mangle]
pub unsafe extern "C" fn rar_model_free(report: *mut c_char, weights: *mut u8, len: u64) {
    if !report.is_null() {
        drop(CString::from_raw(report));
    }
    if !weights.is_null() {
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(weights, len as usize)));
    }
}

/// Loads a trained model for scoring; NULL (with an error report in
/// `out_error`, freed with `rar_model_free`) when it cannot be loaded.
///
/// # Safety
/// `config_json` is a C string; `weights` has `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn rar_model_load(
    config_json: *const c_char,
    vocab: u32,
    weights: *const u8,
    len: u64,
    out_error: *mut *mut c_char,
) -> *mut c_void {
    *out_error = std::ptr::null_mut();
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<Scorer, ModelError> {
        let text = CStr::from_ptr(config_json).to_string_lossy().into_owned();
        let cfg = TrainConfig::from_json(&text).map_err(|c| error_json(&TrainError::Config(c)))?;
        let w = std::slice::from_raw_parts(weights, len as usize);
        Scorer::load(&cfg, vocab as i64, w).map_err(|e| error_json(&e))
    }));
    match result {
        Ok(Ok(s)) => Box::into_raw(Box::new(s)) as *mut c_void,
        Ok(Err(e)) => {
            *out_error = CString::new(e.to_json()).unwrap_or_default().into_raw();
            std::ptr::null_mut()
        }
        Err(_) => {
            *out_error = CString::new(torch("panic while loading the model")).unwrap_or_default().into_raw();
            std::ptr::null_mut()
        }
    }
}

/// Scores `n` baskets (CSR) with a loaded model into `out` (`n × vocab`
/// floats), the sequence model with `history` (NULL: customers without
/// earlier baskets). Returns 0, or 1 on a libtorch error or an index
/// outside the vocabulary or the pool.
///
/// # Safety
/// `model` comes from `rar_model_load`; the arrays have the sizes above;
/// `history` is NULL or points to arrays of the sizes [`ScoreHistory`] says.
#[no_mangle]
pub unsafe extern "C" fn rar_model_score(
    model: *mut c_void,
    offsets: *const u64,
    items: *const u32,
    n: u64,
    history: *const ScoreHistory,
    out: *mut f32,
) -> i32 {
    let scorer = &*(model as *const Scorer);
    let b = sparse(offsets, items, n);
    let earlier =
        history.as_ref().map(|h| (sparse(h.pool_offsets, h.pool_items, h.n_pool), histories(h.offsets, h.refs, n)));
    if let Some((pool, refs)) = &earlier {
        let vocab = scorer.vocab() as u64;
        if pool.items.iter().any(|&i| i as u64 >= vocab) || refs.refs.iter().any(|&k| k as usize >= pool.len()) {
            return 1;
        }
    }
    let lists: Vec<&[u32]> = (0..b.len()).map(|i| b.basket(i)).collect();
    match catch_unwind(AssertUnwindSafe(|| scorer.score(&lists, earlier.as_ref().map(|(p, r)| (p, r))))) {
        Ok(scores) => {
            std::ptr::copy_nonoverlapping(scores.as_ptr(), out, scores.len());
            0
        }
        Err(_) => 1,
    }
}

/// Frees a model loaded by `rar_model_load`.
///
/// # Safety
/// `model` comes from `rar_model_load` and is freed once.
#[no_mangle]
pub unsafe extern "C" fn rar_model_unload(model: *mut c_void) {
    if !model.is_null() {
        drop(Box::from_raw(model as *mut Scorer));
    }
}
