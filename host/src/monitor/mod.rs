//! Performance measurement: the metrics of a run (returns, risk-adjusted ratios, drawdown,
//! trade statistics) from its equity curve and fills.

mod metrics;

pub use metrics::{EquityPoint, Metrics, daily_returns, drawdown, measure, ratios};
