//! Per-event dispatch: one `on-bar` call into a component, side by side with wasmtime's floor
//! (an empty component) and with the same logic compiled natively; and instantiation of a
//! strategy from a cached compiled component.
//!
//! `cargo bench -p stratbox --bench dispatch` (build the guests first: see BENCHMARKS.md).

#[path = "../../tests/common/mod.rs"]
mod common;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::{Arc, Mutex, RwLock};
use stratbox::execution::OrderPath;
use stratbox::execution::venues::{BarFillConfig, BarVenue};
use stratbox::market::MarketData;
use stratbox::model::DeploymentId;
use stratbox::sandbox::{
    DeploymentData, GuestCtx, HostEnv, Instance, Runtime, SandboxLimits, StateStore,
};

fn env() -> HostEnv {
    let mut market = MarketData::default();
    market.add_symbol("BTCUSDT");
    let journal = Arc::new(stratbox::journal::NullJournal);
    HostEnv {
        market: Arc::new(RwLock::new(market)),
        orders: Arc::new(Mutex::new(OrderPath::new(
            Box::new(BarVenue::new(BarFillConfig::default())),
            journal.clone(),
        ))),
        algos: Default::default(),
        signals: Default::default(),
        journal,
    }
}

fn instance(runtime: &Runtime, env: &HostEnv, guest: &str) -> Instance {
    let compiled = runtime.compile(&common::guest(guest)).unwrap();
    let data = Arc::new(Mutex::new(DeploymentData::new(
        DeploymentId(0),
        StateStore::default(),
    )));
    let ctx = GuestCtx::new(guest.into(), env.clone(), data, runtime.limits().clone()).unwrap();
    let mut instance = runtime.instantiate(&compiled, ctx).unwrap();
    instance.init("{}", 0).unwrap();
    instance
}

fn dispatch(c: &mut Criterion) {
    let runtime = Runtime::new(SandboxLimits::default()).unwrap();
    let env = env();
    let bars = common::bars(4096);
    let mut group = c.benchmark_group("on_bar");
    for guest in ["empty", "sma-crossover", "indicator-bank"] {
        let mut inst = instance(&runtime, &env, guest);
        let mut i = 0usize;
        group.bench_function(BenchmarkId::new("component", guest), |b| {
            b.iter(|| {
                let bar = &bars[i & 4095];
                i += 1;
                inst.on_bar(black_box(bar), 0).unwrap();
            })
        });
    }
    let mut bank = indicator_bank::Bank::new();
    let mut i = 0usize;
    group.bench_function(BenchmarkId::new("native", "indicator-bank"), |b| {
        b.iter(|| {
            let bar = &bars[i & 4095];
            i += 1;
            bank.update(
                black_box(bar.high),
                black_box(bar.low),
                black_box(bar.close),
            );
        })
    });
    black_box(bank.checksum);
    group.finish();
}

fn instantiation(c: &mut Criterion) {
    let runtime = Runtime::new(SandboxLimits::default()).unwrap();
    let env = env();
    let compiled = runtime.compile(&common::guest("sma-crossover")).unwrap();
    c.bench_function("instantiate_and_init/sma-crossover", |b| {
        b.iter(|| {
            let data = Arc::new(Mutex::new(DeploymentData::new(
                DeploymentId(0),
                StateStore::default(),
            )));
            let ctx =
                GuestCtx::new("bench".into(), env.clone(), data, runtime.limits().clone()).unwrap();
            let mut instance = runtime.instantiate(&compiled, ctx).unwrap();
            instance.init("{}", 0).unwrap();
            black_box(instance)
        })
    });
}

criterion_group!(benches, dispatch, instantiation);
criterion_main!(benches);
