//! True range and its Wilder average, as TA-Lib's ATR computes them.

use crate::bar::Bar;
use crate::blocks::Stream;
use crate::blocks::rma::Rma;
use crate::blocks::true_range::true_range;

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
        self.rma.next(true_range(bar.high, bar.low, prev_close))
    }
}
