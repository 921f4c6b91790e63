//! Each routed venue's own order books, kept from its own market streams (the snapshot + diff
//! procedure of the live feeds, on connections of the venue's own): the router compares
//! venues by what each of them shows, not by the host's main feed.

use crate::book::OrderBook;
use crate::execution::binance::Shared;
use crate::feeds::BookUpdateKind;
use crate::feeds::binance::ws::{self, FeedEvent, FeedStats, HubConfig, LiveFeedConfig, StreamHub};
use crate::model::Fixed;
use crate::model::time::wall_clock_ms;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// A book whose streams have said nothing for this long is not used: its connection has gone
/// quiet (the streams' own silence limit, after which it is replaced and the book rebuilt).
/// A book that merely does not change stays in use: its kline stream still speaks.
pub const STALE_AFTER: Duration = Duration::from_secs(60);

/// Levels a side a split sees of each venue's book.
pub const SPLIT_LEVELS: usize = 500;

/// The best levels of one venue's book.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Levels {
    /// Best bids first: (price, quantity).
    pub bids: Vec<(Fixed, Fixed)>,
    /// Best asks first.
    pub asks: Vec<(Fixed, Fixed)>,
}

struct Book {
    book: OrderBook,
    /// The counters of the feed it is kept from.
    stats: Arc<FeedStats>,
    /// The feed's restarts of its book procedure when this book was built: once they change,
    /// the book is out of sync until the next snapshot replaces it.
    restarts: u64,
    /// Its best levels as last handed out, until it changes.
    levels: Option<Arc<Levels>>,
}

impl Book {
    /// Whether the feed still keeps this book: no restart since it was built, and its
    /// streams spoke within [`STALE_AFTER`].
    fn live(&self) -> bool {
        let silent_ms = wall_clock_ms() - self.stats.received_ms.load(Ordering::Relaxed);
        restarts(&self.stats) == self.restarts && silent_ms < STALE_AFTER.as_millis() as i64
    }
}

/// Times `stats`' feed has started its book procedure over.
fn restarts(stats: &FeedStats) -> u64 {
    [&stats.reconnects, &stats.lagged, &stats.resyncs]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
}

/// One venue's books, by symbol, each followed once it is first asked for.
pub struct LegBooks {
    rest: String,
    streams: String,
    /// The runtime the books are followed on, with the venue's stream connections.
    runtime: Option<(tokio::runtime::Handle, StreamHub)>,
    books: Arc<Mutex<HashMap<String, Book>>>,
    /// Each followed symbol's feed, stopped when dropped.
    watches: Mutex<HashMap<String, oneshot::Sender<()>>>,
    status: Option<Arc<Shared>>,
}

impl LegBooks {
    /// Books of the venue whose REST base is `rest` and whose market streams are at `streams`
    /// (e.g. `wss://stream.binance.com:9443`), followed on `runtime`. Without a runtime no
    /// book is ever followed (every symbol's levels stay unknown). The venue's `status` lists
    /// the books once in sync.
    pub fn new(
        rest: &str,
        streams: &str,
        runtime: Option<tokio::runtime::Handle>,
        status: Option<Arc<Shared>>,
    ) -> Self {
        let streams = streams.trim_end_matches('/').to_string();
        let runtime = runtime.map(|runtime| {
            let hub = {
                let _inside = runtime.enter();
                StreamHub::start(HubConfig::new(&streams))
            };
            (runtime, hub)
        });
        LegBooks {
            rest: rest.to_string(),
            streams,
            runtime,
            books: Arc::default(),
            watches: Mutex::default(),
            status,
        }
    }

    /// The best [`SPLIT_LEVELS`] levels a side of `symbol` (upper case) if its book is in sync
    /// and its streams alive; starts following it on the first call.
    pub fn levels(&self, symbol: &str) -> Option<Arc<Levels>> {
        self.follow(symbol);
        let mut books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        let b = books.get_mut(symbol).filter(|b| b.live())?;
        let levels = b.levels.get_or_insert_with(|| {
            Arc::new(Levels {
                bids: b.book.bids(SPLIT_LEVELS).collect(),
                asks: b.book.asks(SPLIT_LEVELS).collect(),
            })
        });
        Some(levels.clone())
    }

    /// Starts following `symbol`'s book, unless it already is.
    pub fn follow(&self, symbol: &str) {
        let Some((runtime, hub)) = &self.runtime else {
            return;
        };
        let mut watches = self.watches.lock().unwrap_or_else(|p| p.into_inner());
        if watches.contains_key(symbol) {
            return;
        }
        let hub = hub.clone();
        let mut config = LiveFeedConfig::new(&self.rest, &self.streams, symbol, "1m", 60_000);
        config.trades = false;
        let (events, mut rx) = mpsc::channel(256);
        let (stop, shutdown) = oneshot::channel();
        // No stream changes are ever asked for: the control channel's sender is dropped.
        let (_, control) = mpsc::channel(1);
        let stats = Arc::new(FeedStats::default());
        runtime.spawn({
            let stats = stats.clone();
            async move { ws::run_on(&hub, config, events, stats, shutdown, control).await }
        });
        let books = self.books.clone();
        let name = symbol.to_string();
        let status = self.status.clone();
        runtime.spawn(async move {
            while let Some(event) = rx.recv().await {
                // The whole book, kept from its changes (the events' own levels are only
                // the best few).
                let FeedEvent::Book { change, .. } = event else {
                    continue;
                };
                let mut books = books.lock().unwrap_or_else(|p| p.into_inner());
                match (change.kind, books.get_mut(&name)) {
                    (BookUpdateKind::Diff, Some(b)) => {
                        b.book.apply(&change.bids, &change.asks);
                        b.levels = None;
                    }
                    (BookUpdateKind::Snapshot, _) => {
                        if let (false, Some(status)) = (books.contains_key(&name), &status) {
                            status.status(|s| s.books.push(name.clone()));
                        }
                        let book = Book {
                            book: OrderBook::from_snapshot(0, &change.bids, &change.asks),
                            stats: stats.clone(),
                            restarts: restarts(&stats),
                            levels: None,
                        };
                        books.insert(name.clone(), book);
                    }
                    // A diff before any snapshot, or a best bid and ask only: not a book.
                    _ => {}
                }
            }
        });
        watches.insert(symbol.to_string(), stop);
    }
}
