//! The [`Venue`] trait: where accepted orders go to be matched. The candle fill model, the book
//! matcher (both simulated, with latency) and a live exchange implement it; the order manager
//! turns their [`VenueReport`]s into order updates.

use crate::feeds::MarketEvent;
use crate::market::MarketData;
use crate::model::{
    Amount, DeploymentId, FeeRates, Fixed, Liquidity, OrderType, RejectCode, Rejection, Side,
    SymbolId, TimestampMs,
};
use std::sync::Arc;

/// An account's discount on commissions paid in another asset (Binance: 25 % off in BNB).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeDiscount {
    /// The asset commissions are paid in.
    pub asset: Arc<str>,
    /// The share of the fee paid (0.75 for 25 % off).
    pub multiplier: Fixed,
}

/// Wakes the engine when a venue that answers on its own time has reports to collect.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// An order as a venue sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VenueOrder {
    /// Host-assigned id.
    pub id: u64,
    /// The deployment that owns it.
    pub owner: DeploymentId,
    /// The instrument.
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// How much.
    pub amount: Amount,
    /// The type and its prices.
    pub order_type: OrderType,
    /// The visible part of an iceberg.
    pub iceberg: Option<Fixed>,
    /// For a buy, the most quote its fills may cost, fees included (what the account locked).
    pub spend_cap: Option<Fixed>,
    /// The tag of the venue it goes to when several are configured (0: the default one).
    pub venue: u32,
}

/// What of an order was counted before a restart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counted {
    /// Base quantity filled.
    pub filled: Fixed,
    /// The venue's ids of the trades its fills came from (an exchange's; empty for a simulated
    /// venue, or fills stored before schema 10).
    pub trades: Vec<i64>,
}

/// How a venue charged a fill's commission.
#[derive(Clone, Debug, PartialEq)]
pub enum Commission {
    /// In the quote asset: the fill's fee.
    Quote,
    /// In the base asset, this much: kept out of the base a buy received (Binance's way
    /// without BNB), taken from the base balance for a sell.
    Base(Fixed),
    /// In another asset, by name, this much (BNB, for an account that pays its fees with it).
    Other(Arc<str>, Fixed),
}

/// What happened to an order at the venue.
#[derive(Clone, Debug, PartialEq)]
pub enum ReportKind {
    /// The venue took it (a stop order now waits for its trigger).
    Accepted,
    /// The venue refused it.
    Rejected(Rejection),
    /// A stop or take-profit order's trigger fired.
    Triggered,
    /// (Part of) it executed.
    Fill {
        /// Execution price.
        price: Fixed,
        /// Base quantity.
        quantity: Fixed,
        /// Exact quote quantity (`price * quantity`).
        quote: Fixed,
        /// The fee's value in the quote asset (zero for a commission in another asset, which the
        /// order manager values).
        fee: Fixed,
        /// The asset and amount the venue charged.
        commission: Commission,
        /// The venue's id of the trade, when it has its own (an exchange's).
        venue_trade_id: Option<i64>,
        /// Maker or taker.
        liquidity: Liquidity,
        /// Whether this fill completes the order.
        complete: bool,
    },
    /// Its time in force ended it, or the book could not fill a market order.
    Expired,
    /// Cancelled on request.
    Cancelled,
    /// A cancel request failed: the order was no longer open there.
    CancelRejected(Rejection),
}

/// A report of the venue about one order.
#[derive(Clone, Debug, PartialEq)]
pub struct VenueReport {
    /// The order.
    pub order_id: u64,
    /// When it happened at the venue, in event time.
    pub time: TimestampMs,
    /// What happened.
    pub kind: ReportKind,
}

impl VenueReport {
    /// The answer to a cancel of `order_id` at `now`: cancelled if it was still open there.
    pub fn cancel_answer(order_id: u64, was_open: bool, now: TimestampMs) -> Self {
        let kind = if was_open {
            ReportKind::Cancelled
        } else {
            ReportKind::CancelRejected(Rejection::new(
                RejectCode::UnknownOrder,
                format!("Unknown order sent: order {order_id} is no longer open"),
            ))
        };
        VenueReport {
            order_id,
            time: now,
            kind,
        }
    }
}

/// Where orders are matched. A venue acts at once on what it is given; the order path holds
/// requests and answers for their latency.
pub trait Venue: Send {
    /// Takes an order arriving at `now`.
    fn place(
        &mut self,
        order: VenueOrder,
        now: TimestampMs,
        market: &MarketData,
        out: &mut Vec<VenueReport>,
    );

    /// Takes a request, arriving at `now`, to cancel order `order_id`.
    fn cancel(
        &mut self,
        order_id: u64,
        now: TimestampMs,
        market: &MarketData,
        out: &mut Vec<VenueReport>,
    );

    /// Matches resting orders against `event`, which `market` has just recorded.
    fn on_event(&mut self, event: &MarketEvent, market: &MarketData, out: &mut Vec<VenueReport>);

    /// The fee rates of `symbol`.
    fn fees(&self, symbol: SymbolId, market: &MarketData) -> FeeRates;

    /// Takes back an order that was open before a restart, with what of it was `counted`
    /// then (a simulated venue places what remains of it again).
    fn restore(
        &mut self,
        order: VenueOrder,
        counted: &Counted,
        now: TimestampMs,
        market: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        let _ = counted;
        self.place(order, now, market, out);
    }

    /// Reports that arrived on the venue's own time since the last poll (a remote exchange's).
    fn poll(&mut self, out: &mut Vec<VenueReport>) {
        let _ = out;
    }

    /// Sets how to wake the engine when reports arrive on the venue's own time.
    fn set_waker(&mut self, waker: Waker) {
        let _ = waker;
    }

    /// Whether the venue is a remote exchange: it alone says when an order has ended, so a
    /// halt asks it to cancel and waits for its answers instead of ending orders at once.
    fn is_remote(&self) -> bool {
        false
    }

    /// The tag orders that name no venue are sent to (0 for a venue with none behind it).
    fn default_tag(&self) -> u32 {
        0
    }

    /// The names of the venues behind this one, the default first; empty for a single venue.
    fn names(&self) -> Vec<Arc<str>> {
        Vec::new()
    }

    /// The venues behind this one, as a split across them sees them for `symbol`; empty for a
    /// single venue.
    fn legs(&self, symbol: SymbolId, market: &MarketData) -> Vec<crate::execution::route::LegView> {
        let _ = (symbol, market);
        Vec::new()
    }

    /// Whether a buy's commission is kept out of the base asset bought (Binance without BNB):
    /// a buy that must bring in a quantity is grossed up by the taker fee.
    fn buyers_pay_fee_in_base(&self) -> bool {
        false
    }

    /// How the account pays `symbol`'s commissions at a discount in another asset (Binance's
    /// "use BNB to pay fees"), when it does: a buy's commission is then taken from that asset,
    /// not kept out of the base bought, while enough of it is free.
    fn fee_discount(&self, symbol: SymbolId, market: &MarketData) -> Option<FeeDiscount> {
        let _ = (symbol, market);
        None
    }

    /// The free balance of `asset` on the venue's account, when it keeps one apart.
    fn free(&self, asset: &str) -> Option<Fixed> {
        let _ = asset;
        None
    }
}
