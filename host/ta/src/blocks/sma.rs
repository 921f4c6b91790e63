//! Simple moving average with TA-Lib's running sum.

use super::Stream;
use super::through_next;
use super::window::Window;

/// Mean of the last `period` values, kept as TA-Lib keeps it: add the new value, divide, then
/// subtract the value that leaves the window.
#[derive(Clone, Debug)]
pub struct Sma {
    period: usize,
    total: f64,
    window: Window,
}

impl Sma {
    /// An SMA over `period` values (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            total: 0.0,
            window: Window::new(period),
        }
    }
}

impl Sma {
    /// Its period.
    pub(crate) fn period(&self) -> usize {
        self.period
    }

    /// Its running total once its window is full (the sum of the last `period - 1` values:
    /// the next one is added before the mean is taken), for array paths that step it
    /// themselves.
    pub(crate) fn running_total(&self) -> Option<f64> {
        self.window.is_full().then_some(self.total)
    }

    /// Takes back the state after steps taken outside it: the running total, and the values
    /// that arrived (at least its last `period`).
    pub(crate) fn resume(&mut self, total: f64, arrived: &[f64]) {
        self.total = total;
        self.window.push_all(arrived);
    }
}

impl Stream for Sma {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        self.window.push(x);
        self.total += x;
        if !self.window.is_full() {
            return None;
        }
        let out = self.total / self.period as f64;
        self.total -= self.window.get(0);
        Some(out)
    }

    /// Past the first window, the value leaving is read from `xs` itself.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let p = self.period;
        let head = (p - 1).min(xs.len());
        through_next(self, &xs[..head], out);
        if head == xs.len() {
            return true;
        }
        let period = p as f64;
        let mut total = self.total;
        let arriving = &xs[head..];
        let leaving = &xs[head + 1 - p..];
        // A plain loop, not `extend` over a closure: the total stays in a register.
        out.reserve(arriving.len());
        for (&x, &old) in arriving.iter().zip(leaving) {
            total += x;
            out.push(total / period);
            total -= old;
        }
        self.total = total;
        // The ring holds the last window again, for the next call.
        self.window.push_all(xs);
        true
    }
}
