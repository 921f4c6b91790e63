//! Population variance over a window, as TA-Lib 0.8's VAR computes it.

use super::Stream;
use super::window::Window;

/// TA-Lib's VAR: running sums of deviations from a shift (the first value, later the window
/// mean), `var = sum2 / n - (sum1 / n)^2`. The shift is re-anchored and the sums rebuilt from the
/// window when the variance has shrunk below 1e-6 of the mean squared deviation, when the value
/// leaving dwarfs what remains, or every `32 * period` outputs; a rebuilt variance under 1e-12 of
/// the mean squared deviation is exactly 0.
#[derive(Clone, Debug)]
pub struct Variance {
    period: usize,
    inv_period: f64,
    window: Window,
    shift: f64,
    total1: f64,
    total2: f64,
    until_rebuild: usize,
}

impl Variance {
    /// A variance over `period` values (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            inv_period: 1.0 / period as f64,
            window: Window::new(period),
            shift: 0.0,
            total1: 0.0,
            total2: 0.0,
            until_rebuild: 32 * period,
        }
    }

    /// Adds `x` (measured against the shift) to the running sums, or removes it.
    #[inline]
    fn account(&mut self, x: f64, add: bool) -> f64 {
        let d = x - self.shift;
        let d2 = d * d;
        if add {
            self.total1 += d;
            self.total2 += d2;
        } else {
            self.total1 -= d;
            self.total2 -= d2;
        }
        d2
    }

    /// Re-anchors the shift at the window mean and rebuilds the sums; returns the variance.
    fn rebuild(&mut self) -> f64 {
        let mut total = 0.0;
        for v in self.window.iter() {
            total += v;
        }
        self.shift = total * self.inv_period;
        self.total1 = 0.0;
        self.total2 = 0.0;
        for i in 0..self.period {
            self.account(self.window.get(i), true);
        }
        let mean = self.total1 * self.inv_period;
        let mut variance = self.total2 * self.inv_period - mean * mean;
        if variance < 0.000000000001 * (self.total2 * self.inv_period) {
            variance = 0.0;
        }
        self.account(self.window.get(0), false);
        variance
    }
}

impl Stream for Variance {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.window.is_empty() {
            self.shift = x;
        }
        self.window.push(x);
        self.account(x, true);
        if !self.window.is_full() {
            return None;
        }
        let mean = self.total1 * self.inv_period;
        let mut variance = self.total2 * self.inv_period - mean * mean;
        let leaving = self.account(self.window.get(0), false);
        self.until_rebuild -= 1;
        if variance < 0.000001 * (self.total2 * self.inv_period)
            || leaving > 1000000.0 * self.total2
            || self.until_rebuild == 0
        {
            self.until_rebuild = 32 * self.period;
            variance = self.rebuild();
        }
        Some(variance)
    }
}
