//! TA-Lib's average true range: Wilder's smoothing of the true range.

use super::Stream;
use super::rma::Rma;
use super::true_range::TrueRange;

/// The ATR of the bars seen: the true range starts at the second bar, then [`Rma`] over `period`.
#[derive(Clone, Debug)]
pub struct Atr {
    range: TrueRange,
    average: Rma,
}

impl Atr {
    /// An ATR over `period` true ranges.
    pub fn new(period: usize) -> Self {
        Self {
            range: TrueRange::new(),
            average: Rma::new(period),
        }
    }

    /// Index of the first bar with a value.
    pub fn lookback(&self) -> usize {
        self.average.lookback() + 1
    }

    /// Consumes one bar; `None` until the lookback has passed.
    #[inline]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let range = self.range.next(high, low, close)?;
        self.average.next(range)
    }
}
