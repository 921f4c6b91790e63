//! Exponential moving average seeded by the simple mean of its first `period` values.

use super::Stream;

/// TA-Lib's EMA: the first output is the mean of the first `period` inputs, then
/// `prev = fma(x - prev, k, prev)` with `k = 2 / (period + 1)` unless given. A period of 1 passes
/// values through, as in TA-Lib.
#[derive(Clone, Debug)]
pub struct Ema {
    period: usize,
    k: f64,
    seen: usize,
    seed_total: f64,
    prev: f64,
}

impl Ema {
    /// An EMA over `period` with TA-Lib's smoothing factor `2 / (period + 1)`.
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self::with_k(period, 2.0 / ((period + 1) as f64))
    }

    /// An EMA seeded over `period` values with smoothing factor `k` (MACDFIX uses fixed ones).
    pub fn with_k(period: usize, k: f64) -> Self {
        Self {
            period: period.max(1),
            k,
            seen: 0,
            seed_total: 0.0,
            prev: 0.0,
        }
    }
}

impl Stream for Ema {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.period == 1 {
            return Some(x);
        }
        if self.seen >= self.period {
            self.prev = (x - self.prev).mul_add(self.k, self.prev);
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
