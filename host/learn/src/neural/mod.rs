//! Neural networks trained in the host: the LSTM, CNN and Transformer of
//! `shared/models/reference_models.py`, with hand-written backward passes checked against
//! PyTorch's autograd, AdamW, a warm-up and cosine schedule, early stopping, temperature
//! calibration on the validation window, and seeds; saved
//! as `reference_models.export()` saves them, so `stratbox-infer` and PyTorch load them alike.
//!
//! Why hand-written backward passes rather than an autodiff crate: the three architectures are
//! fixed, so each layer's backward pass is a few matrix products over the same ndarray kernels
//! inference uses, with no graph to build per batch; BENCHMARKS.md has the per-epoch time
//! against PyTorch.

mod cnn;
mod fit;
mod layers;
pub mod loss;
mod lstm;
pub mod optim;
pub mod params;
mod transformer;

pub use fit::{EpochReport, Neural, Training, fit_temperature};

use crate::LearnError;
use cnn::CnnNet;
use lstm::LstmNet;
use ndarray::{Array2, ArrayView2, ArrayView3};
use params::{Params, Rng};
use serde::{Deserialize, Serialize};
use stratbox_infer::Manifest;
use stratbox_infer::manifest::{Activation, CnnSpec, LstmSpec, TransformerSpec};
use transformer::TransformerNet;

/// A network's shape, without its input width, output count and sequence length (which the
/// data gives); `train.toml`'s settings of `kind = "lstm" | "cnn" | "transformer"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "arch", rename_all = "lowercase")]
pub enum Architecture {
    /// Stacked LSTM.
    Lstm(LstmShape),
    /// Causal dilated convolutions.
    Cnn(CnnShape),
    /// Transformer encoder.
    Transformer(TransformerShape),
}

/// An LSTM's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LstmShape {
    /// Hidden units per layer.
    pub hidden: usize,
    /// Stacked layers.
    pub layers: usize,
}

impl Default for LstmShape {
    fn default() -> Self {
        LstmShape {
            hidden: 32,
            layers: 1,
        }
    }
}

/// A CNN's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CnnShape {
    /// Output channels of each convolution.
    pub channels: Vec<usize>,
    /// Kernel width of each.
    pub kernels: Vec<usize>,
    /// Dilation of each.
    pub dilations: Vec<usize>,
}

impl Default for CnnShape {
    fn default() -> Self {
        CnnShape {
            channels: vec![16, 16],
            kernels: vec![3, 3],
            dilations: vec![1, 2],
        }
    }
}

/// A Transformer's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransformerShape {
    /// Model width.
    pub d_model: usize,
    /// Attention heads (divides `d_model`).
    pub nhead: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Feed-forward width.
    pub ff: usize,
    /// Feed-forward activation.
    pub activation: Activation,
    /// Layer norm before each block (true) or after (false).
    pub norm_first: bool,
}

impl Default for TransformerShape {
    fn default() -> Self {
        TransformerShape {
            d_model: 16,
            nhead: 2,
            layers: 1,
            ff: 32,
            activation: Activation::Gelu,
            norm_first: false,
        }
    }
}

impl Architecture {
    /// The manifest of this shape for inputs of `n_features` over `seq` steps and `n_out`
    /// classes, checked as inference checks it.
    pub fn manifest(
        &self,
        n_features: usize,
        seq: usize,
        n_out: usize,
    ) -> Result<Manifest, LearnError> {
        let manifest = match self.clone() {
            Architecture::Lstm(s) => Manifest::Lstm(LstmSpec {
                n_features,
                hidden: s.hidden,
                layers: s.layers,
                n_out,
            }),
            Architecture::Cnn(s) => Manifest::Cnn(CnnSpec {
                n_features,
                channels: s.channels,
                kernels: s.kernels,
                dilations: s.dilations,
                n_out,
            }),
            Architecture::Transformer(s) => Manifest::Transformer(TransformerSpec {
                n_features,
                d_model: s.d_model,
                nhead: s.nhead,
                layers: s.layers,
                ff: s.ff,
                seq_len: seq,
                n_out,
                activation: s.activation,
                norm_first: s.norm_first,
            }),
        };
        let json = serde_json::to_string(&manifest).expect("a manifest serialises");
        Manifest::from_json(&json).map_err(|e| LearnError::Config(e.detail().to_string()))
    }
}

/// A network with its parameters' layout (the values live in a [`Params`]).
#[derive(Clone, Debug)]
pub enum Network {
    /// `LSTMNet`.
    Lstm(LstmNet),
    /// `CNNNet`.
    Cnn(CnnNet),
    /// `TransformerNet`.
    Transformer(TransformerNet),
}

impl Network {
    /// A network for `manifest` (an lstm, cnn or transformer one), its parameters registered
    /// in a fresh [`Params`] and initialised as PyTorch initialises them, from `seed`.
    pub fn new(manifest: &Manifest, seed: u64) -> Result<(Network, Params), LearnError> {
        let mut params = Params::default();
        let mut rng = Rng::new(seed);
        let net = match manifest {
            Manifest::Lstm(s) => Network::Lstm(LstmNet::new(s, &mut params, &mut rng)),
            Manifest::Cnn(s) => Network::Cnn(CnnNet::new(s, &mut params, &mut rng)),
            Manifest::Transformer(s) => {
                Network::Transformer(TransformerNet::new(s, &mut params, &mut rng))
            }
            other => {
                return Err(LearnError::Config(format!(
                    "{} is not a neural network",
                    other.arch()
                )));
            }
        };
        Ok((net, params))
    }

    /// The manifest `reference_models.build()` reads for this network.
    pub fn manifest(&self) -> Manifest {
        match self {
            Network::Lstm(n) => Manifest::Lstm(n.spec().clone()),
            Network::Cnn(n) => Manifest::Cnn(n.spec().clone()),
            Network::Transformer(n) => Manifest::Transformer(n.spec().clone()),
        }
    }

    /// Logits (batch, n_out) of `x` (batch, seq, n_features).
    pub fn logits(&self, params: &Params, x: ArrayView3<f32>) -> Array2<f32> {
        match self {
            Network::Lstm(n) => n.logits(params, x),
            Network::Cnn(n) => n.logits(params, x),
            Network::Transformer(n) => n.logits(params, x),
        }
    }

    /// Adds to `params`' gradients those of a loss of the logits of `x`: `loss` gets the
    /// logits and returns the loss and its gradient with respect to them. Returns the loss.
    pub fn backprop(
        &self,
        params: &mut Params,
        x: ArrayView3<f32>,
        loss: impl FnOnce(ArrayView2<f32>) -> (f32, Array2<f32>),
    ) -> f32 {
        match self {
            Network::Lstm(n) => n.backprop(params, x, loss),
            Network::Cnn(n) => n.backprop(params, x, loss),
            Network::Transformer(n) => n.backprop(params, x, loss),
        }
    }

    /// The `(weight, bias)` that reads the inputs: an affine map of each step's features
    /// (an LSTM's first input weights, the input projection, or the first convolution's
    /// weights read as (out, in·kernel)), where a standardisation can be folded in.
    fn input_layer(&self) -> (usize, usize) {
        match self {
            Network::Lstm(n) => n.input_layer(),
            Network::Cnn(n) => n.input_layer(),
            Network::Transformer(n) => n.input_layer(),
        }
    }

    /// Taps per input feature in the input layer's weight rows (a convolution's kernel).
    fn taps(&self) -> usize {
        match self {
            Network::Cnn(n) => n.spec().kernels[0],
            _ => 1,
        }
    }
}
