//! Trading states and the kill switch on a running service: the operator moves a deployment to
//! REDUCING, pulls the kill switch with flattening, the service is killed and restarted and
//! resumes in the states it stopped in, the operator sets trading going again and rebalances;
//! bad requests and a broken `[risk]` section are refused with what was wrong.

mod common;

use common::service::{Server, market_maker_service, start_exchange_sim};
use serde_json::Value;
use std::time::{Duration, Instant};

fn json(server: &Server, args: &[&str]) -> Value {
    let (ok, out) = server.run(args);
    assert!(ok, "{args:?}: {out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

/// Polls `list` until `pred` holds for deployment `mm`, for at most 20 s.
fn wait_for(server: &Server, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = json(server, &["list", "--json"]);
        let mm = list
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "mm")
            .cloned()
            .unwrap_or(Value::Null);
        if pred(&mm) {
            return mm;
        }
        assert!(Instant::now() < deadline, "waited 20 s for {what}: {mm}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn deployment<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {report}"))
}

#[test]
fn the_kill_switch_halts_the_account_and_the_states_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, addr) = start_exchange_sim("BTCUSDT");
    let config = market_maker_service(dir.path(), &addr, "");
    let server = Server::start(&config);
    wait_for(&server, "the market maker's quotes", |d| {
        d["open_orders"].as_u64().unwrap_or(0) > 0
    });

    let report = json(
        &server,
        &[
            "trading-state",
            "--name",
            "mm",
            "--set",
            "reducing",
            "--reason",
            "review",
            "--json",
        ],
    );
    assert_eq!(deployment(&report, "mm")["state"]["state"], "reducing");
    assert_eq!(deployment(&report, "mm")["state"]["reason"], "review");
    assert_eq!(report["account"]["state"], "active");

    let report = json(
        &server,
        &[
            "kill",
            "--flatten",
            "--max-slippage",
            "0.02",
            "--reason",
            "drill",
            "--json",
        ],
    );
    assert_eq!(report["account"]["state"], "halted");
    assert_eq!(report["account"]["reason"], "drill");
    assert!(report["cancelled"].is_u64(), "{report}");
    for f in report["flatten"].as_array().into_iter().flatten() {
        assert!(f["order_id"].is_u64(), "a closing order was refused: {f}");
    }
    // The guest keeps quoting; every new order is refused, so nothing stays open.
    wait_for(&server, "no open orders after the kill", |d| {
        d["open_orders"] == 0
    });
    std::thread::sleep(Duration::from_millis(500));
    let mm = wait_for(&server, "no open orders", |d| d["open_orders"] == 0);
    assert_eq!(
        mm["status"], "running",
        "the deployment itself keeps running: {mm}"
    );

    // A crash, then the same database: the states are as they were.
    server.kill();
    let server = Server::start(&config);
    let report = json(&server, &["trading-state", "--json"]);
    assert_eq!(report["account"]["state"], "halted", "{report}");
    assert_eq!(report["account"]["reason"], "drill");
    assert_eq!(deployment(&report, "mm")["state"]["state"], "reducing");
    std::thread::sleep(Duration::from_millis(1_000));
    wait_for(&server, "no open orders while halted", |d| {
        d["open_orders"] == 0
    });

    // The operator sets trading going again: quotes come back.
    json(&server, &["trading-state", "--set", "active", "--json"]);
    json(
        &server,
        &["trading-state", "--name", "mm", "--set", "active", "--json"],
    );
    wait_for(&server, "quotes again", |d| {
        d["open_orders"].as_u64().unwrap_or(0) > 0 && d["trading_state"] == "active"
    });

    // A rebalance to 5 % of equity in BTC: one market order for the difference.
    let report = json(
        &server,
        &[
            "rebalance",
            "--name",
            "mm",
            "--weights",
            "BTCUSDT=0.05",
            "--json",
        ],
    );
    let orders = report["rebalance"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "{report}");
    assert!(orders[0]["order_id"].is_u64(), "{report}");

    // Refusals name what was wrong.
    let (ok, out) = server.run(&["rebalance", "--name", "mm", "--weights", "BTCUSDT=1.5"]);
    assert!(!ok && out.contains("sum to at most 1"), "{out}");
    let (ok, out) = server.run(&["rebalance", "--name", "mm", "--weights", "DOGEUSDT=0.1"]);
    assert!(!ok && out.contains("unknown symbol \"DOGEUSDT\""), "{out}");
    let (ok, out) = server.run(&["trading-state", "--set", "paused"]);
    assert!(!ok && out.contains("not a trading state"), "{out}");
    let (ok, out) = server.run(&["kill", "--flatten", "--max-slippage", "2"]);
    assert!(!ok && out.contains("slippage cap"), "{out}");
    let (ok, out) = server.run(&["trading-state", "--name", "nobody", "--set", "halted"]);
    assert!(
        !ok && out.contains("no deployment named \"nobody\""),
        "{out}"
    );
    let (ok, out) = server.run_with_token(&["trading-state"], "wrong-token");
    assert!(!ok && out.contains("401"), "{out}");
    server.terminate();
}

#[test]
fn a_broken_risk_section_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.toml");
    let data = common::data_dir().join("BTC_1m_a.csv");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ntoken = \"{}\"\n[store]\nurl = \"sqlite://{}\"\n\
             [market]\nsource = \"replay\"\ndata = \"{}\"\nsymbol = \"BTCUSDT\"\n[risk]\nprice_band = 2\n",
            common::service::TOKEN,
            dir.path().join("db.sqlite").display(),
            data.display()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("risk.price_band = 2"), "{err}");
}

/// A position's protective stop keeps its state across a crash: the restarted service reports
/// the stop opened before it, not a new one.
#[test]
fn protective_stops_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, addr) = start_exchange_sim("BTCUSDT");
    let config = market_maker_service(dir.path(), &addr, "");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace(
        "max_daily_loss = 1000000 }",
        "max_daily_loss = 1000000, stops = { trailing = 0.5 } }",
    );
    assert!(text.contains("stops = "), "{text}");
    std::fs::write(&config, text).unwrap();
    let server = Server::start(&config);
    let deadline = Instant::now() + Duration::from_secs(30);
    // Wait for a position with a stop, then freeze it (every order cancelled, none accepted);
    // if a fill flattened it in between, let trading go on and try again.
    let mut stop = Value::Null;
    for _ in 0..5 {
        loop {
            let report = json(&server, &["trading-state", "--json"]);
            if deployment(&report, "mm")["stops"][0].is_object() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no position got a stop: {report}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let report = json(&server, &["kill", "--json"]);
        stop = deployment(&report, "mm")["stops"][0].clone();
        if stop.is_object() {
            break;
        }
        json(&server, &["trading-state", "--set", "active", "--json"]);
    }
    assert_eq!(stop["symbol"], "BTCUSDT", "{stop}");
    assert!(stop["level"].is_f64(), "{stop}");
    // A crash keeps what the journal has committed: wait until it has caught up (its backlog
    // seen empty), as a loaded machine's writer may lag the engine.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !runtime.block_on(async {
        let r = reqwest::Client::new()
            .get(format!("{}/metrics", server.endpoint))
            .bearer_auth(common::service::TOKEN)
            .send()
            .await
            .unwrap();
        r.text()
            .await
            .unwrap()
            .lines()
            .any(|l| l == "stratbox_journal_backlog_entries 0")
    }) {
        assert!(Instant::now() < deadline, "the journal never caught up");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    let server = Server::start(&config);
    std::thread::sleep(Duration::from_millis(300));
    let report = json(&server, &["trading-state", "--json"]);
    let after = &deployment(&report, "mm")["stops"][0];
    assert_eq!(after["opened_at"], stop["opened_at"], "{report}");
    assert_eq!(after["entry"], stop["entry"], "{report}");
    assert_eq!(after["long"], stop["long"], "{report}");
    server.terminate();
}

/// `/metrics` of a paper-trading service, parsed as Prometheus parses it: per deployment
/// events, callback latency, CPU share, orders, fills and rejections by rule, equity, PnL,
/// drawdown, VaR, exposure and trading state, and per symbol the feed's messages, lag and
/// reconnects; only with the token.
#[test]
fn the_service_exports_its_metrics_for_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, addr) = start_exchange_sim("BTCUSDT");
    let config = market_maker_service(dir.path(), &addr, "");
    let server = Server::start(&config);
    wait_for(&server, "fills", |d| {
        d["equity"].as_f64().is_some() && d["delivered"].as_u64().unwrap_or(0) > 50
    });
    // Refusals to count: the kill switch cancels the quotes, and the quotes the market maker
    // posts again are refused.
    json(&server, &["kill", "--json"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let get = |token: &str| {
        runtime.block_on(async {
            let r = reqwest::Client::new()
                .get(format!("{}/metrics", server.endpoint))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    assert_eq!(get("wrong").0, 401);
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let (status, text) = get(common::service::TOKEN);
        assert_eq!(status, 200, "{text}");
        // The refused quotes, and a bar since the kill to export the state.
        if text.contains("rule=\"trading-halted\"")
            && text.contains("stratbox_trading_state{deployment=\"mm\"} 2")
        {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "no refusal counted in 20 s:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("the exposition parses");
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let sample = scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("{name} {labels:?} in\n{text}"));
        match &sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            other => panic!("{name}: {other:?}"),
        }
    };
    let mm = [("deployment", "mm")];
    assert!(value("stratbox_events_total", &mm) > 50.0);
    assert!(value("stratbox_orders_total", &mm) > 0.0);
    assert!(
        value("stratbox_callback_duration_seconds", &mm) > 0.0,
        "a histogram with counts"
    );
    assert!(value("stratbox_cpu_share_ratio", &mm) < 0.2);
    assert!(value("stratbox_equity", &mm) > 0.0);
    assert_eq!(value("stratbox_trading_state", &mm), 2.0);
    assert!(
        value(
            "stratbox_rejections_total",
            &[("deployment", "mm"), ("rule", "trading-halted")]
        ) > 0.0
    );
    for name in [
        "stratbox_drawdown_ratio",
        "stratbox_var_ratio",
        "stratbox_gross_exposure",
        "stratbox_realized_pnl",
        "stratbox_unrealized_pnl",
    ] {
        value(name, &mm);
    }
    let btc = [("symbol", "BTCUSDT")];
    assert!(value("stratbox_feed_messages_total", &btc) > 0.0);
    value("stratbox_feed_lag_seconds", &btc);
    value("stratbox_feed_reconnects_total", &btc);
    assert!(value("stratbox_journal_backlog_entries", &[]) >= 0.0);
    assert_eq!(
        value("stratbox_inference_batches_total", &[]),
        0.0,
        "no models configured"
    );
    value("stratbox_inference_last_latency_seconds", &[]);
    server.terminate();
}
