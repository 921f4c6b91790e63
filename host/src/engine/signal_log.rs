//! The latest signals the engine passed on, for operators: what the strategies emitted on each
//! bar and what the signal optimizers made of them, in memory, the newest first.

use super::Engine;
use crate::market::MarketData;
use crate::model::{Direction, Signal, SignalKind, TimestampMs};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;

/// Signals kept.
pub const KEPT: usize = 1_000;

/// Where a signal was seen.
#[derive(utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalStage {
    /// As a strategy emitted it.
    Emitted,
    /// As the signal optimizers passed it to the strategies.
    Optimized,
}

/// One signal as operators read it.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize)]
pub struct SignalRecord {
    /// Where it was seen.
    pub stage: SignalStage,
    /// The symbol.
    #[schema(value_type = String)]
    pub symbol: Arc<str>,
    /// Event time it was made at.
    pub time_ms: TimestampMs,
    /// `long`, `short` or `neutral`.
    #[schema(value_type = String)]
    pub direction: Direction,
    /// 0..1, how strong the move is expected to be.
    pub strength: f64,
    /// 0..1, how sure the source is.
    pub confidence: f64,
    /// `trend`, `reversal`, `breakout` or `arbitrage`.
    #[schema(value_type = String)]
    pub kind: SignalKind,
    /// How long it is expected to hold, in milliseconds.
    pub horizon_ms: u64,
    /// Who made it.
    #[schema(value_type = String)]
    pub source: Arc<str>,
}

/// The latest signals.
#[derive(Debug, Default)]
pub struct SignalLog {
    records: VecDeque<SignalRecord>,
}

impl SignalLog {
    /// Records `signals` seen at `stage` (their names shared, not copied: this runs on every
    /// bar that has signals).
    pub fn record(&mut self, stage: SignalStage, signals: &[Signal], market: &MarketData) {
        for s in signals {
            if self.records.len() == KEPT {
                self.records.pop_back();
            }
            self.records.push_front(SignalRecord {
                stage,
                symbol: market.symbols().label(s.symbol),
                time_ms: s.time,
                direction: s.direction,
                strength: s.strength,
                confidence: s.confidence,
                kind: s.kind,
                horizon_ms: s.horizon_ms,
                source: s.source.clone(),
            });
        }
    }

    /// The newest `limit` records.
    pub fn latest(&self, limit: usize) -> Vec<SignalRecord> {
        self.records.iter().take(limit).cloned().collect()
    }
}

impl Engine {
    /// The newest `limit` signals the engine passed on.
    pub fn signals(&self, limit: usize) -> Vec<SignalRecord> {
        self.signal_log.latest(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_newest_first_and_at_most_its_size() {
        let mut market = MarketData::default();
        let btc = market.add_symbol("BTCUSDT");
        let mut log = SignalLog::default();
        let signal = |time| Signal {
            symbol: btc,
            time,
            direction: Direction::Long,
            strength: 0.5,
            confidence: 0.7,
            kind: SignalKind::Breakout,
            horizon_ms: 60_000,
            source: "donchian".into(),
        };
        let batch: Vec<Signal> = (0..KEPT as i64 + 10).map(signal).collect();
        log.record(SignalStage::Emitted, &batch, &market);
        log.record(SignalStage::Optimized, &[signal(5_000)], &market);
        let latest = log.latest(3);
        assert_eq!(latest[0].stage, SignalStage::Optimized);
        assert_eq!(&*latest[0].symbol, "BTCUSDT");
        assert_eq!(latest[1].time_ms, KEPT as i64 + 9);
        assert_eq!(log.latest(usize::MAX).len(), KEPT);
    }
}
