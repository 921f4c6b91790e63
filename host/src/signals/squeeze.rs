//! The volatility-contraction breakout detector (`[signals.squeeze]`): after a bar whose
//! Bollinger bandwidth (`(upper - lower) / middle`) lies in the lowest `quantile` of the last
//! `lookback` bars' (the bands have contracted), a close above that bar's upper band (long)
//! or below its lower band (short), on a volume at least `volume_ratio` times the mean of the
//! `volume_bars` bars before it. Volatility clusters: a quiet market that breaks out tends to
//! move further than a noisy one that pokes through its band.
//!
//! Strength: how far the close lies beyond the broken band, in half band widths (half a width
//! or more counting 1). Confidence: 0.5, up to 1 the lower the contracted bandwidth ranked
//! (the share of the lookback's other bandwidths below it: the lowest of the lookback counts 1). A bar missing a feature restarts the symbol's
//! bandwidth history.

use super::breakout::{VolumeWindow, beyond};
use super::config::SqueezeConfig;
use super::per_symbol::PerSymbol;
use super::{Detector, Inputs};
use crate::features::{FeatureEngine, WindowInput};
use crate::model::{Bar, Direction, SignalKind, SymbolId};
use std::collections::VecDeque;

/// What the detector keeps of each symbol.
struct State {
    /// The last `lookback` bandwidths up to the previous bar's, the newest last.
    widths: VecDeque<f64>,
    /// The previous bar's bands (upper, lower).
    previous: Option<(f64, f64)>,
    volumes: VolumeWindow,
}

impl State {
    /// The share of the lookback's other bandwidths below the newest (0: the lowest), once
    /// the lookback is full; ranked only when a bar breaks out (most do not).
    fn rank_of_newest(&self, lookback: usize) -> Option<f64> {
        let width = *self.widths.back()?;
        (self.widths.len() == lookback).then(|| {
            self.widths.iter().filter(|w| **w < width).count() as f64 / (lookback - 1) as f64
        })
    }
}

/// The volatility-contraction breakout detector.
pub struct Squeeze {
    config: SqueezeConfig,
    upper: WindowInput,
    middle: WindowInput,
    lower: WindowInput,
    symbols: PerSymbol<State>,
}

impl Squeeze {
    /// The detector `config` describes, its features resolved by `inputs`.
    pub fn new(config: SqueezeConfig, inputs: &mut Inputs<'_>) -> Result<Self, String> {
        Ok(Squeeze {
            upper: inputs.resolve("squeeze.upper", &config.upper)?,
            middle: inputs.resolve("squeeze.middle", &config.middle)?,
            lower: inputs.resolve("squeeze.lower", &config.lower)?,
            config,
            symbols: PerSymbol::default(),
        })
    }
}

impl Detector for Squeeze {
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
            super::prefetch::deque_ends(&s.widths);
        }
    }

    fn on_bar(&mut self, bar: &Bar, f: &FeatureEngine) -> Option<(Direction, f64, f64)> {
        let c = &self.config;
        let s = self.symbols.get_or_insert_with(bar.symbol, || State {
            widths: VecDeque::with_capacity(c.lookback + 1),
            previous: None,
            volumes: VolumeWindow::new(c.volume_bars),
        });
        s.volumes.push(bar.volume);
        let signal = s.previous.and_then(|(upper, lower)| {
            let (direction, beyond) = beyond(bar.close, upper, lower)?;
            s.volumes.ratio_at_least(c.volume_ratio)?;
            let rank = s.rank_of_newest(c.lookback).filter(|r| *r <= c.quantile)?;
            Some((upper, lower, direction, beyond, rank))
        });
        let bands = (
            f.value_of(bar.symbol, self.upper),
            f.value_of(bar.symbol, self.middle),
            f.value_of(bar.symbol, self.lower),
        );
        s.previous = match bands {
            (Some(upper), Some(middle), Some(lower)) if middle > 0.0 && upper >= lower => {
                s.widths.push_back((upper - lower) / middle);
                if s.widths.len() > c.lookback {
                    s.widths.pop_front();
                }
                Some((upper, lower))
            }
            _ => {
                s.widths.clear();
                None
            }
        };
        let (upper, lower, direction, beyond, rank) = signal?;
        let half = (upper - lower) / 2.0;
        let strength = if half > 0.0 {
            (beyond / half).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let confidence = if c.quantile > 0.0 {
            0.5 + 0.5 * (1.0 - rank / c.quantile).clamp(0.0, 1.0)
        } else {
            1.0
        };
        Some((direction, strength, confidence))
    }
}
