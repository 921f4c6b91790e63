//! `LSTMNet` trained: stacked LSTM layers (gates i, f, g, o as PyTorch stacks them), the head
//! on the last step, backpropagated through time.
//!
//! Inside, activations are time-major: row `t·batch + b` is sample `b` at step `t`, so each
//! step's rows are contiguous and a layer's input projection is one product over all steps.

use super::layers::{affine, affine_backward};
use super::params::{self, Params, Rng};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayView3, Axis, s};
use stratbox_infer::cpu::ops::{sigmoid, tanh_fast};
use stratbox_infer::manifest::LstmSpec;

/// One layer's parameters: `(w_ih, w_hh, b_ih, b_hh)`.
#[derive(Clone, Debug)]
struct Layer {
    w_ih: usize,
    w_hh: usize,
    b_ih: usize,
    b_hh: usize,
}

/// The network.
#[derive(Clone, Debug)]
pub struct LstmNet {
    spec: LstmSpec,
    layers: Vec<Layer>,
    head: (usize, usize),
}

/// What one layer's forward pass keeps for the backward one.
struct LayerCache {
    /// The layer's input (T·B, in).
    input: Array2<f32>,
    /// Activated gates i, f, g, o per row (T·B, 4H).
    gates: Array2<f32>,
    /// Cell states (T·B, H).
    cells: Array2<f32>,
    /// Hidden states (T·B, H): the next layer's input.
    hidden: Array2<f32>,
}

impl LstmNet {
    /// A network of `spec`, initialised as PyTorch does (every LSTM tensor uniform in
    /// ±1/√hidden, the head as `nn.Linear`), into `params`.
    pub fn new(spec: &LstmSpec, params: &mut Params, rng: &mut Rng) -> Self {
        let h = spec.hidden;
        let bound = 1.0 / (h as f32).sqrt();
        let layers = (0..spec.layers)
            .map(|k| {
                let input = if k == 0 { spec.n_features } else { h };
                let mut add = |name: &str, shape: &[usize]| {
                    let n = shape.iter().product();
                    params.add(format!("lstm.{name}_l{k}"), shape, rng.uniform(n, bound))
                };
                Layer {
                    w_ih: add("weight_ih", &[4 * h, input]),
                    w_hh: add("weight_hh", &[4 * h, h]),
                    b_ih: add("bias_ih", &[4 * h]),
                    b_hh: add("bias_hh", &[4 * h]),
                }
            })
            .collect();
        let head = params::linear(params, rng, "head", spec.n_out, h);
        LstmNet {
            spec: spec.clone(),
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
        let (logits, caches) = self.forward(params, x);
        let (value, dlogits) = loss(logits.view());
        let (batch, seq, _) = x.dim();
        let top = caches.last().expect("at least one layer");
        let last = top.hidden.slice(s![(seq - 1) * batch.., ..]);
        let dlast =
            affine_backward(params, self.head, last, dlogits.view(), true).expect("asked for");
        let mut dhidden = Array2::zeros(top.hidden.raw_dim());
        dhidden
            .slice_mut(s![(seq - 1) * batch.., ..])
            .assign(&dlast);
        for (k, (layer, cache)) in self.layers.iter().zip(&caches).enumerate().rev() {
            dhidden = self.layer_backward(params, layer, cache, dhidden, batch, k > 0);
        }
        value
    }

    fn forward(&self, params: &Params, x: ArrayView3<f32>) -> (Array2<f32>, Vec<LayerCache>) {
        let (batch, seq, features) = x.dim();
        let mut input = Array2::zeros((seq * batch, features));
        for t in 0..seq {
            input
                .slice_mut(s![t * batch..(t + 1) * batch, ..])
                .assign(&x.index_axis(Axis(1), t));
        }
        let mut caches: Vec<LayerCache> = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let cache = self.layer_forward(params, layer, input, batch, seq);
            input = cache.hidden.clone();
            caches.push(cache);
        }
        let top = caches.last().expect("at least one layer");
        let last = top.hidden.slice(s![(seq - 1) * batch.., ..]);
        (affine(params, self.head, last), caches)
    }

    fn layer_forward(
        &self,
        params: &Params,
        layer: &Layer,
        input: Array2<f32>,
        batch: usize,
        seq: usize,
    ) -> LayerCache {
        let h = self.spec.hidden;
        let mut gates = affine(params, (layer.w_ih, layer.b_ih), input.view());
        gates += &params.vector(layer.b_hh);
        let w_hh = params.matrix(layer.w_hh);
        let mut cells = Array2::<f32>::zeros((seq * batch, h));
        let mut hidden = Array2::<f32>::zeros((seq * batch, h));
        for t in 0..seq {
            let rows = t * batch..(t + 1) * batch;
            if t > 0 {
                let prev = hidden.slice(s![(t - 1) * batch..t * batch, ..]);
                let mut g = gates.slice_mut(s![rows.clone(), ..]);
                general_mat_mul(1.0, &prev, &w_hh.t(), 1.0, &mut g);
            }
            let cs = cells.as_slice_mut().expect("standard layout");
            let hs = hidden.as_slice_mut().expect("standard layout");
            for r in rows {
                let g = gates.row_mut(r).into_slice().expect("contiguous");
                let (before, after) = cs.split_at_mut(r * h);
                let c_prev = (r >= batch).then(|| &before[(r - batch) * h..]);
                let c_row = &mut after[..h];
                let h_row = &mut hs[r * h..(r + 1) * h];
                for j in 0..h {
                    let i = sigmoid(g[j]);
                    let f = sigmoid(g[h + j]);
                    let gg = tanh_fast(g[2 * h + j]);
                    let o = sigmoid(g[3 * h + j]);
                    let c = f * c_prev.map_or(0.0, |c| c[j]) + i * gg;
                    g[j] = i;
                    g[h + j] = f;
                    g[2 * h + j] = gg;
                    g[3 * h + j] = o;
                    c_row[j] = c;
                    h_row[j] = o * tanh_fast(c);
                }
            }
        }
        LayerCache {
            input,
            gates,
            cells,
            hidden,
        }
    }

    /// Backpropagates one layer through time from its hidden states' gradients; returns its
    /// input's (when `input_grad`).
    fn layer_backward(
        &self,
        params: &mut Params,
        layer: &Layer,
        cache: &LayerCache,
        dhidden: Array2<f32>,
        batch: usize,
        input_grad: bool,
    ) -> Array2<f32> {
        let h = self.spec.hidden;
        let seq = cache.hidden.nrows() / batch;
        let mut dgates = Array2::<f32>::zeros(cache.gates.raw_dim());
        let mut dh_next = Array2::<f32>::zeros((batch, h));
        let mut dc_next = Array2::<f32>::zeros((batch, h));
        let w_hh = params.matrix(layer.w_hh).to_owned();
        for t in (0..seq).rev() {
            let cells = cache.cells.as_slice().expect("standard layout");
            let dh_next_s = dh_next.as_slice().expect("standard layout");
            let dc_next_s = dc_next.as_slice_mut().expect("standard layout");
            for b in 0..batch {
                let r = t * batch + b;
                let g = cache.gates.row(r).to_slice().expect("contiguous");
                let c = &cells[r * h..(r + 1) * h];
                let c_prev = (t > 0).then(|| &cells[(r - batch) * h..(r - batch + 1) * h]);
                let dh_row = dhidden.row(r).to_slice().expect("contiguous");
                let dg = dgates.row_mut(r).into_slice().expect("contiguous");
                let dh_next_row = &dh_next_s[b * h..(b + 1) * h];
                let dc_next_row = &mut dc_next_s[b * h..(b + 1) * h];
                for j in 0..h {
                    let (i, f, gg, o) = (g[j], g[h + j], g[2 * h + j], g[3 * h + j]);
                    let tc = tanh_fast(c[j]);
                    let dh = dh_row[j] + dh_next_row[j];
                    let dc = dh * o * (1.0 - tc * tc) + dc_next_row[j];
                    dg[j] = dc * gg * i * (1.0 - i);
                    dg[h + j] = dc * c_prev.map_or(0.0, |c| c[j]) * f * (1.0 - f);
                    dg[2 * h + j] = dc * i * (1.0 - gg * gg);
                    dg[3 * h + j] = dh * tc * o * (1.0 - o);
                    dc_next_row[j] = dc * f;
                }
            }
            let dg_t = dgates.slice(s![t * batch..(t + 1) * batch, ..]);
            general_mat_mul(1.0, &dg_t, &w_hh, 0.0, &mut dh_next);
        }
        if seq > 1 {
            // Step t's gates saw step t−1's hidden state.
            let later = dgates.slice(s![batch.., ..]);
            let earlier = cache.hidden.slice(s![..(seq - 1) * batch, ..]);
            general_mat_mul(
                1.0,
                &later.t(),
                &earlier,
                1.0,
                &mut params.grad_matrix(layer.w_hh),
            );
        }
        params
            .grad_vector(layer.b_hh)
            .scaled_add(1.0, &dgates.sum_axis(Axis(0)));
        affine_backward(
            params,
            (layer.w_ih, layer.b_ih),
            cache.input.view(),
            dgates.view(),
            input_grad,
        )
        .unwrap_or_default()
    }

    /// The architecture.
    pub fn spec(&self) -> &LstmSpec {
        &self.spec
    }

    /// The first layer's input weights and biases `(w_ih, b_ih)`, where inputs are read.
    pub fn input_layer(&self) -> (usize, usize) {
        (self.layers[0].w_ih, self.layers[0].b_ih)
    }
}
