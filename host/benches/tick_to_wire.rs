//! Tick to wire through the live venue: a book update handed to the running engine (its event
//! queue, as the feed hands it over after decoding) until the strategy's new order leaves the
//! host as a WebSocket API frame. The `order-probe` guest places a limit-maker order (and
//! cancels it) on every book update; the venue is `LiveVenue` on the exchange simulator, with
//! a loopback proxy in front of the simulator's WebSocket API whose first read after the update
//! is the wire time. Two cases: no journal (the order is sent at once) and a SQLite journal
//! (the order waits until its row is committed, as the service runs). Baseline, side by side:
//! a frame written by a plain WebSocket client through the same proxy (loopback alone).
//!
//! `cargo bench -p stratbox --bench tick_to_wire` (`TICK_SAMPLES` sets the count, 2000).

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "support/sim.rs"]
mod sim;
#[path = "support/stats.rs"]
mod stats;

use futures_util::SinkExt;
use stats::{env_or, quantiles, report};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use stratbox::engine::service::EngineService;
use stratbox::execution::binance::{Credentials, Endpoints, LiveSettings, LiveVenue};
use stratbox::feeds::{BookUpdate, BookUpdateKind, MarketEvent};
use stratbox::journal::{Journal, JournalProgress, NullJournal};
use stratbox::model::Fixed;
use stratbox::sandbox::Runtime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

/// Reports the time of the first bytes a client writes after it is armed.
struct Tap {
    armed: AtomicBool,
    wire: std::sync::Mutex<mpsc::Sender<Instant>>,
}

/// A loopback proxy to `target`; returns its address.
async fn proxy(target: String, tap: Arc<Tap>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            client.set_nodelay(true).unwrap();
            let server = tokio::net::TcpStream::connect(&target).await.unwrap();
            server.set_nodelay(true).unwrap();
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            let tap = tap.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 << 10];
                while let Ok(n) = client_read.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if tap.armed.swap(false, Ordering::AcqRel) {
                        let _ = tap.wire.lock().unwrap().send(Instant::now());
                    }
                    if server_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
            });
        }
    });
    addr
}

/// The engine with the probe trading through the live venue at `rest` / `ws_api`, and
/// `journal`: its service and the venue's shared state.
fn engine(
    rest: &str,
    ws_api: &str,
    journal: Arc<dyn Journal>,
    progress: Option<JournalProgress>,
    price: f64,
    rules: &str,
) -> (EngineService, Arc<stratbox::execution::binance::Shared>) {
    let venue = LiveVenue::start(
        LiveSettings {
            endpoints: Endpoints {
                rest: rest.to_string(),
                ws_api: ws_api.to_string(),
            },
            reconcile_every: Duration::from_secs(600),
            answer_timeout: Duration::from_secs(3),
            unknown_orders: Default::default(),
            fees: Default::default(),
            symbols: vec!["BTCUSDT".into()],
        },
        Credentials::hmac("bench-0", sim::SECRET),
        progress,
    );
    let shared = venue.shared();
    let mut engine = stratbox::engine::Engine::new(
        Runtime::new(Default::default()).unwrap(),
        journal,
        Box::new(venue),
    );
    {
        let mut market = engine.market().write().unwrap();
        market.add_symbol("BTCUSDT");
        market.instruments.describe(rules).unwrap();
    }
    // One order an update, hundreds a second: the account-wide default of 100 would refuse them.
    engine
        .orders()
        .lock()
        .unwrap()
        .set_account_limits(stratbox::risk::AccountLimits {
            max_orders_per_second: 1_000_000,
            ..Default::default()
        });
    common::deploy(
        &mut engine,
        "probe",
        "order-probe",
        &format!(r#"{{"orders": "maker buy 0.001 {price:.2}; cancel 0", "every": 1}}"#),
    );
    (EngineService::start(engine), shared)
}

/// Book updates with the bid under the probe's price (so its order rests), one per sample:
/// the time from each into the engine to the order's frame on the wire.
fn measure(
    service: &EngineService,
    tap: &Tap,
    wire: &mpsc::Receiver<Instant>,
    price: f64,
    n: usize,
) -> Vec<Duration> {
    let events = service.events();
    let mut times = Vec::with_capacity(n);
    let fx = |x: f64| Fixed::from_f64(x).unwrap();
    for i in 0..n + n / 10 {
        let bid = price - 1.0 - (i % 2) as f64;
        let update = BookUpdate {
            symbol: 0,
            time: stratbox::model::time::wall_clock_ms(),
            kind: BookUpdateKind::Snapshot,
            bids: vec![(fx(bid), fx(1.0))],
            asks: vec![(fx(price + 1.0), fx(1.0))],
        };
        while wire.try_recv().is_ok() {}
        tap.armed.store(true, Ordering::Release);
        let t0 = Instant::now();
        assert!(events.send(MarketEvent::Book(update)));
        let t1 = wire
            .recv_timeout(Duration::from_secs(5))
            .expect("the order reached the wire");
        if i >= n / 10 {
            times.push(t1 - t0);
        }
        // Let the cancel go out and the answers come back before the next update.
        std::thread::sleep(Duration::from_millis(2));
    }
    times
}

fn main() {
    let n: usize = env_or("TICK_SAMPLES", 2_000);
    // Build the guests before the clock starts.
    common::guest_path("order-probe");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (tx, wire) = mpsc::channel();
    let tap = Arc::new(Tap {
        armed: AtomicBool::new(false),
        wire: std::sync::Mutex::new(tx),
    });
    let (addr, proxied, rules) = rt.block_on(async {
        let addr = sim::start(1).await;
        let proxied = proxy(addr.clone(), tap.clone()).await;
        let rules = reqwest::get(format!("http://{addr}/api/v3/exchangeInfo"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        (addr, proxied, rules)
    });
    let bid: f64 = rt.block_on(async {
        let book: serde_json::Value =
            reqwest::get(format!("http://{addr}/api/v3/depth?symbol=BTCUSDT&limit=1"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        book["bids"][0][0].as_str().unwrap().parse().unwrap()
    });
    let price = (bid * 0.9).floor();
    let _runtime = rt.enter();
    let rest = format!("http://{addr}");
    let ws_api = format!("ws://{proxied}/ws-api/v3");

    // Baseline: a frame through the proxy from a plain client.
    let mut loopback = rt.block_on(async {
        let (mut socket, _) = tokio_tungstenite::connect_async(&ws_api).await.unwrap();
        let mut times = Vec::new();
        for i in 0..n + n / 10 {
            while wire.try_recv().is_ok() {}
            tap.armed.store(true, Ordering::Release);
            let t0 = Instant::now();
            socket
                .send(Message::Text(r#"{"id":"x","method":"ping"}"#.into()))
                .await
                .unwrap();
            let t1 =
                tokio::task::block_in_place(|| wire.recv_timeout(Duration::from_secs(5)).unwrap());
            if i >= n / 10 {
                times.push(t1 - t0);
            }
        }
        times
    });
    let (base, _, _) = quantiles(&mut loopback);

    println!("| path | p50 | p99 | max | p50 / loopback |");
    println!("|---|---|---|---|---|");
    report(
        "loopback: a client's frame to the proxy (baseline)",
        &mut loopback,
        base,
    );
    let dir = tempfile::tempdir().unwrap();
    for case in ["no journal", "SQLite journal"] {
        let (journal, progress, writer): (Arc<dyn Journal>, _, _) = if case == "no journal" {
            (Arc::new(NullJournal), None, None)
        } else {
            let url = format!("sqlite://{}", dir.path().join("bench.sqlite").display());
            let store = rt.block_on(stratbox::store::Store::open(&url)).unwrap();
            let (journal, writer) = stratbox::store::StoreJournal::start(store);
            let progress = journal.progress();
            (Arc::new(journal), Some(progress), Some(writer))
        };
        let (service, shared) = engine(&rest, &ws_api, journal, progress, price, &rules);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !shared.snapshot().connected {
            assert!(Instant::now() < deadline, "the venue never connected");
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut times = measure(&service, &tap, &wire, price, n);
        report(
            &format!("book update in → order frame out, {case}"),
            &mut times,
            base,
        );
        drop(service.shutdown());
        drop(writer);
    }
}
