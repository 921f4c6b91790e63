//! Highest high and lowest low over the last bars, tracked as TA-Lib tracks them.

use super::extreme::{Extreme, RollingExtreme};

/// The highest of the last `period` highs and the lowest of the last `period` lows (STOCH,
/// STOCHF, SMI, DONCHIAN, MIDPOINT, MIDPRICE): two [`RollingExtreme`]s, so a bar costs O(1)
/// amortised, rescanning only when an extreme leaves the window, as TA-Lib does.
#[derive(Clone, Debug)]
pub struct HighLow {
    highest: RollingExtreme,
    lowest: RollingExtreme,
}

impl HighLow {
    /// Extremes over `period` bars (at least 1).
    pub fn new(period: usize) -> Self {
        Self {
            highest: RollingExtreme::new(Extreme::Highest, period, false),
            lowest: RollingExtreme::new(Extreme::Lowest, period, false),
        }
    }

    /// Number of bars consumed before the first output.
    pub fn lookback(&self) -> usize {
        self.highest.lookback()
    }

    /// Consumes one bar; `(highest, lowest)` once `period` bars have been seen.
    #[inline]
    pub fn next(&mut self, high: f64, low: f64) -> Option<(f64, f64)> {
        let highest = self.highest.next(high);
        let lowest = self.lowest.next(low);
        Some((highest?.0, lowest?.0))
    }
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
