//! Pre-trade risk: every order a guest submits passes [`RiskEngine::check`], a pipeline of named
//! checks run in order (the order's own consistency, the symbol's exchange filters, then the
//! deployment's budget); the first refusal wins and names its rule.
//!
//! The risk engine reads the account through [`AccountView`], which the order manager
//! implements, so this stage decides without owning balances or orders.

mod budget;
pub mod checks;
pub mod returns;

pub use budget::{Budget, BudgetError};

use crate::market::MarketData;
use crate::model::{
    Amount, AssetId, DeploymentId, Fixed, Instrument, OrderRequest, OrderType, RejectCode,
    Rejection, Side, SymbolId, TimestampMs, Trigger,
};
use std::collections::VecDeque;

const DAY_MS: i64 = 86_400_000;

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
}

impl DeploymentRisk {
    /// The state of a deployment with `budget` (its `asset` resolved), valued in `valuation`.
    pub fn new(budget: Budget, valuation: AssetId) -> Self {
        DeploymentRisk {
            order_notional: Budget::fixed(budget.max_order_notional),
            position_notional: Budget::fixed(budget.max_position_notional),
            gross_exposure: Budget::fixed(budget.max_gross_exposure),
            daily_loss: Budget::fixed(budget.max_daily_loss),
            budget,
            valuation,
            recent: VecDeque::new(),
            day: i64::MIN,
            day_start_equity: Fixed::ZERO,
            halted: false,
        }
    }
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

/// The risk state of every deployment, and the pipeline orders pass.
#[derive(Debug, Default)]
pub struct RiskEngine {
    deployments: Vec<Option<DeploymentRisk>>,
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

    /// The risk state of deployment `id`.
    pub fn deployment(&self, id: DeploymentId) -> Option<&DeploymentRisk> {
        self.deployments.get(id.0 as usize)?.as_ref()
    }

    fn deployment_mut(&mut self, id: DeploymentId) -> Option<&mut DeploymentRisk> {
        self.deployments.get_mut(id.0 as usize)?.as_mut()
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

    /// Runs every check on `request` of deployment `id`; the first refusal is returned.
    pub fn check(
        &self,
        id: DeploymentId,
        request: &OrderRequest,
        account: &dyn AccountView,
        market: &MarketData,
        now: TimestampMs,
    ) -> Result<(), Rejection> {
        let risk = self.deployment(id).ok_or_else(not_installed)?;
        if risk.halted {
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
            now,
            price,
            quantity,
        };
        for (_, f) in checks::PIPELINE {
            f(&check)?;
        }
        Ok(())
    }

    /// Counts an accepted order of deployment `id` in its order-rate window.
    pub fn accepted(&mut self, id: DeploymentId, now: TimestampMs) {
        if let Some(d) = self.deployment_mut(id) {
            while d.recent.front().is_some_and(|&t| t <= now - 1000) {
                d.recent.pop_front();
            }
            d.recent.push_back(now);
        }
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
        _ => market.touch(request.symbol, request.side),
    }
}
