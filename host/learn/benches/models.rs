//! The host's own models per symbol: inference of a logistic regression and of gradient-boosted
//! trees through `stratbox-infer` (CPU), beside the smallest reference network (the CNN of
//! `tests/fixtures/models/reference`, 64 steps) as the baseline measured in the same run, at 1
//! and 100 symbols a batch; and how long each takes to train.
//!
//! `cargo bench -p stratbox-learn --bench models`. `LEARN_BENCH_REPEAT` sets the timed runs per
//! case (default 200, median reported).

use ndarray::{Array2, Array3};
use std::path::{Path, PathBuf};
use std::time::Instant;
use stratbox_infer::{Compute, DeviceChoice, Model};
use stratbox_learn::gbt::{Gbt, GbtSpec};
use stratbox_learn::logistic::{Logistic, LogisticSpec};

const FEATURES: usize = 16;

fn repeat() -> usize {
    std::env::var("LEARN_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Seeded values in [-1, 1).
fn noise(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut state = seed;
    Array2::from_shape_simple_fn((rows, cols), || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    })
}

/// Three classes from a noisy rule on the first features.
fn problem(n: usize) -> (Array2<f64>, Vec<usize>) {
    let x = noise(n, FEATURES, 1);
    let e = noise(n, 1, 2);
    let y = (0..n)
        .map(|i| {
            let s = x[[i, 0]] + 0.5 * x[[i, 1]] * x[[i, 2]] + 0.3 * e[[i, 0]];
            if s < -0.3 {
                0
            } else if s > 0.3 {
                2
            } else {
                1
            }
        })
        .collect();
    (x, y)
}

/// Median seconds of `repeat` runs after two warm-up runs.
fn median(repeat: usize, mut run: impl FnMut()) -> f64 {
    run();
    run();
    let mut times: Vec<f64> = (0..repeat)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn load(stem: &Path, compute: &Compute) -> Model {
    Model::load(
        &stem.with_extension("json"),
        &stem.with_extension("safetensors"),
        compute,
    )
    .expect("the model loads")
}

fn main() {
    let repeat = repeat();
    let compute = Compute::select(DeviceChoice::Cpu).expect("the CPU path");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (x, y) = problem(5_000);

    let started = Instant::now();
    let logistic = Logistic::fit(x.view(), &y, None, 3, &LogisticSpec::default()).unwrap();
    let logistic_fit = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let gbt = Gbt::fit(x.view(), &y, None, 3, &GbtSpec::default()).unwrap();
    let gbt_fit = started.elapsed().as_secs_f64();
    logistic.export(&dir.path().join("logistic")).unwrap();
    gbt.export(&dir.path().join("gbt")).unwrap();

    let reference =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/models/reference/cnn");
    let mut models = [
        ("cnn (baseline)", load(&reference, &compute), 64usize),
        ("logistic", load(&dir.path().join("logistic"), &compute), 1),
        ("gbt", load(&dir.path().join("gbt"), &compute), 1),
    ];
    println!(
        "training on 5,000 samples x {FEATURES} features: logistic {:.1} ms ({} iterations), gbt {:.1} ms ({} trees)",
        logistic_fit * 1e3,
        logistic.iterations,
        gbt_fit * 1e3,
        gbt.trees.len()
    );
    println!("| symbols | model | per batch | per symbol | against the baseline |");
    println!("|---|---|---|---|---|");
    for symbols in [1usize, 100] {
        let mut baseline = f64::NAN;
        for (name, model, seq) in models.iter_mut() {
            let features = model.manifest().n_features();
            let window = noise(symbols * *seq, features, 3);
            let input = Array3::from_shape_fn((symbols, *seq, features), |(b, t, j)| {
                window[[b * *seq + t, j]] as f32
            });
            let seconds = median(repeat, || {
                std::hint::black_box(model.infer(input.view()).unwrap());
            });
            if baseline.is_nan() {
                baseline = seconds;
            }
            println!(
                "| {symbols} | {name} | {:.2} µs | {:.3} µs | {:.4}x |",
                seconds * 1e6,
                seconds * 1e6 / symbols as f64,
                seconds / baseline
            );
        }
    }
}
