//! Learning for stratbox, without I/O: what a model is trained to predict ([`labels`]), which
//! samples it may learn from for each test window ([`split`]), and the models trained in the
//! host ([`logistic`], [`gbt`], the networks of [`neural`]), their probabilities' calibration
//! ([`calibration`]), and how good their predictions were out of sample ([`metrics`]).
//!
//! Samples are indexed by the bar they are made at: sample `t` sees bars up to and including
//! `t` and its label is known at the close of bar `end >= t + 1`. Nothing here reads past a
//! sample's own bar to make its inputs, and the splits drop every training sample whose label
//! reaches into the window it is tested on.

pub mod calibration;
pub mod gbt;
pub mod labels;
pub mod logistic;
pub mod metrics;
pub mod neural;
pub mod split;

/// What can be wrong with a learning problem; each message names the setting or the data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LearnError {
    /// A setting cannot be used.
    #[error("{0}")]
    Config(String),
    /// The data cannot be learnt from.
    #[error("{0}")]
    Data(String),
}
