//! The breakout detector: the close above the previous bar's channel top (long) or below its
//! bottom (short) on a volume at least `volume_ratio` times the mean of the `volume_bars` bars
//! before it. (The channel of the bar itself holds the bar, so the previous bar's is the level
//! broken.)
//!
//! Strength: how far the close lies beyond the broken line, in quarters of the channel's width
//! (a quarter or more counting 1). Confidence: 0.5, rising to 1 as the volume reaches twice
//! the required multiple.

use super::config::BreakoutConfig;
use super::per_symbol::PerSymbol;
use super::{Detector, Inputs};
use crate::features::{FeatureEngine, WindowInput};
use crate::model::{Bar, Direction, SignalKind, SymbolId};
use std::collections::VecDeque;

/// The volumes of the latest bar and the `bars` before it, for the mean the latest is set
/// against (summed only when a bar asks: most bars break nothing).
pub(super) struct VolumeWindow {
    bars: usize,
    volumes: VecDeque<f64>,
}

impl VolumeWindow {
    /// A window of `bars` bars (at least 1) before the latest.
    pub(super) fn new(bars: usize) -> Self {
        VolumeWindow {
            bars,
            volumes: VecDeque::with_capacity(bars + 2),
        }
    }

    /// Requests the lines its next bar touches (see [`super::prefetch`]).
    pub(super) fn prefetch(&self) {
        super::prefetch::deque_ends(&self.volumes);
    }

    /// Takes in a bar's volume.
    pub(super) fn push(&mut self, volume: f64) {
        self.volumes.push_back(volume);
        if self.volumes.len() > self.bars + 1 {
            self.volumes.pop_front();
        }
    }

    /// The mean volume of the `bars` bars before the latest, once there are as many.
    fn mean_before(&self) -> Option<f64> {
        (self.volumes.len() == self.bars + 1)
            .then(|| self.volumes.iter().take(self.bars).sum::<f64>() / self.bars as f64)
    }

    /// The latest volume over the mean before it, when that is at least `min` (a zero mean or
    /// a non-finite volume makes none).
    pub(super) fn ratio_at_least(&self, min: f64) -> Option<f64> {
        let latest = *self.volumes.back()?;
        let ratio = latest / self.mean_before().filter(|m| *m > 0.0)?;
        (ratio.is_finite() && ratio >= min).then_some(ratio)
    }
}

/// The direction of a close beyond a channel from `lower` to `upper`, and by how much.
pub(super) fn beyond(close: f64, upper: f64, lower: f64) -> Option<(Direction, f64)> {
    if close > upper {
        Some((Direction::Long, close - upper))
    } else if close < lower {
        Some((Direction::Short, lower - close))
    } else {
        None
    }
}

/// What the breakout detector keeps of each symbol.
struct State {
    /// The previous bar's channel.
    channel: Option<(f64, f64)>,
    volumes: VolumeWindow,
}

/// The breakout detector.
pub struct Breakout {
    config: BreakoutConfig,
    upper: WindowInput,
    lower: WindowInput,
    symbols: PerSymbol<State>,
}

impl Breakout {
    /// The detector `config` describes, its features resolved by `inputs`.
    pub fn new(config: BreakoutConfig, inputs: &mut Inputs<'_>) -> Result<Self, String> {
        Ok(Breakout {
            upper: inputs.resolve("breakout.upper", &config.upper)?,
            lower: inputs.resolve("breakout.lower", &config.lower)?,
            config,
            symbols: PerSymbol::default(),
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

    fn prefetch(&self, symbol: SymbolId) {
        self.symbols.prefetch(symbol);
    }

    fn prefetch_heap(&self, symbol: SymbolId) {
        if let Some(s) = self.symbols.get(symbol) {
            s.volumes.prefetch();
        }
    }

    fn on_bar(&mut self, bar: &Bar, f: &FeatureEngine) -> Option<(Direction, f64, f64)> {
        let c = &self.config;
        let s = self.symbols.get_or_insert_with(bar.symbol, || State {
            channel: None,
            volumes: VolumeWindow::new(c.volume_bars),
        });
        let now = f
            .value_of(bar.symbol, self.upper)
            .zip(f.value_of(bar.symbol, self.lower));
        let before = std::mem::replace(&mut s.channel, now);
        s.volumes.push(bar.volume);
        let (upper, lower) = before?;
        let (direction, beyond) = beyond(bar.close, upper, lower)?;
        let ratio = s.volumes.ratio_at_least(c.volume_ratio)?;
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
