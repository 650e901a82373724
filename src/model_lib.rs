//! The model library (`rar_model.so`, built from `crates/rar-model`), loaded
//! with `dlopen` the first time a backend trains or uses a model. Backends
//! that only mine rules never load it, so they never map libtorch.
//! Never touched in `_PG_init` or the postmaster: CUDA does not survive
//! `fork()`.

use std::ffi::{c_char, c_void, CStr, CString};

use once_cell::sync::OnceCell;
use pgrx::pg_sys;

use rar_core::model_protocol::{HistoryArrays, ModelError, ScoreHistory};

use crate::error::RarError;

pub type ProgressFn = extern "C" fn(*mut c_void, *const c_char) -> i32;

type TrainFn = unsafe extern "C" fn(
    *const c_char,
    u32,
    *const u64,
    *const u32,
    u64,
    *const u64,
    *const u32,
    u64,
    *const u64,
    ProgressFn,
    *mut c_void,
    *mut *mut c_char,
    *mut *mut u8,
    *mut u64,
    *const HistoryArrays,
) -> i32;
type CheckFn = unsafe extern "C" fn(*const c_char) -> *mut c_char;
type FreeFn = unsafe extern "C" fn(*mut c_char, *mut u8, u64);
type AbiFn = unsafe extern "C" fn() -> u32;
type CudaFn = unsafe extern "C" fn() -> i32;
type LoadFn = unsafe extern "C" fn(*const c_char, u32, *const u8, u64, *mut *mut c_char) -> *mut c_void;
type ScoreFn = unsafe extern "C" fn(*mut c_void, *const u64, *const u32, u64, *const ScoreHistory, *mut f32) -> i32;

/// The library's entry points.
pub struct ModelLib {
    _lib: libloading::Library,
    pub train: TrainFn,
    check: CheckFn,
    cuda: CudaFn,
    load: LoadFn,
    score: ScoreFn,
    pub free: FreeFn,
}

// The backend is single-threaded; the OnceCell only needs Sync to be static.
unsafe impl Sync for ModelLib {}
unsafe impl Send for ModelLib {}

static LIB: OnceCell<ModelLib> = OnceCell::new();

/// The version of the library's C ABI this extension calls (3: scoring
/// takes customers' earlier baskets).
const ABI_VERSION: u32 = 3;

/// Customers' earlier baskets of the baskets being scored, for the
/// sequence model: `pool` holds baskets (vocabulary indices); `of[i]` the
/// indices into `pool` of scored basket `i`'s earlier baskets, oldest first.
#[derive(Debug, Default)]
pub struct Earlier {
    pub pool: Vec<Vec<u32>>,
    pub of: Vec<Vec<u32>>,
}

impl Earlier {
    /// The earlier baskets of the one basket being scored, oldest first.
    pub fn of_one(baskets: Vec<Vec<u32>>) -> Earlier {
        Earlier { of: vec![(0..baskets.len() as u32).collect()], pool: baskets }
    }
}

fn path() -> String {
    // SAFETY: pkglib_path is set by the postmaster before any backend runs.
    let dir = unsafe { CStr::from_ptr(std::ptr::addr_of!(pg_sys::pkglib_path) as *const c_char) }
        .to_string_lossy()
        .into_owned();
    format!("{dir}/rar_model.so")
}

/// The loaded library, loading it on first use.
pub fn get() -> Result<&'static ModelLib, RarError> {
    LIB.get_or_try_init(|| {
        let p = path();
        let fail = |e: String| RarError::ModelLibrary { path: p.clone(), message: e };
        // SAFETY: the library's initializers (libtorch's) run here, in the
        // backend that needs them.
        unsafe {
            let lib = libloading::Library::new(&p).map_err(|e| fail(e.to_string()))?;
            let abi: libloading::Symbol<AbiFn> = lib.get(b"rar_model_abi_version").map_err(|e| fail(e.to_string()))?;
            if abi() != ABI_VERSION {
                return Err(fail(format!("ABI version {} where {ABI_VERSION} was expected", abi())));
            }
            let train = *lib.get::<TrainFn>(b"rar_model_train").map_err(|e| fail(e.to_string()))?;
            let check = *lib.get::<CheckFn>(b"rar_model_check").map_err(|e| fail(e.to_string()))?;
            let free = *lib.get::<FreeFn>(b"rar_model_free").map_err(|e| fail(e.to_string()))?;
            let cuda = *lib.get::<CudaFn>(b"rar_model_cuda_available").map_err(|e| fail(e.to_string()))?;
            let load = *lib.get::<LoadFn>(b"rar_model_load").map_err(|e| fail(e.to_string()))?;
            let score = *lib.get::<ScoreFn>(b"rar_model_score").map_err(|e| fail(e.to_string()))?;
            Ok(ModelLib { _lib: lib, train, check, cuda, load, score, free })
        }
    })
}

impl ModelLib {
    /// Whether libtorch sees a CUDA device (initializes CUDA in this backend).
    pub fn cuda_available(&self) -> bool {
        // SAFETY: no arguments; libtorch's own check.
        unsafe { (self.cuda)() != 0 }
    }

    /// Checks training settings; the error when invalid.
    pub fn check(&self, config: &str) -> Option<ModelError> {
        let c = CString::new(config).unwrap_or_default();
        // SAFETY: a valid C string in, a string to free (or NULL) out.
        unsafe {
            let out = (self.check)(c.as_ptr());
            if out.is_null() {
                return None;
            }
            let e = ModelError::parse(&CStr::from_ptr(out).to_string_lossy());
            (self.free)(out, std::ptr::null_mut(), 0);
            Some(e)
        }
    }
}

/// A model loaded in this backend for scoring (kept for the backend's life,
/// by id and row version).
pub struct LoadedModel {
    handle: *mut c_void,
    /// Its `rar.models.model_id`, for errors.
    pub id: i64,
    pub vocab: Vec<String>,
    pub index: std::collections::HashMap<String, u32>,
    /// For the sequence model, how many earlier baskets of a customer it
    /// reads; `None` for the basket-only models.
    pub history: Option<usize>,
}

thread_local! {
    /// Loaded models by id and row version (`xmin`): a row that changed,
    /// or an id used again after the extension was created again, loads anew.
    static MODELS: std::cell::RefCell<std::collections::HashMap<(i64, String), std::rc::Rc<LoadedModel>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

impl ModelLib {
    /// The model `model_id`, loaded on first use with `fetch` (settings,
    /// vocabulary, weights) and cached for this backend.
    pub fn model(
        &self,
        model_id: i64,
        fetch: impl FnOnce() -> Result<(String, Vec<String>, Vec<u8>), RarError>,
    ) -> Result<std::rc::Rc<LoadedModel>, RarError> {
        let row_version = crate::spi::one::<String>(
            "SELECT xmin::pg_catalog.text FROM rar.models WHERE model_id = $1",
            &[model_id.into()],
        )?
        .unwrap_or_default();
        let key = (model_id, row_version);
        if let Some(m) = MODELS.with(|c| c.borrow().get(&key).cloned()) {
            return Ok(m);
        }
        let (config, vocab, weights) = fetch()?;
        if vocab.len() > u32::MAX as usize {
            return Err(RarError::BadModel { model_id, message: format!("its vocabulary has {} items", vocab.len()) });
        }
        let index: std::collections::HashMap<String, u32> =
            vocab.iter().enumerate().map(|(k, v)| (v.clone(), k as u32)).collect();
        // Each item once: a vocabulary an owner edited to repeat items would
        // score one of the copies and recommend nothing, without a word.
        if index.len() != vocab.len() {
            return Err(RarError::BadModel { model_id, message: "Its vocabulary names an item twice.".into() });
        }
        let settings: serde_json::Value = serde_json::from_str(&config).unwrap_or_default();
        let history = (settings["model"] == "gru")
            .then(|| settings["history"].as_u64().map_or(rar_core::history::DEFAULT_HISTORY as usize, |h| h as usize));
        let c = CString::new(config).unwrap_or_default();
        let mut err: *mut c_char = std::ptr::null_mut();
        // SAFETY: valid buffers in, a handle or an error string out.
        let handle =
            unsafe { (self.load)(c.as_ptr(), vocab.len() as u32, weights.as_ptr(), weights.len() as u64, &mut err) };
        if handle.is_null() {
            let message = if err.is_null() {
                "unknown error".to_string()
            } else {
                // SAFETY: a string from the library, freed once.
                let m = unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned();
                unsafe { (self.free)(err, std::ptr::null_mut(), 0) };
                m
            };
            return Err(match ModelError::parse(&message) {
                ModelError::TooLarge { needed, limit } => RarError::ModelTooLarge { needed, limit },
                ModelError::Config { name, value, expected } => RarError::BadModel {
                    model_id,
                    message: format!("Its setting {name} is {value}; expected {expected}."),
                },
                ModelError::Torch { message } => {
                    RarError::BadModel { model_id, message: crate::error::torch_message(&message) }
                }
                other => RarError::BadModel { model_id, message: format!("{other:?}") },
            });
        }
        let m = std::rc::Rc::new(LoadedModel { handle, id: model_id, vocab, index, history });
        MODELS.with(|c| c.borrow_mut().insert(key, m.clone()));
        Ok(m)
    }

    /// Item probabilities for one basket of vocabulary indices (and, for
    /// the sequence model, its customer's earlier baskets).
    pub fn score(&self, m: &LoadedModel, basket: &[u32], earlier: Option<&Earlier>) -> Result<Vec<f32>, RarError> {
        Ok(self.score_batch(m, &[basket.to_vec()], earlier)?.remove(0))
    }

    /// Item probabilities for many baskets at once, one row per basket;
    /// `earlier`, when given, has one entry per basket.
    pub fn score_batch(
        &self,
        m: &LoadedModel,
        baskets: &[Vec<u32>],
        earlier: Option<&Earlier>,
    ) -> Result<Vec<Vec<f32>>, RarError> {
        use rar_core::vocab::csr;
        let (offsets, items) = csr(baskets.iter().map(|b| b.iter().copied()));
        let history = earlier.map(|e| {
            let pool = csr(e.pool.iter().map(|b| b.iter().copied()));
            let refs = csr((0..baskets.len()).map(|i| e.of.get(i).into_iter().flatten().copied()));
            (pool, refs)
        });
        let arrays = history.as_ref().map(|((po, pi), (ro, rr))| ScoreHistory {
            pool_offsets: po.as_ptr(),
            pool_items: pi.as_ptr(),
            n_pool: (po.len() - 1) as u64,
            offsets: ro.as_ptr(),
            refs: rr.as_ptr(),
        });
        let v = m.vocab.len();
        let mut out = vec![0f32; baskets.len() * v];
        // SAFETY: `n` baskets in CSR form (and their earlier baskets, which
        // `arrays` points into while `history` lives) in, `n × vocab`
        // floats out.
        let status = unsafe {
            (self.score)(
                m.handle,
                offsets.as_ptr(),
                items.as_ptr(),
                baskets.len() as u64,
                arrays.as_ref().map_or(std::ptr::null(), |a| a as *const ScoreHistory),
                out.as_mut_ptr(),
            )
        };
        if status != 0 {
            return Err(RarError::Torch { message: "scoring failed".into() });
        }
        // Weights a table owner overwrote can load and still score nothing:
        // NaN would rank as a recommendation and score as popularity.
        if out.iter().any(|p| p.is_nan()) {
            return Err(RarError::BadModel {
                model_id: m.id,
                message: "Its scores are not numbers (NaN): its weights are damaged.".into(),
            });
        }
        Ok(out.chunks(v.max(1)).map(<[f32]>::to_vec).collect())
    }
}

/// Settings, vocabulary and weights of a stored model, for `ModelLib::model`.
/// The settings are the stored ones under this session's budget
/// (`rar.memory_limit`) and thread cap, so that a model whose settings were
/// edited cannot allocate more than a training run could.
pub fn fetch(model_id: i64) -> Result<(String, Vec<String>, Vec<u8>), RarError> {
    let (params, vocab, weights) = pgrx::Spi::connect(|client| {
        let t = client.select(
            "SELECT params, vocab, weights FROM rar.models WHERE model_id = $1",
            Some(1),
            &[model_id.into()],
        )?;
        if t.is_empty() {
            return Ok(None);
        }
        let r = t.first();
        Ok::<_, pgrx::spi::SpiError>(Some((
            r.get::<crate::args::Json>(1)?.map(|j| j.0).unwrap_or(serde_json::Value::Null),
            r.get::<Vec<Option<String>>>(2)?.unwrap_or_default(),
            r.get::<Vec<u8>>(3)?.unwrap_or_default(),
        )))
    })?
    .ok_or_else(|| RarError::BadModel {
        model_id,
        message: "It is not in rar.models, or not readable by this role.".into(),
    })?;
    let serde_json::Value::Object(mut config) = params else {
        return Err(RarError::BadModel { model_id, message: "Its params are not a JSON object.".into() });
    };
    config.insert("memory_limit".into(), crate::gucs::memory_limit_bytes().into());
    config.insert("threads".into(), (crate::gucs::mining_threads() as u64).into());
    let vocab = vocab
        .into_iter()
        .map(|v| v.ok_or_else(|| RarError::BadModel { model_id, message: "Its vocabulary holds NULL.".into() }))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((serde_json::Value::Object(config).to_string(), vocab, weights))
}
