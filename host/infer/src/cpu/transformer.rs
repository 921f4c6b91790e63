//! `TransformerNet` on the CPU, following `nn.TransformerEncoderLayer` (dropout 0, eval mode):
//! post-norm `x = norm1(x + sa(x)); x = norm2(x + ff(x))`, pre-norm
//! `x = x + sa(norm1(x)); x = x + ff(norm2(x))`.

use ndarray::{Array2, ArrayView2, s};

use super::ops::{gelu, layer_norm, linear, mean_over_time, relu, self_attention};
use crate::manifest::{Activation, TransformerSpec};
use crate::weights::{EncoderLayer, TransformerWeights};

/// Logits (batch, n_out) for `x` of (batch·seq, n_features) rows.
pub fn forward(
    spec: &TransformerSpec,
    w: &TransformerWeights,
    x: ArrayView2<f32>,
    batch: usize,
    seq: usize,
) -> Array2<f32> {
    let mut h = linear(x, &w.input_proj);
    let positions = w.pos_emb.slice(s![..seq, ..]);
    for b in 0..batch {
        let mut rows = h.slice_mut(s![b * seq..(b + 1) * seq, ..]);
        rows += &positions;
    }
    for layer in &w.layers {
        if spec.norm_first {
            let mut normed = h.clone();
            layer_norm(&mut normed, &layer.norm1);
            h += &attention(spec, layer, normed.view(), batch, seq);
            let mut normed = h.clone();
            layer_norm(&mut normed, &layer.norm2);
            h += &feed_forward(spec, layer, normed.view());
        } else {
            let attended = attention(spec, layer, h.view(), batch, seq);
            h += &attended;
            layer_norm(&mut h, &layer.norm1);
            let fed = feed_forward(spec, layer, h.view());
            h += &fed;
            layer_norm(&mut h, &layer.norm2);
        }
    }
    linear(mean_over_time(h.view(), batch, seq).view(), &w.head)
}

fn attention(
    spec: &TransformerSpec,
    layer: &EncoderLayer,
    x: ArrayView2<f32>,
    batch: usize,
    seq: usize,
) -> Array2<f32> {
    let qkv = linear(x, &layer.in_proj);
    let heads = self_attention(qkv.view(), batch, seq, spec.nhead);
    linear(heads.view(), &layer.out_proj)
}

fn feed_forward(spec: &TransformerSpec, layer: &EncoderLayer, x: ArrayView2<f32>) -> Array2<f32> {
    let mut hidden = linear(x, &layer.linear1);
    match spec.activation {
        Activation::Relu => relu(&mut hidden),
        Activation::Gelu => gelu(&mut hidden),
    }
    linear(hidden.view(), &layer.linear2)
}
