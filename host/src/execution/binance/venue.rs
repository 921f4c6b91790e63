//! Binance spot as a [`Venue`]: the order path hands it orders and cancels on the event loop,
//! where nothing may wait for the network, so it passes them to its task ([`super::worker`])
//! and collects the task's reports when the engine polls it (the task wakes the engine when
//! there are some).

use super::client::{Endpoints, TradingClient};
use super::credentials::Credentials;
use super::orders;
use super::status::VenueStatus;
use super::tracker::Placed;
use super::worker::{Command, UnknownPolicy, Worker};
use crate::execution::venue::{Counted, FeeDiscount, Venue, VenueOrder, VenueReport, Waker};
use crate::feeds::MarketEvent;
use crate::journal::JournalProgress;
use crate::market::MarketData;
use crate::model::{FeeRates, Fixed, SymbolId, TimestampMs};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// What the venue and its task share.
#[derive(Default)]
pub struct Shared {
    waker: Mutex<Option<Waker>>,
    /// The account's commission rates, once the exchange has told them.
    pub fees: Mutex<Option<FeeRates>>,
    /// The account's commission discounts by symbol, as the last reconciliation read them.
    pub discounts: Mutex<std::collections::HashMap<String, FeeDiscount>>,
    status: Mutex<VenueStatus>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("status", &self.snapshot())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Changes the status.
    pub fn status(&self, change: impl FnOnce(&mut VenueStatus)) {
        change(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// The status now.
    pub fn snapshot(&self) -> VenueStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Wakes the engine to poll the venue.
    pub fn wake(&self) {
        if let Some(waker) = self
            .waker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            waker();
        }
    }
}

/// How to reach and trade on a Binance account.
#[derive(Clone, Debug)]
pub struct LiveSettings {
    /// REST and WebSocket API addresses.
    pub endpoints: Endpoints,
    /// How often to reconcile.
    pub reconcile_every: Duration,
    /// How long an answer may take before the request's outcome counts as unknown.
    pub answer_timeout: Duration,
    /// What to do with open orders that are not ours.
    pub unknown_orders: UnknownPolicy,
    /// Fees until the account's own are read.
    pub fees: FeeRates,
    /// Symbols whose trades are reconciled from the start.
    pub symbols: Vec<String>,
}

/// Binance spot (or its testnet, or `stratbox exchange-sim`) as the venue.
pub struct LiveVenue {
    commands: mpsc::UnboundedSender<Command>,
    reports: std::sync::mpsc::Receiver<VenueReport>,
    shared: Arc<Shared>,
    progress: Option<JournalProgress>,
    fees: FeeRates,
}

impl LiveVenue {
    /// Connects `credentials`' account as `settings` say, on the current tokio runtime; orders
    /// wait for `progress` (the journal) to commit their rows before they are sent.
    pub fn start(
        settings: LiveSettings,
        credentials: Credentials,
        progress: Option<JournalProgress>,
    ) -> Self {
        let shared = Arc::new(Shared::default());
        shared.status(|s| {
            s.rest = settings.endpoints.rest.clone();
            s.ws_api = settings.endpoints.ws_api.clone();
        });
        let mut client = TradingClient::new(settings.endpoints, credentials);
        client.timeout = settings.answer_timeout;
        let client = Arc::new(client);
        let (commands, rx) = mpsc::unbounded_channel();
        let (report_tx, reports) = std::sync::mpsc::channel();
        let worker = Worker::new(
            client,
            shared.clone(),
            progress.clone(),
            report_tx,
            settings.unknown_orders,
            settings.symbols,
        );
        tokio::spawn(worker.run(rx, settings.reconcile_every));
        LiveVenue {
            commands,
            reports,
            shared,
            progress,
            fees: settings.fees,
        }
    }

    /// What operators see of it.
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    fn placed(
        order: &VenueOrder,
        market: &MarketData,
    ) -> Option<(Placed, serde_json::Map<String, serde_json::Value>)> {
        let instrument = market.instrument(order.symbol)?;
        let symbol = instrument.symbol.to_string();
        let params = orders::place_params(order, &symbol);
        Some((
            Placed {
                order_id: order.id,
                client_order_id: orders::client_order_id(order.owner, order.id),
                base: market.instruments.asset_name(instrument.base).to_string(),
                quote: market.instruments.asset_name(instrument.quote).to_string(),
                symbol,
                amount: order.amount,
                is_stop: order.order_type.trigger().is_some(),
            },
            params,
        ))
    }

    fn unknown_symbol(order: &VenueOrder, now: TimestampMs, out: &mut Vec<VenueReport>) {
        out.push(VenueReport {
            order_id: order.id,
            time: now,
            kind: crate::execution::ReportKind::Rejected(crate::model::Rejection::new(
                crate::model::RejectCode::UnknownSymbol,
                format!("symbol id {} is not known to the venue", order.symbol),
            )),
        });
    }
}

impl Venue for LiveVenue {
    fn place(
        &mut self,
        order: VenueOrder,
        now: TimestampMs,
        market: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        let Some((placed, params)) = Self::placed(&order, market) else {
            return Self::unknown_symbol(&order, now, out);
        };
        // The order's row was journaled before it came here: it is sent once that is committed.
        let mark = self.progress.as_ref().map(JournalProgress::mark);
        let _ = self.commands.send(Command::Place {
            placed,
            params,
            mark,
        });
    }

    fn restore(
        &mut self,
        order: VenueOrder,
        counted: &Counted,
        now: TimestampMs,
        market: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        let Some((placed, params)) = Self::placed(&order, market) else {
            return Self::unknown_symbol(&order, now, out);
        };
        let _ = self.commands.send(Command::Restore {
            placed,
            params,
            counted: counted.clone(),
        });
    }

    fn cancel(
        &mut self,
        order_id: u64,
        _now: TimestampMs,
        _market: &MarketData,
        _out: &mut Vec<VenueReport>,
    ) {
        let _ = self.commands.send(Command::Cancel { order_id });
    }

    fn on_event(
        &mut self,
        _event: &MarketEvent,
        _market: &MarketData,
        _out: &mut Vec<VenueReport>,
    ) {
    }

    fn fees(&self, _symbol: SymbolId, _market: &MarketData) -> FeeRates {
        self.shared
            .fees
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or(self.fees)
    }

    fn poll(&mut self, out: &mut Vec<VenueReport>) {
        out.extend(self.reports.try_iter());
    }

    fn set_waker(&mut self, waker: Waker) {
        *self.shared.waker.lock().unwrap_or_else(|p| p.into_inner()) = Some(waker);
    }

    fn is_remote(&self) -> bool {
        true
    }

    /// Binance keeps a buyer's commission in the base asset unless the account pays it in
    /// BNB ([`Venue::fee_discount`]).
    fn buyers_pay_fee_in_base(&self) -> bool {
        true
    }

    fn fee_discount(&self, symbol: SymbolId, market: &MarketData) -> Option<FeeDiscount> {
        let name = market.symbols().name(symbol)?;
        self.shared
            .discounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&**name)
            .cloned()
    }

    /// The exchange's free balance as of the last reconciliation or account event.
    fn free(&self, asset: &str) -> Option<Fixed> {
        let status = self.shared.status.lock().unwrap_or_else(|p| p.into_inner());
        // Balances are known once the account has been read (zero ones are left out).
        (status.reconciliations > 0).then(|| {
            status
                .balances
                .iter()
                .find(|b| b.asset == asset)
                .map_or(Fixed::ZERO, |b| b.free)
        })
    }
}
