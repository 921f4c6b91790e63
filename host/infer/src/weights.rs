//! Model weights from safetensors, by PyTorch's state_dict names.
//!
//! [`Weights::from_safetensors`] checks every tensor the manifest implies: present, float32, and of
//! the shape PyTorch gives it; a tensor the manifest does not explain is an error too, since it
//! means the manifest and the weights describe different models. Each error names the tensor.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array1, Array2, Array3};
use safetensors::{Dtype, SafeTensors};

use crate::InferError;
use crate::manifest::{CnnSpec, GbtSpec, LogisticSpec, LstmSpec, Manifest, TransformerSpec};

/// A fully connected layer in PyTorch's layout: `y = x · weightᵀ + bias`.
#[derive(Clone, Debug)]
pub struct Linear {
    /// (out, in).
    pub weight: Array2<f32>,
    /// (out).
    pub bias: Array1<f32>,
}

/// Layer normalisation's affine parameters (eps 1e-5, as PyTorch's default).
#[derive(Clone, Debug)]
pub struct LayerNorm {
    /// Scale (d).
    pub weight: Array1<f32>,
    /// Shift (d).
    pub bias: Array1<f32>,
}

/// One LSTM layer, gates stacked in PyTorch's order i, f, g, o.
#[derive(Clone, Debug)]
pub struct LstmLayer {
    /// (4·hidden, input).
    pub w_ih: Array2<f32>,
    /// (4·hidden, hidden).
    pub w_hh: Array2<f32>,
    /// (4·hidden).
    pub b_ih: Array1<f32>,
    /// (4·hidden).
    pub b_hh: Array1<f32>,
}

/// `LSTMNet`'s parameters.
#[derive(Clone, Debug)]
pub struct LstmWeights {
    /// `lstm.*_l{k}` for each layer k.
    pub layers: Vec<LstmLayer>,
    /// `head`.
    pub head: Linear,
}

/// One `nn.TransformerEncoderLayer`.
#[derive(Clone, Debug)]
pub struct EncoderLayer {
    /// `self_attn.in_proj_*`: (3·d, d), queries, keys then values.
    pub in_proj: Linear,
    /// `self_attn.out_proj`.
    pub out_proj: Linear,
    /// `linear1`: d -> ff.
    pub linear1: Linear,
    /// `linear2`: ff -> d.
    pub linear2: Linear,
    /// `norm1` (around attention).
    pub norm1: LayerNorm,
    /// `norm2` (around the feed-forward block).
    pub norm2: LayerNorm,
}

/// `TransformerNet`'s parameters.
#[derive(Clone, Debug)]
pub struct TransformerWeights {
    /// `input_proj`.
    pub input_proj: Linear,
    /// `pos_emb`: (seq_len, d).
    pub pos_emb: Array2<f32>,
    /// `encoder.layers.{k}`.
    pub layers: Vec<EncoderLayer>,
    /// `head`.
    pub head: Linear,
}

/// One `nn.Conv1d`.
#[derive(Clone, Debug)]
pub struct Conv1d {
    /// (out, in, kernel).
    pub weight: Array3<f32>,
    /// (out).
    pub bias: Array1<f32>,
    /// Spacing between kernel taps.
    pub dilation: usize,
}

/// `CNNNet`'s parameters.
#[derive(Clone, Debug)]
pub struct CnnWeights {
    /// `convs.{k}`.
    pub convs: Vec<Conv1d>,
    /// `head`.
    pub head: Linear,
}

/// A logistic regression's parameters.
#[derive(Clone, Debug)]
pub struct LogisticWeights {
    /// `mean`: each feature's training mean.
    pub mean: Array1<f32>,
    /// `scale`: each feature's training standard deviation.
    pub scale: Array1<f32>,
    /// `weight` and `bias`: on the standardised features.
    pub linear: Linear,
}

/// Gradient-boosted trees, flat: node `i` of any tree splits on `feature[i]` (a leaf when
/// negative) at `threshold[i]`, going to `left[i]` when the value is at most it, else
/// `right[i]`; a leaf adds `value[i]`.
#[derive(Clone, Debug)]
pub struct GbtWeights {
    /// Each class's logit before the trees.
    pub base: Array1<f32>,
    /// Each tree's first node.
    pub roots: Vec<u32>,
    /// Per node: the feature split on, or −1 for a leaf.
    pub feature: Vec<i32>,
    /// Per node: the split's threshold.
    pub threshold: Vec<f32>,
    /// Per node: the left child.
    pub left: Vec<u32>,
    /// Per node: the right child.
    pub right: Vec<u32>,
    /// Per node: a leaf's value.
    pub value: Vec<f32>,
}

/// A model's parameters, checked against its manifest.
#[derive(Clone, Debug)]
pub enum Weights {
    /// See [`LstmWeights`].
    Lstm(LstmWeights),
    /// See [`TransformerWeights`].
    Transformer(TransformerWeights),
    /// See [`CnnWeights`].
    Cnn(CnnWeights),
    /// See [`LogisticWeights`].
    Logistic(LogisticWeights),
    /// See [`GbtWeights`].
    Gbt(GbtWeights),
}

impl Weights {
    /// Reads a safetensors file and checks it against the manifest.
    pub fn load(manifest: &Manifest, path: &Path) -> Result<Self, InferError> {
        let bytes = std::fs::read(path)
            .map_err(|e| InferError::Io(format!("reading weights {}: {e}", path.display())))?;
        Self::from_safetensors(manifest, &bytes).map_err(|e| match e {
            InferError::Weights(m) => InferError::Weights(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Parses safetensors bytes and checks them against the manifest.
    pub fn from_safetensors(manifest: &Manifest, bytes: &[u8]) -> Result<Self, InferError> {
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| InferError::Weights(format!("not a safetensors file: {e}")))?;
        let mut reader = Reader {
            tensors: &tensors,
            used: BTreeMap::new(),
        };
        let weights = match manifest {
            Manifest::Lstm(s) => Weights::Lstm(reader.lstm(s)?),
            Manifest::Transformer(s) => Weights::Transformer(reader.transformer(s)?),
            Manifest::Cnn(s) => Weights::Cnn(reader.cnn(s)?),
            Manifest::Logistic(s) => Weights::Logistic(reader.logistic(s)?),
            Manifest::Gbt(s) => Weights::Gbt(reader.gbt(s)?),
        };
        reader.finish(manifest)?;
        Ok(weights)
    }
}

/// The deepest a tree of the host's own may be.
pub const MAX_TREE_DEPTH: usize = 64;

/// `values` of tensor `name` if all are finite.
fn finite(name: &str, values: Array1<f32>) -> Result<Array1<f32>, InferError> {
    match values.iter().find(|v| !v.is_finite()) {
        Some(v) => Err(InferError::Weights(format!("tensor `{name}` holds {v}"))),
        None => Ok(values),
    }
}

struct Reader<'a> {
    tensors: &'a SafeTensors<'a>,
    used: BTreeMap<String, ()>,
}

impl Reader<'_> {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, InferError> {
        let view = self.tensors.tensor(name).map_err(|_| {
            InferError::Weights(format!(
                "tensor `{name}` is missing (expected shape {shape:?})"
            ))
        })?;
        if view.dtype() != Dtype::F32 {
            return Err(InferError::Weights(format!(
                "tensor `{name}` is {:?}, expected F32 (export with .float())",
                view.dtype()
            )));
        }
        if view.shape() != shape {
            return Err(InferError::Weights(format!(
                "tensor `{name}` has shape {:?}, the manifest implies {shape:?}",
                view.shape()
            )));
        }
        self.used.insert(name.to_string(), ());
        Ok(view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn vector(&mut self, name: &str, n: usize) -> Result<Array1<f32>, InferError> {
        Ok(Array1::from(self.take(name, &[n])?))
    }

    fn matrix(&mut self, name: &str, rows: usize, cols: usize) -> Result<Array2<f32>, InferError> {
        let data = self.take(name, &[rows, cols])?;
        Ok(Array2::from_shape_vec((rows, cols), data).expect("shape checked"))
    }

    fn linear(&mut self, prefix: &str, input: usize, output: usize) -> Result<Linear, InferError> {
        Ok(Linear {
            weight: self.matrix(&format!("{prefix}.weight"), output, input)?,
            bias: self.vector(&format!("{prefix}.bias"), output)?,
        })
    }

    fn norm(&mut self, prefix: &str, d: usize) -> Result<LayerNorm, InferError> {
        Ok(LayerNorm {
            weight: self.vector(&format!("{prefix}.weight"), d)?,
            bias: self.vector(&format!("{prefix}.bias"), d)?,
        })
    }

    fn lstm(&mut self, s: &LstmSpec) -> Result<LstmWeights, InferError> {
        let h = s.hidden;
        let layers = (0..s.layers)
            .map(|k| {
                let input = if k == 0 { s.n_features } else { h };
                Ok(LstmLayer {
                    w_ih: self.matrix(&format!("lstm.weight_ih_l{k}"), 4 * h, input)?,
                    w_hh: self.matrix(&format!("lstm.weight_hh_l{k}"), 4 * h, h)?,
                    b_ih: self.vector(&format!("lstm.bias_ih_l{k}"), 4 * h)?,
                    b_hh: self.vector(&format!("lstm.bias_hh_l{k}"), 4 * h)?,
                })
            })
            .collect::<Result<_, InferError>>()?;
        Ok(LstmWeights {
            layers,
            head: self.linear("head", h, s.n_out)?,
        })
    }

    fn transformer(&mut self, s: &TransformerSpec) -> Result<TransformerWeights, InferError> {
        let d = s.d_model;
        let input_proj = self.linear("input_proj", s.n_features, d)?;
        let pos_emb = self.matrix("pos_emb", s.seq_len, d)?;
        let layers = (0..s.layers)
            .map(|k| {
                let p = format!("encoder.layers.{k}");
                Ok(EncoderLayer {
                    in_proj: Linear {
                        weight: self.matrix(&format!("{p}.self_attn.in_proj_weight"), 3 * d, d)?,
                        bias: self.vector(&format!("{p}.self_attn.in_proj_bias"), 3 * d)?,
                    },
                    out_proj: self.linear(&format!("{p}.self_attn.out_proj"), d, d)?,
                    linear1: self.linear(&format!("{p}.linear1"), d, s.ff)?,
                    linear2: self.linear(&format!("{p}.linear2"), s.ff, d)?,
                    norm1: self.norm(&format!("{p}.norm1"), d)?,
                    norm2: self.norm(&format!("{p}.norm2"), d)?,
                })
            })
            .collect::<Result<_, InferError>>()?;
        Ok(TransformerWeights {
            input_proj,
            pos_emb,
            layers,
            head: self.linear("head", d, s.n_out)?,
        })
    }

    fn cnn(&mut self, s: &CnnSpec) -> Result<CnnWeights, InferError> {
        let mut input = s.n_features;
        let mut convs = Vec::with_capacity(s.channels.len());
        for (k, ((&out, &kernel), &dilation)) in s
            .channels
            .iter()
            .zip(&s.kernels)
            .zip(&s.dilations)
            .enumerate()
        {
            let name = format!("convs.{k}.weight");
            let data = self.take(&name, &[out, input, kernel])?;
            convs.push(Conv1d {
                weight: Array3::from_shape_vec((out, input, kernel), data).expect("shape checked"),
                bias: self.vector(&format!("convs.{k}.bias"), out)?,
                dilation,
            });
            input = out;
        }
        Ok(CnnWeights {
            convs,
            head: self.linear("head", input, s.n_out)?,
        })
    }

    fn logistic(&mut self, s: &LogisticSpec) -> Result<LogisticWeights, InferError> {
        let scale = self.vector("scale", s.n_features)?;
        if let Some(bad) = scale.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            return Err(InferError::Weights(format!(
                "tensor `scale` holds {bad}: every scale must be positive"
            )));
        }
        let weight = self.matrix("weight", s.n_out, s.n_features)?;
        if let Some(v) = weight.iter().find(|v| !v.is_finite()) {
            return Err(InferError::Weights(format!("tensor `weight` holds {v}")));
        }
        Ok(LogisticWeights {
            mean: finite("mean", self.vector("mean", s.n_features)?)?,
            scale,
            linear: Linear {
                weight,
                bias: finite("bias", self.vector("bias", s.n_out)?)?,
            },
        })
    }

    /// Integers stored as float32: each a whole number in `range`.
    fn indices(
        &mut self,
        name: &str,
        n: usize,
        range: std::ops::Range<i64>,
    ) -> Result<Vec<i64>, InferError> {
        self.take(name, &[n])?
            .into_iter()
            .map(|v| {
                let i = v as i64;
                if i as f32 == v && range.contains(&i) {
                    Ok(i)
                } else {
                    Err(InferError::Weights(format!(
                        "tensor `{name}` holds {v}, not a whole number in {range:?}"
                    )))
                }
            })
            .collect()
    }

    fn gbt(&mut self, s: &GbtSpec) -> Result<GbtWeights, InferError> {
        let nodes = s.nodes as i64;
        let roots = self.indices("roots", s.trees, 0..nodes)?;
        let feature = self.indices("feature", s.nodes, -1..s.n_features as i64)?;
        let left = self.indices("left", s.nodes, 0..nodes)?;
        let right = self.indices("right", s.nodes, 0..nodes)?;
        let bad = |m: String| Err(InferError::Weights(m));
        // Trees one after the other from node 0, each its own nodes alone.
        if roots[0] != 0 || roots.windows(2).any(|w| w[1] <= w[0]) {
            return bad(
                "tensor `roots` must start at 0 and increase: one run of nodes per tree".into(),
            );
        }
        for (t, &root) in roots.iter().enumerate() {
            let end = roots.get(t + 1).copied().unwrap_or(nodes);
            let mut depth = vec![0usize; (end - root) as usize];
            for i in root..end {
                if feature[i as usize] < 0 {
                    continue;
                }
                // Children come after their parent and inside its tree: every walk ends at a
                // leaf within MAX_TREE_DEPTH steps.
                for child in [left[i as usize], right[i as usize]] {
                    if child <= i || child >= end {
                        return bad(format!(
                            "node {i} of tree {t} splits to node {child}: the trees must point forward, each within its own nodes"
                        ));
                    }
                    let d = depth[(i - root) as usize] + 1;
                    if d > MAX_TREE_DEPTH {
                        return bad(format!("tree {t} is deeper than {MAX_TREE_DEPTH} levels"));
                    }
                    depth[(child - root) as usize] = d;
                }
            }
        }
        let threshold = self.take("threshold", &[s.nodes])?;
        if let Some(v) = threshold.iter().find(|v| v.is_nan()) {
            return bad(format!("tensor `threshold` holds {v}"));
        }
        let u32s = |v: Vec<i64>| v.into_iter().map(|i| i as u32).collect();
        let base = finite("base", self.vector("base", s.n_out)?)?;
        let value = finite("value", self.vector("value", s.nodes)?)?;
        Ok(GbtWeights {
            base,
            roots: u32s(roots),
            feature: feature.into_iter().map(|i| i as i32).collect(),
            threshold,
            left: u32s(left),
            right: u32s(right),
            value: value.to_vec(),
        })
    }

    fn finish(self, manifest: &Manifest) -> Result<(), InferError> {
        let mut names: Vec<String> = self
            .tensors
            .names()
            .into_iter()
            .map(str::to_string)
            .collect();
        names.sort();
        match names.into_iter().find(|n| !self.used.contains_key(n)) {
            Some(extra) => Err(InferError::Weights(format!(
                "tensor `{extra}` is not part of the {} the manifest describes ({manifest})",
                manifest.arch()
            ))),
            None => Ok(()),
        }
    }
}
