//! The live venues' metrics, read from their status at each scrape, labelled with each venue's
//! name: connection, use of Binance's limits, orders in doubt, reconciliation and what it
//! found.

use crate::execution::binance::Shared;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::{Arc, Mutex};

/// A metric of one live venue.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VenueLabel {
    /// The venue's name.
    pub venue: String,
}

/// The live venues' gauges and counters.
#[derive(Debug, Default)]
pub struct VenueMetrics {
    watched: Mutex<Vec<(Arc<str>, Arc<Shared>)>>,
    connected: Family<VenueLabel, Gauge>,
    weight_used: Family<VenueLabel, Gauge>,
    weight_limit: Family<VenueLabel, Gauge>,
    orders_10s: Family<VenueLabel, Gauge>,
    in_doubt: Family<VenueLabel, Gauge>,
    open_orders: Family<VenueLabel, Gauge>,
    unknown_orders: Family<VenueLabel, Gauge>,
    reconnects: Family<VenueLabel, Counter>,
    reconciliations: Family<VenueLabel, Counter>,
    recovered_fills: Family<VenueLabel, Counter>,
    unknown_trades: Family<VenueLabel, Counter>,
}

impl VenueMetrics {
    /// Registers every metric in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = VenueMetrics::default();
        let gauges = [
            (
                "venue_connected",
                "1 while the live venue's user data stream is subscribed",
                &m.connected,
            ),
            (
                "venue_request_weight_used",
                "REQUEST_WEIGHT used in the current minute",
                &m.weight_used,
            ),
            (
                "venue_request_weight_limit",
                "REQUEST_WEIGHT allowed per minute",
                &m.weight_limit,
            ),
            (
                "venue_orders_10s",
                "New orders sent in the last ten seconds (ORDERS limit)",
                &m.orders_10s,
            ),
            (
                "venue_orders_in_doubt",
                "Orders whose placement had no answer yet",
                &m.in_doubt,
            ),
            (
                "venue_open_orders",
                "Orders of this host open on the exchange",
                &m.open_orders,
            ),
            (
                "venue_unknown_orders",
                "Open orders on the account that are not this host's",
                &m.unknown_orders,
            ),
        ];
        for (name, help, gauge) in gauges {
            registry.register(name, help, gauge.clone());
        }
        let counters = [
            (
                "venue_reconnects",
                "User data stream subscriptions after it ended",
                &m.reconnects,
            ),
            (
                "venue_reconciliations",
                "Reconciliations with the exchange",
                &m.reconciliations,
            ),
            (
                "venue_recovered_fills",
                "Fills learned by queries and reconciliation",
                &m.recovered_fills,
            ),
            (
                "venue_unknown_trades",
                "Trades on the account of orders not this host's",
                &m.unknown_trades,
            ),
        ];
        for (name, help, counter) in counters {
            registry.register(name, help, counter.clone());
        }
        m
    }

    /// Reads the status of venue `name` from `shared` at every scrape.
    pub fn watch(&self, name: Arc<str>, shared: Arc<Shared>) {
        self.watched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((name, shared));
    }

    /// Brings the metrics up to the venues' status (nothing without a live venue).
    pub fn update(&self) {
        let watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
        for (name, shared) in watched.iter() {
            let s = shared.snapshot();
            let label = VenueLabel {
                venue: name.to_string(),
            };
            let set = |g: &Family<VenueLabel, Gauge>, v: u64| {
                g.get_or_create(&label)
                    .set(i64::try_from(v).unwrap_or(i64::MAX));
            };
            set(&self.connected, u64::from(s.connected));
            set(&self.weight_used, u64::from(s.weight_used));
            set(&self.weight_limit, u64::from(s.weight_limit));
            set(&self.orders_10s, s.orders_10s as u64);
            set(&self.in_doubt, s.in_doubt as u64);
            set(&self.open_orders, s.open_orders as u64);
            set(&self.unknown_orders, s.unknown_orders.len() as u64);
            for (counter, total) in [
                (&self.reconnects, s.reconnects),
                (&self.reconciliations, s.reconciliations),
                (&self.recovered_fills, s.recovered_fills),
                (&self.unknown_trades, s.unknown_trades),
            ] {
                super::prometheus::raise_to(&counter.get_or_create(&label), total);
            }
        }
    }
}
