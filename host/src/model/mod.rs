//! Domain types shared by every stage: exact fixed-point money, symbols and instruments, bars,
//! orders with their updates and fills, rejections and signals.
//!
//! Prices and quantities are [`Fixed`] (eight decimal places, the precision Binance quotes in);
//! `f64` appears only at the edges (guest calls, analytics).

mod decimal;
mod fixed;
pub mod instrument;
mod order;
mod reject;
mod signal;
mod symbols;
pub mod time;

pub use decimal::{Decimal, DecimalError};
pub use fixed::{Fixed, FixedError};
pub use instrument::{AssetId, FeeRates, Instrument, Instruments};
pub use order::{
    Amount, DeploymentId, ExecutionType, Fill, Liquidity, OrderRequest, OrderStatus, OrderType,
    OrderUpdate, TimeInForce, Trigger,
};
pub use reject::{AccountLimit, ExchangeFilter, RejectCode, Rejection};
pub use signal::{Direction, Signal, SignalKind};
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
#[derive(
    utoipa::ToSchema,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Buy the base asset.
    Buy,
    /// Sell the base asset.
    Sell,
}

impl Side {
    /// Binance's name: `BUY` or `SELL`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }

    /// +1 for a buy, -1 for a sell.
    pub fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
}
