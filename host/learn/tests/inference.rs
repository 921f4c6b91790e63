//! Models trained here, written as the host's inference reads them, give the same
//! probabilities through `stratbox-infer`.

use ndarray::{Array2, Array3};
use std::path::Path;
use stratbox_learn::gbt::{Gbt, GbtSpec};
use stratbox_learn::logistic::{Logistic, LogisticSpec};

/// The class probabilities the model written at `stem` gives `x` (samples, features) through
/// the host's inference, fed as windows of two steps whose first is noise (the models read the
/// last).
fn through_inference(stem: &Path, x: &Array2<f64>) -> Array2<f64> {
    let compute = stratbox_infer::Compute::select(stratbox_infer::DeviceChoice::Cpu).unwrap();
    let mut loaded = stratbox_infer::Model::load(
        &stem.with_extension("json"),
        &stem.with_extension("safetensors"),
        &compute,
    )
    .unwrap();
    let input = Array3::from_shape_fn((x.nrows(), 2, x.ncols()), |(i, t, j)| {
        if t == 0 { 1e6 } else { x[[i, j]] as f32 }
    });
    let mut p = loaded.infer(input.view()).unwrap().mapv(f64::from);
    for mut row in p.rows_mut() {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    p
}

fn largest_difference(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    (a - b).iter().fold(0.0f64, |m, d| m.max(d.abs()))
}

/// Three classes by a ring and a half-plane: nothing linear.
fn data(n: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let mut x = Array2::zeros((n, 3));
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let (a, b, c) = (next(), next(), next());
        // Stored as float32 values, as the feature engine's windows hold them.
        x[[i, 0]] = f64::from(a as f32);
        x[[i, 1]] = f64::from(b as f32);
        x[[i, 2]] = f64::from(c as f32);
        y.push(if a * a + b * b < 0.4 {
            0
        } else if c > 0.0 {
            1
        } else {
            2
        });
    }
    (x, y)
}

#[test]
fn exported_trees_give_the_same_probabilities_through_inference() {
    let (x, y) = data(800, 1);
    let spec = GbtSpec {
        rounds: 30,
        max_depth: 3,
        ..GbtSpec::default()
    };
    let model = Gbt::fit(x.view(), &y, None, 3, &spec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("gbt");
    model.export(&stem).unwrap();
    let (test, truth) = data(200, 2);
    let p = through_inference(&stem, &test);
    assert!(largest_difference(&p, &model.probabilities(test.view())) < 1e-5);
    let right = (0..200)
        .filter(|&i| (0..3).max_by(|&a, &b| p[[i, a]].total_cmp(&p[[i, b]])) == Some(truth[i]))
        .count();
    assert!(right > 170, "{right} of 200 right");
}

#[test]
fn an_exported_logistic_regression_gives_the_same_probabilities_through_inference() {
    let (x, y) = data(400, 4);
    let model = Logistic::fit(x.view(), &y, None, 3, &LogisticSpec::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("logistic");
    model.export(&stem).unwrap();
    let (test, _) = data(100, 5);
    let p = through_inference(&stem, &test);
    assert!(largest_difference(&p, &model.probabilities(test.view())) < 1e-5);
}

#[test]
fn trees_that_point_backwards_are_refused() {
    let (x, y) = data(100, 3);
    let model = Gbt::fit(x.view(), &y, None, 3, &GbtSpec::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("gbt");
    model.export(&stem).unwrap();
    // Point the first split's left child at itself.
    let bytes = std::fs::read(stem.with_extension("safetensors")).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut named: Vec<(String, Vec<usize>, Vec<f32>)> = tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let values = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (name, view.shape().to_vec(), values)
        })
        .collect();
    let features = named.iter().find(|t| t.0 == "feature").unwrap().2.clone();
    let split = features.iter().position(|&f| f >= 0.0).unwrap();
    named.iter_mut().find(|t| t.0 == "left").unwrap().2[split] = split as f32;
    let refs: Vec<(&str, Vec<usize>, Vec<f32>)> = named
        .iter()
        .map(|(n, s, v)| (n.as_str(), s.clone(), v.clone()))
        .collect();
    stratbox_infer::tensors::write_tensors(&stem.with_extension("safetensors"), &refs).unwrap();
    let compute = stratbox_infer::Compute::select(stratbox_infer::DeviceChoice::Cpu).unwrap();
    let err = stratbox_infer::Model::load(
        &stem.with_extension("json"),
        &stem.with_extension("safetensors"),
        &compute,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("point forward"), "{err}");
}
