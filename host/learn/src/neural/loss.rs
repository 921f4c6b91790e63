//! Weighted cross-entropy: `Σᵢ wᵢ·CEᵢ / Σᵢ wᵢ` with `wᵢ` the sample's weight times its
//! class's, PyTorch's `cross_entropy(weight=class_weights)` with per-sample weights.

use ndarray::{Array2, ArrayView2};

/// The loss of `logits` (batch, classes) for `labels` and per-sample `weights` (each already
/// times its class's weight), and its gradient with respect to the logits.
pub fn cross_entropy(
    logits: ArrayView2<f32>,
    labels: &[usize],
    weights: &[f32],
) -> (f32, Array2<f32>) {
    let total: f64 = weights.iter().map(|w| f64::from(*w)).sum();
    let mut grad = logits.to_owned();
    let mut loss = 0.0f64;
    for ((mut row, &y), &w) in grad.rows_mut().into_iter().zip(labels).zip(weights) {
        let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let sum: f64 = row.iter().map(|&v| f64::from(v - max).exp()).sum();
        let log_sum = sum.ln() + f64::from(max);
        loss += f64::from(w) * (log_sum - f64::from(row[y]));
        let share = (f64::from(w) / total) as f32;
        row.mapv_inplace(|v| (f64::from(v) - log_sum).exp() as f32 * share);
        row[y] -= share;
    }
    ((loss / total) as f32, grad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_gradient_is_the_weighted_softmax_less_the_label() {
        let logits = array![[1.0f32, 2.0, 0.5], [0.0, -1.0, 3.0]];
        let (loss, grad) = cross_entropy(logits.view(), &[1, 0], &[1.0, 3.0]);
        let ce = |row: [f64; 3], y: usize| {
            let s: f64 = row.iter().map(|v| v.exp()).sum();
            s.ln() - row[y]
        };
        let expected = (ce([1.0, 2.0, 0.5], 1) + 3.0 * ce([0.0, -1.0, 3.0], 0)) / 4.0;
        assert!((f64::from(loss) - expected).abs() < 1e-6);
        // Each row's gradient sums to zero; the labelled class's is negative.
        for row in grad.rows() {
            assert!(row.sum().abs() < 1e-6);
        }
        assert!(grad[[0, 1]] < 0.0 && grad[[1, 0]] < 0.0);
        let p = (0.0f64).exp() / [0.0f64, -1.0, 3.0].iter().map(|v| v.exp()).sum::<f64>();
        assert!((f64::from(grad[[1, 0]]) - 0.75 * (p - 1.0)).abs() < 1e-6);
    }
}
