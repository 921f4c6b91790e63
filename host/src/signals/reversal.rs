//! The reversal detector: long when the close is under the lower Bollinger band while the RSI
//! is below `oversold`, short when it is over the upper band while the RSI is above
//! `overbought`.
//!
//! Strength: how far the close lies beyond the band, in half band widths (half a width or more
//! counting 1). Confidence: how far the RSI lies into its extreme (0 at the threshold, 1 at 0
//! or 100), plus 0.5 (capped at 1) with a divergence: the close at a new extreme of the last
//! `divergence_bars` bars that the RSI does not reach (a lower low with a higher RSI low, or a
//! higher high with a lower RSI high).

use super::config::ReversalConfig;
use super::{Detector, Inputs};
use crate::features::{FeatureEngine, WindowInput};
use crate::model::{Bar, Direction, SignalKind, SymbolId};
use std::collections::{HashMap, VecDeque};

/// The closes and RSI values of a symbol's last `divergence_bars` bars (before the current).
#[derive(Default)]
struct State {
    closes: VecDeque<f64>,
    rsi: VecDeque<f64>,
}

/// The reversal detector.
pub struct Reversal {
    config: ReversalConfig,
    rsi: WindowInput,
    upper: WindowInput,
    lower: WindowInput,
    symbols: HashMap<SymbolId, State>,
}

impl Reversal {
    /// The detector `config` describes, its features resolved by `inputs`.
    pub fn new(config: ReversalConfig, inputs: &mut Inputs<'_>) -> Result<Self, String> {
        Ok(Reversal {
            rsi: inputs.resolve("reversal.rsi", &config.rsi)?,
            upper: inputs.resolve("reversal.upper", &config.upper)?,
            lower: inputs.resolve("reversal.lower", &config.lower)?,
            config,
            symbols: HashMap::new(),
        })
    }
}

fn extreme(values: &VecDeque<f64>, low: bool) -> f64 {
    values.iter().copied().fold(
        if low {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        },
        |m, v| if low { m.min(v) } else { m.max(v) },
    )
}

impl Detector for Reversal {
    fn kind(&self) -> SignalKind {
        SignalKind::Reversal
    }

    fn horizon_bars(&self) -> u32 {
        self.config.horizon_bars
    }

    fn on_bar(&mut self, bar: &Bar, f: &FeatureEngine) -> Option<(Direction, f64, f64)> {
        let value = |input| f.value_of(bar.symbol, input);
        let (rsi, upper, lower) = (value(self.rsi)?, value(self.upper)?, value(self.lower)?);
        let c = &self.config;
        let close = bar.close;
        let s = self.symbols.entry(bar.symbol).or_default();
        let full = s.closes.len() == c.divergence_bars;
        let signal = if rsi < c.oversold && close < lower {
            let divergence =
                full && close < extreme(&s.closes, true) && rsi > extreme(&s.rsi, true);
            Some((
                Direction::Long,
                lower - close,
                (c.oversold - rsi) / c.oversold.max(1e-9),
                divergence,
            ))
        } else if rsi > c.overbought && close > upper {
            let divergence =
                full && close > extreme(&s.closes, false) && rsi < extreme(&s.rsi, false);
            let room = (100.0 - c.overbought).max(1e-9);
            Some((
                Direction::Short,
                close - upper,
                (rsi - c.overbought) / room,
                divergence,
            ))
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
