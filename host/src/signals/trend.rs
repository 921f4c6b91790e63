//! The trend detector: the fast moving average crossing the slow one, taken only while the
//! ADX is at least `adx_min` (the market trends) and the slow average has moved the signal's
//! way over the last `slope_bars` bars.
//!
//! A cross is a change of the sign of fast minus slow from the last bar where it had one (a
//! touch at zero that turns back is none). Strength: the slow average's move over
//! `slope_bars` bars in ATRs, one ATR or more counting 1. Confidence: how far the ADX is above
//! `adx_min`, 50 or more counting 1. A bar missing a feature restarts the detector's memory of
//! the symbol: its crosses and slopes are over consecutive bars.

use super::config::TrendConfig;
use super::per_symbol::PerSymbol;
use super::prefetch;
use super::{Detector, Inputs};
use crate::features::{FeatureEngine, WindowInput};
use crate::model::{Bar, Direction, SignalKind, SymbolId};
use std::collections::VecDeque;

/// What the trend detector keeps of each symbol.
#[derive(Default)]
struct State {
    /// The sign of fast minus slow at the last bar where it was not zero (true: above).
    above: Option<bool>,
    /// The slow average's last `slope_bars + 1` values.
    slow: VecDeque<f64>,
}

/// The trend detector.
pub struct Trend {
    config: TrendConfig,
    fast: WindowInput,
    slow: WindowInput,
    adx: WindowInput,
    atr: WindowInput,
    symbols: PerSymbol<State>,
}

impl Trend {
    /// The detector `config` describes, its features resolved by `inputs`.
    pub fn new(config: TrendConfig, inputs: &mut Inputs<'_>) -> Result<Self, String> {
        Ok(Trend {
            fast: inputs.resolve("trend.fast", &config.fast)?,
            slow: inputs.resolve("trend.slow", &config.slow)?,
            adx: inputs.resolve("trend.adx", &config.adx)?,
            atr: inputs.resolve("trend.atr", &config.atr)?,
            config,
            symbols: PerSymbol::default(),
        })
    }
}

impl Detector for Trend {
    fn kind(&self) -> SignalKind {
        SignalKind::Trend
    }

    fn horizon_bars(&self) -> u32 {
        self.config.horizon_bars
    }

    fn prefetch(&self, symbol: SymbolId) {
        self.symbols.prefetch(symbol);
    }

    fn prefetch_heap(&self, symbol: SymbolId) {
        if let Some(s) = self.symbols.get(symbol) {
            prefetch::deque_ends(&s.slow);
        }
    }

    fn on_bar(&mut self, bar: &Bar, f: &FeatureEngine) -> Option<(Direction, f64, f64)> {
        let value = |input| f.value_of(bar.symbol, input);
        let c = &self.config;
        let s = self.symbols.get_or_default(bar.symbol);
        let (Some(fast), Some(slow), Some(adx), Some(atr)) = (
            value(self.fast),
            value(self.slow),
            value(self.adx),
            value(self.atr),
        ) else {
            *s = State::default();
            return None;
        };
        s.slow.push_back(slow);
        if s.slow.len() > c.slope_bars + 1 {
            s.slow.pop_front();
        }
        let gap = fast - slow;
        if gap == 0.0 {
            return None;
        }
        let direction = match s.above.replace(gap > 0.0) {
            Some(false) if gap > 0.0 => Direction::Long,
            Some(true) if gap < 0.0 => Direction::Short,
            _ => return None,
        };
        if adx < c.adx_min || s.slow.len() <= c.slope_bars {
            return None;
        }
        let moved = slow - s.slow[0];
        let agrees = match direction {
            Direction::Long => moved > 0.0,
            _ => moved < 0.0,
        };
        if !agrees {
            return None;
        }
        let strength = if atr > 0.0 {
            (moved.abs() / atr).min(1.0)
        } else {
            1.0
        };
        let confidence = if c.adx_min >= 50.0 {
            1.0
        } else {
            ((adx - c.adx_min) / (50.0 - c.adx_min)).clamp(0.0, 1.0)
        };
        Some((direction, strength, confidence))
    }
}
