//! Market event sources. Every source produces the same [`MarketEvent`]s, so the engine cannot
//! tell a replay from a live feed.

pub mod binance;
pub mod candles;
pub mod replay;

use crate::model::Bar;

/// An event from a market source, in the order the engine must see it.
#[derive(Clone, Debug, PartialEq)]
pub enum MarketEvent {
    /// A candle closed.
    Bar(Bar),
}

impl MarketEvent {
    /// The event time: when the event became known.
    pub fn time(&self) -> crate::model::TimestampMs {
        match self {
            MarketEvent::Bar(bar) => bar.close_time(),
        }
    }
}
