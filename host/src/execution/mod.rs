//! Execution: the order path from an accepted decision to a fill. [`OrderPath`] runs it: the
//! risk checks decide, the order manager ([`oms`]) locks funds and owns every order's life
//! cycle, and a [`Venue`] (the candle fill model, the book matcher, later Binance) matches.
//! What happens comes back as [`OrderUpdate`]s, which the engine forwards to each order's owner
//! without looking at what kind of order it was.

pub mod algo;
pub mod binance;
pub mod cost;
pub mod latency;
pub mod matching;
pub mod oms;
mod protect;
mod rebalance;
pub mod route;
mod venue;
pub mod venues;

pub use latency::LatencyModel;
pub use protect::StopFired;
pub use rebalance::RebalanceOrder;
pub use venue::{
    Commission, Counted, FeeDiscount, ReportKind, Venue, VenueOrder, VenueReport, Waker,
};

use crate::feeds::MarketEvent;
use crate::journal::Journal;
use crate::market::MarketData;
use crate::model::{
    Amount, DeploymentId, Fixed, OrderRequest, OrderType, OrderUpdate, RejectCode, Rejection, Side,
    SymbolId, TimeInForce, TimestampMs,
};
use crate::risk::{
    self, AccountLimits, AccountView, Budget, RiskEngine, StateRecord, TradingState,
};
use oms::{Account, FeeAsset, Oms};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The share of a fee an account paying in BNB pays (Binance: 25 % off).
pub const BNB_FEE_MULTIPLIER: Fixed = Fixed::from_raw(75_000_000);

/// How much more of the discount asset a closing buy's commission is estimated at, for the
/// asset's price to move before it fills.
const DISCOUNT_PRICE_MARGIN: f64 = 1.1;

/// What the kill switch did.
#[derive(Debug, Default)]
pub struct KillReport {
    /// Open orders cancelled.
    pub cancelled: usize,
    /// The orders closing each position: their ids, or why none could be placed.
    pub flatten: Vec<(DeploymentId, SymbolId, Result<u64, Rejection>)>,
    /// Whether the positions are closed only once a remote venue has confirmed the cancels
    /// (the orders they held must be released first).
    pub flatten_pending: bool,
}

/// An immediate-or-cancel limit order closing `position` of `symbol`, priced at most `cap`
/// (a fraction) through the touch, on the symbol's tick and lot grid. With `buy_fee_in_base`
/// (the taker rate of a venue that keeps a buyer's commission in base), a closing buy is
/// grossed up so that what it brings in, after the commission, closes the position.
fn flatten_order(
    symbol: SymbolId,
    position: Fixed,
    cap: f64,
    market: &MarketData,
    buy_fee_in_base: Option<Fixed>,
) -> Result<OrderRequest, Rejection> {
    let no = |why: String| Rejection::new(RejectCode::InvalidOrder, why);
    if !(cap > 0.0 && cap < 1.0) {
        return Err(no(format!(
            "slippage cap {cap} must be a fraction above 0 and below 1"
        )));
    }
    let instrument = market
        .instrument(symbol)
        .ok_or_else(|| no(format!("unknown symbol id {symbol}")))?;
    let side = if position.raw() > 0 {
        Side::Sell
    } else {
        Side::Buy
    };
    let touch = market
        .touch(symbol, side)
        .ok_or_else(|| no(format!("no price for {} to flatten at", instrument.symbol)))?;
    let (tick, step) = (instrument.tick(), instrument.step());
    let far = match side {
        Side::Sell => touch.to_f64() * (1.0 - cap),
        Side::Buy => touch.to_f64() * (1.0 + cap),
    };
    let far = Fixed::from_f64(far).map_err(|e| no(format!("price {far}: {e}")))?;
    // On the grid, on the touch's side of the cap.
    let price = match side {
        Side::Sell => Fixed::from_raw(far.raw() + tick.raw() - 1).floor_to(tick),
        Side::Buy => far.floor_to(tick),
    };
    let gross = match (side, buy_fee_in_base) {
        (Side::Buy, Some(rate)) if rate.is_positive() && rate < Fixed::from_int(1) => {
            // |position| / (1 - rate), up to the next lot: what arrives covers the position.
            let kept = Fixed::from_int(1).saturating_sub(rate);
            let needed = position
                .abs()
                .checked_div_floor(kept)
                .unwrap_or(position.abs());
            Some(Fixed::from_raw(needed.raw().saturating_add(step.raw() - 1)).floor_to(step))
        }
        _ => None,
    };
    let quantity = gross.unwrap_or_else(|| position.abs().floor_to(step));
    if quantity.raw() == 0 {
        return Err(no(format!(
            "position {position} of {} is below one lot step {step}",
            instrument.symbol
        )));
    }
    Ok(OrderRequest {
        client_id: 0,
        symbol,
        side,
        amount: Amount::Base(quantity),
        order_type: OrderType::Limit {
            price,
            time_in_force: TimeInForce::Ioc,
        },
        iceberg: None,
        // A grossed-up buy is larger than the position, though what it brings in is not.
        reduce_only: gross.is_none(),
        venue: 0,
    })
}

/// Whether a report about an order being replaced settles its cancel: `Some(true)` cancelled,
/// `Some(false)` it ended otherwise or the cancel failed, `None` not yet.
fn replaced_order_outcome(kind: &ReportKind) -> Option<bool> {
    match kind {
        ReportKind::Cancelled => Some(true),
        ReportKind::CancelRejected(_)
        | ReportKind::Expired
        | ReportKind::Rejected(_)
        | ReportKind::Fill { complete: true, .. } => Some(false),
        _ => None,
    }
}

/// What a cancel-replace does when the cancel fails (Binance's `cancelReplaceMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplaceMode {
    /// The replacement is placed only if the old order was cancelled.
    StopOnFailure,
    /// The replacement is placed whether or not the cancel succeeded.
    AllowFailure,
}

/// A request on its way to the venue.
#[derive(Clone, Debug)]
enum Request {
    /// A new order, already accepted and locked for.
    Place(VenueOrder),
    /// A cancel.
    Cancel(u64),
    /// Cancel `old`, then place `request` as order `new_id` (checked and locked at arrival).
    Replace {
        deployment: DeploymentId,
        old: u64,
        new_id: u64,
        request: OrderRequest,
        mode: ReplaceMode,
    },
}

/// The risk checks, the order manager and the venue, in the order an order meets them, with
/// the latency between the strategy and a simulated venue: requests wait their entry latency
/// before the venue sees them, and the venue's answers their response latency before the owner
/// hears of them. (Balances and orders change when the venue acts, as the venue's account would;
/// only the news of it is late.)
pub struct OrderPath {
    risk: RiskEngine,
    oms: Oms,
    venue: Box<dyn Venue>,
    latency: LatencyModel,
    /// Requests in flight, by arrival time and sequence.
    inflight: BTreeMap<(TimestampMs, u64), Request>,
    /// Updates in flight to their owners, by delivery time and sequence.
    outbox: BTreeMap<(TimestampMs, u64), OrderUpdate>,
    /// The latest delivery time given: updates reach owners in the order they happened.
    last_delivery: TimestampMs,
    seq: u64,
    reports: Vec<VenueReport>,
    /// Protective stops by deployment and symbol.
    stops: BTreeMap<(DeploymentId, SymbolId), risk::StopState>,
    /// Replacements waiting for the venue's answer to the cancel of the order they replace, by
    /// that order's id.
    replacing: BTreeMap<u64, Replacement>,
    /// Deployments removed while a remote venue still held their orders: closed once those end.
    closing: std::collections::BTreeSet<DeploymentId>,
    /// The kill switch's slippage cap, while its flatten waits for a remote venue's cancels.
    flatten_after_cancels: Option<f64>,
}

/// A cancel-replace's second half, waiting for its cancel.
#[derive(Clone, Debug)]
struct Replacement {
    deployment: DeploymentId,
    new_id: u64,
    request: OrderRequest,
    mode: ReplaceMode,
}

impl OrderPath {
    /// An order path to `venue` with no latency, journaling every order change to `journal`.
    pub fn new(venue: Box<dyn Venue>, journal: Arc<dyn Journal>) -> Self {
        OrderPath {
            risk: RiskEngine::default(),
            oms: Oms::new(journal),
            venue,
            latency: LatencyModel::default(),
            inflight: BTreeMap::new(),
            outbox: BTreeMap::new(),
            last_delivery: i64::MIN,
            seq: 0,
            reports: Vec::new(),
            stops: BTreeMap::new(),
            replacing: BTreeMap::new(),
            closing: Default::default(),
            flatten_after_cancels: None,
        }
    }

    /// The same, with `latency` between the strategies and the venue.
    pub fn with_latency(mut self, latency: LatencyModel) -> Self {
        self.latency = latency;
        self
    }

    /// Deposits `delta` of `asset` into deployment `id`'s account (negative: withdraws up to
    /// what is free).
    pub fn transfer(
        &mut self,
        id: DeploymentId,
        asset: crate::model::AssetId,
        delta: Fixed,
        market: &MarketData,
    ) -> Result<(), String> {
        self.oms.transfer(id, asset, delta, market)
    }

    /// Sets how a venue that answers on its own time wakes the engine.
    pub fn set_waker(&mut self, waker: Waker) {
        self.venue.set_waker(waker);
    }

    /// Sets the latency between the strategies and the venue.
    pub fn set_latency(&mut self, latency: LatencyModel) {
        self.latency = latency;
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

    /// The names of the venues behind the order path's venue, the default first (empty with a
    /// single venue).
    pub fn venue_names(&self) -> Vec<Arc<str>> {
        self.venue.names()
    }

    /// The venue tag of the venue named `name`, or why there is none (a single venue, or no
    /// venue of that name).
    pub fn venue_named(&self, name: &str) -> Result<u32, String> {
        let names = self.venue_names();
        match names.iter().find(|n| ***n == *name) {
            Some(n) => Ok(route::venue_tag(n)),
            None if names.is_empty() => Err(format!(
                "venue {name:?}: this host trades on a single venue"
            )),
            None => Err(format!("venue {name:?}: use one of {names:?}")),
        }
    }

    /// The venues behind the order path's venue, as a split across them sees them for
    /// `symbol` (empty with a single venue).
    pub fn venue_legs(&self, symbol: SymbolId, market: &MarketData) -> Vec<route::LegView> {
        self.venue.legs(symbol, market)
    }

    /// The fee rates the venue charges on `symbol`.
    pub fn fees(&self, symbol: SymbolId, market: &MarketData) -> crate::model::FeeRates {
        self.venue.fees(symbol, market)
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
        let mut account = Account::new(id, name, valuation, &starting);
        match &budget.fee_asset {
            Some(fee_asset) if self.venue.is_remote() => tracing::warn!(
                deployment = %account.name,
                "fee_asset {fee_asset} is ignored: on an exchange the account's own setting decides"
            ),
            Some(fee_asset) => {
                account.fee_asset = Some(FeeAsset {
                    asset: market.instruments.asset(fee_asset),
                    multiplier: BNB_FEE_MULTIPLIER,
                })
            }
            None => {}
        }
        self.oms.open_account(account);
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

    fn send(&mut self, request: Request, now: TimestampMs) {
        let (entry, _) = self.latency.latencies(now);
        self.seq += 1;
        self.inflight.insert((now + entry, self.seq), request);
    }

    fn post(&mut self, update: OrderUpdate, at: TimestampMs) {
        self.last_delivery = self.last_delivery.max(at);
        self.seq += 1;
        self.outbox.insert((self.last_delivery, self.seq), update);
    }

    /// Runs the risk checks and locks for `request` as order `order_id`: the order for the venue.
    fn admit(
        &mut self,
        id: DeploymentId,
        order_id: u64,
        request: OrderRequest,
        now: TimestampMs,
        market: &MarketData,
        protective: bool,
    ) -> Result<VenueOrder, Rejection> {
        // Stored with the order, so that a restart sends it back to the same venue.
        let request = OrderRequest {
            venue: match request.venue {
                0 => self.venue.default_tag(),
                tag => tag,
            },
            ..request
        };
        let account = self.oms.account(id).ok_or_else(|| {
            Rejection::new(
                RejectCode::StrategyHalted,
                "the deployment has no account (halted or not yet installed)",
            )
        })?;
        self.risk
            .check(id, &request, account, &self.oms, market, now, protective)?;
        let price = risk::reference_price(&request, market).unwrap_or(Fixed::ZERO);
        let fees = self.venue.fees(request.symbol, market);
        let order = self
            .oms
            .accept(id, order_id, request, price, fees, market, now)?;
        self.risk.accepted(id, now);
        Ok(order)
    }

    fn refuse(
        &mut self,
        id: DeploymentId,
        order_id: u64,
        request: OrderRequest,
        reason: Rejection,
        now: TimestampMs,
        market: &MarketData,
    ) {
        let update = self
            .oms
            .rejected(id, order_id, request, reason, now, market);
        self.post(update, now);
    }

    /// Submits an order of deployment `id` at event time `now`: its order id, or the first
    /// check that refused it. Either way an update follows (the venue's answer, or the refusal).
    pub fn submit(
        &mut self,
        id: DeploymentId,
        request: OrderRequest,
        now: TimestampMs,
        market: &MarketData,
    ) -> Result<u64, Rejection> {
        self.submit_checked(id, request, now, market, false)
    }

    /// Submits a host order protecting deployment `id` (a stop closing a position): every
    /// check applies but the trading state and the deployment's halt.
    pub fn submit_protective(
        &mut self,
        id: DeploymentId,
        request: OrderRequest,
        now: TimestampMs,
        market: &MarketData,
    ) -> Result<u64, Rejection> {
        self.submit_checked(id, request, now, market, true)
    }

    fn submit_checked(
        &mut self,
        id: DeploymentId,
        request: OrderRequest,
        now: TimestampMs,
        market: &MarketData,
        protective: bool,
    ) -> Result<u64, Rejection> {
        let order_id = self.oms.take_order_id();
        match self.admit(id, order_id, request, now, market, protective) {
            Ok(order) => {
                self.send(Request::Place(order), now);
                Ok(order_id)
            }
            Err(reason) => {
                self.refuse(id, order_id, request, reason.clone(), now, market);
                Err(reason)
            }
        }
    }

    fn owned(&self, id: DeploymentId, order_id: u64) -> Result<(), Rejection> {
        if self.oms.owner(order_id) == Some(id) {
            Ok(())
        } else {
            Err(Rejection::new(
                RejectCode::UnknownOrder,
                format!("Unknown order sent: order {order_id} is not open"),
            ))
        }
    }

    /// Sends a request to cancel open order `order_id` of deployment `id`.
    pub fn cancel(
        &mut self,
        id: DeploymentId,
        order_id: u64,
        now: TimestampMs,
    ) -> Result<(), Rejection> {
        self.owned(id, order_id)?;
        self.send(Request::Cancel(order_id), now);
        Ok(())
    }

    /// Sends requests to cancel every open order of deployment `id` in `symbol`; their ids.
    pub fn cancel_all(&mut self, id: DeploymentId, symbol: SymbolId, now: TimestampMs) -> Vec<u64> {
        let open: Vec<u64> = self
            .oms
            .account(id)
            .into_iter()
            .flat_map(|a| a.open_orders())
            .filter(|o| o.request.symbol == symbol)
            .map(|o| o.id)
            .collect();
        for &order_id in &open {
            self.send(Request::Cancel(order_id), now);
        }
        open
    }

    /// Cancels open order `old` and places `request` in its stead, as Binance's cancel-replace
    /// does: the venue cancels, then the replacement is checked, locked for (with what the old
    /// order held released) and placed, or refused with `mode` deciding what a failed cancel
    /// means. Returns the replacement's order id; its fate comes as updates.
    pub fn replace(
        &mut self,
        id: DeploymentId,
        old: u64,
        request: OrderRequest,
        mode: ReplaceMode,
        now: TimestampMs,
    ) -> Result<u64, Rejection> {
        if mode == ReplaceMode::StopOnFailure {
            self.owned(id, old)?;
        }
        let new_id = self.oms.take_order_id();
        self.send(
            Request::Replace {
                deployment: id,
                old,
                new_id,
                request,
                mode,
            },
            now,
        );
        Ok(new_id)
    }

    /// Stops deployment `id` trading: every open order ends now (the venue is told at once), and
    /// new orders are refused until [`OrderPath::resume`].
    pub fn halt(&mut self, id: DeploymentId, now: TimestampMs, market: &MarketData) {
        self.risk.set_halted(id, true);
        let open: Vec<u64> = self
            .oms
            .account(id)
            .into_iter()
            .flat_map(|a| a.open_orders())
            .map(|o| o.id)
            .collect();
        self.cancel_everything(id, &open, now, market);
    }

    /// Ends deployment `id`'s open orders `open` and its requests in flight. A simulated venue
    /// drops them at once; a remote exchange is asked to cancel them, and they end as it
    /// answers (a fill may still come first).
    fn cancel_everything(
        &mut self,
        id: DeploymentId,
        open: &[u64],
        now: TimestampMs,
        market: &MarketData,
    ) {
        let mut unsent = Vec::new();
        self.inflight.retain(|_, r| match r {
            Request::Place(o) if self.oms.owner(o.id) == Some(id) => {
                unsent.push(o.id);
                false
            }
            Request::Place(_) | Request::Cancel(_) => true,
            Request::Replace { deployment, .. } => *deployment != id,
        });
        if self.venue.is_remote() {
            // Orders still held here never reached the exchange: they end here; the others
            // end as the exchange answers their cancels.
            for &order_id in open {
                if unsent.contains(&order_id) {
                    self.reports.push(VenueReport {
                        order_id,
                        time: now,
                        kind: ReportKind::Cancelled,
                    });
                } else {
                    self.venue.cancel(order_id, now, market, &mut self.reports);
                }
            }
            self.apply_reports(market);
            return;
        }
        let mut ignored = Vec::new();
        for &order_id in open {
            self.venue.cancel(order_id, now, market, &mut ignored);
        }
        for update in self.oms.cancel_everything(id, now, market) {
            self.post(update, now);
        }
    }

    /// Watches every deployment's equity at `now` (bars of `bar_ms`) and tightens the trading
    /// state of those in breach: the deployments whose state changed, with it.
    pub fn monitor(
        &mut self,
        now: TimestampMs,
        market: &MarketData,
        bar_ms: i64,
    ) -> Vec<(DeploymentId, StateRecord)> {
        let mut changed = Vec::new();
        for account in self.oms.accounts() {
            let equity = account.equity(market);
            if let Some(state) = self.risk.monitor(account.id, equity, now, bar_ms) {
                changed.push((account.id, state));
            }
        }
        changed
    }

    /// Sets deployment `id`'s trading state; false for no such deployment.
    pub fn set_state(
        &mut self,
        id: DeploymentId,
        state: TradingState,
        reason: String,
        now: TimestampMs,
    ) -> bool {
        self.risk.set_state(id, state, reason, now)
    }

    /// Sets the account-wide limits.
    pub fn set_account_limits(&mut self, limits: AccountLimits) {
        self.risk.set_account_limits(limits);
    }

    /// Sets the whole account's trading state.
    pub fn set_account_state(&mut self, state: TradingState, reason: String, now: TimestampMs) {
        self.risk.set_account_state(state, reason, now);
    }

    /// The kill switch: the account HALTED, every open order of every deployment cancelled,
    /// and with `flatten` (a slippage cap, e.g. 0.01) every position closed by an
    /// immediate-or-cancel limit order at most that far through the touch. Deployments keep
    /// running; their orders are refused until the operator sets the state back.
    pub fn kill(
        &mut self,
        now: TimestampMs,
        market: &MarketData,
        flatten: Option<f64>,
        reason: &str,
    ) -> KillReport {
        self.risk
            .set_account_state(TradingState::Reducing, reason.to_string(), now);
        let ids: Vec<DeploymentId> = self.oms.accounts().map(|a| a.id).collect();
        let mut report = KillReport::default();
        for &id in &ids {
            let open: Vec<u64> = self
                .oms
                .account(id)
                .into_iter()
                .flat_map(|a| a.open_orders())
                .map(|o| o.id)
                .collect();
            report.cancelled += open.len();
            self.cancel_everything(id, &open, now, market);
        }
        match flatten {
            Some(cap) if self.venue.is_remote() && report.cancelled > 0 => {
                self.flatten_after_cancels = Some(cap);
                report.flatten_pending = true;
            }
            Some(cap) => report.flatten = self.flatten_all(cap, now, market),
            None => {}
        }
        self.risk
            .set_account_state(TradingState::Halted, reason.to_string(), now);
        report
    }

    /// Closes every position of every deployment by an immediate-or-cancel order at most `cap`
    /// through the touch (protective: the halted state does not refuse them).
    fn flatten_all(
        &mut self,
        cap: f64,
        now: TimestampMs,
        market: &MarketData,
    ) -> Vec<(DeploymentId, SymbolId, Result<u64, Rejection>)> {
        let positions: Vec<(DeploymentId, SymbolId, Fixed)> = self
            .oms
            .accounts()
            .flat_map(|a| a.positions().map(move |(s, p)| (a.id, s, p.quantity)))
            .filter(|p| p.2.raw() != 0)
            .collect();
        let mut discount_left = self.discount_balances(&positions, cap, market);
        let mut out = Vec::new();
        for (id, symbol, quantity) in positions {
            let buy_fee_in_base = (self.venue.buyers_pay_fee_in_base()
                && !(quantity.raw() < 0
                    && self.paid_at_discount(symbol, quantity, cap, market, &mut discount_left)))
            .then(|| self.venue.fees(symbol, market).taker);
            let outcome = match flatten_order(symbol, quantity, cap, market, buy_fee_in_base) {
                Ok(request) => self.submit_checked(id, request, now, market, true),
                Err(e) => Err(e),
            };
            out.push((id, symbol, outcome));
        }
        out
    }

    /// The free balance of each asset the venue's account pays commissions in at a discount
    /// (BNB), less what closing `positions` by selling takes of it (the asset sold, the sells'
    /// commissions): what the closing buys can pay theirs from.
    fn discount_balances(
        &self,
        positions: &[(DeploymentId, SymbolId, Fixed)],
        cap: f64,
        market: &MarketData,
    ) -> HashMap<Arc<str>, f64> {
        let mut left = HashMap::new();
        for &(_, symbol, _) in positions {
            if let Some(d) = self.venue.fee_discount(symbol, market) {
                left.entry(d.asset.clone())
                    .or_insert_with(|| self.venue.free(&d.asset).map_or(0.0, Fixed::to_f64));
            }
        }
        for &(_, symbol, quantity) in positions.iter().filter(|p| p.2.is_positive()) {
            if let Some(i) = market.instrument(symbol)
                && let Some(free) = left.get_mut(market.instruments.asset_name(i.base))
            {
                *free -= quantity.to_f64();
            }
            if let Some((asset, commission)) =
                self.discount_commission(symbol, quantity, cap, market)
                && let Some(free) = left.get_mut(&asset)
            {
                *free -= commission;
            }
        }
        left
    }

    /// The commission of closing `quantity` of `symbol` at most `cap` through the touch, in
    /// the asset the venue's account pays it in at a discount, with a margin for that asset's
    /// price to move: the asset and the amount; `None` without a discount or a price.
    fn discount_commission(
        &self,
        symbol: SymbolId,
        quantity: Fixed,
        cap: f64,
        market: &MarketData,
    ) -> Option<(Arc<str>, f64)> {
        let d = self.venue.fee_discount(symbol, market)?;
        let instrument = market.instrument(symbol)?;
        let asset = market.instruments.asset_id(&d.asset)?;
        let price = market.price_of(asset, instrument.quote)?.to_f64();
        let (side, reach) = match quantity.is_positive() {
            true => (Side::Sell, 1.0),
            false => (Side::Buy, 1.0 + cap),
        };
        let worst = market.touch(symbol, side)?.to_f64() * reach;
        let taker = self.venue.fees(symbol, market).taker.to_f64();
        let commission = quantity.abs().to_f64() * worst * taker * d.multiplier.to_f64() / price
            * DISCOUNT_PRICE_MARGIN;
        (price > 0.0).then_some((d.asset, commission))
    }

    /// Whether the commission of a closing buy of `quantity` of `symbol` is paid in the venue
    /// account's discount asset (BNB) from what is `left` of it (which it then takes), rather
    /// than kept out of the base bought.
    fn paid_at_discount(
        &self,
        symbol: SymbolId,
        quantity: Fixed,
        cap: f64,
        market: &MarketData,
        left: &mut HashMap<Arc<str>, f64>,
    ) -> bool {
        let Some((asset, commission)) = self.discount_commission(symbol, quantity, cap, market)
        else {
            return false;
        };
        match left.get_mut(&asset) {
            Some(free) if *free >= commission => {
                *free -= commission;
                true
            }
            _ => false,
        }
    }

    /// What waited for a remote venue's cancels, once they are confirmed: removed deployments'
    /// accounts close, and the kill switch's flatten goes out.
    fn after_cancels(&mut self, now: TimestampMs, market: &MarketData) {
        let settled: Vec<DeploymentId> = self
            .closing
            .iter()
            .copied()
            .filter(|&id| {
                self.oms
                    .account(id)
                    .is_none_or(|a| a.open_order_count() == 0)
            })
            .collect();
        for id in settled {
            self.closing.remove(&id);
            self.close(id);
        }
        let all_ended = self.oms.accounts().all(|a| a.open_order_count() == 0);
        if let Some(cap) = self.flatten_after_cancels.filter(|_| all_ended) {
            self.flatten_after_cancels = None;
            for (id, symbol, outcome) in self.flatten_all(cap, now, market) {
                match outcome {
                    Ok(order) => {
                        tracing::warn!(deployment = id.0, symbol, order, "kill switch: flattening")
                    }
                    Err(e) => tracing::error!(
                        deployment = id.0,
                        symbol,
                        "kill switch: not flattened: {}",
                        e.message
                    ),
                }
            }
        }
    }

    /// Restores deployment `id`'s balances, positions and open orders from `record` (after a
    /// restart) and places the open orders at the venue again, for what remains of them (a stop
    /// whose trigger fired as what it became). Order and trade ids continue from `next_ids`.
    pub fn restore(
        &mut self,
        id: DeploymentId,
        record: &crate::journal::TradingRecord,
        market: &mut MarketData,
        now: TimestampMs,
    ) {
        let balances: Vec<_> = record
            .balances
            .iter()
            .map(|(asset, free, locked)| {
                (
                    market.instruments.asset(asset),
                    oms::Balance {
                        free: *free,
                        locked: *locked,
                    },
                )
            })
            .collect();
        let positions: Vec<_> = record
            .positions
            .iter()
            .map(|(symbol, quantity, average_price, realized_pnl)| {
                (
                    market.add_symbol(symbol),
                    oms::Position {
                        quantity: *quantity,
                        average_price: *average_price,
                        realized_pnl: *realized_pnl,
                    },
                )
            })
            .collect();
        let orders: Vec<oms::Order> = record
            .open_orders
            .iter()
            .map(|(symbol, o)| oms::Order {
                id: o.id,
                request: crate::model::OrderRequest {
                    symbol: market.add_symbol(symbol),
                    ..o.request
                },
                status: o.status,
                filled: o.filled,
                filled_quote: o.filled_quote,
                fees: o.fees,
                time: o.time,
                lock_asset: market.instruments.asset(&o.lock_asset),
                locked: o.locked,
                committed: o.committed,
                triggered: o.triggered,
            })
            .collect();
        let venue_orders: Vec<(VenueOrder, Counted)> = orders
            .iter()
            .map(|o| {
                let order = VenueOrder {
                    id: o.id,
                    owner: id,
                    symbol: o.request.symbol,
                    side: o.request.side,
                    amount: match o.request.amount {
                        crate::model::Amount::Base(q) => {
                            crate::model::Amount::Base(q.saturating_sub(o.filled))
                        }
                        quote => quote,
                    },
                    order_type: if o.triggered {
                        o.request.order_type.triggered()
                    } else {
                        o.request.order_type
                    },
                    iceberg: o.request.iceberg,
                    spend_cap: (o.request.side == crate::model::Side::Buy).then_some(o.locked),
                    venue: o.request.venue,
                };
                let counted = Counted {
                    filled: o.filled,
                    trades: record.venue_trades.get(&o.id).cloned().unwrap_or_default(),
                };
                (order, counted)
            })
            .collect();
        self.oms.restore(id, &balances, &positions, orders);
        for (order, counted) in venue_orders {
            self.venue
                .restore(order, &counted, now, market, &mut self.reports);
        }
        self.apply_reports(market);
    }

    /// Numbers orders and trades on from `next_order_id` and `next_trade_id` (after a restart).
    pub fn resume_ids(&mut self, next_order_id: u64, next_trade_id: u64) {
        self.oms.resume_ids(next_order_id, next_trade_id);
    }

    /// Removes deployment `id`: halts it (its open orders end now), then forgets its account,
    /// its risk state and its protective stops.
    pub fn remove(&mut self, id: DeploymentId, now: TimestampMs, market: &MarketData) {
        self.halt(id, now, market);
        let holding = self
            .oms
            .account(id)
            .is_some_and(|a| a.open_order_count() > 0);
        if self.venue.is_remote() && holding {
            // Its orders end as the exchange answers (a fill may still come): the account
            // stays until then.
            self.closing.insert(id);
        } else {
            self.close(id);
        }
    }

    fn close(&mut self, id: DeploymentId) {
        self.oms.close_account(id);
        self.risk.close(id);
        self.stops.retain(|(owner, _), _| *owner != id);
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

    /// Collects what a remote venue reported since the last call (stamped `now`: the engine
    /// learns of it now), then hands the venue every request that has reached it by `now`, in
    /// the order they arrive.
    pub fn advance(&mut self, now: TimestampMs, market: &MarketData) {
        let before = self.reports.len();
        self.venue.poll(&mut self.reports);
        for report in &mut self.reports[before..] {
            report.time = now;
        }
        self.apply_reports(market);
        while let Some(entry) = self.inflight.first_entry() {
            let (at, _) = *entry.key();
            if at > now {
                break;
            }
            let request = entry.remove();
            match request {
                Request::Place(order) => self.venue.place(order, at, market, &mut self.reports),
                Request::Cancel(order_id) => {
                    self.venue.cancel(order_id, at, market, &mut self.reports)
                }
                Request::Replace {
                    deployment,
                    old,
                    new_id,
                    request,
                    mode,
                } => {
                    let replacement = Replacement {
                        deployment,
                        new_id,
                        request,
                        mode,
                    };
                    match self.replacing.entry(old) {
                        std::collections::btree_map::Entry::Vacant(waiting) => {
                            // The replacement waits for the cancel's answer: a simulated
                            // venue's comes at once (applied below), a remote exchange's later.
                            waiting.insert(replacement);
                            self.venue.cancel(old, at, market, &mut self.reports);
                        }
                        std::collections::btree_map::Entry::Occupied(_) => {
                            let reason = Rejection::new(
                                RejectCode::UnknownOrder,
                                format!("order {old} is already being replaced"),
                            );
                            let r = replacement;
                            self.refuse(r.deployment, r.new_id, r.request, reason, at, market);
                        }
                    }
                }
            }
            self.apply_reports(market);
        }
    }

    /// Takes the updates whose news has reached their owners by `now`, oldest first.
    pub fn take_updates(&mut self, now: TimestampMs) -> Vec<OrderUpdate> {
        let mut due = Vec::new();
        while let Some(entry) = self.outbox.first_entry() {
            if entry.key().0 > now {
                break;
            }
            due.push(entry.remove());
        }
        due
    }

    /// When the next request reaches the venue or the next update its owner, if any waits.
    pub fn next_due(&self) -> Option<TimestampMs> {
        let request = self.inflight.keys().next().map(|k| k.0);
        let update = self.outbox.keys().next().map(|k| k.0);
        request.into_iter().chain(update).min()
    }

    fn apply_reports(&mut self, market: &MarketData) {
        while !self.reports.is_empty() {
            let reports = std::mem::take(&mut self.reports);
            let mut decided = Vec::new();
            let mut latest = None;
            for report in reports {
                let time = report.time;
                latest = Some(time);
                if let Some(cancelled) = replaced_order_outcome(&report.kind)
                    && let Some(replacement) = self.replacing.remove(&report.order_id)
                {
                    decided.push((report.order_id, replacement, cancelled, time));
                }
                if let Some(update) = self.oms.apply(report, market) {
                    if update.fill.is_some() {
                        self.sync_stop_entry(update.deployment, update.request.symbol, market);
                    }
                    let (_, response) = self.latency.latencies(time);
                    self.post(update, time + response);
                }
            }
            for (old, r, cancelled, at) in decided {
                self.replace_after_cancel(old, r, cancelled, at, market);
            }
            if !self.closing.is_empty() || self.flatten_after_cancels.is_some() {
                let now = latest.unwrap_or(self.last_delivery);
                self.after_cancels(now, market);
            }
        }
    }

    /// Places (or refuses) a replacement once the remote venue has answered the cancel of order
    /// `old`: `cancelled` or not.
    fn replace_after_cancel(
        &mut self,
        old: u64,
        r: Replacement,
        cancelled: bool,
        at: TimestampMs,
        market: &MarketData,
    ) {
        if !cancelled && r.mode == ReplaceMode::StopOnFailure {
            let reason = Rejection::new(
                RejectCode::UnknownOrder,
                format!(
                    "the cancel of order {old} failed (it had ended), so its replacement was not placed"
                ),
            );
            return self.refuse(r.deployment, r.new_id, r.request, reason, at, market);
        }
        match self.admit(r.deployment, r.new_id, r.request, at, market, false) {
            Ok(order) => self.venue.place(order, at, market, &mut self.reports),
            Err(reason) => self.refuse(r.deployment, r.new_id, r.request, reason, at, market),
        }
    }
}

#[cfg(test)]
mod commission_tests;
#[cfg(test)]
mod risk_tests;
#[cfg(test)]
mod tests;
