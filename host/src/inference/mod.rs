//! Model inference beside the event loop. On each closed bar the engine assembles the symbol's
//! feature windows for every ensemble member (by the feature names the `[inference]` config
//! gives each) and hands them to the [`InferenceService`] thread, which batches the symbols that
//! close together, runs the ensemble (stratbox-infer, GPU or CPU) and publishes each
//! [`PredictionEvent`] into the engine's ordered queue. Backtests run the [`Predictor`] inline
//! instead, so they stay deterministic. Strategies read the latest prediction through the WIT
//! `market.predict`, whose `time` is the close time of the bar it was made from.

mod accuracy;
mod config;
mod control;
mod predictor;
mod service;

pub use accuracy::{AccuracyStatus, AccuracyTracker, Baselines, LiveAccuracy};
pub use config::{InferenceConfig, MemberConfig};
pub use control::ModelControl;
pub use predictor::{InputSpec, MemberInfo, Predictor, Request};
pub use service::{InferenceService, InferenceStatus};

use serde::Serialize;

use crate::model::{SymbolId, TimestampMs};

/// Why inference could not be set up or run.
#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
    /// The configuration does not fit the models or the features.
    #[error("inference: {0}")]
    Config(String),
    /// A model failed to load or run.
    #[error(transparent)]
    Model(#[from] stratbox_infer::InferError),
}

/// One member's view of a symbol.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberPrediction {
    /// Member name.
    pub name: String,
    /// Its class probabilities.
    pub probabilities: Vec<f64>,
}

/// The ensemble's prediction for one symbol.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PredictionEvent {
    /// The symbol.
    pub symbol: SymbolId,
    /// Close time of the last bar the windows hold.
    pub as_of: TimestampMs,
    /// When it was published: `as_of` plus the time inference took.
    pub known_at: TimestampMs,
    /// The predictor version that made it.
    pub version: u64,
    /// Weighted class probabilities.
    pub probabilities: Vec<f64>,
    /// Probability-weighted class return.
    pub expected_return: f64,
    /// One minus the normalised entropy of the probabilities.
    pub confidence: f64,
    /// Each member's probabilities.
    pub members: Vec<MemberPrediction>,
}
