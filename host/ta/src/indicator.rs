//! The streaming interface every function implements.

use crate::bar::{Bar, Series};

/// One configured TA-Lib function, fed one bar at a time.
///
/// Before [`Indicator::lookback`] bars have been seen (TA-Lib's lookback: the index of the first
/// valid output) every real output is NaN and every integer output (candlestick patterns,
/// HT_TRENDMODE, FRACTAL's flags, SUPERTREND's trend) is 0, as TA-Lib's Python package gives
/// them; from then on each call yields TA-Lib's value for that bar.
pub trait Indicator: Send + Sync {
    /// Index of the first bar with a valid output, as TA-Lib's `*_Lookback` gives it.
    fn lookback(&self) -> usize;

    /// Consumes the next bar and writes one value per output into `out`.
    fn next(&mut self, bar: &Bar, out: &mut [f64]);

    /// Runs over a whole series from this state: `out[k][i]` is output `k` at bar `i`, the same
    /// numbers as calling [`Indicator::next`] bar by bar. Each implementation gets its own
    /// monomorphised loop, so the per-bar call is static even through `dyn Indicator`.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let mut values = [f64::NAN; MAX_OUTPUTS];
        let width = out.len();
        for column in out.iter_mut() {
            column.clear();
            column.reserve(series.len());
        }
        for i in 0..series.len() {
            self.next(&series.bar(i), &mut values[..width]);
            for (column, value) in out.iter_mut().zip(&values[..width]) {
                column.push(*value);
            }
        }
    }
}

/// The most outputs any function has (HA: open, high, low, close).
pub const MAX_OUTPUTS: usize = 4;

/// Counts bars towards a lookback: `ready()` is true from the bar at index `lookback` onwards.
#[derive(Clone, Debug)]
pub struct Warmup {
    seen: usize,
    lookback: usize,
}

impl Warmup {
    /// A counter for an indicator whose first valid output is at index `lookback`.
    pub fn new(lookback: usize) -> Self {
        Self { seen: 0, lookback }
    }

    /// Counts one more bar and tells whether its output is valid.
    #[inline]
    pub fn tick(&mut self) -> bool {
        self.seen += 1;
        self.seen > self.lookback
    }

    /// The lookback this counter was made with.
    pub fn lookback(&self) -> usize {
        self.lookback
    }
}
