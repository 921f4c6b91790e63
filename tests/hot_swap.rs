//! Hot swap under a live event stream: every event is delivered exactly once across swaps, a
//! broken new version leaves the running one in place, and rollback restores the previous one.

mod common;

use common::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use stratbox::engine::service::{Command, EngineService};
use stratbox::engine::{Allowance, DeployError, Status};
use stratbox::feeds::MarketEvent;
use stratbox::risk::Budget;
use stratbox::sandbox::{SandboxLimits, StateStore};

/// Events the stream sends before the first swap, and after the last one.
const EVENTS_AROUND: usize = 500;
/// How far the stream may run ahead of the engine, in events.
const BACKLOG: usize = 32;

fn deploy_cmd(name: &str, guest_name: &str, config: &str) -> Command {
    Command::Deploy {
        name: name.into(),
        bytes: guest(guest_name),
        config: config.into(),
        allowance: Allowance::budget(Budget::unlimited(1e6)),
        state: StateStore::default(),
    }
}

/// Streams consecutive bars into the engine until `stop` is set and `EVENTS_AROUND` more have
/// been sent, never more than `BACKLOG` ahead of the engine (so operator commands queued behind
/// the stream are reached promptly however slow the build); returns how many it sent.
fn stream(service: &EngineService, sent: &AtomicUsize, stop: &AtomicBool) -> usize {
    let events = service.events();
    let mut stop_at = None;
    for (i, bar) in bars(200_000).into_iter().enumerate() {
        if stop_at.is_none() && stop.load(Ordering::SeqCst) {
            stop_at = Some(i + EVENTS_AROUND);
        }
        if stop_at == Some(i) {
            return i;
        }
        assert!(events.send(MarketEvent::Bar(bar)));
        sent.store(i + 1, Ordering::SeqCst);
        if i % BACKLOG == BACKLOG - 1 {
            // Answered once the engine has handled every event queued before it.
            service.command_blocking(Command::List).unwrap();
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    panic!("the stream ran out of bars before the swaps finished");
}

#[test]
fn swaps_under_a_live_stream_lose_and_repeat_nothing() {
    let service = EngineService::start(engine(SandboxLimits::default()));
    service
        .command_blocking(deploy_cmd("c", "counter", r#"{"version": 1}"#))
        .unwrap();
    let (sent, stop) = (AtomicUsize::new(0), AtomicBool::new(false));
    let total = std::thread::scope(|scope| {
        let producer = scope.spawn(|| stream(&service, &sent, &stop));
        while sent.load(Ordering::SeqCst) < EVENTS_AROUND {
            std::thread::sleep(Duration::from_millis(1));
        }
        // Every step below lands in the middle of the stream.
        let mark = |what: &str, before: usize| {
            let now = sent.load(Ordering::SeqCst);
            assert!(now > before, "the stream stalled during {what}");
            now
        };
        let at = sent.load(Ordering::SeqCst);

        // A new version, switched in between two events.
        let list = service
            .command_blocking(Command::Swap {
                name: "c".into(),
                bytes: guest("counter"),
                config: Some(r#"{"version": 2}"#.into()),
            })
            .unwrap();
        assert_eq!(list[0].status, Status::Running);
        std::thread::sleep(Duration::from_millis(50));
        let at = mark("the swap", at);

        // Broken versions are refused and the running one stays.
        let err = service
            .command_blocking(Command::Swap {
                name: "c".into(),
                bytes: guest("counter"),
                config: Some(r#"{"fail": "yes"}"#.into()),
            })
            .unwrap_err();
        assert!(matches!(err, DeployError::Init(_)), "{err}");
        let err = service
            .command_blocking(Command::Swap {
                name: "c".into(),
                bytes: b"garbage".to_vec().into(),
                config: None,
            })
            .unwrap_err();
        assert!(matches!(err, DeployError::Sandbox(_)), "{err}");
        let err = service
            .command_blocking(Command::Swap {
                name: "c".into(),
                bytes: guest("wrong-exports"),
                config: None,
            })
            .unwrap_err();
        assert!(err.to_string().contains("does not export"), "{err}");
        std::thread::sleep(Duration::from_millis(50));
        let at = mark("the refused swaps", at);

        // Roll back to version 1, and then forward again to version 2.
        service
            .command_blocking(Command::Rollback { name: "c".into() })
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let at = mark("the rollback", at);
        service
            .command_blocking(Command::Rollback { name: "c".into() })
            .unwrap();
        stop.store(true, Ordering::SeqCst);
        let total = producer.join().unwrap();
        mark("the rollback forward", at);
        total
    });
    let engine = service.shutdown().expect("running");
    assert_eq!(
        state_u64(&engine, "c", "count"),
        Some(total as u64),
        "every event delivered once"
    );
    assert_eq!(
        state_u64(&engine, "c", "anomalies"),
        None,
        "no event lost or repeated"
    );
    let v1 = state_u64(&engine, "c", "v1").unwrap_or(0);
    let v2 = state_u64(&engine, "c", "v2").unwrap_or(0);
    assert!(
        v1 >= EVENTS_AROUND as u64 && v2 >= EVENTS_AROUND as u64,
        "both versions handled events: v1={v1} v2={v2}"
    );
    assert_eq!(v1 + v2, total as u64);
    assert_eq!(engine.list()[0].delivered, total as u64);
}

#[test]
fn rollback_without_a_previous_version_is_refused_and_halted_deployments_resume() {
    let service = EngineService::start(engine(SandboxLimits::default()));
    service
        .command_blocking(deploy_cmd("c", "counter", "{}"))
        .unwrap();
    let err = service
        .command_blocking(Command::Rollback { name: "c".into() })
        .unwrap_err();
    assert!(matches!(err, DeployError::NoPrevious(_)), "{err}");
    let err = service
        .command_blocking(Command::Halt {
            name: "nope".into(),
        })
        .unwrap_err();
    assert!(matches!(err, DeployError::Unknown(_)), "{err}");
    let err = service
        .command_blocking(deploy_cmd("c", "counter", "{}"))
        .unwrap_err();
    assert!(matches!(err, DeployError::Exists(_)), "{err}");

    let events = service.events();
    for bar in bars(10) {
        events.send(MarketEvent::Bar(bar));
    }
    let list = service
        .command_blocking(Command::Halt { name: "c".into() })
        .unwrap();
    assert!(matches!(&list[0].status, Status::Halted(r) if r.contains("operator")));
    for bar in bars(20).into_iter().skip(10) {
        events.send(MarketEvent::Bar(bar));
    }
    let list = service
        .command_blocking(Command::Resume { name: "c".into() })
        .unwrap();
    assert_eq!(list[0].status, Status::Running);
    let engine = service.shutdown().expect("running");
    // Halted for ten bars: the state kept the first ten, and nothing was delivered meanwhile.
    assert_eq!(state_u64(&engine, "c", "count"), Some(10));
}

#[test]
fn compiled_components_are_cached_by_content_hash() {
    let runtime = stratbox::sandbox::Runtime::new(SandboxLimits::default()).unwrap();
    let first = runtime.compile(&guest("counter")).unwrap();
    let again = runtime.compile(&guest("counter")).unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "the same bytes compile once"
    );
    let other = runtime.compile(&guest("empty")).unwrap();
    assert_ne!(first.report.hash, other.report.hash);
}

#[test]
fn compiled_components_survive_a_restart_through_the_disk_cache() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = || {
        stratbox::sandbox::Runtime::new(SandboxLimits::default())
            .unwrap()
            .with_disk_cache(dir.path().to_path_buf())
    };
    let first = runtime();
    let compiled = first.compile(&guest("counter")).unwrap();
    assert_eq!(first.compilations(), 1);
    let file = dir.path().join(format!("{}.cwasm", compiled.report.hash));
    assert!(file.exists());

    // A new runtime (a restarted host) finds it on disk and does not compile.
    let second = runtime();
    assert_eq!(
        second.compile(&guest("counter")).unwrap().report.hash,
        compiled.report.hash
    );
    assert_eq!(second.compilations(), 0);

    // A damaged cache file is ignored: the component is compiled again and the file replaced.
    std::fs::write(&file, b"not a compiled component").unwrap();
    let third = runtime();
    assert_eq!(
        third.compile(&guest("counter")).unwrap().report.world,
        stratbox::sandbox::World::Strategy
    );
    assert_eq!(third.compilations(), 1);
    assert_ne!(std::fs::read(&file).unwrap(), b"not a compiled component");
}
