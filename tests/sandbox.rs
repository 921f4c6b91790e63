//! Hostile guests, each a real component: every one ends halted with a reason, while the host
//! and a bystander strategy go on undisturbed.

mod common;

use common::*;
use stratbox::engine::Status;
use stratbox::feeds::MarketEvent;
use stratbox::sandbox::{CpuLimit, SandboxLimits};

/// Runs `attack` beside a counting bystander over 30 bars; returns the halt reason.
fn contain(attack: &str, limits: SandboxLimits) -> String {
    let mut engine = engine(limits);
    deploy(&mut engine, "bystander", "counter", "{}");
    deploy(
        &mut engine,
        "hostile",
        "hostile",
        &format!(r#"{{"attack": "{attack}", "on_bar": 3}}"#),
    );
    for bar in bars(30) {
        engine.handle(&MarketEvent::Bar(bar));
    }
    assert_eq!(
        engine.status("bystander").unwrap(),
        &Status::Running,
        "bystander must keep running"
    );
    assert_eq!(
        state_u64(&engine, "bystander", "count"),
        Some(30),
        "bystander must see every bar"
    );
    assert_eq!(state_u64(&engine, "bystander", "anomalies"), None);
    assert_eq!(
        state_u64(&engine, "hostile", "seen"),
        Some(3),
        "hostile ran until its attack"
    );
    match engine.status("hostile").unwrap() {
        Status::Halted(reason) => reason.clone(),
        Status::Running => panic!("{attack}: hostile guest still running"),
    }
}

fn assert_reason(attack: &str, limits: SandboxLimits, expected: &[&str]) {
    let reason = contain(attack, limits);
    assert!(
        expected.iter().any(|e| reason.contains(e)),
        "{attack}: reason {reason:?} mentions none of {expected:?}"
    );
}

#[test]
fn endless_loop_is_stopped_by_the_epoch_deadline() {
    let limits = SandboxLimits {
        callback_ms: 50,
        ..SandboxLimits::default()
    };
    assert_reason("loop", limits, &["exceeded its CPU time of 50 ms"]);
}

#[test]
fn endless_loop_is_stopped_by_fuel() {
    let limits = SandboxLimits {
        cpu: CpuLimit::Fuel,
        callback_fuel: 5_000_000,
        ..SandboxLimits::default()
    };
    assert_reason("loop", limits, &["exceeded its fuel of 5000000"]);
}

#[test]
fn allocation_bomb_hits_the_memory_limit() {
    let limits = SandboxLimits {
        memory_mib: 32,
        ..SandboxLimits::default()
    };
    assert_reason("alloc", limits, &["memory limit", "32 MiB"]);
}

#[test]
fn deep_recursion_is_stopped() {
    assert_reason(
        "recursion",
        SandboxLimits::default(),
        &["stack overflow", "out-of-bounds memory access"],
    );
}

#[test]
fn panic_is_reported_with_its_message() {
    assert_reason(
        "panic",
        SandboxLimits::default(),
        &["hostile guest panicked on purpose at bar 3"],
    );
}

#[test]
fn ten_million_orders_in_one_callback_are_refused() {
    assert_reason(
        "orders",
        SandboxLimits::default(),
        &["submitted more than 1000 orders in one callback"],
    );
}

#[test]
fn ten_million_signals_in_one_callback_are_refused() {
    assert_reason(
        "signals",
        SandboxLimits::default(),
        &["emitted more than 1000 signals in one callback"],
    );
}

#[test]
fn opening_a_file_fails_inside_the_sandbox() {
    let reason = contain("file", SandboxLimits::default());
    assert!(
        reason.contains("open /etc/passwd") && !reason.contains("root:"),
        "{reason}"
    );
}

#[test]
fn opening_a_socket_fails_inside_the_sandbox() {
    let reason = contain("socket", SandboxLimits::default());
    assert!(
        reason.contains("connect to 127.0.0.1:5432") && reason.contains("PermissionDenied"),
        "{reason}"
    );
}

#[test]
fn exit_halts_only_the_guest() {
    assert_reason("exit", SandboxLimits::default(), &["called exit"]);
}

#[test]
fn an_optimizer_returning_ten_million_signals_is_halted() {
    for (returns, expected) in [
        ("10000000", "memory limit"),
        ("5000", "optimize returned 5000 signals"),
    ] {
        let mut engine = engine(SandboxLimits::default());
        deploy(
            &mut engine,
            "emitter",
            "bollinger-reversion",
            r#"{"period": 5, "width": 0.5, "quantity": 1}"#,
        );
        deploy(
            &mut engine,
            "flood",
            "hostile-optimizer",
            &format!(r#"{{"returns": {returns}}}"#),
        );
        deploy(&mut engine, "bystander", "counter", "{}");
        for bar in bars(200) {
            engine.handle(&MarketEvent::Bar(bar));
        }
        match engine.status("flood").unwrap() {
            Status::Halted(reason) => assert!(reason.contains(expected), "{returns}: {reason}"),
            Status::Running => panic!("{returns}: flooding optimizer still running"),
        }
        assert_eq!(engine.status("emitter").unwrap(), &Status::Running);
        assert_eq!(state_u64(&engine, "bystander", "count"), Some(200));
    }
}

#[test]
fn wall_clock_is_frozen_unless_granted() {
    for (grant, frozen) in [(false, true), (true, false)] {
        let mut engine = engine(SandboxLimits {
            grant_wall_clock: grant,
            ..SandboxLimits::default()
        });
        deploy(
            &mut engine,
            "clock",
            "hostile",
            r#"{"attack": "clock", "on_bar": 1}"#,
        );
        engine.handle(&MarketEvent::Bar(bars(1)[0]));
        let seconds = state_u64(&engine, "clock", "clock").expect("guest stored the time");
        assert_eq!(
            seconds == 0,
            frozen,
            "grant_wall_clock={grant}: guest saw {seconds} s"
        );
        assert_eq!(engine.status("clock").unwrap(), &Status::Running);
    }
}
