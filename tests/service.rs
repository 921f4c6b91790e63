//! The service end to end: `stratbox serve` as a process with a SQLite file, driven by the
//! operator commands over its HTTP control endpoint; graceful shutdown on SIGTERM; a restart
//! restores deployments, their previous versions, halts and state.

mod common;

use common::service::*;
use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use stratbox::risk::Budget;
use stratbox::sandbox::Grants;

/// Writes a service configuration with `market` as its `[market]` table, and a risk budget,
/// into `dir`; returns their paths.
fn write_service_files(dir: &Path, market: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let db = format!("sqlite://{}", dir.join("db.sqlite").display());
    write_service_files_with_db(dir, market, &db)
}

/// As [`write_service_files`], with the store at `db_url`.
fn write_service_files_with_db(
    dir: &Path,
    market: &str,
    db_url: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let config = dir.join("serve.toml");
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n[store]\nurl = \"{db_url}\"\ncomponent_cache = \"components\"\n[market]\n{market}"
    );
    std::fs::write(&config, text).unwrap();
    let budget = dir.join("budget.toml");
    std::fs::write(
        &budget,
        "max_order_notional = 1000\nmax_position_notional = 2000\nmax_gross_exposure = 5000\nmax_orders_per_second = 5\nmax_daily_loss = 500\n",
    )
    .unwrap();
    (config, budget)
}

fn line_of<'a>(list: &'a str, name: &str) -> &'a str {
    list.lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("{name} not in:\n{list}"))
}

#[test]
fn operators_drive_a_running_service_and_a_restart_resumes_it() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bars.csv");
    let mut text = String::from("open_time_ms,open,high,low,close,volume\n");
    for b in bars(200_000) {
        text.push_str(&format!(
            "{},{},{},{},{},{}\n",
            b.open_time, b.open, b.high, b.low, b.close, b.volume
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let (config, budget) = write_service_files(
        dir.path(),
        "data = \"bars.csv\"\nsymbol = \"BTCUSDT\"\nbars_per_second = 500\n",
    );
    let counter = guest_path("counter");
    let empty = guest_path("empty");
    let (counter, empty, budget) = (
        counter.to_str().unwrap(),
        empty.to_str().unwrap(),
        budget.to_str().unwrap(),
    );

    let server = Server::start(&config);
    let (ok, out) = server.run(&["deploy", counter, "--name", "c", "--budget", budget]);
    assert!(ok, "{out}");
    assert!(line_of(&out, "c ").contains("running"), "{out}");
    let (ok, out) = server.run_with_token(&["list"], "wrong-token-000");
    assert!(!ok && out.contains("401"), "{out}");
    let (ok, out) = server.run(&["deploy", counter, "--name", "c", "--budget", budget]);
    assert!(!ok && out.contains("already exists"), "{out}");
    // A deployment granted one environment variable; grants that cannot be given are refused.
    let grants = dir.path().join("grants.toml");
    std::fs::write(&grants, "[env]\nSTRATBOX_GRANT = \"abc\"\n").unwrap();
    let bad_grants = dir.path().join("bad-grants.toml");
    std::fs::write(&bad_grants, "connect = [\"nowhere\"]\n").unwrap();
    let hostile = guest_path("hostile");
    let env_config = dir.path().join("env.json");
    std::fs::write(&env_config, r#"{"attack": "env", "on_bar": 1}"#).unwrap();
    let deploy_env = |grants: &Path| {
        server.run(&[
            "deploy",
            hostile.to_str().unwrap(),
            "--name",
            "e",
            "--budget",
            budget,
            "--config",
            env_config.to_str().unwrap(),
            "--grants",
            grants.to_str().unwrap(),
        ])
    };
    let (ok, out) = deploy_env(&bad_grants);
    assert!(
        !ok && out.contains("\"nowhere\" is not an address"),
        "{out}"
    );
    let (ok, out) = deploy_env(&grants);
    assert!(ok && line_of(&out, "e ").contains("running"), "{out}");

    let (ok, out) = server.run(&["swap", empty, "--name", "c"]);
    assert!(ok, "{out}");
    let (ok, out) = server.run(&["rollback", "--name", "c"]);
    assert!(ok, "{out}");
    let (ok, out) = server.run(&["swap", "/etc/hostname", "--name", "c"]);
    assert!(!ok && out.contains("not a WebAssembly file"), "{out}");
    std::thread::sleep(Duration::from_millis(300));
    let (ok, out) = server.run(&["halt", "--name", "c"]);
    assert!(
        ok && line_of(&out, "c ").contains("halted by the operator"),
        "{out}"
    );
    let (_, before) = server.run(&["list", "--json"]);
    server.terminate();

    // The restart restores the deployment, halted, with its rollback version and its state.
    let server = Server::start(&config);
    let (ok, after) = server.run(&["list", "--json"]);
    assert!(ok, "{after}");
    let parse = |s: &str| {
        serde_json::from_str::<serde_json::Value>(s).unwrap_or_else(|e| panic!("{e}: {s}"))
    };
    let (before, after) = (parse(&before), parse(&after));
    for field in ["name", "status", "reason", "hash", "previous_hash"] {
        assert_eq!(
            before[0][field], after[0][field],
            "{field} survives a restart"
        );
    }
    let (ok, out) = server.run(&["resume", "--name", "c"]);
    assert!(ok && line_of(&out, "c ").contains("running"), "{out}");
    server.terminate();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let state = runtime.block_on(async {
        let store = stratbox::store::Store::open(&format!(
            "sqlite://{}",
            dir.path().join("db.sqlite").display()
        ))
        .await
        .unwrap();
        let deployments = store.deployments().await.unwrap();
        let e = deployments.iter().find(|d| d.name == "e").unwrap();
        assert_eq!(
            e.grants.env.get("STRATBOX_GRANT").map(String::as_str),
            Some("abc"),
            "grants are persisted"
        );
        // Set on every bar, before and after the restart: the restored guest had its grant.
        let env_len = store
            .state("e")
            .await
            .unwrap()
            .get("env_len")
            .map(<[u8]>::to_vec);
        assert_eq!(env_len, Some(3u64.to_le_bytes().to_vec()));
        store.state("c").await.unwrap()
    });
    let count = u64::from_le_bytes(
        state
            .get("count")
            .expect("state persisted")
            .try_into()
            .unwrap(),
    );
    assert!(count > 0, "the counter's state was persisted");
}

#[test]
fn backtest_command_prints_a_summary_and_fails_when_the_strategy_is_halted() {
    let bin = env!("CARGO_BIN_EXE_stratbox");
    let data = data_dir().join("BTC_1m_a.csv");
    let out = Command::new(bin)
        .args(["backtest", "--data"])
        .arg(&data)
        .arg("--strategy")
        .arg(guest_path("sma-crossover"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for field in [
        "trades",
        "pnl",
        "return",
        "max drawdown",
        "sharpe",
        "win rate",
        "events         13681",
    ] {
        assert!(text.contains(field), "{field} missing from:\n{text}");
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hostile.json");
    std::fs::write(&config, r#"{"attack": "panic", "on_bar": 5}"#).unwrap();
    let out = Command::new(bin)
        .args(["backtest", "--data"])
        .arg(&data)
        .arg("--strategy")
        .arg(guest_path("hostile"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hostile halted: panicked"), "{err}");
}

/// `GET` of `path` on the service's control endpoint, as JSON.
fn get_json(endpoint: &str, path: &str) -> serde_json::Value {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::Client::new()
            .get(format!("{endpoint}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    })
}

#[test]
fn a_live_binance_feed_from_the_simulator_drives_deployed_strategies() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, addr) = start_exchange_sim("BTCUSDT");
    let (config, budget) = write_service_files(
        dir.path(),
        &format!(
            "source = \"binance\"\nrest = \"http://{addr}\"\nws = \"ws://{addr}\"\nsymbols = [\"BTCUSDT\"]\ninterval = \"1m\"\n"
        ),
    );
    let server = Server::start(&config);
    let (ok, out) = server.run(&[
        "deploy",
        guest_path("counter").to_str().unwrap(),
        "--name",
        "live",
        "--budget",
        budget.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    std::thread::sleep(Duration::from_secs(3));
    // The feed's counters are readable over the control endpoint.
    let feeds = get_json(&server.endpoint, "/v1/feeds");
    assert_eq!(feeds[0]["symbol"], "BTCUSDT", "{feeds}");
    assert!(feeds[0]["messages"].as_u64().unwrap() > 50, "{feeds}");
    assert_eq!(feeds[0]["malformed"], 0, "{feeds}");
    assert!(
        feeds[0]["lag_ms"].as_i64().unwrap().abs() < 5_000,
        "{feeds}"
    );
    // Operators stop and start following symbols while the service runs.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, body: Option<serde_json::Value>| {
        let mut request = http
            .request(method, format!("{}/v1/feeds{path}", server.endpoint))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        runtime.block_on(async {
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<serde_json::Value>().await.unwrap(),
            )
        })
    };
    let follow = |symbol: &str| Some(serde_json::json!({ "symbol": symbol }));
    let (code, body) = call(reqwest::Method::POST, "", follow("btcusdt"));
    assert_eq!(code, 409, "{body}");
    let (code, body) = call(reqwest::Method::POST, "", follow("NOPEUSDT"));
    assert!(
        code == 422
            && body["error"]
                .as_str()
                .unwrap()
                .contains("does not list NOPEUSDT"),
        "{body}"
    );
    let (code, body) = call(reqwest::Method::DELETE, "/BTCUSDT", None);
    assert_eq!(
        (code, body.as_array().map(Vec::len)),
        (200, Some(0)),
        "{body}"
    );
    let (code, body) = call(reqwest::Method::DELETE, "/BTCUSDT", None);
    assert_eq!(code, 404, "{body}");
    let (code, body) = call(reqwest::Method::POST, "", follow("BTCUSDT"));
    assert_eq!(
        (code, body[0]["symbol"].as_str()),
        (200, Some("BTCUSDT")),
        "{body}"
    );
    std::thread::sleep(Duration::from_secs(1));
    let (_, body) = call(reqwest::Method::GET, "", None);
    assert!(
        body[0]["messages"].as_u64().unwrap() > 0,
        "the new feed reads: {body}"
    );
    drop(runtime);
    server.terminate();
    drop(sim);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let state = runtime.block_on(async {
        let store = stratbox::store::Store::open(&format!(
            "sqlite://{}",
            dir.path().join("db.sqlite").display()
        ))
        .await
        .unwrap();
        store.state("live").await.unwrap()
    });
    let u64_of = |k: &str| {
        state
            .get(k)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    let f64_of = |k: &str| {
        state
            .get(k)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
    };
    assert!(
        u64_of("count").unwrap_or(0) > 50,
        "bars from the live feed reached the strategy: {:?}",
        u64_of("count")
    );
    assert_eq!(u64_of("anomalies"), None, "no bar lost or repeated");
    assert!(
        u64_of("books").unwrap_or(0) > 10,
        "book updates reached the strategy"
    );
    let (bid, ask) = (f64_of("bid").unwrap(), f64_of("ask").unwrap());
    assert!(
        bid > 0.0 && bid < ask,
        "the strategy read the live top of book: {bid} / {ask}"
    );
}

#[test]
fn live_feeds_of_many_symbols_share_one_connection() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, addr) = start_exchange_sim("BTCUSDT,ETHUSDT,LTCUSDT");
    let (config, _) = write_service_files(
        dir.path(),
        &format!(
            "source = \"binance\"\nrest = \"http://{addr}\"\nws = \"ws://{addr}\"\nsymbols = [\"BTCUSDT\", \"ETHUSDT\"]\ninterval = \"1m\"\n"
        ),
    );
    let server = Server::start(&config);
    std::thread::sleep(Duration::from_secs(2));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let follow = |symbol: &str| {
        runtime.block_on(async {
            reqwest::Client::new()
                .post(format!("{}/v1/feeds", server.endpoint))
                .bearer_auth(TOKEN)
                .json(&serde_json::json!({ "symbol": symbol }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    assert_eq!(follow("LTCUSDT"), 200);
    std::thread::sleep(Duration::from_secs(1));
    let feeds = get_json(&server.endpoint, "/v1/feeds");
    let symbols: Vec<&str> = feeds
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["BTCUSDT", "ETHUSDT", "LTCUSDT"], "{feeds}");
    for feed in feeds.as_array().unwrap() {
        assert!(feed["messages"].as_u64().unwrap() > 10, "{feeds}");
        assert_eq!(feed["malformed"], 0, "{feeds}");
    }
    // Kline, depth and aggregate trades for each: nine streams on one connection.
    let connections = get_json(&server.endpoint, "/v1/feeds/connections");
    assert_eq!(connections.as_array().unwrap().len(), 1, "{connections}");
    assert_eq!(connections[0]["symbols"], 3, "{connections}");
    assert_eq!(connections[0]["streams"], 9, "{connections}");
    assert_eq!(connections[0]["reconnects"], 0, "{connections}");
    assert!(
        connections[0]["messages"].as_u64().unwrap() > 30,
        "{connections}"
    );
    drop(runtime);
    server.terminate();
    drop(sim);
}

#[test]
fn the_service_store_runs_on_postgresql_and_a_restart_resumes_from_it() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A schema of its own, so runs never see each other's deployments.
    let schema = runtime.block_on(common::PgSchema::create("stratbox_t"));
    let url = schema.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bars.csv");
    let mut text = String::from("open_time_ms,open,high,low,close,volume\n");
    for b in bars(100_000) {
        text.push_str(&format!(
            "{},{},{},{},{},{}\n",
            b.open_time, b.open, b.high, b.low, b.close, b.volume
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let (config, budget) = write_service_files_with_db(
        dir.path(),
        "data = \"bars.csv\"\nsymbol = \"BTCUSDT\"\nbars_per_second = 500\n",
        &url,
    );
    let counter = guest_path("counter");
    let server = Server::start(&config);
    let (ok, out) = server.run(&[
        "deploy",
        counter.to_str().unwrap(),
        "--name",
        "pg",
        "--budget",
        budget.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    std::thread::sleep(Duration::from_millis(500));
    let (ok, out) = server.run(&["halt", "--name", "pg"]);
    assert!(ok, "{out}");
    let (_, before) = server.run(&["list", "--json"]);
    server.terminate();

    let server = Server::start(&config);
    let (ok, after) = server.run(&["list", "--json"]);
    assert!(ok, "{after}");
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
    let (before, after) = (parse(&before), parse(&after));
    for field in ["name", "status", "reason", "hash"] {
        assert_eq!(
            before[0][field], after[0][field],
            "{field} survives a restart"
        );
    }
    server.terminate();

    let count = runtime.block_on(async {
        let store = stratbox::store::Store::open(&url).await.unwrap();
        let state = store.state("pg").await.unwrap();
        state
            .get("count")
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    });
    assert!(
        count.unwrap_or(0) > 0,
        "the counter's state is in PostgreSQL"
    );
    runtime.block_on(schema.drop_all());
}

#[test]
fn a_service_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let err = runtime.block_on(async {
        drop(stratbox::store::Store::open(&url).await.unwrap());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::raw_sql("INSERT INTO stratbox_migrations (version, applied_at_ms) VALUES (42, 0)")
            .execute(&pool)
            .await
            .unwrap();
        stratbox::store::Store::open(&url)
            .await
            .unwrap_err()
            .to_string()
    });
    assert!(
        err.contains("schema version 42") && err.contains("knows (10)"),
        "{err}"
    );
}

#[test]
fn a_service_database_of_the_first_schema_is_migrated_and_keeps_its_deployments_and_fills() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        drop(stratbox::store::Store::open(&url).await.unwrap());
        // Back to schema 1, with a deployment and a fill stored by it.
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let budget = serde_json::to_string(&Budget::unlimited(1e6)).unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP TABLE order_events; DROP TABLE orders; DROP TABLE balances; DROP TABLE positions;
             DROP INDEX fills_by_trade;
             ALTER TABLE fills DROP COLUMN trade_id;
             ALTER TABLE fills DROP COLUMN quote_quantity;
             ALTER TABLE fills DROP COLUMN liquidity;
             ALTER TABLE deployments DROP COLUMN grants;
             DELETE FROM stratbox_migrations WHERE version IN (2, 3);
             INSERT INTO components (hash, bytes, created_at_ms) VALUES ('h', x'00', 0);
             INSERT INTO deployments (name, position, world, hash, config, budget, updated_at_ms)
               VALUES ('old', 1, 'strategy', 'h', '{{}}', '{budget}', 0);
             INSERT INTO fills (deployment, order_id, client_id, symbol, side, price, quantity, fee, status, time_ms)
               VALUES ('old', 7, 1, 'BTCUSDT', 'buy', '100', '0.5', '0.05', 'filled', 1000);"
        )))
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let store = stratbox::store::Store::open(&url).await.unwrap();
        let deployments = store.deployments().await.unwrap();
        assert_eq!(deployments.len(), 1);
        assert_eq!(deployments[0].name, "old");
        assert_eq!(deployments[0].grants, Grants::default(), "granted nothing");
        let fills = store.fills("old").await.unwrap();
        assert_eq!(fills.len(), 1, "the old fill is kept");
        assert_eq!((fills[0].order_id, fills[0].trade_id), (7, 0), "no trade id before schema 3");
        assert_eq!(store.next_ids().await.unwrap(), (8, 1));
    });
}
