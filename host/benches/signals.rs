//! What the host's detectors cost the event loop: `Engine::handle` of bars for 100 symbols
//! (one bar each per minute, ten sma-crossover strategies deployed) with no detectors and with
//! all of them (`[signals.trend]`, `reversal`, `breakout`, `squeeze` and `regimes` at their
//! defaults, ten pairs and five triangles: [`all_detectors`]; the indicators they read included),
//! alternating rounds; the detectors' share of a bar's processing is the difference over the
//! time without. Every signal is also followed to its outcome (the engine always does). Then
//! each family's detection alone: the market taking the bars in with its detectors, less the
//! same loop with none (see [`detect_alone`]).
//!
//! `cargo bench -p stratbox --bench signals -- --bench` (build the guests first: see
//! BENCHMARKS.md); with `SIGNALS_BENCH_FAMILY=regimes` (or another of [`FAMILIES`]) only that
//! family's detection alone, for a profiler.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};
use stratbox::feeds::MarketEvent;
use stratbox::model::Bar;
use stratbox::sandbox::SandboxLimits;
use stratbox::signals::config::{
    BreakoutConfig, PairConfig, RegimeConfig, ReversalConfig, SignalsConfig, SqueezeConfig,
    TrendConfig, TriangleConfig,
};
use stratbox::signals::{Detectors, with_detector_features};

const SYMBOLS: usize = 100;
const MINUTES: usize = 600;
const ROUNDS: usize = 3;

/// Bars of every symbol, minute by minute: prices walking around 100 with their own phase.
fn bars() -> Vec<Bar> {
    let mut out = Vec::with_capacity(SYMBOLS * MINUTES);
    for m in 0..MINUTES {
        for s in 0..SYMBOLS {
            let c = 100.0 + ((m as f64 + 7.0 * s as f64) / 9.0).sin() * 2.0 + (m as f64 / 97.0);
            out.push(Bar {
                symbol: s as u32,
                interval_ms: 60_000,
                open_time: m as i64 * 60_000,
                open: c,
                high: c + 0.4,
                low: c - 0.4,
                close: c,
                volume: 10.0 + ((m * 31 + s * 17) % 23) as f64,
            });
        }
    }
    out
}

/// Every detector on one symbol's features at its defaults; ten pairs (SYM1/SYM2 to
/// SYM19/SYM20, a 200-bar window so that their tests run within the bench's 600 minutes,
/// re-estimated every 50) and five triangles (SYM81 to SYM95).
fn all_detectors() -> SignalsConfig {
    let sym = |i: usize| format!("SYM{i}USDT");
    SignalsConfig {
        trend: Some(TrendConfig::default()),
        reversal: Some(ReversalConfig::default()),
        breakout: Some(BreakoutConfig::default()),
        squeeze: Some(SqueezeConfig::default()),
        model: None,
        regimes: Some(RegimeConfig::default()),
        pair: (0..10)
            .map(|k| PairConfig {
                symbols: [sym(2 * k + 1), sym(2 * k + 2)],
                window: 200,
                refit_bars: 50,
                max_p_value: 0.05,
                entry_z: 2.0,
                horizon_bars: 20,
            })
            .collect(),
        triangle: (0..5)
            .map(|k| TriangleConfig {
                cross: sym(81 + 3 * k),
                base: sym(82 + 3 * k),
                quote: sym(83 + 3 * k),
                taker_fee: 0.001,
                min_edge: 0.0,
                full_edge: 0.005,
                max_age_ms: 60_000,
                horizon_bars: 1,
            })
            .collect(),
    }
}

/// What runs beside the strategies.
#[derive(Clone, Copy, PartialEq)]
enum Case {
    /// Nothing.
    Without,
    /// The indicators the detectors read, computed, no detector.
    Indicators,
    /// The detectors and their indicators.
    Detectors,
}

/// Total handling time of `bars` through a fresh engine.
fn handle(bars: &[Bar], case: Case) -> Duration {
    let detectors = case != Case::Without;
    let mut engine = common::engine(SandboxLimits::default());
    let config = all_detectors();
    {
        let mut market = engine.market().write().unwrap();
        for s in 1..SYMBOLS {
            market.add_symbol(&format!("SYM{s}USDT"));
        }
        if detectors {
            let features =
                with_detector_features(&stratbox::features::FeatureConfig::default(), &config)
                    .unwrap();
            market.features = stratbox::features::FeatureEngine::new(features).unwrap();
        }
    }
    if detectors {
        // Every symbol computes what the detectors read from here on.
        let d = Detectors::new(&config, &mut engine.market().write().unwrap()).unwrap();
        if case == Case::Detectors {
            engine.set_detectors(d);
        }
    }
    for i in 0..10 {
        common::deploy(
            &mut engine,
            &format!("s{i}"),
            "sma-crossover",
            r#"{"fast": 5, "slow": 20, "quantity": 1}"#,
        );
    }
    let started = Instant::now();
    for bar in bars {
        engine.handle(&MarketEvent::Bar(*bar));
    }
    started.elapsed()
}

/// A market for the bench's symbols computing the features `config`'s detectors read.
fn market_for(config: &SignalsConfig) -> stratbox::market::MarketData {
    let features =
        with_detector_features(&stratbox::features::FeatureConfig::default(), config).unwrap();
    let mut market = stratbox::market::MarketData::new(
        stratbox::features::FeatureEngine::new(features).unwrap(),
    );
    for s in 0..SYMBOLS {
        market.add_symbol(&format!("SYM{s}USDT"));
    }
    // Every symbol computes what they read from here on.
    Detectors::new(config, &mut market).unwrap();
    market
}

/// The market taking `bars` in with `config`'s detectors after each (the features of
/// `features`' computed): the signals they made and the time it took.
fn take_in(bars: &[Bar], features: &SignalsConfig, config: &SignalsConfig) -> (usize, Duration) {
    let mut market = market_for(features);
    let mut detectors = Detectors::new(config, &mut market).unwrap();
    let mut signals = 0;
    let t = Instant::now();
    for bar in bars {
        detectors.prefetch(bar.symbol);
        market.push_bar(*bar);
        signals += detectors.on_bar(bar, &market).len();
    }
    (signals, t.elapsed())
}

/// Signals the detectors of `config` make over `bars` and the time they take a bar: the
/// market taking the bars in with them, less the same with no detector (the same features,
/// the same loop; rounds alternate which goes first; best of each). No clock is read per bar:
/// that would cost as much as some detectors.
fn detect_alone(bars: &[Bar], config: &SignalsConfig) -> (usize, f64) {
    let none = SignalsConfig::default();
    let (mut without, mut with) = (Duration::MAX, Duration::MAX);
    let mut signals = 0;
    for round in 0..2 * ROUNDS {
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for detecting in order {
            if detecting {
                let (n, t) = take_in(bars, config, config);
                signals = n;
                with = with.min(t);
            } else {
                without = without.min(take_in(bars, config, &none).1);
            }
        }
    }
    let per_bar = with.saturating_sub(without).as_secs_f64() * 1e6 / bars.len() as f64;
    (signals, per_bar)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let bars = bars();
    // `SIGNALS_BENCH_FAMILY=regimes` (one of [`FAMILIES`]) measures only that family's
    // detection alone, for a profiler.
    if let Ok(family) = std::env::var("SIGNALS_BENCH_FAMILY") {
        let (_, detecting) = detect_alone(&bars, &family_config(&family));
        println!("{family}: detection alone {detecting:.3} µs a bar");
        return;
    }
    let cases = [Case::Without, Case::Indicators, Case::Detectors];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    for round in 0..ROUNDS {
        for (k, case) in cases.iter().enumerate() {
            times[k].push(handle(&bars, *case));
        }
        println!(
            "round {round}: {} bars of {SYMBOLS} symbols: without {:.2?}, indicators only {:.2?}, detectors {:.2?}",
            bars.len(),
            times[0][round],
            times[1][round],
            times[2][round]
        );
    }
    let per_bar = |v: &[Duration]| v.iter().min().unwrap().as_secs_f64() * 1e6 / bars.len() as f64;
    let (a, i, d) = (per_bar(&times[0]), per_bar(&times[1]), per_bar(&times[2]));
    // What detection alone costs, in all and by family.
    for name in FAMILIES {
        let (signals, detecting) = detect_alone(&bars, &family_config(name));
        println!(
            "{name}: {signals} signals over {} bars ({:.1} % of bars); detection alone {detecting:.3} µs a bar ({:.1} % of the bar with the indicators)",
            bars.len(),
            signals as f64 * 100.0 / bars.len() as f64,
            detecting * 100.0 / i
        );
    }
    println!(
        "best of {ROUNDS}, µs a bar: {a:.2} without, {i:.2} with the detectors' indicators, {d:.2} with the detectors: the detectors' own logic {:.1} % of the bar with their indicators ({:.2} µs), detectors and indicators together {:.1} % over nothing",
        (d / i - 1.0) * 100.0,
        d - i,
        (d / a - 1.0) * 100.0
    );
}

/// The families whose detection alone is measured; `none` is the method's control (no
/// detector against no detector).
const FAMILIES: [&str; 7] = [
    "none",
    "all",
    "trend+reversal+breakout",
    "squeeze",
    "regimes",
    "10 pairs",
    "5 triangles",
];

/// The detectors of family `name` (one of [`FAMILIES`]).
fn family_config(name: &str) -> SignalsConfig {
    let all = all_detectors();
    match name {
        "none" => SignalsConfig::default(),
        "all" => all,
        "trend+reversal+breakout" => SignalsConfig {
            trend: all.trend,
            reversal: all.reversal,
            breakout: all.breakout,
            ..SignalsConfig::default()
        },
        "squeeze" => SignalsConfig {
            squeeze: all.squeeze,
            ..SignalsConfig::default()
        },
        "regimes" => SignalsConfig {
            regimes: all.regimes,
            ..SignalsConfig::default()
        },
        "10 pairs" => SignalsConfig {
            pair: all.pair,
            ..SignalsConfig::default()
        },
        "5 triangles" => SignalsConfig {
            triangle: all.triangle,
            ..SignalsConfig::default()
        },
        other => panic!("no family {other:?}: one of {FAMILIES:?}"),
    }
}
