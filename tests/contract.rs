//! The contract check: a component that does not match a world is rejected with an error that
//! names what is missing or wrong, through the library and through `stratbox check`.

mod common;

use common::*;
use std::process::Command;
use stratbox::engine::DeployError;
use stratbox::risk::Budget;
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
        Err(SandboxError::WorldMismatch(CheckError::MissingExports { world, missing })) => {
            assert_eq!(world, World::Strategy);
            assert_eq!(
                missing,
                ["on-trade", "on-book", "on-fill", "on-signal", "on-timer"]
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
