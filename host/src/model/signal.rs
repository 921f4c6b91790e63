//! Trading signals as the host passes them between strategies and optimizers.

use super::{SymbolId, TimestampMs};
use std::sync::Arc;

/// The direction a signal points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Expect the price to rise.
    Long,
    /// Expect the price to fall.
    Short,
    /// No view.
    Neutral,
}

/// What kind of move a signal expects.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SignalKind {
    /// A trend continuing.
    Trend,
    /// A move reverting.
    Reversal,
    /// A range breaking.
    Breakout,
    /// A mispricing between instruments.
    Arbitrage,
}

impl Direction {
    /// Its name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Long => "long",
            Direction::Short => "short",
            Direction::Neutral => "neutral",
        }
    }
}

impl SignalKind {
    /// Every kind.
    pub const ALL: [SignalKind; 4] = [
        SignalKind::Trend,
        SignalKind::Reversal,
        SignalKind::Breakout,
        SignalKind::Arbitrage,
    ];

    /// Its name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Trend => "trend",
            SignalKind::Reversal => "reversal",
            SignalKind::Breakout => "breakout",
            SignalKind::Arbitrage => "arbitrage",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One signal.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Signal {
    /// The instrument.
    pub symbol: SymbolId,
    /// Event time it was made at.
    pub time: TimestampMs,
    /// Where it points.
    pub direction: Direction,
    /// 0..1, how strong the move is expected to be.
    pub strength: f64,
    /// 0..1, how sure the source is.
    pub confidence: f64,
    /// What kind of move.
    pub kind: SignalKind,
    /// How long it is expected to hold.
    pub horizon_ms: u64,
    /// Who made it: a detector, a model or a deployment's name.
    pub source: Arc<str>,
}
