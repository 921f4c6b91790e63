//! Wilder's two smoothings as TA-Lib writes them.

use super::Stream;

/// Wilder's running sum, TA-Lib's smoothing of directional movement and true range: the first
/// output is the plain sum of the first `period - 1` values, then each value updates
/// `sum = sum - sum / period + x`.
#[derive(Clone, Debug)]
pub struct WilderSum {
    period: usize,
    seen: usize,
    sum: f64,
}

impl WilderSum {
    /// A running sum smoothed over `period` (at least 2).
    pub fn new(period: usize) -> Self {
        Self {
            period: period.max(2),
            seen: 0,
            sum: 0.0,
        }
    }
}

impl Stream for WilderSum {
    fn lookback(&self) -> usize {
        self.period - 2
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.seen + 1 < self.period {
            self.seen += 1;
            self.sum += x;
            if self.seen + 1 < self.period {
                return None;
            }
            return Some(self.sum);
        }
        self.sum = self.sum - self.sum / self.period as f64 + x;
        Some(self.sum)
    }
}

/// How a [`WilderAverage`] takes its next step; TA-Lib 0.8 writes it three ways.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// `(avg * (period - 1) + x) / period` (ADX, CMO).
    Divide,
    /// `(avg * (period - 1) + x) * (1 / period)` (RSI).
    Reciprocal(f64),
}

/// Wilder's average: the first output is the mean of the first `period` values, then each
/// value moves it by `1 / period` of the way, in one of TA-Lib's two roundings (its ATR's fused one is [`super::rma::Rma`]) (see the
/// constructors).
#[derive(Clone, Debug)]
pub struct WilderAverage {
    period: usize,
    step: Step,
    seen: usize,
    value: f64,
}

impl WilderAverage {
    /// `avg = (avg * (period - 1) + x) / period`, the seed divided by the period: TA-Lib's ADX
    /// and CMO.
    pub fn new(period: usize) -> Self {
        Self {
            period: period.max(1),
            step: Step::Divide,
            seen: 0,
            value: 0.0,
        }
    }

    /// `avg = (avg * (period - 1) + x) * (1 / period)`, the seed also multiplied by
    /// `1 / period`: TA-Lib's RSI.
    pub fn reciprocal(period: usize) -> Self {
        let period = period.max(1);
        Self {
            step: Step::Reciprocal(1.0 / period as f64),
            ..Self::new(period)
        }
    }

    /// The latest output (meaningful once one has been produced).
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Once seeded and when it multiplies by `1 / period` (RSI): `(period, 1 / period)`, for
    /// array paths that take its steps themselves.
    pub(crate) fn reciprocal_steps(&self) -> Option<(f64, f64)> {
        match self.step {
            Step::Reciprocal(r) if self.seen >= self.period => Some((self.period as f64, r)),
            _ => None,
        }
    }

    /// Sets its latest output, after steps taken outside it.
    pub(crate) fn set_value(&mut self, value: f64) {
        self.value = value;
    }
}

impl Stream for WilderAverage {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        let n = self.period as f64;
        if self.seen < self.period {
            self.seen += 1;
            self.value += x;
            if self.seen < self.period {
                return None;
            }
            self.value = match self.step {
                Step::Reciprocal(r) => self.value * r,
                Step::Divide => self.value / n,
            };
            return Some(self.value);
        }
        self.value = match self.step {
            Step::Divide => (self.value * (n - 1.0) + x) / n,
            Step::Reciprocal(r) => (self.value * (n - 1.0) + x) * r,
        };
        Some(self.value)
    }
}
