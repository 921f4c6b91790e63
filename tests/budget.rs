//! Budget enforcement end to end: a guest submits orders through the host, and each limit
//! rejects exactly the order that would break it, with a typed code the guest sees; the spot
//! account refuses what its balances cannot cover.

mod common;

use common::*;
use stratbox::feeds::MarketEvent;
use stratbox::model::Bar;
use stratbox::risk::Budget;
use stratbox::sandbox::{SandboxLimits, StateStore};

#[test]
fn each_limit_rejects_only_the_order_that_breaks_it() {
    let mut engine = engine(SandboxLimits::default());
    let budget = Budget {
        capital: 10_000.0,
        asset: None,
        // Sells need base to sell: the account starts with some.
        balances: [("USDT".to_string(), 10_000.0), ("BTC".to_string(), 10.0)].into(),
        max_order_notional: 1_000.0,
        max_position_notional: 1_500.0,
        max_gross_exposure: 1_000_000.0,
        max_orders_per_second: 3,
        max_daily_loss: 100.0,
        ..Budget::unlimited(0.0)
    };
    // At a price of 100: 10.01 breaks the order notional, 5.01 more breaks the position,
    // the fourth accepted order in one second breaks the rate.
    let orders = "buy:10.01,buy:10,buy:5.01,buy:5,sell:1,sell:1,sell:0";
    engine
        .deploy(
            "probe",
            guest("budget-probe"),
            format!(r#"{{"orders": "{orders}"}}"#),
            budget,
            StateStore::default(),
        )
        .unwrap();
    let bar = Bar {
        symbol: 0,
        interval_ms: 60_000,
        open_time: 0,
        open: 100.0,
        high: 100.0,
        low: 100.0,
        close: 100.0,
        volume: 1.0,
    };
    engine.handle(&MarketEvent::Bar(bar));
    let state = engine.state("probe").unwrap();
    let outcomes: Vec<String> = (0..7)
        .map(|i| {
            String::from_utf8(state.get(&format!("order{i}")).expect("recorded").to_vec()).unwrap()
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            "RejectCode::MaxOrderNotional",
            "ok",
            "RejectCode::MaxPosition",
            "ok",
            "ok",
            "RejectCode::MaxOrdersPerSecond",
            "RejectCode::InvalidOrder"
        ],
        "one rejection per breaking order, the rest accepted"
    );
}

#[test]
fn accepted_orders_fill_at_the_next_open_with_a_fee() {
    let mut engine = engine(SandboxLimits::default());
    engine
        .deploy(
            "probe",
            guest("budget-probe"),
            r#"{"orders": "buy:2"}"#.into(),
            Budget::unlimited(10_000.0),
            StateStore::default(),
        )
        .unwrap();
    let bar = |t: i64, open: f64| Bar {
        symbol: 0,
        interval_ms: 60_000,
        open_time: t,
        open,
        high: open,
        low: open,
        close: open,
        volume: 1.0,
    };
    engine.handle(&MarketEvent::Bar(bar(0, 100.0)));
    assert_eq!(engine.equity("probe").unwrap().to_string(), "10000");
    engine.handle(&MarketEvent::Bar(bar(60_000, 110.0)));
    // Bought 2 at 110 (the next open), fee 0.1% of 220: equity 10000 - 0.22.
    assert_eq!(engine.equity("probe").unwrap().to_string(), "9999.78");
}

#[test]
fn a_spot_account_cannot_sell_what_it_does_not_hold_or_spend_what_it_lacks() {
    // 1,000 USDT at a price of 100: 9 BTC fit (with fees and the market order's slack of 10 %),
    // 10 do not; nothing can be sold before something was bought. A 0.2 guest hears the rule by
    // name; a 0.1 guest, whose contract has no code for it, hears invalid-order.
    for (component, refused) in [
        (guest("budget-probe"), "RejectCode::InsufficientBalance"),
        (v0_1_guest("budget-probe"), "RejectCode::InvalidOrder"),
    ] {
        let mut engine = engine(SandboxLimits::default());
        engine
            .deploy(
                "probe",
                component,
                r#"{"orders": "sell:1,buy:10,buy:8"}"#.into(),
                Budget::unlimited(1_000.0),
                StateStore::default(),
            )
            .unwrap();
        let bar = |t: i64| Bar {
            symbol: 0,
            interval_ms: 60_000,
            open_time: t,
            open: 100.0,
            high: 100.0,
            low: 100.0,
            close: 100.0,
            volume: 1.0,
        };
        engine.handle(&MarketEvent::Bar(bar(0)));
        let state = engine.state("probe").unwrap();
        let outcome = |i: usize| {
            String::from_utf8(state.get(&format!("order{i}")).unwrap().to_vec()).unwrap()
        };
        assert_eq!(outcome(0), refused, "no BTC to sell");
        assert_eq!(outcome(1), refused, "10 BTC cost more than 1,000 USDT");
        assert_eq!(outcome(2), "ok");
        engine.handle(&MarketEvent::Bar(bar(60_000)));
        assert_eq!(state_u64(&engine, "probe", "fills"), Some(1));
        let orders = engine.orders().lock().unwrap();
        let account = orders
            .account(engine.deployment_id("probe").unwrap())
            .unwrap();
        let market = engine.market().read().unwrap();
        let usdt = market.instruments.asset_id("USDT").unwrap();
        let btc = market.instruments.asset_id("BTC").unwrap();
        // 8 BTC bought at 100 with a 0.1 % fee: 800.8 USDT spent, nothing left locked.
        assert_eq!(account.balance(btc).free.to_string(), "8");
        assert_eq!(account.balance(usdt).free.to_string(), "199.2");
        assert_eq!(account.balance(usdt).locked.to_string(), "0");
    }
}
