//! Pre-trade risk: every order a guest submits passes [`RiskEngine::check`], a pipeline of named
//! checks run in order (the trading state, the order's own consistency, the symbol's exchange
//! filters, the deployment's budget, then the account-wide limits); the first refusal wins and
//! names its rule. [`RiskEngine::monitor`] watches each deployment's equity on every bar
//! (drawdown from its peak, the day's loss, a one-day VaR) and tightens its trading state on a
//! breach; only the operator loosens it.
//!
//! The risk engine reads the account through [`AccountView`] and [`AccountsView`], which the
//! order manager implements, so this stage decides without owning balances or orders.

mod account;
pub mod analysis;
mod budget;
pub mod checks;
pub mod returns;
mod state;
mod stops;

pub use account::{AccountLimits, AccountTotals, AccountsView};
pub use budget::{Budget, BudgetError};
pub use state::{StateRecord, TradingState};
pub use stops::{StopConfig, StopReason, StopState};

use crate::market::MarketData;
use crate::model::{
    Amount, AssetId, DeploymentId, Fixed, Instrument, OrderRequest, OrderType, RejectCode,
    Rejection, Side, SymbolId, TimestampMs, Trigger,
};
use std::cell::OnceCell;
use std::collections::VecDeque;

const DAY_MS: i64 = 86_400_000;
/// Equity returns the one-day VaR is estimated from (one a bar).
const VAR_WINDOW: usize = 250;
/// Fewest equity returns before the VaR is estimated.
const VAR_MIN_RETURNS: usize = 30;

/// Open orders of one symbol, by the kinds exchange filters count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenCounts {
    /// Every open order.
    pub orders: u32,
    /// Open stop and take-profit orders.
    pub algo: u32,
    /// Open iceberg orders.
    pub iceberg: u32,
}

/// What the risk checks read of a deployment's account.
pub trait AccountView {
    /// Net base quantity traded in `symbol` (negative after selling more than was bought).
    fn position(&self, symbol: SymbolId) -> Fixed;
    /// The position plus the signed remaining quantity of open orders in `symbol`.
    fn committed(&self, symbol: SymbolId) -> Fixed;
    /// Open orders in `symbol`.
    fn open_counts(&self, symbol: SymbolId) -> OpenCounts;
    /// Remaining base quantity of open buy orders in `symbol`.
    fn open_buy_quantity(&self, symbol: SymbolId) -> Fixed;
    /// Free plus locked amount of `asset`.
    fn holding(&self, asset: AssetId) -> Fixed;
    /// Every holding valued in the valuation asset (`None` when an asset has no price).
    fn equity(&self, market: &MarketData) -> Option<Fixed>;
    /// Sum over symbols of the absolute position valued in the valuation asset.
    fn gross_exposure(&self, market: &MarketData) -> Fixed;
    /// Sum over symbols (but `except`) of the absolute committed quantity, valued.
    fn committed_exposure(&self, market: &MarketData, except: Option<SymbolId>) -> Fixed;
    /// Sum over symbols (but `except`) of the signed committed quantity, valued.
    fn committed_net_exposure(&self, market: &MarketData, except: Option<SymbolId>) -> Fixed;
}

/// A deployment's budget in exact values, and what its checks remember.
#[derive(Clone, Debug)]
pub struct DeploymentRisk {
    /// The budget, with its valuation asset resolved.
    pub budget: Budget,
    /// The valuation asset.
    pub valuation: AssetId,
    /// `max_order_notional`.
    pub order_notional: Fixed,
    /// `max_position_notional`.
    pub position_notional: Fixed,
    /// `max_gross_exposure`.
    pub gross_exposure: Fixed,
    /// `max_daily_loss`.
    pub daily_loss: Fixed,
    /// Event times of the orders accepted in the last second.
    pub recent: VecDeque<TimestampMs>,
    /// The UTC day the loss count is for.
    pub day: i64,
    /// Equity at the start of that day.
    pub day_start_equity: Fixed,
    /// Whether orders are refused (a halted deployment, or one not yet installed).
    pub halted: bool,
    /// The trading state.
    pub state: StateRecord,
    /// `max_net_exposure`, if any.
    pub net_exposure: Option<Fixed>,
    /// The highest equity seen.
    pub peak_equity: Fixed,
    /// The latest drawdown from the peak, as a fraction.
    pub drawdown: f64,
    /// Equity sampled once a bar time, oldest first (at most `VAR_WINDOW + 1`).
    pub equity_samples: VecDeque<(TimestampMs, f64)>,
    /// The latest one-day 95 % VaR of the equity, as a fraction (once enough bars are seen).
    pub var: Option<f64>,
    /// Which limits are in breach now (daily loss, drawdown, VaR): a state is tightened when a
    /// breach begins, so an operator who loosens it is not overruled until the next breach.
    breached: [bool; 3],
}

impl DeploymentRisk {
    /// The state of a deployment with `budget` (its `asset` resolved), valued in `valuation`.
    pub fn new(budget: Budget, valuation: AssetId) -> Self {
        DeploymentRisk {
            order_notional: Budget::fixed(budget.max_order_notional),
            position_notional: Budget::fixed(budget.max_position_notional),
            gross_exposure: Budget::fixed(budget.max_gross_exposure),
            daily_loss: Budget::fixed(budget.max_daily_loss),
            net_exposure: budget.max_net_exposure.map(Budget::fixed),
            budget,
            valuation,
            recent: VecDeque::new(),
            day: i64::MIN,
            day_start_equity: Fixed::ZERO,
            halted: false,
            state: StateRecord::default(),
            peak_equity: Fixed::ZERO,
            drawdown: 0.0,
            equity_samples: VecDeque::new(),
            var: None,
            breached: [false; 3],
        }
    }

    /// Records equity at `now` (one sample a bar time), updates the peak, the drawdown and the
    /// VaR, and tightens the trading state on a breach; the new state if it changed.
    fn observe(&mut self, equity: Fixed, now: TimestampMs, bar_ms: i64) -> Option<StateRecord> {
        let b = &self.budget;
        let mut tightened = false;
        self.peak_equity = self.peak_equity.max(equity);
        if self.peak_equity.raw() > 0 {
            self.drawdown =
                (self.peak_equity.to_f64() - equity.to_f64()) / self.peak_equity.to_f64();
        }
        let breach = b.max_drawdown.is_some_and(|limit| self.drawdown >= limit);
        if let Some(limit) = b.max_drawdown
            && begins(&mut self.breached[1], breach)
        {
            let reason = format!(
                "drawdown {:.2}% from peak equity {} reached max_drawdown {:.2}%",
                self.drawdown * 100.0,
                self.peak_equity,
                limit * 100.0
            );
            tightened |= self.state.tighten(b.on_drawdown, reason, now);
        }
        let loss = self.day_start_equity.saturating_sub(equity);
        let breach = self.day != i64::MIN && loss >= self.daily_loss;
        if begins(&mut self.breached[0], breach) {
            let reason = format!(
                "today's loss {loss} reached max_daily_loss {}",
                self.daily_loss
            );
            tightened |= self.state.tighten(b.on_daily_loss, reason, now);
        }
        if self.equity_samples.back().is_none_or(|&(t, _)| now > t) {
            self.equity_samples.push_back((now, equity.to_f64()));
            if self.equity_samples.len() > VAR_WINDOW + 1 {
                self.equity_samples.pop_front();
            }
            self.var = self.estimate_var(bar_ms);
        }
        let breach = matches!((b.max_var, self.var), (Some(limit), Some(var)) if var > limit);
        if let (Some(limit), Some(var)) = (b.max_var, self.var)
            && begins(&mut self.breached[2], breach)
        {
            let reason = format!(
                "one-day 95% VaR {:.2}% of equity is above max_var {:.2}%",
                var * 100.0,
                limit * 100.0
            );
            tightened |= self.state.tighten(b.on_var, reason, now);
        }
        tightened.then(|| self.state.clone())
    }

    /// The sampled equity's returns, one a bar time, oldest first.
    pub fn equity_returns(&self) -> Vec<f64> {
        self.equity_samples
            .iter()
            .zip(self.equity_samples.iter().skip(1))
            .filter(|((_, a), _)| *a > 0.0)
            .map(|((_, a), (_, b))| b / a - 1.0)
            .collect()
    }

    /// Parametric one-day 95 % VaR of the sampled equity's returns, scaled from bars of
    /// `bar_ms` by the square root of time.
    fn estimate_var(&self, bar_ms: i64) -> Option<f64> {
        let returns = self.equity_returns();
        if returns.len() < VAR_MIN_RETURNS || bar_ms <= 0 {
            return None;
        }
        let horizon = (DAY_MS / bar_ms).max(1) as usize;
        stratbox_quant::var::series(
            &returns,
            stratbox_quant::var::Method::Parametric,
            0.95,
            horizon,
        )
        .ok()
        .map(|e| e.var.max(0.0))
    }
}

/// Records whether a limit is breached now; true when the breach has just begun.
fn begins(flag: &mut bool, breach: bool) -> bool {
    let began = breach && !*flag;
    *flag = breach;
    began
}

/// Everything one check sees.
pub struct Check<'a> {
    /// The order.
    pub request: &'a OrderRequest,
    /// Its symbol's instrument.
    pub instrument: &'a Instrument,
    /// The market at the time of the order.
    pub market: &'a MarketData,
    /// The deployment's account.
    pub account: &'a dyn AccountView,
    /// The deployment's budget and counters.
    pub risk: &'a DeploymentRisk,
    /// The account-wide limits and state.
    pub account_risk: &'a AccountRisk,
    /// Every deployment's account.
    pub accounts: &'a dyn AccountsView,
    /// Their totals, computed when a check first needs them.
    pub totals: OnceCell<AccountTotals>,
    /// A host order protecting the deployment (a stop closing a position): the trading state
    /// does not hold it back.
    pub protective: bool,
    /// Event time.
    pub now: TimestampMs,
    /// The price the order is valued at: its limit price, its stop price, or for a market order
    /// the best price on its side of the book (the last price without a book).
    pub price: Fixed,
    /// Its base quantity (for a quote amount, the amount over `price`).
    pub quantity: Fixed,
}

impl Check<'_> {
    /// The order's notional in its quote asset.
    pub fn notional(&self) -> Fixed {
        match self.request.amount {
            Amount::Quote(q) => q,
            Amount::Base(q) => q.saturating_mul(self.price),
        }
    }

    /// `amount` of the symbol's quote asset in the valuation asset.
    pub fn valued(&self, amount: Fixed) -> Fixed {
        self.market
            .convert(amount, self.instrument.quote, self.risk.valuation)
            .unwrap_or(amount)
    }

    /// Totals over every deployment's account, valued as this deployment values.
    pub fn totals(&self) -> &AccountTotals {
        self.totals.get_or_init(|| {
            self.accounts
                .totals(self.market, self.risk.valuation, self.request.symbol)
        })
    }

    /// The stricter of the deployment's and the account's trading state.
    pub fn state(&self) -> &StateRecord {
        self.risk.state.stricter(&self.account_risk.state)
    }

    /// The signed base quantity (positive for a buy).
    pub fn signed_quantity(&self) -> Fixed {
        match self.request.side {
            Side::Buy => self.quantity,
            Side::Sell => -self.quantity,
        }
    }
}

/// One named check.
pub type CheckFn = fn(&Check<'_>) -> Result<(), Rejection>;

/// The account-wide limits, state and order-rate window.
#[derive(Clone, Debug, Default)]
pub struct AccountRisk {
    /// The limits.
    pub limits: AccountLimits,
    /// The account's trading state (the kill switch sets it).
    pub state: StateRecord,
    /// Event times of the orders accepted in the last second, every deployment.
    pub recent: VecDeque<TimestampMs>,
}

/// The risk state of every deployment, and the pipeline orders pass.
#[derive(Debug, Default)]
pub struct RiskEngine {
    deployments: Vec<Option<DeploymentRisk>>,
    account: AccountRisk,
}

impl RiskEngine {
    /// Starts checking deployment `id` against `budget`, valued in `valuation`.
    pub fn open(&mut self, id: DeploymentId, budget: Budget, valuation: AssetId) {
        let i = id.0 as usize;
        if self.deployments.len() <= i {
            self.deployments.resize_with(i + 1, || None);
        }
        self.deployments[i] = Some(DeploymentRisk::new(budget, valuation));
    }

    /// Stops tracking deployment `id` (removed).
    pub fn close(&mut self, id: DeploymentId) {
        if let Some(slot) = self.deployments.get_mut(id.0 as usize) {
            *slot = None;
        }
    }

    /// The risk state of deployment `id`.
    pub fn deployment(&self, id: DeploymentId) -> Option<&DeploymentRisk> {
        self.deployments.get(id.0 as usize)?.as_ref()
    }

    fn deployment_mut(&mut self, id: DeploymentId) -> Option<&mut DeploymentRisk> {
        self.deployments.get_mut(id.0 as usize)?.as_mut()
    }

    /// Sets the account-wide limits.
    pub fn set_account_limits(&mut self, limits: AccountLimits) {
        self.account.limits = limits;
    }

    /// The account-wide limits and state.
    pub fn account(&self) -> &AccountRisk {
        &self.account
    }

    /// Sets deployment `id`'s trading state (the operator's decision); false for no such
    /// deployment.
    pub fn set_state(
        &mut self,
        id: DeploymentId,
        state: TradingState,
        reason: String,
        now: TimestampMs,
    ) -> bool {
        match self.deployment_mut(id) {
            Some(d) => {
                d.state.set(state, reason, now);
                true
            }
            None => false,
        }
    }

    /// The stricter of deployment `id`'s and the account's trading state.
    pub fn effective_state(&self, id: DeploymentId) -> Option<&StateRecord> {
        Some(self.deployment(id)?.state.stricter(&self.account.state))
    }

    /// Sets the whole account's trading state.
    pub fn set_account_state(&mut self, state: TradingState, reason: String, now: TimestampMs) {
        self.account.state.set(state, reason, now);
    }

    /// Watches deployment `id`'s equity at `now` (bars of `bar_ms`): its peak, drawdown, the
    /// day's loss and its VaR; the new trading state if a breach tightened it.
    pub fn monitor(
        &mut self,
        id: DeploymentId,
        equity: Option<Fixed>,
        now: TimestampMs,
        bar_ms: i64,
    ) -> Option<StateRecord> {
        let d = self.deployment_mut(id)?;
        d.observe(equity?, now, bar_ms)
    }

    /// Refuses (or again accepts) every order of deployment `id`.
    pub fn set_halted(&mut self, id: DeploymentId, halted: bool) {
        if let Some(d) = self.deployment_mut(id) {
            d.halted = halted;
        }
    }

    /// Starts a new day's loss count for deployment `id` when `now` falls in a later UTC day.
    pub fn roll_day(&mut self, id: DeploymentId, now: TimestampMs, equity: Option<Fixed>) {
        let day = now.div_euclid(DAY_MS);
        if let Some(d) = self.deployment_mut(id)
            && d.day != day
            && let Some(equity) = equity
        {
            d.day = day;
            d.day_start_equity = equity;
        }
    }

    /// Whether deployment `id` must roll its day at `now`.
    pub fn day_changes(&self, id: DeploymentId, now: TimestampMs) -> bool {
        self.deployment(id)
            .is_some_and(|d| d.day != now.div_euclid(DAY_MS))
    }

    /// Runs every check on `request` of deployment `id`; the first refusal is returned. A
    /// `protective` order (the host closing a position) passes a halted deployment and its
    /// trading state.
    #[allow(clippy::too_many_arguments)]
    pub fn check(
        &self,
        id: DeploymentId,
        request: &OrderRequest,
        account: &dyn AccountView,
        accounts: &dyn AccountsView,
        market: &MarketData,
        now: TimestampMs,
        protective: bool,
    ) -> Result<(), Rejection> {
        let risk = self.deployment(id).ok_or_else(not_installed)?;
        if risk.halted && !protective {
            return Err(not_installed());
        }
        let instrument = market.instrument(request.symbol).ok_or_else(|| {
            Rejection::new(
                RejectCode::UnknownSymbol,
                format!("unknown symbol id {}", request.symbol),
            )
        })?;
        let price = reference_price(request, market).ok_or_else(|| {
            Rejection::new(
                RejectCode::UnknownSymbol,
                format!(
                    "no price yet for {} to value a {} order at",
                    instrument.symbol,
                    request.order_type.name()
                ),
            )
        })?;
        let quantity = match request.amount {
            Amount::Base(q) => q,
            Amount::Quote(q) => q.checked_div(price).unwrap_or(Fixed::ZERO),
        };
        let check = Check {
            request,
            instrument,
            market,
            account,
            risk,
            account_risk: &self.account,
            accounts,
            totals: OnceCell::new(),
            protective,
            now,
            price,
            quantity,
        };
        for (_, f) in checks::PIPELINE {
            f(&check)?;
        }
        Ok(())
    }

    /// Counts an accepted order of deployment `id` in its and the account's order-rate window.
    pub fn accepted(&mut self, id: DeploymentId, now: TimestampMs) {
        let window = |recent: &mut VecDeque<TimestampMs>| {
            while recent.front().is_some_and(|&t| t <= now - 1000) {
                recent.pop_front();
            }
            recent.push_back(now);
        };
        if let Some(d) = self.deployment_mut(id) {
            window(&mut d.recent);
        }
        window(&mut self.account.recent);
    }
}

fn not_installed() -> Rejection {
    Rejection::new(
        RejectCode::StrategyHalted,
        "the deployment is halted or not yet installed (orders are refused during init)",
    )
}

/// The price an order is valued at: its limit price; its stop (or activation) price; for a
/// market order (or a trailing stop without activation) the best price on its side of the book,
/// or the last price without a book.
pub fn reference_price(request: &OrderRequest, market: &MarketData) -> Option<Fixed> {
    explicit_price(request).or_else(|| market.touch(request.symbol, request.side))
}

/// The price the order names: its limit price, or its stop (or activation) price.
pub fn explicit_price(request: &OrderRequest) -> Option<Fixed> {
    if let Some(price) = request.order_type.limit_price() {
        return Some(price);
    }
    match request.order_type {
        OrderType::StopLoss {
            trigger:
                Trigger::Price(stop)
                | Trigger::Trailing {
                    activation: Some(stop),
                    ..
                },
        }
        | OrderType::TakeProfit {
            trigger:
                Trigger::Price(stop)
                | Trigger::Trailing {
                    activation: Some(stop),
                    ..
                },
        } => Some(stop),
        _ => None,
    }
}
