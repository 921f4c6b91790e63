//! How good class probabilities were, out of sample: accuracy, log loss, Brier score, the
//! confusion matrix and a calibration table; and the information coefficient of an expected
//! return against the realised one.

use ndarray::{Array2, ArrayView2};
use serde::Serialize;

/// Probabilities are clipped to this before the log loss (as scikit-learn's `log_loss` does with
/// float64 epsilon), so one certain mistake does not make the loss infinite.
const EPSILON: f64 = 1e-15;

/// Calibration bins of the most likely class's probability.
const BINS: usize = 10;

/// One bin of the calibration table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalibrationBin {
    /// The bin's lower edge (probability of the predicted class).
    pub from: f64,
    /// Samples whose predicted class's probability fell in the bin.
    pub samples: usize,
    /// Their mean predicted probability.
    pub predicted: f64,
    /// How often the predicted class was right.
    pub observed: f64,
}

/// Out-of-sample scores of class probabilities.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scores {
    /// Samples scored.
    pub samples: usize,
    /// Share whose most likely class was the label.
    pub accuracy: f64,
    /// Share of the most common label: what always guessing it scores.
    pub base_rate: f64,
    /// What guessing scores with the same predicted class shares but no knowledge of the label:
    /// `Σₖ (share predicted k) · (share labelled k)`. Accuracy above it is skill.
    pub chance: f64,
    /// Mean negative log-probability of the label.
    pub log_loss: f64,
    /// The log loss of always predicting the labels' own shares (known only after the fact):
    /// a model whose log loss is not below it has no skill at the probabilities.
    pub prior_log_loss: f64,
    /// Mean squared distance between the probabilities and the label's one-hot vector, summed
    /// over classes.
    pub brier: f64,
    /// `confusion[label][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
    /// The predicted class's probability against how often it was right, in tenths.
    pub calibration: Vec<CalibrationBin>,
}

/// The class a row of probabilities predicts: the most probable, the lowest index on a tie.
pub fn predicted_class(probabilities: &[f64]) -> usize {
    (0..probabilities.len())
        .max_by(|&a, &b| {
            probabilities[a]
                .total_cmp(&probabilities[b])
                .then(b.cmp(&a))
        })
        .unwrap_or(0)
}

/// The log loss of a prediction that gave the label probability `p` (clamped away from 0 and
/// 1, as the scores clamp it).
pub fn label_log_loss(p: f64) -> f64 {
    -p.clamp(EPSILON, 1.0 - EPSILON).ln()
}

impl Scores {
    /// Scores `probabilities` (samples, classes) against `labels`.
    pub fn of(probabilities: ArrayView2<f64>, labels: &[usize]) -> Scores {
        let (n, k) = probabilities.dim();
        assert_eq!(n, labels.len(), "one label per row of probabilities");
        let mut confusion = vec![vec![0usize; k]; k];
        let mut bins = vec![(0usize, 0.0f64, 0usize); BINS];
        let (mut log_loss, mut brier, mut right) = (0.0, 0.0, 0usize);
        for (row, &label) in probabilities.rows().into_iter().zip(labels) {
            let predicted = predicted_class(row.as_slice().unwrap_or(&row.to_vec()));
            confusion[label][predicted] += 1;
            right += usize::from(predicted == label);
            log_loss += label_log_loss(row[label]);
            brier += row
                .iter()
                .enumerate()
                .map(|(c, p)| (p - f64::from(u8::from(c == label))).powi(2))
                .sum::<f64>();
            let p = row[predicted];
            let bin = ((p * BINS as f64) as usize).min(BINS - 1);
            bins[bin].0 += 1;
            bins[bin].1 += p;
            bins[bin].2 += usize::from(predicted == label);
        }
        let per = |x: f64| if n == 0 { f64::NAN } else { x / n as f64 };
        let most_common = confusion
            .iter()
            .map(|row| row.iter().sum::<usize>())
            .max()
            .unwrap_or(0);
        let prior_log_loss = -(0..k)
            .map(|c| {
                let share = per(confusion[c].iter().sum::<usize>() as f64);
                if share > 0.0 { share * share.ln() } else { 0.0 }
            })
            .sum::<f64>();
        let chance = (0..k)
            .map(|c| {
                let labelled: usize = confusion[c].iter().sum();
                let predicted: usize = confusion.iter().map(|row| row[c]).sum();
                per(labelled as f64) * per(predicted as f64)
            })
            .sum();
        Scores {
            samples: n,
            accuracy: per(right as f64),
            base_rate: per(most_common as f64),
            chance,
            log_loss: per(log_loss),
            prior_log_loss,
            brier: per(brier),
            confusion,
            calibration: bins
                .into_iter()
                .enumerate()
                .filter(|(_, b)| b.0 > 0)
                .map(|(i, (count, sum, hits))| CalibrationBin {
                    from: i as f64 / BINS as f64,
                    samples: count,
                    predicted: sum / count as f64,
                    observed: hits as f64 / count as f64,
                })
                .collect(),
        }
    }
}

/// Softmax of each row (stable: each row's maximum is subtracted first).
pub fn softmax_rows(scores: &Array2<f64>) -> Array2<f64> {
    let mut p = scores.clone();
    for mut row in p.rows_mut() {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        row.mapv_inplace(|v| (v - max).exp());
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    p
}

/// Pearson correlation of `a` and `b` (NaN with fewer than two pairs or no variance).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return f64::NAN;
    }
    let (ma, mb) = (
        a[..n].iter().sum::<f64>() / n as f64,
        b[..n].iter().sum::<f64>() / n as f64,
    );
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in a[..n].iter().zip(&b[..n]) {
        cov += (x - ma) * (y - mb);
        va += (x - ma).powi(2);
        vb += (y - mb).powi(2);
    }
    cov / (va * vb).sqrt()
}

/// Spearman's rank correlation (average ranks for ties).
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&ranks(a), &ranks(b))
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut out = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn scores_by_hand() {
        let p = array![[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]];
        let s = Scores::of(p.view(), &[0, 1, 1]);
        assert_eq!(s.samples, 3);
        assert!((s.accuracy - 2.0 / 3.0).abs() < 1e-15);
        assert!((s.base_rate - 2.0 / 3.0).abs() < 1e-15);
        // Labelled 1/3, 2/3, 0; predicted 1/3, 1/3, 1/3.
        assert!((s.chance - 1.0 / 3.0).abs() < 1e-15);
        let loss = -(0.7f64.ln() + 0.3f64.ln() + 0.5f64.ln()) / 3.0;
        assert!((s.log_loss - loss).abs() < 1e-15);
        let prior = -(1.0 / 3.0 * (1.0f64 / 3.0).ln() + 2.0 / 3.0 * (2.0f64 / 3.0).ln());
        assert!((s.prior_log_loss - prior).abs() < 1e-15);
        let brier = ((0.09 + 0.04 + 0.01) + (0.01 + 0.49 + 0.36) + (0.04 + 0.25 + 0.09)) / 3.0;
        assert!((s.brier - brier).abs() < 1e-15);
        assert_eq!(
            s.confusion,
            vec![vec![1, 0, 0], vec![0, 1, 1], vec![0, 0, 0]]
        );
        // Predicted 0.7 (right), 0.6 (wrong), 0.5 (right).
        let bins: Vec<(f64, usize, f64)> = s
            .calibration
            .iter()
            .map(|b| (b.from, b.samples, b.observed))
            .collect();
        assert_eq!(bins, vec![(0.5, 1, 1.0), (0.6, 1, 0.0), (0.7, 1, 1.0)]);
    }

    #[test]
    fn rank_correlation_handles_ties() {
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]) - 1.0).abs() < 1e-15);
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-15);
        assert!(pearson(&[1.0], &[1.0]).is_nan());
    }
}
