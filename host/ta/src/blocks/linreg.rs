//! Least-squares line through the last `period` values, with TA-Lib's sliding sums.

use super::window::Window;

/// A fitted line `y = intercept + slope * k`, where `k` counts bars from the oldest value of the
/// window (0) to the newest (`period - 1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// Change per bar.
    pub slope: f64,
    /// Fitted value at the oldest bar of the window.
    pub intercept: f64,
}

/// TA-Lib's linear regression (LINEARREG, TSF and relatives): the weighted sum and the sum of the
/// window slide in O(1), re-anchored by a full scan every `32 * period` values or when a
/// departing value dwarfs what remains.
#[derive(Clone, Debug)]
pub struct LinearRegression {
    period: usize,
    n: f64,
    sum_x: f64,
    divisor: f64,
    window: Window,
    sum_y: f64,
    sum_xy: f64,
    sum_abs: f64,
    since_reseed: i64,
}

impl LinearRegression {
    /// A regression over the last `period` values (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        let n = period as f64;
        let sum_x = n * (period - 1) as f64 * 0.5;
        let sum_x_sqr = n * (period - 1) as f64 * (2 * period - 1) as f64 / 6.0;
        Self {
            period,
            n,
            sum_x,
            divisor: sum_x * sum_x - n * sum_x_sqr,
            window: Window::new(period),
            sum_y: 0.0,
            sum_xy: 0.0,
            sum_abs: 0.0,
            since_reseed: 0,
        }
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Number of values consumed before the first fit.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }

    /// Recomputes both sums from the window, weights `period - 1` (oldest) down to 0 (newest).
    fn rescan(&mut self) {
        self.sum_y = 0.0;
        self.sum_xy = 0.0;
        self.sum_abs = 0.0;
        let mut weight = (self.period - 1) as f64;
        for v in self.window.iter() {
            self.sum_y += v;
            self.sum_xy += weight * v;
            self.sum_abs += v.abs();
            weight -= 1.0;
        }
        self.since_reseed = 32 * self.period as i64;
    }

    /// Consumes the next value; the line through the last `period` values once there are that
    /// many.
    #[inline(always)]
    pub fn next(&mut self, x: f64) -> Option<Fit> {
        let leaving = self.window.push(x);
        match leaving {
            None if !self.window.is_full() => return None,
            None => self.rescan(),
            Some(trailing) => {
                let weighted = self.n * trailing;
                self.sum_xy = self.sum_xy + self.sum_y - weighted;
                self.sum_y = self.sum_y - trailing + x;
                self.sum_abs = self.sum_abs - trailing.abs() + x.abs();
                self.since_reseed -= 1;
                if self.since_reseed <= 0 || weighted.abs() > 100.0 * self.sum_abs {
                    self.rescan();
                }
            }
        }
        let slope = (self.n * self.sum_xy - self.sum_x * self.sum_y) / self.divisor;
        let intercept = (self.sum_y - slope * self.sum_x) / self.n;
        Some(Fit { slope, intercept })
    }
}
