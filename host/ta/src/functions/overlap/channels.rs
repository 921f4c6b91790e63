//! Extremes over a window: Donchian channels, MIDPOINT and MIDPRICE.

use crate::bar::{Bar, Series};
use crate::blocks::window::Window;
use crate::indicator::Indicator;
use crate::windowed::{self, MAX_BLOCK, Windowed, window_extremes_in_blocks};

/// The highest of `a` and the lowest of `b` over the last `period` bars (TA-Lib rescans).
#[derive(Clone, Debug)]
struct Extremes {
    highs: Window,
    lows: Window,
}

impl Extremes {
    fn new(period: usize) -> Self {
        Self {
            highs: Window::new(period),
            lows: Window::new(period),
        }
    }

    fn lookback(&self) -> usize {
        self.highs.capacity() - 1
    }

    /// Pushes one pair; the window's highest `a` and lowest `b` once full.
    #[inline(always)]
    fn next(&mut self, a: f64, b: f64) -> Option<(f64, f64)> {
        self.highs.push(a);
        self.lows.push(b);
        if !self.highs.is_full() {
            return None;
        }
        let (older, newer) = self.highs.as_slices();
        let highest = older[1..]
            .iter()
            .chain(newer)
            .fold(older[0], |m, &h| if h > m { h } else { m });
        let (older, newer) = self.lows.as_slices();
        let lowest = older[1..]
            .iter()
            .chain(newer)
            .fold(older[0], |m, &l| if l < m { l } else { m });
        Some((highest, lowest))
    }
}

/// TA-Lib's DONCHIAN: highest high, `(highest + lowest) / 2` and lowest low over `period` bars.
pub(crate) struct Donchian(Extremes);

impl Donchian {
    /// Channels over `period` bars.
    pub(crate) fn new(period: usize) -> Self {
        Self(Extremes::new(period))
    }
}

impl Indicator for Donchian {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
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

    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        windowed::batch(self, series, out);
    }
}

impl Windowed for Donchian {
    fn window(&self) -> usize {
        self.0.lookback() + 1
    }

    fn fresh(&self) -> Self {
        Donchian::new(self.window())
    }

    fn kernel(&self, series: &Series, from: usize, out: &mut [Vec<f64>]) -> bool {
        let [upper, middle, lower] = out else {
            return false;
        };
        window_extremes_in_blocks(
            &series.high,
            &series.low,
            self.window(),
            from,
            |_, highs, lows| {
                upper.extend_from_slice(highs);
                push_middles(highs, lows, middle);
                lower.extend_from_slice(lows);
            },
        )
    }
}

/// TA-Lib's MIDPRICE (`(highest high + lowest low) / 2`) or, on the close only, MIDPOINT.
pub(crate) struct Midpoint {
    extremes: Extremes,
    close_only: bool,
}

impl Midpoint {
    /// MIDPRICE over `period` bars, or MIDPOINT when `close_only`.
    pub(crate) fn new(period: usize, close_only: bool) -> Self {
        Self {
            extremes: Extremes::new(period),
            close_only,
        }
    }
}

impl Indicator for Midpoint {
    fn lookback(&self) -> usize {
        self.extremes.lookback()
    }

    #[inline(always)]
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

    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        windowed::batch(self, series, out);
    }
}

impl Windowed for Midpoint {
    fn window(&self) -> usize {
        self.extremes.lookback() + 1
    }

    fn fresh(&self) -> Self {
        Midpoint::new(self.window(), self.close_only)
    }

    fn kernel(&self, series: &Series, from: usize, out: &mut [Vec<f64>]) -> bool {
        let (a, b) = if self.close_only {
            (&series.close, &series.close)
        } else {
            (&series.high, &series.low)
        };
        let column = &mut out[0];
        window_extremes_in_blocks(a, b, self.window(), from, |_, highs, lows| {
            push_middles(highs, lows, column)
        })
    }
}

/// Pushes onto `column` the midpoints of a block's extremes, computed side by side.
#[inline(always)]
fn push_middles(highs: &[f64], lows: &[f64], column: &mut Vec<f64>) {
    let mut middles = [0.0; MAX_BLOCK];
    let middles = &mut middles[..highs.len()];
    for ((m, &h), &l) in middles.iter_mut().zip(highs).zip(lows) {
        *m = (h + l) / 2.0;
    }
    column.extend_from_slice(middles);
}
