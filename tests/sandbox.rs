//! Hostile guests, each a real component: every one ends halted with a reason, while the host
//! and a bystander strategy go on undisturbed.

mod common;

use common::*;
use stratbox::engine::{Allowance, Engine, Status};
use stratbox::feeds::MarketEvent;
use stratbox::risk::Budget;
use stratbox::sandbox::{CpuLimit, DirGrant, Grants, SandboxLimits, StateStore};

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
    // Time enough to reach 32 MiB on a loaded machine before the CPU bound stops it (it did,
    // at the default 100 ms, in a CI run beside the browser and soak tests).
    let limits = SandboxLimits {
        memory_mib: 32,
        callback_ms: 5_000,
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
    // Time enough to make the 1001st call on a loaded machine before the CPU bound stops it.
    let limits = SandboxLimits {
        callback_ms: 5_000,
        ..SandboxLimits::default()
    };
    assert_reason(
        "orders",
        limits,
        &["submitted more than 1000 orders in one callback"],
    );
}

#[test]
fn ten_million_signals_in_one_callback_are_refused() {
    // Time enough to make the 1001st call on a loaded machine before the CPU bound stops it.
    let limits = SandboxLimits {
        callback_ms: 5_000,
        ..SandboxLimits::default()
    };
    assert_reason(
        "signals",
        limits,
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

/// A deployment that spends 90 ms on every bar, well inside its per-callback bound, is halted
/// once its share of wall time passes its budget's `max_cpu_share`; the one beside it runs on,
/// and `list` reports both one's use. (The bound is 1 s, not the default 100 ms: on a loaded
/// machine a guest preempted near the end of a 90 ms burn would overrun 100 ms of wall time.)
#[test]
fn a_deployment_over_its_cpu_share_is_halted_and_its_neighbour_runs_on() {
    let mut engine = engine_for_burners();
    engine.enforce_cpu_share(true);
    let budget = Budget {
        max_cpu_share: 0.2,
        cpu_window_ms: 2_000,
        ..Budget::unlimited(1e9)
    };
    engine
        .deploy(
            "burner",
            common::guest("hostile"),
            r#"{"attack": "burn", "burn_ms": 90, "on_bar": 1}"#.into(),
            budget,
            StateStore::default(),
        )
        .unwrap();
    deploy(&mut engine, "bystander", "counter", "{}");
    for bar in bars(30) {
        engine.handle(&MarketEvent::Bar(bar));
    }
    // 20 % of 2 s is 400 ms: passed on the fifth bar of 90 ms.
    match engine.status("burner").unwrap() {
        Status::Halted(reason) => assert!(
            reason.contains("CPU share") && reason.contains("above max_cpu_share 20.0%"),
            "{reason}"
        ),
        other => panic!("the burner runs on: {other:?}"),
    }
    let seen = state_u64(&engine, "burner", "seen").unwrap();
    assert!((4..=8).contains(&seen), "halted after {seen} bars");
    assert_eq!(state_u64(&engine, "bystander", "count"), Some(30));
    let list = engine.list();
    let burner = list.iter().find(|d| d.name == "burner").unwrap();
    let bystander = list.iter().find(|d| d.name == "bystander").unwrap();
    assert!(
        burner.cpu_ms >= 400.0 && burner.cpu_share > 0.15,
        "{burner:?}"
    );
    assert!(bystander.cpu_share < 0.05, "{bystander:?}");

    // Without enforcement (a backtest) the same use goes on.
    let mut engine = engine_for_burners();
    engine
        .deploy(
            "burner",
            common::guest("hostile"),
            r#"{"attack": "burn", "burn_ms": 90, "on_bar": 1}"#.into(),
            Budget {
                max_cpu_share: 0.2,
                cpu_window_ms: 2_000,
                ..Budget::unlimited(1e9)
            },
            StateStore::default(),
        )
        .unwrap();
    for bar in bars(6) {
        engine.handle(&MarketEvent::Bar(bar));
    }
    assert_eq!(engine.status("burner").unwrap(), &Status::Running);
}

/// An engine with the wall clock granted and a 1 s callback bound, for guests that burn time.
fn engine_for_burners() -> Engine {
    engine(SandboxLimits {
        callback_ms: 1_000,
        grant_wall_clock: true,
        ..SandboxLimits::default()
    })
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

/// Deploys the hostile guest's `attack` on bar 1 with `extra` config and `grants`, runs one bar.
fn run_granted(engine: &mut Engine, name: &str, attack: &str, extra: &str, grants: Grants) {
    engine
        .deploy_allowed(
            name,
            guest("hostile"),
            format!(r#"{{"attack": "{attack}", "on_bar": 1{extra}}}"#),
            Allowance {
                budget: Budget::unlimited(1e9),
                grants,
            },
            StateStore::default(),
        )
        .unwrap_or_else(|e| panic!("deploy {name}: {e}"));
    engine.handle(&MarketEvent::Bar(bars(1)[0]));
}

#[test]
fn granted_files_environment_and_addresses_reach_only_their_deployment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("passwd"), "granted:x:1000\n").unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let granted_addr = listener.local_addr().unwrap().to_string();
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other_addr = other.local_addr().unwrap().to_string();
    let grants = Grants {
        env: [("STRATBOX_GRANT".to_string(), "abcd".to_string())].into(),
        dirs: vec![DirGrant {
            host: dir.path().to_path_buf(),
            guest: "/etc".into(),
            writable: false,
        }],
        connect: vec![granted_addr.clone()],
        ..Grants::default()
    };
    let mut engine = engine(SandboxLimits::default());
    let addr = |a: &str| format!(r#", "addr": "{a}""#);
    run_granted(&mut engine, "reader", "file", "", grants.clone());
    run_granted(
        &mut engine,
        "dialer",
        "socket",
        &addr(&granted_addr),
        grants.clone(),
    );
    run_granted(&mut engine, "env", "env", "", grants.clone());
    run_granted(&mut engine, "stray", "socket", &addr(&other_addr), grants);
    run_granted(&mut engine, "plain-env", "env", "", Grants::default());
    run_granted(&mut engine, "plain-file", "file", "", Grants::default());
    assert_eq!(engine.status("reader").unwrap(), &Status::Running);
    assert_eq!(state_u64(&engine, "reader", "file_bytes"), Some(15));
    assert_eq!(engine.status("dialer").unwrap(), &Status::Running);
    assert_eq!(state_u64(&engine, "dialer", "connected"), Some(1));
    assert!(
        listener.accept().is_ok(),
        "the granted address saw the connection"
    );
    assert_eq!(state_u64(&engine, "env", "env_len"), Some(4));
    // Grants are exact: another address, and deployments granted nothing, stay shut out.
    match engine.status("stray").unwrap() {
        Status::Halted(reason) => assert!(
            reason.contains(&format!("connect to {other_addr}"))
                && reason.contains("PermissionDenied"),
            "{reason}"
        ),
        Status::Running => panic!("an address not granted was reached"),
    }
    assert_eq!(state_u64(&engine, "plain-env", "env_len"), Some(0));
    match engine.status("plain-file").unwrap() {
        Status::Halted(reason) => assert!(!reason.contains("granted:x"), "{reason}"),
        Status::Running => panic!("a file was read without a grant"),
    }
}

#[test]
fn grants_that_cannot_be_given_are_refused_naming_them() {
    let mut engine = engine(SandboxLimits::default());
    for (grants, expected) in [
        (
            Grants {
                dirs: vec![DirGrant {
                    host: "/no/such/dir".into(),
                    guest: "/data".into(),
                    writable: true,
                }],
                ..Grants::default()
            },
            "/no/such/dir is not a directory",
        ),
        (
            Grants {
                connect: vec!["db.example:5432".into()],
                ..Grants::default()
            },
            "\"db.example:5432\" is not an address",
        ),
    ] {
        let err = engine
            .deploy_allowed(
                "g",
                guest("counter"),
                "{}".into(),
                Allowance {
                    budget: Budget::unlimited(1e9),
                    grants,
                },
                StateStore::default(),
            )
            .unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
    }
    assert!(engine.list().is_empty(), "nothing was deployed");
}
