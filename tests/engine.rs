//! The engine's event flow: timers fire in event time, fills reach their owner, and each bar's
//! signals pass through the optimizers to every strategy.

mod common;

use common::*;
use stratbox::engine::Status;
use stratbox::feeds::MarketEvent;
use stratbox::risk::Budget;
use stratbox::sandbox::{SandboxLimits, StateStore};

#[test]
fn timers_fire_in_event_time() {
    let mut engine = engine(SandboxLimits::default());
    deploy(&mut engine, "t", "counter", r#"{"timer_ms": 300000}"#);
    for bar in bars(60) {
        engine.handle(&MarketEvent::Bar(bar));
    }
    // Bars close at minutes 1..=60; a timer every 5 minutes from minute 0 fires 12 times.
    assert_eq!(state_u64(&engine, "t", "timers"), Some(12));
}

#[test]
fn timers_also_fire_between_bars_on_trades_and_books() {
    use stratbox::feeds::{BookUpdate, BookUpdateKind, TradePrint};
    use stratbox::model::Side;
    let mut engine = engine(SandboxLimits::default());
    deploy(&mut engine, "t", "counter", r#"{"timer_ms": 90000}"#);
    let trade = |time| {
        MarketEvent::Trade(TradePrint {
            symbol: 0,
            time,
            trade_id: 1,
            price: 100.0,
            quantity: 1.0,
            aggressor: Side::Buy,
        })
    };
    engine.handle(&trade(89_999));
    assert_eq!(state_u64(&engine, "t", "timers"), None, "not due yet");
    engine.handle(&trade(90_000));
    assert_eq!(state_u64(&engine, "t", "timers"), Some(1));
    assert_eq!(state_u64(&engine, "t", "trades"), Some(2));
    let level = |p: i64| {
        (
            stratbox::model::Fixed::from_int(p),
            stratbox::model::Fixed::from_int(1),
        )
    };
    engine.handle(&MarketEvent::Book(BookUpdate {
        symbol: 0,
        time: 180_000,
        kind: BookUpdateKind::Snapshot,
        bids: vec![level(99)],
        asks: vec![level(101)],
    }));
    assert_eq!(state_u64(&engine, "t", "timers"), Some(2));
    assert_eq!(state_u64(&engine, "t", "books"), Some(1));
}

#[test]
fn fills_reach_the_strategy_that_owns_the_order() {
    let mut engine = engine(SandboxLimits::default());
    engine
        .deploy(
            "probe",
            guest("budget-probe"),
            r#"{"orders": "buy:1,buy:2"}"#.into(),
            Budget::unlimited(1e6),
            StateStore::default(),
        )
        .unwrap();
    deploy(&mut engine, "other", "counter", "{}");
    for bar in bars(3) {
        engine.handle(&MarketEvent::Bar(bar));
    }
    assert_eq!(state_u64(&engine, "probe", "fills"), Some(2));
    assert_eq!(engine.list()[0].open_orders, 0);
}

#[test]
fn signals_pass_through_optimizers_to_strategies() {
    let mut engine = engine(SandboxLimits::default());
    deploy(
        &mut engine,
        "emitter",
        "bollinger-reversion",
        r#"{"period": 5, "width": 0.5, "quantity": 1}"#,
    );
    deploy(
        &mut engine,
        "optimizer",
        "confidence-optimizer",
        r#"{"min_strength": 0.0}"#,
    );
    deploy(&mut engine, "listener", "counter", "{}");
    for bar in bars(500) {
        engine.handle(&MarketEvent::Bar(bar));
    }
    let received = state_u64(&engine, "listener", "signals").unwrap_or(0);
    assert!(received > 0, "the listener received the emitter's signals");
    let optimizer = engine
        .list()
        .into_iter()
        .find(|d| d.name == "optimizer")
        .unwrap();
    assert_eq!(optimizer.status, Status::Running);
    assert!(
        optimizer.delivered >= received,
        "every delivered batch passed the optimizer first"
    );

    // An optimizer that drops everything stops signals from reaching strategies.
    let mut engine = common::engine(SandboxLimits::default());
    deploy(
        &mut engine,
        "emitter",
        "bollinger-reversion",
        r#"{"period": 5, "width": 0.5, "quantity": 1}"#,
    );
    deploy(
        &mut engine,
        "optimizer",
        "hostile-optimizer",
        r#"{"returns": 0}"#,
    );
    deploy(&mut engine, "listener", "counter", "{}");
    for bar in bars(500) {
        engine.handle(&MarketEvent::Bar(bar));
    }
    assert_eq!(state_u64(&engine, "listener", "signals"), None);
}
