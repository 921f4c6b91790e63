//! `TransformerNet` trained: input projection plus learned positions, `nn.TransformerEncoderLayer`s
//! (dropout 0; post-norm `x = norm1(x + sa(x)); x = norm2(x + ff(x))` or pre-norm
//! `x = x + sa(norm1(x)); x = x + ff(norm2(x))`), the mean over time, the head. Rows are
//! (sample, step), sample-major.

use super::layers::{
    Act, NormCache, affine, affine_backward, layer_norm, layer_norm_backward, mean_over_time,
    mean_over_time_backward,
};
use super::params::{self, Params, Rng};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, Array3, ArrayView2, ArrayView3, Axis, s};
use stratbox_infer::cpu::ops::softmax_in_place;
use stratbox_infer::manifest::{Activation, TransformerSpec};

/// One encoder layer's parameters, each `(weight, bias)`.
#[derive(Clone, Debug)]
struct Layer {
    in_proj: (usize, usize),
    out_proj: (usize, usize),
    linear1: (usize, usize),
    linear2: (usize, usize),
    norm1: (usize, usize),
    norm2: (usize, usize),
}

/// The network.
#[derive(Clone, Debug)]
pub struct TransformerNet {
    spec: TransformerSpec,
    input_proj: (usize, usize),
    pos_emb: usize,
    layers: Vec<Layer>,
    head: (usize, usize),
}

/// What self-attention keeps for the backward pass.
struct AttentionCache {
    input: Array2<f32>,
    qkv: Array2<f32>,
    /// Attention weights per (sample, head): (batch·heads, seq, seq).
    weights: Array3<f32>,
    heads: Array2<f32>,
}

/// What the feed-forward block keeps.
struct FeedForwardCache {
    input: Array2<f32>,
    hidden: Array2<f32>,
    activated: Array2<f32>,
}

/// What one encoder layer keeps.
struct LayerCache {
    attention: AttentionCache,
    feed_forward: FeedForwardCache,
    norm1: NormCache,
    norm2: NormCache,
}

impl TransformerNet {
    /// A network of `spec`, initialised as PyTorch does: `nn.Linear`s uniform in ±1/√fan_in,
    /// attention's input projection Xavier-uniform with zero biases and a zero output bias,
    /// layer norms 1 and 0, positions normal × 0.02; into `params`.
    pub fn new(spec: &TransformerSpec, params: &mut Params, rng: &mut Rng) -> Self {
        let d = spec.d_model;
        let input_proj = params::linear(params, rng, "input_proj", d, spec.n_features);
        let pos_emb = params.add(
            "pos_emb",
            &[spec.seq_len, d],
            rng.normal(spec.seq_len * d, 0.02),
        );
        let layers = (0..spec.layers)
            .map(|k| {
                let name = |n: &str| format!("encoder.layers.{k}.{n}");
                let xavier = (6.0 / (d + 3 * d) as f32).sqrt();
                let in_w = params.add(
                    name("self_attn.in_proj_weight"),
                    &[3 * d, d],
                    rng.uniform(3 * d * d, xavier),
                );
                let in_b = params.add(name("self_attn.in_proj_bias"), &[3 * d], vec![0.0; 3 * d]);
                let out_w = params.add(
                    name("self_attn.out_proj.weight"),
                    &[d, d],
                    rng.uniform(d * d, 1.0 / (d as f32).sqrt()),
                );
                let out_b = params.add(name("self_attn.out_proj.bias"), &[d], vec![0.0; d]);
                let linear1 = params::linear(params, rng, &name("linear1"), spec.ff, d);
                let linear2 = params::linear(params, rng, &name("linear2"), d, spec.ff);
                let mut norm = |n: &str| {
                    (
                        params.add(name(&format!("{n}.weight")), &[d], vec![1.0; d]),
                        params.add(name(&format!("{n}.bias")), &[d], vec![0.0; d]),
                    )
                };
                Layer {
                    in_proj: (in_w, in_b),
                    out_proj: (out_w, out_b),
                    linear1,
                    linear2,
                    norm1: norm("norm1"),
                    norm2: norm("norm2"),
                }
            })
            .collect();
        let head = params::linear(params, rng, "head", spec.n_out, d);
        TransformerNet {
            spec: spec.clone(),
            input_proj,
            pos_emb,
            layers,
            head,
        }
    }

    /// Logits (batch, n_out) of `x` (batch, seq, n_features).
    pub fn logits(&self, params: &Params, x: ArrayView3<f32>) -> Array2<f32> {
        self.forward(params, x).0
    }

    /// Logits of `x`, and adds to `params`' gradients those of the loss whose gradient with
    /// respect to the logits `loss` returns (with its value, which is returned).
    pub fn backprop(
        &self,
        params: &mut Params,
        x: ArrayView3<f32>,
        loss: impl FnOnce(ArrayView2<f32>) -> (f32, Array2<f32>),
    ) -> f32 {
        let (batch, seq, _) = x.dim();
        let (logits, rows, pooled, caches) = self.forward(params, x);
        let (value, dlogits) = loss(logits.view());
        let dpooled = affine_backward(params, self.head, pooled.view(), dlogits.view(), true)
            .expect("asked for");
        let mut dh = mean_over_time_backward(dpooled.view(), seq);
        for (layer, cache) in self.layers.iter().zip(&caches).rev() {
            dh = self.layer_backward(params, layer, cache, dh, batch, seq);
        }
        let dh3 = dh
            .view()
            .into_shape_with_order((batch, seq, self.spec.d_model))
            .expect("rows are batch × seq");
        let dpos = dh3.sum_axis(Axis(0));
        let mut grad = params.grad_matrix(self.pos_emb);
        grad.slice_mut(s![..seq, ..]).scaled_add(1.0, &dpos);
        affine_backward(params, self.input_proj, rows.view(), dh.view(), false);
        value
    }

    #[allow(clippy::type_complexity)]
    fn forward(
        &self,
        params: &Params,
        x: ArrayView3<f32>,
    ) -> (Array2<f32>, Array2<f32>, Array2<f32>, Vec<LayerCache>) {
        let (batch, seq, features) = x.dim();
        let rows = x
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((batch * seq, features))
            .expect("contiguous");
        let mut h = affine(params, self.input_proj, rows.view());
        let positions = params.matrix(self.pos_emb);
        let positions = positions.slice(s![..seq, ..]);
        for b in 0..batch {
            let mut sample = h.slice_mut(s![b * seq..(b + 1) * seq, ..]);
            sample += &positions;
        }
        let mut caches = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let (out, cache) = self.layer_forward(params, layer, h, batch, seq);
            h = out;
            caches.push(cache);
        }
        let pooled = mean_over_time(h.view(), batch, seq);
        (
            affine(params, self.head, pooled.view()),
            rows,
            pooled,
            caches,
        )
    }

    fn layer_forward(
        &self,
        params: &Params,
        layer: &Layer,
        h: Array2<f32>,
        batch: usize,
        seq: usize,
    ) -> (Array2<f32>, LayerCache) {
        if self.spec.norm_first {
            let (normed, norm1) = layer_norm(params, layer.norm1, h.view());
            let (attended, attention) = self.attention(params, layer, normed, batch, seq);
            let r1 = h + attended;
            let (normed, norm2) = layer_norm(params, layer.norm2, r1.view());
            let (fed, feed_forward) = self.feed_forward(params, layer, normed);
            let out = r1 + fed;
            let cache = LayerCache {
                attention,
                feed_forward,
                norm1,
                norm2,
            };
            (out, cache)
        } else {
            let (attended, attention) = self.attention(params, layer, h.clone(), batch, seq);
            let (h1, norm1) = layer_norm(params, layer.norm1, (h + attended).view());
            let (fed, feed_forward) = self.feed_forward(params, layer, h1.clone());
            let (out, norm2) = layer_norm(params, layer.norm2, (h1 + fed).view());
            let cache = LayerCache {
                attention,
                feed_forward,
                norm1,
                norm2,
            };
            (out, cache)
        }
    }

    fn layer_backward(
        &self,
        params: &mut Params,
        layer: &Layer,
        cache: &LayerCache,
        dout: Array2<f32>,
        batch: usize,
        seq: usize,
    ) -> Array2<f32> {
        if self.spec.norm_first {
            let dnormed = self.feed_forward_backward(params, layer, &cache.feed_forward, &dout);
            let dr1 = dout + layer_norm_backward(params, layer.norm2, &cache.norm2, dnormed.view());
            let dnormed =
                self.attention_backward(params, layer, &cache.attention, &dr1, batch, seq);
            dr1 + layer_norm_backward(params, layer.norm1, &cache.norm1, dnormed.view())
        } else {
            let dr2 = layer_norm_backward(params, layer.norm2, &cache.norm2, dout.view());
            let dh1 = self.feed_forward_backward(params, layer, &cache.feed_forward, &dr2) + dr2;
            let dr1 = layer_norm_backward(params, layer.norm1, &cache.norm1, dh1.view());
            self.attention_backward(params, layer, &cache.attention, &dr1, batch, seq) + dr1
        }
    }

    fn attention(
        &self,
        params: &Params,
        layer: &Layer,
        input: Array2<f32>,
        batch: usize,
        seq: usize,
    ) -> (Array2<f32>, AttentionCache) {
        let (d, heads) = (self.spec.d_model, self.spec.nhead);
        let hd = d / heads;
        let scale = 1.0 / (hd as f32).sqrt();
        let qkv = affine(params, layer.in_proj, input.view());
        let mut weights = Array3::<f32>::zeros((batch * heads, seq, seq));
        let mut out = Array2::<f32>::zeros((batch * seq, d));
        for b in 0..batch {
            let rows = qkv.slice(s![b * seq..(b + 1) * seq, ..]);
            for h in 0..heads {
                let q = rows.slice(s![.., h * hd..(h + 1) * hd]);
                let k = rows.slice(s![.., d + h * hd..d + (h + 1) * hd]);
                let v = rows.slice(s![.., 2 * d + h * hd..2 * d + (h + 1) * hd]);
                let mut p = weights.index_axis_mut(Axis(0), b * heads + h);
                general_mat_mul(scale, &q, &k.t(), 0.0, &mut p);
                for mut row in p.rows_mut() {
                    softmax_in_place(row.as_slice_mut().expect("contiguous"));
                }
                let mut o = out.slice_mut(s![b * seq..(b + 1) * seq, h * hd..(h + 1) * hd]);
                general_mat_mul(1.0, &p, &v, 0.0, &mut o);
            }
        }
        let projected = affine(params, layer.out_proj, out.view());
        let cache = AttentionCache {
            input,
            qkv,
            weights,
            heads: out,
        };
        (projected, cache)
    }

    fn attention_backward(
        &self,
        params: &mut Params,
        layer: &Layer,
        cache: &AttentionCache,
        dout: &Array2<f32>,
        batch: usize,
        seq: usize,
    ) -> Array2<f32> {
        let (d, heads) = (self.spec.d_model, self.spec.nhead);
        let hd = d / heads;
        let scale = 1.0 / (hd as f32).sqrt();
        let dheads = affine_backward(
            params,
            layer.out_proj,
            cache.heads.view(),
            dout.view(),
            true,
        )
        .expect("asked for");
        let mut dqkv = Array2::<f32>::zeros(cache.qkv.raw_dim());
        let mut dp = Array2::<f32>::zeros((seq, seq));
        for b in 0..batch {
            let rows = cache.qkv.slice(s![b * seq..(b + 1) * seq, ..]);
            for h in 0..heads {
                let q = rows.slice(s![.., h * hd..(h + 1) * hd]);
                let k = rows.slice(s![.., d + h * hd..d + (h + 1) * hd]);
                let v = rows.slice(s![.., 2 * d + h * hd..2 * d + (h + 1) * hd]);
                let p = cache.weights.index_axis(Axis(0), b * heads + h);
                let dhead = dheads.slice(s![b * seq..(b + 1) * seq, h * hd..(h + 1) * hd]);
                general_mat_mul(1.0, &dhead, &v.t(), 0.0, &mut dp);
                // Softmax backward: dS = P ⊙ (dP − Σ_j dP·P).
                for (mut drow, prow) in dp.rows_mut().into_iter().zip(p.rows()) {
                    let dot = drow.dot(&prow);
                    drow.zip_mut_with(&prow, |g, &pv| *g = pv * (*g - dot));
                }
                let mut drows = dqkv.slice_mut(s![b * seq..(b + 1) * seq, ..]);
                let mut dv = drows.slice_mut(s![.., 2 * d + h * hd..2 * d + (h + 1) * hd]);
                general_mat_mul(1.0, &p.t(), &dhead, 0.0, &mut dv);
                let mut dq = drows.slice_mut(s![.., h * hd..(h + 1) * hd]);
                general_mat_mul(scale, &dp, &k, 0.0, &mut dq);
                let mut dk = drows.slice_mut(s![.., d + h * hd..d + (h + 1) * hd]);
                general_mat_mul(scale, &dp.t(), &q, 0.0, &mut dk);
            }
        }
        affine_backward(params, layer.in_proj, cache.input.view(), dqkv.view(), true)
            .expect("asked for")
    }

    fn activation(&self) -> Act {
        match self.spec.activation {
            Activation::Relu => Act::Relu,
            Activation::Gelu => Act::Gelu,
        }
    }

    fn feed_forward(
        &self,
        params: &Params,
        layer: &Layer,
        input: Array2<f32>,
    ) -> (Array2<f32>, FeedForwardCache) {
        let hidden = affine(params, layer.linear1, input.view());
        let activated = self.activation().apply(&hidden);
        let out = affine(params, layer.linear2, activated.view());
        let cache = FeedForwardCache {
            input,
            hidden,
            activated,
        };
        (out, cache)
    }

    fn feed_forward_backward(
        &self,
        params: &mut Params,
        layer: &Layer,
        cache: &FeedForwardCache,
        dout: &Array2<f32>,
    ) -> Array2<f32> {
        let mut dhidden = affine_backward(
            params,
            layer.linear2,
            cache.activated.view(),
            dout.view(),
            true,
        )
        .expect("asked for");
        self.activation().backward(&cache.hidden, &mut dhidden);
        affine_backward(
            params,
            layer.linear1,
            cache.input.view(),
            dhidden.view(),
            true,
        )
        .expect("asked for")
    }

    /// The architecture.
    pub fn spec(&self) -> &TransformerSpec {
        &self.spec
    }

    /// The input projection `(weight, bias)`, where inputs are read.
    pub fn input_layer(&self) -> (usize, usize) {
        self.input_proj
    }
}
