//! Neural-network inference for stratbox: the LSTM, Transformer and CNN of
//! `shared/models/reference_models.py`, loaded from PyTorch's safetensors by state_dict name and
//! run either by our own WGSL compute shaders on wgpu ([`gpu`]) or on the CPU with ndarray
//! ([`cpu`], the reference and the fallback). An [`Ensemble`] combines any number of models.
//!
//! ```no_run
//! use stratbox_infer::{Compute, DeviceChoice, Model};
//! let compute = Compute::select(DeviceChoice::Auto)?;
//! let mut model = Model::load("lstm.json".as_ref(), "lstm.safetensors".as_ref(), &compute)?;
//! let input = ndarray::Array3::<f32>::zeros((8, 64, model.manifest().n_features()));
//! let logits = model.infer(input.view())?; // (8, n_out)
//! # Ok::<(), stratbox_infer::InferError>(())
//! ```

pub mod cpu;
mod device;
mod ensemble;
pub mod gpu;
pub mod manifest;
mod model;
pub mod tensors;
pub mod weights;

pub use device::{Compute, DeviceChoice};
pub use ensemble::{
    Ensemble, EnsembleMember, EnsembleOutput, MemberOutput, Prediction, default_class_returns,
};
pub use manifest::Manifest;
pub use model::Model;
pub use weights::Weights;

/// What can go wrong loading or running a model; each message names the file, tensor or field.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// The manifest is not valid JSON for a known architecture, or a hyperparameter is impossible.
    #[error("bad model manifest: {0}")]
    Manifest(String),
    /// The weights do not match the manifest.
    #[error("bad model weights: {0}")]
    Weights(String),
    /// The input does not fit the model.
    #[error("bad model input: {0}")]
    Input(String),
    /// No adapter could be used, or the GPU failed.
    #[error("gpu: {0}")]
    Gpu(String),
    /// The ensemble configuration is inconsistent.
    #[error("bad ensemble: {0}")]
    Ensemble(String),
}

impl InferError {
    /// The message without its category prefix.
    pub fn detail(&self) -> &str {
        match self {
            InferError::Io(m)
            | InferError::Manifest(m)
            | InferError::Weights(m)
            | InferError::Input(m)
            | InferError::Gpu(m)
            | InferError::Ensemble(m) => m,
        }
    }
}
