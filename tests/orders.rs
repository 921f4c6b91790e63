//! The order path through contract 0.2 end to end: a guest submits orders of every Binance spot
//! type, modifies and cancels them, and hears of every change through `on-order-update`, with
//! the exchange filter or risk rule of each refusal and the liquidity side of each fill.

mod common;

use common::*;
use stratbox::feeds::MarketEvent;
use stratbox::model::Bar;
use stratbox::risk::Budget;
use stratbox::sandbox::{SandboxLimits, StateStore};

/// BTCUSDT with Binance's filters (tick 0.01, step 0.001, notional at least 5, 5 algo orders).
const EXCHANGE_INFO: &str = r#"{"symbols": [{
    "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT",
    "icebergAllowed": true,
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
        {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "9000", "stepSize": "0.001"},
        {"filterType": "ICEBERG_PARTS", "limit": 10},
        {"filterType": "NOTIONAL", "minNotional": "5", "applyMinToMarket": true, "maxNotional": "9000000", "applyMaxToMarket": false, "avgPriceMins": 0},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000}
    ]}]}"#;

fn bar(i: i64, open: f64, high: f64, low: f64, close: f64) -> Bar {
    Bar {
        symbol: 0,
        interval_ms: 60_000,
        open_time: i * 60_000,
        open,
        high,
        low,
        close,
        volume: 10.0,
    }
}

/// Runs the order probe with `orders` on the first bar (close 100), then `bars`; its log and
/// each action's outcome.
fn probe(orders: &str, bars: &[Bar]) -> (Vec<String>, Vec<String>) {
    probe_holding(orders, bars, 5.0)
}

/// As [`probe`], the account starting with 10,000 USDT and `btc` BTC.
fn probe_holding(orders: &str, bars: &[Bar], btc: f64) -> (Vec<String>, Vec<String>) {
    let mut engine = engine(SandboxLimits::default());
    engine
        .market()
        .write()
        .unwrap()
        .instruments
        .describe(EXCHANGE_INFO)
        .unwrap();
    // The engine named symbol 0 BTCUSDT before the description came: describe() re-reads it.
    let budget = Budget {
        balances: [("USDT".to_string(), 10_000.0), ("BTC".to_string(), btc)].into(),
        ..Budget::unlimited(10_000.0)
    };
    engine
        .deploy(
            "probe",
            guest("order-probe"),
            format!(r#"{{"orders": "{orders}"}}"#),
            budget,
            StateStore::default(),
        )
        .unwrap();
    engine.handle(&MarketEvent::Bar(bar(0, 100.0, 100.0, 100.0, 100.0)));
    for b in bars {
        engine.handle(&MarketEvent::Bar(*b));
    }
    let state = engine.state("probe").unwrap();
    let text = |key: &str| {
        state
            .get(key)
            .map(|v| String::from_utf8(v.to_vec()).unwrap())
            .unwrap_or_default()
    };
    let outcomes = (0..orders.split(';').count())
        .map(|i| text(&format!("submit{i}")))
        .collect();
    let log = text("log").lines().map(str::to_string).collect();
    (outcomes, log)
}

/// The log lines of the order the i-th action submitted, without its id.
fn of(outcomes: &[String], log: &[String], i: usize) -> Vec<String> {
    let id = outcomes[i]
        .strip_prefix("ok ")
        .unwrap_or_else(|| panic!("action {i} was refused: {}", outcomes[i]));
    log.iter()
        .filter_map(|l| l.strip_prefix(&format!("{id} ")).map(str::to_string))
        .collect()
}

#[test]
fn every_order_type_lives_its_binance_life() {
    let orders = "limit buy 1 99; limit buy 1 98 ioc; maker buy 1 100; stop sell 0.5 101; \
                  stop sell 0.5 97; tp sell 0.5 104; stoplimit buy 1 103 103.5; quote buy 50; \
                  limit buy 2 95 iceberg=0.5; stop sell 0.5 90 trailnow=100";
    let bars = [
        // Opens at 99.5, dips to 98.5 (the 99 bid fills as maker), rises to 104.5 (the take
        // profit and the stop buy trigger), falls to 96.5 (the stop sell triggers).
        bar(1, 99.5, 104.5, 96.5, 100.0),
    ];
    let (outcomes, log) = probe(orders, &bars);
    let text = log.join("\n");
    assert_eq!(
        of(&outcomes, &log, 0),
        [
            "New New (limit 1)",
            "Trade Filled Maker 1@99 fee 0.099 (limit 1)"
        ],
        "{text}"
    );
    assert_eq!(
        of(&outcomes, &log, 1),
        ["New New (limit 1)", "Expired Expired (limit 1)"],
        "an IOC not marketable at the open: {text}"
    );
    assert_eq!(
        of(&outcomes, &log, 2),
        ["Rejected Rejected WouldTakeLiquidity (maker 1)"],
        "{text}"
    );
    assert_eq!(
        of(&outcomes, &log, 3),
        ["Rejected Rejected WouldTriggerImmediately (stop 0.5)"],
        "a sell stop above the last price: {text}"
    );
    let stop = of(&outcomes, &log, 4);
    assert_eq!(stop[0], "New New (stop 0.5)");
    assert_eq!(stop[1], "Triggered New (stop 0.5)");
    assert!(stop[2].starts_with("Trade Filled Taker 0.5@97 "), "{text}");
    let tp = of(&outcomes, &log, 5);
    assert!(tp[2].starts_with("Trade Filled Taker 0.5@104 "), "{text}");
    let stop_limit = of(&outcomes, &log, 6);
    assert_eq!(stop_limit[1], "Triggered New (stoplimit 1)");
    assert!(
        stop_limit[2].starts_with("Trade Filled Taker 1@103 "),
        "{text}"
    );
    let quote = of(&outcomes, &log, 7);
    // 50 USDT at the open of 99.5 buy 0.502 BTC (the lot step is 0.001).
    assert!(
        quote[1].starts_with("Trade Filled Taker 0.502@99.5 "),
        "{text}"
    );
    assert!(quote[1].ends_with("(market quote 50)"), "{text}");
    let iceberg = of(&outcomes, &log, 8);
    assert_eq!(
        iceberg,
        ["New New (limit 2)"],
        "rests below the market: {text}"
    );
    let trailing = of(&outcomes, &log, 9);
    // Trailing 1 % from the open of 99.5 up to the high of 104.5: triggers at 103.455 or
    // below, which on the tick grid is 103.45.
    assert_eq!(trailing[1], "Triggered New (trailing-stop 0.5)", "{text}");
    assert!(
        trailing[2].starts_with("Trade Filled Taker 0.5@103.45 "),
        "{text}"
    );
}

#[test]
fn filters_and_rules_are_named_in_refusals() {
    let orders = "limit buy 1 100.001; limit buy 0.0015 100; limit buy 0.01 100; \
                  limit buy 1 100 iceberg=0.05; stop sell 0.1 90 trailnow=5; \
                  limit buy 200 100; market sell 2; market buy 0.1 reduce";
    let (outcomes, log) = probe_holding(orders, &[], 1.0);
    let codes: Vec<&str> = outcomes
        .iter()
        .map(|o| o.split(':').next().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "err Filter(PriceFilter)",
            "err Filter(LotSize)",
            "err Filter(Notional)",
            "err Filter(IcebergParts)",
            "err Filter(TrailingDelta)",
            "err InsufficientBalance",
            "err InsufficientBalance",
            "err ReduceOnly",
        ],
        "{outcomes:#?}"
    );
    assert!(
        outcomes[0].contains("Filter failure: PRICE_FILTER"),
        "{}",
        outcomes[0]
    );
    // Every refusal at submission is an update too.
    let rejected = log
        .iter()
        .filter(|l| l.contains("Rejected Rejected"))
        .count();
    assert_eq!(rejected, 8, "{log:#?}");
}

#[test]
fn orders_are_cancelled_replaced_and_bounded_per_symbol() {
    let orders = "limit buy 1 90; limit buy 1 91; stop sell 0.1 80; stop sell 0.1 81; \
                  stop sell 0.1 82; stop sell 0.1 83; stop sell 0.1 84; stop sell 0.1 85; \
                  cancel 0; replace 1 limit buy 2 92; replace 0 limit buy 1 93; \
                  replaceany 0 limit buy 1 94";
    let (outcomes, log) = probe(orders, &[bar(1, 100.0, 100.0, 99.0, 100.0)]);
    let text = log.join("\n");
    // MAX_NUM_ALGO_ORDERS = 5: the sixth stop is refused.
    assert!(
        outcomes[7].starts_with("err Filter(MaxNumAlgoOrders)"),
        "{}",
        outcomes[7]
    );
    assert_eq!(
        of(&outcomes, &log, 0),
        ["New New (limit 1)", "Cancelled Cancelled (limit 1)"]
    );
    assert_eq!(
        of(&outcomes, &log, 1),
        ["New New (limit 1)", "Cancelled Cancelled (limit 1)"],
        "replaced: {text}"
    );
    assert_eq!(of(&outcomes, &log, 9), ["New New (limit 2)"], "{text}");
    // Replacing the order the earlier cancel ends: sent (the cancel was still on its way), then
    // refused at the venue, as the cancel fails; placed anyway when allowed.
    assert_eq!(
        of(&outcomes, &log, 10),
        ["Rejected Rejected UnknownOrder (limit 1)"],
        "{text}"
    );
    assert_eq!(of(&outcomes, &log, 11), ["New New (limit 1)"], "{text}");
}

#[test]
fn cancel_all_cancels_every_open_order_of_the_symbol() {
    let (outcomes, log) = probe(
        "limit buy 1 90; limit buy 1 91; limit sell 0.5 120; cancelall",
        &[bar(1, 100.0, 100.0, 99.0, 100.0)],
    );
    assert!(outcomes[3].starts_with("ok ["), "{}", outcomes[3]);
    for i in 0..3 {
        let lines = of(&outcomes, &log, i);
        assert!(
            lines.last().unwrap().starts_with("Cancelled Cancelled"),
            "{lines:?}"
        );
    }
}
