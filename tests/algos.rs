//! Execution algorithms on the running service: an operator starts parent orders on a
//! deployment's account (paper trading the simulator's book), watches them work and reads
//! their cost analysis; malformed orders are refused with the reason.

mod common;

use common::api::Api;
use common::service::{Server, TOKEN, market_maker_service, start_exchange_sim};
use serde_json::{Value, json};

fn algo(api: &Api, id: u64) -> Value {
    let list = api.get("/v1/algos", TOKEN);
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no algo {id} in {list}"))
}

#[test]
fn operators_work_parent_orders_and_read_their_costs() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, addr) = start_exchange_sim("BTCUSDT");
    let server = Server::start(&market_maker_service(dir.path(), &addr, ""));
    let api = Api::new(&server);
    // The book is there once the cost estimate answers.
    api.wait(
        "/v1/cost?symbol=BTCUSDT&side=buy&quantity=0.01",
        "a book",
        |_| true,
    );
    let twap = json!({"symbol": "BTCUSDT", "side": "buy", "quantity": 0.06, "style": "twap",
        "duration_s": 3, "slices": 3, "urgency": "aggressive", "max_slippage_bps": 20});
    let (status, started) = api.call("POST", "/v1/deployments/mm/algos", TOKEN, Some(twap));
    assert_eq!(status, 201, "{started}");
    let id = started["id"].as_u64().unwrap();
    let done = api.wait("/v1/algos", "the TWAP done", |list| {
        list.as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id && a["state"] == "done")
    });
    let t = &algo(&api, id)["tca"];
    assert_eq!(t["filled"], 0.06, "{done}");
    assert_eq!(t["fill_ratio"], 1.0, "{t}");
    assert!(t["children"].as_u64().unwrap() >= 3, "{t}");
    // Taking at most 20 bps through the arrival mid, and paying the taker fee.
    let shortfall = t["shortfall_bps"].as_f64().unwrap();
    assert!(shortfall <= 20.0 + 1e-9, "{t}");
    assert!((t["fee_bps"].as_f64().unwrap() - 10.0).abs() < 1e-6, "{t}");
    assert_eq!(t["maker_share"], 0.0, "{t}");

    // A passive peg rests at the bid; the operator stops it, and its child is cancelled.
    let peg = json!({"symbol": "BTCUSDT", "side": "buy", "quantity": 0.01, "style": "peg",
        "duration_s": 60, "urgency": "passive"});
    let (status, started) = api.call("POST", "/v1/deployments/mm/algos", TOKEN, Some(peg));
    assert_eq!(status, 201, "{started}");
    let peg_id = started["id"].as_u64().unwrap();
    api.wait("/v1/algos", "the peg resting", |_| {
        algo(&api, peg_id)["working"].as_f64() > Some(0.0) || algo(&api, peg_id)["state"] == "done"
    });
    let (status, stopped) = api.call("DELETE", &format!("/v1/algos/{peg_id}"), TOKEN, None);
    if algo(&api, peg_id)["state"] != "done" {
        assert_eq!(
            (status, &stopped["cancelled"]),
            (200, &json!(true)),
            "{stopped}"
        );
        api.wait("/v1/algos", "the peg's child cancelled", |_| {
            algo(&api, peg_id)["working"] == 0.0
        });
        assert_eq!(algo(&api, peg_id)["state"], "cancelled");
    }
    let (status, _) = api.call("DELETE", &format!("/v1/algos/{peg_id}"), TOKEN, None);
    assert_eq!(status, 404);

    // Refusals name what is wrong.
    for (body, code, words) in [
        (
            json!({"symbol": "BTCUSDT", "side": "buy", "quantity": 1, "style": "swirl", "duration_s": 5}),
            400,
            "style",
        ),
        (
            json!({"symbol": "NOPE", "side": "buy", "quantity": 1, "style": "twap", "duration_s": 5}),
            400,
            "unknown symbol",
        ),
        (
            json!({"symbol": "BTCUSDT", "side": "buy", "quantity": 1, "style": "iceberg", "duration_s": 5}),
            400,
            "limit_price",
        ),
        (
            json!({"symbol": "BTCUSDT", "side": "buy", "quantity": 1, "style": "pov", "rate": 2, "duration_s": 5}),
            400,
            "rate",
        ),
        (
            json!({"symbol": "BTCUSDT", "side": "buy", "quantity": -1, "style": "twap", "duration_s": 5}),
            400,
            "quantity",
        ),
        (
            json!({"symbol": "BTCUSDT", "side": "buy", "quantity": 1, "style": "vwap", "duration_s": 5}),
            409,
            "candles",
        ),
    ] {
        let (status, answer) = api.call(
            "POST",
            "/v1/deployments/mm/algos",
            TOKEN,
            Some(body.clone()),
        );
        assert_eq!(status, code, "{body} -> {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(words),
            "{body} -> {answer}"
        );
    }
    let (status, _) = api.call("POST", "/v1/deployments/nobody/algos", TOKEN,
        Some(json!({"symbol": "BTCUSDT", "side": "buy", "quantity": 1, "style": "twap", "duration_s": 5})));
    assert_eq!(status, 404);

    // Removing a deployment stops its parents, and they still hear their children end. (A
    // peg capped at half the mid rests far below the market, where nothing fills it.)
    let mid = api.get("/v1/cost?symbol=BTCUSDT&side=buy&quantity=0.01", TOKEN)["mid"]
        .as_f64()
        .unwrap();
    let peg = json!({"symbol": "BTCUSDT", "side": "buy", "quantity": 0.01, "style": "peg",
        "duration_s": 60, "urgency": "passive", "limit_price": (mid / 2.0).round()});
    let (status, started) = api.call("POST", "/v1/deployments/mm/algos", TOKEN, Some(peg));
    assert_eq!(status, 201, "{started}");
    let id = started["id"].as_u64().unwrap();
    api.wait("/v1/algos", "the peg resting", |_| {
        algo(&api, id)["open_children"] == 1
    });
    let (status, removed) = api.call("DELETE", "/v1/deployments/mm", TOKEN, None);
    assert_eq!(status, 200, "{removed}");
    api.wait("/v1/algos", "the removed deployment's peg ended", |_| {
        let a = algo(&api, id);
        a["state"] == "cancelled" && a["open_children"] == 0
    });
}

/// Strategies start parent orders through the contract in a backtest of the real BTCUSDT
/// capture; the report carries each parent's cost analysis, and the children's fills are the
/// deployment's fills.
#[test]
fn a_backtest_reports_the_costs_of_the_parents_its_strategies_worked() {
    let (names, events) = common::btcusdt_capture();
    let budget = stratbox::risk::Budget {
        balances: [("USDT".to_string(), 100_000.0), ("BTC".to_string(), 1.0)].into(),
        ..stratbox::risk::Budget::unlimited(1.0)
    };
    let probe = |name: &str, urgency: &str| stratbox::backtest::Component {
        name: name.into(),
        bytes: common::guest("order-probe"),
        config: format!(
            r#"{{"orders": "algo twap buy 0.05 60000 6 {urgency} bps=30", "at": 200}}"#
        ),
        budget: budget.clone(),
    };
    let report = stratbox::backtest::run(
        stratbox::sandbox::Runtime::new(Default::default()).unwrap(),
        stratbox::backtest::Backtest {
            components: vec![probe("taker", "aggressive"), probe("maker", "passive")],
            symbols: &names,
            exchange_info: None,
            events: &events,
            execution: Default::default(),
            inference: None,
            features: None,
            signals: None,
            progress: false,
        },
    )
    .unwrap();
    assert_eq!(report.algos.len(), 2, "{:?}", report.algos);
    let of = |name: &str| report.algos.iter().find(|a| a.deployment == name).unwrap();
    let (taker, maker) = (of("taker"), of("maker"));
    assert_eq!(taker.tca.fill_ratio, 1.0, "{taker:?}");
    assert_eq!(taker.state, stratbox::execution::algo::AlgoState::Done);
    assert_eq!(taker.tca.maker_share, 0.0);
    assert!(taker.tca.shortfall_bps.unwrap() <= 30.0 + 1e-9, "{taker:?}");
    assert!(taker.tca.children >= 6, "{taker:?}");
    if maker.tca.filled > 0.0 {
        assert_eq!(maker.tca.maker_share, 1.0, "{maker:?}");
    }
    // The children's fills are the deployments' fills.
    let filled: f64 = report
        .fills
        .iter()
        .filter(|f| f.deployment == "taker")
        .map(|f| f.quantity.parse::<f64>().unwrap())
        .sum();
    assert!(
        (filled - taker.tca.filled).abs() < 1e-9,
        "{filled} vs {taker:?}"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert!(
        json["algos"][0]["tca"]["shortfall_bps"].is_number(),
        "{}",
        json["algos"]
    );
}
