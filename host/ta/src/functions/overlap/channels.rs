//! Extremes over a window: Donchian channels, MIDPOINT and MIDPRICE.

use crate::bar::Bar;
use crate::blocks::high_low::HighLow;
use crate::indicator::Indicator;

/// TA-Lib's DONCHIAN: highest high, `(highest + lowest) / 2` and lowest low over `period` bars.
pub(crate) struct Donchian(HighLow);

impl Donchian {
    /// Channels over `period` bars.
    pub(crate) fn new(period: usize) -> Self {
        Self(HighLow::new(period))
    }
}

impl Indicator for Donchian {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        match self.0.next(bar.high, bar.low) {
            Some((highest, lowest)) => {
                out[0] = highest;
                out[1] = (highest + lowest) / 2.0;
                out[2] = lowest;
            }
            None => out[..3].fill(f64::NAN),
        }
    }
}

/// TA-Lib's MIDPRICE (`(highest high + lowest low) / 2`) or, on the close only, MIDPOINT.
pub(crate) struct Midpoint {
    extremes: HighLow,
    close_only: bool,
}

impl Midpoint {
    /// MIDPRICE over `period` bars, or MIDPOINT when `close_only`.
    pub(crate) fn new(period: usize, close_only: bool) -> Self {
        Self {
            extremes: HighLow::new(period),
            close_only,
        }
    }
}

impl Indicator for Midpoint {
    fn lookback(&self) -> usize {
        self.extremes.lookback()
    }

    #[inline]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let (a, b) = if self.close_only {
            (bar.close, bar.close)
        } else {
            (bar.high, bar.low)
        };
        out[0] = self
            .extremes
            .next(a, b)
            .map_or(f64::NAN, |(highest, lowest)| (highest + lowest) / 2.0);
    }
}
