//! What retraining costs the event loop: the per-event latency of `Engine::handle` (ten
//! sma-crossover strategies, the feature engine, the paper venue) with no training beside it,
//! with `train()` of `examples/train.toml` running on every core at the retraining thread's
//! priority (`SCHED_IDLE`), and the same at normal priority for contrast. The three cases
//! alternate, round after round, so the machine's noise falls on each alike.
//!
//! `cargo bench -p stratbox --bench retraining` (build the guests first: see BENCHMARKS.md;
//! `STRATBOX_TEST_DATA` names the directory of `BTC_1m_a.csv`).

#[path = "../../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use stratbox::feeds::MarketEvent;
use stratbox::feeds::candles;
use stratbox::learning::retrain::lower_priority;
use stratbox::learning::train::{TrainConfig, train};
use stratbox::sandbox::SandboxLimits;

const EVENTS: usize = 50_000;
const ROUNDS: usize = 3;

#[derive(Clone, Copy, PartialEq)]
enum Case {
    Alone,
    IdlePriority,
    NormalPriority,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::Alone => "no training",
            Case::IdlePriority => "training, SCHED_IDLE",
            Case::NormalPriority => "training, normal priority",
        }
    }
}

/// Trains until `stop` on one thread per core, at the retraining thread's priority or not.
fn trainers(idle: bool, stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<usize>> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let config = TrainConfig::load(&common::repo_root().join("examples/train.toml")).unwrap();
    let candles = candles::read_file(&common::data_dir().join("BTC_1m_a.csv")).unwrap();
    let series = vec![("BTCUSDT".to_string(), candles)];
    (0..cores)
        .map(|_| {
            let (config, series, stop) = (config.clone(), series.clone(), stop.clone());
            std::thread::spawn(move || {
                if idle {
                    lower_priority();
                }
                let out = tempfile::tempdir().unwrap();
                let mut runs = 0;
                while !stop.load(Ordering::Acquire) {
                    train(&config, &series, out.path(), |_| ()).unwrap();
                    runs += 1;
                }
                runs
            })
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Per-event latencies of `EVENTS` bars through a fresh engine.
fn latencies() -> Vec<Duration> {
    let mut engine = common::engine(SandboxLimits::default());
    for i in 0..10 {
        common::deploy(
            &mut engine,
            &format!("s{i}"),
            "sma-crossover",
            r#"{"fast": 5, "slow": 20, "quantity": 1}"#,
        );
    }
    let mut out = Vec::with_capacity(EVENTS);
    for bar in common::bars(EVENTS) {
        let t = Instant::now();
        engine.handle(&MarketEvent::Bar(bar));
        out.push(t.elapsed());
    }
    out
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let cases = [Case::Alone, Case::IdlePriority, Case::NormalPriority];
    let mut all: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    for round in 0..ROUNDS {
        for (k, case) in cases.iter().enumerate() {
            let stop = Arc::new(AtomicBool::new(false));
            let threads = match case {
                Case::Alone => Vec::new(),
                _ => trainers(*case == Case::IdlePriority, stop.clone()),
            };
            // Let the trainers get going (data set built, fitting under way).
            if !threads.is_empty() {
                std::thread::sleep(Duration::from_millis(1500));
            }
            let mut l = latencies();
            stop.store(true, Ordering::Release);
            let runs: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
            l.sort_unstable();
            println!(
                "round {round}: {:<26} p50={:>9.2?} p99={:>9.2?} p99.9={:>9.2?} (training runs finished: {runs})",
                case.name(),
                percentile(&l, 0.50),
                percentile(&l, 0.99),
                percentile(&l, 0.999),
            );
            all[k].extend(l);
        }
    }
    let p99: Vec<Duration> = all
        .iter_mut()
        .map(|l| {
            l.sort_unstable();
            percentile(l, 0.99)
        })
        .collect();
    for (k, case) in cases.iter().enumerate() {
        println!(
            "all rounds: {:<26} p50={:>9.2?} p99={:>9.2?} ({:.3}x the p99 with no training)",
            case.name(),
            percentile(&all[k], 0.50),
            p99[k],
            p99[k].as_secs_f64() / p99[0].as_secs_f64()
        );
    }
}
