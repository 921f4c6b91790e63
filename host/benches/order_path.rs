//! The order path in process, per order: a guest's order record translated to the domain, the
//! risk checks, the order manager (locks, lifecycle, journal) and the book matcher, against the
//! book of the real BTCUSDT capture (zero simulated latency, so the venue answers in the same
//! call). Cases: a limit-maker order placed at the best bid and cancelled (two requests); a
//! market order that takes the ask (buys and sells alternate, so balances stay put); and, for
//! the breakdown, translation alone and the risk checks alone. The market-order case times each
//! order on its own (a clock read around it, ~20 ns of the figure) and restores the book
//! between batches of 100 orders, untimed.
//!
//! `cargo bench -p stratbox --bench order_path`

#[path = "../../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stratbox::config::ExecutionConfig;
use stratbox::engine::Engine;
use stratbox::feeds::{BookUpdate, BookUpdateKind, MarketEvent};
use stratbox::journal::NullJournal;
use stratbox::model::{DeploymentId, Side};
use stratbox::risk::{AccountLimits, Budget};
use stratbox::sandbox::Runtime;
use stratbox::sandbox::bindings::v0_2::strategy::stratbox::strategy::types as wit;
use stratbox::sandbox::convert::v0_2 as convert;

/// An engine whose market has replayed the first part of the capture (its book is in sync),
/// with an account for deployment 0.
fn engine() -> Engine {
    let (names, events) = common::btcusdt_capture();
    let exchange = ExecutionConfig::default().exchange().unwrap();
    let mut engine = Engine::new(
        Runtime::new(Default::default()).unwrap(),
        Arc::new(NullJournal),
        Box::new(exchange),
    );
    for name in &names {
        engine.market().write().unwrap().add_symbol(name);
    }
    for event in &events[..5_000] {
        engine.handle(event);
    }
    let budget = Budget {
        balances: [("USDT".to_string(), 1e9), ("BTC".to_string(), 1e4)].into(),
        ..Budget::unlimited(1e9)
    };
    let mut market = engine.market().write().unwrap();
    engine
        .orders()
        .lock()
        .unwrap()
        .open(DeploymentId(0), "bench".into(), budget, &mut market);
    drop(market);
    engine
}

fn order(side: wit::Side, order_type: wit::OrderType) -> wit::OrderRequest {
    wit::OrderRequest {
        client_id: 1,
        symbol: 0,
        side,
        amount: wit::Amount::Base(0.001),
        order_type,
        iceberg_quantity: None,
        reduce_only: false,
    }
}

fn order_path(c: &mut Criterion) {
    let engine = engine();
    let mut market = engine.market().write().unwrap();
    let mut orders = engine.orders().lock().unwrap();
    let id = DeploymentId(0);
    // One order a millisecond of event time: above the account's default 100 a second.
    orders.set_account_limits(AccountLimits {
        max_orders_per_second: 1_000_000,
        ..AccountLimits::default()
    });
    // The best bid: what a sell meets first.
    let bid = market.touch(0, Side::Sell).unwrap().to_f64();
    let maker = order(wit::Side::Buy, wit::OrderType::LimitMaker(bid));
    let buy = order(wit::Side::Buy, wit::OrderType::Market);
    let sell = order(wit::Side::Sell, wit::OrderType::Market);
    // Event time moves a millisecond an order, far below the orders-per-second limit.
    let mut now = engine.now();
    let mut group = c.benchmark_group("order_path");

    group.bench_function("translate only", |b| {
        b.iter(|| convert::order_request(black_box(&maker), &market).unwrap())
    });
    let account = orders.account(id).unwrap().clone();
    let request = convert::order_request(&maker, &market).unwrap();
    group.bench_function("risk checks only", |b| {
        b.iter(|| {
            orders
                .risk()
                .check(
                    id,
                    black_box(&request),
                    &account,
                    orders.oms(),
                    &market,
                    now,
                    false,
                )
                .unwrap()
        })
    });
    group.bench_function("limit-maker placed and cancelled", |b| {
        b.iter(|| {
            now += 1;
            let request = convert::order_request(black_box(&maker), &market).unwrap();
            let order_id = orders.submit(id, request, now, &market).unwrap();
            orders.advance(now, &market);
            black_box(orders.take_updates(now));
            orders.cancel(id, order_id, now).unwrap();
            orders.advance(now, &market);
            black_box(orders.take_updates(now));
        })
    });
    // The book as replayed: what the refills below restore.
    let depth = market.depth(0).unwrap();
    let snapshot = |bids: Vec<_>, asks: Vec<_>, time| {
        MarketEvent::Book(BookUpdate {
            symbol: 0,
            time,
            kind: BookUpdateKind::Snapshot,
            bids,
            asks,
        })
    };
    let (bids, asks): (Vec<_>, Vec<_>) = (
        depth.bids(usize::MAX).collect(),
        depth.asks(usize::MAX).collect(),
    );
    group.bench_function("market order filled against the book", |b| {
        b.iter_custom(|iters| {
            let mut took = Duration::ZERO;
            for i in 0..iters {
                // Liquidity we took is not offered again until the recorded level changes,
                // and nothing changes it here: every 100 orders the book is emptied and
                // restored (untimed), so each order meets the replayed book's liquidity.
                if i % 100 == 0 {
                    for event in [
                        snapshot(Vec::new(), Vec::new(), now),
                        snapshot(bids.clone(), asks.clone(), now),
                    ] {
                        if let MarketEvent::Book(update) = &event {
                            market.apply_book(update);
                        }
                        orders.on_event(&event, &market);
                    }
                }
                now += 1;
                let wit = if i.is_multiple_of(2) { &buy } else { &sell };
                let started = Instant::now();
                let request = convert::order_request(black_box(wit), &market).unwrap();
                orders.submit(id, request, now, &market).unwrap();
                orders.advance(now, &market);
                black_box(orders.take_updates(now));
                took += started.elapsed();
            }
            took
        })
    });
    group.finish();
}

criterion_group!(benches, order_path);
criterion_main!(benches);
