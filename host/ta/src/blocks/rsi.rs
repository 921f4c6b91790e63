//! Wilder's relative strength index and the smoothed gains and losses behind it.

use super::Stream;
use super::wilder::WilderAverage;

/// Wilder-averaged gains and losses of a value's changes, as RSI and CMO smooth them: the first
/// output averages the first `period` changes, later ones update Wilder-style.
#[derive(Clone, Debug)]
pub struct GainLoss {
    prev: Option<f64>,
    gain: WilderAverage,
    loss: WilderAverage,
}

impl GainLoss {
    /// Gains and losses averaged over `period` changes, dividing by the period (CMO).
    pub fn new(period: usize) -> Self {
        Self {
            prev: None,
            gain: WilderAverage::new(period),
            loss: WilderAverage::new(period),
        }
    }

    /// Gains and losses averaged over `period` changes, multiplying by `1 / period` (RSI).
    pub fn reciprocal(period: usize) -> Self {
        Self {
            prev: None,
            gain: WilderAverage::reciprocal(period),
            loss: WilderAverage::reciprocal(period),
        }
    }

    /// Number of values consumed before the first output.
    pub fn lookback(&self) -> usize {
        self.gain.lookback() + 1
    }

    /// Consumes one value; `(average gain, average loss)` once `lookback()` values have passed.
    #[inline]
    pub fn next(&mut self, x: f64) -> Option<(f64, f64)> {
        let prev = self.prev.replace(x)?;
        let change = x - prev;
        let (up, down) = if change < 0.0 {
            (0.0, -change)
        } else {
            (change, 0.0)
        };
        let gain = self.gain.next(up);
        let loss = self.loss.next(down);
        Some((gain?, loss?))
    }
}

/// TA-Lib's RSI: `gain / (gain + loss) * 100` of the Wilder-averaged gains and losses (averaged
/// by multiplying with `1 / period`), 0 when both are zero.
#[derive(Clone, Debug)]
pub struct Rsi(GainLoss);

impl Rsi {
    /// An RSI over `period` changes.
    pub fn new(period: usize) -> Self {
        Self(GainLoss::reciprocal(period))
    }
}

impl Stream for Rsi {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        let (gain, loss) = self.0.next(x)?;
        let total = gain + loss;
        Some(if total > 0.0 {
            (gain / total) * 100.0
        } else {
            0.0
        })
    }
}
