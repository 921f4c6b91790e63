//! Learning in the host: training sets built through the feature engine ([`dataset`]) and the
//! training command's run ([`train`]); the numerics (labels, splits, models, scores) are in
//! `stratbox-learn`.

pub mod dataset;
pub mod train;
