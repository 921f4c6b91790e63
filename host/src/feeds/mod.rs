//! Market event sources. Every source produces the same [`MarketEvent`]s, so the engine cannot
//! tell a replay from a live feed.

pub mod binance;
pub mod candles;
pub mod capture;
pub mod follow;
pub mod live;
pub mod recorder;
pub mod replay;
pub mod sources;
pub mod trade_bars;
pub mod trade_file;

use crate::model::{Bar, Fixed};

/// How a [`BookUpdate`] changes a symbol's book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookUpdateKind {
    /// The levels are the whole book (a snapshot, or the book after a resynchronisation).
    Snapshot,
    /// The levels changed to these absolute quantities (zero removes a level): a depth diff.
    Diff,
    /// The best bid and ask are these (a `bookTicker`): better levels are gone.
    Top,
}

/// A change of a symbol's order book, as a feed or a capture delivers it.
#[derive(Clone, Debug, PartialEq)]
pub struct BookUpdate {
    /// The instrument.
    pub symbol: crate::model::SymbolId,
    /// Event time of the change.
    pub time: crate::model::TimestampMs,
    /// What the levels mean.
    pub kind: BookUpdateKind,
    /// Bid levels: (price, quantity).
    pub bids: Vec<(Fixed, Fixed)>,
    /// Ask levels.
    pub asks: Vec<(Fixed, Fixed)>,
}

/// The best levels of a symbol's local order book, in f64 for features and guests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BookTop {
    /// The instrument.
    pub symbol: crate::model::SymbolId,
    /// Exchange time of the update.
    pub time: crate::model::TimestampMs,
    /// Bids, best first: (price, quantity).
    pub bids: Vec<(f64, f64)>,
    /// Asks, best first.
    pub asks: Vec<(f64, f64)>,
}

/// A public trade.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TradePrint {
    /// The instrument.
    pub symbol: crate::model::SymbolId,
    /// Trade time.
    pub time: crate::model::TimestampMs,
    /// Exchange trade id.
    pub trade_id: u64,
    /// Price.
    pub price: f64,
    /// Base quantity.
    pub quantity: f64,
    /// The taker's side.
    pub aggressor: crate::model::Side,
}

/// An event from a market source, in the order the engine must see it.
#[derive(Clone, Debug, PartialEq)]
pub enum MarketEvent {
    /// A candle closed.
    Bar(Bar),
    /// A local order book changed.
    Book(BookUpdate),
    /// A public trade.
    Trade(TradePrint),
    /// A non-market source produced a value or a headline.
    Source(sources::SourceEvent),
    /// The model ensemble predicted a symbol.
    Prediction(crate::inference::PredictionEvent),
}

impl MarketEvent {
    /// The event time: when the event became known.
    pub fn time(&self) -> crate::model::TimestampMs {
        match self {
            MarketEvent::Bar(bar) => bar.close_time(),
            MarketEvent::Book(book) => book.time,
            MarketEvent::Trade(trade) => trade.time,
            MarketEvent::Source(sources::SourceEvent::Observation(o)) => o.known_at,
            MarketEvent::Source(sources::SourceEvent::Headline(h)) => h.known_at,
            MarketEvent::Source(sources::SourceEvent::Post(p)) => p.known_at,
            MarketEvent::Source(sources::SourceEvent::Polled(p)) => p.known_at,
            MarketEvent::Prediction(p) => p.known_at,
        }
    }
}
