//! Paper trading and backtests share one matching simulator: the service paper-trades a market
//! maker on the exchange simulator's live book while recording what its stream delivered; a
//! backtest of that recording gives the same fills.

mod common;

use common::service::*;
use common::*;
use std::process::Command;
use std::time::Duration;

/// Fills as the service stored them and as a backtest report has them: order, side, price,
/// quantity, fee, time.
type Fills = Vec<(i64, String, String, String, String, i64)>;

fn stored_fills(db: &std::path::Path, deployment: &str) -> Fills {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = stratbox::store::Store::open(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        store
            .fills(deployment)
            .await
            .unwrap()
            .into_iter()
            .map(|f| (f.order_id, f.side, f.price, f.quantity, f.fee, f.time_ms))
            .collect()
    })
}

#[test]
fn a_backtest_of_what_paper_trading_saw_gives_the_same_fills() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, addr) = start_exchange_sim("BTCUSDT");
    let capture = dir.path().join("capture.gz");
    let db = dir.path().join("db.sqlite");
    let config = market_maker_service(dir.path(), &addr, "record = \"capture.gz\"\n");
    let server = Server::start(&config);
    // Paper-trade until the market maker has traded a while.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        std::thread::sleep(Duration::from_secs(2));
        let list = server.run(&["list"]).1;
        if std::time::Instant::now() > deadline || stored_fills(&db, "mm").len() >= 40 {
            assert!(list.contains("mm"), "{list}");
            break;
        }
    }
    server.terminate();
    let rules = dir.path().join("exchange_info.json");
    let info = tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::get(format!("http://{addr}/api/v3/exchangeInfo"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    std::fs::write(&rules, info).unwrap();
    drop(sim);
    let paper = stored_fills(&db, "mm");
    assert!(
        paper.len() >= 10,
        "paper trading filled {} orders",
        paper.len()
    );

    let mm_config = dir.path().join("mm.json");
    std::fs::write(&mm_config, MM_CONFIG).unwrap();
    let budget = dir.path().join("budget.toml");
    std::fs::write(&budget, MM_BUDGET).unwrap();
    let report = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_stratbox"))
        .arg("backtest")
        .arg("--capture")
        .arg(&capture)
        .arg("--symbols")
        .arg(&rules)
        .arg("--strategy")
        .arg(guest_path("market-maker"))
        .arg("--config")
        .arg(&mm_config)
        .arg("--budget")
        .arg(&budget)
        .args(["--name", "mm", "--json", "--report"])
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let backtest: Fills = report["fills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap().to_string();
            (
                f["order_id"].as_i64().unwrap(),
                text("side"),
                text("price"),
                text("quantity"),
                text("fee"),
                f["time"].as_i64().unwrap(),
            )
        })
        .collect();
    // The service may have handled a few events after the last fill it stored before it was
    // stopped, and stored every fill: the backtest's fills are the paper fills.
    assert_eq!(backtest, paper, "same fills in the same order");
}
