//! Ensembles: any number of models voting on the same classes.
//!
//! Each member's logits go through a softmax; the ensemble's class probabilities are the members'
//! probabilities averaged with normalised weights (configured, or derived from validation data by
//! [`Ensemble::weights_from_validation`]). The expected return is the probabilities' dot product with
//! each class's return, and the confidence is one minus the normalised entropy of the result.

use ndarray::{Array2, ArrayView3};

use crate::InferError;
use crate::model::Model;

/// One model of an ensemble.
pub struct EnsembleMember {
    /// Name the member is reported under.
    pub name: String,
    /// The model.
    pub model: Model,
    /// Its weight before normalisation (>= 0).
    pub weight: f64,
}

/// Models combined into one prediction per sample.
pub struct Ensemble {
    members: Vec<EnsembleMember>,
    class_returns: Vec<f64>,
}

/// What one member said about one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberOutput {
    /// Member name.
    pub name: String,
    /// Raw logits.
    pub logits: Vec<f32>,
    /// Softmax of the logits.
    pub probabilities: Vec<f64>,
}

/// The ensemble's answer for one sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Weighted class probabilities.
    pub probabilities: Vec<f64>,
    /// `Σ p_k · class_return_k`.
    pub expected_return: f64,
    /// `1 − H(p) / ln K`: 0 when every class is equally likely, 1 when one is certain.
    pub confidence: f64,
    /// Each member's output, in member order.
    pub members: Vec<MemberOutput>,
}

/// The ensemble's answers for a batch, one per sample.
pub type EnsembleOutput = Vec<Prediction>;

impl Ensemble {
    /// Builds an ensemble. All members must have the same number of outputs; `class_returns` gives
    /// each class's return (default: evenly spaced from −1 to 1, i.e. down / flat / up for three).
    pub fn new(
        members: Vec<EnsembleMember>,
        class_returns: Option<Vec<f64>>,
    ) -> Result<Self, InferError> {
        let Some(first) = members.first() else {
            return Err(InferError::Ensemble(
                "an ensemble needs at least one model".into(),
            ));
        };
        let classes = first.model.manifest().n_out();
        for m in &members {
            if m.model.manifest().n_out() != classes {
                return Err(InferError::Ensemble(format!(
                    "member `{}` has {} outputs, member `{}` has {classes}",
                    m.name,
                    m.model.manifest().n_out(),
                    first.name
                )));
            }
            if !(m.weight.is_finite() && m.weight >= 0.0) {
                return Err(InferError::Ensemble(format!(
                    "member `{}` has weight {}, expected a finite number >= 0",
                    m.name, m.weight
                )));
            }
        }
        if members.iter().map(|m| m.weight).sum::<f64>() <= 0.0 {
            return Err(InferError::Ensemble(
                "the members' weights sum to zero".into(),
            ));
        }
        let class_returns = match class_returns {
            Some(r) if r.len() != classes => {
                return Err(InferError::Ensemble(format!(
                    "class_returns has {} entries, the models have {classes} classes",
                    r.len()
                )));
            }
            Some(r) => r,
            None => default_class_returns(classes),
        };
        Ok(Ensemble {
            members,
            class_returns,
        })
    }

    /// The members, in order.
    pub fn members(&self) -> &[EnsembleMember] {
        &self.members
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.class_returns.len()
    }

    /// Runs every member on its input (one per member, same batch size) and combines them.
    pub fn predict(&mut self, inputs: &[ArrayView3<f32>]) -> Result<EnsembleOutput, InferError> {
        if inputs.len() != self.members.len() {
            return Err(InferError::Input(format!(
                "{} inputs for {} ensemble members",
                inputs.len(),
                self.members.len()
            )));
        }
        let batch = inputs[0].dim().0;
        for (member, input) in self.members.iter().zip(inputs) {
            if input.dim().0 != batch {
                return Err(InferError::Input(format!(
                    "member `{}` got {} samples, the first member {batch}",
                    member.name,
                    input.dim().0
                )));
            }
            member.model.check(*input).map_err(|e| match e {
                InferError::Input(m) => InferError::Input(format!("member `{}`: {m}", member.name)),
                other => other,
            })?;
        }
        let mut models: Vec<&mut Model> = self.members.iter_mut().map(|m| &mut m.model).collect();
        let logits = Model::infer_all_checked(&mut models, inputs)?;
        Ok((0..batch).map(|b| self.combine(&logits, b)).collect())
    }

    fn combine(&self, logits: &[Array2<f32>], sample: usize) -> Prediction {
        let total: f64 = self.members.iter().map(|m| m.weight).sum();
        let mut probabilities = vec![0.0; self.classes()];
        let members = self
            .members
            .iter()
            .zip(logits)
            .map(|(member, out)| {
                let row: Vec<f32> = out.row(sample).to_vec();
                let p = softmax_f64(&row);
                for (acc, v) in probabilities.iter_mut().zip(&p) {
                    *acc += member.weight / total * v;
                }
                MemberOutput {
                    name: member.name.clone(),
                    logits: row,
                    probabilities: p,
                }
            })
            .collect();
        let expected_return = probabilities
            .iter()
            .zip(&self.class_returns)
            .map(|(p, r)| p * r)
            .sum();
        Prediction {
            confidence: confidence(&probabilities),
            expected_return,
            probabilities,
            members,
        }
    }

    /// Weights from labelled validation data: each member's weight is the inverse of its mean
    /// log-loss on `inputs` (one per member) against `labels` (class indices), so a member that
    /// predicts the held-out classes better counts more. Replaces the current weights and returns
    /// them.
    pub fn weights_from_validation(
        &mut self,
        inputs: &[ArrayView3<f32>],
        labels: &[usize],
    ) -> Result<Vec<f64>, InferError> {
        if let Some(&bad) = labels.iter().find(|&&l| l >= self.classes()) {
            return Err(InferError::Input(format!(
                "validation label {bad} is not a class (the models have {})",
                self.classes()
            )));
        }
        let output = self.predict(inputs)?;
        if output.len() != labels.len() || labels.is_empty() {
            return Err(InferError::Input(format!(
                "{} validation samples but {} labels",
                output.len(),
                labels.len()
            )));
        }
        let weights: Vec<f64> = (0..self.members.len())
            .map(|m| {
                let loss = output
                    .iter()
                    .zip(labels)
                    .map(|(p, &l)| -p.members[m].probabilities[l].max(1e-12).ln())
                    .sum::<f64>()
                    / labels.len() as f64;
                1.0 / loss.max(1e-9)
            })
            .collect();
        for (member, &w) in self.members.iter_mut().zip(&weights) {
            member.weight = w;
        }
        Ok(weights)
    }
}

/// The return each of `classes` classes stands for when none are configured: evenly spaced
/// from −1 to 1 (down / flat / up for three); 0 for a single output.
pub fn default_class_returns(classes: usize) -> Vec<f64> {
    if classes == 1 {
        return vec![0.0];
    }
    (0..classes)
        .map(|k| -1.0 + 2.0 * k as f64 / (classes - 1) as f64)
        .collect()
}

/// Softmax in f64 of f32 logits, so the probabilities sum to 1 to double precision.
fn softmax_f64(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let exp: Vec<f64> = logits.iter().map(|&v| (v as f64 - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
}

/// `1 − H(p) / ln K`.
fn confidence(p: &[f64]) -> f64 {
    if p.len() < 2 {
        return 1.0;
    }
    let entropy: f64 = p.iter().filter(|&&v| v > 0.0).map(|v| -v * v.ln()).sum();
    (1.0 - entropy / (p.len() as f64).ln()).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ndarray::{Array1, Array2, Array3};

    use super::*;
    use crate::weights::{Conv1d, Linear};
    use crate::{Compute, Manifest, Weights};

    /// A CNN whose logits are `bias` whatever the input (all weights zero).
    fn constant_model(bias: [f32; 3]) -> Model {
        let manifest = Manifest::from_json(
            r#"{"arch": "cnn", "n_features": 1, "channels": [1], "kernels": [1],
                "dilations": [1], "n_out": 3}"#,
        )
        .unwrap();
        let weights = Weights::Cnn(crate::weights::CnnWeights {
            convs: vec![Conv1d {
                weight: Array3::zeros((1, 1, 1)),
                bias: Array1::zeros(1),
                dilation: 1,
            }],
            head: Linear {
                weight: Array2::zeros((3, 1)),
                bias: Array1::from(bias.to_vec()),
            },
        });
        Model::new(manifest, Arc::new(weights), &Compute::cpu()).unwrap()
    }

    fn member(name: &str, bias: [f32; 3], weight: f64) -> EnsembleMember {
        EnsembleMember {
            name: name.into(),
            model: constant_model(bias),
            weight,
        }
    }

    #[test]
    fn combines_weighted_probabilities() {
        let up = [0.0, 0.0, 2.0f32.ln() + 10.0]; // softmax ≈ [0, 0, 1]
        let flat = [0.0f32; 3]; // softmax = 1/3 each
        let mut e =
            Ensemble::new(vec![member("up", up, 3.0), member("flat", flat, 1.0)], None).unwrap();
        let x = Array3::<f32>::zeros((2, 4, 1));
        let out = e.predict(&[x.view(), x.view()]).unwrap();
        assert_eq!(out.len(), 2);
        let p = &out[0];
        let certain = softmax_f64(&up);
        for (p, c) in p.probabilities.iter().zip(&certain) {
            assert!((p - (0.75 * c + 0.25 / 3.0)).abs() < 1e-12);
        }
        assert!((p.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // Default class returns -1, 0, 1.
        assert!((p.expected_return - (p.probabilities[2] - p.probabilities[0])).abs() < 1e-12);
        assert!(p.confidence > 0.0 && p.confidence < 1.0);
        assert_eq!(p.members[1].name, "flat");
        assert!((p.members[1].probabilities[0] - 1.0 / 3.0).abs() < 1e-12);
        let uniform = Ensemble::new(
            vec![member("flat", flat, 1.0)],
            Some(vec![-0.01, 0.0, 0.02]),
        )
        .unwrap()
        .predict(&[x.view()])
        .unwrap();
        assert!(uniform[0].confidence.abs() < 1e-12);
        assert!((uniform[0].expected_return - 0.01 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn validation_weights_favour_the_better_member() {
        let mut e = Ensemble::new(
            vec![
                member("right", [0.0, 0.0, 3.0], 1.0),
                member("wrong", [3.0, 0.0, 0.0], 1.0),
            ],
            None,
        )
        .unwrap();
        let x = Array3::<f32>::zeros((4, 2, 1));
        let w = e
            .weights_from_validation(&[x.view(), x.view()], &[2, 2, 2, 2])
            .unwrap();
        assert!(w[0] > 10.0 * w[1], "{w:?}");
        let p = e.predict(&[x.view(), x.view()]).unwrap();
        assert!(p[0].probabilities[2] > 0.8);
        let err = e
            .weights_from_validation(&[x.view(), x.view()], &[2, 5, 0, 0])
            .unwrap_err();
        assert!(err.to_string().contains("label 5"), "{err}");
        let err = e
            .weights_from_validation(&[x.view(), x.view()], &[2])
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("4 validation samples but 1 labels"),
            "{err}"
        );
    }

    #[test]
    fn inconsistent_ensembles_are_refused() {
        let err = |r: Result<Ensemble, InferError>| r.err().unwrap().to_string();
        assert!(err(Ensemble::new(vec![], None)).contains("at least one"));
        assert!(err(Ensemble::new(vec![member("a", [0.0; 3], -1.0)], None)).contains("weight -1"));
        assert!(err(Ensemble::new(vec![member("a", [0.0; 3], 0.0)], None)).contains("sum to zero"));
        assert!(
            err(Ensemble::new(
                vec![member("a", [0.0; 3], 1.0)],
                Some(vec![1.0])
            ))
            .contains("class_returns has 1 entries")
        );
        let mut e = Ensemble::new(vec![member("a", [0.0; 3], 1.0)], None).unwrap();
        let x = Array3::<f32>::zeros((1, 2, 1));
        assert!(
            e.predict(&[x.view(), x.view()])
                .unwrap_err()
                .to_string()
                .contains("2 inputs")
        );
    }
}
