//! The PyTorch fixtures of tests/fixtures/models: cases, deterministic inputs, expected outputs.

#![allow(dead_code)] // each test binary uses part of it

use std::path::PathBuf;

use ndarray::{Array2, Array3, s};
use safetensors::SafeTensors;
use serde::Deserialize;

/// The fixtures directory.
pub fn dir() -> PathBuf {
    manifest_dir().join("../../tests/fixtures/models")
}

/// One generated case.
#[derive(Deserialize, Debug)]
pub struct Case {
    pub name: String,
    pub seed: u64,
    pub seq: usize,
    pub n_features: usize,
    pub batches: Vec<usize>,
    pub input_head: Vec<f32>,
}

#[derive(Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

/// Every case of cases.json.
pub fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(dir().join("cases.json")).expect("cases.json");
    serde_json::from_str::<Cases>(&text)
        .expect("cases.json parses")
        .cases
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Case {
    /// The first `batch` rows of the case's (256, seq, features) input.
    pub fn input(&self, batch: usize) -> Array3<f32> {
        let n = batch * self.seq * self.n_features;
        let data = (0..n as u64)
            .map(|i| (splitmix64(self.seed.wrapping_add(i)) >> 40) as f32 / 4_194_304.0 - 2.0)
            .collect();
        Array3::from_shape_vec((batch, self.seq, self.n_features), data).unwrap()
    }

    /// PyTorch's logits for the first `batch` rows.
    pub fn expected(&self, batch: usize) -> Array2<f32> {
        let bytes =
            std::fs::read(dir().join(format!("{}_expected.safetensors", self.name))).unwrap();
        tensor2(&bytes, &format!("b{batch}"))
    }

    /// Paths of the manifest and the weights.
    pub fn files(&self) -> (PathBuf, PathBuf) {
        (
            dir().join(format!("{}.json", self.name)),
            dir().join(format!("{}.safetensors", self.name)),
        )
    }
}

/// A 2-D f32 tensor from safetensors bytes.
pub fn tensor2(bytes: &[u8], name: &str) -> Array2<f32> {
    let tensors = SafeTensors::deserialize(bytes).unwrap();
    let view = tensors
        .tensor(name)
        .unwrap_or_else(|_| panic!("tensor {name}"));
    let data: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    Array2::from_shape_vec((view.shape()[0], view.shape()[1]), data).unwrap()
}

/// ‖out − reference‖ / ‖reference‖.
pub fn relative_error(out: &Array2<f32>, reference: &Array2<f32>) -> f64 {
    assert_eq!(out.dim(), reference.dim());
    let diff: f64 = out
        .iter()
        .zip(reference)
        .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
        .sum();
    let norm: f64 = reference.iter().map(|b| (*b as f64).powi(2)).sum();
    (diff / norm.max(1e-30)).sqrt()
}

/// Rows `..batch` of an array.
pub fn head_rows(a: &Array2<f32>, batch: usize) -> Array2<f32> {
    a.slice(s![..batch, ..]).to_owned()
}

/// The package's directory: where the test runner says it is (cargo and nextest set
/// `CARGO_MANIFEST_DIR` when they run a test), else where it was built, so a test binary
/// reused from another checkout in a shared target directory reads this checkout's files.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .into()
}
