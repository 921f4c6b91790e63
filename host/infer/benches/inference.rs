//! Inference speed: our CPU path, our GPU path and PyTorch on the CPU of the same machine, side by
//! side in one run, for the three reference models and their ensemble at batch 1, 16, 64 and 256 ×
//! sequence 64.
//!
//! `cargo bench -p stratbox-infer --bench inference` (PyTorch's side needs `python3` with `torch`;
//! without it only our figures are printed). `INFER_BENCH_REPEAT` sets the timed runs per case
//! (default 50, median reported); `INFER_BENCH_TORCH=0` skips PyTorch; `INFER_BENCH_GPU=0` skips the GPU path, which on a software
//! adapter (lavapipe) costs tens of milliseconds per submit; `INFER_BENCH_GPU_REPEAT` (default 5).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ndarray::Array3;
use stratbox_infer::gpu::{AdapterPolicy, GpuContext};
use stratbox_infer::{Compute, Ensemble, EnsembleMember, Model};

const BATCHES: [usize; 4] = [1, 16, 64, 256];
const SEQ: usize = 64;
const MODELS: [&str; 3] = ["lstm", "transformer", "cnn"];
/// The ensemble weights torch_baseline.py uses.
const WEIGHTS: [f64; 3] = [0.4, 0.35, 0.25];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/models/reference")
}

fn load(name: &str, compute: &Compute) -> Model {
    let dir = reference_dir();
    Model::load(
        &dir.join(format!("{name}.json")),
        &dir.join(format!("{name}.safetensors")),
        compute,
    )
    .expect("reference model loads")
}

/// A seeded input in [-2, 2).
fn input(batch: usize) -> Array3<f32> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    Array3::from_shape_simple_fn((batch, SEQ, 16), || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / 4_194_304.0 - 2.0
    })
}

/// Median seconds of `repeat` runs after two warm-up runs.
fn median(repeat: usize, mut run: impl FnMut()) -> f64 {
    run();
    run();
    let mut times: Vec<f64> = (0..repeat)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Seconds per (model, batch) on `compute`, and the dispatches per inference.
fn measure(compute: &Compute, repeat: usize) -> HashMap<(String, usize), (f64, usize)> {
    let mut out = HashMap::new();
    let only = std::env::var("INFER_BENCH_ONLY").ok();
    if only.is_some() {
        let name = only.as_deref().unwrap_or_default();
        let mut model = load(name, compute);
        for batch in BATCHES {
            let x = input(batch);
            let t = median(repeat, || {
                std::hint::black_box(model.infer(x.view()).expect("inference"));
            });
            println!("{name} {batch}: {:.4} ms", t * 1e3);
        }
        std::process::exit(0);
    }
    for name in MODELS {
        let mut model = load(name, compute);
        for batch in BATCHES {
            let x = input(batch);
            let t = median(repeat, || {
                std::hint::black_box(model.infer(x.view()).expect("inference"));
            });
            out.insert((name.to_string(), batch), (t, model.last_dispatches()));
        }
    }
    let members = MODELS
        .iter()
        .zip(WEIGHTS)
        .map(|(name, weight)| EnsembleMember {
            name: name.to_string(),
            model: load(name, compute),
            weight,
        })
        .collect();
    let mut ensemble = Ensemble::new(members, None).expect("ensemble");
    for batch in BATCHES {
        let x = input(batch);
        let inputs = [x.view(), x.view(), x.view()];
        let t = median(repeat, || {
            std::hint::black_box(ensemble.predict(&inputs).expect("ensemble"));
        });
        let dispatches = ensemble
            .members()
            .iter()
            .map(|m| m.model.last_dispatches())
            .sum();
        out.insert(("ensemble".to_string(), batch), (t, dispatches));
    }
    out
}

/// PyTorch's seconds per (model, batch), if python3 with torch is there.
fn pytorch(repeat: usize) -> Option<HashMap<(String, usize), f64>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/torch_baseline.py");
    let batches = BATCHES.map(|b| b.to_string()).join(",");
    let output = Command::new("python3")
        .arg(script)
        .args([
            "--batches",
            &batches,
            "--seq",
            &SEQ.to_string(),
            "--repeat",
            &repeat.to_string(),
        ])
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "PyTorch baseline failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    let mut out = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        out.insert(
            (
                v["model"].as_str()?.to_string(),
                v["batch"].as_u64()? as usize,
            ),
            v["seconds"].as_f64()?,
        );
    }
    Some(out)
}

fn flops(name: &str, batch: usize) -> f64 {
    let dir = reference_dir();
    let per_sample = |n: &str| {
        stratbox_infer::Manifest::load(&dir.join(format!("{n}.json")))
            .expect("manifest")
            .flops(SEQ) as f64
    };
    let per = if name == "ensemble" {
        MODELS.iter().map(|n| per_sample(n)).sum()
    } else {
        per_sample(name)
    };
    per * batch as f64
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let repeat = env_usize("INFER_BENCH_REPEAT", 50);
    let cpu = measure(&Compute::cpu(), repeat);
    let gpu = if env_usize("INFER_BENCH_GPU", 1) == 0 {
        None
    } else {
        match GpuContext::new(AdapterPolicy::Any) {
            Ok(context) => {
                let description = context.describe();
                let compute = Compute::Gpu(std::sync::Arc::new(context));
                Some((
                    description,
                    measure(&compute, env_usize("INFER_BENCH_GPU_REPEAT", 5)),
                ))
            }
            Err(e) => {
                eprintln!("no GPU path: {e}");
                None
            }
        }
    };
    let torch = if env_usize("INFER_BENCH_TORCH", 1) == 0 {
        None
    } else {
        pytorch(repeat)
    };
    if let Some((description, _)) = &gpu {
        println!("GPU adapter: {description}");
    }
    println!(
        "{:<12} {:>5} {:>10} {:>10} {:>8} {:>9} {:>10} {:>9} {:>10}",
        "model",
        "batch",
        "cpu ms",
        "torch ms",
        "cpu/pt",
        "cpu GF/s",
        "gpu ms",
        "gpu GF/s",
        "dispatches"
    );
    for name in MODELS.iter().copied().chain(["ensemble"]) {
        for batch in BATCHES {
            let key = (name.to_string(), batch);
            let (c, _) = cpu[&key];
            let gflops = |seconds: f64| flops(name, batch) / seconds / 1e9;
            let pt = torch.as_ref().and_then(|t| t.get(&key).copied());
            let g = gpu.as_ref().map(|(_, g)| g[&key]);
            println!(
                "{:<12} {:>5} {:>10.4} {:>10} {:>8} {:>9.2} {:>10} {:>9} {:>10}",
                name,
                batch,
                c * 1e3,
                pt.map_or("-".into(), |p| format!("{:.4}", p * 1e3)),
                pt.map_or("-".into(), |p| format!("{:.2}", c / p)),
                gflops(c),
                g.map_or("-".into(), |(s, _)| format!("{:.3}", s * 1e3)),
                g.map_or("-".into(), |(s, _)| format!("{:.3}", gflops(s))),
                g.map_or("-".into(), |(_, d)| d.to_string()),
            );
        }
    }
}
