//! The breakout detector: the close above the previous bar's channel top (long) or below its
//! bottom (short) on a volume at least `volume_ratio` times the mean of the `volume_bars` bars
//! before it. (The channel of the bar itself holds the bar, so the previous bar's is the level
//! broken.)
//!
//! Strength: how far the close lies beyond the broken line, in quarters of the channel's width
//! (a quarter or more counting 1). Confidence: 0.5, rising to 1 as the volume reaches twice
//! the required multiple.

use super::config::BreakoutConfig;
use super::{Detector, Inputs};
use crate::features::{FeatureEngine, WindowInput};
use crate::model::{Bar, Direction, SignalKind, SymbolId};
use std::collections::{HashMap, VecDeque};

/// What the breakout detector keeps of each symbol.
#[derive(Default)]
struct State {
    /// The previous bar's channel.
    channel: Option<(f64, f64)>,
    /// The volumes of the last `volume_bars` bars before the current.
    volumes: VecDeque<f64>,
}

/// The breakout detector.
pub struct Breakout {
    config: BreakoutConfig,
    upper: WindowInput,
    lower: WindowInput,
    symbols: HashMap<SymbolId, State>,
}

impl Breakout {
    /// The detector `config` describes, its features resolved by `inputs`.
    pub fn new(config: BreakoutConfig, inputs: &mut Inputs<'_>) -> Result<Self, String> {
        Ok(Breakout {
            upper: inputs.resolve("breakout.upper", &config.upper)?,
            lower: inputs.resolve("breakout.lower", &config.lower)?,
            config,
            symbols: HashMap::new(),
        })
    }
}

impl Detector for Breakout {
    fn kind(&self) -> SignalKind {
        SignalKind::Breakout
    }

    fn horizon_bars(&self) -> u32 {
        self.config.horizon_bars
    }

    fn on_bar(&mut self, bar: &Bar, f: &FeatureEngine) -> Option<(Direction, f64, f64)> {
        let c = &self.config;
        let s = self.symbols.entry(bar.symbol).or_default();
        let now = f
            .value_of(bar.symbol, self.upper)
            .zip(f.value_of(bar.symbol, self.lower));
        let before = std::mem::replace(&mut s.channel, now);
        let mean = (s.volumes.len() == c.volume_bars)
            .then(|| s.volumes.iter().sum::<f64>() / c.volume_bars as f64);
        s.volumes.push_back(bar.volume);
        if s.volumes.len() > c.volume_bars {
            s.volumes.pop_front();
        }
        let (upper, lower) = before?;
        let mean = mean.filter(|m| *m > 0.0)?;
        let ratio = bar.volume / mean;
        // A non-finite volume makes no signal.
        if !ratio.is_finite() || ratio < c.volume_ratio {
            return None;
        }
        let (direction, beyond) = if bar.close > upper {
            (Direction::Long, bar.close - upper)
        } else if bar.close < lower {
            (Direction::Short, lower - bar.close)
        } else {
            return None;
        };
        let width = upper - lower;
        let strength = if width > 0.0 {
            (beyond / (width / 4.0)).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let confidence = if c.volume_ratio > 0.0 {
            0.5 + 0.5 * ((ratio - c.volume_ratio) / c.volume_ratio).clamp(0.0, 1.0)
        } else {
            1.0
        };
        Some((direction, strength, confidence))
    }
}
