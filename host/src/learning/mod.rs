//! Learning in the host: training sets built through the feature engine ([`dataset`]) and the
//! training command's run ([`train`]), the evaluation of what it wrote on later data
//! ([`evaluate`], with ensembles judged on held-out samples by [`judge`]), the registry's
//! record of a run ([`registry`]) and retraining inside the service ([`retrain`]); the
//! numerics (labels, splits, models, scores) are in `stratbox-learn`.

pub mod dataset;
pub mod evaluate;
pub mod judge;
pub mod registry;
pub mod retrain;
pub mod train;
