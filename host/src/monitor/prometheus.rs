//! The service's metrics in Prometheus' text exposition format (`GET /metrics`), kept by the
//! engine as it runs: events and callback latency per deployment, CPU share, orders, fills and
//! rejections by rule, equity, realised PnL, drawdown, VaR, exposure, trading state and the
//! signals' quality by source, kind and symbol; and, at
//! each scrape, the live feeds' lag, messages, reconnects and resynchronisations per symbol,
//! the journal's backlog and the inference thread's latency and counts.
//! Names follow Prometheus' conventions (base units in names, `_total` counters).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

/// A metric of one deployment.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeploymentLabel {
    /// The deployment's name.
    pub deployment: String,
}

/// A refusal of one deployment's order, by the rule that refused it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectionLabels {
    /// The deployment's name.
    pub deployment: String,
    /// The rule (`max-position`, `filter:LOT_SIZE`, `account:price-band`).
    pub rule: String,
}

/// A metric of one symbol's feed.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SymbolLabel {
    /// The symbol.
    pub symbol: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The metrics the service exports.
#[derive(Debug)]
pub struct ServiceMetrics {
    registry: Registry,
    /// Market events delivered, per deployment.
    pub events: Family<DeploymentLabel, Counter>,
    /// Wall time of each guest callback, per deployment.
    pub callback_seconds: Family<DeploymentLabel, Histogram>,
    /// Share of the CPU window spent in the deployment's callbacks.
    pub cpu_share: Family<DeploymentLabel, FloatGauge>,
    /// Orders accepted by the checks.
    pub orders: Family<DeploymentLabel, Counter>,
    /// Fills (executions).
    pub fills: Family<DeploymentLabel, Counter>,
    /// Orders refused, by rule.
    pub rejections: Family<RejectionLabels, Counter>,
    /// Equity in the budget's valuation asset.
    pub equity: Family<DeploymentLabel, FloatGauge>,
    /// Realised profit and loss, summed over symbols, in the quote assets.
    pub realized_pnl: Family<DeploymentLabel, FloatGauge>,
    /// Unrealised profit and loss at the last price, summed over symbols.
    pub unrealized_pnl: Family<DeploymentLabel, FloatGauge>,
    /// Fall of equity from its peak, as a ratio.
    pub drawdown: Family<DeploymentLabel, FloatGauge>,
    /// One-day 95 % VaR of equity, as a ratio.
    pub var: Family<DeploymentLabel, FloatGauge>,
    /// Gross exposure in the valuation asset.
    pub gross_exposure: Family<DeploymentLabel, FloatGauge>,
    /// Trading state: 0 active, 1 reducing, 2 halted.
    pub trading_state: Family<DeploymentLabel, Gauge>,
    feed_lag: Family<SymbolLabel, FloatGauge>,
    feed_messages: Family<SymbolLabel, Counter>,
    feed_reconnects: Family<SymbolLabel, Counter>,
    feed_resyncs: Family<SymbolLabel, Counter>,
    feed_crossed: Family<SymbolLabel, Counter>,
    feed_late: Family<SymbolLabel, Counter>,
    journal_backlog: Gauge,
    journal_queue: OnceLock<crate::journal::JournalProgress>,
    inference_latency: FloatGauge,
    inference_batches: Counter,
    inference_predictions: Counter,
    venue: super::venue_metrics::VenueMetrics,
    /// The signals' quality, by source, kind and symbol.
    pub signals: super::signal_metrics::SignalMetrics,
}

/// Brings a counter that mirrors a running total kept elsewhere up to `total`.
pub(super) fn raise_to(counter: &Counter, total: u64) {
    let seen = counter.get();
    if total > seen {
        counter.inc_by(total - seen);
    }
}

fn callback_histogram() -> Histogram {
    // 1 µs to ~4 s.
    Histogram::new(exponential_buckets(1e-6, 4.0, 12))
}

impl Default for ServiceMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("stratbox");
        let events = Family::default();
        registry.register(
            "events",
            "Market events delivered to a deployment",
            events.clone(),
        );
        let callback_seconds = Family::<DeploymentLabel, Histogram>::new_with_constructor(
            callback_histogram as fn() -> Histogram,
        );
        let callback_seconds_family: Family<DeploymentLabel, Histogram> = callback_seconds.clone();
        registry.register_with_unit(
            "callback_duration",
            "Wall time of a deployment's guest callback, host calls included",
            Unit::Seconds,
            callback_seconds_family,
        );
        let cpu_share = Family::default();
        registry.register(
            "cpu_share_ratio",
            "Share of the deployment's CPU window spent in its callbacks",
            cpu_share.clone(),
        );
        let orders = Family::default();
        registry.register(
            "orders",
            "Orders accepted by the risk checks",
            orders.clone(),
        );
        let fills = Family::default();
        registry.register(
            "fills",
            "Executions of a deployment's orders",
            fills.clone(),
        );
        let rejections = Family::default();
        registry.register(
            "rejections",
            "Orders refused, by the rule that refused them",
            rejections.clone(),
        );
        let equity = Family::default();
        registry.register(
            "equity",
            "Equity in the deployment's valuation asset",
            equity.clone(),
        );
        let realized_pnl = Family::default();
        registry.register(
            "realized_pnl",
            "Realised profit and loss, summed over symbols",
            realized_pnl.clone(),
        );
        let unrealized_pnl = Family::default();
        registry.register(
            "unrealized_pnl",
            "Unrealised profit and loss of the open positions at the last price, summed over symbols",
            unrealized_pnl.clone(),
        );
        let drawdown = Family::default();
        registry.register(
            "drawdown_ratio",
            "Fall of equity from its peak",
            drawdown.clone(),
        );
        let var = Family::default();
        registry.register(
            "var_ratio",
            "One-day 95% value at risk of equity",
            var.clone(),
        );
        let gross_exposure = Family::default();
        registry.register(
            "gross_exposure",
            "Sum of absolute position notionals in the valuation asset",
            gross_exposure.clone(),
        );
        let trading_state = Family::default();
        registry.register(
            "trading_state",
            "Trading state: 0 active, 1 reducing, 2 halted",
            trading_state.clone(),
        );
        let feed_lag = Family::default();
        registry.register_with_unit(
            "feed_lag",
            "Latest receive time minus exchange time of a symbol's feed",
            Unit::Seconds,
            feed_lag.clone(),
        );
        let feed_messages = Family::default();
        registry.register(
            "feed_messages",
            "Messages a symbol's feed read",
            feed_messages.clone(),
        );
        let feed_reconnects = Family::default();
        registry.register(
            "feed_reconnects",
            "Connections of a symbol's feed opened after the first",
            feed_reconnects.clone(),
        );
        let feed_resyncs = Family::default();
        registry.register(
            "feed_resyncs",
            "Order book rebuilds after a gap in update ids",
            feed_resyncs.clone(),
        );
        let feed_crossed = Family::default();
        registry.register(
            "feed_crossed_books",
            "Depth diffs after which the local book was crossed (best bid at or above best ask)",
            feed_crossed.clone(),
        );
        let feed_late = Family::default();
        registry.register(
            "feed_late_diffs",
            "Depth diffs received more than a second later than the recent fastest",
            feed_late.clone(),
        );
        let journal_backlog = Gauge::default();
        registry.register(
            "journal_backlog_entries",
            "Journal entries queued and not yet written to the store",
            journal_backlog.clone(),
        );
        let inference_latency = FloatGauge::default();
        registry.register_with_unit(
            "inference_last_latency",
            "Time from the first request of the last inference batch to its publication",
            Unit::Seconds,
            inference_latency.clone(),
        );
        let inference_batches = Counter::default();
        registry.register(
            "inference_batches",
            "Inference batches run",
            inference_batches.clone(),
        );
        let inference_predictions = Counter::default();
        registry.register(
            "inference_predictions",
            "Model predictions published",
            inference_predictions.clone(),
        );
        let venue = super::venue_metrics::VenueMetrics::register(&mut registry);
        let signals = super::signal_metrics::SignalMetrics::register(&mut registry);
        ServiceMetrics {
            venue,
            signals,
            registry,
            inference_latency,
            inference_batches,
            inference_predictions,
            journal_backlog,
            journal_queue: OnceLock::new(),
            feed_lag,
            feed_messages,
            feed_reconnects,
            feed_resyncs,
            feed_crossed,
            feed_late,
            events,
            callback_seconds,
            cpu_share,
            orders,
            fills,
            rejections,
            equity,
            realized_pnl,
            unrealized_pnl,
            drawdown,
            var,
            gross_exposure,
            trading_state,
        }
    }
}

impl ServiceMetrics {
    /// The label of deployment `name`.
    pub fn label(name: &str) -> DeploymentLabel {
        DeploymentLabel {
            deployment: name.to_string(),
        }
    }

    /// Ends the series of a removed deployment (its rejection counters, by rule, stay).
    pub fn forget(&self, label: &DeploymentLabel) {
        self.events.remove(label);
        self.callback_seconds.remove(label);
        self.cpu_share.remove(label);
        self.orders.remove(label);
        self.fills.remove(label);
        for gauge in [
            &self.equity,
            &self.realized_pnl,
            &self.unrealized_pnl,
            &self.drawdown,
            &self.var,
            &self.gross_exposure,
        ] {
            gauge.remove(label);
        }
        self.trading_state.remove(label);
    }

    /// Takes the live feeds' counters (by symbol) into the metrics, as of now.
    pub fn record_feeds(&self, feeds: &[(String, crate::feeds::binance::ws::FeedCounters)]) {
        let to = |family: &Family<SymbolLabel, Counter>, label: &SymbolLabel, total: u64| {
            raise_to(&family.get_or_create(label), total);
        };
        for (symbol, c) in feeds {
            let label = SymbolLabel {
                symbol: symbol.clone(),
            };
            self.feed_lag
                .get_or_create(&label)
                .set(c.lag_ms as f64 / 1e3);
            to(&self.feed_messages, &label, c.messages);
            to(&self.feed_reconnects, &label, c.reconnects);
            to(&self.feed_resyncs, &label, c.resyncs);
            to(&self.feed_crossed, &label, c.crossed);
            to(&self.feed_late, &label, c.late);
        }
    }

    /// Takes the inference thread's status into the metrics, as of now.
    pub fn record_inference(&self, status: &crate::inference::InferenceStatus) {
        self.inference_latency.set(status.last_latency_ms / 1e3);
        raise_to(&self.inference_batches, status.batches);
        raise_to(&self.inference_predictions, status.predictions);
    }

    /// Reports the journal's backlog (from the store journal's progress) at every scrape.
    pub fn watch_journal(&self, progress: crate::journal::JournalProgress) {
        let _ = self.journal_queue.set(progress);
    }

    /// Journal entries queued and not yet written (0 without a journal to watch).
    pub fn journal_backlog(&self) -> u64 {
        self.journal_queue
            .get()
            .map_or(0, crate::journal::JournalProgress::backlog)
    }

    /// Reports live venue `name`'s state at every scrape.
    pub fn watch_venue(&self, name: Arc<str>, shared: Arc<crate::execution::binance::Shared>) {
        self.venue.watch(name, shared);
    }

    /// Every metric in the text exposition format.
    pub fn render(&self) -> String {
        self.venue.update();
        self.journal_backlog
            .set(i64::try_from(self.journal_backlog()).unwrap_or(i64::MAX));
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String does not fail");
        out
    }
}
