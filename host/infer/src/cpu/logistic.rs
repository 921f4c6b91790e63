//! A logistic regression on the CPU: the last step's features, standardised, through one
//! linear layer.

use ndarray::{Array2, ArrayView2, Axis};

use crate::weights::LogisticWeights;

/// Logits (batch, n_out) of `x` (batch·seq, features), rows of one sample consecutive.
pub fn forward(w: &LogisticWeights, x: ArrayView2<f32>, batch: usize, seq: usize) -> Array2<f32> {
    let last = x.select(
        Axis(0),
        &(0..batch).map(|b| b * seq + seq - 1).collect::<Vec<_>>(),
    );
    let z = (last - &w.mean) / &w.scale;
    z.dot(&w.linear.weight.t()) + &w.linear.bias
}
