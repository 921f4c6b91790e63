//! Rolling population variance with TA-Lib's shifted running sums.

use super::Stream;
use super::window::Window;

/// TA-Lib's VAR over the last `period` values: running sums of the deviations from a shift near
/// the window (first the window's first value, later the window mean), rebuilt by a two-pass
/// scan when cancellation or a departing outlier would cost digits, and at least every
/// `32 * period` values.
#[derive(Clone, Debug)]
pub struct Variance {
    period: usize,
    inv_period: f64,
    window: Window,
    shift: f64,
    total1: f64,
    total2: f64,
    since_reseed: i64,
}

impl Variance {
    /// The variance of the last `period` values (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            inv_period: 1.0 / period as f64,
            window: Window::new(period),
            shift: 0.0,
            total1: 0.0,
            total2: 0.0,
            since_reseed: 32 * period as i64,
        }
    }

    /// Rebuilds the sums around the window mean and returns the window's variance.
    fn reseed(&mut self) -> f64 {
        let inv = self.inv_period;
        let mut sum = 0.0;
        for v in self.window.iter() {
            sum += v;
        }
        self.shift = sum * inv;
        self.total1 = 0.0;
        self.total2 = 0.0;
        for v in self.window.iter() {
            let d = v - self.shift;
            self.total1 += d;
            self.total2 += d * d;
        }
        let mean = self.total1 * inv;
        let mut variance = self.total2 * inv - mean * mean;
        if variance < 1e-12 * (self.total2 * inv) {
            variance = 0.0;
        }
        let d = self.window.get(0) - self.shift;
        self.total1 -= d;
        self.total2 -= d * d;
        variance
    }
}

impl Stream for Variance {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.window.is_empty() {
            self.shift = x;
        }
        self.window.push(x);
        let d = x - self.shift;
        self.total1 += d;
        self.total2 += d * d;
        if !self.window.is_full() {
            return None;
        }
        let inv = self.inv_period;
        let mean = self.total1 * inv;
        let mut variance = self.total2 * inv - mean * mean;
        let d = self.window.get(0) - self.shift;
        self.total1 -= d;
        let leaving = d * d;
        self.total2 -= leaving;
        self.since_reseed -= 1;
        if variance < 1e-6 * (self.total2 * inv)
            || leaving > 1e6 * self.total2
            || self.since_reseed <= 0
        {
            self.since_reseed = 32 * self.period as i64;
            variance = self.reseed();
        }
        Some(variance)
    }
}
