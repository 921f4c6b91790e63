//! The registered functions. Each module holds a family of related functions; a function's TA-Lib
//! group is a field of its [`Function`], so a family may span groups.

mod cycle;
mod directional;
mod ma_momentum;
mod overlap;
mod pattern;
mod price;
mod statistic;
mod volatility;
mod volume;

use crate::bar::Bar;
use crate::blocks::Stream;
use crate::indicator::Indicator;
use crate::registry::Function;

/// Every family's functions.
pub(crate) static FAMILIES: &[&[Function]] = &[
    overlap::FUNCTIONS,
    directional::FUNCTIONS,
    ma_momentum::FUNCTIONS,
    volume::FUNCTIONS,
    volatility::FUNCTIONS,
    price::FUNCTIONS,
    cycle::FUNCTIONS,
    statistic::FUNCTIONS,
    pattern::FUNCTIONS,
];

/// A single-output function of the closing price, from a value-level [`Stream`].
pub(crate) struct OnClose<S>(pub S);

impl<S: Stream> Indicator for OnClose<S> {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.0.next(bar.close).unwrap_or(f64::NAN);
    }

    fn batch(&mut self, series: &crate::bar::Series, out: &mut [Vec<f64>]) {
        let [column] = out else { panic!("one output") };
        crate::indicator::prepare(column, series.len());
        if !self.0.next_many(&series.close[..series.len()], column) {
            crate::indicator::run_fastest(self, series, [column]);
        }
    }
}

/// A parameter value as a period.
#[inline]
pub(crate) fn period(value: f64) -> usize {
    value as usize
}
