//! Kaufman's adaptive moving average.

use super::Stream;
use super::window::Window;

/// TA-Lib's KAMA: an EMA whose factor follows the efficiency ratio (net change over the sum of
/// absolute one-bar changes across `period` bars), squared between the factors of a 2- and a
/// 30-bar EMA (the ratio capped at 1), both steps fused multiply-adds as in TA-Lib 0.8. Starts from the previous price; a period of 1 passes values through. As TA-Lib
/// 0.8 does, the sum of changes is reset to exactly zero once a whole window has been flat.
#[derive(Clone, Debug)]
pub struct Kama {
    period: usize,
    /// The last `period + 1` inputs.
    window: Window,
    sum_roc1: f64,
    /// Consecutive one-bar changes of exactly zero, up to `period`.
    null_run: usize,
    trailing: f64,
    prev: f64,
    started: bool,
}

impl Kama {
    /// A KAMA over `period` (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            window: Window::new(period + 1),
            sum_roc1: 0.0,
            null_run: 0,
            trailing: 0.0,
            prev: 0.0,
            started: false,
        }
    }

    /// Counts a one-bar change towards a flat window.
    #[inline]
    fn count_null(&mut self, change: f64) {
        if change == 0.0 {
            self.null_run += 1;
        } else {
            self.null_run = 0;
        }
    }

    /// One adaptive EMA step towards `x` given the net change over the window.
    #[inline]
    fn step(&mut self, x: f64, period_roc: f64) -> f64 {
        const FASTEST: f64 = 2.0 / (2.0 + 1.0);
        const SLOWEST: f64 = 2.0 / (30.0 + 1.0);
        let diff = FASTEST - SLOWEST;
        let ratio = if self.sum_roc1 <= 0.0 || self.sum_roc1 <= period_roc {
            1.0
        } else {
            (period_roc / self.sum_roc1).abs().min(1.0)
        };
        let mut sc = ratio.mul_add(diff, SLOWEST);
        sc *= sc;
        self.prev = (x - self.prev).mul_add(sc, self.prev);
        self.prev
    }
}

impl Stream for Kama {
    fn lookback(&self) -> usize {
        if self.period == 1 { 0 } else { self.period }
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
        let oldest = self.window.get(0);
        if !self.started {
            self.started = true;
            for j in 0..self.period {
                let change = self.window.get(j) - self.window.get(j + 1);
                self.sum_roc1 += change.abs();
                self.count_null(change);
            }
            self.prev = self.window.back(1);
            self.trailing = oldest;
            return Some(self.step(x, x - oldest));
        }
        // `oldest` is the input `period` bars back; `trailing` the one before it.
        let trailing_out = (self.trailing - oldest).abs();
        self.sum_roc1 -= trailing_out;
        let change = x - self.window.back(1);
        self.sum_roc1 += change.abs();
        self.count_null(change);
        if self.null_run >= self.period {
            self.null_run = self.period;
            self.sum_roc1 = 0.0;
        }
        self.trailing = oldest;
        Some(self.step(x, x - oldest))
    }
}
