//! Gradient-boosted trees on the CPU: the last step's features down every tree.

use ndarray::{Array2, ArrayView2};

use crate::weights::GbtWeights;

/// Logits (batch, n_out) of `x` (batch·seq, features), rows of one sample consecutive.
pub fn forward(w: &GbtWeights, x: ArrayView2<f32>, batch: usize, seq: usize) -> Array2<f32> {
    let classes = w.base.len();
    let mut out = Array2::<f32>::zeros((batch, classes));
    for b in 0..batch {
        let row = x.row(b * seq + seq - 1);
        let mut logits: Vec<f64> = w.base.iter().map(|&v| f64::from(v)).collect();
        for (t, &root) in w.roots.iter().enumerate() {
            let mut node = root as usize;
            while w.feature[node] >= 0 {
                node = if row[w.feature[node] as usize] <= w.threshold[node] {
                    w.left[node] as usize
                } else {
                    w.right[node] as usize
                };
            }
            logits[t % classes] += f64::from(w.value[node]);
        }
        for (k, v) in logits.into_iter().enumerate() {
            out[[b, k]] = v as f32;
        }
    }
    out
}
