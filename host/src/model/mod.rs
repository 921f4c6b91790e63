//! Domain types shared by every stage: exact fixed-point money, symbols, bars, orders and fills.
//!
//! Prices and quantities are [`Fixed`] (eight decimal places, the precision Binance quotes in);
//! `f64` appears only at the edges (guest calls, analytics).

mod decimal;
mod fixed;
mod symbols;
pub mod time;

pub use decimal::{Decimal, DecimalError};
pub use fixed::{Fixed, FixedError};
pub use symbols::{SymbolId, SymbolTable};

/// Milliseconds since the Unix epoch.
pub type TimestampMs = i64;

/// One closed OHLCV candle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    /// The instrument.
    pub symbol: SymbolId,
    /// Candle length in milliseconds.
    pub interval_ms: u32,
    /// Open time of the candle.
    pub open_time: TimestampMs,
    /// Opening price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Closing price.
    pub close: f64,
    /// Traded base volume.
    pub volume: f64,
}

impl Bar {
    /// The time the bar closed, which is when it becomes known.
    pub fn close_time(&self) -> TimestampMs {
        self.open_time + i64::from(self.interval_ms)
    }
}

/// Buy or sell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Buy the base asset.
    Buy,
    /// Sell the base asset.
    Sell,
}

impl Side {
    /// +1 for a buy, -1 for a sell.
    pub fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
}

/// How an order executes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OrderKind {
    /// At the next available price.
    Market,
    /// At the limit price or better.
    Limit(Fixed),
    /// A market order once the stop price is touched.
    Stop(Fixed),
    /// A limit order at `limit` once `stop` is touched.
    StopLimit {
        /// Trigger price.
        stop: Fixed,
        /// Limit price after the trigger.
        limit: Fixed,
    },
}

/// How long an order stays open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel: whatever does not fill on the next bar expires.
    Ioc,
    /// Fill or kill: fills entirely on the next bar or expires.
    Fok,
}

/// An order that passed validation, in exact values.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderRequest {
    /// The strategy's own id.
    pub client_id: u64,
    /// The instrument.
    pub symbol: SymbolId,
    /// Direction.
    pub side: Side,
    /// Base quantity, positive.
    pub quantity: Fixed,
    /// Execution kind.
    pub kind: OrderKind,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Only reduce an existing position.
    pub reduce_only: bool,
}

/// The life-cycle state of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrderStatus {
    /// Open, nothing filled.
    Accepted,
    /// Open, part filled.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled by the strategy or the operator.
    Cancelled,
    /// Refused.
    Rejected,
    /// Ended by its time in force.
    Expired,
}

/// An order the venue holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    /// Host-assigned id, unique across strategies.
    pub id: u64,
    /// The deployment that owns it.
    pub owner: std::sync::Arc<str>,
    /// What was asked.
    pub request: OrderRequest,
    /// Current state.
    pub status: OrderStatus,
    /// Quantity filled so far.
    pub filled: Fixed,
    /// Whether a stop order's trigger has been touched.
    pub triggered: bool,
    /// When it was accepted.
    pub time: TimestampMs,
}

/// An execution.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Fill {
    /// The order it belongs to.
    pub order_id: u64,
    /// The strategy's id for the order.
    pub client_id: u64,
    /// The deployment that owns the order.
    pub owner: std::sync::Arc<str>,
    /// The instrument.
    pub symbol: SymbolId,
    /// Direction.
    pub side: Side,
    /// Execution price.
    pub price: Fixed,
    /// Executed base quantity.
    pub quantity: Fixed,
    /// Fee in the quote asset.
    pub fee: Fixed,
    /// Event time of the execution.
    pub time: TimestampMs,
    /// The order's status after this fill.
    pub status: OrderStatus,
}
