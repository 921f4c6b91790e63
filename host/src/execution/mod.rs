//! Execution: the order path from an accepted decision to a fill. [`OrderPath`] runs it: the
//! risk checks decide, the order manager ([`oms`]) locks funds and owns every order's life
//! cycle, and a [`Venue`] (the candle fill model, the book matcher, later Binance) matches.
//! What happens comes back as [`OrderUpdate`]s, which the engine forwards to each order's owner
//! without looking at what kind of order it was.

pub mod matching;
pub mod oms;
mod venue;
pub mod venues;

pub use venue::{ReportKind, Venue, VenueOrder, VenueReport};

use crate::feeds::MarketEvent;
use crate::journal::Journal;
use crate::market::MarketData;
use crate::model::{
    DeploymentId, Fixed, OrderRequest, OrderUpdate, RejectCode, Rejection, SymbolId, TimestampMs,
};
use crate::risk::{self, AccountView, Budget, RiskEngine};
use oms::{Account, Oms};
use std::sync::Arc;

/// The risk checks, the order manager and the venue, in the order an order meets them.
pub struct OrderPath {
    risk: RiskEngine,
    oms: Oms,
    venue: Box<dyn Venue>,
    reports: Vec<VenueReport>,
    updates: Vec<OrderUpdate>,
}

impl OrderPath {
    /// An order path to `venue`, journaling every order change to `journal`.
    pub fn new(venue: Box<dyn Venue>, journal: Arc<dyn Journal>) -> Self {
        OrderPath {
            risk: RiskEngine::default(),
            oms: Oms::new(journal),
            venue,
            reports: Vec::new(),
            updates: Vec::new(),
        }
    }

    /// The risk state of every deployment.
    pub fn risk(&self) -> &RiskEngine {
        &self.risk
    }

    /// The accounts and orders.
    pub fn oms(&self) -> &Oms {
        &self.oms
    }

    /// The account of deployment `id`.
    pub fn account(&self, id: DeploymentId) -> Option<&Account> {
        self.oms.account(id)
    }

    /// Opens deployment `id`'s account with what `budget` starts it with, and starts checking
    /// its orders against the budget. Returns the budget with its valuation asset resolved (the
    /// quote asset of the market's first symbol when it names none).
    pub fn open(
        &mut self,
        id: DeploymentId,
        name: Arc<str>,
        mut budget: Budget,
        market: &mut MarketData,
    ) -> Budget {
        let asset = budget.asset.clone().unwrap_or_else(|| {
            market
                .instrument(0)
                .map(|i| market.instruments.asset_name(i.quote).to_string())
                .unwrap_or_else(|| "USDT".into())
        });
        let asset = asset.to_ascii_uppercase();
        budget.asset = Some(asset.clone());
        let valuation = market.instruments.asset(&asset);
        let starting: Vec<_> = budget
            .starting_balances(&asset)
            .into_iter()
            .map(|(a, amount)| (market.instruments.asset(&a), amount))
            .collect();
        self.oms
            .open_account(Account::new(id, name, valuation, &starting));
        self.risk.open(id, budget.clone(), valuation);
        budget
    }

    /// Starts a new day's loss count for every deployment whose day changes at `now`.
    pub fn roll_day(&mut self, now: TimestampMs, market: &MarketData) {
        for account in self.oms.accounts() {
            if self.risk.day_changes(account.id, now) {
                let equity = account.equity(market);
                self.risk.roll_day(account.id, now, equity);
            }
        }
    }

    /// Submits an order of deployment `id` at event time `now`: its order id, or the first
    /// check that refused it. Either way an update follows (accepted or rejected).
    pub fn submit(
        &mut self,
        id: DeploymentId,
        request: OrderRequest,
        now: TimestampMs,
        market: &MarketData,
    ) -> Result<u64, Rejection> {
        let order_id = self.oms.take_order_id();
        let decided = match self.oms.account(id) {
            Some(account) => self.risk.check(id, &request, account, market, now),
            None => Err(Rejection::new(
                RejectCode::StrategyHalted,
                "the deployment has no account (halted or not yet installed)",
            )),
        }
        .and_then(|()| {
            let price = risk::reference_price(&request, market).unwrap_or(Fixed::ZERO);
            let fees = self.venue.fees(request.symbol, market);
            self.oms
                .accept(id, order_id, request, price, fees, market, now)
        });
        match decided {
            Ok(order) => {
                self.risk.accepted(id, now);
                self.venue.place(order, now, market, &mut self.reports);
                self.apply_reports(market);
                Ok(order_id)
            }
            Err(reason) => {
                let update = self
                    .oms
                    .rejected(id, order_id, request, reason.clone(), now, market);
                self.updates.push(update);
                Err(reason)
            }
        }
    }

    /// Asks the venue to cancel open order `order_id` of deployment `id`.
    pub fn cancel(
        &mut self,
        id: DeploymentId,
        order_id: u64,
        now: TimestampMs,
        market: &MarketData,
    ) -> Result<(), Rejection> {
        if self.oms.owner(order_id) != Some(id) {
            return Err(Rejection::new(
                RejectCode::UnknownOrder,
                format!("Unknown order sent: order {order_id} is not open"),
            ));
        }
        self.venue.cancel(order_id, now, market, &mut self.reports);
        self.apply_reports(market);
        Ok(())
    }

    /// Asks the venue to cancel every open order of deployment `id` in `symbol`; their ids.
    pub fn cancel_all(
        &mut self,
        id: DeploymentId,
        symbol: SymbolId,
        now: TimestampMs,
        market: &MarketData,
    ) -> Vec<u64> {
        let open: Vec<u64> = self
            .oms
            .account(id)
            .into_iter()
            .flat_map(|a| a.open_orders())
            .filter(|o| o.request.symbol == symbol)
            .map(|o| o.id)
            .collect();
        for &order_id in &open {
            self.venue.cancel(order_id, now, market, &mut self.reports);
        }
        self.apply_reports(market);
        open
    }

    /// Stops deployment `id` trading: every open order ends now (the venue is told), and new
    /// orders are refused until [`OrderPath::resume`].
    pub fn halt(&mut self, id: DeploymentId, now: TimestampMs, market: &MarketData) {
        self.risk.set_halted(id, true);
        let open: Vec<u64> = self
            .oms
            .account(id)
            .into_iter()
            .flat_map(|a| a.open_orders())
            .map(|o| o.id)
            .collect();
        let mut ignored = Vec::new();
        for order_id in open {
            self.venue.cancel(order_id, now, market, &mut ignored);
        }
        let updates = self.oms.cancel_everything(id, now, market);
        self.updates.extend(updates);
    }

    /// Lets a halted deployment trade again.
    pub fn resume(&mut self, id: DeploymentId) {
        self.risk.set_halted(id, false);
    }

    /// Matches resting orders against `event`, which `market` has just recorded.
    pub fn on_event(&mut self, event: &MarketEvent, market: &MarketData) {
        self.venue.on_event(event, market, &mut self.reports);
        self.apply_reports(market);
    }

    /// Lets the venue process what is due up to `now`.
    pub fn advance(&mut self, now: TimestampMs, market: &MarketData) {
        self.venue.advance(now, market, &mut self.reports);
        self.apply_reports(market);
    }

    /// Takes the updates waiting to be delivered, oldest first.
    pub fn take_updates(&mut self) -> Vec<OrderUpdate> {
        std::mem::take(&mut self.updates)
    }

    /// Whether updates wait to be delivered.
    pub fn has_updates(&self) -> bool {
        !self.updates.is_empty()
    }

    fn apply_reports(&mut self, market: &MarketData) {
        for report in self.reports.drain(..) {
            if let Some(update) = self.oms.apply(report, market) {
                self.updates.push(update);
            }
        }
    }
}

#[cfg(test)]
mod tests;
