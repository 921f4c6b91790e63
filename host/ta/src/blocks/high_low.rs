//! Highest high and lowest low over the last bars, tracked as TA-Lib tracks them.

use super::window::Window;

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
}
