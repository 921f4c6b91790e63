//! Learning in the host: training sets built through the feature engine ([`dataset`]) and the
//! training command's run ([`train`]), the evaluation of what it wrote on later data
//! ([`evaluate`]); the numerics (labels, splits, models, scores) are in
//! `stratbox-learn`.

pub mod dataset;
pub mod evaluate;
pub mod train;
