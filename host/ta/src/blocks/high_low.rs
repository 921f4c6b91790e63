//! Highest high and lowest low over the last bars, tracked as TA-Lib tracks them.

use super::window::Window;
use crate::windowed::window_extremes;

/// The highest of the last `period` highs and the lowest of the last `period` lows (STOCH,
/// STOCHF, SMI). Like TA-Lib it remembers where each extreme sits and rescans the window only
/// when that bar leaves it, so a bar costs O(1) amortised.
#[derive(Clone, Debug)]
pub struct HighLow {
    highs: Window,
    lows: Window,
    seen: usize,
    highest: f64,
    lowest: f64,
    highest_at: Option<usize>,
    lowest_at: Option<usize>,
}

impl HighLow {
    /// Extremes over `period` bars (at least 1).
    pub fn new(period: usize) -> Self {
        Self {
            highs: Window::new(period),
            lows: Window::new(period),
            seen: 0,
            highest: 0.0,
            lowest: 0.0,
            highest_at: None,
            lowest_at: None,
        }
    }

    /// Number of bars consumed before the first output.
    pub fn lookback(&self) -> usize {
        self.highs.capacity() - 1
    }

    /// Bars consumed so far.
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// Consumes bars `high[i]`, `low[i]` in order, calling `each(i, what next gives)` for each:
    /// through `next` while a window may reach back before the arrays (their first `period - 1`
    /// bars), then from the arrays themselves by [`window_extremes`] where their values allow
    /// it, the state then rebuilt from the last bars (a window's extremes depend on its bars
    /// alone), so that later bars continue exactly as if each had gone through `next`.
    #[inline(always)]
    pub(crate) fn many(
        &mut self,
        high: &[f64],
        low: &[f64],
        mut each: impl FnMut(usize, Option<(f64, f64)>),
    ) {
        let n = high.len().min(low.len());
        let len = self.highs.capacity();
        let head = (len - 1).min(n);
        for i in 0..head {
            each(i, self.next(high[i], low[i]));
        }
        if head == n {
            return;
        }
        if window_extremes(high, low, len, head, |i, h, l| each(i, Some((h, l)))) {
            let seen = self.seen + (n - head);
            *self = HighLow::new(len);
            self.seen = seen - (len - 1);
            for i in n + 1 - len..n {
                self.next(high[i], low[i]);
            }
        } else {
            for i in head..n {
                each(i, self.next(high[i], low[i]));
            }
        }
    }

    /// Consumes one bar; `(highest, lowest)` once `period` bars have been seen.
    #[inline(always)]
    pub fn next(&mut self, high: f64, low: f64) -> Option<(f64, f64)> {
        self.highs.push(high);
        self.lows.push(low);
        let today = self.seen;
        self.seen += 1;
        if !self.highs.is_full() {
            return None;
        }
        let trailing = today + 1 - self.highs.capacity();
        if self.lowest_at.is_none_or(|at| at < trailing) {
            let (at, value) = extreme(&self.lows, |x, best| x < best);
            self.lowest_at = Some(trailing + at);
            self.lowest = value;
        } else if low <= self.lowest {
            self.lowest_at = Some(today);
            self.lowest = low;
        }
        if self.highest_at.is_none_or(|at| at < trailing) {
            let (at, value) = extreme(&self.highs, |x, best| x > best);
            self.highest_at = Some(trailing + at);
            self.highest = value;
        } else if high >= self.highest {
            self.highest_at = Some(today);
            self.highest = high;
        }
        Some((self.highest, self.lowest))
    }
}

/// The first position (oldest first) and value of the window's extreme under `better`.
#[inline]
fn extreme(window: &Window, better: impl Fn(f64, f64) -> bool) -> (usize, f64) {
    let (older, newer) = window.as_slices();
    let mut best = (0, older[0]);
    for (i, &x) in older.iter().enumerate().skip(1) {
        if better(x, best.1) {
            best = (i, x);
        }
    }
    for (i, &x) in newer.iter().enumerate() {
        if better(x, best.1) {
            best = (older.len() + i, x);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_extremes_as_bars_leave_the_window() {
        let mut hl = HighLow::new(3);
        let bars = [(5.0, 1.0), (4.0, 2.0), (3.0, 3.0), (2.0, 2.5), (6.0, 0.5)];
        let out: Vec<_> = bars.iter().map(|&(h, l)| hl.next(h, l)).collect();
        assert_eq!(
            out,
            vec![
                None,
                None,
                Some((5.0, 1.0)),
                Some((4.0, 2.0)),
                Some((6.0, 0.5))
            ]
        );
    }

    #[test]
    fn many_gives_what_next_gives_in_pieces() {
        // Windows short and long (scanned whole, or tracked as TA-Lib does), in pieces that
        // end inside a window; values with ties and zeros of both signs, then a NaN (next's
        // own loop).
        let mut x = 7u64;
        let mut values: Vec<(f64, f64)> = (0..2_000)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                let v = ((x >> 40) % 50) as f64 - 10.0;
                (v + 3.0, v)
            })
            .collect();
        values[1_500].1 = f64::NAN;
        // A piece ending on a zero extreme, the next starting with a zero of the other sign.
        values[70..74].copy_from_slice(&[(2.0, 1.0), (2.0, 1.0), (2.0, 0.0), (2.0, -0.0)]);
        values[570..574].copy_from_slice(&[(-1.0, -3.0), (-1.0, -3.0), (0.0, -3.0), (-0.0, -3.0)]);
        for period in [1, 3, 30, 60] {
            let mut one = HighLow::new(period);
            let expected: Vec<_> = values.iter().map(|&(h, l)| one.next(h, l)).collect();
            let mut many = HighLow::new(period);
            let mut got = Vec::new();
            let mut start = 0;
            for piece in [1, 2, 70, 500, 1_427] {
                let end = (start + piece).min(values.len());
                let (h, l): (Vec<f64>, Vec<f64>) = values[start..end].iter().copied().unzip();
                many.many(&h, &l, |i, v| {
                    assert_eq!(i, got.len() - start);
                    got.push(v);
                });
                start = end;
            }
            assert_eq!(many.seen(), values.len());
            let bits = |v: Option<(f64, f64)>| v.map(|(h, l)| (h.to_bits(), l.to_bits()));
            assert_eq!(got.len(), expected.len());
            for (i, (got, expected)) in got.iter().zip(&expected).enumerate() {
                assert_eq!(bits(*got), bits(*expected), "period {period}, bar {i}");
            }
        }
    }
}
