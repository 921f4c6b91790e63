//! The trend detector: the fast moving average crossing the slow one, taken only while the
//! ADX is at least `adx_min` (the market trends) and the slow average has moved the signal's
//! way over the last `slope_bars` bars.
//!
//! Strength: the gap between the averages after the cross as a share of the slow one, a 1 %
//! gap or more counting 1. Confidence: how far the ADX is above `adx_min`, 50 or more
//! counting 1.

use super::config::TrendConfig;
use super::{Detector, Inputs};
use crate::features::{FeatureEngine, WindowInput};
use crate::model::{Bar, Direction, SignalKind, SymbolId};
use std::collections::{HashMap, VecDeque};

/// What the trend detector keeps of each symbol.
#[derive(Default)]
struct State {
    /// Fast minus slow at the previous bar that had both.
    gap: Option<f64>,
    /// The slow average's last `slope_bars + 1` values.
    slow: VecDeque<f64>,
}

/// The trend detector.
pub struct Trend {
    config: TrendConfig,
    fast: WindowInput,
    slow: WindowInput,
    adx: WindowInput,
    symbols: HashMap<SymbolId, State>,
}

impl Trend {
    /// The detector `config` describes, its features resolved by `inputs`.
    pub fn new(config: TrendConfig, inputs: &mut Inputs<'_>) -> Result<Self, String> {
        Ok(Trend {
            fast: inputs.resolve("trend.fast", &config.fast)?,
            slow: inputs.resolve("trend.slow", &config.slow)?,
            adx: inputs.resolve("trend.adx", &config.adx)?,
            config,
            symbols: HashMap::new(),
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

    fn on_bar(&mut self, bar: &Bar, f: &FeatureEngine) -> Option<(Direction, f64, f64)> {
        let value = |input| f.value_of(bar.symbol, input);
        let (fast, slow, adx) = (value(self.fast)?, value(self.slow)?, value(self.adx)?);
        let c = &self.config;
        let s = self.symbols.entry(bar.symbol).or_default();
        s.slow.push_back(slow);
        if s.slow.len() > c.slope_bars + 1 {
            s.slow.pop_front();
        }
        let gap = fast - slow;
        let direction = match s.gap.replace(gap) {
            Some(before) if before <= 0.0 && gap > 0.0 => Direction::Long,
            Some(before) if before >= 0.0 && gap < 0.0 => Direction::Short,
            _ => return None,
        };
        if adx < c.adx_min || s.slow.len() <= c.slope_bars {
            return None;
        }
        let slope = slow - s.slow[0];
        let agrees = match direction {
            Direction::Long => slope > 0.0,
            _ => slope < 0.0,
        };
        if !agrees || slow <= 0.0 {
            return None;
        }
        let strength = (gap.abs() / slow * 100.0).min(1.0);
        let confidence = if c.adx_min >= 50.0 {
            1.0
        } else {
            ((adx - c.adx_min) / (50.0 - c.adx_min)).clamp(0.0, 1.0)
        };
        Some((direction, strength, confidence))
    }
}
