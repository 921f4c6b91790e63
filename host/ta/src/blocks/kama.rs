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
        self.prev = adaptive_step(self.prev, self.sum_roc1, x, period_roc);
        self.prev
    }
}

/// The KAMA after `prev` at `x`, given the sum of one-bar changes and the net change over the
/// window.
#[inline(always)]
fn adaptive_step(prev: f64, sum_roc1: f64, x: f64, period_roc: f64) -> f64 {
    const FASTEST: f64 = 2.0 / (2.0 + 1.0);
    const SLOWEST: f64 = 2.0 / (30.0 + 1.0);
    let diff = FASTEST - SLOWEST;
    let ratio = if sum_roc1 <= 0.0 || sum_roc1 <= period_roc {
        1.0
    } else {
        (period_roc / sum_roc1).abs().min(1.0)
    };
    let mut sc = ratio.mul_add(diff, SLOWEST);
    sc *= sc;
    (x - prev).mul_add(sc, prev)
}

/// [`Kama::next`] over `xs[from..]` once running, each window read from `xs` (`from` at least
/// `period + 1`): the running sum, the flat run and the average in registers. Returns them.
#[inline(always)]
fn kama_steps(
    xs: &[f64],
    from: usize,
    period: usize,
    (mut sum_roc1, mut null_run, mut prev): (f64, usize, f64),
    out: &mut Vec<f64>,
) -> (f64, usize, f64) {
    out.reserve(xs.len() - from);
    for i in from..xs.len() {
        let (x, oldest) = (xs[i], xs[i - period]);
        sum_roc1 -= (xs[i - period - 1] - oldest).abs();
        let change = x - xs[i - 1];
        sum_roc1 += change.abs();
        null_run = if change == 0.0 { null_run + 1 } else { 0 };
        if null_run >= period {
            null_run = period;
            sum_roc1 = 0.0;
        }
        prev = adaptive_step(prev, sum_roc1, x, x - oldest);
        out.push(prev);
    }
    (sum_roc1, null_run, prev)
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

    /// `next` until running with a whole window inside `xs`, then [`kama_steps`] (with FMA
    /// where the CPU has it); the ring and the trailing input left as `next` would leave them.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let period = self.period;
        let mut head = 0;
        while head < xs.len() && (period == 1 || !self.started || head <= period) {
            out.push(self.next(xs[head]).unwrap_or(f64::NAN));
            head += 1;
        }
        if head == xs.len() {
            return true;
        }
        let state = (self.sum_roc1, self.null_run, self.prev);
        let state = crate::indicator::with_fma(move || kama_steps(xs, head, period, state, out));
        (self.sum_roc1, self.null_run, self.prev) = state;
        self.window.push_all(xs);
        self.trailing = xs[xs.len() - 1 - period];
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wild values, then a flat run longer than the window, then a walk.
    fn wild_then_flat(scale: f64, period: usize) -> Vec<f64> {
        let mut xs: Vec<f64> = (0..40).map(|i| 50.0 + (i % 7) as f64 * 0.37).collect();
        xs.extend((0..9).map(|i| if i % 2 == 0 { 50.0 * scale } else { 49.3 }));
        xs.extend(std::iter::repeat_n(40.0, period + 5));
        xs.extend((0..30).map(|i| 40.0 + (i % 5) as f64 * 0.11));
        xs
    }

    #[test]
    fn the_array_path_leaves_what_next_leaves_and_resets_flat_windows() {
        for period in [2, 7, 30] {
            for scale in [3.1, 700.1, 1234.5, 98765.4] {
                let xs = wild_then_flat(scale, period);
                // Up to the end of the flat run: the sum of changes restarted at exactly zero.
                let flat_end = 49 + period + 5;
                let mut array = Kama::new(period);
                let mut got = Vec::new();
                assert!(array.next_many(&xs[..flat_end], &mut got));
                assert_eq!(
                    array.sum_roc1.to_bits(),
                    0.0f64.to_bits(),
                    "{period} {scale}"
                );
                assert_eq!(array.null_run, period);
                assert!(array.next_many(&xs[flat_end..], &mut got));
                let mut streaming = Kama::new(period);
                let want: Vec<f64> = xs
                    .iter()
                    .map(|&x| streaming.next(x).unwrap_or(f64::NAN))
                    .collect();
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{period} {scale}");
                assert_eq!(array.sum_roc1.to_bits(), streaming.sum_roc1.to_bits());
                assert_eq!(array.trailing.to_bits(), streaming.trailing.to_bits());
                assert_eq!(array.next(41.0), streaming.next(41.0));
            }
        }
    }
}
