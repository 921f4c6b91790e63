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

use super::breakout::VolumeWindow;
use super::config::SqueezeConfig;
use super::{Detector, Inputs};
use crate::features::{FeatureEngine, WindowInput};
use crate::model::{Bar, Direction, SignalKind, SymbolId};
use std::collections::{HashMap, VecDeque};

/// What the detector keeps of each symbol.
struct State {
    /// The last `lookback` bandwidths, the newest last.
    widths: VecDeque<f64>,
    /// The previous bar's bands and whether they had contracted, with the bandwidth's rank.
    previous: Option<(f64, f64, Option<f64>)>,
    volumes: VolumeWindow,
}

/// The volatility-contraction breakout detector.
pub struct Squeeze {
    config: SqueezeConfig,
    upper: WindowInput,
    middle: WindowInput,
    lower: WindowInput,
    symbols: HashMap<SymbolId, State>,
}

impl Squeeze {
    /// The detector `config` describes, its features resolved by `inputs`.
    pub fn new(config: SqueezeConfig, inputs: &mut Inputs<'_>) -> Result<Self, String> {
        Ok(Squeeze {
            upper: inputs.resolve("squeeze.upper", &config.upper)?,
            middle: inputs.resolve("squeeze.middle", &config.middle)?,
            lower: inputs.resolve("squeeze.lower", &config.lower)?,
            config,
            symbols: HashMap::new(),
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

    fn on_bar(&mut self, bar: &Bar, f: &FeatureEngine) -> Option<(Direction, f64, f64)> {
        let c = &self.config;
        let s = self.symbols.entry(bar.symbol).or_insert_with(|| State {
            widths: VecDeque::with_capacity(c.lookback + 1),
            previous: None,
            volumes: VolumeWindow::new(c.volume_bars),
        });
        let mean_volume = s.volumes.push(bar.volume);
        let bands = (
            f.value_of(bar.symbol, self.upper),
            f.value_of(bar.symbol, self.middle),
            f.value_of(bar.symbol, self.lower),
        );
        let now = match bands {
            (Some(upper), Some(middle), Some(lower)) if middle > 0.0 && upper >= lower => {
                let width = (upper - lower) / middle;
                s.widths.push_back(width);
                if s.widths.len() > c.lookback {
                    s.widths.pop_front();
                }
                // The share of the lookback's other bandwidths below this one (0: the lowest).
                let rank = (s.widths.len() == c.lookback).then(|| {
                    s.widths.iter().filter(|w| **w < width).count() as f64 / (c.lookback - 1) as f64
                });
                let contracted = rank.filter(|r| *r <= c.quantile);
                Some((upper, lower, contracted))
            }
            _ => {
                s.widths.clear();
                None
            }
        };
        let before = std::mem::replace(&mut s.previous, now);
        let (upper, lower, contracted) = before?;
        let rank = contracted?;
        let ratio = bar.volume / mean_volume.filter(|m| *m > 0.0)?;
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
