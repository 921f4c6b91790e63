//! The layers the networks share, forward and backward, with PyTorch's semantics in f32:
//! activations are row-major matrices of one row per (sample, step).

use super::params::Params;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use stratbox_infer::cpu::ops::{LAYER_NORM_EPS, erf_fast, gelu_scalar};

/// `x · Wᵀ + b` with the weight and bias at `(w, b)` of `params`.
pub fn affine(params: &Params, (w, b): (usize, usize), x: ArrayView2<f32>) -> Array2<f32> {
    let weight = params.matrix(w);
    let mut out = params
        .vector(b)
        .broadcast((x.nrows(), weight.nrows()))
        .expect("bias matches")
        .to_owned();
    general_mat_mul(1.0, &x, &weight.t(), 1.0, &mut out);
    out
}

/// Backward of [`affine`]: adds `dyᵀ · x` to the weight's gradient and `dy`'s column sums to
/// the bias's; returns `dy · W`, the input's gradient, when `input_grad`.
pub fn affine_backward(
    params: &mut Params,
    (w, b): (usize, usize),
    x: ArrayView2<f32>,
    dy: ArrayView2<f32>,
    input_grad: bool,
) -> Option<Array2<f32>> {
    general_mat_mul(1.0, &dy.t(), &x, 1.0, &mut params.grad_matrix(w));
    params.grad_vector(b).scaled_add(1.0, &dy.sum_axis(Axis(0)));
    input_grad.then(|| dy.dot(&params.matrix(w)))
}

/// A layer norm's saved normalised rows and their inverse standard deviations.
pub struct NormCache {
    normalised: Array2<f32>,
    inv_std: Array1<f32>,
}

/// Layer norm of every row (biased variance, eps 1e-5) with the scale and shift at `(w, b)`.
pub fn layer_norm(
    params: &Params,
    (w, b): (usize, usize),
    x: ArrayView2<f32>,
) -> (Array2<f32>, NormCache) {
    let width = x.ncols() as f32;
    let mut normalised = x.to_owned();
    let mut inv_std = Array1::zeros(x.nrows());
    for (mut row, inv) in normalised.rows_mut().into_iter().zip(inv_std.iter_mut()) {
        let mean = row.sum() / width;
        row -= mean;
        let var = row.iter().map(|v| v * v).sum::<f32>() / width;
        *inv = 1.0 / (var + LAYER_NORM_EPS).sqrt();
        row *= *inv;
    }
    let out = &normalised * &params.vector(w) + params.vector(b);
    (
        out,
        NormCache {
            normalised,
            inv_std,
        },
    )
}

/// Backward of [`layer_norm`]: adds the scale's and shift's gradients; returns the input's.
pub fn layer_norm_backward(
    params: &mut Params,
    (w, b): (usize, usize),
    cache: &NormCache,
    dy: ArrayView2<f32>,
) -> Array2<f32> {
    params
        .grad_vector(w)
        .scaled_add(1.0, &(&dy * &cache.normalised).sum_axis(Axis(0)));
    params.grad_vector(b).scaled_add(1.0, &dy.sum_axis(Axis(0)));
    let scale = params.vector(w);
    let width = dy.ncols() as f32;
    let mut dx = &dy * &scale;
    for ((mut row, xhat), inv) in dx
        .rows_mut()
        .into_iter()
        .zip(cache.normalised.rows())
        .zip(&cache.inv_std)
    {
        let mean = row.sum() / width;
        let mean_dot = row.dot(&xhat) / width;
        row.zip_mut_with(&xhat, |d, &h| *d = (*d - mean - h * mean_dot) * inv);
    }
    dx
}

/// A feed-forward block's activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// `max(0, x)`.
    Relu,
    /// The exact GELU, `x · Φ(x)`.
    Gelu,
}

impl Act {
    /// The activation of `z`.
    pub fn apply(self, z: &Array2<f32>) -> Array2<f32> {
        match self {
            Act::Relu => z.mapv(|v| v.max(0.0)),
            Act::Gelu => z.mapv(gelu_scalar),
        }
    }

    /// `dy` times the activation's derivative at `z`, in place.
    pub fn backward(self, z: &Array2<f32>, dy: &mut Array2<f32>) {
        match self {
            Act::Relu => dy.zip_mut_with(z, |d, &v| {
                if v <= 0.0 {
                    *d = 0.0
                }
            }),
            Act::Gelu => dy.zip_mut_with(z, |d, &v| {
                // d/dx x·Φ(x) = Φ(x) + x·φ(x).
                let cdf = 0.5 * (1.0 + erf_fast(v * std::f32::consts::FRAC_1_SQRT_2));
                let pdf = (-0.5 * v * v).exp() * 0.398_942_3;
                *d *= cdf + v * pdf;
            }),
        }
    }
}

/// The mean over each sample's steps of a (batch·seq, width) matrix: (batch, width).
pub fn mean_over_time(x: ArrayView2<f32>, batch: usize, seq: usize) -> Array2<f32> {
    x.into_shape_with_order((batch, seq, x.ncols()))
        .expect("rows are batch × seq")
        .mean_axis(Axis(1))
        .expect("seq is not empty")
}

/// Backward of [`mean_over_time`]: each step's gradient is its sample's divided by `seq`.
pub fn mean_over_time_backward(dy: ArrayView2<f32>, seq: usize) -> Array2<f32> {
    let scale = 1.0 / seq as f32;
    let mut dx = Array2::zeros((dy.nrows() * seq, dy.ncols()));
    for (b, row) in dy.rows().into_iter().enumerate() {
        for t in 0..seq {
            dx.row_mut(b * seq + t).assign(&(&row * scale));
        }
    }
    dx
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::neural::params::Rng;

    /// Largest difference between a gradient and central differences of `loss` at `x`.
    pub fn numeric_gap(
        x: &Array2<f32>,
        analytic: &Array2<f32>,
        loss: impl Fn(&Array2<f32>) -> f64,
    ) -> f64 {
        let mut worst = 0.0f64;
        let h = 1e-2f32;
        for i in 0..x.len() {
            let mut up = x.clone();
            up.as_slice_mut().unwrap()[i] += h;
            let mut down = x.clone();
            down.as_slice_mut().unwrap()[i] -= h;
            let numeric = (loss(&up) - loss(&down)) / (2.0 * f64::from(h));
            let a = f64::from(analytic.as_slice().unwrap()[i]);
            worst = worst.max((numeric - a).abs());
        }
        worst
    }

    fn random(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
        Array2::from_shape_vec((rows, cols), Rng::new(seed).normal(rows * cols, 1.0)).unwrap()
    }

    #[test]
    fn layer_norm_and_activations_have_the_gradients_of_their_values() {
        let mut params = Params::default();
        let w = params.add("w", &[6], Rng::new(1).normal(6, 1.0));
        let b = params.add("b", &[6], Rng::new(2).normal(6, 1.0));
        let x = random(4, 6, 3);
        let probe = random(4, 6, 4);
        let value = |x: &Array2<f32>| -> f64 {
            let (y, _) = layer_norm(&params, (w, b), x.view());
            (&y * &probe).iter().map(|v| f64::from(*v)).sum()
        };
        let (_, cache) = layer_norm(&params, (w, b), x.view());
        let mut grads = params.clone();
        let dx = layer_norm_backward(&mut grads, (w, b), &cache, probe.view());
        assert!(numeric_gap(&x, &dx, value) < 2e-3);
        for act in [Act::Relu, Act::Gelu] {
            let value = |z: &Array2<f32>| -> f64 {
                (&act.apply(z) * &probe).iter().map(|v| f64::from(*v)).sum()
            };
            let mut dz = probe.clone();
            act.backward(&x, &mut dz);
            assert!(numeric_gap(&x, &dz, value) < 2e-3, "{act:?}");
        }
    }
}
