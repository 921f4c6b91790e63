//! Multinomial logistic regression with an L2 penalty: scikit-learn's `LogisticRegression`
//! (lbfgs, multinomial) on standardised features, trained deterministically.
//!
//! Features are standardised by the training set's mean and (population) standard deviation,
//! as scikit-learn's `StandardScaler` does; the model keeps both and applies them to what it
//! predicts. The objective is scikit-learn's:
//! `(1/S) Σ sᵢ · CEᵢ + ‖W‖² / (2·C·S)`, `S = Σ sᵢ`, the intercepts unpenalised, with each
//! sample's weight `sᵢ` times its class's weight (`balanced`: `n / (K · n_k)`). It is minimised
//! by L-BFGS to a gradient below `tol`; the same data and settings give the same model bit for
//! bit (every sum runs in one order).

use crate::LearnError;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use std::path::Path;
use stratbox_infer::Manifest;
use stratbox_infer::manifest::LogisticSpec as LogisticManifest;
use stratbox_infer::tensors::write_tensors;

/// How classes are weighted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every class alike.
    #[default]
    None,
    /// `Σs / (K · Σ_{class k} s)` (sample weights summed): rare classes count as much as
    /// common ones.
    Balanced,
}

/// Training settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogisticSpec {
    /// Inverse of the penalty's strength (scikit-learn's `C`).
    pub c: f64,
    /// How classes are weighted.
    pub class_weight: ClassWeight,
    /// Largest gradient component at the optimum.
    pub tol: f64,
    /// Most L-BFGS iterations.
    pub max_iter: usize,
}

impl Default for LogisticSpec {
    fn default() -> Self {
        LogisticSpec {
            c: 1.0,
            class_weight: ClassWeight::None,
            tol: 1e-6,
            max_iter: 1_000,
        }
    }
}

/// A trained model.
#[derive(Clone, Debug, PartialEq)]
pub struct Logistic {
    /// Each feature's training mean.
    pub mean: Array1<f64>,
    /// Each feature's training standard deviation (1 where it was 0).
    pub scale: Array1<f64>,
    /// Coefficients on the standardised features, (classes, features).
    pub weight: Array2<f64>,
    /// Intercepts, one per class.
    pub bias: Array1<f64>,
    /// L-BFGS iterations run.
    pub iterations: usize,
    /// The objective at the end.
    pub loss: f64,
}

impl Logistic {
    /// Fits `classes` classes to features `x` (samples, features), labels `y` (each below
    /// `classes`, every class present) and sample weights `w` (positive; all 1 when `None`).
    pub fn fit(
        x: ArrayView2<f64>,
        y: &[usize],
        w: Option<&[f64]>,
        classes: usize,
        spec: &LogisticSpec,
    ) -> Result<Logistic, LearnError> {
        let (n, f) = x.dim();
        check(x, y, w, classes, spec)?;
        let mean = x.mean_axis(Axis(0)).expect("samples");
        let scale = x
            .var_axis(Axis(0), 0.0)
            .mapv(|v| if v > 0.0 { v.sqrt() } else { 1.0 });
        let z = (&x - &mean) / &scale;
        let sample = |i: usize| w.map_or(1.0, |w| w[i]);
        // Each class's weight of samples, and the whole.
        let mut counts = vec![0.0; classes];
        for (i, &k) in y.iter().enumerate() {
            counts[k] += sample(i);
        }
        let all: f64 = counts.iter().sum();
        let weights: Vec<f64> = (0..n)
            .map(|i| {
                let class = match spec.class_weight {
                    ClassWeight::None => 1.0,
                    ClassWeight::Balanced => all / (classes as f64 * counts[y[i]]),
                };
                class * sample(i)
            })
            .collect();
        let problem = Problem {
            z: z.view(),
            y,
            weights: &weights,
            total: weights.iter().sum(),
            classes,
            c: spec.c,
        };
        let (theta, loss, iterations) = lbfgs(
            &problem,
            vec![0.0; classes * (f + 1)],
            spec.tol,
            spec.max_iter,
        );
        let weight = Array2::from_shape_vec((classes, f), theta[..classes * f].to_vec())
            .expect("classes x features");
        let bias = Array1::from(theta[classes * f..].to_vec());
        Ok(Logistic {
            mean,
            scale,
            weight,
            bias,
            iterations,
            loss,
        })
    }

    /// Logits (samples, classes) of raw features `x`.
    pub fn logits(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let z = (&x - &self.mean) / &self.scale;
        z.dot(&self.weight.t()) + &self.bias
    }

    /// Divides the logits by temperature `t` (calibration), in the coefficients themselves.
    pub fn set_temperature(&mut self, t: f64) {
        self.weight /= t;
        self.bias /= t;
    }

    /// Writes `<stem>.json` (the manifest, `"arch": "logistic"`) and `<stem>.safetensors`
    /// (`mean`, `scale`, `weight`, `bias` in float32), which the host's inference loads.
    pub fn export(&self, stem: &Path) -> Result<(), LearnError> {
        let (classes, features) = self.weight.dim();
        let manifest = Manifest::Logistic(LogisticManifest {
            n_features: features,
            n_out: classes,
        });
        let json = serde_json::to_string_pretty(&manifest).expect("a manifest serialises");
        let io = |e: String| LearnError::Data(e);
        let with = |ext: &str| stem.with_extension(ext);
        std::fs::write(with("json"), json)
            .map_err(|e| io(format!("writing {}: {e}", with("json").display())))?;
        let f32s = |a: &[f64]| a.iter().map(|v| *v as f32).collect::<Vec<f32>>();
        let tensors = [
            (
                "mean",
                vec![features],
                f32s(self.mean.as_slice().expect("contiguous")),
            ),
            (
                "scale",
                vec![features],
                f32s(self.scale.as_slice().expect("contiguous")),
            ),
            (
                "weight",
                vec![classes, features],
                f32s(self.weight.as_slice().expect("contiguous")),
            ),
            (
                "bias",
                vec![classes],
                f32s(self.bias.as_slice().expect("contiguous")),
            ),
        ];
        write_tensors(&with("safetensors"), &tensors).map_err(|e| io(e.to_string()))
    }

    /// Class probabilities (samples, classes) of raw features `x`.
    pub fn probabilities(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut p = self.logits(x);
        for mut row in p.rows_mut() {
            softmax(row.as_slice_mut().expect("contiguous rows"));
        }
        p
    }
}

fn check(
    x: ArrayView2<f64>,
    y: &[usize],
    w: Option<&[f64]>,
    classes: usize,
    spec: &LogisticSpec,
) -> Result<(), LearnError> {
    if !(spec.c.is_finite() && spec.c > 0.0) {
        return Err(LearnError::Config(format!(
            "logistic c {} must be a positive number",
            spec.c
        )));
    }
    check_data(x, y, w, classes)
}

/// Why features `x`, labels `y` and weights `w` cannot train a `classes`-class model, if they
/// cannot: no samples, lengths that differ, a value that is not finite, a weight that is not
/// positive, a class without a sample or a label past the classes.
pub(crate) fn check_data(
    x: ArrayView2<f64>,
    y: &[usize],
    w: Option<&[f64]>,
    classes: usize,
) -> Result<(), LearnError> {
    let (n, f) = x.dim();
    let data = |m: String| Err(LearnError::Data(m));
    if n == 0 || f == 0 {
        return data(format!("no data to fit: {n} samples of {f} features"));
    }
    if y.len() != n || w.is_some_and(|w| w.len() != n) {
        return data(format!(
            "{n} samples but {} labels and {} weights",
            y.len(),
            w.map_or(n, <[f64]>::len)
        ));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return data(format!(
            "feature {} of sample {} is not finite",
            i % f,
            i / f
        ));
    }
    if let Some(w) = w
        && let Some(i) = w.iter().position(|v| !(v.is_finite() && *v > 0.0))
    {
        return data(format!("sample {i}'s weight {} is not positive", w[i]));
    }
    if let Some(&k) = y.iter().find(|&&k| k >= classes) {
        return data(format!("label {k} is not one of {classes} classes"));
    }
    for k in 0..classes {
        if !y.contains(&k) {
            return data(format!("class {k} has no training sample"));
        }
    }
    Ok(())
}

/// In-place softmax of logits, stable.
fn softmax(v: &mut [f64]) {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

/// The objective over standardised features, its parameters `[W row-major, b]`.
struct Problem<'a> {
    z: ArrayView2<'a, f64>,
    y: &'a [usize],
    weights: &'a [f64],
    total: f64,
    classes: usize,
    c: f64,
}

impl Problem<'_> {
    /// The objective and its gradient at `theta`.
    fn value_and_gradient(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let (k, f) = (self.classes, self.z.ncols());
        let weight = ArrayView2::from_shape((k, f), &theta[..k * f]).expect("shape");
        let bias = ArrayView1::from(&theta[k * f..]);
        let mut logits = self.z.dot(&weight.t()) + bias;
        let mut loss = 0.0;
        for (i, mut row) in logits.rows_mut().into_iter().enumerate() {
            let row = row.as_slice_mut().expect("contiguous rows");
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let log_sum = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            loss += self.weights[i] * (log_sum - row[self.y[i]]);
            // Becomes sᵢ (pᵢ - yᵢ) / S, the gradient of the data term by the logits.
            for (j, v) in row.iter_mut().enumerate() {
                let p = (*v - log_sum).exp();
                *v = self.weights[i] * (p - f64::from(u8::from(j == self.y[i]))) / self.total;
            }
        }
        let penalty = 1.0 / (self.c * self.total);
        let norm: f64 = weight.iter().map(|w| w * w).sum();
        let value = loss / self.total + 0.5 * penalty * norm;
        let grad_w = logits.t().dot(&self.z) + &weight.mapv(|w| w * penalty);
        let grad_b = logits.sum_axis(Axis(0));
        let mut gradient = grad_w.into_raw_vec_and_offset().0;
        gradient.extend(grad_b.iter());
        (value, gradient)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises `problem` from `theta` by L-BFGS (ten pairs, backtracking line search) until the
/// largest gradient component is below `tol`: (parameters, objective, iterations).
fn lbfgs(
    problem: &Problem<'_>,
    mut theta: Vec<f64>,
    tol: f64,
    max_iter: usize,
) -> (Vec<f64>, f64, usize) {
    const PAIRS: usize = 10;
    let (mut value, mut gradient) = problem.value_and_gradient(&theta);
    let mut history: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    for iteration in 0..max_iter {
        if gradient.iter().all(|g| g.abs() < tol) {
            return (theta, value, iteration);
        }
        // Two-loop recursion: the direction -H·g.
        let mut q = gradient.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(q, y)| *q -= a * y);
            alphas.push(a);
        }
        let gamma = history.back().map_or(
            1.0 / dot(&gradient, &gradient).sqrt().max(1e-300),
            |(s, y, _)| dot(s, y) / dot(y, y),
        );
        q.iter_mut().for_each(|q| *q *= gamma);
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(q, s)| *q += (a - b) * s);
        }
        let direction: Vec<f64> = q.iter().map(|q| -q).collect();
        let slope = dot(&gradient, &direction);
        if slope >= 0.0 {
            // Not a descent direction (round-off): start the memory over.
            history.clear();
            continue;
        }
        // Backtracking to Armijo's condition.
        let mut step = 1.0;
        let (next, next_value, next_gradient) = loop {
            let next: Vec<f64> = theta
                .iter()
                .zip(&direction)
                .map(|(t, d)| t + step * d)
                .collect();
            let (v, g) = problem.value_and_gradient(&next);
            if v <= value + 1e-4 * step * slope {
                break (next, v, g);
            }
            if step < 1e-20 {
                // No step along the direction lowers the objective: as good as it gets.
                return (theta, value, iteration + 1);
            }
            step *= 0.5;
        };
        let s: Vec<f64> = next.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = next_gradient
            .iter()
            .zip(&gradient)
            .map(|(a, b)| a - b)
            .collect();
        let sy = dot(&s, &y);
        theta = next;
        value = next_value;
        gradient = next_gradient;
        if sy > 1e-300 {
            if history.len() == PAIRS {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
    }
    (theta, value, max_iter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_gradient_is_the_objectives_derivative() {
        let z = array![[0.5, -1.0], [1.5, 0.3], [-0.7, 0.9], [0.1, -0.2]];
        let y = [0, 1, 2, 1];
        let weights = [1.0, 2.0, 0.5, 1.5];
        let problem = Problem {
            z: z.view(),
            y: &y,
            weights: &weights,
            total: weights.iter().sum(),
            classes: 3,
            c: 0.7,
        };
        let theta: Vec<f64> = (0..9).map(|i| 0.1 * i as f64 - 0.3).collect();
        let (_, gradient) = problem.value_and_gradient(&theta);
        for i in 0..theta.len() {
            let h = 1e-6;
            let mut up = theta.clone();
            up[i] += h;
            let mut down = theta.clone();
            down[i] -= h;
            let numeric = (problem.value_and_gradient(&up).0 - problem.value_and_gradient(&down).0)
                / (2.0 * h);
            assert!(
                (numeric - gradient[i]).abs() < 1e-8,
                "{i}: {numeric} vs {}",
                gradient[i]
            );
        }
    }

    #[test]
    fn separable_classes_are_learnt_and_the_same_data_gives_the_same_model() {
        let x = array![
            [0.0, 0.0],
            [0.1, 0.2],
            [5.0, 5.0],
            [5.2, 4.9],
            [10.0, 0.0],
            [9.8, 0.3]
        ];
        let y = [0, 0, 1, 1, 2, 2];
        let spec = LogisticSpec::default();
        let model = Logistic::fit(x.view(), &y, None, 3, &spec).unwrap();
        let p = model.probabilities(x.view());
        for (i, &k) in y.iter().enumerate() {
            let best = (0..3)
                .max_by(|&a, &b| p[[i, a]].total_cmp(&p[[i, b]]))
                .unwrap();
            assert_eq!(best, k, "sample {i}: {:?}", p.row(i));
        }
        let again = Logistic::fit(x.view(), &y, None, 3, &spec).unwrap();
        assert_eq!(model, again, "bit for bit");
    }

    #[test]
    fn unusable_data_is_named() {
        let x = array![[0.0], [1.0]];
        let e = Logistic::fit(x.view(), &[0, 1], None, 3, &LogisticSpec::default()).unwrap_err();
        assert!(e.to_string().contains("class 2"), "{e}");
        let nan = array![[f64::NAN], [1.0]];
        let e = Logistic::fit(nan.view(), &[0, 1], None, 2, &LogisticSpec::default()).unwrap_err();
        assert!(e.to_string().contains("not finite"), "{e}");
        let c = LogisticSpec {
            c: 0.0,
            ..LogisticSpec::default()
        };
        assert!(Logistic::fit(x.view(), &[0, 1], None, 2, &c).is_err());
    }
}
