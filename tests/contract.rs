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
    for (name, bytes) in [
        ("v01", v0_1_guest("sma-crossover")),
        ("v02", guest("sma-crossover")),
        ("bb01", v0_1_guest("bollinger-reversion")),
        ("bb02", guest("bollinger-reversion")),
    ] {
        let config = if name.starts_with("bb") {
            r#"{"period": 20, "width": 2.0, "quantity": 100}"#
        } else {
            r#"{"fast": 10, "slow": 30, "quantity": 100}"#
        };
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
    let fills = fills_by_owner(&recorder);
    let of = |owner: &str| -> Vec<&String> {
        fills
            .iter()
            .filter(|(o, _)| o == owner)
            .map(|(_, f)| f)
            .collect()
    };
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
