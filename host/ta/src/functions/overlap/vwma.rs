//! Volume-weighted moving average.

use crate::bar::Bar;
use crate::blocks::window::Window;
use crate::indicator::Indicator;

/// TA-Lib's VWMA: `(sum(close * volume) / n) / (sum(volume) / n)` over `period` bars with both
/// sums running (a window of zero volume gives whatever their residues give, as in TA-Lib 0.8.1).
/// A period of 1 passes the close through.
pub(crate) struct Vwma {
    period: usize,
    prices: Window,
    volumes: Window,
    sum_pv: f64,
    sum_v: f64,
}

impl Vwma {
    /// A VWMA over `period` bars (at least 1).
    pub(crate) fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            prices: Window::new(period),
            volumes: Window::new(period),
            sum_pv: 0.0,
            sum_v: 0.0,
        }
    }
}

impl Indicator for Vwma {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        if self.period == 1 {
            out[0] = bar.close;
            return;
        }
        self.prices.push(bar.close);
        self.volumes.push(bar.volume);
        self.sum_pv += bar.close * bar.volume;
        self.sum_v += bar.volume;
        if !self.prices.is_full() {
            out[0] = f64::NAN;
            return;
        }
        let (total_pv, total_v) = (self.sum_pv, self.sum_v);
        let (price, volume) = (self.prices.get(0), self.volumes.get(0));
        self.sum_pv -= price * volume;
        self.sum_v -= volume;
        let n = self.period as f64;
        out[0] = (total_pv / n) / (total_v / n);
    }
}
