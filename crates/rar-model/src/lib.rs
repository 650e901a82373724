//! `rar-model`: the libtorch basket models of the `rar` extension.
//!
//! The extension never links this crate: it loads the shared library
//! (`rar_model.so` in PostgreSQL's lib folder) with `dlopen` the first time a
//! backend trains or uses a model, so that backends that only mine rules
//! never map libtorch (about 130 MB of memory and half a second to load).
//!
//! # Layout
//! - [`config`]: hyperparameters, defaults and ranges.
//! - [`data`]: sparse baskets of vocabulary indices, masking, a seedable RNG.
//! - [`nets`]: the three architectures (mlp, denoising autoencoder, set
//!   transformer) and batch building.
//! - [`train`]: the training loop, evaluation (recall@k, NDCG@k, the
//!   popularity baseline) and early stopping.
//! - [`ffi`]: the C ABI the extension calls.

pub mod config;
pub mod data;
pub mod ffi;
pub mod nets;
pub mod train;
pub mod weights;
