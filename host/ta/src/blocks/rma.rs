//! Wilder's smoothing (RMA), seeded by the simple mean of its first `period` values.

use super::Stream;

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
}
