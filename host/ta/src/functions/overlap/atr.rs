//! True range and its Wilder average, as TA-Lib's ATR computes them.

use crate::bar::Bar;
use crate::blocks::Stream;
use crate::blocks::rma::Rma;

/// TA-Lib's ATR: Wilder's smoothing of the true range, which starts at the second bar.
#[derive(Clone, Debug)]
pub(crate) struct Atr {
    prev_close: Option<f64>,
    rma: Rma,
}

impl Atr {
    /// An ATR over `period` true ranges.
    pub(crate) fn new(period: usize) -> Self {
        Self {
            prev_close: None,
            rma: Rma::new(period),
        }
    }

    /// Index of the first bar with a value.
    pub(crate) fn lookback(&self) -> usize {
        self.rma.lookback() + 1
    }

    /// Consumes one bar; `None` until the lookback has passed.
    #[inline]
    pub(crate) fn next(&mut self, bar: &Bar) -> Option<f64> {
        let prev_close = self.prev_close.replace(bar.close)?;
        let mut range = bar.high - bar.low;
        let to_high = (prev_close - bar.high).abs();
        if to_high > range {
            range = to_high;
        }
        let to_low = (prev_close - bar.low).abs();
        if to_low > range {
            range = to_low;
        }
        self.rma.next(range)
    }
}
