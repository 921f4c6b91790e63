//! The seedable generator simulations use (SplitMix64), shared with the risk mathematics'
//! Monte Carlo.

pub use stratbox_quant::rng::Rng;
