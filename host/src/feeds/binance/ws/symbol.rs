//! One symbol's feed on the hub's connections: closed klines delivered exactly once and in
//! order (gaps left by reconnects, moves or lost messages are backfilled over REST), trades
//! once each and in order (repeats across overlapping connections dropped, gaps fetched over
//! REST: see [`super::trades`]), and a local order book kept by the snapshot + diff procedure.

use super::connection::now_ms;
use super::hub::{Routed, StreamHub};
use super::trades::{self, Gap, Outcome, TradeSequence};
use super::{BOOK_LEVELS, BookChange, FeedEvent, FeedStats, LiveFeedConfig, Stamp, StreamRequest};
use crate::book::{BookSync, DepthDiff, SyncAction};
use crate::feeds::BookUpdateKind;
use crate::feeds::binance::rest::RestClient;
use crate::feeds::binance::types::{
    DepthSnapshot, RawAggTrade, RawBookTicker, RawStreamTrade, TradeTick,
};
use crate::feeds::candles::Candle;
use crate::model::{Decimal, Fixed};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long a subscribed depth stream may stay silent before its snapshot is fetched anyway: a
/// quiet symbol's book is in sync from then on instead of after its first change.
const QUIET_BOOK: Duration = Duration::from_secs(1);

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
    /// The depth diffs' lags, for counting late ones.
    depth_lags: crate::book::Lags,
    /// When the book procedure last started over (a quiet stream's snapshot is due
    /// [`QUIET_BOOK`] after it).
    book_since: Instant,
    /// The trades delivered, by stream: `[aggTrade, trade]` (their ids differ).
    trades: [TradeSequence; 2],
    /// Where fetched gaps arrive: (single trades?, the gap, its trades).
    fills: mpsc::Sender<(bool, Gap, Vec<TradeTick>)>,
    /// The update id of the last book ticker delivered: repeats (a rotation's seam, the held
    /// messages after a rotation given up) are dropped, as Binance's ids only increase.
    last_ticker: Option<u64>,
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
                    match self.closed_bars(next, candle.open_time).await {
                        Ok(bars) => break bars,
                        Err(_) if self.out.is_closed() => return false,
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

    /// The symbol's bars opened from `from` to `to`, over REST.
    async fn closed_bars(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<Candle>, crate::feeds::binance::RestError> {
        let c = &self.config;
        self.rest
            .klines_between(&c.symbol, &c.interval, c.interval_ms, from, to)
            .await
    }

    /// Fetches every closed bar after the last one delivered; false when the consumer is gone.
    async fn backfill_to_now(&mut self) -> bool {
        let Some(next) = self.next_open else {
            return true;
        };
        let bars = match self.closed_bars(next, i64::MAX / 4).await {
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
        let change = BookChange {
            kind: BookUpdateKind::Diff,
            bids: diff.bids.clone(),
            asks: diff.asks.clone(),
        };
        if self
            .depth_lags
            .observe(stamp.receive_ms - stamp.exchange_ms, stamp.exchange_ms)
        {
            self.stats.late.fetch_add(1, Ordering::Relaxed);
        }
        let action = self.book.on_diff(diff);
        self.after_book_step(action, stamp, Some(change)).await
    }

    /// Starts the book procedure over (after a reconnect, a lag, a change of streams).
    fn reset_book(&mut self) {
        self.book.reset();
        // A new connection may take another route: its lags start a new baseline.
        self.depth_lags = crate::book::Lags::default();
        self.book_since = Instant::now();
    }

    /// Applies a fetched snapshot (or schedules another attempt after a failure).
    async fn on_snapshot(&mut self, fetched: Result<DepthSnapshot, String>) -> bool {
        self.snapshot_pending = false;
        match fetched {
            Ok(s) => {
                let action = self.book.on_snapshot(s.last_update_id, &s.bids, &s.asks);
                let stamp = Stamp {
                    exchange_ms: now_ms(),
                    receive_ms: now_ms(),
                };
                self.after_book_step(action, stamp, None).await
            }
            Err(e) => {
                tracing::error!(symbol = %self.config.symbol, "depth snapshot failed, retrying: {e}");
                self.request_snapshot(Duration::from_secs(1));
                true
            }
        }
    }

    /// Acts on what the book procedure said: fetches a snapshot, or sends the book's best levels
    /// with the change that made them (`diff`, or the whole book after a (re)synchronisation).
    async fn after_book_step(
        &mut self,
        action: SyncAction,
        stamp: Stamp,
        diff: Option<BookChange>,
    ) -> bool {
        self.stats
            .resyncs
            .store(self.book.resyncs, Ordering::Relaxed);
        self.stats
            .crossed
            .store(self.book.crossed, Ordering::Relaxed);
        match (action, self.book.book()) {
            (SyncAction::FetchSnapshot, _) => {
                self.request_snapshot(Duration::ZERO);
                true
            }
            (SyncAction::Updated, Some(book)) => {
                self.unsynced_snapshots = 0;
                let change = diff.unwrap_or_else(|| BookChange {
                    kind: BookUpdateKind::Snapshot,
                    bids: book.bids(usize::MAX).collect(),
                    asks: book.asks(usize::MAX).collect(),
                });
                self.out
                    .send(FeedEvent::Book {
                        last_update_id: book.last_update_id,
                        bids: book.bids(BOOK_LEVELS).collect(),
                        asks: book.asks(BOOK_LEVELS).collect(),
                        stamp,
                        change,
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

    /// Tells the consumer (and the counters) which streams the feed has now; false when the
    /// consumer is gone.
    async fn announce(&self, streams: &[String]) -> bool {
        *self.stats.streams.lock().unwrap_or_else(|p| p.into_inner()) = streams.to_vec();
        self.out
            .send(FeedEvent::Streams(streams.to_vec()))
            .await
            .is_ok()
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

    /// Delivers what a trade sequence gave back and counts it; starts fetching the gap it
    /// found, if any. False when the consumer is gone.
    async fn apply(&mut self, raw: bool, outcome: Outcome) -> bool {
        self.stats
            .trades_filled
            .fetch_add(outcome.filled, Ordering::Relaxed);
        self.stats
            .trades_missed
            .fetch_add(outcome.missed, Ordering::Relaxed);
        if let Some(gap) = outcome.fetch {
            let (rest, symbol, tx) = (
                self.rest.clone(),
                self.config.symbol.clone(),
                self.fills.clone(),
            );
            tokio::spawn(async move {
                let fetched = trades::fetch(&rest, &symbol, raw, gap).await;
                let _ = tx.send((raw, gap, fetched)).await;
            });
        }
        for (tick, stamp) in outcome.deliver {
            if self.out.send(FeedEvent::Trade(tick, stamp)).await.is_err() {
                return false;
            }
        }
        true
    }

    /// Handles one text frame; false when the consumer is gone.
    async fn on_text(&mut self, text: &str, receive_ms: i64) -> bool {
        self.stats.messages.fetch_add(1, Ordering::Relaxed);
        self.stats.received_ms.store(receive_ms, Ordering::Relaxed);
        let parsed: Result<Envelope, _> = serde_json::from_str(text);
        let Ok(envelope) = parsed else {
            self.stats.malformed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(symbol = %self.config.symbol, "malformed message skipped: {:.120}", text);
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
                Ok(ticker) if self.last_ticker.is_some_and(|u| ticker.update_id <= u) => {
                    true // seen on an overlapping connection
                }
                Ok(ticker) => {
                    self.last_ticker = Some(ticker.update_id);
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
            let raw = envelope.stream.ends_with("@trade");
            let tick = if raw {
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
                    let outcome = self.trades[usize::from(raw)].accept(tick, stamp);
                    self.apply(raw, outcome).await
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

/// The streams `config` asks for, by their full names.
fn initial_streams(config: &LiveFeedConfig, lower: &str) -> Vec<String> {
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
    streams
}

/// Runs `config`'s feed on `hub` until `out` is dropped, `shutdown` fires or the hub stops,
/// taking [`StreamRequest`]s from `control`.
pub(super) async fn run(
    hub: StreamHub,
    config: LiveFeedConfig,
    out: mpsc::Sender<FeedEvent>,
    stats: Arc<FeedStats>,
    mut shutdown: oneshot::Receiver<()>,
    mut control: mpsc::Receiver<StreamRequest>,
) {
    let lower = config.symbol.to_ascii_lowercase();
    let mut streams = initial_streams(&config, &lower);
    let (sink, mut routed) = mpsc::channel(4096);
    if let Err(e) = hub.add(&lower, streams.clone(), sink).await {
        tracing::error!(symbol = %config.symbol, "feed not started: {e}");
        return;
    }
    let (snapshot_tx, mut snapshot_rx) = mpsc::channel(4);
    let (fills_tx, mut fills_rx) = mpsc::channel(4);
    let mut feed = Feed {
        rest: hub.rest(&config.rest),
        snapshots: snapshot_tx,
        snapshot_pending: false,
        unsynced_snapshots: 0,
        next_open: config.resume_after.map(|t| t + config.interval_ms),
        stats,
        out,
        book: BookSync::new(),
        depth_lags: crate::book::Lags::default(),
        book_since: Instant::now(),
        trades: Default::default(),
        fills: fills_tx,
        last_ticker: None,
        config,
    };
    let mut last_bar = Instant::now();
    let mut delivered = feed.next_open;
    let mut alive = feed.announce(&streams).await;
    while alive {
        if feed.next_open != delivered {
            delivered = feed.next_open;
            last_bar = Instant::now();
        }
        let bar_due = feed.config.bar_timeout.saturating_sub(last_bar.elapsed());
        let quiet = feed.config.book && feed.book.waiting();
        let quiet_due = QUIET_BOOK.saturating_sub(feed.book_since.elapsed());
        alive = tokio::select! {
            _ = &mut shutdown => false,
            Some(request) = control.recv() => {
                let outcome = match request.change.check() {
                    Err(e) => Err(e),
                    Ok(()) => {
                        let (add, remove) = request.change.kinds();
                        let name = |kind: &String| format!("{lower}@{kind}");
                        let mut wanted = streams.clone();
                        for kind in remove.iter().chain(add) {
                            wanted.retain(|s| *s != name(kind));
                        }
                        wanted.extend(add.iter().map(name));
                        match hub.set_streams(&lower, wanted.clone()).await {
                            Ok(()) => {
                                streams = wanted;
                                let depth = |kinds: &[String]| kinds.iter().any(|k| k == "depth@100ms");
                                if depth(add) || depth(remove) {
                                    feed.config.book = depth(add);
                                    feed.reset_book();
                                }
                                Ok(streams.clone())
                            }
                            Err(e) => Err(e.to_string()),
                        }
                    }
                };
                if let Err(e) = &outcome {
                    tracing::error!(symbol = %feed.config.symbol, "streams not changed: {e}");
                }
                let changed = outcome.is_ok();
                if let Some(reply) = request.reply {
                    let _ = reply.send(outcome);
                }
                !changed || feed.announce(&streams).await
            }
            _ = tokio::time::sleep(bar_due) => {
                last_bar = Instant::now();
                feed.backfill_to_now().await
            }
            _ = tokio::time::sleep(quiet_due), if quiet => {
                if feed.book.on_quiet() == SyncAction::FetchSnapshot {
                    feed.request_snapshot(Duration::ZERO);
                }
                true
            }
            Some(fetched) = snapshot_rx.recv() => feed.on_snapshot(fetched).await,
            Some((raw, gap, fetched)) = fills_rx.recv() => {
                let outcome = feed.trades[usize::from(raw)].filled(gap, fetched, now_ms());
                feed.apply(raw, outcome).await
            }
            message = routed.recv() => match message {
                None => false,
                Some(Routed::Text { text, receive_ms }) => feed.on_text(&text, receive_ms).await,
                Some(Routed::Reconnected) => {
                    feed.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                    feed.reset_book();
                    feed.backfill_to_now().await
                }
                Some(Routed::Rotated) => {
                    feed.stats.rotations.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Some(Routed::Moved) => feed.backfill_to_now().await,
                Some(Routed::Lagged) => {
                    feed.stats.lagged.fetch_add(1, Ordering::Relaxed);
                    feed.reset_book();
                    feed.backfill_to_now().await
                }
            },
        };
    }
    hub.remove(&lower).await;
}
