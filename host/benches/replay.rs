//! Capture replay through the book and the matching simulator: the real BTCUSDT capture
//! (`../shared/data/l2/btcusdt_20240808.gz`, 41,249 messages; 13,206 events once decoded, as
//! its bookTickers are not applied where the depth stream is), decoded once, then replayed
//!
//! - into the order book alone, beside the same changes applied to two ordered maps (the book
//!   before its price ladder), as the baseline;
//! - into the market state alone (book and trades recorded, nothing matched): the floor;
//! - through a whole backtest without a strategy (engine, book, matcher, equity sampling);
//! - through a whole backtest with the `market-maker` component quoting on every book update
//!   (limit-maker orders on both sides, moved by cancel-replace);
//!
//! in events per second (median of the rounds), each ratio taken against the floor measured
//! in the same run; then the tick-to-order latency: one book message in, the guest decides, the
//! order accepted by the venue (zero simulated latency), p50 / p99 / p99.9 over the messages
//! that produced an acknowledged order.
//!
//! `cargo bench -p stratbox --bench replay` (build the guests first: see BENCHMARKS.md).

#[path = "../../tests/common/mod.rs"]
mod common;

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use stratbox::backtest::{self, Backtest, Component};
use stratbox::book::OrderBook;
use stratbox::config::ExecutionConfig;
use stratbox::engine::Engine;
use stratbox::feeds::{BookUpdateKind, MarketEvent};
use stratbox::journal::{Journal, JournalEntry};
use stratbox::market::MarketData;
use stratbox::model::{ExecutionType, Fixed};
use stratbox::risk::Budget;
use stratbox::sandbox::{Runtime, StateStore};

const ROUNDS: usize = 15;
const MM_CONFIG: &str = r#"{"quantity": 0.001, "max_position": 0.01}"#;

/// The decoded capture.
struct Loaded {
    names: Vec<String>,
    events: Vec<MarketEvent>,
}

fn load() -> Loaded {
    let started = Instant::now();
    let (names, events) = common::btcusdt_capture();
    let decode = started.elapsed();
    println!(
        "decode (gzip + JSON + book sync): {} events in {decode:.2?} = {:.0} events/s",
        events.len(),
        events.len() as f64 / decode.as_secs_f64()
    );
    Loaded { names, events }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// The book's changes applied to the order book (`ladder`) or to two ordered maps keeping
/// their best levels (the baseline); the time.
fn book_only(loaded: &Loaded, ladder: bool) -> Duration {
    let mut book = OrderBook::default();
    let mut bids: BTreeMap<Reverse<Fixed>, Fixed> = BTreeMap::new();
    let mut asks: BTreeMap<Fixed, Fixed> = BTreeMap::new();
    let mut best = (None, None);
    let started = Instant::now();
    for event in &loaded.events {
        let MarketEvent::Book(b) = event else {
            continue;
        };
        if ladder {
            if b.kind == BookUpdateKind::Snapshot {
                book.clear();
            }
            book.apply(&b.bids, &b.asks);
            best = (book.best_bid(), book.best_ask());
            continue;
        }
        if b.kind == BookUpdateKind::Snapshot {
            bids.clear();
            asks.clear();
        }
        for &(p, q) in &b.bids {
            if q.raw() == 0 {
                bids.remove(&Reverse(p));
            } else {
                bids.insert(Reverse(p), q);
            }
        }
        for &(p, q) in &b.asks {
            if q.raw() == 0 {
                asks.remove(&p);
            } else {
                asks.insert(p, q);
            }
        }
        best = (
            bids.first_key_value().map(|(p, q)| (p.0, *q)),
            asks.first_key_value().map(|(p, q)| (*p, *q)),
        );
    }
    std::hint::black_box(best);
    started.elapsed()
}

/// The floor: the market state records every book update and trade, nothing else runs.
fn market_only(loaded: &Loaded) -> Duration {
    let mut market = MarketData::default();
    for name in &loaded.names {
        market.add_symbol(name);
    }
    let started = Instant::now();
    for event in &loaded.events {
        match event {
            MarketEvent::Book(b) => market.apply_book(b),
            MarketEvent::Trade(t) => market.push_trade(t),
            _ => {}
        }
    }
    started.elapsed()
}

fn budget() -> Budget {
    Budget {
        balances: [("USDT".to_string(), 100_000.0), ("BTC".to_string(), 1.0)].into(),
        ..Budget::unlimited(1e9)
    }
}

/// A whole backtest over the capture; its wall time and fill count.
fn run(runtime: &Arc<Runtime>, loaded: &Loaded, components: &[Component]) -> (Duration, usize) {
    let started = Instant::now();
    let report = backtest::run(
        runtime.clone(),
        Backtest {
            components: components.to_vec(),
            symbols: &loaded.names,
            exchange_info: None,
            events: &loaded.events,
            execution: ExecutionConfig::default(),
            inference: None,
            features: None,
            signals: None,
            progress: false,
        },
    )
    .expect("backtest");
    (started.elapsed(), report.fills.len())
}

/// Counts the orders the venue acknowledged.
#[derive(Default)]
struct Acks(AtomicUsize);

impl Journal for Acks {
    fn record(&self, entry: JournalEntry) {
        if let JournalEntry::Order { update, .. } = entry
            && update.execution == ExecutionType::New
        {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Book message in, guest decides, order accepted by the venue: the time of `Engine::handle`
/// for the messages after which the venue acknowledged an order.
fn tick_to_order(runtime: &Arc<Runtime>, loaded: &Loaded, bytes: Arc<[u8]>) {
    let acks = Arc::new(Acks::default());
    let exchange = ExecutionConfig::default().exchange().expect("exchange");
    let mut engine = Engine::new(runtime.clone(), acks.clone(), Box::new(exchange));
    for name in &loaded.names {
        engine.market().write().unwrap().add_symbol(name);
    }
    engine
        .deploy(
            "mm",
            bytes,
            MM_CONFIG.into(),
            budget(),
            StateStore::default(),
        )
        .expect("deploy");
    let (mut ordering, mut quiet) = (Vec::new(), Vec::new());
    for event in &loaded.events {
        let before = acks.0.load(Ordering::Relaxed);
        let started = Instant::now();
        engine.handle(event);
        let took = started.elapsed();
        if !matches!(event, MarketEvent::Book(_)) {
            continue;
        }
        if acks.0.load(Ordering::Relaxed) > before {
            ordering.push(took);
        } else {
            quiet.push(took);
        }
    }
    for (what, mut times) in [
        ("book message -> order acknowledged", ordering),
        ("book message, no new order", quiet),
    ] {
        times.sort_unstable();
        println!(
            "tick-to-order  {what:<36} n={:>6}  p50={:>9.2?} p99={:>9.2?} p99.9={:>9.2?}",
            times.len(),
            percentile(&times, 0.50),
            percentile(&times, 0.99),
            percentile(&times, 0.999),
        );
    }
}

fn main() {
    let loaded = load();
    let events = loaded.events.len() as f64;
    let runtime = Runtime::new(Default::default()).expect("runtime");
    let mm = common::guest("market-maker");
    let quoting = [Component {
        name: "mm".into(),
        bytes: mm.clone(),
        config: MM_CONFIG.into(),
        budget: budget(),
    }];
    // Warm up: the component compiled and cached, the pages touched.
    let (_, fills) = run(&runtime, &loaded, &quoting);
    market_only(&loaded);
    let (mut floor, mut bare, mut quoted) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ladder, mut maps) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ladder.push(book_only(&loaded, true));
        maps.push(book_only(&loaded, false));
        floor.push(market_only(&loaded));
        bare.push(run(&runtime, &loaded, &[]).0);
        quoted.push(run(&runtime, &loaded, &quoting).0);
    }
    let (ladder, maps) = (median(ladder), median(maps));
    println!(
        "book    its changes applied: price ladder {ladder:.2?}, ordered maps {maps:.2?}: {:.2} x the maps' time",
        ladder.as_secs_f64() / maps.as_secs_f64()
    );
    let floor = median(floor);
    for (what, time) in [
        ("market state only (floor)", floor),
        ("backtest, no strategy", median(bare)),
        (
            "backtest, market-maker on every book update",
            median(quoted),
        ),
    ] {
        println!(
            "replay  {what:<46} {time:>9.2?}  {:>10.0} events/s  {:>5.2} x floor",
            events / time.as_secs_f64(),
            time.as_secs_f64() / floor.as_secs_f64(),
        );
    }
    println!("(the market maker's run filled {fills} times)");
    tick_to_order(&runtime, &loaded, mm);
}
