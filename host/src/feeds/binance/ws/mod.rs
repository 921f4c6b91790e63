//! Live Binance spot feeds over combined WebSocket streams. Each symbol's feed delivers its
//! closed klines exactly once and in order (gaps left by reconnects are backfilled over REST),
//! its trades, and a local order book kept by the snapshot + diff procedure ([`symbol`]).
//!
//! Many symbols share connections through a [`StreamHub`] ([`hub`]): up to 1024 streams on one,
//! further ones on more, SUBSCRIBE / UNSUBSCRIBE at run time, rotation before Binance's 24 h
//! limit with an overlap, jittered reconnects after a failure or silence. Everything a
//! connection sends (requests and pongs) is paced to Binance's limit of five messages a second
//! ([`connection`]). Malformed messages are counted and skipped.

mod connection;
pub mod hub;
mod symbol;
mod trades;

pub use connection::{MAX_OUTGOING_PER_SECOND, Pacer};
pub use hub::{ConnectionCounters, HubConfig, HubError, MAX_STREAMS_PER_CONNECTION, StreamHub};
pub use symbol::parse_depth_event;

use super::types::{BookTicker, TradeTick};
use crate::feeds::candles::Candle;
use crate::model::Fixed;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Levels a side in each book event.
pub const BOOK_LEVELS: usize = 20;

/// What the feed needs to know.
#[derive(Clone, Debug)]
pub struct LiveFeedConfig {
    /// REST base URL, for snapshots and backfill.
    pub rest: String,
    /// WebSocket base URL, e.g. `wss://stream.binance.com:9443`.
    pub ws: String,
    /// Symbol, e.g. BTCUSDT.
    pub symbol: String,
    /// Kline interval, e.g. 1m.
    pub interval: String,
    /// The interval in milliseconds.
    pub interval_ms: i64,
    /// Open time of the last bar the consumer already has; bars after it are backfilled.
    pub resume_after: Option<i64>,
    /// Keep a local order book from the depth stream.
    pub book: bool,
    /// Subscribe to trades: aggregate trades (`@aggTrade`), or every single trade (`@trade`) when
    /// `raw_trades` is set.
    pub trades: bool,
    /// Take trades from the `@trade` stream instead of `@aggTrade`.
    pub raw_trades: bool,
    /// Subscribe to `@bookTicker`, the real-time best bid and ask.
    pub book_ticker: bool,
    /// Replace a connection before this age (Binance closes them at 24 h).
    pub max_connection_age: Duration,
    /// Reconnect when nothing (not even a ping) arrives for this long.
    pub silence_timeout: Duration,
    /// Ask REST for missing bars when no closed bar arrived for this long (a lost final
    /// message is otherwise only noticed at the next bar).
    pub bar_timeout: Duration,
}

impl LiveFeedConfig {
    /// Defaults for `symbol` at `interval`: rotate at 23 h, silence after 60 s.
    pub fn new(rest: &str, ws: &str, symbol: &str, interval: &str, interval_ms: i64) -> Self {
        LiveFeedConfig {
            rest: rest.to_string(),
            ws: ws.trim_end_matches('/').to_string(),
            symbol: symbol.to_ascii_uppercase(),
            interval: interval.to_string(),
            interval_ms,
            resume_after: None,
            book: true,
            trades: true,
            raw_trades: false,
            book_ticker: false,
            max_connection_age: Duration::from_secs(23 * 3600),
            silence_timeout: Duration::from_secs(60),
            bar_timeout: Duration::from_millis(interval_ms.max(0) as u64) + Duration::from_secs(5),
        }
    }
}

/// When an event happened at the exchange and when it arrived here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Exchange event time, ms (for backfilled bars: their close time).
    pub exchange_ms: i64,
    /// Local receive time, ms.
    pub receive_ms: i64,
}

/// A change of the local book, as the engine applies it to its own.
#[derive(Clone, Debug, PartialEq)]
pub struct BookChange {
    /// A diff, or the whole book.
    pub kind: crate::feeds::BookUpdateKind,
    /// Bid levels with absolute quantities.
    pub bids: Vec<(Fixed, Fixed)>,
    /// Ask levels with absolute quantities.
    pub asks: Vec<(Fixed, Fixed)>,
}

/// What the feed produces.
#[derive(Clone, Debug, PartialEq)]
pub enum FeedEvent {
    /// A closed candle, each exactly once and in open-time order.
    Bar(Candle, Stamp),
    /// An aggregate trade.
    Trade(TradeTick, Stamp),
    /// The book changed: its update id and best [`BOOK_LEVELS`] levels a side.
    Book {
        /// The book's update id.
        last_update_id: u64,
        /// Best bids first: (price, quantity).
        bids: Vec<(Fixed, Fixed)>,
        /// Best asks first.
        asks: Vec<(Fixed, Fixed)>,
        /// Times of the diff that produced it.
        stamp: Stamp,
        /// The change itself: the diff, or the whole book after a (re)synchronisation.
        change: BookChange,
    },
    /// The best bid and ask changed (`@bookTicker`; Binance sends no event time with it, so
    /// both stamps are the receive time).
    Ticker(BookTicker, Stamp),
    /// The streams the feed is subscribed to: when it starts and after every change.
    Streams(Vec<String>),
}

/// Counters for monitoring and tests.
#[derive(Debug, Default)]
pub struct FeedStats {
    /// Messages read.
    pub messages: AtomicU64,
    /// When the latest message was received (ms since the epoch; 0 before the first).
    pub received_ms: AtomicI64,
    /// Messages that could not be parsed.
    pub malformed: AtomicU64,
    /// Connections opened after the first.
    pub reconnects: AtomicU64,
    /// Connections replaced because of their age.
    pub rotations: AtomicU64,
    /// Order book rebuilds after a gap in update ids.
    pub resyncs: AtomicU64,
    /// Depth diffs after which the book was crossed (best bid at or above best ask).
    pub crossed: AtomicU64,
    /// Depth diffs received more than [`crate::book::LATE_MS`] later than the recent fastest.
    pub late: AtomicU64,
    /// Bars fetched over REST to fill gaps.
    pub backfilled: AtomicU64,
    /// Latest feed lag (receive minus exchange time), ms.
    pub lag_ms: AtomicI64,
    /// Open time of the last closed bar delivered (0 before the first).
    pub last_bar_open: AtomicI64,
    /// Times the feed fell behind, missed messages and resynchronised.
    pub lagged: AtomicU64,
    /// Trades a stream skipped (a lost connection, a full queue) fetched over REST.
    pub trades_filled: AtomicU64,
    /// Trades a stream skipped that could not be fetched.
    pub trades_missed: AtomicU64,
    /// The streams subscribed now.
    pub streams: std::sync::Mutex<Vec<String>>,
}

/// A reading of [`FeedStats`], for the operator API.
#[derive(
    utoipa::ToSchema, Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize,
)]
pub struct FeedCounters {
    /// Messages read.
    pub messages: u64,
    /// When the latest message was received (ms since the epoch; 0 before the first).
    #[serde(default)]
    pub received_ms: i64,
    /// Messages that could not be parsed.
    pub malformed: u64,
    /// Connections opened after the first.
    pub reconnects: u64,
    /// Connections replaced because of their age.
    pub rotations: u64,
    /// Order book rebuilds after a gap in update ids.
    pub resyncs: u64,
    /// Depth diffs after which the book was crossed (best bid at or above best ask).
    #[serde(default)]
    pub crossed: u64,
    /// Depth diffs received more than a second later than the recent fastest.
    #[serde(default)]
    pub late: u64,
    /// Bars fetched over REST to fill gaps.
    pub backfilled: u64,
    /// Latest feed lag (receive minus exchange time), ms.
    pub lag_ms: i64,
    /// Open time of the last closed bar delivered (0 before the first).
    pub last_bar_open: i64,
    /// Times the feed fell behind, missed messages and resynchronised.
    pub lagged: u64,
    /// Trades a stream skipped (a lost connection, a full queue) fetched over REST.
    pub trades_filled: u64,
    /// Trades a stream skipped that could not be fetched.
    pub trades_missed: u64,
    /// The streams subscribed now.
    pub streams: Vec<String>,
}

impl FeedStats {
    /// The counters as of now.
    pub fn snapshot(&self) -> FeedCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        FeedCounters {
            messages: get(&self.messages),
            received_ms: self.received_ms.load(Ordering::Relaxed),
            malformed: get(&self.malformed),
            reconnects: get(&self.reconnects),
            rotations: get(&self.rotations),
            resyncs: get(&self.resyncs),
            crossed: get(&self.crossed),
            late: get(&self.late),
            backfilled: get(&self.backfilled),
            lag_ms: self.lag_ms.load(Ordering::Relaxed),
            last_bar_open: self.last_bar_open.load(Ordering::Relaxed),
            lagged: get(&self.lagged),
            trades_filled: get(&self.trades_filled),
            trades_missed: get(&self.trades_missed),
            streams: self
                .streams
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}

/// A change of the feed's streams while it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamControl {
    /// Adds streams by their kind: `aggTrade`, `trade`, `bookTicker` or `depth@100ms`.
    Subscribe(Vec<String>),
    /// Removes streams by their kind.
    Unsubscribe(Vec<String>),
    /// Removes `unsubscribe` and adds `subscribe` in one change: both or neither.
    Change {
        /// Kinds to add.
        subscribe: Vec<String>,
        /// Kinds to remove.
        unsubscribe: Vec<String>,
    },
}

/// The stream kinds a feed may add or remove at run time.
pub const CONTROLLABLE: [&str; 4] = ["aggTrade", "trade", "bookTicker", "depth@100ms"];

impl StreamControl {
    /// The kinds it adds and the kinds it removes.
    pub fn kinds(&self) -> (&[String], &[String]) {
        match self {
            Self::Subscribe(kinds) => (kinds, &[]),
            Self::Unsubscribe(kinds) => (&[], kinds),
            Self::Change {
                subscribe,
                unsubscribe,
            } => (subscribe, unsubscribe),
        }
    }

    /// Checks that every kind named is one of [`CONTROLLABLE`], and that some kind is named.
    pub fn check(&self) -> Result<(), String> {
        let (add, remove) = self.kinds();
        if add.is_empty() && remove.is_empty() {
            return Err("name streams to subscribe or unsubscribe".into());
        }
        match add
            .iter()
            .chain(remove)
            .find(|k| !CONTROLLABLE.contains(&k.as_str()))
        {
            Some(bad) => Err(format!(
                "{bad:?} is not a stream kind that can be changed; use one of {CONTROLLABLE:?}"
            )),
            None => Ok(()),
        }
    }
}

/// A [`StreamControl`] and where to report its outcome: the streams subscribed after it, or
/// why nothing changed.
#[derive(Debug)]
pub struct StreamRequest {
    /// The change.
    pub change: StreamControl,
    /// Where the outcome goes, if anyone waits for it.
    pub reply: Option<oneshot::Sender<Result<Vec<String>, String>>>,
}

impl From<StreamControl> for StreamRequest {
    fn from(change: StreamControl) -> Self {
        StreamRequest {
            change,
            reply: None,
        }
    }
}

/// Runs the feed on connections of its own until `out` is dropped or `shutdown` fires.
pub async fn run(
    config: LiveFeedConfig,
    out: mpsc::Sender<FeedEvent>,
    stats: Arc<FeedStats>,
    shutdown: oneshot::Receiver<()>,
) {
    let (_control, control) = mpsc::channel(1);
    run_with_control(config, out, stats, shutdown, control).await
}

/// As [`run`], also taking [`StreamRequest`]s: each becomes a SUBSCRIBE or UNSUBSCRIBE
/// on the open connection and is kept for the connections opened later. Adding `depth@100ms`
/// starts the local book procedure afresh; removing it drops the book.
pub async fn run_with_control(
    config: LiveFeedConfig,
    out: mpsc::Sender<FeedEvent>,
    stats: Arc<FeedStats>,
    shutdown: oneshot::Receiver<()>,
    control: mpsc::Receiver<StreamRequest>,
) {
    let hub = StreamHub::start(HubConfig {
        max_connection_age: config.max_connection_age,
        silence_timeout: config.silence_timeout,
        ..HubConfig::new(&config.ws)
    });
    run_on(&hub, config, out, stats, shutdown, control).await
}

/// As [`run_with_control`], on the connections of `hub`, shared with other symbols' feeds
/// (the hub's connection age and silence limits apply, not `config`'s).
pub async fn run_on(
    hub: &StreamHub,
    config: LiveFeedConfig,
    out: mpsc::Sender<FeedEvent>,
    stats: Arc<FeedStats>,
    shutdown: oneshot::Receiver<()>,
    control: mpsc::Receiver<StreamRequest>,
) {
    symbol::run(hub.clone(), config, out, stats, shutdown, control).await
}
