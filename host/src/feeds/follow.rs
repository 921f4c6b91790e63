//! The service's live feeds, one per followed symbol, sharing WebSocket connections (as many
//! symbols on one as its stream limit allows), started and stopped while the host runs:
//! operators follow a new symbol (checked against the exchange's symbol list first) or stop
//! following one, and read every feed's and every connection's counters.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::binance::ws::{
    ConnectionCounters, FeedCounters, FeedStats, HubConfig, LiveFeedConfig, StreamControl,
    StreamHub, StreamRequest,
};
use super::live;
use crate::engine::service::EventSender;
use crate::market::MarketData;

/// How every feed is set up: the exchange's URLs, the interval and the streams.
#[derive(Clone, Debug)]
pub struct FeedTemplate {
    /// REST base URL.
    pub rest: String,
    /// WebSocket base URL.
    pub ws: String,
    /// Kline interval, e.g. `1m`.
    pub interval: String,
    /// The interval in milliseconds.
    pub interval_ms: i64,
    /// Keep a local order book.
    pub book: bool,
    /// Single trades instead of aggregate ones.
    pub raw_trades: bool,
    /// Subscribe to `@bookTicker`.
    pub book_ticker: bool,
    /// Streams on one connection before another is opened.
    pub streams_per_connection: usize,
}

struct Running {
    stats: Arc<FeedStats>,
    control: tokio::sync::mpsc::Sender<StreamRequest>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// Why a symbol could not be followed or unfollowed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The symbol already has a feed.
    #[error("{0} is already followed")]
    Already(String),
    /// The symbol has no feed.
    #[error("{0} is not followed")]
    NotFollowed(String),
    /// The exchange does not list the symbol, or could not be asked.
    #[error("{0}")]
    Exchange(String),
    /// A stream change was refused.
    #[error("{symbol}: {message}")]
    Streams {
        /// The symbol.
        symbol: String,
        /// Why.
        message: String,
    },
}

/// The followed symbols and their feeds.
pub struct Followed {
    template: FeedTemplate,
    hub: StreamHub,
    events: EventSender,
    market: Arc<RwLock<MarketData>>,
    feeds: Mutex<BTreeMap<String, Running>>,
    /// Open time of the last bar delivered for each symbol no longer followed: following it
    /// again backfills from there, so strategies see every bar once and in order.
    resume: Mutex<BTreeMap<String, i64>>,
}

impl Followed {
    /// No feeds yet; new ones forward into `events` for symbols named in `market`. Call it
    /// inside a tokio runtime: it starts the connections' hub.
    pub fn new(
        template: FeedTemplate,
        events: EventSender,
        market: Arc<RwLock<MarketData>>,
    ) -> Self {
        let hub = StreamHub::start(HubConfig {
            max_streams: template.streams_per_connection,
            ..HubConfig::new(&template.ws)
        });
        Followed {
            hub,
            template,
            events,
            market,
            feeds: Mutex::new(BTreeMap::new()),
            resume: Mutex::new(BTreeMap::new()),
        }
    }

    /// Makes the next feed started for `symbol` go on after the bar opening at `open_time`: it
    /// backfills every closed bar since, so that no bar is missed between bars taken in
    /// another way (the restored signals' catch-up at start-up) and its own.
    pub fn resume_after(&self, symbol: &str, open_time: i64) {
        self.resume
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(symbol.to_ascii_uppercase(), open_time);
    }

    /// Starts a feed for `symbol` (upper-cased) without asking the exchange first: for the
    /// configured symbols at start-up.
    pub fn start(&self, symbol: &str) -> Result<(), FollowError> {
        let symbol = symbol.to_ascii_uppercase();
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        if feeds.contains_key(&symbol) {
            return Err(FollowError::Already(symbol));
        }
        let id = self
            .market
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .add_symbol(&symbol);
        let t = &self.template;
        let mut config = LiveFeedConfig::new(&t.rest, &t.ws, &symbol, &t.interval, t.interval_ms);
        config.book = t.book;
        config.raw_trades = t.raw_trades;
        config.book_ticker = t.book_ticker;
        config.resume_after = self
            .resume
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&symbol);
        let stats = Arc::new(FeedStats::default());
        let (stop, shutdown) = oneshot::channel();
        let (control, control_rx) = tokio::sync::mpsc::channel(8);
        let task = tokio::spawn(live::run(
            self.hub.clone(),
            config,
            id,
            self.events.clone(),
            stats.clone(),
            shutdown,
            control_rx,
        ));
        tracing::info!(%symbol, "live feed started");
        feeds.insert(
            symbol,
            Running {
                stats,
                control,
                stop,
                task,
            },
        );
        Ok(())
    }

    /// Reads the exchange's rules of its symbols (`exchangeInfo`) into the market, so orders
    /// meet the filters the exchange would apply.
    pub fn describe(&self, exchange_info: &str) {
        let mut market = self.market.write().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = market.instruments.describe(exchange_info) {
            tracing::warn!("the exchange's symbol rules could not be read: {e}");
        }
    }

    /// Reads the exchange's rules of its symbols from its REST endpoint.
    pub async fn fetch_rules(&self) {
        match self.hub.rest(&self.template.rest).exchange_info().await {
            Ok(info) => self.describe(&info.raw),
            Err(e) => tracing::warn!("exchange rules not fetched (orders meet no filters): {e}"),
        }
    }

    /// Starts following `symbol` once the exchange confirms it lists it.
    pub async fn follow(&self, symbol: &str) -> Result<(), FollowError> {
        let symbol = symbol.to_ascii_uppercase();
        if self
            .feeds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&symbol)
        {
            return Err(FollowError::Already(symbol));
        }
        let info = self
            .hub
            .rest(&self.template.rest)
            .exchange_info()
            .await
            .map_err(|e| FollowError::Exchange(format!("asking the exchange for {symbol}: {e}")))?;
        if !info.symbols.iter().any(|s| s.symbol == symbol) {
            return Err(FollowError::Exchange(format!(
                "the exchange does not list {symbol}"
            )));
        }
        self.describe(&info.raw);
        self.start(&symbol)
    }

    /// Stops the feed of `symbol`; following it again later resumes after its last bar.
    pub async fn unfollow(&self, symbol: &str) -> Result<(), FollowError> {
        let symbol = symbol.to_ascii_uppercase();
        let running = self
            .feeds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&symbol)
            .ok_or(FollowError::NotFollowed(symbol.clone()))?;
        let _ = running.stop.send(());
        let _ = running.task.await;
        let last = running
            .stats
            .last_bar_open
            .load(std::sync::atomic::Ordering::Relaxed);
        if last != 0 {
            self.resume
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(symbol.clone(), last);
        }
        tracing::info!(%symbol, "live feed stopped");
        Ok(())
    }

    /// Every feed's counters, by symbol.
    pub fn counters(&self) -> Vec<(String, FeedCounters)> {
        let feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        feeds
            .iter()
            .map(|(s, r)| (s.clone(), r.stats.snapshot()))
            .collect()
    }

    /// Adds the stream kinds `subscribe` and removes `unsubscribe` (`aggTrade`, `trade`,
    /// `bookTicker`, `depth@100ms`) on `symbol`'s running feed; its streams after the change.
    pub async fn change_streams(
        &self,
        symbol: &str,
        subscribe: Vec<String>,
        unsubscribe: Vec<String>,
    ) -> Result<Vec<String>, FollowError> {
        let symbol = symbol.to_ascii_uppercase();
        let refused = |message: String| FollowError::Streams {
            symbol: symbol.clone(),
            message,
        };
        let change = StreamControl::Change {
            subscribe,
            unsubscribe,
        };
        change.check().map_err(refused)?;
        let control = self
            .feeds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&symbol)
            .map(|r| r.control.clone())
            .ok_or_else(|| FollowError::NotFollowed(symbol.clone()))?;
        let (reply, outcome) = oneshot::channel();
        let request = StreamRequest {
            change,
            reply: Some(reply),
        };
        let stopped = || FollowError::NotFollowed(symbol.clone());
        control.send(request).await.map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?.map_err(refused)
    }

    /// Every connection's counters: its symbols, streams, messages, unattributable malformed
    /// messages, reconnects and rotations.
    pub async fn connections(&self) -> Vec<ConnectionCounters> {
        self.hub.counters().await
    }

    /// Stops every feed.
    pub async fn stop_all(&self) {
        let all: Vec<String> = self
            .feeds
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        for symbol in all {
            let _ = self.unfollow(&symbol).await;
        }
    }
}
