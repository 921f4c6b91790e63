//! The reversal detector: long when the close is under the lower Bollinger band while the RSI
//! is below `oversold`, short when it is over the upper band while the RSI is above
//! `overbought`.
//!
//! Strength: how far the close lies beyond the band, in half band widths (half a width or more
//! counting 1). Confidence: how far the RSI lies into its extreme (0 at the threshold, 1 at 0
//! or 100), plus 0.5 (capped at 1) with a divergence: the close beyond the lowest (highest)
//! close of the last `divergence_bars` bars while the RSI is above (below) the RSI at that bar
//! (a lower price low with a higher RSI, or a higher high with a lower RSI). A bar missing a
//! feature empties the window: it holds consecutive bars.

use super::config::ReversalConfig;
use super::per_symbol::PerSymbol;
use super::prefetch;
use super::{Detector, Inputs};
use crate::features::{FeatureEngine, WindowInput};
use crate::model::{Bar, Direction, SignalKind, SymbolId};
use std::collections::VecDeque;

/// The closes and RSI values of a symbol's last `divergence_bars` bars (before the current).
#[derive(Default)]
struct State {
    closes: VecDeque<f64>,
    rsi: VecDeque<f64>,
}

impl State {
    /// Whether `close` and `rsi` diverge from the window's lowest (`low`) or highest close.
    fn diverges(&self, close: f64, rsi: f64, low: bool) -> bool {
        let order = |a: &(usize, &f64), b: &(usize, &f64)| a.1.total_cmp(b.1);
        let closes = self.closes.iter().enumerate();
        let at = if low {
            closes.min_by(order)
        } else {
            closes.max_by(order)
        };
        at.is_some_and(|(k, &extreme)| {
            if low {
                close < extreme && rsi > self.rsi[k]
            } else {
                close > extreme && rsi < self.rsi[k]
            }
        })
    }
}

/// The reversal detector.
pub struct Reversal {
    config: ReversalConfig,
    rsi: WindowInput,
    upper: WindowInput,
    lower: WindowInput,
    symbols: PerSymbol<State>,
}

impl Reversal {
    /// The detector `config` describes, its features resolved by `inputs`.
    pub fn new(config: ReversalConfig, inputs: &mut Inputs<'_>) -> Result<Self, String> {
        Ok(Reversal {
            rsi: inputs.resolve("reversal.rsi", &config.rsi)?,
            upper: inputs.resolve("reversal.upper", &config.upper)?,
            lower: inputs.resolve("reversal.lower", &config.lower)?,
            config,
            symbols: PerSymbol::default(),
        })
    }
}

impl Detector for Reversal {
    fn kind(&self) -> SignalKind {
        SignalKind::Reversal
    }

    fn horizon_bars(&self) -> u32 {
        self.config.horizon_bars
    }

    fn prefetch(&self, symbol: SymbolId) {
        self.symbols.prefetch(symbol);
    }

    fn prefetch_heap(&self, symbol: SymbolId) {
        if let Some(s) = self.symbols.get(symbol) {
            prefetch::deque_ends(&s.closes);
            prefetch::deque_ends(&s.rsi);
        }
    }

    fn on_bar(&mut self, bar: &Bar, f: &FeatureEngine) -> Option<(Direction, f64, f64)> {
        let value = |input| f.value_of(bar.symbol, input);
        let c = &self.config;
        let s = self.symbols.get_or_default(bar.symbol);
        let (Some(rsi), Some(upper), Some(lower)) =
            (value(self.rsi), value(self.upper), value(self.lower))
        else {
            s.closes.clear();
            s.rsi.clear();
            return None;
        };
        let close = bar.close;
        let full = s.closes.len() == c.divergence_bars;
        let signal = if rsi < c.oversold && close < lower {
            let extremity = (c.oversold - rsi) / c.oversold.max(1e-9);
            let divergence = full && s.diverges(close, rsi, true);
            Some((Direction::Long, lower - close, extremity, divergence))
        } else if rsi > c.overbought && close > upper {
            let extremity = (rsi - c.overbought) / (100.0 - c.overbought).max(1e-9);
            let divergence = full && s.diverges(close, rsi, false);
            Some((Direction::Short, close - upper, extremity, divergence))
        } else {
            None
        };
        s.closes.push_back(close);
        s.rsi.push_back(rsi);
        if s.closes.len() > c.divergence_bars {
            s.closes.pop_front();
            s.rsi.pop_front();
        }
        let (direction, beyond, extremity, divergence) = signal?;
        let width = upper - lower;
        let strength = if width > 0.0 {
            (beyond / (width / 2.0)).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let confidence = (extremity.clamp(0.0, 1.0) + if divergence { 0.5 } else { 0.0 }).min(1.0);
        Some((direction, strength, confidence))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_divergence_is_against_the_rsi_at_the_windows_price_extreme() {
        // The window's lowest close (95) came with an RSI of 25; its lowest RSI (20) elsewhere.
        let s = State {
            closes: [100.0, 98.0, 95.0, 97.0].into(),
            rsi: [20.0, 30.0, 25.0, 35.0].into(),
        };
        // A lower low with an RSI above 25 diverges; with 22 (above the window's lowest RSI,
        // below the RSI at the price low) it confirms.
        assert!(s.diverges(94.0, 27.0, true));
        assert!(!s.diverges(94.0, 22.0, true));
        assert!(!s.diverges(96.0, 40.0, true), "no new low");
        // The highest close (100) came with an RSI of 20: a higher high with a lower RSI.
        assert!(s.diverges(101.0, 15.0, false));
        assert!(!s.diverges(101.0, 25.0, false));
    }
}
