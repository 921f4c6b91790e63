//! The CPU path's building blocks over ndarray, with PyTorch's semantics (f32 throughout).
//!
//! Activations are row-major matrices whose rows are (sample, time step) pairs, so a layer applied
//! to every step of every sample is one matrix product.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Zip};

use crate::weights::{LayerNorm, Linear};

/// PyTorch's layer-norm epsilon.
pub const LAYER_NORM_EPS: f32 = 1e-5;

/// `x · layer.weightᵀ + layer.bias` for every row of `x`.
pub fn linear(x: ArrayView2<f32>, layer: &Linear) -> Array2<f32> {
    affine(x, &layer.weight, &layer.bias)
}

/// `x · weightᵀ + bias` for every row of `x`, with `weight` in PyTorch's (out, in) layout.
pub fn affine(x: ArrayView2<f32>, weight: &Array2<f32>, bias: &Array1<f32>) -> Array2<f32> {
    let mut out = bias
        .broadcast((x.nrows(), weight.nrows()))
        .expect("bias matches")
        .to_owned();
    general_mat_mul(1.0, &x, &weight.t(), 1.0, &mut out);
    out
}

/// In place `max(0, x)`.
pub fn relu(x: &mut Array2<f32>) {
    x.mapv_inplace(|v| v.max(0.0));
}

/// In place exact GELU, `x · Φ(x) = x/2 · (1 + erf(x/√2))`, PyTorch's default.
pub fn gelu(x: &mut Array2<f32>) {
    x.mapv_inplace(gelu_scalar);
}

/// Exact GELU of one value.
pub fn gelu_scalar(v: f32) -> f32 {
    0.5 * v * (1.0 + libm::erff(v * std::f32::consts::FRAC_1_SQRT_2))
}

/// The logistic function.
#[inline]
pub fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

/// Layer norm of every row in place (biased variance, eps 1e-5, then the affine map).
pub fn layer_norm(x: &mut Array2<f32>, norm: &LayerNorm) {
    let d = x.ncols() as f32;
    for mut row in x.rows_mut() {
        let mean = row.sum() / d;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d;
        let inv = 1.0 / (var + LAYER_NORM_EPS).sqrt();
        Zip::from(&mut row)
            .and(&norm.weight)
            .and(&norm.bias)
            .for_each(|v, &w, &b| {
                *v = (*v - mean) * inv * w + b;
            });
    }
}

/// Softmax of every row in place, stable (the row maximum is subtracted first).
pub fn softmax_rows(x: &mut Array2<f32>) {
    for mut row in x.rows_mut() {
        softmax_in_place(
            row.as_slice_mut()
                .expect("rows of a standard-layout matrix"),
        );
    }
}

/// Stable softmax of a slice in place.
pub fn softmax_in_place(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in row.iter_mut() {
        *v /= sum;
    }
}

/// The mean over time of a (batch·seq, width) matrix: (batch, width).
pub fn mean_over_time(x: ArrayView2<f32>, batch: usize, seq: usize) -> Array2<f32> {
    let x = x
        .into_shape_with_order((batch, seq, x.ncols()))
        .expect("rows are batch × seq");
    x.mean_axis(Axis(1)).expect("seq is not empty")
}

/// Multi-head self-attention over each sample's sequence: `qkv` is (batch·seq, 3·d) with queries,
/// keys and values side by side; returns the heads' outputs concatenated, (batch·seq, d), before
/// the output projection.
pub fn self_attention(qkv: ArrayView2<f32>, batch: usize, seq: usize, heads: usize) -> Array2<f32> {
    let d = qkv.ncols() / 3;
    let hd = d / heads;
    let scale = 1.0 / (hd as f32).sqrt();
    let mut out = Array2::zeros((batch * seq, d));
    let mut scores = Array2::<f32>::zeros((seq, seq));
    for b in 0..batch {
        let rows = qkv.slice(ndarray::s![b * seq..(b + 1) * seq, ..]);
        for h in 0..heads {
            let q = rows.slice(ndarray::s![.., h * hd..(h + 1) * hd]);
            let k = rows.slice(ndarray::s![.., d + h * hd..d + (h + 1) * hd]);
            let v = rows.slice(ndarray::s![.., 2 * d + h * hd..2 * d + (h + 1) * hd]);
            general_mat_mul(scale, &q, &k.t(), 0.0, &mut scores);
            softmax_rows(&mut scores);
            let mut o = out.slice_mut(ndarray::s![b * seq..(b + 1) * seq, h * hd..(h + 1) * hd]);
            general_mat_mul(1.0, &scores, &v, 0.0, &mut o);
        }
    }
    out
}

/// Adds `row` to every row of `x`.
pub fn add_row(x: &mut Array2<f32>, row: ArrayView1<f32>) {
    *x += &row;
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn softmax_is_stable_and_sums_to_one() {
        let mut x = array![[1000.0f32, 1001.0, 999.0], [-1e30, 0.0, 0.0]];
        softmax_rows(&mut x);
        for row in x.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-6);
        }
        assert!((x[[0, 1]] - 0.665_240_9).abs() < 1e-6);
        assert_eq!(x[[1, 0]], 0.0);
    }

    #[test]
    fn gelu_matches_the_erf_form() {
        // torch.nn.functional.gelu(torch.tensor([-3., -0.5, 0., 1., 2.5]))
        let expect = [-0.004_049_7, -0.154_268_7, 0.0, 0.841_344_7, 2.484_479];
        for (x, e) in [-3.0f32, -0.5, 0.0, 1.0, 2.5].into_iter().zip(expect) {
            assert!((gelu_scalar(x) - e).abs() < 1e-6, "{x}");
        }
    }

    #[test]
    fn layer_norm_normalises_rows() {
        let norm = LayerNorm {
            weight: array![1.0f32, 1.0, 1.0, 1.0],
            bias: array![0.0f32, 0.0, 0.0, 0.0],
        };
        let mut x = array![[1.0f32, 2.0, 3.0, 4.0]];
        layer_norm(&mut x, &norm);
        assert!(x.sum().abs() < 1e-6);
        assert!((x[[0, 0]] + 1.341_635_9).abs() < 1e-5);
    }
}
