//! Model manifests: the JSON that `reference_models.export()` writes beside the weights.
//!
//! A manifest is `{"arch": "lstm" | "transformer" | "cnn", ...the constructor's arguments}`, exactly
//! what `reference_models.build()` accepts, so a model trained in PyTorch deploys unchanged; the
//! host's own kinds (`"logistic"`) follow the same form. Parsing rejects unknown keys and
//! impossible hyperparameters with an error naming the field.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::InferError;

/// One model's architecture and hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "arch", rename_all = "lowercase")]
pub enum Manifest {
    /// Stacked LSTM; the head reads the last time step.
    Lstm(LstmSpec),
    /// Input projection, learned positions, encoder layers, mean pooling, head.
    Transformer(TransformerSpec),
    /// Causal dilated 1-D convolutions with ReLU, global average pooling, head.
    Cnn(CnnSpec),
    /// Multinomial logistic regression on the last step's standardised features (trained by
    /// the host; CPU only).
    Logistic(LogisticSpec),
    /// Gradient-boosted trees on the last step's features (trained by the host; CPU only).
    Gbt(GbtSpec),
}

/// The size of a gradient-boosted tree model: weights `base` (n_out), `roots` (trees) and, for
/// every node of every tree, `feature` (−1 for a leaf), `threshold`, `left`, `right` (node
/// indices) and `value`; tree `t` adds its leaf's value to class `t mod n_out`'s logit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GbtSpec {
    /// Features per time step.
    pub n_features: usize,
    /// Outputs (classes).
    pub n_out: usize,
    /// Trees.
    pub trees: usize,
    /// Nodes of all trees together.
    pub nodes: usize,
}

/// Hyperparameters of a logistic regression: weights `mean`, `scale` (features), `weight`
/// (n_out, features) and `bias` (n_out); logits `((x − mean) / scale) · weightᵀ + bias` of the
/// last time step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogisticSpec {
    /// Features per time step.
    pub n_features: usize,
    /// Outputs (classes).
    pub n_out: usize,
}

/// Hyperparameters of `LSTMNet`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LstmSpec {
    /// Features per time step.
    pub n_features: usize,
    /// Hidden units per layer.
    pub hidden: usize,
    /// Stacked layers.
    pub layers: usize,
    /// Outputs (classes) of the head.
    pub n_out: usize,
}

/// Activation of a transformer layer's feed-forward block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// The exact (erf) GELU, PyTorch's default.
    Gelu,
}

/// Hyperparameters of `TransformerNet`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerSpec {
    /// Features per time step.
    pub n_features: usize,
    /// Model width.
    pub d_model: usize,
    /// Attention heads; divides `d_model`.
    pub nhead: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Feed-forward width.
    pub ff: usize,
    /// Longest sequence (rows of the learned position table).
    pub seq_len: usize,
    /// Outputs (classes) of the head.
    pub n_out: usize,
    /// Feed-forward activation.
    #[serde(default = "default_activation")]
    pub activation: Activation,
    /// Layer norm before (true) or after (false) each block.
    #[serde(default)]
    pub norm_first: bool,
}

fn default_activation() -> Activation {
    Activation::Gelu
}

/// Hyperparameters of `CNNNet`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnnSpec {
    /// Features per time step (input channels).
    pub n_features: usize,
    /// Output channels of each convolution.
    pub channels: Vec<usize>,
    /// Kernel width of each convolution.
    pub kernels: Vec<usize>,
    /// Dilation of each convolution.
    pub dilations: Vec<usize>,
    /// Outputs (classes) of the head.
    pub n_out: usize,
}

impl Manifest {
    /// Parses and validates a manifest from JSON text.
    pub fn from_json(text: &str) -> Result<Self, InferError> {
        let manifest: Manifest =
            serde_json::from_str(text).map_err(|e| InferError::Manifest(e.to_string()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Reads, parses and validates a manifest file.
    pub fn load(path: &Path) -> Result<Self, InferError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InferError::Io(format!("reading manifest {}: {e}", path.display())))?;
        Self::from_json(&text)
            .map_err(|e| InferError::Manifest(format!("{}: {}", path.display(), e.detail())))
    }

    /// The architecture's name as the manifest spells it.
    pub fn arch(&self) -> &'static str {
        match self {
            Manifest::Lstm(_) => "lstm",
            Manifest::Transformer(_) => "transformer",
            Manifest::Cnn(_) => "cnn",
            Manifest::Logistic(_) => "logistic",
            Manifest::Gbt(_) => "gbt",
        }
    }

    /// Features per time step the model reads.
    pub fn n_features(&self) -> usize {
        match self {
            Manifest::Lstm(s) => s.n_features,
            Manifest::Transformer(s) => s.n_features,
            Manifest::Cnn(s) => s.n_features,
            Manifest::Logistic(s) => s.n_features,
            Manifest::Gbt(s) => s.n_features,
        }
    }

    /// Outputs per sample.
    pub fn n_out(&self) -> usize {
        match self {
            Manifest::Lstm(s) => s.n_out,
            Manifest::Transformer(s) => s.n_out,
            Manifest::Cnn(s) => s.n_out,
            Manifest::Logistic(s) => s.n_out,
            Manifest::Gbt(s) => s.n_out,
        }
    }

    /// The longest sequence the model accepts, if it has one (the transformer's position table).
    pub fn max_seq(&self) -> Option<usize> {
        match self {
            Manifest::Transformer(s) => Some(s.seq_len),
            _ => None,
        }
    }

    /// Whether the GPU path runs it (the host's own small kinds run on the CPU only).
    pub fn runs_on_gpu(&self) -> bool {
        !matches!(self, Manifest::Logistic(_) | Manifest::Gbt(_))
    }

    /// Checks that an input of `seq` steps × `features` fits the model.
    pub fn check_input(&self, seq: usize, features: usize) -> Result<(), InferError> {
        if features != self.n_features() {
            return Err(InferError::Input(format!(
                "the {} model reads {} features per step, the input has {features}",
                self.arch(),
                self.n_features()
            )));
        }
        if seq == 0 {
            return Err(InferError::Input("the input sequence is empty".into()));
        }
        if let Some(max) = self.max_seq()
            && seq > max
        {
            return Err(InferError::Input(format!(
                "the transformer's position table has {max} rows, the input sequence has {seq} steps"
            )));
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), InferError> {
        let positive = |name: &str, value: usize| {
            if value == 0 {
                Err(InferError::Manifest(format!("{name} must be at least 1")))
            } else {
                Ok(())
            }
        };
        match self {
            Manifest::Lstm(s) => {
                positive("n_features", s.n_features)?;
                positive("hidden", s.hidden)?;
                positive("layers", s.layers)?;
                positive("n_out", s.n_out)
            }
            Manifest::Transformer(s) => {
                positive("n_features", s.n_features)?;
                positive("d_model", s.d_model)?;
                positive("nhead", s.nhead)?;
                positive("layers", s.layers)?;
                positive("ff", s.ff)?;
                positive("seq_len", s.seq_len)?;
                positive("n_out", s.n_out)?;
                if s.d_model % s.nhead != 0 {
                    return Err(InferError::Manifest(format!(
                        "nhead ({}) must divide d_model ({})",
                        s.nhead, s.d_model
                    )));
                }
                Ok(())
            }
            Manifest::Cnn(s) => {
                positive("n_features", s.n_features)?;
                positive("n_out", s.n_out)?;
                if s.channels.is_empty() {
                    return Err(InferError::Manifest(
                        "channels must name at least one layer".into(),
                    ));
                }
                if s.kernels.len() != s.channels.len() || s.dilations.len() != s.channels.len() {
                    return Err(InferError::Manifest(format!(
                        "channels, kernels and dilations must have one entry per layer, got {}, {} and {}",
                        s.channels.len(),
                        s.kernels.len(),
                        s.dilations.len()
                    )));
                }
                for (i, ((&c, &k), &d)) in s
                    .channels
                    .iter()
                    .zip(&s.kernels)
                    .zip(&s.dilations)
                    .enumerate()
                {
                    positive(&format!("channels[{i}]"), c)?;
                    positive(&format!("kernels[{i}]"), k)?;
                    positive(&format!("dilations[{i}]"), d)?;
                }
                Ok(())
            }
            Manifest::Logistic(s) => {
                positive("n_features", s.n_features)?;
                positive("n_out", s.n_out)
            }
            Manifest::Gbt(s) => {
                positive("n_features", s.n_features)?;
                positive("n_out", s.n_out)?;
                positive("trees", s.trees)?;
                if s.nodes < s.trees {
                    return Err(InferError::Manifest(format!(
                        "nodes ({}) must be at least one per tree ({})",
                        s.nodes, s.trees
                    )));
                }
                Ok(())
            }
        }
    }

    /// Trainable parameters (what the state_dict holds).
    pub fn parameter_count(&self) -> usize {
        let linear = |i: usize, o: usize| i * o + o;
        match self {
            Manifest::Lstm(s) => {
                let layers: usize = (0..s.layers)
                    .map(|l| {
                        let input = if l == 0 { s.n_features } else { s.hidden };
                        4 * s.hidden * (input + s.hidden) + 8 * s.hidden
                    })
                    .sum();
                layers + linear(s.hidden, s.n_out)
            }
            Manifest::Transformer(s) => {
                let d = s.d_model;
                let layer =
                    linear(d, 3 * d) + linear(d, d) + linear(d, s.ff) + linear(s.ff, d) + 4 * d;
                linear(s.n_features, d) + s.seq_len * d + s.layers * layer + linear(d, s.n_out)
            }
            Manifest::Cnn(s) => {
                let mut input = s.n_features;
                let mut total = 0;
                for (&c, &k) in s.channels.iter().zip(&s.kernels) {
                    total += c * input * k + c;
                    input = c;
                }
                total + linear(input, s.n_out)
            }
            Manifest::Logistic(s) => linear(s.n_features, s.n_out),
            // Per node: its feature, threshold and value (children are structure).
            Manifest::Gbt(s) => 3 * s.nodes + s.n_out,
        }
    }

    /// Floating-point operations for one sample of `seq` steps (a multiply-add counts two), counting
    /// the matrix products, convolutions and attention; element-wise work is left out.
    pub fn flops(&self, seq: usize) -> u64 {
        let t = seq as u64;
        let mm = |rows: u64, inner: usize, cols: usize| 2 * rows * inner as u64 * cols as u64;
        match self {
            Manifest::Lstm(s) => {
                let layers: u64 = (0..s.layers)
                    .map(|l| {
                        let input = if l == 0 { s.n_features } else { s.hidden };
                        mm(t, input + s.hidden, 4 * s.hidden)
                    })
                    .sum();
                layers + mm(1, s.hidden, s.n_out)
            }
            Manifest::Transformer(s) => {
                let d = s.d_model;
                let attention = 2 * mm(t, d, seq);
                let layer =
                    mm(t, d, 3 * d) + attention + mm(t, d, d) + mm(t, d, s.ff) + mm(t, s.ff, d);
                mm(t, s.n_features, d) + s.layers as u64 * layer + mm(1, d, s.n_out)
            }
            Manifest::Cnn(s) => {
                let mut input = s.n_features;
                let mut total = 0;
                for (&c, &k) in s.channels.iter().zip(&s.kernels) {
                    total += mm(t, input * k, c);
                    input = c;
                }
                total + mm(1, input, s.n_out)
            }
            Manifest::Logistic(s) => 2 * s.n_features as u64 + mm(1, s.n_features, s.n_out),
            // A comparison per level and an addition per tree, at most one per node.
            Manifest::Gbt(s) => s.nodes as u64,
        }
    }
}

impl fmt::Display for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Manifest::Lstm(s) => write!(
                f,
                "lstm: {} features -> {} layer(s) of {} hidden units -> last step -> linear {}",
                s.n_features, s.layers, s.hidden, s.n_out
            ),
            Manifest::Transformer(s) => write!(
                f,
                "transformer: {} features -> linear {} + learned positions ({} rows) -> {} {}-norm \
                 encoder layer(s) ({} heads, feed-forward {}, {}) -> mean over time -> linear {}",
                s.n_features,
                s.d_model,
                s.seq_len,
                s.layers,
                if s.norm_first { "pre" } else { "post" },
                s.nhead,
                s.ff,
                match s.activation {
                    Activation::Relu => "relu",
                    Activation::Gelu => "gelu",
                },
                s.n_out
            ),
            Manifest::Cnn(s) => {
                write!(f, "cnn: {} features", s.n_features)?;
                for ((c, k), d) in s.channels.iter().zip(&s.kernels).zip(&s.dilations) {
                    write!(f, " -> causal conv {c}×k{k}/d{d} + relu")?;
                }
                write!(f, " -> mean over time -> linear {}", s.n_out)
            }
            Manifest::Logistic(s) => write!(
                f,
                "logistic: {} features of the last step, standardised -> linear {}",
                s.n_features, s.n_out
            ),
            Manifest::Gbt(s) => write!(
                f,
                "gbt: {} features of the last step -> {} trees ({} nodes) -> {} logits",
                s.n_features, s.trees, s.nodes, s.n_out
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_reference_examples() {
        let m = Manifest::from_json(
            r#"{"arch": "transformer", "n_features": 16, "d_model": 32, "nhead": 4, "layers": 2,
                "ff": 64, "seq_len": 64, "n_out": 3, "activation": "gelu", "norm_first": false}"#,
        )
        .unwrap();
        assert_eq!(m.arch(), "transformer");
        // input_proj 16*32+32, pos 64*32, per layer (32*96+96)+(32*32+32)+(32*64+64)+(64*32+32)+4*32
        assert_eq!(m.parameter_count(), 19_779); // sum of numel() of the exported state_dict
        let lstm = Manifest::from_json(
            r#"{"arch": "lstm", "n_features": 16, "hidden": 32, "layers": 2, "n_out": 3}"#,
        )
        .unwrap();
        assert_eq!(
            lstm.parameter_count(),
            (4 * 32 * 48 + 256) + (4 * 32 * 64 + 256) + 99
        );
        assert_eq!(lstm.flops(64), 2 * 64 * (48 * 128 + 64 * 128) + 2 * 32 * 3);
        let cnn = Manifest::from_json(
            r#"{"arch": "cnn", "n_features": 16, "channels": [32, 32], "kernels": [5, 3],
                "dilations": [1, 2], "n_out": 3}"#,
        )
        .unwrap();
        assert_eq!(cnn.parameter_count(), 5_795);
        let logistic =
            Manifest::from_json(r#"{"arch": "logistic", "n_features": 16, "n_out": 3}"#).unwrap();
        assert_eq!(logistic.parameter_count(), 16 * 3 + 3);
        assert!(!logistic.runs_on_gpu());
    }

    #[test]
    fn errors_name_the_field() {
        let err = |text: &str| Manifest::from_json(text).unwrap_err().to_string();
        assert!(err(r#"{"arch": "gru", "hidden": 3}"#).contains("gru"));
        assert!(
            err(r#"{"arch": "lstm", "n_features": 4, "hidden": 8, "layers": 1}"#).contains("n_out")
        );
        assert!(
            err(r#"{"arch": "lstm", "n_features": 4, "hidden": 8, "layers": 1, "n_out": 3, "dropout": 0.1}"#)
                .contains("dropout")
        );
        assert!(
            err(r#"{"arch": "lstm", "n_features": 4, "hidden": 0, "layers": 1, "n_out": 3}"#)
                .contains("hidden")
        );
        assert!(
            err(
                r#"{"arch": "transformer", "n_features": 4, "d_model": 10, "nhead": 4, "layers": 1,
                    "ff": 8, "seq_len": 8, "n_out": 3}"#
            )
            .contains("nhead")
        );
        assert!(
            err(
                r#"{"arch": "transformer", "n_features": 4, "d_model": 8, "nhead": 4, "layers": 1,
                    "ff": 8, "seq_len": 8, "n_out": 3, "activation": "tanh"}"#
            )
            .contains("tanh")
        );
        assert!(
            err(
                r#"{"arch": "cnn", "n_features": 4, "channels": [8, 8], "kernels": [3],
                    "dilations": [1, 2], "n_out": 3}"#
            )
            .contains("one entry per layer")
        );
    }
}
