//! The live feed against the simulator over real loopback WebSockets: every closed bar exactly
//! once and in order through dropped connections, rotations and malformed messages; skipped
//! update ids trigger a resync after which the book matches the simulator's.

mod common;

use common::*;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use stratbox::feeds::binance::RestClient;
use stratbox::feeds::binance::ws::{
    self, ConnectionCounters, FeedCounters, FeedEvent, FeedStats, HubConfig, LiveFeedConfig,
    StreamControl, StreamHub,
};
use stratbox::feeds::candles::{self, Candle};
use stratbox::sim::live::{SimTrade, read_trades};
use stratbox::sim::{Faults, SimConfig, SimMarket};
use tokio::sync::{mpsc, oneshot};

async fn start_sim(market: SimMarket, config: SimConfig) -> String {
    start_sim_of(vec![market], config).await
}

/// Serves `markets` together on a loopback port; its address.
async fn start_sim_of(markets: Vec<SimMarket>, config: SimConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, stratbox::sim::router(markets, config))
            .await
            .unwrap()
    });
    addr.to_string()
}

struct Run {
    bars: Vec<Candle>,
    book_updates: usize,
    trades: Vec<u64>,
    tickers: Vec<stratbox::feeds::binance::BookTicker>,
    stats: Arc<FeedStats>,
    connections: Vec<ConnectionCounters>,
}

/// Replays `rows` at `pace` bars per second with `faults`, runs the feed until it has every bar.
async fn run_feed(rows: &[Candle], faults: Faults, book: bool, max_age: Duration) -> Run {
    run_feed_with_trades(rows, &[], faults, book, max_age).await
}

/// As [`run_feed`], replaying `recorded_trades` along with the candles.
async fn run_feed_with_trades(
    rows: &[Candle],
    recorded_trades: &[SimTrade],
    faults: Faults,
    book: bool,
    max_age: Duration,
) -> Run {
    run_feed_configured(rows, recorded_trades, faults, book, max_age, |_| {}).await
}

/// A feed of the simulator at `addr` for XRPETH 1m that wants every bar of `rows`, even those the
/// simulator released before the first connection was up.
fn feed_config(addr: &str, rows: &[Candle]) -> LiveFeedConfig {
    let mut config = LiveFeedConfig::new(
        &format!("http://{addr}"),
        &format!("ws://{addr}"),
        "XRPETH",
        "1m",
        60_000,
    );
    config.silence_timeout = Duration::from_secs(5);
    config.bar_timeout = Duration::from_millis(500);
    config.resume_after = Some(rows[0].open_time - 60_000);
    config
}

/// As [`run_feed_with_trades`], with `tweak` applied to the feed's configuration.
async fn run_feed_configured(
    rows: &[Candle],
    recorded_trades: &[SimTrade],
    faults: Faults,
    book: bool,
    max_age: Duration,
    tweak: impl FnOnce(&mut LiveFeedConfig),
) -> Run {
    let market = SimMarket::recorded("XRPETH", "1m", 60_000, rows.to_vec());
    let addr = start_sim(
        market,
        SimConfig {
            faults,
            trades: recorded_trades.to_vec(),
            seed: 3,
            book_ms: 20,
            bars_per_second: 500.0,
            ..SimConfig::default()
        },
    )
    .await;
    let mut config = feed_config(&addr, rows);
    config.book = book;
    config.max_connection_age = max_age;
    tweak(&mut config);
    let (tx, mut rx) = mpsc::channel(1024);
    let stats = Arc::new(FeedStats::default());
    let (stop, shutdown) = oneshot::channel();
    let hub = StreamHub::start(HubConfig {
        max_connection_age: config.max_connection_age,
        silence_timeout: config.silence_timeout,
        ..HubConfig::new(&config.ws)
    });
    let feed = tokio::spawn({
        let (hub, stats) = (hub.clone(), stats.clone());
        async move {
            let (_control, control) = mpsc::channel(1);
            ws::run_on(&hub, config, tx, stats, shutdown, control).await
        }
    });
    let (mut bars, mut book_updates, mut trades, mut tickers) =
        (Vec::new(), 0, Vec::new(), Vec::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while bars.len() < rows.len() {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(FeedEvent::Bar(c, stamp))) => {
                assert!(
                    stamp.receive_ms >= stamp.exchange_ms - 5_000,
                    "stamps are sane"
                );
                bars.push(c);
            }
            Ok(Some(FeedEvent::Trade(tick, _))) => trades.push(tick.id),
            Ok(Some(FeedEvent::Ticker(ticker, _))) => tickers.push(ticker),
            Ok(Some(FeedEvent::Streams(_))) => {}
            Ok(Some(FeedEvent::Book { bids, asks, .. })) => {
                if let (Some(bid), Some(ask)) = (bids.first(), asks.first()) {
                    assert!(bid.0 < ask.0, "the book is not crossed");
                }
                book_updates += 1;
            }
            Ok(None) => panic!("feed ended"),
            Err(_) => panic!(
                "timed out with {} of {} bars; stats {stats:?}",
                bars.len(),
                rows.len()
            ),
        }
    }
    // A moment more: nothing further may arrive for bars already delivered.
    let extra = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await;
    assert!(
        !matches!(extra, Ok(Some(FeedEvent::Bar(..)))),
        "a bar arrived twice"
    );
    let connections = hub.counters().await;
    let _ = stop.send(());
    let _ = feed.await;
    Run {
        bars,
        book_updates,
        trades,
        tickers,
        stats,
        connections,
    }
}

fn rows(n: usize) -> Vec<Candle> {
    candles::read_file(&data_dir().join("XRP_ETH_1m.csv"))
        .unwrap()
        .into_iter()
        .take(n)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_lose_no_bar_and_repeat_none() {
    let rows = rows(1500);
    // Each reconnect costs a 5000-level snapshot (weight 250 of 6000 a minute): keep them few.
    let faults = Faults {
        drop_after: Some(400),
        ..Faults::default()
    };
    let run = run_feed(&rows, faults, true, Duration::from_secs(3600)).await;
    assert_eq!(
        run.bars, rows,
        "every bar once, in order, with exact values"
    );
    assert!(
        run.stats.reconnects.load(Ordering::Relaxed) >= 2,
        "{:?}",
        run.stats
    );
    assert!(
        run.stats.backfilled.load(Ordering::Relaxed) > 0,
        "gaps were backfilled over REST: {:?}",
        run.stats
    );
    assert!(
        run.book_updates > 0,
        "the book kept being rebuilt after each reconnect"
    );
    assert!(!run.trades.is_empty(), "aggregate trades arrived");
    assert!(
        run.trades.windows(2).all(|w| w[0] < w[1]),
        "trade ids only grow"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_connections_before_their_age_limit_overlap_without_gaps() {
    let rows = rows(1200);
    let run = run_feed_configured(
        &rows,
        &[],
        Faults::default(),
        false,
        Duration::from_millis(400),
        |c| c.book_ticker = true,
    )
    .await;
    assert_eq!(run.bars, rows);
    // Book tickers repeated at the seams are dropped: update ids only increase.
    assert!(!run.tickers.is_empty());
    let ids: Vec<u64> = run.tickers.iter().map(|t| t.update_id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(
        run.stats.rotations.load(Ordering::Relaxed) >= 2,
        "{:?}",
        run.stats
    );
    assert_eq!(
        run.stats.reconnects.load(Ordering::Relaxed),
        0,
        "rotation is not a reconnect"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_are_counted_and_the_feed_goes_on() {
    let rows = rows(800);
    let run = run_feed(
        &rows,
        Faults {
            garbage_every: Some(97),
            ..Faults::default()
        },
        true,
        Duration::from_secs(3600),
    )
    .await;
    assert_eq!(run.bars, rows);
    // Garbage names no stream, so it is counted on the connection that carried it.
    let malformed: u64 = run.connections.iter().map(|c| c.malformed).sum();
    assert!(malformed > 0, "{:?}", run.connections);
}

/// A simulator of XRPETH whose book changes every `book_ms` with `faults`, and a feed of its
/// book alone (no bars wanted): its address, the feed's events and counters, and its stop.
async fn book_feed(
    faults: Faults,
    book_ms: u64,
) -> (
    String,
    mpsc::Receiver<FeedEvent>,
    Arc<FeedStats>,
    oneshot::Sender<()>,
) {
    let market = SimMarket::recorded("XRPETH", "1m", 60_000, rows(10));
    let config = SimConfig {
        faults,
        seed: 5,
        book_ms,
        bars_per_second: 0.0,
        ..SimConfig::default()
    };
    let addr = start_sim(market, config).await;
    let mut config = LiveFeedConfig::new(
        &format!("http://{addr}"),
        &format!("ws://{addr}"),
        "XRPETH",
        "1m",
        60_000,
    );
    config.resume_after = Some(i64::MAX - 120_000);
    let (tx, rx) = mpsc::channel(1024);
    let stats = Arc::new(FeedStats::default());
    let (stop, shutdown) = oneshot::channel();
    tokio::spawn(ws::run(config, tx, stats.clone(), shutdown));
    (addr, rx, stats, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_update_ids_resync_the_book_which_then_matches_the_simulator() {
    let faults = Faults {
        skip_every: Some(15),
        ..Faults::default()
    };
    let (addr, mut rx, stats, stop) = book_feed(faults, 150).await;
    let rest = RestClient::new(&format!("http://{addr}"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut matched = 0;
    while matched < 3 {
        let event = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("book updates keep coming")
            .unwrap();
        let FeedEvent::Book {
            last_update_id,
            bids,
            asks,
            ..
        } = event
        else {
            continue;
        };
        // Right after an update the simulator usually has not changed yet: compare when the ids agree.
        let snapshot = rest.depth("XRPETH", 5000).await.unwrap();
        if snapshot.last_update_id == last_update_id {
            assert_eq!(
                bids,
                snapshot.bids[..bids.len()],
                "the best levels equal the simulator's"
            );
            assert_eq!(asks, snapshot.asks[..asks.len()]);
            assert_eq!(bids.len(), 20);
            if stats.resyncs.load(Ordering::Relaxed) > 0 {
                matched += 1;
            }
        }
    }
    assert!(stats.resyncs.load(Ordering::Relaxed) >= 1, "{stats:?}");
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_symbols_book_is_in_sync_without_waiting_for_a_change() {
    // One change as the simulator starts, then none for an hour.
    let (addr, mut rx, stats, stop) = book_feed(Faults::default(), 3_600_000).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let (last_update_id, bids, asks) = loop {
        let event = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the book is in sync without a diff")
            .unwrap();
        if let FeedEvent::Book {
            last_update_id,
            bids,
            asks,
            ..
        } = event
        {
            break (last_update_id, bids, asks);
        }
    };
    let snapshot = RestClient::new(&format!("http://{addr}"))
        .depth("XRPETH", 5000)
        .await
        .unwrap();
    assert_eq!(last_update_id, snapshot.last_update_id);
    assert_eq!(bids, snapshot.bids[..bids.len()]);
    assert_eq!(asks, snapshot.asks[..asks.len()]);
    assert_eq!(stats.resyncs.load(Ordering::Relaxed), 0);
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_shutdown_notice_is_met_with_an_overlapping_replacement() {
    let rows = rows(1000);
    let run = run_feed(
        &rows,
        Faults {
            shutdown_after: Some(300),
            ..Faults::default()
        },
        false,
        Duration::from_secs(3600),
    )
    .await;
    assert_eq!(run.bars, rows);
    assert!(
        run.stats.rotations.load(Ordering::Relaxed) >= 1,
        "{:?}",
        run.stats
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_snapshots_do_not_hold_up_bars() {
    // Gapless generated candles: on the recorded data every missing minute costs a REST
    // look-up, which this fault pattern makes slow on purpose.
    let rows: Vec<Candle> = SimMarket::generated("XRPETH", "1m", 60_000, 1_700_000_000_000, 600, 9)
        .candles()
        .to_vec();
    // Every third REST request is refused for a second, and the book keeps losing diffs.
    let faults = Faults {
        http429_every: Some(3),
        retry_after_s: 1,
        skip_every: Some(5),
        ..Faults::default()
    };
    let run = run_feed(&rows, faults, true, Duration::from_secs(3600)).await;
    assert_eq!(run.bars, rows);
    assert!(
        run.stats.resyncs.load(Ordering::Relaxed) > 0,
        "{:?}",
        run.stats
    );
}

/// The shared recorded trades made before the last of `rows` closed.
fn trades_within(rows: &[Candle]) -> Vec<SimTrade> {
    let close = rows[rows.len() - 1].open_time + 60_000;
    read_trades(&data_dir().join("XRP_ETH_trades.csv"))
        .unwrap()
        .into_iter()
        .filter(|t| t.time < close)
        .collect()
}

/// Checks `received` holds every one of `recorded` since the first received, once, in order;
/// the position of the first.
fn assert_every_trade_since_connecting(received: &[u64], recorded: &[SimTrade]) -> usize {
    let expected: Vec<u64> = recorded.iter().map(|t| t.id).collect();
    let first = expected
        .iter()
        .position(|&id| Some(&id) == received.first())
        .expect("received trades are recorded ones");
    assert_eq!(
        received,
        &expected[first..],
        "every recorded trade since connecting, once, in order"
    );
    first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_trades_are_replayed_with_their_candles() {
    let rows = rows(200);
    let recorded = trades_within(&rows);
    assert!(
        recorded.len() > 100,
        "the shared trades overlap the shared candles"
    );
    let run = run_feed_with_trades(
        &rows,
        &recorded,
        Faults::default(),
        false,
        Duration::from_secs(3600),
    )
    .await;
    assert_eq!(run.bars, rows);
    // Trades of a window are published before its kline closes, so by the last bar all of them
    // have been sent; those sent before the first connection was up are not replayed to it.
    let first = assert_every_trade_since_connecting(&run.trades, &recorded);
    assert!(
        first < recorded.len() / 2,
        "the feed connected early in the replay"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_trades_and_book_tickers_are_consumed() {
    let rows = rows(120);
    let recorded = trades_within(&rows);
    let run = run_feed_configured(
        &rows,
        &recorded,
        Faults::default(),
        false,
        Duration::from_secs(3600),
        |config| {
            config.raw_trades = true;
            config.book_ticker = true;
        },
    )
    .await;
    assert_eq!(run.bars, rows);
    // Every single trade (the `@trade` stream) since connecting, once, in order.
    assert_every_trade_since_connecting(&run.trades, &recorded);
    // The book's top in real time, exact decimals, never crossed, update ids rising.
    assert!(run.tickers.len() >= 5, "{} tickers", run.tickers.len());
    for pair in run.tickers.windows(2) {
        assert!(pair[0].update_id < pair[1].update_id);
    }
    for t in &run.tickers {
        assert!(
            t.bid.0 < t.ask.0 && t.bid.1.raw() > 0 && t.ask.1.raw() > 0,
            "{t:?}"
        );
    }
    assert_eq!(run.stats.malformed.load(Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_subscribed_and_unsubscribed_at_run_time() {
    let rows = rows(600);
    let market = SimMarket::recorded("XRPETH", "1m", 60_000, rows.clone());
    let addr = start_sim(
        market,
        SimConfig {
            faults: Faults::default(),
            trades: Vec::new(),
            seed: 5,
            book_ms: 10,
            bars_per_second: 100.0,
            ..SimConfig::default()
        },
    )
    .await;
    let mut config = feed_config(&addr, &rows);
    // Klines only, to start with.
    config.book = false;
    config.trades = false;
    let (tx, mut rx) = mpsc::channel(4096);
    let (control, control_rx) = mpsc::channel(8);
    let stats = Arc::new(FeedStats::default());
    let (stop, shutdown) = oneshot::channel();
    let feed = tokio::spawn(ws::run_with_control(
        config,
        tx,
        stats.clone(),
        shutdown,
        control_rx,
    ));
    let mut bars = Vec::new();
    // (bars seen when the ticker was added, tickers before, tickers after removal + grace)
    let (mut phase, mut tickers) = (0, [0usize; 3]);
    let mut removed_at = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while bars.len() < rows.len() {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(FeedEvent::Bar(c, _))) => {
                bars.push(c);
                if bars.len() == 100 && phase == 0 {
                    phase = 1;
                    control
                        .send(StreamControl::Subscribe(vec!["bookTicker".into()]).into())
                        .await
                        .unwrap();
                }
                if bars.len() == 250 && phase == 1 {
                    phase = 2;
                    control
                        .send(StreamControl::Unsubscribe(vec!["bookTicker".into()]).into())
                        .await
                        .unwrap();
                    removed_at = Some(tokio::time::Instant::now());
                }
            }
            Ok(Some(FeedEvent::Ticker(..))) => {
                // Tickers already on their way when the request left still arrive for a while.
                let settled = removed_at.is_some_and(|t| t.elapsed() > Duration::from_secs(1));
                tickers[if settled { 2 } else { phase.min(1) }] += 1;
            }
            Ok(Some(_)) => {}
            Ok(None) => panic!("feed ended"),
            Err(_) => panic!("timed out with {} bars; {stats:?}", bars.len()),
        }
    }
    let _ = stop.send(());
    let _ = feed.await;
    assert_eq!(bars, rows, "every bar once, in order, across the changes");
    assert_eq!(tickers[0], 0, "no ticker before subscribing");
    assert!(tickers[1] > 10, "tickers once subscribed: {tickers:?}");
    assert_eq!(tickers[2], 0, "none once unsubscribed: {tickers:?}");
    assert_eq!(stats.malformed.load(Ordering::Relaxed), 0);
}

/// What one symbol's feed delivered.
#[derive(Default)]
struct SymbolRun {
    bars: Vec<Candle>,
    books: usize,
    tickers: usize,
    trades: Vec<u64>,
    /// The streams last announced.
    streams: Vec<String>,
    /// The feed's counters when collection ended.
    counters: FeedCounters,
}

/// The hub's connections once `check` holds of them (asked again for up to ten seconds).
async fn connections_when(
    hub: &StreamHub,
    check: impl Fn(&[ConnectionCounters]) -> bool,
) -> Vec<ConnectionCounters> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let connections = hub.counters().await;
        if check(&connections) || tokio::time::Instant::now() > deadline {
            return connections;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The first two neighbouring trade ids that are not consecutive (the simulator numbers each
/// symbol's trades consecutively, so a gap is a lost trade and a step back a repeat).
fn first_gap(ids: &[u64]) -> Option<&[u64]> {
    ids.windows(2).find(|w| w[1] != w[0] + 1)
}

/// The number of symbols on all connections.
fn symbols_on(connections: &[ConnectionCounters]) -> usize {
    connections.iter().map(|c| c.symbols).sum()
}

/// `count` generated markets of `candles` candles each, named `<prefix><i>USDT`.
fn markets(prefix: &str, count: usize, candles: usize) -> Vec<SimMarket> {
    (0..count)
        .map(|i| {
            let symbol = format!("{prefix}{i}USDT");
            SimMarket::generated(
                &symbol,
                "1m",
                60_000,
                1_700_000_000_000,
                candles,
                100 + i as u64,
            )
        })
        .collect()
}

/// Serves `markets` with a book change every `book_ms` and `bars_per_second` candles released.
async fn simulate(markets: &[SimMarket], book_ms: u64, bars_per_second: f64) -> String {
    let config = SimConfig {
        book_ms,
        bars_per_second,
        ..SimConfig::default()
    };
    start_sim_of(markets.to_vec(), config).await
}

/// A feed of `market` on the simulator at `addr`, from the first bar closed after it starts.
fn live_config(addr: &str, market: &SimMarket) -> LiveFeedConfig {
    LiveFeedConfig::new(
        &format!("http://{addr}"),
        &format!("ws://{addr}"),
        &market.symbol,
        "1m",
        60_000,
    )
}

/// Waits for every collector, then stops its feed.
async fn finish(feeds: Vec<Collecting>) -> Vec<SymbolRun> {
    let mut runs = Vec::new();
    for (_, stop, collector) in feeds {
        runs.push(collector.await.unwrap());
        let _ = stop.send(());
    }
    runs
}

/// A feed being collected: its stream control, its stop, and what it delivered.
type Collecting = (
    mpsc::Sender<ws::StreamRequest>,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<SymbolRun>,
);

/// Starts `symbol`'s feed on `hub`; its events are collected until it has `want` bars or
/// `deadline` passes.
fn collect(hub: &StreamHub, mut config: LiveFeedConfig, want: usize) -> Collecting {
    let (tx, mut rx) = mpsc::channel(1024);
    let (control, control_rx) = mpsc::channel(4);
    let (stop, shutdown) = oneshot::channel();
    config.silence_timeout = Duration::from_secs(5);
    let stats = Arc::new(FeedStats::default());
    tokio::spawn({
        let (hub, stats) = (hub.clone(), stats.clone());
        async move { ws::run_on(&hub, config, tx, stats, shutdown, control_rx).await }
    });
    let collector = tokio::spawn(async move {
        let mut run = SymbolRun::default();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        while run.bars.len() < want {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(FeedEvent::Bar(c, _))) => run.bars.push(c),
                Ok(Some(FeedEvent::Book { .. })) => run.books += 1,
                Ok(Some(FeedEvent::Ticker(..))) => run.tickers += 1,
                Ok(Some(FeedEvent::Trade(t, _))) => run.trades.push(t.id),
                Ok(Some(FeedEvent::Streams(streams))) => run.streams = streams,
                Ok(None) | Err(_) => break,
            }
        }
        run.counters = stats.snapshot();
        run
    });
    (control, stop, collector)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_symbols_share_connections_up_to_their_stream_limit() {
    let markets = markets("SYM", 12, 150);
    let addr = simulate(&markets, 50, 40.0).await;
    // Three streams a symbol (kline, depth, aggTrade), nine a connection: three symbols each.
    let hub = StreamHub::start(HubConfig {
        max_streams: 9,
        silence_timeout: Duration::from_secs(5),
        ..HubConfig::new(&format!("ws://{addr}"))
    });
    let mut feeds = Vec::new();
    for market in &markets {
        let config = feed_config(&addr, market.candles());
        let mut config = LiveFeedConfig {
            symbol: market.symbol.clone(),
            ..config
        };
        config.bar_timeout = Duration::from_secs(2);
        feeds.push(collect(&hub, config, market.candles().len()));
    }
    let connections = connections_when(&hub, |c| symbols_on(c) == 12).await;
    assert_eq!(connections.len(), 4, "{connections:?}");
    assert!(
        connections.iter().all(|c| c.streams == 9 && c.symbols == 3),
        "{connections:?}"
    );
    // A fourth stream for the first symbol does not fit its full connection: it moves.
    feeds[0]
        .0
        .send(StreamControl::Subscribe(vec!["bookTicker".into()]).into())
        .await
        .unwrap();
    let moved = connections_when(&hub, |c| c.len() == 5).await;
    // Feeds join in any order: whichever connection it left now has six streams.
    let mut streams: Vec<usize> = moved.iter().map(|c| c.streams).collect();
    streams.sort();
    assert_eq!(streams, [4, 6, 9, 9, 9], "{moved:?}");
    assert_eq!((moved[4].streams, moved[4].symbols), (4, 1), "{moved:?}");
    let runs = finish(feeds).await;
    for (run, market) in runs.iter().zip(&markets) {
        assert_eq!(
            run.bars,
            market.candles(),
            "{}: every bar once, in order, its own",
            market.symbol
        );
        assert!(run.books > 0, "{}: its book", market.symbol);
        assert!(!run.trades.is_empty(), "{}: its trades", market.symbol);
        assert!(
            run.trades.windows(2).all(|w| w[0] < w[1]),
            "{}: trades once each",
            market.symbol
        );
    }
    assert!(runs[0].tickers > 0, "the moved symbol gets its tickers");
    assert!(
        runs[0].streams.contains(&"sym0usdt@bookTicker".to_string()),
        "{:?}",
        runs[0].streams
    );
    assert!(runs[1..].iter().all(|r| r.tickers == 0), "only it does");
    // Stopped feeds leave their connections; empty connections close.
    let left = connections_when(&hub, |c| c.is_empty()).await;
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_a_thousand_streams_fill_one_connection_and_open_another() {
    // 520 symbols, klines and book tickers: 1040 streams, over Binance's 1024 a connection.
    let markets = markets("S", 520, 20);
    let addr = simulate(&markets, 400, 8.0).await;
    let hub = StreamHub::start(HubConfig::new(&format!("ws://{addr}")));
    let mut feeds = Vec::new();
    for market in &markets {
        let mut config = live_config(&addr, market);
        config.book = false;
        config.trades = false;
        config.book_ticker = true;
        // Bars from the first one closed after connecting; none wanted before.
        feeds.push(collect(&hub, config, 5));
    }
    let connections = connections_when(&hub, |c| symbols_on(c) == 520).await;
    assert_eq!(
        connections
            .iter()
            .map(|c| (c.streams, c.symbols))
            .collect::<Vec<_>>(),
        [(1024, 512), (16, 8)],
        "{connections:?}"
    );
    for ((_, stop, collector), market) in feeds.into_iter().zip(&markets) {
        let run = collector.await.unwrap();
        let _ = stop.send(());
        assert_eq!(run.bars.len(), 5, "{}: five bars", market.symbol);
        let first = market
            .candles()
            .iter()
            .position(|c| *c == run.bars[0])
            .expect("its own bars");
        assert_eq!(
            run.bars,
            market.candles()[first..first + 5],
            "{}: in order, once each",
            market.symbol
        );
        assert!(run.tickers > 0, "{}: its tickers", market.symbol);
    }
    let malformed: u64 = connections.iter().map(|c| c.malformed).sum();
    assert_eq!(malformed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_shared_connection_loses_no_bar_of_any_of_its_symbols() {
    let markets = markets("DROP", 6, 400);
    let addr = start_sim_of(
        markets.clone(),
        SimConfig {
            faults: Faults {
                drop_after: Some(700),
                ..Faults::default()
            },
            book_ms: 40,
            bars_per_second: 100.0,
            ..SimConfig::default()
        },
    )
    .await;
    // Klines and aggregate trades, three symbols a connection: two connections.
    let hub = StreamHub::start(HubConfig {
        max_streams: 6,
        silence_timeout: Duration::from_secs(5),
        ..HubConfig::new(&format!("ws://{addr}"))
    });
    let mut feeds = Vec::new();
    for market in &markets {
        let mut config = LiveFeedConfig {
            symbol: market.symbol.clone(),
            ..feed_config(&addr, market.candles())
        };
        config.book = false;
        feeds.push(collect(&hub, config, market.candles().len()));
    }
    // Asked while the feeds run: a feed whose collector is done leaves its connection.
    let connections = connections_when(&hub, |c| {
        c.len() == 2 && c.iter().all(|c| c.reconnects >= 1)
    })
    .await;
    assert_eq!(connections.len(), 2, "{connections:?}");
    assert!(
        connections.iter().all(|c| c.reconnects >= 1),
        "{connections:?}"
    );
    let mut runs = Vec::new();
    for (_, stop, collector) in feeds {
        runs.push((collector.await.unwrap(), stop));
    }
    let mut filled = 0;
    for ((run, stop), market) in runs.into_iter().zip(&markets) {
        let _ = stop.send(());
        assert_eq!(
            run.bars,
            market.candles(),
            "{}: every bar once, in order, through the drops",
            market.symbol
        );
        assert!(
            first_gap(&run.trades).is_none(),
            "{}: every trade once, in order, through the drops: first gap {:?}",
            market.symbol,
            first_gap(&run.trades)
        );
        assert_eq!(run.counters.trades_missed, 0, "{}", market.symbol);
        filled += run.counters.trades_filled;
    }
    assert!(filled > 0, "trades lost with the connections were fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_symbol_does_not_hold_up_the_others_and_catches_up_after() {
    let markets = markets("STALL", 2, 300);
    let addr = simulate(&markets, 1, 100.0).await;
    let hub = StreamHub::start(HubConfig::new(&format!("ws://{addr}")));
    let config = |market: &SimMarket| {
        let mut config = LiveFeedConfig {
            symbol: market.symbol.clone(),
            ..feed_config(&addr, market.candles())
        };
        config.book_ticker = true;
        config.book = false;
        config
    };
    // The slow symbol's consumer reads nothing for a while.
    let (tx, mut slow_rx) = mpsc::channel(16);
    let slow_stats = Arc::new(FeedStats::default());
    let (_slow_control, control) = mpsc::channel(1);
    let (_slow_stop, shutdown) = oneshot::channel();
    tokio::spawn({
        let (hub, stats, config) = (hub.clone(), slow_stats.clone(), config(&markets[0]));
        async move { ws::run_on(&hub, config, tx, stats, shutdown, control).await }
    });
    let (_, fast_stop, fast) = collect(&hub, config(&markets[1]), 300);
    let fast = tokio::time::timeout(Duration::from_secs(30), fast)
        .await
        .expect("the other symbol is not held up")
        .unwrap();
    let _ = fast_stop.send(());
    assert_eq!(
        fast.bars,
        markets[1].candles(),
        "every bar of the other symbol"
    );
    let connections = hub.counters().await;
    assert!(
        connections.iter().any(|c| c.dropped > 0),
        "the stalled symbol's messages were dropped, not waited for: {connections:?}"
    );
    // Once read again, the stalled symbol is told it fell behind and backfills every bar; any
    // trade it missed and later learns of is fetched.
    let (mut bars, mut trades) = (Vec::new(), Vec::new());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while bars.len() < 300 {
        match tokio::time::timeout_at(deadline, slow_rx.recv()).await {
            Ok(Some(FeedEvent::Bar(c, _))) => bars.push(c),
            Ok(Some(FeedEvent::Trade(t, _))) => trades.push(t.id),
            Ok(Some(_)) => {}
            other => panic!("stalled feed ended with {} bars: {other:?}", bars.len()),
        }
    }
    assert_eq!(
        bars,
        markets[0].candles(),
        "every bar once, in order, after the stall"
    );
    assert!(
        slow_stats.lagged.load(Ordering::Relaxed) >= 1,
        "{slow_stats:?}"
    );
    assert!(
        trades.len() > 100 && first_gap(&trades).is_none(),
        "every trade once, in order, after the stall: {} trades, first gap {:?}",
        trades.len(),
        first_gap(&trades)
    );
    assert_eq!(
        slow_stats.trades_missed.load(Ordering::Relaxed),
        0,
        "{slow_stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_a_connection_with_subscribed_streams_loses_no_trade() {
    // 600 streams: more than a URL carries, so most are subscribed after the connection opens;
    // the old connection must deliver until the new one has confirmed them, and the two
    // sequences must meet without a gap however late either connection's messages arrive.
    let markets = markets("R", 300, 600);
    let addr = simulate(&markets, 100, 10.0).await;
    let hub = StreamHub::start(HubConfig {
        max_connection_age: Duration::from_millis(1200),
        silence_timeout: Duration::from_secs(5),
        ..HubConfig::new(&format!("ws://{addr}"))
    });
    let mut feeds = Vec::new();
    for market in &markets {
        let mut config = live_config(&addr, market);
        config.book = false;
        config.raw_trades = true;
        feeds.push(collect(&hub, config, usize::MAX));
    }
    // A rotation starts only once the one before has ended: the third means two complete
    // ones, however slowly a loaded machine gets through them. And at least 12 s, so every
    // symbol has traded enough (~3 trades a second) across the seams however fast they went.
    let started = tokio::time::Instant::now();
    let deadline = started + Duration::from_secs(90);
    let connections = loop {
        let connections = hub.counters().await;
        let rotated = connections.iter().all(|c| c.rotations >= 3);
        if (rotated && started.elapsed() >= Duration::from_secs(12))
            || tokio::time::Instant::now() > deadline
        {
            break connections;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut runs = Vec::new();
    for (_, stop, collector) in feeds {
        let _ = stop.send(());
        runs.push(collector.await.unwrap());
    }
    assert!(
        connections.iter().all(|c| c.rotations >= 3),
        "{connections:?}"
    );
    // A machine too loaded to keep up may lose a connection (the exchange drops slow
    // clients); the feeds then fetch what they missed. Otherwise the seams alone are whole.
    let seams_alone = connections
        .iter()
        .all(|c| c.reconnects == 0 && c.dropped == 0);
    for (run, market) in runs.iter().zip(&markets) {
        assert!(
            run.bars.len() >= 10
                && run
                    .bars
                    .windows(2)
                    .all(|w| w[1].open_time == w[0].open_time + 60_000),
            "{}: {} bars, or not consecutive",
            market.symbol,
            run.bars.len()
        );
        assert!(
            run.trades.len() > 20,
            "{}: {} trades",
            market.symbol,
            run.trades.len()
        );
        // The simulator numbers each symbol's trades consecutively: any gap is a lost one.
        assert!(
            first_gap(&run.trades).is_none(),
            "{}: trades lost across a rotation: {:?}",
            market.symbol,
            first_gap(&run.trades)
        );
        assert_eq!(run.counters.trades_missed, 0, "{}", market.symbol);
        if seams_alone {
            assert_eq!(
                run.counters.trades_filled, 0,
                "{}: a rotation skipped trades",
                market.symbol
            );
        }
    }
}
