//! Performance measurement: the metrics of a run (returns, risk-adjusted ratios, drawdown,
//! trade statistics) from its equity curve and fills, the service's metrics for Prometheus,
//! and the service's alerts.

pub mod alerts;
mod metrics;
mod prometheus;
mod signal_metrics;
mod venue_metrics;

pub use metrics::{EquityPoint, Metrics, daily_returns, drawdown, measure, ratios};
pub use prometheus::{DeploymentLabel, RejectionLabels, ServiceMetrics};
pub use signal_metrics::{SignalLabels, SignalMetrics};
