//! Ensembles judged on held-out samples: each member predicts as inference runs it (its model
//! on the CPU, the softmax of its logits, the last `seq` rows of its own features' windows),
//! the members weighted as the ensemble weighs them. Two ensembles that read different features
//! are compared on the samples both can make.

use super::dataset::{Dataset, DatasetSpec};
use crate::features::FeatureConfig;
use crate::feeds::candles::Candle;
use crate::inference::{InferenceConfig, MemberConfig};
use ndarray::{Array2, ArrayView3, Axis, s};
use serde::Serialize;
use std::collections::HashMap;
use stratbox_infer::{Compute, DeviceChoice, Model};
use stratbox_learn::labels::LabelSpec;
use stratbox_learn::metrics::{Scores, softmax_rows};

/// Rows per inference call.
const CHUNK: usize = 512;

/// `member`'s class probabilities for every window of `windows` (samples, rows, features):
/// its model reads the last `member.seq` rows.
pub fn member_probabilities(
    member: &MemberConfig,
    windows: ArrayView3<'_, f32>,
    classes: usize,
    compute: &Compute,
) -> Result<Array2<f64>, String> {
    let mut model =
        Model::load(&member.manifest, &member.weights, compute).map_err(|e| e.to_string())?;
    let rows = windows.len_of(Axis(1));
    let seq = member.seq.min(rows);
    let input = windows.slice(s![.., rows - seq.., ..]);
    let mut probabilities = Array2::zeros((windows.len_of(Axis(0)), classes));
    for (k, chunk) in input.axis_chunks_iter(Axis(0), CHUNK).enumerate() {
        let logits = model
            .infer(chunk)
            .map_err(|e| format!("{}: {e}", member.name))?;
        if logits.ncols() != classes {
            return Err(format!(
                "{}: predicts {} classes, the labels have {classes}",
                member.name,
                logits.ncols()
            ));
        }
        let from = k * CHUNK;
        probabilities
            .slice_mut(s![from..from + logits.nrows(), ..])
            .assign(&softmax_rows(&logits.mapv(f64::from)));
    }
    Ok(probabilities)
}

/// The weighted mean of the members' probabilities, by `table`'s weights.
pub fn weighted<'a>(
    table: &InferenceConfig,
    members: impl ExactSizeIterator<Item = &'a Array2<f64>> + Clone,
) -> Array2<f64> {
    let total: f64 = table.models.iter().map(|m| m.weight).sum();
    let shape = members.clone().next().map_or((0, 0), |p| p.dim());
    let mut ensemble = Array2::zeros(shape);
    for (member, p) in table.models.iter().zip(members) {
        ensemble.scaled_add(member.weight / total, p);
    }
    ensemble
}

/// An ensemble's predictions of held-out samples, each known by its symbol (an index into the
/// series given) and its bar's close time.
#[derive(Clone, Debug)]
pub struct HeldOut {
    /// (symbol, close time) of each sample, in the dataset's order.
    pub keys: Vec<(usize, i64)>,
    /// Each sample's label.
    pub labels: Vec<usize>,
    /// The ensemble's class probabilities (samples, classes).
    pub probabilities: Array2<f64>,
}

/// How an ensemble did on held-out samples.
#[derive(utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Serialize)]
pub struct HeldOutScores {
    /// Share of samples whose most likely class was the label.
    pub accuracy: f64,
    /// Mean negative log probability of the label (lower is better).
    pub log_loss: f64,
    /// Mean over samples of the squared distances between the probabilities and the one-hot
    /// label, summed over classes.
    pub brier: f64,
    /// The accuracy predictions of the same class shares would have by chance (the sum over
    /// classes of predicted share times label share).
    pub chance: f64,
}

impl From<&Scores> for HeldOutScores {
    fn from(s: &Scores) -> Self {
        HeldOutScores {
            accuracy: s.accuracy,
            log_loss: s.log_loss,
            brier: s.brier,
            chance: s.chance,
        }
    }
}

/// `table`'s predictions of the samples of `series` (symbol, candles) made after
/// `from_ms`, labelled by `label` on bars of `interval_ms`; each member reads its own features
/// through a feature engine configured by `engine`. Samples some member cannot make (a
/// feature missing in its window) are left out.
pub fn held_out(
    table: &InferenceConfig,
    series: &[(String, Vec<Candle>)],
    label: LabelSpec,
    interval_ms: u32,
    engine: &FeatureConfig,
    from_ms: i64,
) -> Result<HeldOut, String> {
    if table.models.is_empty() {
        return Err("the ensemble has no member".into());
    }
    let classes = label.classes();
    let compute = Compute::select(DeviceChoice::Cpu).map_err(|e| e.to_string())?;
    // One training set per list of features, with the longest window its members read.
    let mut sets: Vec<(Vec<String>, usize, Dataset)> = Vec::new();
    for member in &table.models {
        let seq = table
            .models
            .iter()
            .filter(|m| m.features == member.features)
            .map(|m| m.seq)
            .max()
            .unwrap_or(member.seq);
        if sets.iter().any(|(f, ..)| *f == member.features) {
            continue;
        }
        let spec = DatasetSpec {
            features: member.features.clone(),
            seq,
            label,
            interval_ms,
        };
        let data = Dataset::build(series, &spec, engine.clone())
            .map_err(|e| format!("{}: {e}", member.name))?;
        sets.push((member.features.clone(), seq, data));
    }
    let key = |d: &Dataset, i: usize| (d.symbol[i], d.times[i]);
    // The samples every list of features makes, in the first's order.
    let index: Vec<HashMap<(usize, i64), usize>> = sets
        .iter()
        .map(|(_, _, d)| (0..d.len()).map(|i| (key(d, i), i)).collect())
        .collect();
    let first = &sets[0].2;
    let keys: Vec<(usize, i64)> = (0..first.len())
        .filter(|&i| first.times[i] > from_ms)
        .map(|i| key(first, i))
        .filter(|k| index.iter().all(|m| m.contains_key(k)))
        .collect();
    if keys.is_empty() {
        return Err(format!(
            "no sample with a complete label after {from_ms} ms"
        ));
    }
    let labels: Vec<usize> = keys
        .iter()
        .map(|k| first.labels[index[0][k]].class)
        .collect();
    let mut members = Vec::with_capacity(table.models.len());
    for member in &table.models {
        let set = sets
            .iter()
            .position(|(f, ..)| *f == member.features)
            .expect("a set per list of features");
        let rows: Vec<usize> = keys.iter().map(|k| index[set][k]).collect();
        let windows = sets[set].2.x.select(Axis(0), &rows);
        members.push(member_probabilities(
            member,
            windows.view(),
            classes,
            &compute,
        )?);
    }
    Ok(HeldOut {
        probabilities: weighted(table, members.iter()),
        keys,
        labels,
    })
}

/// `a`'s and `b`'s scores on the samples both predicted, and how many those are.
pub fn compare(a: &HeldOut, b: &HeldOut) -> (Scores, Scores, usize) {
    let in_b: HashMap<(usize, i64), usize> =
        b.keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let (rows_a, rows_b): (Vec<usize>, Vec<usize>) = a
        .keys
        .iter()
        .enumerate()
        .filter_map(|(i, k)| in_b.get(k).map(|&j| (i, j)))
        .unzip();
    let labels: Vec<usize> = rows_a.iter().map(|&i| a.labels[i]).collect();
    let pa = a.probabilities.select(Axis(0), &rows_a);
    let pb = b.probabilities.select(Axis(0), &rows_b);
    (
        Scores::of(pa.view(), &labels),
        Scores::of(pb.view(), &labels),
        labels.len(),
    )
}
