//! Probability calibration on a validation window: the last share of a training set's samples
//! is held out (training samples whose labels reach into it purged), and a temperature `T` is
//! fitted there so that `softmax(logits / T)` minimises the weighted cross-entropy (Guo et al.,
//! *On Calibration of Modern Neural Networks*, 2017). Every model here produces logits linearly
//! (a network's head, a logistic regression's coefficients, the trees' leaves), so `T` is
//! folded into the model itself.

use crate::split::Span;
use ndarray::Array2;

/// The samples trained on when the last `held` of `spans` (in time order) validate: those
/// before them whose labels end before the validation window's first bar (with several
/// symbols' samples interleaved, counting samples would not do).
pub fn training_rows(spans: &[Span], held: usize) -> Vec<usize> {
    let n = spans.len();
    let first_held = spans[n - held..].iter().map(|s| s.start).min();
    (0..n - held)
        .filter(|&i| first_held.is_none_or(|start| spans[i].end < start))
        .collect()
}

/// The temperature `T` in [0.05, 20] minimising the weighted cross-entropy of `logits / T`.
pub fn fit_temperature(logits: &Array2<f64>, y: &[usize], w: &[f64]) -> f64 {
    search_temperature(|t| cross_entropy(logits, t, y, w))
}

/// The temperature in [0.05, 20] minimising `loss(T)`, by golden-section search on `ln T`.
pub fn search_temperature(loss: impl Fn(f64) -> f64) -> f64 {
    let loss = |log_t: f64| loss(log_t.exp());
    let (mut lo, mut hi) = (0.05f64.ln(), 20f64.ln());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (hi - ratio * (hi - lo), lo + ratio * (hi - lo));
    let (mut fa, mut fb) = (loss(a), loss(b));
    for _ in 0..60 {
        if fa <= fb {
            hi = b;
            (b, fb) = (a, fa);
            a = hi - ratio * (hi - lo);
            fa = loss(a);
        } else {
            lo = a;
            (a, fa) = (b, fb);
            b = lo + ratio * (hi - lo);
            fb = loss(b);
        }
    }
    ((lo + hi) / 2.0).exp()
}

/// Weighted mean cross-entropy of `softmax(logits / t)` against `y`.
fn cross_entropy(logits: &Array2<f64>, t: f64, y: &[usize], w: &[f64]) -> f64 {
    let (mut total, mut weight) = (0.0, 0.0);
    for ((row, &k), &wi) in logits.rows().into_iter().zip(y).zip(w) {
        let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v / t));
        let log_sum = row.iter().map(|&v| (v / t - max).exp()).sum::<f64>().ln() + max;
        total += wi * (log_sum - row[k] / t);
        weight += wi;
    }
    if weight > 0.0 { total / weight } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_training_label_reaches_the_validation_window_whatever_the_symbols() {
        // Two symbols' samples interleaved, labels 5 bars long: bar t has samples 2t, 2t+1.
        let spans: Vec<Span> = (0..40)
            .map(|i| Span {
                start: i / 2,
                end: i / 2 + 5,
            })
            .collect();
        let rows = training_rows(&spans, 10);
        // Validation starts at bar 15: training labels must end by bar 14, so bars 0..=9.
        assert_eq!(rows, (0..20).collect::<Vec<_>>());
        assert!(rows.iter().all(|&i| spans[i].end < spans[30].start));
        assert_eq!(training_rows(&spans, 0), (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn the_temperature_undoes_overconfidence() {
        // Labels drawn from softmax(z); logits given as 3·z: the fitted temperature is near 3.
        let mut state = 9u64;
        let mut unit = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let n = 4000;
        let z = Array2::from_shape_fn((n, 3), |_| {
            // Box-Muller: a standard normal from two uniforms.
            let (u, v) = (unit().max(1e-300), unit());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        });
        let y: Vec<usize> = z
            .rows()
            .into_iter()
            .map(|row| {
                let e: Vec<f64> = row.iter().map(|v| v.exp()).collect();
                let total: f64 = e.iter().sum();
                let u = unit() * total;
                if u < e[0] {
                    0
                } else if u < e[0] + e[1] {
                    1
                } else {
                    2
                }
            })
            .collect();
        let t = fit_temperature(&(&z * 3.0), &y, &vec![1.0; n]);
        assert!((t - 3.0).abs() < 0.3, "{t}");
        assert!((fit_temperature(&z, &y, &vec![1.0; n]) - 1.0).abs() < 0.1);
        // The networks' own, in f32, finds the same (to its loss's precision).
        let z32 = z.mapv(|v| (v * 3.0) as f32);
        let t32 = crate::neural::fit_temperature(&z32, &y, &vec![1.0; n]);
        assert!((t32 - t).abs() < 1e-2, "{t32} against {t}");
    }
}
