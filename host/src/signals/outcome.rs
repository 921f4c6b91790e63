//! What became of each signal: from the close it was made at, the bars of its symbol that
//! follow are watched until its horizon has passed; then its outcome is the return in its
//! direction at the first close at or after the horizon, whether that return was positive (a
//! hit), the largest adverse and favourable excursions on the way (from the bars' lows and
//! highs), and the return at each quarter of the horizon ([`CHECKPOINTS`]), which shows how
//! the edge builds or decays.
//!
//! Only bars that open at or after the signal's time count (a bar already under way when the
//! signal was made holds prices from before it), so nothing the signal could have seen is
//! scored. Neutral signals predict no direction and are not tracked; a signal whose symbol has
//! no price yet, or whose horizon is beyond [`MAX_HORIZON_MS`], is counted as untracked.

use crate::model::{Bar, Direction, Signal, SignalKind, SymbolId, TimestampMs};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Fractions of the horizon at which a signal's return is sampled; the last is its outcome.
pub const CHECKPOINTS: [f64; 4] = [0.25, 0.5, 0.75, 1.0];

/// Longest horizon tracked: 90 days.
pub const MAX_HORIZON_MS: u64 = 90 * 86_400_000;

/// Most signals waiting for their outcome at once; past it the oldest is dropped (untracked).
pub const MAX_PENDING: usize = 200_000;

/// One signal with what became of it.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// Who made it.
    #[schema(value_type = String)]
    pub source: Arc<str>,
    /// `trend`, `reversal`, `breakout` or `arbitrage`.
    #[schema(value_type = String)]
    pub kind: SignalKind,
    /// The symbol.
    #[schema(value_type = String)]
    pub symbol: Arc<str>,
    /// When it was made.
    pub time_ms: TimestampMs,
    /// `long` or `short`.
    #[schema(value_type = String)]
    pub direction: Direction,
    /// 0..1, as made.
    pub strength: f64,
    /// 0..1, as made.
    pub confidence: f64,
    /// How long it was expected to hold, in ms.
    pub horizon_ms: u64,
    /// The symbol's last close when it was made.
    pub entry_price: f64,
    /// The close its outcome was read at.
    pub exit_price: f64,
    /// When that bar closed.
    pub exit_time_ms: TimestampMs,
    /// Return in its direction at the horizon (`exit / entry - 1`, negated for a short).
    pub realized_return: f64,
    /// Whether that return was positive.
    pub hit: bool,
    /// Largest move against it on the way, as a positive fraction of the entry.
    pub max_adverse: f64,
    /// Largest move in its favour on the way, as a positive fraction of the entry.
    pub max_favourable: f64,
    /// Return in its direction at each of [`CHECKPOINTS`] of the horizon.
    pub path: [f64; 4],
    /// Each signal optimizer's score of it (0..1), by deployment.
    #[schema(value_type = Vec<(String, f64)>)]
    pub scores: Vec<(Arc<str>, f64)>,
}

struct Pending {
    signal: Signal,
    symbol: Arc<str>,
    entry: f64,
    favourable: f64,
    adverse: f64,
    path: [f64; 4],
    reached: usize,
    scores: Vec<(Arc<str>, f64)>,
    /// Order of arrival, to drop the oldest when full.
    seq: u64,
}

impl Pending {
    fn sign(&self) -> f64 {
        if self.signal.direction == Direction::Short {
            -1.0
        } else {
            1.0
        }
    }

    fn ret(&self, price: f64) -> f64 {
        self.sign() * (price / self.entry - 1.0)
    }

    /// Takes `bar` into account; the outcome once its horizon has passed.
    fn on_bar(&mut self, bar: &Bar) -> Option<Outcome> {
        if bar.open_time < self.signal.time {
            return None;
        }
        let (high, low, close) = (bar.high, bar.low, bar.close);
        let (best, worst) = if self.sign() > 0.0 {
            (self.ret(high), self.ret(low))
        } else {
            (self.ret(low), self.ret(high))
        };
        self.favourable = self.favourable.max(best);
        self.adverse = self.adverse.min(worst);
        let elapsed = (bar.close_time() - self.signal.time) as f64;
        while self.reached < CHECKPOINTS.len()
            && elapsed >= CHECKPOINTS[self.reached] * self.signal.horizon_ms as f64
        {
            self.path[self.reached] = self.ret(close);
            self.reached += 1;
        }
        if self.reached < CHECKPOINTS.len() {
            return None;
        }
        let realized_return = self.ret(close);
        Some(Outcome {
            source: self.signal.source.clone(),
            kind: self.signal.kind,
            symbol: self.symbol.clone(),
            time_ms: self.signal.time,
            direction: self.signal.direction,
            strength: self.signal.strength,
            confidence: self.signal.confidence,
            horizon_ms: self.signal.horizon_ms,
            entry_price: self.entry,
            exit_price: close,
            exit_time_ms: bar.close_time(),
            realized_return,
            hit: realized_return > 0.0,
            max_adverse: -self.adverse,
            max_favourable: self.favourable,
            path: self.path,
            scores: std::mem::take(&mut self.scores),
        })
    }
}

/// The signals waiting for their outcome.
#[derive(Default)]
pub struct OutcomeTracker {
    pending: HashMap<SymbolId, VecDeque<Pending>>,
    count: usize,
    seq: u64,
    untracked: u64,
}

impl OutcomeTracker {
    /// Watches `signal`, made when its symbol (named `symbol`) last closed at `entry`, with the
    /// optimizers' `scores` of it; false when it cannot be tracked (neutral, no price, a
    /// horizon too long).
    pub fn track(
        &mut self,
        signal: &Signal,
        symbol: Arc<str>,
        entry: Option<f64>,
        scores: Vec<(Arc<str>, f64)>,
    ) -> bool {
        let entry = entry.filter(|p| p.is_finite() && *p > 0.0);
        let Some(entry) = entry else {
            self.untracked += 1;
            return false;
        };
        if signal.direction == Direction::Neutral {
            return false;
        }
        if signal.horizon_ms > MAX_HORIZON_MS {
            self.untracked += 1;
            return false;
        }
        if self.count == MAX_PENDING {
            self.drop_oldest();
        }
        self.seq += 1;
        self.pending
            .entry(signal.symbol)
            .or_default()
            .push_back(Pending {
                signal: signal.clone(),
                symbol,
                entry,
                favourable: 0.0,
                adverse: 0.0,
                path: [0.0; 4],
                reached: 0,
                scores,
                seq: self.seq,
            });
        self.count += 1;
        true
    }

    fn drop_oldest(&mut self) {
        let oldest = self
            .pending
            .iter()
            .filter_map(|(symbol, list)| list.front().map(|p| (p.seq, *symbol)))
            .min();
        if let Some((_, symbol)) = oldest
            && let Some(list) = self.pending.get_mut(&symbol)
        {
            list.pop_front();
            self.count -= 1;
            self.untracked += 1;
        }
    }

    /// Takes a closed bar into account; the outcomes it completes, oldest signal first.
    pub fn on_bar(&mut self, bar: &Bar) -> Vec<Outcome> {
        let Some(list) = self.pending.get_mut(&bar.symbol) else {
            return Vec::new();
        };
        let mut done = Vec::new();
        list.retain_mut(|p| match p.on_bar(bar) {
            Some(outcome) => {
                done.push(outcome);
                false
            }
            None => true,
        });
        self.count -= done.len();
        done
    }

    /// Signals waiting for their outcome.
    pub fn pending(&self) -> usize {
        self.count
    }

    /// Signals that could not be tracked (no price, too long a horizon, dropped when full).
    pub fn untracked(&self) -> u64 {
        self.untracked
    }

    /// When `symbol`'s oldest waiting signal was made, for tests and status.
    pub fn oldest(&self, symbol: SymbolId) -> Option<TimestampMs> {
        self.pending.get(&symbol)?.front().map(|p| p.signal.time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn bar(open_time: i64, high: f64, low: f64, close: f64) -> Bar {
        Bar {
            symbol: 0,
            open_time,
            interval_ms: 60_000,
            open: close,
            high,
            low,
            close,
            volume: 1.0,
        }
    }

    fn signal(direction: Direction, horizon_ms: u64) -> Signal {
        Signal {
            symbol: 0,
            time: 60_000,
            direction,
            strength: 0.8,
            confidence: 0.6,
            kind: SignalKind::Breakout,
            horizon_ms,
            source: "host:breakout".into(),
        }
    }

    #[test]
    fn a_long_is_scored_at_its_horizon_with_its_excursions_and_path() {
        let mut t = OutcomeTracker::default();
        assert!(t.track(
            &signal(Direction::Long, 240_000),
            "BTCUSDT".into(),
            Some(100.0),
            vec![("opt".into(), 0.9)]
        ));
        // A bar already under way when the signal was made does not count.
        assert!(t.on_bar(&bar(0, 200.0, 1.0, 150.0)).is_empty());
        assert!(t.on_bar(&bar(60_000, 103.0, 97.0, 101.0)).is_empty());
        assert!(t.on_bar(&bar(120_000, 104.0, 99.0, 102.0)).is_empty());
        assert!(t.on_bar(&bar(180_000, 102.0, 95.0, 96.0)).is_empty());
        let done = t.on_bar(&bar(240_000, 99.0, 96.0, 98.0));
        assert_eq!(done.len(), 1);
        let o = &done[0];
        assert!((o.realized_return - -0.02).abs() < 1e-12);
        assert!(!o.hit);
        assert!((o.max_favourable - 0.04).abs() < 1e-12);
        assert!((o.max_adverse - 0.05).abs() < 1e-12);
        let expected = [0.01, 0.02, -0.04, -0.02];
        for (got, want) in o.path.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{:?}", o.path);
        }
        assert_eq!(o.exit_time_ms, 300_000);
        assert_eq!(o.scores[0].1, 0.9);
        assert_eq!(t.pending(), 0);
    }

    #[test]
    fn a_short_gains_when_the_price_falls() {
        let mut t = OutcomeTracker::default();
        t.track(
            &signal(Direction::Short, 60_000),
            "BTCUSDT".into(),
            Some(100.0),
            Vec::new(),
        );
        let o = &t.on_bar(&bar(60_000, 101.0, 90.0, 95.0))[0];
        assert!((o.realized_return - 0.05).abs() < 1e-12);
        assert!(o.hit);
        assert!((o.max_favourable - 0.10).abs() < 1e-12);
        assert!((o.max_adverse - 0.01).abs() < 1e-12);
    }

    #[test]
    fn untrackable_signals_are_counted_and_the_oldest_goes_when_full() {
        let mut t = OutcomeTracker::default();
        assert!(!t.track(
            &signal(Direction::Neutral, 60_000),
            "X".into(),
            Some(1.0),
            vec![]
        ));
        assert!(!t.track(&signal(Direction::Long, 60_000), "X".into(), None, vec![]));
        assert!(!t.track(
            &signal(Direction::Long, MAX_HORIZON_MS + 1),
            "X".into(),
            Some(1.0),
            vec![]
        ));
        assert_eq!(t.untracked(), 2);
        for i in 0..MAX_PENDING + 1 {
            let mut s = signal(Direction::Long, 60_000);
            s.time = i as i64;
            t.track(&s, "X".into(), Some(1.0), vec![]);
        }
        assert_eq!(t.pending(), MAX_PENDING);
        assert_eq!(t.oldest(0), Some(1));
        assert_eq!(t.untracked(), 3);
    }
}
