//! Wilder's smoothing (RMA), seeded by the simple mean of its first `period` values.

use super::{Stream, through_next};

/// TA-Lib's RMA: the mean of the first `period` inputs, then
/// `prev = fma(beta, prev, alpha * x)` with `beta = (period - 1) / period`, `alpha = 1 - beta`.
#[derive(Clone, Debug)]
pub struct Rma {
    period: usize,
    alpha: f64,
    beta: f64,
    seen: usize,
    seed_total: f64,
    prev: f64,
}

impl Rma {
    /// An RMA over `period` values (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        let beta = (period - 1) as f64 / period as f64;
        Self {
            period,
            alpha: 1.0 - beta,
            beta,
            seen: 0,
            seed_total: 0.0,
            prev: 0.0,
        }
    }
}

impl Stream for Rma {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.seen >= self.period {
            self.prev = self.beta.mul_add(self.prev, self.alpha * x);
            return Some(self.prev);
        }
        self.seen += 1;
        self.seed_total += x;
        if self.seen < self.period {
            return None;
        }
        self.prev = self.seed_total / self.period as f64;
        Some(self.prev)
    }

    /// Past the seed, the smoothing over `xs` in one loop, compiled for FMA where the CPU has
    /// it (`mul_add` is otherwise a call into libm; both give the same correctly rounded value).
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let head = (self.period - self.seen.min(self.period)).min(xs.len());
        through_next(self, &xs[..head], out);
        let (alpha, beta) = (self.alpha, self.beta);
        let prev = self.prev;
        self.prev =
            crate::indicator::with_fma(|| smooth_steps(&xs[head..], prev, (alpha, beta), out));
        true
    }
}

/// Pushes `prev = beta * prev + alpha * x` (fused) for each `x` of `xs` onto `out`, and
/// returns the last `prev`: a plain loop, so that `prev` stays in a register.
#[inline(always)]
fn smooth_steps(xs: &[f64], mut prev: f64, (alpha, beta): (f64, f64), out: &mut Vec<f64>) -> f64 {
    out.reserve(xs.len());
    for &x in xs {
        prev = beta.mul_add(prev, alpha * x);
        out.push(prev);
    }
    prev
}
