//! Training time per epoch against PyTorch on the CPU: the same three models
//! (`training_torch.py` builds them from reference_models.py), data shape, batch size and
//! thread count (one), measured side by side in the same run and reported as a ratio.
//!
//! `cargo bench -p stratbox-learn --bench training` (PyTorch from `pip install torch`; without
//! it only our times are printed).

use ndarray::Array3;
use std::process::Command;
use std::time::Instant;
use stratbox_infer::manifest::Activation;
use stratbox_learn::neural::params::Rng;
use stratbox_learn::neural::{
    Architecture, CnnShape, LstmShape, Neural, Training, TransformerShape,
};
use stratbox_learn::split::Span;

const SAMPLES: usize = 2048;
const SEQ: usize = 32;
const FEATURES: usize = 10;
const BATCH: usize = 64;
/// Timed epochs per measurement (after one warm-up), and measurements per side.
const EPOCHS: usize = 5;
const ROUNDS: usize = 3;

fn shapes() -> Vec<(&'static str, Architecture)> {
    vec![
        (
            "lstm",
            Architecture::Lstm(LstmShape {
                hidden: 32,
                layers: 1,
            }),
        ),
        (
            "cnn",
            Architecture::Cnn(CnnShape {
                channels: vec![32, 32],
                kernels: vec![3, 3],
                dilations: vec![1, 2],
            }),
        ),
        (
            "transformer",
            Architecture::Transformer(TransformerShape {
                d_model: 32,
                nhead: 4,
                layers: 2,
                ff: 64,
                activation: Activation::Gelu,
                norm_first: false,
            }),
        ),
    ]
}

/// Median ms per epoch of our training (each epoch a one-epoch fit: initialisation and
/// standardisation included, which PyTorch's side does not count).
fn ours(arch: &Architecture, x: &Array3<f32>, y: &[usize], w: &[f64]) -> f64 {
    let training = Training {
        epochs: 1,
        batch: BATCH,
        validation: 0.0,
        patience: 0,
        ..Training::default()
    };
    let mut times = Vec::new();
    for epoch in 0..=EPOCHS {
        let started = Instant::now();
        let fit = Neural::fit(
            arch,
            x.view(),
            y,
            Some(w),
            3,
            &spans(x.dim().0),
            &training,
            |_| (),
        )
        .unwrap();
        std::hint::black_box(fit);
        if epoch > 0 {
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    median(times)
}

/// Median ms per epoch of PyTorch's, or None when it cannot run here.
fn pytorch(name: &str) -> Option<f64> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/training_torch.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(name)
        .args([SAMPLES, SEQ, FEATURES, BATCH, EPOCHS].map(|v| v.to_string()))
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "PyTorch did not run: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut rng = Rng::new(1);
    let x = Array3::from_shape_vec(
        (SAMPLES, SEQ, FEATURES),
        rng.normal(SAMPLES * SEQ * FEATURES, 1.0),
    )
    .unwrap();
    let y: Vec<usize> = (0..SAMPLES)
        .map(|_| (rng.next_u64() % 3) as usize)
        .collect();
    let w: Vec<f64> = (0..SAMPLES).map(|_| 0.5 + rng.unit()).collect();
    println!(
        "one epoch: {SAMPLES} samples x {SEQ} steps x {FEATURES} features, batch {BATCH}, one thread, AdamW, clipping"
    );
    for (name, arch) in shapes() {
        // Alternate the two sides so both see the machine's same moments; keep each side's best.
        let (mut rust, mut torch) = (f64::INFINITY, None::<f64>);
        for _ in 0..ROUNDS {
            rust = rust.min(ours(&arch, &x, &y, &w));
            if let Some(t) = pytorch(name) {
                torch = Some(torch.map_or(t, |b| b.min(t)));
            }
        }
        match torch {
            Some(t) => println!(
                "{name:12} stratbox {rust:8.1} ms   PyTorch {t:8.1} ms   ratio {:.2}",
                rust / t
            ),
            None => println!("{name:12} stratbox {rust:8.1} ms"),
        }
    }
}

/// Spans of samples whose labels are their own bar's (no overlap to purge).
fn spans(n: usize) -> Vec<Span> {
    (0..n).map(|i| Span { start: i, end: i }).collect()
}
