//! A live Binance spot feed for one symbol over combined WebSocket streams: closed klines,
//! delivered exactly once and in order (gaps left by reconnects are backfilled over REST), and a
//! local order book kept by the snapshot + diff procedure.
//!
//! Each connection runs in its own task and forwards what it reads into one queue. A connection
//! that errors, closes, or stays silent past `silence_timeout` is replaced with jittered
//! backoff; one that reaches `max_connection_age` (Binance ends them at 24 h) is replaced with
//! an overlap: the new one is opened first and the old one closed once the new one delivers.
//! Malformed messages are counted and skipped. Streams can be added and removed while the feed
//! runs ([`run_with_control`]: SUBSCRIBE / UNSUBSCRIBE on the open connection, remembered for
//! the next ones), and everything a connection sends (requests and pongs) is paced to Binance's
//! limit of five messages a second.

use super::rest::RestClient;
use super::types::{
    BookTicker, DepthSnapshot, RawAggTrade, RawBookTicker, RawStreamTrade, TradeTick,
};
use crate::book::{BookSync, DepthDiff, SyncAction};
use crate::feeds::candles::Candle;
use crate::model::{Decimal, Fixed};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

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
    },
    /// The best bid and ask changed (`@bookTicker`; Binance sends no event time with it, so
    /// both stamps are the receive time).
    Ticker(BookTicker, Stamp),
}

/// Counters for monitoring and tests.
#[derive(Debug, Default)]
pub struct FeedStats {
    /// Messages read.
    pub messages: AtomicU64,
    /// Messages that could not be parsed.
    pub malformed: AtomicU64,
    /// Connections opened after the first.
    pub reconnects: AtomicU64,
    /// Connections replaced because of their age.
    pub rotations: AtomicU64,
    /// Order book rebuilds after a gap in update ids.
    pub resyncs: AtomicU64,
    /// Bars fetched over REST to fill gaps.
    pub backfilled: AtomicU64,
    /// Latest feed lag (receive minus exchange time), ms.
    pub lag_ms: AtomicI64,
    /// Open time of the last closed bar delivered (0 before the first).
    pub last_bar_open: AtomicI64,
}

/// A reading of [`FeedStats`], for the operator API.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeedCounters {
    /// Messages read.
    pub messages: u64,
    /// Messages that could not be parsed.
    pub malformed: u64,
    /// Connections opened after the first.
    pub reconnects: u64,
    /// Connections replaced because of their age.
    pub rotations: u64,
    /// Order book rebuilds after a gap in update ids.
    pub resyncs: u64,
    /// Bars fetched over REST to fill gaps.
    pub backfilled: u64,
    /// Latest feed lag (receive minus exchange time), ms.
    pub lag_ms: i64,
    /// Open time of the last closed bar delivered (0 before the first).
    pub last_bar_open: i64,
}

impl FeedStats {
    /// The counters as of now.
    pub fn snapshot(&self) -> FeedCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        FeedCounters {
            messages: get(&self.messages),
            malformed: get(&self.malformed),
            reconnects: get(&self.reconnects),
            rotations: get(&self.rotations),
            resyncs: get(&self.resyncs),
            backfilled: get(&self.backfilled),
            lag_ms: self.lag_ms.load(Ordering::Relaxed),
            last_bar_open: self.last_bar_open.load(Ordering::Relaxed),
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

enum Incoming {
    Text {
        conn: u64,
        text: String,
        receive_ms: i64,
    },
    Closed {
        conn: u64,
        reason: String,
    },
}

/// Binance accepts at most this many messages a second from a client (pings, pongs and JSON
/// requests alike) and drops a connection that sends more.
pub const MAX_OUTGOING_PER_SECOND: usize = 5;

/// Paces what a connection sends to at most [`MAX_OUTGOING_PER_SECOND`] in any second.
#[derive(Debug, Default)]
pub struct Pacer {
    sent: std::collections::VecDeque<tokio::time::Instant>,
}

impl Pacer {
    /// Waits until one more message may be sent, and counts it.
    pub async fn ready(&mut self) {
        let second = Duration::from_secs(1);
        if self.sent.len() == MAX_OUTGOING_PER_SECOND {
            let oldest = self.sent.pop_front().expect("full");
            tokio::time::sleep_until(oldest + second).await;
        }
        self.sent.push_back(tokio::time::Instant::now());
    }
}

/// Runs one connection until it fails, goes silent, or `stop` fires; forwards text frames and
/// sends `outgoing` requests and pongs, paced.
async fn connection(
    conn: u64,
    url: String,
    silence: Duration,
    tx: mpsc::Sender<Incoming>,
    mut stop: oneshot::Receiver<()>,
    mut outgoing: mpsc::Receiver<String>,
) {
    let mut pacer = Pacer::default();
    let reason = match tokio_tungstenite::connect_async(&url).await {
        Err(e) => format!("connect: {e}"),
        Ok((mut socket, _)) => loop {
            tokio::select! {
                _ = &mut stop => {
                    let _ = socket.close(None).await;
                    return;
                }
                Some(request) = outgoing.recv() => {
                    pacer.ready().await;
                    if socket.send(Message::Text(request.into())).await.is_err() {
                        break "sending a request failed".to_string();
                    }
                }
                next = tokio::time::timeout(silence, socket.next()) => match next {
                    Err(_) => break format!("silent for {silence:?}"),
                    Ok(None) => break "closed by the server".to_string(),
                    Ok(Some(Err(e))) => break e.to_string(),
                    Ok(Some(Ok(Message::Text(text)))) => {
                        if tx.send(Incoming::Text { conn, text: text.to_string(), receive_ms: now_ms() }).await.is_err() {
                            return;
                        }
                    }
                    Ok(Some(Ok(Message::Ping(payload)))) => {
                        pacer.ready().await;
                        if socket.send(Message::Pong(payload)).await.is_err() {
                            break "pong failed".to_string();
                        }
                    }
                    Ok(Some(Ok(Message::Close(frame)))) => break format!("close frame {frame:?}"),
                    Ok(Some(Ok(_))) => {}
                }
            }
        },
    };
    let _ = tx.send(Incoming::Closed { conn, reason }).await;
}

/// A change of the feed's streams while it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamControl {
    /// Adds streams by their kind: `aggTrade`, `trade`, `bookTicker` or `depth@100ms`.
    Subscribe(Vec<String>),
    /// Removes streams by their kind.
    Unsubscribe(Vec<String>),
}

#[derive(Deserialize)]
struct Envelope<'a> {
    stream: &'a str,
    #[serde(borrow)]
    data: &'a serde_json::value::RawValue,
}

#[derive(Deserialize)]
struct KlineEvent {
    #[serde(rename = "E")]
    event_time: i64,
    k: KlineBody,
}

#[derive(Deserialize)]
struct KlineBody {
    t: i64,
    o: String,
    h: String,
    l: String,
    c: String,
    v: String,
    x: bool,
}

#[derive(Deserialize)]
struct DepthEvent<'a> {
    #[serde(rename = "E")]
    event_time: i64,
    #[serde(rename = "U")]
    first: u64,
    #[serde(rename = "u")]
    last: u64,
    #[serde(borrow)]
    b: Vec<(&'a str, &'a str)>,
    #[serde(borrow)]
    a: Vec<(&'a str, &'a str)>,
}

fn levels(raw: &[(&str, &str)]) -> Result<Vec<(Fixed, Fixed)>, String> {
    raw.iter()
        .map(|&(p, q)| {
            Ok((
                p.parse::<Fixed>().map_err(|e| e.to_string())?,
                q.parse::<Fixed>().map_err(|e| e.to_string())?,
            ))
        })
        .collect()
}

/// Parses the `data` of a `depthUpdate` event, prices and quantities exactly.
pub fn parse_depth_event(data: &str) -> Result<DepthDiff, String> {
    let event: DepthEvent = serde_json::from_str(data).map_err(|e| e.to_string())?;
    Ok(DepthDiff {
        event_time: event.event_time,
        first_update_id: event.first,
        final_update_id: event.last,
        bids: levels(&event.b)?,
        asks: levels(&event.a)?,
    })
}

/// The feed's state between messages.
struct Feed {
    config: LiveFeedConfig,
    rest: Arc<RestClient>,
    snapshots: mpsc::Sender<Result<DepthSnapshot, String>>,
    snapshot_pending: bool,
    /// Snapshots requested since the book was last in sync.
    unsynced_snapshots: u32,
    stats: Arc<FeedStats>,
    out: mpsc::Sender<FeedEvent>,
    next_open: Option<i64>,
    book: BookSync,
    /// The server announced it will close the active connection.
    shutdown_announced: bool,
}

impl Feed {
    /// Emits closed bar `candle`, first backfilling any bars between the last one and it.
    async fn on_closed_bar(&mut self, candle: Candle, stamp: Stamp) -> bool {
        if let Some(next) = self.next_open {
            if candle.open_time < next {
                return true; // already delivered (overlapping connections, or a replay)
            }
            if candle.open_time > next {
                // Bars must arrive in order: wait for the backfill rather than skip it.
                let missing = loop {
                    match self
                        .rest
                        .klines_between(
                            &self.config.symbol,
                            &self.config.interval,
                            self.config.interval_ms,
                            next,
                            candle.open_time,
                        )
                        .await
                    {
                        Ok(bars) => break bars,
                        Err(e) => {
                            tracing::error!(symbol = %self.config.symbol, "backfill of bars from {next} failed, retrying: {e}");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                };
                self.stats
                    .backfilled
                    .fetch_add(missing.len() as u64, Ordering::Relaxed);
                for bar in missing {
                    if !self.send_backfilled(bar).await {
                        return false;
                    }
                }
            }
        }
        self.next_open = Some(candle.open_time + self.config.interval_ms);
        self.stats
            .last_bar_open
            .store(candle.open_time, Ordering::Relaxed);
        self.out.send(FeedEvent::Bar(candle, stamp)).await.is_ok()
    }

    /// Sends a bar fetched over REST, stamped with its close time; false when the consumer is gone.
    async fn send_backfilled(&self, bar: Candle) -> bool {
        let stamp = Stamp {
            exchange_ms: bar.open_time + self.config.interval_ms,
            receive_ms: now_ms(),
        };
        self.stats
            .last_bar_open
            .store(bar.open_time, Ordering::Relaxed);
        self.out.send(FeedEvent::Bar(bar, stamp)).await.is_ok()
    }

    /// Fetches every closed bar after the last one delivered; false when the consumer is gone.
    async fn backfill_to_now(&mut self) -> bool {
        let Some(next) = self.next_open else {
            return true;
        };
        let bars = match self
            .rest
            .klines_between(
                &self.config.symbol,
                &self.config.interval,
                self.config.interval_ms,
                next,
                i64::MAX / 4,
            )
            .await
        {
            Ok(bars) => bars,
            Err(e) => {
                tracing::error!(symbol = %self.config.symbol, "backfill of bars from {next} failed: {e}");
                return true;
            }
        };
        let now = now_ms();
        for bar in bars
            .into_iter()
            .filter(|b| b.open_time + self.config.interval_ms <= now)
        {
            self.stats.backfilled.fetch_add(1, Ordering::Relaxed);
            self.next_open = Some(bar.open_time + self.config.interval_ms);
            if !self.send_backfilled(bar).await {
                return false;
            }
        }
        true
    }

    /// Feeds a diff to the book procedure; a snapshot it asks for is fetched in the
    /// background, so bars keep flowing while it is (possibly rate-limited) on its way.
    async fn on_depth(&mut self, diff: DepthDiff, stamp: Stamp) -> bool {
        let action = self.book.on_diff(diff);
        self.after_book_step(action, stamp).await
    }

    /// Applies a fetched snapshot (or schedules another attempt after a failure).
    async fn on_snapshot(&mut self, fetched: Result<DepthSnapshot, String>) -> bool {
        self.snapshot_pending = false;
        match fetched {
            Ok(s) => {
                let action = self.book.on_snapshot(s.last_update_id, &s.bids, &s.asks);
                self.after_book_step(
                    action,
                    Stamp {
                        exchange_ms: now_ms(),
                        receive_ms: now_ms(),
                    },
                )
                .await
            }
            Err(e) => {
                tracing::error!(symbol = %self.config.symbol, "depth snapshot failed, retrying: {e}");
                self.request_snapshot(Duration::from_secs(1));
                true
            }
        }
    }

    async fn after_book_step(&mut self, action: SyncAction, stamp: Stamp) -> bool {
        self.stats
            .resyncs
            .store(self.book.resyncs, Ordering::Relaxed);
        match (action, self.book.book()) {
            (SyncAction::FetchSnapshot, _) => {
                self.request_snapshot(Duration::ZERO);
                true
            }
            (SyncAction::Updated, Some(book)) => {
                self.unsynced_snapshots = 0;
                self.out
                    .send(FeedEvent::Book {
                        last_update_id: book.last_update_id,
                        bids: book.bids(BOOK_LEVELS).collect(),
                        asks: book.asks(BOOK_LEVELS).collect(),
                        stamp,
                    })
                    .await
                    .is_ok()
            }
            _ => true,
        }
    }

    /// Starts fetching a 5000-level snapshot after `delay`, unless one is on its way. Snapshots
    /// that keep failing to sync the book (a stream that keeps losing diffs) are spaced out
    /// exponentially, up to 30 s, so they cannot eat the request-weight budget (250 each).
    fn request_snapshot(&mut self, delay: Duration) {
        if std::mem::replace(&mut self.snapshot_pending, true) {
            return;
        }
        let backoff = match self.unsynced_snapshots {
            0 => Duration::ZERO,
            k => Duration::from_millis(500u64 << (k - 1).min(6)).min(Duration::from_secs(30)),
        };
        self.unsynced_snapshots += 1;
        let delay = delay.max(backoff);
        let (rest, symbol, tx) = (
            self.rest.clone(),
            self.config.symbol.clone(),
            self.snapshots.clone(),
        );
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = tx
                .send(rest.depth(&symbol, 5000).await.map_err(|e| e.to_string()))
                .await;
        });
    }

    /// The times of an event, recording its lag as the feed's latest.
    fn stamp(&self, exchange_ms: i64, receive_ms: i64) -> Stamp {
        self.stats
            .lag_ms
            .store(receive_ms - exchange_ms, Ordering::Relaxed);
        Stamp {
            exchange_ms,
            receive_ms,
        }
    }

    /// Handles one text frame; false when the consumer is gone.
    async fn on_text(&mut self, text: &str, receive_ms: i64) -> bool {
        self.stats.messages.fetch_add(1, Ordering::Relaxed);
        if text.contains("\"serverShutdown\"") {
            // Binance announces the end of a connection: replace it now, with an overlap.
            self.shutdown_announced = true;
            return true;
        }
        let parsed: Result<Envelope, _> = serde_json::from_str(text);
        let Ok(envelope) = parsed else {
            if !text.contains("\"result\"") {
                self.stats.malformed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(symbol = %self.config.symbol, "malformed message skipped: {:.120}", text);
            }
            return true;
        };
        let malformed = |stats: &FeedStats, what: String| {
            stats.malformed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("malformed {what}");
        };
        if envelope.stream.contains("@kline_") {
            let Ok(event) = serde_json::from_str::<KlineEvent>(envelope.data.get()) else {
                malformed(
                    &self.stats,
                    format!("kline event: {:.120}", envelope.data.get()),
                );
                return true;
            };
            let stamp = self.stamp(event.event_time, receive_ms);
            if !event.k.x {
                return true;
            }
            let k = event.k;
            let parse = |s: &str| s.parse::<Decimal>();
            let candle = match (
                parse(&k.o),
                parse(&k.h),
                parse(&k.l),
                parse(&k.c),
                parse(&k.v),
            ) {
                (Ok(open), Ok(high), Ok(low), Ok(close), Ok(volume)) => Candle {
                    open_time: k.t,
                    open,
                    high,
                    low,
                    close,
                    volume,
                },
                _ => {
                    malformed(&self.stats, format!("kline values at {}", k.t));
                    return true;
                }
            };
            self.on_closed_bar(candle, stamp).await
        } else if envelope.stream.ends_with("@bookTicker") {
            let ticker = serde_json::from_str::<RawBookTicker>(envelope.data.get())
                .map_err(|e| e.to_string())
                .and_then(|raw| raw.ticker());
            match ticker {
                Ok(ticker) => {
                    let stamp = Stamp {
                        exchange_ms: receive_ms,
                        receive_ms,
                    };
                    self.out
                        .send(FeedEvent::Ticker(ticker, stamp))
                        .await
                        .is_ok()
                }
                Err(e) => {
                    malformed(
                        &self.stats,
                        format!("bookTicker ({e}): {:.120}", envelope.data.get()),
                    );
                    true
                }
            }
        } else if envelope.stream.ends_with("@aggTrade") || envelope.stream.ends_with("@trade") {
            let data = envelope.data.get();
            let tick = if envelope.stream.ends_with("@trade") {
                serde_json::from_str::<RawStreamTrade>(data)
                    .map_err(|e| e.to_string())
                    .and_then(|raw| raw.tick())
            } else {
                serde_json::from_str::<RawAggTrade>(data)
                    .map_err(|e| e.to_string())
                    .and_then(|raw| raw.tick())
            };
            match tick {
                Ok(tick) => {
                    let stamp = self.stamp(tick.time, receive_ms);
                    self.out.send(FeedEvent::Trade(tick, stamp)).await.is_ok()
                }
                Err(e) => {
                    malformed(
                        &self.stats,
                        format!("{} ({e}): {:.120}", envelope.stream, data),
                    );
                    true
                }
            }
        } else if envelope.stream.contains("@depth") && self.config.book {
            match parse_depth_event(envelope.data.get()) {
                Ok(diff) => {
                    let stamp = self.stamp(diff.event_time, receive_ms);
                    self.on_depth(diff, stamp).await
                }
                Err(e) => {
                    malformed(
                        &self.stats,
                        format!("depth event ({e}): {:.120}", envelope.data.get()),
                    );
                    true
                }
            }
        } else {
            true
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    let base = 100u64 << attempt.min(7);
    let jitter = now_ms().unsigned_abs() % (base / 2 + 1);
    Duration::from_millis(base + jitter)
}

/// Runs the feed until `out` is dropped or `shutdown` fires.
pub async fn run(
    config: LiveFeedConfig,
    out: mpsc::Sender<FeedEvent>,
    stats: Arc<FeedStats>,
    shutdown: oneshot::Receiver<()>,
) {
    let (_control, control) = mpsc::channel(1);
    run_with_control(config, out, stats, shutdown, control).await
}

/// The stream kinds a client may add or remove at run time.
const CONTROLLABLE: [&str; 4] = ["aggTrade", "trade", "bookTicker", "depth@100ms"];

/// As [`run`], also taking [`StreamControl`] requests: each becomes a SUBSCRIBE or UNSUBSCRIBE
/// on the open connection (paced with pongs to Binance's 5 messages a second) and is kept for
/// the connections opened later. Adding `depth@100ms` starts the local book procedure afresh;
/// removing it drops the book.
pub async fn run_with_control(
    config: LiveFeedConfig,
    out: mpsc::Sender<FeedEvent>,
    stats: Arc<FeedStats>,
    mut shutdown: oneshot::Receiver<()>,
    mut control: mpsc::Receiver<StreamControl>,
) {
    let lower = config.symbol.to_ascii_lowercase();
    let mut streams = vec![format!("{lower}@kline_{}", config.interval)];
    if config.book {
        streams.push(format!("{lower}@depth@100ms"));
    }
    if config.trades {
        let kind = if config.raw_trades {
            "trade"
        } else {
            "aggTrade"
        };
        streams.push(format!("{lower}@{kind}"));
    }
    if config.book_ticker {
        streams.push(format!("{lower}@bookTicker"));
    }
    let ws_base = config.ws.clone();
    let (tx, mut rx) = mpsc::channel::<Incoming>(4096);
    let (snapshot_tx, mut snapshot_rx) = mpsc::channel(4);
    let mut feed = Feed {
        rest: Arc::new(RestClient::new(&config.rest)),
        snapshots: snapshot_tx,
        snapshot_pending: false,
        unsynced_snapshots: 0,
        next_open: config.resume_after.map(|t| t + config.interval_ms),
        stats,
        out,
        book: BookSync::new(),
        shutdown_announced: false,
        config,
    };
    let silence = feed.config.silence_timeout;
    let mut next_conn = 0u64;
    let mut request_id = 0u64;
    let open = |next_conn: &mut u64, streams: &[String]| {
        let (stop_tx, stop_rx) = oneshot::channel();
        let (requests, outgoing) = mpsc::channel(64);
        *next_conn += 1;
        let url = format!("{ws_base}/stream?streams={}", streams.join("/"));
        tokio::spawn(connection(
            *next_conn,
            url,
            silence,
            tx.clone(),
            stop_rx,
            outgoing,
        ));
        (*next_conn, stop_tx, requests, Instant::now())
    };
    let (mut active, mut active_stop, mut requests, mut opened) = open(&mut next_conn, &streams);
    let mut retiring: Option<(u64, oneshot::Sender<()>)> = None;
    let mut failures = 0u32;
    let mut last_bar = Instant::now();
    let mut delivered = feed.next_open;
    loop {
        let age_left = if feed.shutdown_announced {
            Duration::ZERO
        } else {
            feed.config
                .max_connection_age
                .saturating_sub(opened.elapsed())
        };
        if feed.next_open != delivered {
            delivered = feed.next_open;
            last_bar = Instant::now();
        }
        let bar_due = feed.config.bar_timeout.saturating_sub(last_bar.elapsed());
        tokio::select! {
            _ = &mut shutdown => return,
            Some(change) = control.recv() => {
                let (method, kinds, add) = match change {
                    StreamControl::Subscribe(k) => ("SUBSCRIBE", k, true),
                    StreamControl::Unsubscribe(k) => ("UNSUBSCRIBE", k, false),
                };
                if let Some(bad) = kinds.iter().find(|k| !CONTROLLABLE.contains(&k.as_str())) {
                    tracing::error!(symbol = %feed.config.symbol, "cannot {method} {bad:?}: use one of {CONTROLLABLE:?}");
                    continue;
                }
                let names: Vec<String> = kinds.iter().map(|k| format!("{lower}@{k}")).collect();
                for (kind, name) in kinds.iter().zip(&names) {
                    if add && !streams.contains(name) {
                        streams.push(name.clone());
                    } else if !add {
                        streams.retain(|s| s != name);
                    }
                    if kind == "depth@100ms" {
                        feed.config.book = add;
                        feed.book.reset();
                    }
                }
                request_id += 1;
                let request = serde_json::json!({"method": method, "params": names, "id": request_id});
                let _ = requests.send(request.to_string()).await;
            }
            _ = tokio::time::sleep(bar_due) => {
                last_bar = Instant::now();
                if !feed.backfill_to_now().await {
                    return;
                }
            }
            _ = tokio::time::sleep(age_left), if retiring.is_none() => {
                // Overlap: open the replacement first; retire the old one when it delivers.
                feed.shutdown_announced = false;
                feed.stats.rotations.fetch_add(1, Ordering::Relaxed);
                let old = (active, std::mem::replace(&mut active_stop, oneshot::channel().0));
                (active, active_stop, requests, opened) = open(&mut next_conn, &streams);
                retiring = Some(old);
            }
            Some(fetched) = snapshot_rx.recv() => {
                if !feed.on_snapshot(fetched).await {
                    return;
                }
            }
            incoming = rx.recv() => match incoming {
                None => return,
                Some(Incoming::Text { conn, text, receive_ms }) => {
                    if conn == active {
                        failures = 0;
                        if let Some((_, stop)) = retiring.take() {
                            let _ = stop.send(());
                        }
                    } else if retiring.as_ref().is_none_or(|(old, _)| *old != conn) {
                        continue; // a stale connection's last words
                    }
                    if !feed.on_text(&text, receive_ms).await {
                        return;
                    }
                }
                Some(Incoming::Closed { conn, reason }) => {
                    if retiring.as_ref().is_some_and(|(old, _)| *old == conn) {
                        retiring = None;
                        continue;
                    }
                    if conn != active {
                        continue;
                    }
                    tracing::warn!(symbol = %feed.config.symbol, "stream connection lost ({reason}); reconnecting");
                    tokio::time::sleep(backoff(failures)).await;
                    failures += 1;
                    feed.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                    feed.book.reset();
                    (active, active_stop, requests, opened) = open(&mut next_conn, &streams);
                    if !feed.backfill_to_now().await {
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_pacer_sends_at_most_five_a_second() {
        let mut pacer = Pacer::default();
        let start = tokio::time::Instant::now();
        let mut times = Vec::new();
        for _ in 0..12 {
            pacer.ready().await;
            times.push(start.elapsed());
        }
        for (i, t) in times.iter().enumerate().skip(MAX_OUTGOING_PER_SECOND) {
            let window_start = times[i - MAX_OUTGOING_PER_SECOND];
            assert!(
                *t >= window_start + Duration::from_secs(1),
                "message {i} at {t:?}"
            );
        }
        assert!(
            times[4] < Duration::from_millis(1),
            "the first five go at once"
        );
        assert_eq!(times[11], Duration::from_secs(2));
    }
}
