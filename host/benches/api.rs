//! The operators' API under load and the exports it renders:
//!
//! 1. Latency of the API with 200 concurrent clients (each its own connection, one request
//!    after another) against a running service paper-trading the market maker on the
//!    simulator's live market: a mix of reads (deployments, the account's holdings, a page of
//!    fills, the risk report, an equity curve, the metrics) against `GET /v1/health` (no token,
//!    no engine, no store) measured the same way in the same run.
//! 2. `/metrics` rendered with 100 deployments (every family filled, 5 refusal rules each and
//!    10 feeds) against the same with 1 deployment.
//! 3. The dashboard's first render in Chromium (login to the deployments table with data)
//!    against loading its login page, when Playwright is installed.
//!
//! `cargo bench -p stratbox --bench api` (`API_CLIENTS`, `API_SECONDS` change the load).

#[path = "../../tests/common/mod.rs"]
mod common;

use common::service::{Server, TOKEN, market_maker_service, start_exchange_sim};
use std::time::{Duration, Instant};
use stratbox::monitor::{RejectionLabels, ServiceMetrics};

const READS: &[&str] = &[
    "/v1/deployments",
    "/v1/account",
    "/v1/deployments/mm/fills?limit=100",
    "/v1/risk",
    "/v1/deployments/mm/equity?limit=200",
    "/metrics",
];

#[path = "support/stats.rs"]
mod stats;
use stats::env_or;

/// Latencies of `clients` clients requesting `paths` in turn for `seconds`, after a second of
/// warm-up; (sorted latencies, requests per second, failures).
fn load(
    runtime: &tokio::runtime::Runtime,
    endpoint: &str,
    paths: &'static [&'static str],
    clients: usize,
    seconds: f64,
) -> (Vec<Duration>, f64, usize) {
    runtime.block_on(async {
        let warm = Instant::now() + Duration::from_secs(1);
        let end = warm + Duration::from_secs_f64(seconds);
        let mut tasks = Vec::new();
        for c in 0..clients {
            let endpoint = endpoint.to_string();
            tasks.push(tokio::spawn(async move {
                // One connection per client, as 200 dashboards or scrapers would hold.
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .unwrap();
                let (mut times, mut failed) = (Vec::new(), 0usize);
                let mut i = c;
                loop {
                    let now = Instant::now();
                    if now >= end {
                        break;
                    }
                    let path = paths[i % paths.len()];
                    i += 1;
                    let sent = http
                        .get(format!("{endpoint}{path}"))
                        .bearer_auth(TOKEN)
                        .send()
                        .await;
                    let ok = match sent {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    if now >= warm {
                        if ok {
                            times.push(now.elapsed());
                        } else {
                            failed += 1;
                        }
                    }
                }
                (times, failed)
            }));
        }
        let mut all = Vec::new();
        let mut failed = 0;
        for t in tasks {
            let (times, f) = t.await.unwrap();
            all.extend(times);
            failed += f;
        }
        all.sort();
        let rate = all.len() as f64 / seconds;
        (all, rate, failed)
    })
}

fn quantile(sorted: &[Duration], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

/// Median time of rendering `/metrics` with `deployments` deployments, in microseconds, and
/// the exposition's size.
fn render(deployments: usize) -> (f64, usize) {
    let metrics = ServiceMetrics::default();
    for d in 0..deployments {
        let label = ServiceMetrics::label(&format!("deployment-{d:03}"));
        metrics.events.get_or_create(&label).inc_by(1_000_000);
        let histogram = metrics.callback_seconds.get_or_create(&label);
        for k in 0..100 {
            histogram.observe(1e-6 * f64::from(k));
        }
        metrics.cpu_share.get_or_create(&label).set(0.01);
        metrics.orders.get_or_create(&label).inc_by(5_000);
        metrics.fills.get_or_create(&label).inc_by(4_000);
        for rule in [
            "max-position",
            "filter:LOT_SIZE",
            "trading-halted",
            "account:price-band",
            "max-orders-per-second",
        ] {
            metrics
                .rejections
                .get_or_create(&RejectionLabels {
                    deployment: label.deployment.clone(),
                    rule: rule.into(),
                })
                .inc();
        }
        for gauge in [
            &metrics.equity,
            &metrics.realized_pnl,
            &metrics.drawdown,
            &metrics.var,
            &metrics.gross_exposure,
        ] {
            gauge.get_or_create(&label).set(12_345.678);
        }
        metrics.trading_state.get_or_create(&label).set(0);
    }
    let feeds: Vec<_> = (0..10)
        .map(|i| (format!("SYM{i}USDT"), Default::default()))
        .collect();
    metrics.record_feeds(&feeds);
    let size = metrics.render().len();
    let mut times: Vec<f64> = (0..201)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(metrics.render());
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[100], size)
}

fn main() {
    // Criterion's harness flags (`--bench`) are not ours to read.
    let clients: usize = env_or("API_CLIENTS", 200);
    let seconds: f64 = env_or("API_SECONDS", 10.0);

    println!("== /metrics render (median of 201)");
    let (one, one_size) = render(1);
    let (hundred, hundred_size) = render(100);
    println!("  1 deployment:    {one:9.1} µs  ({one_size} bytes)");
    println!(
        "  100 deployments: {hundred:9.1} µs  ({hundred_size} bytes)  ratio {:.1}x",
        hundred / one
    );

    let dir = tempfile::tempdir().unwrap();
    let (_sim, addr) = start_exchange_sim("BTCUSDT");
    let config = market_maker_service(dir.path(), &addr, "");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "[store]\n",
        "rate_limit_per_second = 1e9\nrate_limit_burst = 1e9\n[store]\n",
    );
    std::fs::write(&config, text).unwrap();
    let server = Server::start(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // Let the market maker trade so the reads have rows to return.
    std::thread::sleep(Duration::from_secs(3));

    println!("== API, {clients} concurrent clients, {seconds} s each");
    let mut results = Vec::new();
    for (name, paths) in [
        ("GET /v1/health (baseline)", &["/v1/health"][..]),
        ("reads (mix of 6)", READS),
    ] {
        let paths: &'static [&'static str] = paths;
        let (times, rate, failed) = load(&runtime, &server.endpoint, paths, clients, seconds);
        let (p50, p99, max) = (
            quantile(&times, 0.5),
            quantile(&times, 0.99),
            quantile(&times, 1.0),
        );
        println!(
            "  {name:<28} p50 {p50:8.2} ms  p99 {p99:8.2} ms  max {max:8.2} ms  {rate:8.0} req/s  {failed} failed"
        );
        results.push((p50, p99));
    }
    println!(
        "  reads / baseline: p50 {:.2}x, p99 {:.2}x",
        results[1].0 / results[0].0,
        results[1].1 / results[0].1
    );
    for path in READS {
        let one: &'static [&'static str] = Box::leak(Box::new([*path]));
        let (times, rate, failed) = load(&runtime, &server.endpoint, one, clients, seconds / 2.0);
        println!(
            "  {path:<40} p50 {:8.2} ms  p99 {:8.2} ms  {rate:8.0} req/s  {failed} failed",
            quantile(&times, 0.5),
            quantile(&times, 0.99)
        );
    }

    let playwright = std::process::Command::new("python3")
        .args(["-c", "import playwright"])
        .status()
        .is_ok_and(|s| s.success());
    if playwright {
        println!("== dashboard in Chromium");
        let shots = dir.path().join("shots");
        let out = std::process::Command::new("python3")
            .arg(common::repo_root().join("tests/dashboard/check.py"))
            .args([&server.endpoint, TOKEN, "mm"])
            .arg(&shots)
            .output()
            .unwrap();
        let measured: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
                panic!("{}", String::from_utf8_lossy(&out.stderr));
            });
        let first = measured["first_render_ms"].as_f64().unwrap();
        let login = measured["login_page_ms"].as_f64().unwrap();
        println!("  login page load:        {login:8.1} ms (baseline)");
        println!(
            "  first render with data: {first:8.1} ms  ratio {:.1}x",
            first / login
        );
    }
}
