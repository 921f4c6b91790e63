//! `CNNNet` trained: causal dilated 1-D convolutions (left padding), ReLU, the mean over time,
//! the head. Each convolution is one matrix product over unfolded windows ("im2col"): row
//! `b·seq + t` holds, for every input channel `c` and tap `k`, the input at step
//! `t − dilation·(kernel − 1 − k)` in column `c·kernel + k`, which is PyTorch's (out, in,
//! kernel) weight read as (out, in·kernel).

use super::layers::{affine, affine_backward, mean_over_time, mean_over_time_backward};
use super::params::{self, Params, Rng};
use ndarray::{Array2, ArrayView2, ArrayView3};
use stratbox_infer::manifest::CnnSpec;

/// The network.
#[derive(Clone, Debug)]
pub struct CnnNet {
    spec: CnnSpec,
    /// Each convolution's `(weight, bias)`.
    convs: Vec<(usize, usize)>,
    head: (usize, usize),
    /// The first layer's value before the first step, per input channel (0 unless inputs are
    /// standardised inside: then the standardised zero, so the exported model, which pads raw
    /// inputs with zeros, computes the same).
    padding: Vec<f32>,
}

/// What one convolution keeps for the backward pass.
struct ConvCache {
    /// The unfolded input (batch·seq, in·kernel).
    windows: Array2<f32>,
    /// The output after ReLU (batch·seq, out).
    output: Array2<f32>,
}

impl CnnNet {
    /// A network of `spec`, initialised as PyTorch does (`nn.Conv1d` and `nn.Linear`: uniform
    /// in ±1/√fan_in), into `params`.
    pub fn new(spec: &CnnSpec, params: &mut Params, rng: &mut Rng) -> Self {
        let mut inputs = spec.n_features;
        let convs = spec
            .channels
            .iter()
            .zip(&spec.kernels)
            .enumerate()
            .map(|(k, (&out, &kernel))| {
                let bound = 1.0 / ((inputs * kernel) as f32).sqrt();
                let w = params.add(
                    format!("convs.{k}.weight"),
                    &[out, inputs, kernel],
                    rng.uniform(out * inputs * kernel, bound),
                );
                let b = params.add(format!("convs.{k}.bias"), &[out], rng.uniform(out, bound));
                inputs = out;
                (w, b)
            })
            .collect();
        let head = params::linear(params, rng, "head", spec.n_out, inputs);
        CnnNet {
            spec: spec.clone(),
            convs,
            head,
            padding: vec![0.0; spec.n_features],
        }
    }

    /// Sets the value the first convolution sees before the first step, per input channel.
    pub fn set_padding(&mut self, padding: Vec<f32>) {
        self.padding = padding;
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
        let (logits, pooled, caches) = self.forward(params, x);
        let (value, dlogits) = loss(logits.view());
        let dpooled = affine_backward(params, self.head, pooled.view(), dlogits.view(), true)
            .expect("asked for");
        let mut dy = mean_over_time_backward(dpooled.view(), seq);
        for (k, (conv, cache)) in self.convs.iter().zip(&caches).enumerate().rev() {
            dy.zip_mut_with(&cache.output, |d, &y| {
                if y <= 0.0 {
                    *d = 0.0
                }
            });
            let dwindows = affine_backward(params, *conv, cache.windows.view(), dy.view(), k > 0);
            if let Some(dwindows) = dwindows {
                let channels = self.spec.channels[k - 1];
                dy = self.fold(k, dwindows.view(), batch, seq, channels);
            }
        }
        value
    }

    fn forward(
        &self,
        params: &Params,
        x: ArrayView3<f32>,
    ) -> (Array2<f32>, Array2<f32>, Vec<ConvCache>) {
        let (batch, seq, features) = x.dim();
        let mut h = x
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((batch * seq, features))
            .expect("contiguous");
        let mut caches = Vec::with_capacity(self.convs.len());
        for (k, conv) in self.convs.iter().enumerate() {
            let windows = self.unfold(k, h.view(), batch, seq);
            let mut output = affine(params, *conv, windows.view());
            output.mapv_inplace(|v| v.max(0.0));
            h = output.clone();
            caches.push(ConvCache { windows, output });
        }
        let pooled = mean_over_time(h.view(), batch, seq);
        (affine(params, self.head, pooled.view()), pooled, caches)
    }

    /// The unfolded windows of convolution `k`'s input `h` (batch·seq, channels).
    fn unfold(&self, k: usize, h: ArrayView2<f32>, batch: usize, seq: usize) -> Array2<f32> {
        let (kernel, dilation) = (self.spec.kernels[k], self.spec.dilations[k]);
        let channels = h.ncols();
        let mut windows = Array2::zeros((batch * seq, channels * kernel));
        let h = h.as_slice().expect("standard layout");
        for b in 0..batch {
            for t in 0..seq {
                let row = windows
                    .row_mut(b * seq + t)
                    .into_slice()
                    .expect("contiguous");
                for tap in 0..kernel {
                    let back = dilation * (kernel - 1 - tap);
                    for c in 0..channels {
                        row[c * kernel + tap] = if t >= back {
                            h[(b * seq + t - back) * channels + c]
                        } else if k == 0 {
                            self.padding[c]
                        } else {
                            0.0
                        };
                    }
                }
            }
        }
        windows
    }

    /// Backward of [`CnnNet::unfold`]: every window value's gradient added to the step it
    /// came from (padding has none).
    fn fold(
        &self,
        k: usize,
        dwindows: ArrayView2<f32>,
        batch: usize,
        seq: usize,
        channels: usize,
    ) -> Array2<f32> {
        let (kernel, dilation) = (self.spec.kernels[k], self.spec.dilations[k]);
        let mut dh = Array2::<f32>::zeros((batch * seq, channels));
        let out = dh.as_slice_mut().expect("standard layout");
        for b in 0..batch {
            for t in 0..seq {
                let row = dwindows.row(b * seq + t);
                let row = row.to_slice().expect("contiguous");
                for tap in 0..kernel {
                    let back = dilation * (kernel - 1 - tap);
                    if t < back {
                        continue;
                    }
                    let to = (b * seq + t - back) * channels;
                    for c in 0..channels {
                        out[to + c] += row[c * kernel + tap];
                    }
                }
            }
        }
        dh
    }

    /// The architecture.
    pub fn spec(&self) -> &CnnSpec {
        &self.spec
    }

    /// The first convolution's `(weight, bias)`, where inputs are read.
    pub fn input_layer(&self) -> (usize, usize) {
        self.convs[0]
    }
}
