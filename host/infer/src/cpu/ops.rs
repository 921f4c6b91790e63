//! The CPU path's building blocks over ndarray, with PyTorch's semantics (f32 throughout).
//!
//! Activations are row-major matrices whose rows are (sample, time step) pairs, so a layer applied
//! to every step of every sample is one matrix product.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis};

use super::simd::{self, fastest};

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

/// `out = x · weightᵀ + bias`, into a preallocated matrix.
pub fn affine_into(
    x: ArrayView2<f32>,
    weight: &Array2<f32>,
    bias: &Array1<f32>,
    mut out: ArrayViewMut2<f32>,
) {
    let shape = out.raw_dim();
    out.assign(&bias.broadcast(shape).expect("bias matches"));
    general_mat_mul(1.0, &x, &weight.t(), 1.0, &mut out);
}

/// In place `max(0, x)`.
pub fn relu(x: &mut Array2<f32>) {
    relu_slice(x.as_slice_mut().expect("standard layout"));
}

fastest! {
    fn relu_slice(x: &mut [f32]) {
        for v in x.iter_mut() {
            *v = if *v > 0.0 { *v } else { 0.0 };
        }
    }
}

/// In place exact GELU, `x · Φ(x) = x/2 · (1 + erf(x/√2))`, PyTorch's default.
pub fn gelu(x: &mut Array2<f32>) {
    gelu_slice(x.as_slice_mut().expect("standard layout"));
}

fastest! {
    fn gelu_slice(x: &mut [f32]) {
        for v in x.iter_mut() {
            *v = gelu_scalar(*v);
        }
    }
}

/// GELU of one value, `x/2 · (1 + erf(x/√2))` with [`erf_fast`].
#[inline(always)]
pub fn gelu_scalar(v: f32) -> f32 {
    0.5 * v * (1.0 + erf_fast(v * std::f32::consts::FRAC_1_SQRT_2))
}

/// `erf` by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7 in exact arithmetic, 6e-7 in f32), branch-free so it
/// vectorises.
#[inline(always)]
pub fn erf_fast(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152_1) * t + 1.421_413_8) * t - 0.284_496_74) * t
        + 0.254_829_6)
        * t;
    (1.0 - poly * exp_fast(-a * a)).copysign(x)
}

/// `e^x` in f32 within 2 ulp (Cephes' polynomial after reduction by ln 2), written without calls
/// or branches so loops over slices vectorise; inputs beyond ±87 saturate to the limits.
#[inline(always)]
pub fn exp_fast(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23: adding and subtracting it rounds to an integer
    let x = x.clamp(-87.0, 87.0);
    let t = x * LOG2E + ROUND;
    let k = t - ROUND;
    let r = x - k * LN2_HI - k * LN2_LO;
    let p = ((((1.987_569_1e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_65)
        * r
        + 0.5;
    let e = p * r * r + r + 1.0;
    // t's low mantissa bits hold k (|k| <= 126): 2^k is (k + 127) << 23, in integer lanes.
    let two_k = t.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127) << 23;
    e * f32::from_bits(two_k)
}

/// The logistic function.
#[inline(always)]
pub fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + exp_fast(-v))
}

/// `tanh` as `1 − 2 / (e^{2x} + 1)`: within 1e-7 absolute, vectorisable.
#[inline(always)]
pub fn tanh_fast(v: f32) -> f32 {
    1.0 - 2.0 / (exp_fast(2.0 * v) + 1.0)
}

/// Layer norm of every row in place (biased variance, eps 1e-5, then the affine map).
pub fn layer_norm(x: &mut Array2<f32>, norm: &LayerNorm) {
    let weight = norm.weight.as_slice().expect("contiguous");
    let bias = norm.bias.as_slice().expect("contiguous");
    for mut row in x.rows_mut() {
        layer_norm_row(row.as_slice_mut().expect("standard layout"), weight, bias);
    }
}

fastest! {
    fn layer_norm_row(row: &mut [f32], weight: &[f32], bias: &[f32]) {
        let d = row.len() as f32;
        let mean = simd::sum(row) / d;
        let inv = 1.0 / (simd::squared_deviation(row, mean) / d + LAYER_NORM_EPS).sqrt();
        for ((v, w), b) in row.iter_mut().zip(weight).zip(bias) {
            *v = (*v - mean) * inv * w + b;
        }
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

fastest! {
    /// Stable softmax of a slice in place.
    pub fn softmax_in_place(row: &mut [f32]) {
        let max = simd::max(row);
        for v in row.iter_mut() {
            *v = exp_fast(*v - max);
        }
        let inv = 1.0 / simd::sum(row);
        for v in row.iter_mut() {
            *v *= inv;
        }
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
        assert!(x[[1, 0]] < 1e-30);
    }

    #[test]
    fn fast_exp_sigmoid_and_tanh_are_accurate() {
        let mut x = -90.0f32;
        while x < 90.0 {
            let (e, want) = (exp_fast(x), (x as f64).clamp(-87.0, 87.0).exp());
            assert!(
                ((e as f64 - want) / want).abs() < 3e-7,
                "exp({x}) = {e}, want {want}"
            );
            let s = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((sigmoid(x) as f64 - s).abs() < 2e-7, "sigmoid({x})");
            assert!(
                (tanh_fast(x) as f64 - (x as f64).tanh()).abs() < 2e-7,
                "tanh({x})"
            );
            x += 0.0137;
        }
    }

    #[test]
    fn fast_erf_is_accurate() {
        let mut x = -6.0f32;
        while x < 6.0 {
            let want = libm::erf(x as f64);
            assert!(
                (erf_fast(x) as f64 - want).abs() < 6e-7,
                "erf({x}) = {}, want {want}",
                erf_fast(x)
            );
            x += 0.001;
        }
    }

    #[test]
    fn gelu_matches_the_erf_form() {
        // torch.nn.functional.gelu(torch.tensor([-3., -0.5, 0., 1., 2.5]))
        let expect = [-0.004_050_225, -0.154_268_77, 0.0, 0.841_344_7, 2.484_475_9];
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
        assert!((x[[0, 0]] + 1.341_636).abs() < 1e-5);
    }
}
