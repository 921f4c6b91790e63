//! The optimiser (PyTorch's `AdamW`, and `Adam` with weight decay 0), gradient clipping
//! (`clip_grad_norm_`) and the learning-rate schedule (`LinearLR` warm-up then
//! `CosineAnnealingLR`, stepped per epoch), each computed as PyTorch computes it.

use super::params::Params;
use serde::{Deserialize, Serialize};

/// AdamW's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamW {
    /// Exponential decay of the gradients' mean.
    pub beta1: f32,
    /// Exponential decay of their square's mean.
    pub beta2: f32,
    /// Added to the root mean square.
    pub eps: f32,
    /// Decoupled weight decay (0: Adam).
    pub weight_decay: f32,
}

impl Default for AdamW {
    fn default() -> Self {
        AdamW {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// AdamW's running state: both moments of every value and the step count.
#[derive(Clone, Debug)]
pub struct AdamState {
    settings: AdamW,
    step: i32,
    first: Vec<Vec<f32>>,
    second: Vec<Vec<f32>>,
}

impl AdamState {
    /// Fresh moments for `params`.
    pub fn new(settings: AdamW, params: &Params) -> Self {
        let zeros = || {
            params
                .list
                .iter()
                .map(|p| vec![0.0; p.value.len()])
                .collect()
        };
        AdamState {
            settings,
            step: 0,
            first: zeros(),
            second: zeros(),
        }
    }

    /// One step at learning rate `lr` from the gradients in `params`, as `torch.optim.AdamW`
    /// does it: `p ← p·(1 − lr·λ)`, then `p ← p − lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε)`.
    pub fn step(&mut self, params: &mut Params, lr: f32) {
        let AdamW {
            beta1,
            beta2,
            eps,
            weight_decay,
        } = self.settings;
        self.step += 1;
        let correction1 = 1.0 - beta1.powi(self.step);
        let correction2_sqrt = (1.0 - beta2.powi(self.step)).sqrt();
        let step_size = lr / correction1;
        let decay = 1.0 - lr * weight_decay;
        for ((p, m), v) in params
            .list
            .iter_mut()
            .zip(&mut self.first)
            .zip(&mut self.second)
        {
            for (((value, &g), m), v) in p.value.iter_mut().zip(&p.grad).zip(m).zip(v) {
                *value *= decay;
                *m = beta1 * *m + (1.0 - beta1) * g;
                *v = beta2 * *v + (1.0 - beta2) * g * g;
                let denom = v.sqrt() / correction2_sqrt + eps;
                *value -= step_size * *m / denom;
            }
        }
    }
}

/// Scales every gradient so their joint 2-norm is at most `max_norm`, as `clip_grad_norm_`
/// does (factor `max_norm / (norm + 1e-6)` when below 1); returns the norm before.
pub fn clip_grad_norm(params: &mut Params, max_norm: f32) -> f32 {
    let norm = params
        .list
        .iter()
        .flat_map(|p| &p.grad)
        .map(|g| f64::from(*g).powi(2))
        .sum::<f64>()
        .sqrt() as f32;
    let factor = max_norm / (norm + 1e-6);
    if factor < 1.0 {
        for p in &mut params.list {
            p.grad.iter_mut().for_each(|g| *g *= factor);
        }
    }
    norm
}

/// How the learning rate moves from epoch to epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// The same every epoch (after any warm-up).
    Constant,
    /// Cosine annealing to 0 over the epochs after the warm-up.
    #[default]
    Cosine,
}

/// Warm-up's first factor of the base rate (PyTorch `LinearLR`'s `start_factor`).
pub const WARMUP_START: f64 = 0.1;

/// The learning rate of `epoch` (0-based) of `epochs`: `warmup` epochs rising linearly from
/// `WARMUP_START`·`base` (`LinearLR(start_factor, 1.0, total_iters=warmup)`), then the
/// schedule over the rest (`CosineAnnealingLR(T_max = epochs − warmup, eta_min = 0)`), as
/// `SequentialLR` chains them.
pub fn learning_rate(
    schedule: Schedule,
    base: f64,
    epoch: usize,
    epochs: usize,
    warmup: usize,
) -> f64 {
    if epoch < warmup {
        return base * (WARMUP_START + (1.0 - WARMUP_START) * epoch as f64 / warmup as f64);
    }
    match schedule {
        Schedule::Constant => base,
        Schedule::Cosine => {
            let span = (epochs - warmup).max(1) as f64;
            let t = (epoch - warmup) as f64;
            base * (1.0 + (std::f64::consts::PI * t / span).cos()) / 2.0
        }
    }
}
