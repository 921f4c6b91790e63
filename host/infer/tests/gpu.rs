//! The GPU path against PyTorch and the CPU ops: every fixture case at every stored batch size,
//! the reference examples, single kernels at awkward sizes, dispatch counts, buffer reuse, batch
//! chunking past the binding limit and ensembles in one submit.
//!
//! The tests open any adapter (lavapipe in CI). Without one they fail, unless `STRATBOX_NO_GPU=1`
//! is set, in which case they print why and pass.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use ndarray::{Array1, Array2, Array3, ArrayView2, Axis, s};
use safetensors::SafeTensors;
use stratbox_infer::gpu::{self, Act, AdapterPolicy, GpuContext, GpuModel, Pool, ops};
use stratbox_infer::manifest::{CnnSpec, LstmSpec, Manifest, TransformerSpec};
use stratbox_infer::weights::{CnnWeights, Conv1d, LayerNorm, Linear, LstmLayer, Weights};
use stratbox_infer::{Compute, InferError, Model, cpu};

/// Relative error allowed against PyTorch, ‖out − ref‖ / ‖ref‖.
const TOLERANCE: f64 = 1e-4;

fn context() -> Option<Arc<GpuContext>> {
    static CONTEXT: OnceLock<Result<Arc<GpuContext>, String>> = OnceLock::new();
    let opened = CONTEXT.get_or_init(|| {
        GpuContext::new(AdapterPolicy::Any)
            .map(Arc::new)
            .map_err(|e| e.to_string())
    });
    match opened {
        Ok(ctx) => Some(ctx.clone()),
        Err(e) if std::env::var("STRATBOX_NO_GPU").as_deref() == Ok("1") => {
            eprintln!("skipping a GPU test: {e} (STRATBOX_NO_GPU=1)");
            None
        }
        Err(e) => panic!(
            "no GPU adapter for the GPU tests: {e}. Install lavapipe (mesa-vulkan-drivers) or set \
             STRATBOX_NO_GPU=1 to skip them"
        ),
    }
}

fn fixtures() -> PathBuf {
    manifest_dir().join("../../tests/fixtures/models")
}

fn splitmix64(x: u64) -> u64 {
    let x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let z = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The fixture input formula of tests/fixtures/models/README.md, as (batch, seq, features).
fn fixture_input(seed: u64, batch: usize, seq: usize, features: usize) -> Array3<f32> {
    let data = (0..(batch * seq * features) as u64)
        .map(|i| ((splitmix64(seed.wrapping_add(i)) >> 40) as f32) / 4_194_304.0 - 2.0)
        .collect();
    Array3::from_shape_vec((batch, seq, features), data).expect("sizes")
}

fn tensor(tensors: &SafeTensors, name: &str) -> (Vec<usize>, Vec<f32>) {
    let view = tensors
        .tensor(name)
        .unwrap_or_else(|_| panic!("tensor {name}"));
    let data = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (view.shape().to_vec(), data)
}

fn relative_error(out: &[f32], reference: &[f32]) -> f64 {
    assert_eq!(out.len(), reference.len());
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (&o, &r) in out.iter().zip(reference) {
        diff += (f64::from(o) - f64::from(r)).powi(2);
        norm += f64::from(r).powi(2);
    }
    (diff / norm.max(f64::MIN_POSITIVE)).sqrt()
}

fn max_abs_error(out: &[f32], reference: &[f64]) -> f64 {
    out.iter()
        .zip(reference)
        .map(|(&o, &r)| (f64::from(o) - r).abs())
        .fold(0.0, f64::max)
}

fn rel_error_f64(out: &[f32], reference: &[f64]) -> f64 {
    let diff: f64 = out
        .iter()
        .zip(reference)
        .map(|(&o, &r)| (f64::from(o) - r).powi(2))
        .sum();
    let norm: f64 = reference.iter().map(|r| r * r).sum();
    (diff / norm.max(f64::MIN_POSITIVE)).sqrt()
}

/// Dispatches one inference records, as documented in `gpu`.
fn expected_dispatches(manifest: &Manifest) -> usize {
    match manifest {
        Manifest::Lstm(s) => 2 * s.layers + 1,
        Manifest::Transformer(s) => 2 + 7 * s.layers,
        Manifest::Cnn(s) => s.channels.len() + 1,
        Manifest::Logistic(_) | Manifest::Gbt(_) => 0, // run on the CPU
    }
}

fn load(dir: &Path, name: &str) -> (Manifest, Weights) {
    let manifest = Manifest::load(&dir.join(format!("{name}.json"))).expect("manifest");
    let weights =
        Weights::load(&manifest, &dir.join(format!("{name}.safetensors"))).expect("weights");
    (manifest, weights)
}

/// Runs every fixture case of one architecture at every stored batch size; returns the worst
/// relative error.
fn check_fixture_cases(arch: &str) -> Option<f64> {
    let ctx = context()?;
    let dir = fixtures();
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).expect("cases.json"))
            .expect("cases.json is JSON");
    let mut worst = 0.0f64;
    let mut count = 0;
    for case in cases["cases"].as_array().expect("cases") {
        if case["arch"] != arch {
            continue;
        }
        let name = case["name"].as_str().expect("name");
        let seed = case["seed"].as_u64().expect("seed");
        let seq = case["seq"].as_u64().expect("seq") as usize;
        let features = case["n_features"].as_u64().expect("n_features") as usize;
        let (manifest, weights) = load(&dir, name);
        let bytes = std::fs::read(dir.join(format!("{name}_expected.safetensors"))).expect("file");
        let expected = SafeTensors::deserialize(&bytes).expect("safetensors");
        let input = fixture_input(seed, 256, seq, features);
        let head: Vec<f32> = input.iter().take(4).copied().collect();
        for (k, h) in case["input_head"]
            .as_array()
            .expect("input_head")
            .iter()
            .enumerate()
        {
            assert_eq!(
                head[k],
                h.as_f64().expect("number") as f32,
                "{name}: input formula"
            );
        }
        let mut model = GpuModel::new(ctx.clone(), &manifest, &weights).expect("model");
        for batch in case["batches"].as_array().expect("batches") {
            let batch = batch.as_u64().expect("batch") as usize;
            let started = Instant::now();
            let out = model
                .infer(input.slice(s![..batch, .., ..]))
                .expect("inference");
            let elapsed = started.elapsed();
            let (shape, reference) = tensor(&expected, &format!("b{batch}"));
            assert_eq!(out.shape(), &shape[..], "{name} b{batch}");
            let err = relative_error(out.as_slice().expect("standard"), &reference);
            eprintln!(
                "{name:34} b{batch:<3} rel err {err:.2e}  {:7.1} ms",
                elapsed.as_secs_f64() * 1e3
            );
            assert!(err <= TOLERANCE, "{name} b{batch}: relative error {err:e}");
            assert_eq!(
                model.last_dispatches(),
                expected_dispatches(&manifest),
                "{name}"
            );
            worst = worst.max(err);
        }
        count += 1;
    }
    assert!(count > 0, "no {arch} cases in cases.json");
    eprintln!("{arch}: {count} cases, worst relative error {worst:.2e}");
    Some(worst)
}

#[test]
fn lstm_fixtures_match_pytorch() {
    check_fixture_cases("lstm");
}

#[test]
fn transformer_fixtures_match_pytorch() {
    check_fixture_cases("transformer");
}

#[test]
fn cnn_fixtures_match_pytorch() {
    check_fixture_cases("cnn");
}

#[test]
fn reference_examples_match_pytorch() {
    let Some(ctx) = context() else { return };
    let dir = fixtures().join("reference");
    for name in ["lstm", "transformer", "cnn"] {
        let (manifest, weights) = load(&dir, name);
        let bytes = std::fs::read(dir.join(format!("{name}_io.safetensors"))).expect("io file");
        let io = SafeTensors::deserialize(&bytes).expect("safetensors");
        let (shape, input) = tensor(&io, "input");
        let input = Array3::from_shape_vec((shape[0], shape[1], shape[2]), input).expect("input");
        let (_, output) = tensor(&io, "output");
        // Through the crate's Model, as the host runs it.
        let compute = Compute::Gpu(ctx.clone());
        let mut model = Model::new(manifest.clone(), Arc::new(weights), &compute).expect("model");
        assert_eq!(model.device(), "gpu");
        let out = model.infer(input.view()).expect("inference");
        let err = relative_error(out.as_slice().expect("standard"), &output);
        eprintln!("reference {name}: rel err {err:.2e}");
        assert!(err <= TOLERANCE, "reference {name}: relative error {err:e}");
        assert_eq!(model.last_dispatches(), expected_dispatches(&manifest));
    }
}

#[test]
fn repeat_inference_with_a_known_shape_creates_no_buffers() {
    let Some(ctx) = context() else { return };
    let (manifest, weights) = load(&fixtures().join("reference"), "lstm");
    let mut model = GpuModel::new(ctx, &manifest, &weights).expect("model");
    // 2 layers × (W_ih, b_ih + b_hh, W_hh) + head weight and bias.
    assert_eq!(model.buffers_created(), 8);
    let a = fixture_input(1, 4, 64, 16);
    let first = model.infer(a.view()).expect("inference");
    // Input staging, input, logits, readback, parameter block, gate inputs, two h sequences.
    assert_eq!(model.buffers_created(), 16);
    let again = model.infer(a.view()).expect("inference");
    assert_eq!(
        model.buffers_created(),
        16,
        "a known shape must not allocate"
    );
    assert_eq!(first, again);
    let b = fixture_input(2, 5, 30, 16);
    model.infer(b.view()).expect("inference");
    assert_eq!(
        model.buffers_created(),
        24,
        "a new shape builds its buffers once"
    );
    model.infer(a.view()).expect("inference");
    model.infer(b.view()).expect("inference");
    assert_eq!(model.buffers_created(), 24, "both shapes are cached");
    // Beyond MAX_SHAPES the least recently used shape is dropped and rebuilt on demand.
    for seq in 1..=gpu::MAX_SHAPES {
        model
            .infer(fixture_input(3, 1, seq, 16).view())
            .expect("inference");
    }
    let before = model.buffers_created();
    model.infer(a.view()).expect("inference");
    assert_eq!(model.buffers_created(), before + 8, "evicted shape rebuilt");
}

#[test]
fn ensemble_runs_in_one_submit() {
    let Some(ctx) = context() else { return };
    let dir = fixtures().join("reference");
    let mut models: Vec<(Manifest, GpuModel)> = ["lstm", "transformer", "cnn"]
        .iter()
        .map(|name| {
            let (manifest, weights) = load(&dir, name);
            let model = GpuModel::new(ctx.clone(), &manifest, &weights).expect("model");
            (manifest, model)
        })
        .collect();
    let inputs: Vec<Array3<f32>> = (0..3)
        .map(|k| fixture_input(40 + k, 9 + k as usize, 20, 16))
        .collect();
    let singles: Vec<Array2<f32>> = models
        .iter_mut()
        .zip(&inputs)
        .map(|((_, m), x)| m.infer(x.view()).expect("single"))
        .collect();
    let mut refs: Vec<&mut GpuModel> = models.iter_mut().map(|(_, m)| m).collect();
    let views: Vec<_> = inputs.iter().map(|x| x.view()).collect();
    let started = Instant::now();
    let together = gpu::infer_many(&mut refs, &views).expect("ensemble");
    eprintln!(
        "ensemble of 3 in one submit: {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    for (((manifest, model), single), joint) in models.iter().zip(&singles).zip(&together) {
        assert_eq!(single, joint, "{}", manifest.arch());
        assert_eq!(model.last_dispatches(), expected_dispatches(manifest));
    }
    let mut refs: Vec<&mut GpuModel> = models.iter_mut().map(|(_, m)| m).collect();
    assert!(
        gpu::infer_many(&mut refs, &views[..2]).is_err(),
        "one input per model"
    );
    assert!(
        gpu::infer_many(&mut [], &[])
            .expect("nothing to run")
            .is_empty()
    );
}

#[test]
fn batches_past_the_binding_limit_run_in_chunks() {
    let Some(ctx) = context() else { return };
    // One sample of 16 steps × 8192 channels is 512 KiB of activations.
    let (seq, channels) = (16, 8192);
    let sample = (seq * channels * 4) as u64;
    let limit = ctx.device.limits().max_storage_buffer_binding_size;
    if limit > 512 << 20 {
        eprintln!("skipping chunking: the binding limit ({limit} bytes) would need a huge batch");
        return;
    }
    let fit = (limit / sample) as usize;
    let batch = fit + 3;
    let weights = Weights::Cnn(CnnWeights {
        convs: vec![Conv1d {
            weight: Array3::from_shape_fn((channels, 1, 1), |(o, _, _)| (o % 7) as f32 * 0.1 - 0.3),
            bias: Array1::from_shape_fn(channels, |o| (o % 5) as f32 * 0.01),
            dilation: 1,
        }],
        head: Linear {
            weight: Array2::from_shape_fn((2, channels), |(i, c)| ((i + c) % 3) as f32 * 1e-3),
            bias: Array1::from_vec(vec![0.5, -0.5]),
        },
    });
    let manifest = Manifest::Cnn(CnnSpec {
        n_features: 1,
        channels: vec![channels],
        kernels: vec![1],
        dilations: vec![1],
        n_out: 2,
    });
    let input = fixture_input(5, batch, seq, 1);
    let mut model = GpuModel::new(ctx, &manifest, &weights).expect("model");
    let out = model.infer(input.view()).expect("inference");
    let reference = cpu::forward(&manifest, &weights, input.view());
    let err = relative_error(
        out.as_slice().expect("standard"),
        reference.as_slice().expect("std"),
    );
    assert!(err <= TOLERANCE, "chunked batch: relative error {err:e}");
    assert_eq!(
        model.last_dispatches(),
        2 * expected_dispatches(&manifest),
        "two chunks"
    );
}

#[test]
fn a_sample_wider_than_the_binding_limit_is_an_error_naming_it() {
    let Some(ctx) = context() else { return };
    let limit = ctx.device.limits().max_storage_buffer_binding_size;
    let seq = usize::try_from(limit / 4).expect("fits") + 1;
    let manifest = Manifest::Cnn(CnnSpec {
        n_features: 1,
        channels: vec![1],
        kernels: vec![1],
        dilations: vec![1],
        n_out: 1,
    });
    let weights = Weights::Cnn(CnnWeights {
        convs: vec![Conv1d {
            weight: Array3::ones((1, 1, 1)),
            bias: Array1::zeros(1),
            dilation: 1,
        }],
        head: Linear {
            weight: Array2::ones((1, 1)),
            bias: Array1::zeros(1),
        },
    });
    let mut model = GpuModel::new(ctx, &manifest, &weights).expect("model");
    let err = model
        .infer(Array3::zeros((1, seq, 1)).view())
        .expect_err("too wide");
    assert!(matches!(err, InferError::Gpu(_)), "{err}");
    assert!(
        err.to_string().contains("binds per storage buffer"),
        "{err}"
    );
}

// ---- single kernels against references ----------------------------------------------------

/// Deterministic values in [-scale, scale).
fn values(seed: u64, shape: (usize, usize), scale: f32) -> Array2<f32> {
    let mut i = 0u64;
    Array2::from_shape_simple_fn(shape, || {
        i += 1;
        (((splitmix64(seed.wrapping_add(i)) >> 40) as f32) / 8_388_608.0 - 1.0) * scale
    })
}

fn linear_reference(
    x: ArrayView2<f32>,
    w: ArrayView2<f32>,
    b: &Array1<f32>,
    act: Act,
    residual: Option<ArrayView2<f32>>,
) -> Vec<f64> {
    let (m, k) = x.dim();
    let n = w.nrows();
    let mut out = Vec::with_capacity(m * n);
    for r in 0..m {
        for c in 0..n {
            let mut v = f64::from(b[c]);
            for i in 0..k {
                v += f64::from(x[[r, i]]) * f64::from(w[[c, i]]);
            }
            v = match act {
                Act::Identity => v,
                Act::Relu => v.max(0.0),
                Act::Gelu => 0.5 * v * libm::erfc(-v / std::f64::consts::SQRT_2),
            };
            if let Some(res) = &residual {
                v += f64::from(res[[r % res.nrows(), c]]);
            }
            out.push(v);
        }
    }
    out
}

#[test]
fn matmul_at_awkward_sizes() {
    let Some(ctx) = context() else { return };
    let sizes = [
        (1, 1, 1),
        (33, 31, 17),
        (70, 65, 1),
        (5, 3, 100),
        (64, 32, 16),
        (97, 7, 300),
    ];
    for (t, &(m, n, k)) in sizes.iter().enumerate() {
        let x = values(10 + t as u64, (m, k), 2.0);
        let w = values(20 + t as u64, (n, k), 0.5);
        let b = values(30 + t as u64, (1, n), 0.5).row(0).to_owned();
        let full = values(40 + t as u64, (m, n), 1.0);
        let table = values(50 + t as u64, (3, n), 1.0);
        let cases: [(Act, Option<ArrayView2<f32>>); 5] = [
            (Act::Identity, None),
            (Act::Relu, None),
            (Act::Gelu, None),
            (Act::Identity, Some(full.view())),
            (Act::Gelu, Some(table.view())),
        ];
        for (act, residual) in cases {
            let out =
                ops::linear(&ctx, x.view(), w.view(), b.view(), act, residual).expect("linear");
            let reference = linear_reference(x.view(), w.view(), &b, act, residual);
            let err = max_abs_error(out.as_slice().expect("std"), &reference);
            assert!(
                err < 2e-5,
                "m {m} n {n} k {k} {act:?}: max abs error {err:e}"
            );
        }
    }
}

#[test]
fn gelu_matches_the_erf_form() {
    let Some(ctx) = context() else { return };
    let mut xs: Vec<f32> = (0..8001).map(|i| i as f32 * 0.0025 - 10.0).collect();
    xs.extend([-1e4, -30.0, -1e-3, -1e-6, 1e-6, 1e-3, 30.0, 1e4]);
    let x = Array2::from_shape_vec((xs.len(), 1), xs).expect("column");
    let one = Array2::ones((1, 1));
    let zero = Array1::zeros(1);
    let out = ops::linear(&ctx, x.view(), one.view(), zero.view(), Act::Gelu, None).expect("gelu");
    let reference = linear_reference(x.view(), one.view(), &zero, Act::Gelu, None);
    let abs = max_abs_error(out.as_slice().expect("std"), &reference);
    // Within 1e-6 of the value, or 1e-8 absolute in the far negative tail, where f32's
    // exp(-x²/2) alone carries a relative error of about x²/2 · 6e-8.
    for (x, (&o, r)) in x.iter().zip(out.iter().zip(&reference)) {
        let err = (f64::from(o) - r).abs();
        assert!(
            err <= 1e-6 * r.abs() + 1e-8,
            "gelu({x}) = {o:e}, erf form {r:e}"
        );
    }
    eprintln!("gelu: max abs error {abs:.2e}");
    assert!(abs < 5e-7, "gelu: max abs error {abs:e}");
}

#[test]
fn matvec_and_pooling() {
    let Some(ctx) = context() else { return };
    for &(rows, n, k) in &[(1, 1, 1), (3, 70, 300), (7, 3, 256), (2, 64, 257)] {
        let x = values(60, (rows, k), 1.5);
        let w = values(61, (n, k), 0.3);
        let b = values(62, (1, n), 0.3).row(0).to_owned();
        let out = ops::matvec(&ctx, x.view(), w.view(), b.view()).expect("matvec");
        let reference = linear_reference(x.view(), w.view(), &b, Act::Identity, None);
        let err = max_abs_error(out.as_slice().expect("std"), &reference);
        assert!(err < 2e-5, "matvec rows {rows} n {n} k {k}: {err:e}");
    }
    let (batch, steps, k, n) = (5, 9, 300, 4);
    let x = values(63, (batch * steps, k), 1.0)
        .into_shape_with_order((batch, steps, k))
        .unwrap();
    let w = values(64, (n, k), 0.3);
    let b = values(65, (1, n), 0.3).row(0).to_owned();
    for pool in [Pool::Mean, Pool::Last] {
        let out = ops::pooled_matvec(&ctx, x.view(), w.view(), b.view(), pool).expect("pooled");
        let pooled = match pool {
            Pool::Mean => x.mean_axis(Axis(1)).expect("steps"),
            Pool::Last => x.index_axis(Axis(1), steps - 1).to_owned(),
        };
        let reference = linear_reference(pooled.view(), w.view(), &b, Act::Identity, None);
        let err = max_abs_error(out.as_slice().expect("std"), &reference);
        assert!(err < 2e-5, "{pool:?}: {err:e}");
    }
}

#[test]
fn softmax_survives_huge_values() {
    let Some(ctx) = context() else { return };
    let mut x = values(70, (6, 1000), 50.0);
    x.row_mut(0).fill(0.0);
    x.row_mut(1).assign(&Array1::from_shape_fn(1000, |i| {
        if i == 3 { 1e30 } else { -1e30 }
    }));
    x.row_mut(2).mapv_inplace(|v| v * 1e6);
    x.row_mut(3).mapv_inplace(|v| v + 1e4);
    x.row_mut(4).mapv_inplace(|v| v * 1e36);
    let small = Array2::from_shape_vec((2, 3), vec![1000.0f32, 1001.0, 999.0, -1e30, 0.0, 0.0])
        .expect("shape");
    for input in [x, small] {
        let out = ops::softmax_rows(&ctx, input.view()).expect("softmax");
        let mut reference = input.clone();
        cpu::ops::softmax_rows(&mut reference);
        assert!(out.iter().all(|v| v.is_finite()));
        for row in out.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-5);
        }
        let err = out
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-6, "softmax: max abs error {err:e}");
    }
}

#[test]
fn attention_at_awkward_head_sizes() {
    let Some(ctx) = context() else { return };
    // (batch, seq, heads, head_dim): one-dimensional heads, more than 32 keys (several key
    // chunks), more than 64 queries (several query blocks), a single step.
    let cases = [
        (2, 5, 3, 1),
        (3, 33, 2, 2),
        (2, 70, 1, 10),
        (1, 1, 4, 10),
        (2, 17, 2, 20),
    ];
    for (t, &(batch, seq, heads, hd)) in cases.iter().enumerate() {
        let d = heads * hd;
        for scale in [1.0f32, 30.0] {
            let qkv = values(80 + t as u64, (batch * seq, 3 * d), scale);
            let out = ops::attention(&ctx, qkv.view(), batch, seq, heads).expect("attention");
            let reference = cpu::ops::self_attention(qkv.view(), batch, seq, heads);
            let err = relative_error(
                out.as_slice().expect("std"),
                reference.as_slice().expect("std"),
            );
            assert!(
                err < 1e-5,
                "batch {batch} seq {seq} heads {heads} hd {hd} ×{scale}: {err:e}"
            );
        }
    }
}

#[test]
fn layer_norm_matches_the_cpu() {
    let Some(ctx) = context() else { return };
    for (t, &d) in [1usize, 7, 64, 100].iter().enumerate() {
        let x = values(90 + t as u64, (70, d), 3.0);
        let norm = LayerNorm {
            weight: values(91, (1, d), 1.0).row(0).to_owned(),
            bias: values(92, (1, d), 1.0).row(0).to_owned(),
        };
        let out = ops::layer_norm(&ctx, x.view(), &norm).expect("layer norm");
        let mut reference = x.clone();
        cpu::ops::layer_norm(&mut reference, &norm);
        let err = out
            .iter()
            .zip(&reference)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-5, "d {d}: max abs error {err:e}");
    }
}

/// PyTorch's causal Conv1d with left padding dilation · (k − 1), in f64, (batch, seq, out).
fn conv_reference(x: &Array3<f32>, conv: &Conv1d, act: Act) -> Vec<f64> {
    let (batch, seq, in_ch) = x.dim();
    let (out_ch, _, taps) = conv.weight.dim();
    let mut out = Vec::new();
    for b in 0..batch {
        for t in 0..seq {
            for o in 0..out_ch {
                let mut v = f64::from(conv.bias[o]);
                for j in 0..taps {
                    let shift = conv.dilation * (taps - 1 - j);
                    if t >= shift {
                        for c in 0..in_ch {
                            v +=
                                f64::from(conv.weight[[o, c, j]]) * f64::from(x[[b, t - shift, c]]);
                        }
                    }
                }
                out.push(if act == Act::Relu { v.max(0.0) } else { v });
            }
        }
    }
    out
}

#[test]
fn causal_convolution_including_dilation_past_the_sequence() {
    let Some(ctx) = context() else { return };
    // (batch, seq, in, out, taps, dilation)
    let cases = [
        (3, 5, 4, 6, 3, 7),
        (2, 17, 5, 33, 3, 2),
        (2, 9, 3, 4, 1, 1),
        (1, 1, 7, 50, 7, 4),
        (4, 40, 16, 40, 7, 8),
    ];
    for (t, &(batch, seq, in_ch, out_ch, taps, dilation)) in cases.iter().enumerate() {
        let x = values(100 + t as u64, (batch * seq, in_ch), 2.0)
            .into_shape_with_order((batch, seq, in_ch))
            .expect("shape");
        let conv = Conv1d {
            weight: values(110 + t as u64, (out_ch, in_ch * taps), 0.4)
                .into_shape_with_order((out_ch, in_ch, taps))
                .expect("shape"),
            bias: values(120 + t as u64, (1, out_ch), 0.4).row(0).to_owned(),
            dilation,
        };
        for act in [Act::Identity, Act::Relu] {
            let out = ops::conv1d(&ctx, x.view(), &conv, act).expect("conv");
            let reference = conv_reference(&x, &conv, act);
            let err = max_abs_error(out.as_slice().expect("std"), &reference);
            assert!(err < 2e-5, "conv case {t} {act:?}: max abs error {err:e}");
        }
    }
}

/// One LSTM layer in f64 (gate order i, f, g, o; both biases), every step's h.
fn lstm_reference(x: &Array3<f32>, layer: &LstmLayer) -> Vec<f64> {
    let (batch, seq, input) = x.dim();
    let hidden = layer.w_hh.ncols();
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    let mut out = Vec::new();
    for b in 0..batch {
        let mut h = vec![0.0f64; hidden];
        let mut c = vec![0.0f64; hidden];
        for t in 0..seq {
            let gates: Vec<f64> = (0..4 * hidden)
                .map(|g| {
                    let mut v = f64::from(layer.b_ih[g]) + f64::from(layer.b_hh[g]);
                    for i in 0..input {
                        v += f64::from(layer.w_ih[[g, i]]) * f64::from(x[[b, t, i]]);
                    }
                    for (k, hk) in h.iter().enumerate() {
                        v += f64::from(layer.w_hh[[g, k]]) * hk;
                    }
                    v
                })
                .collect();
            for j in 0..hidden {
                let i = sigmoid(gates[j]);
                let f = sigmoid(gates[hidden + j]);
                let g = gates[2 * hidden + j].tanh();
                let o = sigmoid(gates[3 * hidden + j]);
                c[j] = f * c[j] + i * g;
                h[j] = o * c[j].tanh();
            }
            out.extend_from_slice(&h);
        }
    }
    out
}

#[test]
fn fused_lstm_layer_matches_the_recurrence() {
    let Some(ctx) = context() else { return };
    // (batch, seq, input, hidden): a single unit, units that do not fill a workgroup, more units
    // than invocations, a batch that is not a multiple of the samples per task (4), and units
    // so many that workgroup memory allows fewer samples per task.
    for (t, &(batch, seq, input, hidden)) in [
        (5, 9, 3, 1),
        (7, 12, 5, 3),
        (3, 6, 2, 70),
        (2, 1, 4, 16),
        (9, 5, 3, 33),
        (3, 4, 3, 700),
    ]
    .iter()
    .enumerate()
    {
        let x = values(130 + t as u64, (batch * seq, input), 2.0)
            .into_shape_with_order((batch, seq, input))
            .expect("shape");
        let layer = LstmLayer {
            w_ih: values(140 + t as u64, (4 * hidden, input), 0.6),
            w_hh: values(150 + t as u64, (4 * hidden, hidden), 0.6),
            b_ih: values(160 + t as u64, (1, 4 * hidden), 0.3)
                .row(0)
                .to_owned(),
            b_hh: values(170 + t as u64, (1, 4 * hidden), 0.3)
                .row(0)
                .to_owned(),
        };
        let out = ops::lstm_layer(&ctx, x.view(), &layer).expect("lstm layer");
        assert_eq!(out.dim(), (batch, seq, hidden));
        let reference = lstm_reference(&x, &layer);
        let err = rel_error_f64(out.as_slice().expect("std"), &reference);
        assert!(err < 1e-5, "lstm case {t}: relative error {err:e}");
    }
}

#[test]
fn transformer_with_short_sequences_and_one_step() {
    // The position table has 64 rows; feeding fewer steps uses its first rows only.
    let Some(ctx) = context() else { return };
    let (manifest, weights) = load(&fixtures().join("reference"), "transformer");
    let Manifest::Transformer(TransformerSpec { n_features, .. }) = manifest else {
        panic!("transformer manifest")
    };
    let mut model = GpuModel::new(ctx, &manifest, &weights).expect("model");
    for seq in [1, 2, 63, 64] {
        let input = fixture_input(7, 3, seq, n_features);
        let out = model.infer(input.view()).expect("inference");
        let reference = cpu::forward(&manifest, &weights, input.view());
        let err = relative_error(
            out.as_slice().expect("std"),
            reference.as_slice().expect("std"),
        );
        assert!(err <= TOLERANCE, "seq {seq}: {err:e}");
    }
}

#[test]
fn mismatched_inputs_are_errors() {
    let Some(ctx) = context() else { return };
    let manifest = Manifest::Lstm(LstmSpec {
        n_features: 2,
        hidden: 3,
        layers: 1,
        n_out: 2,
    });
    let weights = Weights::Lstm(stratbox_infer::weights::LstmWeights {
        layers: vec![LstmLayer {
            w_ih: Array2::zeros((12, 2)),
            w_hh: Array2::zeros((12, 3)),
            b_ih: Array1::zeros(12),
            b_hh: Array1::zeros(12),
        }],
        head: Linear {
            weight: Array2::zeros((2, 3)),
            bias: Array1::zeros(2),
        },
    });
    let mut model = GpuModel::new(ctx, &manifest, &weights).expect("model");
    assert!(matches!(
        model.infer(Array3::zeros((2, 4, 3)).view()),
        Err(InferError::Input(_))
    ));
    assert!(matches!(
        model.infer(Array3::zeros((0, 4, 2)).view()),
        Err(InferError::Input(_))
    ));
    let out = model
        .infer(Array3::zeros((2, 4, 2)).view())
        .expect("inference");
    assert_eq!(out, Array2::<f32>::zeros((2, 2)));
}

#[test]
#[ignore = "timing report: cargo test -p stratbox-infer --test gpu -- --ignored --nocapture"]
fn timings() {
    let Some(ctx) = context() else { return };
    let dir = fixtures().join("reference");
    for name in ["lstm", "transformer", "cnn"] {
        let (manifest, weights) = load(&dir, name);
        let mut model = GpuModel::new(ctx.clone(), &manifest, &weights).expect("model");
        for batch in [1, 64, 256] {
            let input = fixture_input(9, batch, 64, manifest.n_features());
            model.infer(input.view()).expect("warm-up");
            let runs = 3;
            let started = Instant::now();
            for _ in 0..runs {
                model.infer(input.view()).expect("inference");
            }
            let ms = started.elapsed().as_secs_f64() * 1e3 / f64::from(runs);
            eprintln!("{name:12} batch {batch:3} × 64 steps: {ms:8.1} ms per inference");
        }
    }
}

#[test]
fn models_run_concurrently_on_one_device() {
    let Some(ctx) = context() else { return };
    let dir = fixtures().join("reference");
    std::thread::scope(|scope| {
        for (t, name) in ["lstm", "transformer", "cnn", "lstm"]
            .into_iter()
            .enumerate()
        {
            let ctx = ctx.clone();
            let dir = &dir;
            scope.spawn(move || {
                let (manifest, weights) = load(dir, name);
                let mut model = GpuModel::new(ctx, &manifest, &weights).expect("model");
                let input = fixture_input(t as u64, 2, 4, 16);
                let first = model.infer(input.view()).expect("inference");
                for _ in 0..40 {
                    assert_eq!(
                        model.infer(input.view()).expect("inference"),
                        first,
                        "{name}"
                    );
                }
            });
        }
    });
}

#[test]
fn grids_past_the_per_dimension_limit_fold_into_two_dimensions() {
    let Some(ctx) = context() else { return };
    // One invocation per row, 64 per workgroup: more workgroups than one dimension allows.
    let max = ctx.device.limits().max_compute_workgroups_per_dimension as usize;
    let rows = 64 * max + 77;
    let x = Array2::from_shape_fn((rows, 2), |(r, c)| {
        if c == 0 { (r % 997) as f32 * 0.01 } else { 0.0 }
    });
    let out = ops::softmax_rows(&ctx, x.view()).expect("softmax");
    for r in [0, 1, 64 * max - 1, 64 * max, rows - 1] {
        let expect = 1.0 / (1.0 + (-x[[r, 0]]).exp());
        assert!(
            (out[[r, 0]] - expect).abs() < 1e-6,
            "row {r}: {} vs {expect}",
            out[[r, 0]]
        );
    }
    let worst = out
        .rows()
        .into_iter()
        .zip(x.rows())
        .map(|(o, x)| (o[0] - 1.0 / (1.0 + (-x[0]).exp())).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-6, "worst row error {worst:e}");
}

/// The package's directory: where the test runner says it is (cargo and nextest set
/// `CARGO_MANIFEST_DIR` when they run a test), else where it was built, so a test binary
/// reused from another checkout in a shared target directory reads this checkout's files.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .into()
}
