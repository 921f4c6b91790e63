//! SuperTrend: a ratcheting ATR band that flips with the trend.

use crate::bar::Bar;
use crate::blocks::atr::Atr;
use crate::indicator::Indicator;

/// TA-Lib's SUPERTREND: bands `(high + low) / 2 ± multiplier * ATR`, each ratcheting towards
/// price until a close beyond it releases it; the line is the lower band in an uptrend and the
/// upper one in a downtrend, and `trend` is +1 or -1 (0 before the lookback, as TA-Lib's integer
/// output reads). The first bar starts long with both bands unclamped.
pub(crate) struct Supertrend {
    atr: Atr,
    multiplier: f64,
    started: bool,
    upper: f64,
    lower: f64,
    uptrend: bool,
    prev_close: f64,
}

impl Supertrend {
    /// SuperTrend over an ATR of `period` with band `multiplier`.
    pub(crate) fn new(period: usize, multiplier: f64) -> Self {
        Self {
            atr: Atr::new(period),
            multiplier,
            started: false,
            upper: 0.0,
            lower: 0.0,
            uptrend: true,
            prev_close: 0.0,
        }
    }
}

impl Indicator for Supertrend {
    fn lookback(&self) -> usize {
        self.atr.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let Some(atr) = self.atr.next(bar.high, bar.low, bar.close) else {
            out[0] = f64::NAN;
            out[1] = 0.0;
            return;
        };
        let median = (bar.high + bar.low) / 2.0;
        let band = self.multiplier * atr;
        let (basic_upper, basic_lower) = (median + band, median - band);
        if !self.started {
            self.started = true;
            self.upper = basic_upper;
            self.lower = basic_lower;
            self.uptrend = true;
        } else {
            if basic_upper < self.upper || self.prev_close > self.upper {
                self.upper = basic_upper;
            }
            if basic_lower > self.lower || self.prev_close < self.lower {
                self.lower = basic_lower;
            }
            if self.uptrend {
                if bar.close < self.lower {
                    self.uptrend = false;
                }
            } else if bar.close > self.upper {
                self.uptrend = true;
            }
        }
        self.prev_close = bar.close;
        if self.uptrend {
            out[0] = self.lower;
            out[1] = 1.0;
        } else {
            out[0] = self.upper;
            out[1] = -1.0;
        }
    }
}
