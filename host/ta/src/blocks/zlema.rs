//! Zero-lag exponential moving average.

use super::Stream;
use super::window::Window;

/// TA-Lib's ZLEMA: an EMA of the de-lagged series `2 * x[t] - x[t - lag]`, `lag = (period - 1) / 2`,
/// seeded by the mean of its first `period` values and stepped with a fused multiply-add as
/// TA-Lib steps it. A period of 1 passes values through.
#[derive(Clone, Debug)]
pub struct Zlema {
    period: usize,
    k: f64,
    /// The last `lag + 1` inputs.
    window: Window,
    seen: usize,
    seed_total: f64,
    prev: f64,
}

impl Zlema {
    /// A ZLEMA over `period` (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            k: 2.0 / (period + 1) as f64,
            window: Window::new((period - 1) / 2 + 1),
            seen: 0,
            seed_total: 0.0,
            prev: 0.0,
        }
    }
}

impl Stream for Zlema {
    fn lookback(&self) -> usize {
        (self.period - 1) / 2 + self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.period == 1 {
            return Some(x);
        }
        self.window.push(x);
        if !self.window.is_full() {
            return None;
        }
        let delagged = 2.0 * x - self.window.get(0);
        if self.seen >= self.period {
            self.prev = (delagged - self.prev).mul_add(self.k, self.prev);
            return Some(self.prev);
        }
        self.seen += 1;
        self.seed_total += delagged;
        if self.seen < self.period {
            return None;
        }
        self.prev = self.seed_total / self.period as f64;
        Some(self.prev)
    }
}
