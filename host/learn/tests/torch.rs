//! The networks' training against PyTorch, on the fixtures of `tests/fixtures/learn/neural`
//! (generate.py beside them): gradients equal autograd's, AdamW, clipping and the schedule
//! equal torch.optim's, and a model trained here gives in PyTorch what it gives in our
//! inference.

use ndarray::{Array2, Array3, ArrayView3};
use safetensors::SafeTensors;
use serde_json::Value;
use std::path::{Path, PathBuf};
use stratbox_infer::Manifest;
use stratbox_learn::neural::loss::cross_entropy;
use stratbox_learn::neural::optim::{AdamState, AdamW, Schedule, clip_grad_norm, learning_rate};
use stratbox_learn::neural::params::{Params, read_f32};
use stratbox_learn::neural::{
    Architecture, LstmShape, Network, Neural, Training, TransformerShape,
};
use stratbox_learn::neural::{CnnShape, EpochReport};
use stratbox_learn::split::Span;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/learn/neural")
}

fn tensor(file: &SafeTensors<'_>, name: &str) -> (Vec<usize>, Vec<f32>) {
    let view = file.tensor(name).unwrap_or_else(|_| panic!("{name}"));
    let shape = view.shape().to_vec();
    (shape.clone(), read_f32(file, name, &shape).unwrap())
}

/// Asserts `a` is within `1e-5 + 1e-4·|b|` of `b` everywhere.
fn assert_close(what: &str, a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let tol = 1e-5 + 1e-4 * y.abs();
        assert!((x - y).abs() <= tol, "{what}[{i}]: {x} vs expected {y}");
    }
}

#[test]
fn gradients_equal_pytorch_autograd_for_every_architecture() {
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("cases.json")).unwrap()).unwrap();
    let cases = cases["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let manifest = Manifest::from_json(&case["manifest"].to_string()).unwrap();
        let bytes = std::fs::read(dir().join(format!("{name}.safetensors"))).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let (network, mut params) = Network::new(&manifest, 99).unwrap();
        params.load(&bytes, "param.").unwrap();
        let (shape, x) = tensor(&file, "x");
        let x = Array3::from_shape_vec((shape[0], shape[1], shape[2]), x).unwrap();
        let y: Vec<usize> = tensor(&file, "y").1.iter().map(|v| *v as usize).collect();
        let sample_w = tensor(&file, "sample_weight").1;
        let class_w = tensor(&file, "class_weight").1;
        let w: Vec<f32> = y
            .iter()
            .zip(&sample_w)
            .map(|(&k, s)| s * class_w[k])
            .collect();
        assert_close(
            &format!("{name} logits"),
            network.logits(&params, x.view()).as_slice().unwrap(),
            &tensor(&file, "logits").1,
        );
        let loss = network.backprop(&mut params, x.view(), |l| cross_entropy(l, &y, &w));
        assert_close(&format!("{name} loss"), &[loss], &tensor(&file, "loss").1);
        for p in &params.list {
            let (_, expected) = tensor(&file, &format!("grad.{}", p.name));
            assert_close(&format!("{name} grad.{}", p.name), &p.grad, &expected);
            assert!(p.grad.iter().any(|g| *g != 0.0), "{name} {}", p.name);
        }
    }
}

#[test]
fn adamw_and_gradient_clipping_equal_torch_optim() {
    let bytes = std::fs::read(dir().join("adamw.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let settings = tensor(&file, "settings").1;
    let [lr, beta1, beta2, eps, weight_decay, max_norm] = settings[..] else {
        panic!("six settings")
    };
    let mut params = Params::default();
    for name in ["a", "b"] {
        let (shape, init) = tensor(&file, &format!("init.{name}"));
        params.add(name, &shape, init);
    }
    let mut adam = AdamState::new(
        AdamW {
            beta1,
            beta2,
            eps,
            weight_decay,
        },
        &params,
    );
    for step in 1..=3 {
        for p in &mut params.list {
            p.grad = tensor(&file, &format!("grad{step}.{}", p.name)).1;
        }
        clip_grad_norm(&mut params, max_norm);
        adam.step(&mut params, lr);
        for p in &params.list {
            let expected = tensor(&file, &format!("after{step}.{}", p.name)).1;
            assert_close(&format!("step {step} {}", p.name), &p.value, &expected);
        }
    }
}

#[test]
fn the_warm_up_and_cosine_schedule_is_pytorchs() {
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("schedule.json")).unwrap())
            .unwrap();
    let base = s["base_lr"].as_f64().unwrap();
    let epochs = s["epochs"].as_u64().unwrap() as usize;
    let warmup = s["warmup"].as_u64().unwrap() as usize;
    for (epoch, expected) in s["lrs"].as_array().unwrap().iter().enumerate() {
        let lr = learning_rate(Schedule::Cosine, base, epoch, epochs, warmup);
        let expected = expected.as_f64().unwrap();
        assert!(
            (lr - expected).abs() < 1e-12,
            "epoch {epoch}: {lr} vs {expected}"
        );
    }
}

/// A learnable problem: class 1 when the first feature summed over the last four steps is
/// positive, else 0, with the other features noise (and one of them constant).
fn task(n: usize, seq: usize, seed: u64) -> (Array3<f32>, Vec<usize>) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let x = Array3::from_shape_fn((n, seq, 4), |(_, _, f)| match f {
        0 => next() + 0.3,
        1 => 100.0 + 20.0 * next(),
        2 => 5.0,
        _ => next(),
    });
    let y = (0..n)
        .map(|i| usize::from((seq - 4..seq).map(|t| x[[i, t, 0]] - 0.3).sum::<f32>() > 0.0))
        .collect();
    (x, y)
}

fn shapes() -> Vec<(&'static str, Architecture)> {
    vec![
        (
            "lstm",
            Architecture::Lstm(LstmShape {
                hidden: 12,
                layers: 2,
            }),
        ),
        (
            "cnn",
            Architecture::Cnn(CnnShape {
                channels: vec![8, 8],
                kernels: vec![3, 2],
                dilations: vec![1, 2],
            }),
        ),
        (
            "transformer",
            Architecture::Transformer(TransformerShape {
                d_model: 8,
                nhead: 2,
                layers: 1,
                ff: 16,
                ..TransformerShape::default()
            }),
        ),
    ]
}

fn accuracy(p: &Array2<f64>, y: &[usize]) -> f64 {
    let hits = p
        .rows()
        .into_iter()
        .zip(y)
        .filter(|(row, k)| (row[1] > row[0]) == (**k == 1))
        .count();
    hits as f64 / y.len() as f64
}

#[test]
fn every_network_learns_a_learnable_task_and_the_same_seed_gives_the_same_model() {
    let (x, y) = task(1200, 8, 1);
    let (test_x, test_y) = task(400, 8, 2);
    let training = Training {
        epochs: 25,
        batch: 32,
        learning_rate: 0.01,
        patience: 6,
        seed: 5,
        ..Training::default()
    };
    for (name, arch) in shapes() {
        let mut epochs: Vec<EpochReport> = Vec::new();
        let model = Neural::fit(
            &arch,
            x.view(),
            &y,
            None,
            2,
            &spans(x.dim().0),
            &training,
            |e| epochs.push(e.clone()),
        )
        .unwrap();
        let acc = accuracy(&model.probabilities(test_x.view()), &test_y);
        assert!(acc > 0.85, "{name}: accuracy {acc} out of sample");
        assert!(!epochs.is_empty() && epochs.iter().all(|e| e.validation_loss.is_some()));
        // Far below the untrained model's (ln 2 ≈ 0.69 for two near-even classes).
        let best = epochs
            .iter()
            .filter_map(|e| e.validation_loss)
            .fold(f64::INFINITY, f64::min);
        assert!(best < 0.4, "{name}: best validation loss {best}");
        let again = fit(&arch, &x, &y, &training);
        assert_eq!(
            model.exported(),
            again.exported(),
            "{name}: same seed, same model"
        );
        let other = Training {
            seed: 6,
            ..training.clone()
        };
        let third = fit(&arch, &x, &y, &other);
        assert_ne!(model.exported(), third.exported(), "{name}: another seed");
    }
}

/// Raw inputs of `manifest`'s model from the fixture generator's `fixture_input(11, ..)`.
fn fixture_input(batch: usize, seq: usize, features: usize) -> Array3<f32> {
    let splitmix = |x: u64| {
        let x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    Array3::from_shape_fn((batch, seq, features), |(b, t, f)| {
        let i = ((b * seq + t) * features + f) as u64;
        ((splitmix(11u64.wrapping_add(i)) >> 40) as f32) / 4_194_304.0 - 2.0
    })
}

fn infer(stem: &Path, x: ArrayView3<f32>) -> Array2<f32> {
    let compute = stratbox_infer::Compute::select(stratbox_infer::DeviceChoice::Cpu).unwrap();
    let mut model = stratbox_infer::Model::load(
        &stem.with_extension("json"),
        &stem.with_extension("safetensors"),
        &compute,
    )
    .unwrap();
    model.infer(x).unwrap()
}

/// Models trained here (3 epochs of the task above, seed 5) are committed in `trained/`, with
/// PyTorch's outputs for them (`generate.py --trained-only`): retraining gives the same
/// weights, and our inference of them gives PyTorch's outputs. `STRATBOX_WRITE_TRAINED=1`
/// rewrites the models instead (then rerun the generator).
#[test]
fn a_model_trained_here_gives_in_pytorch_what_it_gives_in_our_inference() {
    let (x, y) = task(300, 8, 3);
    let training = Training {
        epochs: 3,
        batch: 32,
        learning_rate: 0.01,
        seed: 5,
        ..Training::default()
    };
    let trained = dir().join("trained");
    let scratch = tempfile::tempdir().unwrap();
    let write = std::env::var("STRATBOX_WRITE_TRAINED").is_ok_and(|v| v == "1");
    for (name, arch) in shapes() {
        let model = fit(&arch, &x, &y, &training);
        if write {
            std::fs::create_dir_all(&trained).unwrap();
            model.export(&trained.join(name)).unwrap();
            continue;
        }
        let stem = scratch.path().join(name);
        model.export(&stem).unwrap();
        let ours = std::fs::read(stem.with_extension("safetensors")).unwrap();
        let committed = std::fs::read(trained.join(format!("{name}.safetensors"))).unwrap();
        let (ours, committed) = (
            SafeTensors::deserialize(&ours).unwrap(),
            SafeTensors::deserialize(&committed).unwrap(),
        );
        for p in model.exported().list {
            assert_close(
                &format!("retrained {name} {}", p.name),
                &tensor(&ours, &p.name).1,
                &tensor(&committed, &p.name).1,
            );
        }
        let io = std::fs::read(trained.join(format!("{name}_torch.safetensors"))).unwrap();
        let io = SafeTensors::deserialize(&io).unwrap();
        let (shape, input) = tensor(&io, "input");
        let input = Array3::from_shape_vec((shape[0], shape[1], shape[2]), input).unwrap();
        assert_eq!(input, fixture_input(shape[0], shape[1], shape[2]));
        let logits = infer(&trained.join(name), input.view());
        let torch = tensor(&io, "output").1;
        for (ours, theirs) in logits.iter().zip(&torch) {
            assert!(
                (ours - theirs).abs() <= 1e-5,
                "{name}: {ours} vs PyTorch {theirs}"
            );
        }
        // The exported model reads raw features as the trained one read standardised ones.
        let direct = model.logits(input.view());
        let (a, b) = (direct.as_slice().unwrap(), logits.as_slice().unwrap());
        for (u, v) in a.iter().zip(b) {
            assert!((u - v).abs() < 1e-4, "{name}: folded {v} vs trained {u}");
        }
    }
}

/// Spans of samples whose labels are their own bar's (no overlap to purge).
fn spans(n: usize) -> Vec<Span> {
    (0..n).map(|i| Span { start: i, end: i }).collect()
}

/// A two-class network of `arch` trained on `x` and `y` with `training`, no progress shown.
fn fit(arch: &Architecture, x: &Array3<f32>, y: &[usize], training: &Training) -> Neural {
    Neural::fit(
        arch,
        x.view(),
        y,
        None,
        2,
        &spans(x.dim().0),
        training,
        |_| (),
    )
    .unwrap()
}
