//! `CNNNet` on the CPU. Activations stay (batch·seq, channels); each causal dilated convolution is
//! one matrix product over an im2col matrix whose row for step t holds, for every tap j, the input
//! at step `t − dilation·(kernel − 1 − j)` (zero before the sequence starts, PyTorch's left padding).

use ndarray::{Array2, ArrayView2};

use super::ops::{affine, linear, mean_over_time, relu};
use crate::weights::{CnnWeights, Conv1d};

/// Logits (batch, n_out) for `x` of (batch·seq, n_features) rows.
pub fn forward(w: &CnnWeights, x: ArrayView2<f32>, batch: usize, seq: usize) -> Array2<f32> {
    let mut h = x.to_owned();
    for conv in &w.convs {
        h = convolve(conv, h.view(), batch, seq);
        relu(&mut h);
    }
    linear(mean_over_time(h.view(), batch, seq).view(), &w.head)
}

/// One causal dilated convolution, (batch·seq, in) -> (batch·seq, out), before the activation.
fn convolve(conv: &Conv1d, x: ArrayView2<f32>, batch: usize, seq: usize) -> Array2<f32> {
    let (out_ch, in_ch, kernel) = conv.weight.dim();
    // (out, in, k) -> (out, k·in) with taps outermost, to match the im2col columns.
    let weight = conv
        .weight
        .view()
        .permuted_axes([0, 2, 1])
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((out_ch, kernel * in_ch))
        .expect("contiguous");
    let mut cols = Array2::<f32>::zeros((batch * seq, kernel * in_ch));
    for b in 0..batch {
        for t in 0..seq {
            let mut row = cols.row_mut(b * seq + t);
            let row = row.as_slice_mut().expect("standard layout");
            for j in 0..kernel {
                let shift = conv.dilation * (kernel - 1 - j);
                if t >= shift {
                    row[j * in_ch..(j + 1) * in_ch]
                        .copy_from_slice(x.row(b * seq + t - shift).as_slice().expect("row"));
                }
            }
        }
    }
    affine(cols.view(), &weight, &conv.bias)
}
