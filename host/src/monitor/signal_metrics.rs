//! The signals' quality as metrics, labelled by source, kind and symbol, updated as each
//! signal's outcome arrives: outcomes counted, and the rolling hit rate, mean return and
//! information coefficient of the latest outcomes (the engine's quality board).

use crate::signals::quality::Quality;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// A metric of one source's signals of one kind on one symbol.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SignalLabels {
    /// Who made them (`host:trend`, a deployment).
    pub source: String,
    /// Their kind.
    pub kind: String,
    /// The symbol.
    pub symbol: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The signals' quality metrics.
#[derive(Debug, Default)]
pub struct SignalMetrics {
    outcomes: Family<SignalLabels, Counter>,
    hit_rate: Family<SignalLabels, FloatGauge>,
    mean_return: Family<SignalLabels, FloatGauge>,
    ic: Family<SignalLabels, FloatGauge>,
}

impl SignalMetrics {
    /// Registers every metric in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = SignalMetrics::default();
        registry.register(
            "signal_outcomes",
            "Signals whose horizon has passed and whose outcome was measured",
            m.outcomes.clone(),
        );
        registry.register(
            "signal_hit_rate_ratio",
            "Share of the latest outcomes with a positive return in the signal's direction",
            m.hit_rate.clone(),
        );
        registry.register(
            "signal_mean_return_ratio",
            "Mean return in the signal's direction at its horizon, latest outcomes",
            m.mean_return.clone(),
        );
        registry.register(
            "signal_rank_ic",
            "Rank correlation of strength with realised return, latest outcomes, refreshed every 25 (absent below three)",
            m.ic.clone(),
        );
        m
    }

    /// Ends the series of a source x kind x symbol the quality board dropped.
    pub fn forget(&self, key: &crate::signals::quality::Key) {
        let (source, kind, symbol) = key;
        let labels = SignalLabels {
            source: source.to_string(),
            kind: kind.as_str().to_string(),
            symbol: symbol.to_string(),
        };
        self.outcomes.remove(&labels);
        self.hit_rate.remove(&labels);
        self.mean_return.remove(&labels);
        self.ic.remove(&labels);
    }

    /// Takes in one more outcome of `quality`'s key, and the key's quality after it.
    pub fn record(&self, quality: &Quality) {
        self.outcomes.get_or_create(&labels(quality)).inc();
        self.show(quality);
    }

    /// Shows `quality` (its key's gauges), no outcome counted: a restart's starting point.
    pub fn show(&self, quality: &Quality) {
        let labels = labels(quality);
        self.hit_rate.get_or_create(&labels).set(quality.hit_rate);
        self.mean_return
            .get_or_create(&labels)
            .set(quality.mean_return);
        match quality.rank_ic {
            Some(ic) => {
                self.ic.get_or_create(&labels).set(ic);
            }
            None => {
                self.ic.remove(&labels);
            }
        }
    }
}

/// The labels of `quality`'s source x kind x symbol.
fn labels(quality: &Quality) -> SignalLabels {
    SignalLabels {
        source: quality.source.to_string(),
        kind: quality.kind.as_str().to_string(),
        symbol: quality.symbol.to_string(),
    }
}
