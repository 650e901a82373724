//! The model library (`rar_model.so`, built from `crates/rar-model`), loaded
//! with `dlopen` the first time a backend trains or uses a model. Backends
//! that only mine rules never load it, so they never map libtorch.
//! Never touched in `_PG_init` or the postmaster: CUDA does not survive
//! `fork()`.

use std::ffi::{c_char, c_void, CStr, CString};

use once_cell::sync::OnceCell;
use pgrx::pg_sys;

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
) -> i32;
type CheckFn = unsafe extern "C" fn(*const c_char) -> *mut c_char;
type FreeFn = unsafe extern "C" fn(*mut c_char, *mut u8, u64);
type AbiFn = unsafe extern "C" fn() -> u32;
type CudaFn = unsafe extern "C" fn() -> i32;

/// The library's entry points.
pub struct ModelLib {
    _lib: libloading::Library,
    pub train: TrainFn,
    check: CheckFn,
    cuda: CudaFn,
    pub free: FreeFn,
}

// The backend is single-threaded; the OnceCell only needs Sync to be static.
unsafe impl Sync for ModelLib {}
unsafe impl Send for ModelLib {}

static LIB: OnceCell<ModelLib> = OnceCell::new();

fn path() -> String {
    // SAFETY: pkglib_path is set by the postmaster before any backend runs.
    let dir = unsafe { CStr::from_ptr(std::ptr::addr_of!(pg_sys::pkglib_path) as *const c_char) }.to_string_lossy().into_owned();
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
            if abi() != 1 {
                return Err(fail(format!("ABI version {} where 1 was expected", abi())));
            }
            let train = *lib.get::<TrainFn>(b"rar_model_train").map_err(|e| fail(e.to_string()))?;
            let check = *lib.get::<CheckFn>(b"rar_model_check").map_err(|e| fail(e.to_string()))?;
            let free = *lib.get::<FreeFn>(b"rar_model_free").map_err(|e| fail(e.to_string()))?;
            let cuda = *lib.get::<CudaFn>(b"rar_model_cuda_available").map_err(|e| fail(e.to_string()))?;
            Ok(ModelLib { _lib: lib, train, check, cuda, free })
        }
    })
}

impl ModelLib {
    /// Whether libtorch sees a CUDA device (initializes CUDA in this backend).
    pub fn cuda_available(&self) -> bool {
        // SAFETY: no arguments; libtorch's own check.
        unsafe { (self.cuda)() != 0 }
    }

    /// Checks training settings; the error report as JSON when invalid.
    pub fn check(&self, config: &str) -> Option<serde_json::Value> {
        let c = CString::new(config).unwrap_or_default();
        // SAFETY: a valid C string in, a string to free (or NULL) out.
        unsafe {
            let out = (self.check)(c.as_ptr());
            if out.is_null() {
                return None;
            }
            let v = serde_json::from_str(&CStr::from_ptr(out).to_string_lossy()).ok();
            (self.free)(out, std::ptr::null_mut(), 0);
            v
        }
    }
}
