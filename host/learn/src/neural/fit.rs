//! Training a network: standardised inputs, seeded mini-batches, weighted cross-entropy,
//! gradient clipping, AdamW on a warm-up and cosine schedule, early stopping on a validation
//! window at the end of the training data (training samples whose labels reach into it
//! purged), and export with the
//! standardisation folded into the input layer, so the saved model reads raw features.

use super::loss::cross_entropy;
use super::optim::{AdamState, AdamW, Schedule, clip_grad_norm, learning_rate};
use super::params::{Params, Rng};
use super::{Architecture, Network};
use crate::LearnError;
use crate::calibration::{search_temperature, training_rows};
use crate::logistic::ClassWeight;
use crate::metrics::softmax_rows;
use crate::split::Span;
use ndarray::{Array2, Array3, ArrayView3, Axis};
use serde::{Deserialize, Serialize};
use std::path::Path;
use stratbox_infer::tensors::write_tensors;

/// How a network is trained (`train.toml`'s settings beside its shape).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Training {
    /// Most passes over the training samples.
    pub epochs: usize,
    /// Samples per gradient step.
    pub batch: usize,
    /// AdamW's base learning rate.
    pub learning_rate: f64,
    /// AdamW's decoupled weight decay (0: Adam).
    pub weight_decay: f64,
    /// The learning rate's course after the warm-up.
    pub schedule: Schedule,
    /// Epochs of linear warm-up from a tenth of the rate.
    pub warmup: usize,
    /// Epochs without a better validation loss before stopping (0: never stop early).
    pub patience: usize,
    /// Share of the (time-ordered) samples kept at the end for validation (0: none; the last
    /// epoch's model is kept).
    pub validation: f64,
    /// Largest joint 2-norm of the gradients (0: no clipping).
    pub clip_norm: f64,
    /// How classes are weighted in the loss.
    pub class_weight: ClassWeight,
    /// Seed of the initialisation and the batch order.
    pub seed: u64,
    /// Calibrate the probabilities by a temperature fitted on the validation window (folded
    /// into the head, so the saved model gives calibrated logits).
    pub calibrate: bool,
}

impl Default for Training {
    fn default() -> Self {
        Training {
            epochs: 30,
            batch: 64,
            learning_rate: 1e-3,
            weight_decay: 0.01,
            schedule: Schedule::Cosine,
            warmup: 0,
            patience: 5,
            validation: 0.2,
            clip_norm: 1.0,
            class_weight: ClassWeight::None,
            seed: 0,
            calibrate: true,
        }
    }
}

impl Training {
    fn check(&self) -> Result<(), LearnError> {
        let bad = |m: &str| Err(LearnError::Config(m.to_string()));
        if self.epochs == 0 {
            return bad("epochs must be at least 1");
        }
        if self.batch == 0 {
            return bad("batch must be at least 1");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate must be positive");
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay * self.learning_rate < 1.0) {
            return bad("weight_decay must be at least 0 and below 1 / learning_rate");
        }
        if !(0.0..0.9).contains(&self.validation) {
            return bad("validation must be in [0, 0.9)");
        }
        if !(self.clip_norm >= 0.0 && self.clip_norm.is_finite()) {
            return bad("clip_norm must be at least 0");
        }
        if self.warmup >= self.epochs {
            return bad("warmup must be shorter than epochs");
        }
        Ok(())
    }
}

/// One epoch's progress.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: usize,
    /// Of `epochs`.
    pub epochs: usize,
    /// The learning rate used.
    pub learning_rate: f64,
    /// Mean weighted loss over the epoch's batches.
    pub train_loss: f64,
    /// Weighted loss on the validation window, when there is one.
    pub validation_loss: Option<f64>,
    /// Whether this epoch's model is the best so far (the one kept).
    pub best: bool,
}

/// A trained network with the standardisation it learnt on.
#[derive(Clone, Debug)]
pub struct Neural {
    network: Network,
    params: Params,
    mean: Vec<f32>,
    scale: Vec<f32>,
    /// Every epoch's losses.
    pub history: Vec<EpochReport>,
    /// The temperature the logits were divided by (1 when not calibrated).
    pub temperature: f64,
}

/// Samples per forward pass when only predicting.
const PREDICT_CHUNK: usize = 256;

impl Neural {
    /// Trains a network of shape `arch` on `x` (samples in time order, seq, features), labels
    /// `y` in `0..classes` and optional sample weights; `spans` (each sample's bar and its
    /// label's last bar) purge from training every sample whose label reaches the validation
    /// window's first bar; `progress` sees every epoch.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        arch: &Architecture,
        x: ArrayView3<f32>,
        y: &[usize],
        weights: Option<&[f64]>,
        classes: usize,
        spans: &[Span],
        spec: &Training,
        mut progress: impl FnMut(&EpochReport),
    ) -> Result<Neural, LearnError> {
        spec.check()?;
        let (n, seq, features) = x.dim();
        if y.len() != n || spans.len() != n || weights.is_some_and(|w| w.len() != n) {
            return Err(LearnError::Data(format!(
                "{n} samples but {} labels and {} spans",
                y.len(),
                spans.len()
            )));
        }
        if weights.is_some_and(|w| w.iter().any(|v| !(v.is_finite() && *v >= 0.0))) {
            return Err(LearnError::Data(
                "sample weights must be finite and at least 0".into(),
            ));
        }
        if let Some(&bad) = y.iter().find(|&&k| k >= classes) {
            return Err(LearnError::Data(format!(
                "label {bad} of {classes} classes"
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(LearnError::Data(
                "inputs hold NaN or infinite values".into(),
            ));
        }
        let manifest = arch.manifest(features, seq, classes)?;
        let held = (n as f64 * spec.validation).round() as usize;
        let train_rows = training_rows(spans, held);
        if train_rows.is_empty() {
            return Err(LearnError::Data(format!(
                "{n} samples leave none to train on after {held} for validation and those whose labels reach it"
            )));
        }
        let (mean, scale) = standardisation(x.select(Axis(0), &train_rows).view());
        let xs = standardise(x, &mean, &scale);
        let (mut network, mut params) = Network::new(&manifest, spec.seed)?;
        if let Network::Cnn(cnn) = &mut network {
            // The exported model pads raw inputs with zeros: pad with the standardised zero.
            cnn.set_padding(mean.iter().zip(&scale).map(|(m, s)| -m / s).collect());
        }
        let sample_w = |i: usize| weights.map_or(1.0, |w| w[i]);
        let mut class_total = vec![0.0f64; classes];
        for &i in &train_rows {
            class_total[y[i]] += sample_w(i);
        }
        let all: f64 = class_total.iter().sum();
        let class_w: Vec<f64> = class_total
            .iter()
            .map(|&t| match spec.class_weight {
                ClassWeight::None => 1.0,
                ClassWeight::Balanced if t > 0.0 => all / (classes as f64 * t),
                ClassWeight::Balanced => 0.0,
            })
            .collect();
        let w: Vec<f32> = (0..n)
            .map(|i| (sample_w(i) * class_w[y[i]]) as f32)
            .collect();
        // A validation window that weighs nothing (its classes absent from training) cannot
        // choose an epoch or a temperature: then the last epoch is kept, uncalibrated.
        let validation: Vec<usize> = (n - held..n).collect();
        let validation = if validation.iter().map(|&i| f64::from(w[i])).sum::<f64>() > 0.0 {
            validation
        } else {
            Vec::new()
        };
        let mut adam = AdamState::new(
            AdamW {
                weight_decay: spec.weight_decay as f32,
                ..AdamW::default()
            },
            &params,
        );
        let mut order_rng = Rng::new(spec.seed ^ 0x5EED_0FBA_7C4E_5EED);
        let mut best: Option<(f64, Params)> = None;
        let mut since_best = 0;
        let mut history = Vec::new();
        for epoch in 0..spec.epochs {
            let lr = learning_rate(
                spec.schedule,
                spec.learning_rate,
                epoch,
                spec.epochs,
                spec.warmup,
            );
            let order: Vec<usize> = order_rng
                .permutation(train_rows.len())
                .into_iter()
                .map(|k| train_rows[k])
                .collect();
            let (mut loss_sum, mut weight_sum) = (0.0f64, 0.0f64);
            for batch in order.chunks(spec.batch) {
                let bx = xs.select(Axis(0), batch);
                let by: Vec<usize> = batch.iter().map(|&i| y[i]).collect();
                let bw: Vec<f32> = batch.iter().map(|&i| w[i]).collect();
                let total: f64 = bw.iter().map(|v| f64::from(*v)).sum();
                if total <= 0.0 {
                    continue;
                }
                params.zero_grad();
                let loss = network.backprop(&mut params, bx.view(), |logits| {
                    cross_entropy(logits, &by, &bw)
                });
                if !loss.is_finite() {
                    return Err(LearnError::Data(format!(
                        "training diverged in epoch {} (loss {loss}): lower learning_rate",
                        epoch + 1
                    )));
                }
                if spec.clip_norm > 0.0 {
                    clip_grad_norm(&mut params, spec.clip_norm as f32);
                }
                adam.step(&mut params, lr as f32);
                loss_sum += f64::from(loss) * total;
                weight_sum += total;
            }
            let validation_loss = (!validation.is_empty())
                .then(|| weighted_loss(&network, &params, &xs, &validation, y, &w));
            let improved = match (validation_loss, &best) {
                (Some(v), Some((b, _))) => v < *b,
                _ => true,
            };
            if improved {
                best = Some((validation_loss.unwrap_or(0.0), params.clone()));
                since_best = 0;
            } else {
                since_best += 1;
            }
            let report = EpochReport {
                epoch: epoch + 1,
                epochs: spec.epochs,
                learning_rate: lr,
                train_loss: loss_sum / weight_sum.max(f64::MIN_POSITIVE),
                validation_loss,
                best: improved,
            };
            progress(&report);
            history.push(report);
            if spec.patience > 0 && since_best >= spec.patience {
                break;
            }
        }
        let mut params = best.map(|(_, p)| p).unwrap_or(params);
        let mut temperature = 1.0;
        if spec.calibrate && !validation.is_empty() {
            let logits = logits_of(&network, &params, &xs, &validation);
            let vy: Vec<usize> = validation.iter().map(|&i| y[i]).collect();
            let vw: Vec<f32> = validation.iter().map(|&i| w[i]).collect();
            temperature = fit_temperature(&logits, &vy, &vw);
            for name in ["head.weight", "head.bias"] {
                let p = params
                    .list
                    .iter_mut()
                    .find(|p| p.name == name)
                    .expect("every network has a head");
                p.value.iter_mut().for_each(|v| *v /= temperature as f32);
            }
        }
        Ok(Neural {
            network,
            params,
            mean,
            scale,
            history,
            temperature,
        })
    }

    /// Logits (samples, classes) of raw inputs `x` (samples, seq, features).
    pub fn logits(&self, x: ArrayView3<f32>) -> Array2<f32> {
        let xs = standardise(x, &self.mean, &self.scale);
        let classes = self.network.manifest().n_out();
        let mut out = Array2::zeros((x.len_of(Axis(0)), classes));
        for (k, chunk) in xs.axis_chunks_iter(Axis(0), PREDICT_CHUNK).enumerate() {
            let logits = self.network.logits(&self.params, chunk);
            let from = k * PREDICT_CHUNK;
            out.slice_mut(ndarray::s![from..from + logits.nrows(), ..])
                .assign(&logits);
        }
        out
    }

    /// Class probabilities (samples, classes) of raw inputs `x`.
    pub fn probabilities(&self, x: ArrayView3<f32>) -> Array2<f64> {
        softmax_rows(&self.logits(x).mapv(f64::from))
    }

    /// The manifest `reference_models.build()` reads.
    pub fn manifest(&self) -> stratbox_infer::Manifest {
        self.network.manifest()
    }

    /// The parameters as saved: the standardisation folded into the input layer
    /// (`W' = W / σ`, `b' = b − W'·μ`), so the model reads raw features.
    pub fn exported(&self) -> Params {
        let mut params = self.params.clone();
        let (w, b) = self.network.input_layer();
        let taps = self.network.taps();
        let cols = self.mean.len() * taps;
        let rows = params.list[w].value.len() / cols;
        for o in 0..rows {
            let mut shift = 0.0f64;
            for c in 0..self.mean.len() {
                for k in 0..taps {
                    let v = &mut params.list[w].value[o * cols + c * taps + k];
                    *v /= self.scale[c];
                    shift += f64::from(*v) * f64::from(self.mean[c]);
                }
            }
            params.list[b].value[o] -= shift as f32;
        }
        params
    }

    /// Writes `<stem>.json` (the manifest) and `<stem>.safetensors` (the state_dict by
    /// PyTorch's names), as `reference_models.export()` does.
    pub fn export(&self, stem: &Path) -> Result<(), LearnError> {
        let with = |ext: &str| stem.with_extension(ext);
        let io = |e: String| LearnError::Data(e);
        let json = serde_json::to_string_pretty(&self.manifest()).expect("a manifest serialises");
        std::fs::write(with("json"), json)
            .map_err(|e| io(format!("writing {}: {e}", with("json").display())))?;
        let params = self.exported();
        let tensors: Vec<(&str, Vec<usize>, Vec<f32>)> = params
            .list
            .iter()
            .map(|p| (p.name.as_str(), p.shape.clone(), p.value.clone()))
            .collect();
        write_tensors(&with("safetensors"), &tensors).map_err(|e| io(e.to_string()))
    }
}

/// The logits of the samples `rows`.
fn logits_of(network: &Network, params: &Params, xs: &Array3<f32>, rows: &[usize]) -> Array2<f32> {
    let parts: Vec<Array2<f32>> = rows
        .chunks(PREDICT_CHUNK)
        .map(|chunk| network.logits(params, xs.select(Axis(0), chunk).view()))
        .collect();
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    ndarray::concatenate(Axis(0), &views).expect("same width")
}

/// The temperature `T` in [0.05, 20] minimising the weighted cross-entropy of `logits / T`
/// (Guo et al.'s temperature scaling), computed in f32 as the networks train.
pub fn fit_temperature(logits: &Array2<f32>, y: &[usize], w: &[f32]) -> f64 {
    search_temperature(|t| {
        let scaled = logits.mapv(|v| (f64::from(v) / t) as f32);
        f64::from(cross_entropy(scaled.view(), y, w).0)
    })
}

/// The weighted cross-entropy of the samples `rows`.
fn weighted_loss(
    network: &Network,
    params: &Params,
    xs: &Array3<f32>,
    rows: &[usize],
    y: &[usize],
    w: &[f32],
) -> f64 {
    let (mut sum, mut total) = (0.0f64, 0.0f64);
    for chunk in rows.chunks(PREDICT_CHUNK) {
        let logits = network.logits(params, xs.select(Axis(0), chunk).view());
        let by: Vec<usize> = chunk.iter().map(|&i| y[i]).collect();
        let bw: Vec<f32> = chunk.iter().map(|&i| w[i]).collect();
        let weight: f64 = bw.iter().map(|v| f64::from(*v)).sum();
        if weight > 0.0 {
            sum += f64::from(cross_entropy(logits.view(), &by, &bw).0) * weight;
            total += weight;
        }
    }
    sum / total.max(f64::MIN_POSITIVE)
}

/// Each feature's mean and (population) standard deviation over every step of `x`; a
/// constant feature gets scale 1.
fn standardisation(x: ArrayView3<f32>) -> (Vec<f32>, Vec<f32>) {
    let features = x.len_of(Axis(2));
    let count = (x.len() / features.max(1)) as f64;
    let mut sum = vec![0.0f64; features];
    let mut squares = vec![0.0f64; features];
    for lane in x.lanes(Axis(2)) {
        for (c, v) in lane.iter().enumerate() {
            sum[c] += f64::from(*v);
        }
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
    for lane in x.lanes(Axis(2)) {
        for (c, v) in lane.iter().enumerate() {
            squares[c] += (f64::from(*v) - mean[c]).powi(2);
        }
    }
    let scale = squares
        .iter()
        .map(|s| {
            let sd = (s / count).sqrt();
            if sd > 1e-12 { sd as f32 } else { 1.0 }
        })
        .collect();
    (mean.iter().map(|m| *m as f32).collect(), scale)
}

/// `(x − mean) / scale` per feature.
fn standardise(x: ArrayView3<f32>, mean: &[f32], scale: &[f32]) -> Array3<f32> {
    let mut out = x.to_owned();
    for mut lane in out.lanes_mut(Axis(2)) {
        for (c, v) in lane.iter_mut().enumerate() {
            *v = (*v - mean[c]) / scale[c];
        }
    }
    out
}
