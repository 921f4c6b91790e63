//! The contract check: a component that does not match a world is rejected with an error that
//! names what is missing or wrong, through the library and through `stratbox check`.

mod common;

use common::*;
use std::process::Command;
use stratbox::engine::DeployError;
use stratbox::risk::Budget;
use stratbox::sandbox::check::Contract;
use stratbox::sandbox::{CheckError, Runtime, SandboxError, SandboxLimits, StateStore, World};

fn compile(name: &str) -> Result<World, SandboxError> {
    let runtime = Runtime::new(SandboxLimits::default()).unwrap();
    runtime.compile(&guest(name)).map(|c| c.report.world)
}

#[test]
fn example_guests_implement_their_worlds() {
    for name in ["sma-crossover", "bollinger-reversion", "donchian-breakout"] {
        assert_eq!(compile(name).unwrap(), World::Strategy, "{name}");
    }
    assert_eq!(
        compile("confidence-optimizer").unwrap(),
        World::SignalOptimizer
    );
}

#[test]
fn missing_exports_are_named() {
    match compile("wrong-exports") {
        Err(SandboxError::WorldMismatch(CheckError::MissingExports {
            world,
            contract,
            missing,
        })) => {
            assert_eq!((world, contract), (World::Strategy, Contract::CURRENT));
            assert_eq!(
                missing,
                [
                    "on-trade",
                    "on-book",
                    "on-order-update",
                    "on-signal",
                    "on-timer"
                ]
            );
        }
        other => panic!(
            "expected missing exports, got {:?}",
            other.map_err(|e| e.to_string())
        ),
    }
}

#[test]
fn a_mistyped_export_is_named() {
    let err = compile("wrong-types").unwrap_err().to_string();
    assert!(
        err.contains("strategy world") && err.contains("on-bar"),
        "{err}"
    );
}

#[test]
fn files_that_are_not_components_are_rejected_clearly() {
    let runtime = Runtime::new(SandboxLimits::default()).unwrap();
    let err = runtime
        .compile(b"{\"not\": \"wasm\"}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("\\0asm header"), "{err}");
    let core_module = [0, b'a', b's', b'm', 1, 0, 0, 0];
    let err = runtime.compile(&core_module).unwrap_err().to_string();
    assert!(
        err.contains("core WebAssembly module, not a component"),
        "{err}"
    );
}

#[test]
fn a_swap_may_not_change_the_world() {
    let mut engine = engine(SandboxLimits::default());
    deploy(&mut engine, "s", "counter", "{}");
    let inputs = engine.prepare_existing("s").unwrap();
    let prepared = inputs
        .prepare(guest("confidence-optimizer"), "{}".into())
        .unwrap();
    match engine.install_version(prepared, false) {
        Err(DeployError::WorldChanged {
            running: World::Strategy,
            offered: World::SignalOptimizer,
            ..
        }) => {}
        other => panic!(
            "expected a world change error, got {:?}",
            other.map_err(|e| e.to_string())
        ),
    }
}

#[test]
fn init_errors_and_bad_names_are_reported() {
    let mut engine = engine(SandboxLimits::default());
    let err = engine
        .deploy(
            "s",
            guest("sma-crossover"),
            r#"{"fast": 30, "slow": 10}"#.into(),
            Budget::unlimited(1.0),
            StateStore::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("init refused") && err.contains("fast < slow"),
        "{err}"
    );
    let err = engine
        .deploy(
            "bad name!",
            guest("counter"),
            "{}".into(),
            Budget::unlimited(1.0),
            StateStore::default(),
        )
        .unwrap_err();
    assert!(matches!(err, DeployError::BadName(_)), "{err}");
}

#[test]
fn check_command_reports_the_world_or_the_mismatch() {
    let bin = env!("CARGO_BIN_EXE_stratbox");
    let ok = Command::new(bin)
        .arg("check")
        .arg(guest_path("confidence-optimizer"))
        .output()
        .unwrap();
    assert!(ok.status.success());
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        out.contains("signal-optimizer") && out.contains("exports:") && out.contains("optimize"),
        "{out}"
    );
    let bad = Command::new(bin)
        .arg("check")
        .arg(guest_path("wrong-exports"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("does not export on-trade"), "{err}");
}

/// Fills of every deployment, in order, by owner.
fn fills_by_owner(recorder: &stratbox::backtest::UpdateRecorder) -> Vec<(String, String)> {
    recorder
        .fills()
        .iter()
        .map(|f| {
            (
                f.owner.to_string(),
                format!(
                    "{:?} {}@{} fee {} t={}",
                    f.side, f.quantity, f.price, f.fee, f.time
                ),
            )
        })
        .collect()
}

/// Deploys `deployments` (name, component, configuration) on one engine with the same budget,
/// runs 4,000 real one-minute candles through them, and returns the engine and each owner's
/// fills.
fn side_by_side(
    runtime: std::sync::Arc<Runtime>,
    deployments: Vec<(&str, std::sync::Arc<[u8]>, &str)>,
) -> (
    stratbox::engine::Engine,
    std::collections::BTreeMap<String, Vec<String>>,
) {
    let recorder = std::sync::Arc::new(stratbox::backtest::UpdateRecorder::default());
    let mut engine = stratbox::engine::Engine::new(
        runtime,
        recorder.clone(),
        Box::new(stratbox::execution::venues::BarVenue::new(
            Default::default(),
        )),
    );
    let symbol = engine.market().write().unwrap().add_symbol("ETHBTC");
    let budget = Budget {
        capital: 1.0,
        ..Budget::unlimited(1.0)
    };
    for (name, bytes, config) in deployments {
        engine
            .deploy(
                name,
                bytes,
                config.into(),
                budget.clone(),
                StateStore::default(),
            )
            .unwrap();
    }
    let bars =
        stratbox::feeds::replay::read_candles(&data_dir().join("BTC_1m_a.csv"), symbol, None)
            .unwrap();
    for bar in &bars[..4000] {
        engine.handle(&stratbox::feeds::MarketEvent::Bar(*bar));
    }
    let mut fills: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (owner, fill) in fills_by_owner(&recorder) {
        fills.entry(owner).or_default().push(fill);
    }
    (engine, fills)
}

#[test]
fn components_built_against_0_1_keep_deploying_and_trade_like_their_0_2_builds() {
    let runtime = Runtime::new(SandboxLimits::default()).unwrap();
    for name in [
        "sma-crossover",
        "bollinger-reversion",
        "donchian-breakout",
        "model-follower",
        "budget-probe",
        "counter",
    ] {
        let report = runtime.compile(&v0_1_guest(name)).unwrap().report.clone();
        assert_eq!(
            (report.world, report.contract),
            (World::Strategy, Contract::V0_1),
            "{name}"
        );
        assert!(
            report.imports.iter().any(|i| i.ends_with("@0.1.0")),
            "{name}"
        );
    }
    let optimizer = runtime
        .compile(&v0_1_guest("confidence-optimizer"))
        .unwrap();
    assert_eq!(optimizer.report.world, World::SignalOptimizer);
    assert_eq!(
        runtime
            .compile(&guest("sma-crossover"))
            .unwrap()
            .report
            .contract,
        Contract::V0_2
    );

    // The same strategy built on either SDK, side by side on real candles: the same orders,
    // balances, filters and fills.
    let sma = r#"{"fast": 10, "slow": 30, "quantity": 100}"#;
    let bb = r#"{"period": 20, "width": 2.0, "quantity": 100}"#;
    let (engine, fills) = side_by_side(
        runtime,
        vec![
            ("v01", v0_1_guest("sma-crossover"), sma),
            ("v02", guest("sma-crossover"), sma),
            ("bb01", v0_1_guest("bollinger-reversion"), bb),
            ("bb02", guest("bollinger-reversion"), bb),
        ],
    );
    let of = |owner: &str| fills.get(owner).cloned().unwrap_or_default();
    assert!(
        of("v02").len() > 20,
        "the strategy traded: {}",
        of("v02").len()
    );
    assert_eq!(of("v01"), of("v02"));
    assert!(!of("bb02").is_empty());
    assert_eq!(of("bb01"), of("bb02"));
    for d in engine.list() {
        assert_eq!(d.status, stratbox::engine::Status::Running, "{}", d.name);
    }
    assert_eq!(engine.equity("v01").unwrap(), engine.equity("v02").unwrap());
}

#[test]
fn a_0_1_optimizer_filters_the_signals_of_0_2_strategies() {
    let mut engine = engine(SandboxLimits::default());
    deploy(
        &mut engine,
        "emitter",
        "bollinger-reversion",
        r#"{"period": 5, "width": 0.5, "quantity": 1}"#,
    );
    engine
        .deploy(
            "optimizer",
            v0_1_guest("confidence-optimizer"),
            r#"{"min_strength": 0.0}"#.into(),
            Budget::unlimited(1.0),
            StateStore::default(),
        )
        .unwrap();
    engine
        .deploy(
            "listener",
            v0_1_guest("counter"),
            "{}".into(),
            Budget::unlimited(1.0),
            StateStore::default(),
        )
        .unwrap();
    for bar in bars(500) {
        engine.handle(&stratbox::feeds::MarketEvent::Bar(bar));
    }
    assert!(state_u64(&engine, "listener", "signals").unwrap_or(0) > 0);
    assert!(
        engine
            .list()
            .iter()
            .all(|d| d.status == stratbox::engine::Status::Running)
    );
}

/// Components built by an older 0.2.x SDK (`old`, whose imports end with `@{version}`) link
/// to the current host through wasmtime's semver-aware linker and trade exactly like their
/// current builds (whose imports are all 0.2.4).
fn older_builds_trade_like_current_ones(version: &str) {
    let old = |name: &str| older_guest(version, name);
    let runtime = Runtime::new(SandboxLimits::default()).unwrap();
    for name in [
        "sma-crossover",
        "market-maker",
        "counter",
        "confidence-optimizer",
    ] {
        let report = runtime.compile(&old(name)).unwrap().report.clone();
        assert_eq!(report.contract, Contract::V0_2, "{name}");
        let suffix = format!("@{version}");
        assert!(
            report.imports.iter().any(|i| i.ends_with(&suffix)),
            "{name}: {:?}",
            report.imports
        );
        let current = runtime.compile(&guest(name)).unwrap().report.clone();
        assert!(
            current
                .imports
                .iter()
                .all(|i| !i.contains("stratbox:strategy") || i.ends_with("@0.2.4")),
            "{name}: {:?}",
            current.imports
        );
    }
    let sma = r#"{"fast": 10, "slow": 30, "quantity": 100}"#;
    let (engine, fills) = side_by_side(
        runtime,
        vec![
            ("old", old("sma-crossover"), sma),
            ("current", guest("sma-crossover"), sma),
        ],
    );
    let of = |owner: &str| fills.get(owner).cloned().unwrap_or_default();
    assert!(
        of("current").len() > 20,
        "the strategy traded: {}",
        of("current").len()
    );
    assert_eq!(of("old"), of("current"));
    assert_eq!(
        engine.equity("old").unwrap(),
        engine.equity("current").unwrap()
    );
}

/// Components built against 0.2.0 (before the `risk` interface).
#[test]
fn components_built_against_0_2_0_keep_deploying_and_trade_like_their_current_builds() {
    older_builds_trade_like_current_ones("0.2.0");
}

/// Components built against 0.2.1 (before the `execution` interface).
#[test]
fn components_built_against_0_2_1_keep_deploying_and_trade_like_their_current_builds() {
    older_builds_trade_like_current_ones("0.2.1");
}

/// Components built against 0.2.2 (before the `conditions` interface).
#[test]
fn components_built_against_0_2_2_keep_deploying_and_trade_like_their_current_builds() {
    older_builds_trade_like_current_ones("0.2.2");
}

/// Components built against 0.2.3 (before `orders.submit-at` and `execution.start-at`).
#[test]
fn components_built_against_0_2_3_keep_deploying_and_trade_like_their_current_builds() {
    older_builds_trade_like_current_ones("0.2.3");
}

/// With two venues behind the router, a 0.2.4 guest lists them, sends an order to the one it
/// names (which charges less: its fill's fee says where it went), keeps a replacement at the
/// order's venue, and is refused, with the names it may use, for a venue the host does not
/// have, for orders and parents alike; orders that name none go to the first.
#[test]
fn a_guest_sends_orders_to_the_venue_it_names() {
    use stratbox::execution::route::{Leg, Router, books::LegBooks};
    use stratbox::execution::venues::{BarFillConfig, BarVenue};
    let leg = |name: &str, fee: &str| Leg {
        name: name.into(),
        venue: Box::new(BarVenue::new(BarFillConfig {
            fees: stratbox::model::FeeRates {
                maker: fee.parse().unwrap(),
                taker: fee.parse().unwrap(),
            },
            ..BarFillConfig::default()
        })),
        books: std::sync::Arc::new(LegBooks::new(
            "http://127.0.0.1:9",
            "ws://127.0.0.1:9",
            None,
            None,
        )),
    };
    let router = Router::new(vec![leg("dear", "0.001"), leg("cheap", "0.0002")]).unwrap();
    let mut engine = stratbox::engine::Engine::new(
        Runtime::new(SandboxLimits::default()).unwrap(),
        std::sync::Arc::new(stratbox::journal::NullJournal),
        Box::new(router),
    );
    engine.market().write().unwrap().add_symbol("BTCUSDT");
    let actions = "venues; at cheap limit buy 1 50; replace 1 limit buy 1 60; market buy 1; \
                   at cheap market buy 1; at nowhere market buy 1; \
                   algoat nowhere twap buy 1 60000 1 aggressive";
    engine
        .deploy(
            "probe",
            guest("order-probe"),
            serde_json::json!({"orders": actions, "at": 2}).to_string(),
            Budget::unlimited(1e6),
            StateStore::default(),
        )
        .unwrap();
    for bar in bars(5) {
        engine.handle(&stratbox::feeds::MarketEvent::Bar(bar));
    }
    let state = engine.state("probe").unwrap();
    let text = |key: &str| String::from_utf8(state.get(key).unwrap_or_default().to_vec()).unwrap();
    assert_eq!(text("submit0"), "ok dear,cheap");
    for i in 1..=4 {
        assert!(
            text(&format!("submit{i}")).starts_with("ok "),
            "{}",
            text(&format!("submit{i}"))
        );
    }
    assert_eq!(
        text("submit5"),
        r#"err InvalidOrder: venue "nowhere": use one of ["dear", "cheap"]"#
    );
    assert_eq!(
        text("submit6"),
        r#"err venue "nowhere": use one of ["dear", "cheap"]"#
    );
    // Fills: the plain market buy at the first venue's 0.1 %, the one at `cheap` at 0.02 %;
    // the replaced limit buy (at 60, under the market) rests at `cheap`.
    let fees: Vec<f64> = text("log")
        .lines()
        .filter_map(|l| l.split(" fee ").nth(1)?.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(fees.len(), 2, "{}", text("log"));
    let ratio = fees[0] / fees[1];
    assert!((ratio - 5.0).abs() < 0.1, "fees {fees:?}: {}", text("log"));
    let orders = engine.orders().lock().unwrap();
    let open: Vec<u32> = orders
        .account(stratbox::model::DeploymentId(0))
        .unwrap()
        .open_orders()
        .map(|o| o.request.venue)
        .collect();
    assert_eq!(open, [stratbox::execution::route::venue_tag("cheap")]);
}

/// A 0.2.2 guest starts a TWAP through `execution`, follows it to the end, and never hears of
/// its children; a malformed parent is refused with the reason.
#[test]
fn a_guest_works_a_parent_order_through_execution() {
    let mut engine = engine(SandboxLimits::default());
    engine
        .deploy(
            "probe",
            guest("order-probe"),
            r#"{"orders": "algo twap buy 3 240000 4 aggressive bps=500; algo pov buy 1 1000 2", "at": 2}"#
                .into(),
            Budget::unlimited(1e6),
            StateStore::default(),
        )
        .unwrap();
    for bar in bars(10) {
        engine.handle(&stratbox::feeds::MarketEvent::Bar(bar));
    }
    let state = engine.state("probe").unwrap();
    let text = |key: &str| String::from_utf8(state.get(key).unwrap_or_default().to_vec()).unwrap();
    assert!(text("submit0").starts_with("ok "), "{}", text("submit0"));
    // The guest passes a POV of rate 2 on; the host refuses it, saying why.
    assert_eq!(
        text("submit1"),
        "err rate 2 must be above 0 and below 1",
        "{}",
        text("submit1")
    );
    let status = text("algo0");
    let words: Vec<&str> = status.split(' ').collect();
    assert_eq!(&words[..3], ["Done", "3", "4"], "{status}");
    assert!(
        words[3].parse::<f64>().is_ok(),
        "a shortfall against the arrival mid: {status}"
    );
    // Its four children's updates went to the parent, not to the strategy.
    assert_eq!(
        state_u64(&engine, "probe", "updates").unwrap_or(0),
        0,
        "{}",
        text("log")
    );
}

/// A 0.2.1 guest reads its trading state, equity, drawdown and VaR through `risk`, and the
/// host's position sizes, clipped to its budget.
#[test]
fn a_guest_reads_its_risk_and_the_hosts_sizes() {
    let mut engine = engine(SandboxLimits::default());
    let budget = Budget {
        capital: 10_000.0,
        max_position_notional: 5_000.0,
        ..Budget::unlimited(10_000.0)
    };
    engine
        .deploy(
            "probe",
            guest("risk-probe"),
            r#"{"buy_on_bar": 3, "quantity": 40}"#.into(),
            budget,
            StateStore::default(),
        )
        .unwrap();
    let bars = bars(60);
    for bar in &bars[..50] {
        engine.handle(&stratbox::feeds::MarketEvent::Bar(*bar));
    }
    fn get(engine: &stratbox::engine::Engine, key: &str) -> u64 {
        state_u64(engine, "probe", key).unwrap_or_else(|| panic!("{key}"))
    }
    assert_eq!((get(&engine, "state"), get(&engine, "reason_len")), (0, 0));
    let equity = engine.equity("probe").unwrap().to_f64();
    assert!(
        (get(&engine, "equity") as f64 - equity).abs() <= 1.0,
        "{} vs {equity}",
        get(&engine, "equity")
    );
    assert_eq!(get(&engine, "has_var"), 1, "50 bars give a VaR");
    let report = engine.risk_report();
    let d = &report.deployments[0];
    assert_eq!(
        get(&engine, "drawdown_ppm"),
        (d.drawdown * 1e6).round() as u64
    );
    // Half Kelly of p 0.6 at even odds is 0.1; 10 % over 40 % volatility is 0.25; both under
    // the budget's 5,000 of ~10,000 equity.
    assert_eq!(get(&engine, "kelly"), 10_000_000);
    assert_eq!(get(&engine, "vol_target"), 25_000_000);
    // 1 % of equity risked on a 5 % stop below the close is about 20 units at 100, under the
    // 5,000 / 100 the budget allows.
    let close = bars[49].close;
    let want = (equity * 0.01 / (close * 0.05)).min(5_000.0 / close);
    assert!(
        (get(&engine, "fixed_risk") as f64 / 1e8 - want).abs() < 1e-4,
        "{} vs {want}",
        get(&engine, "fixed_risk")
    );

    engine
        .set_trading_state(Some("probe"), stratbox::risk::TradingState::Halted, "test")
        .unwrap();
    engine.handle(&stratbox::feeds::MarketEvent::Bar(bars[50]));
    assert_eq!((get(&engine, "state"), get(&engine, "reason_len")), (2, 4));
    engine
        .set_trading_state(None, stratbox::risk::TradingState::Reducing, "desk review")
        .unwrap();
    engine
        .set_trading_state(Some("probe"), stratbox::risk::TradingState::Active, "")
        .unwrap();
    engine.handle(&stratbox::feeds::MarketEvent::Bar(bars[51]));
    assert_eq!(
        (get(&engine, "state"), get(&engine, "reason_len")),
        (1, "desk review".len() as u64)
    );
}
