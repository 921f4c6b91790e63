//! The service under a long, faulty day, compressed: the simulator's live feed dropping
//! connections, skipping book updates and sending garbage; a hot swap every second; API
//! traffic throughout. Afterwards: no bar lost or repeated through any swap, every request
//! answered, memory flat. `STRATBOX_SOAK_SECONDS` sets the length (90 s by default; longer runs
//! by hand).

mod common;

use base64::Engine as _;
use common::service::{MM_BUDGET, MM_CONFIG, Process, Server, TOKEN};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_faulty_feed_hot_swaps_and_traffic_lose_nothing_and_memory_stays_flat() {
    let seconds: u64 = std::env::var("STRATBOX_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(90);
    let mut sim = std::process::Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .args([
            "exchange-sim",
            "--listen",
            "127.0.0.1:0",
            "--symbol",
            "BTCUSDT",
            "--interval",
            "1m",
            "--candles",
            "200000",
            "--bars-per-second",
            "20",
            "--book-ms",
            "50",
            "--faults",
            "drop=1000,skip=300,garbage=150,malformed=40",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let addr = common::announced(&mut sim, "exchange-sim listening on http://");
    let _sim = Process(sim);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\nrate_limit_per_second = 1000\nrate_limit_burst = 1000\n\
             [store]\nurl = \"sqlite://{}\"\ncomponent_cache = \"components\"\n\
             [market]\nsource = \"binance\"\nrest = \"http://{addr}\"\nws = \"ws://{addr}\"\n\
             symbols = [\"BTCUSDT\"]\ninterval = \"1m\"\n\
             [[deploy]]\nname = \"mm\"\ncomponent = \"{}\"\nconfig = '{MM_CONFIG}'\nbudget = {{ {} }}\n\
             [[deploy]]\nname = \"ctr\"\ncomponent = \"{}\"\nconfig = '{{\"version\": 1}}'\nbudget = {{ capital = 1000, max_order_notional = 100, max_position_notional = 100, max_gross_exposure = 1000, max_orders_per_second = 1, max_daily_loss = 100 }}\n",
            dir.path().join("db.sqlite").display(),
            common::guest_path("market-maker").display(),
            MM_BUDGET.trim().replace('\n', ", "),
            common::guest_path("counter").display(),
        ),
    )
    .unwrap();
    let server = Server::start(&config);
    let pid = server.child.id();
    let endpoint = server.endpoint.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // API traffic on its own thread: reads in turn, each must answer 200.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let (stop, http, endpoint) = (stop.clone(), http.clone(), endpoint.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            let paths = [
                "/v1/deployments",
                "/v1/account",
                "/v1/deployments/mm/fills?limit=50",
                "/v1/risk",
                "/metrics",
                "/v1/alerts",
                "/v1/ready",
            ];
            let (mut requests, mut failures, mut slowest) = (0u64, Vec::new(), Duration::ZERO);
            while !stop.load(Ordering::Relaxed) {
                let path = paths[requests as usize % paths.len()];
                let started = Instant::now();
                let status = runtime.block_on(async {
                    http.get(format!("{endpoint}{path}"))
                        .bearer_auth(TOKEN)
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                });
                slowest = slowest.max(started.elapsed());
                match status {
                    Ok(200) => {}
                    // Readiness may say 503 while a feed reconnects; it answered.
                    Ok(503) if path == "/v1/ready" => {}
                    other => failures.push(format!("{path}: {other:?}")),
                }
                requests += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            (requests, failures, slowest)
        })
    };

    // A hot swap of the counter every second, its version alternating; memory sampled.
    let counter = base64::engine::general_purpose::STANDARD.encode(common::guest("counter"));
    let started = Instant::now();
    let (mut swaps, mut rss) = (0u64, Vec::new());
    while started.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_secs(1));
        let version = swaps % 2 + 1;
        let body = serde_json::json!({
            "component": counter,
            "config": format!("{{\"version\": {version}}}"),
        });
        let status = runtime.block_on(async {
            http.post(format!("{endpoint}/v1/deployments/ctr/swap"))
                .bearer_auth(TOKEN)
                .json(&body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
        assert_eq!(status.ok(), Some(200), "swap {swaps}");
        swaps += 1;
        rss.push(rss_kib(pid));
    }
    stop.store(true, Ordering::Relaxed);
    let (requests, failures, slowest) = traffic.join().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {requests} failed: {failures:?}",
        failures.len()
    );
    assert!(requests > seconds * 10, "{requests} requests");
    assert!(
        slowest < Duration::from_secs(3),
        "slowest answer {slowest:?}"
    );

    // The faults happened: the feed reconnected and resynchronised its book.
    let read = |path: &str| -> Value {
        runtime.block_on(async {
            http.get(format!("{endpoint}{path}"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    };
    let feeds = read("/v1/feeds");
    assert!(feeds[0]["reconnects"].as_u64().unwrap() > 0, "{feeds}");
    assert!(feeds[0]["resyncs"].as_u64().unwrap() > 0, "{feeds}");
    // Garbage names no stream: the connection counts it.
    let connections = read("/v1/feeds/connections");
    assert!(
        connections[0]["malformed"].as_u64().unwrap() > 0,
        "{connections}"
    );

    // Memory: after the first quarter (caches warm), the last sample is within 25 % + 16 MiB of
    // the smallest since.
    let settled = &rss[rss.len() / 4..];
    let floor = *settled.iter().min().unwrap();
    let last = *settled.last().unwrap();
    assert!(
        last <= floor + floor / 4 + 16 * 1024,
        "resident memory grew from {floor} KiB to {last} KiB: {rss:?}"
    );

    // No bar lost or repeated by the counter through the swaps; both versions ran.
    server.terminate();
    let state = runtime.block_on(async {
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let store = stratbox::store::Store::open(&url).await.unwrap();
        store.state("ctr").await.unwrap()
    });
    let get = |key: &str| {
        state
            .get(key)
            .map(|v| u64::from_le_bytes(v.try_into().unwrap()))
            .unwrap_or(0)
    };
    assert_eq!(get("anomalies"), 0, "bars lost or repeated");
    assert!(
        get("count") > seconds * 5,
        "{} bars in {seconds} s",
        get("count")
    );
    assert!(
        get("v1") > 0 && get("v2") > 0,
        "v1 {} v2 {}",
        get("v1"),
        get("v2")
    );
    assert_eq!(get("count"), get("v1") + get("v2"));
    println!(
        "soak: {seconds} s, {swaps} swaps, {requests} requests (slowest {slowest:?}), {} bars, rss {floor}..{last} KiB",
        get("count")
    );
}
