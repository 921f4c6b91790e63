//! End to end through the engine: bar events from replay through 1, 10 and 100 strategies to
//! the simulated exchange (feature readers by handle, in one batch and by name), with throughput
//! and the per-event latency distribution; and hot swap of a cached component under a live
//! stream, with the events counted.
//!
//! `cargo bench -p stratbox --bench engine` (build the guests first: see BENCHMARKS.md).

#[path = "../../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};
use stratbox::engine::Allowance;
use stratbox::engine::service::{Command, EngineService};
use stratbox::feeds::MarketEvent;
use stratbox::risk::Budget;
use stratbox::sandbox::{SandboxLimits, StateStore};

const EVENTS: usize = 100_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// `label` names the case in the output: the guest, and how it was configured.
fn throughput(label: &str, guest: &str, config: &str, strategies: usize) {
    let mut engine = common::engine(SandboxLimits::default());
    for i in 0..strategies {
        common::deploy(&mut engine, &format!("s{i}"), guest, config);
    }
    let bars = common::bars(EVENTS);
    let mut latencies = Vec::with_capacity(EVENTS);
    let started = Instant::now();
    for bar in &bars {
        let t = Instant::now();
        engine.handle(&MarketEvent::Bar(*bar));
        latencies.push(t.elapsed());
    }
    let total = started.elapsed();
    latencies.sort_unstable();
    println!(
        "engine/{label:<22} strategies={strategies:<4} events/s={:>10.0}  p50={:>9.2?} p99={:>9.2?} p99.9={:>9.2?}",
        EVENTS as f64 / total.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
    );
}

fn hot_swap() {
    let service = EngineService::start(common::engine(SandboxLimits::default()));
    let counter = common::guest("counter");
    service
        .command_blocking(Command::Deploy {
            name: "c".into(),
            bytes: counter.clone(),
            config: "{}".into(),
            allowance: Allowance::budget(Budget::unlimited(1e6)),
            state: StateStore::default(),
        })
        .unwrap();
    let events = service.events();
    let total = 200_000usize;
    let producer = std::thread::spawn(move || {
        for (i, bar) in common::bars(total).into_iter().enumerate() {
            events.send(MarketEvent::Bar(bar));
            if i % 64 == 0 {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    });
    let mut swaps = Vec::new();
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        service
            .command_blocking(Command::Swap {
                name: "c".into(),
                bytes: counter.clone(),
                config: None,
            })
            .unwrap();
        swaps.push(t.elapsed());
    }
    producer.join().unwrap();
    let engine = service.shutdown().expect("running");
    let count = common::state_u64(&engine, "c", "count").unwrap_or(0);
    let anomalies = common::state_u64(&engine, "c", "anomalies").unwrap_or(0);
    swaps.sort_unstable();
    println!(
        "hot_swap/cached  swaps={}  median={:.2?} max={:.2?}  events sent={total} delivered={count} lost-or-repeated={anomalies}",
        swaps.len(),
        percentile(&swaps, 0.5),
        swaps[swaps.len() - 1],
    );
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: keep that quick.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    for n in [1, 10, 100] {
        throughput("empty", "empty", "{}", n);
        throughput(
            "sma-crossover",
            "sma-crossover",
            r#"{"fast": 5, "slow": 20, "quantity": 1}"#,
            n,
        );
        // Four features a bar: by handle (resolved once), in one batched call, and by name.
        for read in ["handle", "batch", "name"] {
            let config = format!(r#"{{"read": "{read}"}}"#);
            throughput(
                &format!("feature-reader/{read}"),
                "feature-reader",
                &config,
                n,
            );
        }
    }
    hot_swap();
}
