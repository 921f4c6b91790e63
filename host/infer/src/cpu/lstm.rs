//! `LSTMNet` on the CPU: each layer's input projection for every step is one matrix product, then
//! the recurrence runs step by step with one (batch × hidden) · (hidden × 4·hidden) product per step.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, Axis};

use super::ops::{affine, linear, sigmoid};
use crate::weights::LstmWeights;

/// Logits (batch, n_out) for `x` of (batch·seq, n_features) rows.
pub fn forward(w: &LstmWeights, x: ArrayView2<f32>, batch: usize, seq: usize) -> Array2<f32> {
    let mut input = x.to_owned();
    let mut last = Array2::zeros((batch, w.head.weight.ncols()));
    for (k, layer) in w.layers.iter().enumerate() {
        let hidden = layer.w_hh.ncols();
        let bias = &layer.b_ih + &layer.b_hh;
        let projected = affine(input.view(), &layer.w_ih, &bias);
        let projected = projected
            .into_shape_with_order((batch, seq, 4 * hidden))
            .expect("rows");
        let keep_sequence = k + 1 < w.layers.len();
        let mut output = Array2::zeros(if keep_sequence {
            (batch * seq, hidden)
        } else {
            (0, hidden)
        });
        let mut h = Array2::<f32>::zeros((batch, hidden));
        let mut c = Array2::<f32>::zeros((batch, hidden));
        let mut gates = Array2::<f32>::zeros((batch, 4 * hidden));
        for t in 0..seq {
            gates.assign(&projected.index_axis(Axis(1), t));
            general_mat_mul(1.0, &h, &layer.w_hh.t(), 1.0, &mut gates);
            for b in 0..batch {
                let g = gates.row(b);
                let g = g.as_slice().expect("standard layout");
                let (hb, cb) = (
                    h.row_mut(b).into_slice().expect("row"),
                    c.row_mut(b).into_slice().expect("row"),
                );
                for j in 0..hidden {
                    let i = sigmoid(g[j]);
                    let f = sigmoid(g[hidden + j]);
                    let cell = g[2 * hidden + j].tanh();
                    let o = sigmoid(g[3 * hidden + j]);
                    cb[j] = f * cb[j] + i * cell;
                    hb[j] = o * cb[j].tanh();
                }
            }
            if keep_sequence {
                for b in 0..batch {
                    output.row_mut(b * seq + t).assign(&h.row(b));
                }
            }
        }
        if keep_sequence {
            input = output;
        } else {
            last = h;
        }
    }
    linear(last.view(), &w.head)
}
