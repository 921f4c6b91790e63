//! What became of each signal: from its entry price, the bars of its symbol that follow are
//! watched until its horizon has passed; then its outcome is the return in its direction at
//! the first close at or after the horizon, whether that return was positive (a hit), the
//! largest adverse and favourable excursions on the way (from the bars' lows and highs), and
//! the return at each quarter of the horizon ([`CHECKPOINTS`]), which shows how the edge
//! builds or decays.
//!
//! The entry is the close of the symbol's bar that closed when the signal was made (a signal at
//! a bar's close), else the open of the symbol's first bar opening at or after it (a signal on
//! another symbol, or one made between bars: the first price it could have traded at). Only
//! bars that open at or after the signal's time count, so nothing from before it is scored.
//! Neutral signals predict no direction and are not followed. Untracked (counted): a horizon
//! beyond [`MAX_HORIZON_MS`], a source with [`MAX_PENDING_PER_SOURCE`] signals waiting, the
//! oldest when [`MAX_PENDING`] wait, and one still waiting a day after its horizon (its symbol
//! stopped trading; a bar closing that late reads no outcome). Bars with a non-finite or
//! non-positive price are skipped.
//!
//! A waiting signal can be written out as a [`PendingRecord`] (its symbol by name, its
//! progress so far) and taken back in by [`OutcomeTracker::restore`], so that a restart follows
//! it on: each has an id, unique among the waiting, that names its stored row. A restored
//! signal goes on only if the first new bar of its symbol is the one right after the last it
//! took in (the bars between would be missing from its excursions and path); else it is
//! dropped, untracked. Bars it has already taken in are passed over.

use crate::model::{Bar, Direction, Signal, SignalKind, SymbolId, TimestampMs};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Fractions of the horizon at which a signal's return is sampled; the last is its outcome.
pub const CHECKPOINTS: [f64; 4] = [0.25, 0.5, 0.75, 1.0];

/// Longest horizon tracked: 90 days.
pub const MAX_HORIZON_MS: u64 = 90 * 86_400_000;

/// Most signals waiting for their outcome at once; past it the oldest is dropped (untracked).
pub const MAX_PENDING: usize = 200_000;

/// Most signals of one source waiting at once; its further signals are untracked, so a source
/// that floods the path cannot push the others' out.
pub const MAX_PENDING_PER_SOURCE: usize = 50_000;

/// How long after its horizon a signal may still wait for a bar of its symbol.
const GRACE_MS: i64 = 86_400_000;

/// Bars between sweeps for signals whose symbol stopped trading.
const SWEEP_EVERY: u64 = 4_096;

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

/// Where a symbol's restored signals go on from (see [`OutcomeTracker::resume_points`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumePoint {
    /// The symbol.
    pub symbol: SymbolId,
    /// Open time of the first bar they need.
    pub from: TimestampMs,
    /// When the last of their horizons has passed: the bar closing then or after ends them.
    pub due: TimestampMs,
}

/// A waiting signal as it is stored: the signal, its symbol by name, and its progress.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingRecord {
    /// Its id among the waiting (order of arrival).
    pub id: u64,
    /// Who made it.
    pub source: Arc<str>,
    /// What kind of move it expects.
    pub kind: SignalKind,
    /// Its symbol's name.
    pub symbol: Arc<str>,
    /// When it was made.
    pub time_ms: TimestampMs,
    /// `long` or `short`.
    pub direction: Direction,
    /// 0..1, as made.
    pub strength: f64,
    /// 0..1, as made.
    pub confidence: f64,
    /// How long it is expected to hold, in ms.
    pub horizon_ms: u64,
    /// Its entry price, once known.
    pub entry: Option<f64>,
    /// Best return in its direction so far (from the bars' highs and lows).
    pub favourable: f64,
    /// Worst return in its direction so far.
    pub adverse: f64,
    /// Returns at the [`CHECKPOINTS`] reached so far.
    pub path: [f64; 4],
    /// How many checkpoints it has reached.
    pub reached: usize,
    /// Close time of the last bar of its symbol it took in (its symbol's latest close when it
    /// was made, else its own time).
    pub seen_to_ms: TimestampMs,
    /// The optimizers' scores of it.
    pub scores: Vec<(Arc<str>, f64)>,
}

struct Pending {
    signal: Signal,
    symbol: Arc<str>,
    /// Known at once for a signal at its symbol's bar close, else from the first bar's open.
    entry: Option<f64>,
    favourable: f64,
    adverse: f64,
    path: [f64; 4],
    reached: usize,
    scores: Vec<(Arc<str>, f64)>,
    /// Order of arrival (drops the oldest when full), and the id of its stored row.
    id: u64,
    /// Close time of the last bar of its symbol taken in.
    seen_to: TimestampMs,
    /// Restored: the open time the next bar of its symbol must have to go on.
    resume_at: Option<TimestampMs>,
}

impl Pending {
    fn sign(&self) -> f64 {
        if self.signal.direction == Direction::Short {
            -1.0
        } else {
            1.0
        }
    }

    fn ret(&self, entry: f64, price: f64) -> f64 {
        self.sign() * (price / entry - 1.0)
    }

    fn record(&self) -> PendingRecord {
        let s = &self.signal;
        PendingRecord {
            id: self.id,
            source: s.source.clone(),
            kind: s.kind,
            symbol: self.symbol.clone(),
            time_ms: s.time,
            direction: s.direction,
            strength: s.strength,
            confidence: s.confidence,
            horizon_ms: s.horizon_ms,
            entry: self.entry,
            favourable: self.favourable,
            adverse: self.adverse,
            path: self.path,
            reached: self.reached,
            seen_to_ms: self.seen_to,
            scores: self.scores.clone(),
        }
    }

    /// Whether `now` is more than [`GRACE_MS`] past its horizon: too late to read it.
    fn expired_at(&self, now: TimestampMs) -> bool {
        let due = self
            .signal
            .time
            .saturating_add(self.signal.horizon_ms as i64);
        now > due.saturating_add(GRACE_MS)
    }

    /// Takes `bar` (its prices finite and positive) into account; the outcome once its horizon
    /// has passed.
    fn on_bar(&mut self, bar: &Bar) -> Option<Outcome> {
        self.seen_to = bar.close_time();
        if bar.open_time < self.signal.time {
            return None;
        }
        let entry = *self.entry.get_or_insert(bar.open);
        let (high, low, close) = (bar.high, bar.low, bar.close);
        let (best, worst) = if self.sign() > 0.0 {
            (self.ret(entry, high), self.ret(entry, low))
        } else {
            (self.ret(entry, low), self.ret(entry, high))
        };
        self.favourable = self.favourable.max(best);
        self.adverse = self.adverse.min(worst);
        let elapsed = (bar.close_time() - self.signal.time) as f64;
        while self.reached < CHECKPOINTS.len()
            && elapsed >= CHECKPOINTS[self.reached] * self.signal.horizon_ms as f64
        {
            self.path[self.reached] = self.ret(entry, close);
            self.reached += 1;
        }
        if self.reached < CHECKPOINTS.len() {
            return None;
        }
        let realized_return = self.ret(entry, close);
        Some(Outcome {
            source: self.signal.source.clone(),
            kind: self.signal.kind,
            symbol: self.symbol.clone(),
            time_ms: self.signal.time,
            direction: self.signal.direction,
            strength: self.signal.strength,
            confidence: self.signal.confidence,
            horizon_ms: self.signal.horizon_ms,
            entry_price: entry,
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
    per_source: HashMap<Arc<str>, usize>,
    count: usize,
    seq: u64,
    bars: u64,
    untracked: u64,
    /// Ids of signals dropped while waiting, not yet taken by [`OutcomeTracker::take_dropped`].
    dropped: Vec<u64>,
}

impl OutcomeTracker {
    /// Follows `signal` (its symbol named `symbol`), with the optimizers' `scores` of it;
    /// `last_close` is its symbol's latest bar as (close time, close), if any. Its record
    /// as made, or `None` when it is not followed (neutral, or untracked: see the module).
    pub fn track(
        &mut self,
        signal: &Signal,
        symbol: Arc<str>,
        last_close: Option<(TimestampMs, f64)>,
        scores: Vec<(Arc<str>, f64)>,
    ) -> Option<PendingRecord> {
        if signal.direction == Direction::Neutral {
            return None;
        }
        let entry = last_close
            .filter(|(time, close)| *time == signal.time && close.is_finite() && *close > 0.0)
            .map(|(_, close)| close);
        let seen_to = last_close.map_or(signal.time, |(time, _)| time);
        self.seq += 1;
        let pending = Pending {
            signal: signal.clone(),
            symbol,
            entry,
            favourable: 0.0,
            adverse: 0.0,
            path: [0.0; 4],
            reached: 0,
            scores,
            id: self.seq,
            seen_to,
            resume_at: None,
        };
        let record = pending.record();
        self.admit(pending).then_some(record)
    }

    /// Takes `pending` in, within the bounds (see the module); false when it is untracked.
    fn admit(&mut self, pending: Pending) -> bool {
        let signal = &pending.signal;
        let waiting = self.per_source.get(&signal.source).copied().unwrap_or(0);
        if signal.horizon_ms > MAX_HORIZON_MS || waiting >= MAX_PENDING_PER_SOURCE {
            self.untracked += 1;
            return false;
        }
        if self.count == MAX_PENDING {
            self.drop_oldest();
        }
        *self.per_source.entry(signal.source.clone()).or_default() += 1;
        self.pending
            .entry(signal.symbol)
            .or_default()
            .push_back(pending);
        self.count += 1;
        true
    }

    /// Takes stored waiting signals back in (a restart), oldest id first, each symbol's id
    /// from `symbol_id`; new ids go on after `used_ids` (the largest id stored, readable or
    /// not) and the records'. The ids of those the bounds refuse are among
    /// [`OutcomeTracker::take_dropped`]'s.
    pub fn restore(
        &mut self,
        mut records: Vec<PendingRecord>,
        used_ids: u64,
        mut symbol_id: impl FnMut(&str) -> SymbolId,
    ) {
        self.seq = self.seq.max(used_ids);
        records.sort_by_key(|r| r.id);
        for r in records {
            self.seq = self.seq.max(r.id);
            let pending = Pending {
                signal: Signal {
                    symbol: symbol_id(&r.symbol),
                    time: r.time_ms,
                    direction: r.direction,
                    strength: r.strength,
                    confidence: r.confidence,
                    kind: r.kind,
                    horizon_ms: r.horizon_ms,
                    source: r.source,
                },
                symbol: r.symbol,
                entry: r.entry,
                favourable: r.favourable,
                adverse: r.adverse,
                path: r.path,
                reached: r.reached,
                scores: r.scores,
                id: r.id,
                seen_to: r.seen_to_ms,
                resume_at: Some(r.seen_to_ms),
            };
            let direction_known = pending.signal.direction != Direction::Neutral;
            if !(direction_known && self.admit(pending)) {
                self.dropped.push(r.id);
            }
        }
    }

    /// Each symbol whose restored signals wait to go on: the open time of the first bar they
    /// need (the earliest `seen_to` among them) and the time by which the last of their
    /// horizons has passed. The bars missed while the service was down lie between.
    pub fn resume_points(&self) -> Vec<ResumePoint> {
        self.pending
            .iter()
            .filter_map(|(symbol, list)| {
                let restored = || list.iter().filter(|p| p.resume_at.is_some());
                Some(ResumePoint {
                    symbol: *symbol,
                    from: restored().map(|p| p.seen_to).min()?,
                    due: restored()
                        .map(|p| p.signal.time.saturating_add(p.signal.horizon_ms as i64))
                        .max()?,
                })
            })
            .collect()
    }

    /// Every waiting signal's record with its progress, by id.
    pub fn records(&self) -> Vec<PendingRecord> {
        let mut out: Vec<PendingRecord> = self
            .pending
            .values()
            .flatten()
            .map(Pending::record)
            .collect();
        out.sort_by_key(|r| r.id);
        out
    }

    /// The ids of the signals dropped while waiting since the last call (see the module).
    pub fn take_dropped(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.dropped)
    }

    /// Counts a signal of `source` as no longer waiting.
    fn release(&mut self, source: &str) {
        self.count -= 1;
        if let Some(n) = self.per_source.get_mut(source) {
            *n -= 1;
            if *n == 0 {
                self.per_source.remove(source);
            }
        }
    }

    fn drop_oldest(&mut self) {
        let oldest = self
            .pending
            .iter()
            .filter_map(|(symbol, list)| list.front().map(|p| (p.id, *symbol)))
            .min();
        if let Some((_, symbol)) = oldest
            && let Some(p) = self.pending.get_mut(&symbol).and_then(VecDeque::pop_front)
        {
            self.untrack(vec![(p.signal.source, p.id)]);
        }
    }

    /// Counts the `(source, id)` signals, taken out while waiting, as untracked and dropped.
    fn untrack(&mut self, gone: Vec<(Arc<str>, u64)>) {
        for (source, id) in gone {
            self.release(&source);
            self.dropped.push(id);
            self.untracked += 1;
        }
    }

    /// Drops the signals still waiting a day after their horizon at `now`.
    fn sweep(&mut self, now: TimestampMs) {
        let mut gone = Vec::new();
        for list in self.pending.values_mut() {
            list.retain(|p| {
                let expired = p.expired_at(now);
                if expired {
                    gone.push((p.signal.source.clone(), p.id));
                }
                !expired
            });
        }
        self.untrack(gone);
        self.pending.retain(|_, list| !list.is_empty());
    }

    /// Takes a closed bar into account; the outcomes it completes with their signals' ids,
    /// oldest signal first.
    pub fn on_bar(&mut self, bar: &Bar) -> Vec<(u64, Outcome)> {
        self.bars += 1;
        if self.bars.is_multiple_of(SWEEP_EVERY) {
            self.sweep(bar.close_time());
        }
        let priced = [bar.open, bar.high, bar.low, bar.close]
            .iter()
            .all(|p| p.is_finite() && *p > 0.0);
        if !priced {
            return Vec::new();
        }
        let Some(list) = self.pending.get_mut(&bar.symbol) else {
            return Vec::new();
        };
        let mut done = Vec::new();
        let mut finished = Vec::new();
        let mut gone = Vec::new();
        list.retain_mut(|p| {
            if let Some(at) = p.resume_at {
                if bar.close_time() <= p.seen_to {
                    // Taken in before the restart.
                    return true;
                }
                p.resume_at = None;
                if bar.open_time != at {
                    gone.push((p.signal.source.clone(), p.id));
                    return false;
                }
            }
            if p.expired_at(bar.close_time()) {
                gone.push((p.signal.source.clone(), p.id));
                return false;
            }
            match p.on_bar(bar) {
                Some(outcome) => {
                    done.push((p.id, outcome));
                    finished.push(p.signal.source.clone());
                    false
                }
                None => true,
            }
        });
        for source in finished {
            self.release(&source);
        }
        self.untrack(gone);
        done
    }

    /// Signals waiting for their outcome.
    pub fn pending(&self) -> usize {
        self.count
    }

    /// Signals that could not be followed (see the module).
    pub fn untracked(&self) -> u64 {
        self.untracked
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
        assert!(
            t.track(
                &signal(Direction::Long, 240_000),
                "BTCUSDT".into(),
                Some((60_000, 100.0)),
                vec![("opt".into(), 0.9)]
            )
            .is_some()
        );
        // A bar already under way when the signal was made does not count.
        assert!(t.on_bar(&bar(0, 200.0, 1.0, 150.0)).is_empty());
        assert!(t.on_bar(&bar(60_000, 103.0, 97.0, 101.0)).is_empty());
        assert!(t.on_bar(&bar(120_000, 104.0, 99.0, 102.0)).is_empty());
        assert!(t.on_bar(&bar(180_000, 102.0, 95.0, 96.0)).is_empty());
        let done = t.on_bar(&bar(240_000, 99.0, 96.0, 98.0));
        assert_eq!(done.len(), 1);
        let o = &done[0].1;
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
            Some((60_000, 100.0)),
            Vec::new(),
        );
        let o = &t.on_bar(&bar(60_000, 101.0, 90.0, 95.0))[0].1;
        assert!((o.realized_return - 0.05).abs() < 1e-12);
        assert!(o.hit);
        assert!((o.max_favourable - 0.10).abs() < 1e-12);
        assert!((o.max_adverse - 0.01).abs() < 1e-12);
    }

    #[test]
    fn a_signal_between_bars_enters_at_the_next_open() {
        let mut t = OutcomeTracker::default();
        // The symbol's last bar closed before the signal (made on another symbol's bar).
        t.track(
            &signal(Direction::Long, 60_000),
            "ETHUSDT".into(),
            Some((30_000, 90.0)),
            Vec::new(),
        );
        let mut b = bar(60_000, 103.0, 99.0, 102.0);
        b.open = 100.0;
        let o = &t.on_bar(&b)[0].1;
        assert_eq!(o.entry_price, 100.0);
        assert!((o.realized_return - 0.02).abs() < 1e-12);
        // A bar with a broken price is skipped.
        t.track(
            &signal(Direction::Long, 60_000),
            "ETHUSDT".into(),
            None,
            Vec::new(),
        );
        assert!(t.on_bar(&bar(60_000, f64::NAN, 99.0, 102.0)).is_empty());
        assert_eq!(t.pending(), 1);
    }

    #[test]
    fn untrackable_signals_are_counted_and_floods_are_bounded() {
        let mut t = OutcomeTracker::default();
        assert!(
            t.track(
                &signal(Direction::Neutral, 60_000),
                "X".into(),
                None,
                vec![]
            )
            .is_none()
        );
        assert!(
            t.track(
                &signal(Direction::Long, MAX_HORIZON_MS + 1),
                "X".into(),
                Some((60_000, 1.0)),
                vec![]
            )
            .is_none()
        );
        assert_eq!(
            t.untracked(),
            1,
            "a neutral signal is not followed, not untracked"
        );
        // One source past its share: its own further signals go untracked.
        for _ in 0..MAX_PENDING_PER_SOURCE + 3 {
            t.track(&signal(Direction::Long, 60_000), "X".into(), None, vec![]);
        }
        assert_eq!(t.pending(), MAX_PENDING_PER_SOURCE);
        assert_eq!(t.untracked(), 4);
        // Many sources past the global bound: the oldest go.
        for i in 0..MAX_PENDING {
            let mut s = signal(Direction::Long, 60_000);
            s.source = format!("s{}", i % 7).into();
            t.track(&s, "X".into(), None, vec![]);
        }
        assert_eq!(t.pending(), MAX_PENDING);
        assert_eq!(t.untracked(), 4 + MAX_PENDING_PER_SOURCE as u64);
        // A day after their horizon with no bar of their symbol, the rest are swept.
        let mut other = bar(0, 1.0, 1.0, 1.0);
        other.symbol = 1;
        other.open_time = 3 * 86_400_000;
        for _ in 0..SWEEP_EVERY {
            t.on_bar(&other);
        }
        assert_eq!(t.pending(), 0);
    }

    #[test]
    fn a_signal_written_out_and_taken_back_in_ends_as_if_never_interrupted() {
        let bars = [
            bar(60_000, 103.0, 97.0, 101.0),
            bar(120_000, 104.0, 99.0, 102.0),
            bar(180_000, 102.0, 95.0, 96.0),
            bar(240_000, 99.0, 96.0, 98.0),
        ];
        let track = |t: &mut OutcomeTracker| {
            t.track(
                &signal(Direction::Long, 240_000),
                "BTCUSDT".into(),
                Some((60_000, 100.0)),
                vec![("opt".into(), 0.9)],
            )
        };
        let mut straight = OutcomeTracker::default();
        track(&mut straight);
        let mut expected = Vec::new();
        for b in &bars {
            expected.extend(straight.on_bar(b));
        }
        let mut before = OutcomeTracker::default();
        let made = track(&mut before).expect("followed");
        assert_eq!(made.reached, 0);
        before.on_bar(&bars[0]);
        before.on_bar(&bars[1]);
        // Through JSON, as the store keeps it.
        let stored: Vec<PendingRecord> =
            serde_json::from_str(&serde_json::to_string(&before.records()).unwrap()).unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].reached, 2);
        let mut after = OutcomeTracker::default();
        after.restore(stored, 0, |name| {
            assert_eq!(name, "BTCUSDT");
            0
        });
        assert_eq!(after.pending(), 1);
        let mut got = Vec::new();
        for b in &bars[2..] {
            got.extend(after.on_bar(b));
        }
        assert_eq!(got, expected);
        assert!(after.take_dropped().is_empty());
        // New signals take ids after the restored ones.
        assert_eq!(track(&mut after).map(|r| r.id), Some(made.id + 1));
    }

    #[test]
    fn signals_dropped_while_waiting_are_named_by_id() {
        let mut t = OutcomeTracker::default();
        let first = t
            .track(&signal(Direction::Long, 60_000), "X".into(), None, vec![])
            .unwrap();
        let mut other = bar(0, 1.0, 1.0, 1.0);
        other.symbol = 1;
        other.open_time = 3 * 86_400_000;
        for _ in 0..SWEEP_EVERY {
            t.on_bar(&other);
        }
        assert_eq!(t.take_dropped(), vec![first.id]);
        assert!(t.take_dropped().is_empty());
        // A stored neutral signal (a damaged row) is not taken in, and named.
        let mut bad = first.clone();
        bad.id = 7;
        bad.direction = Direction::Neutral;
        t.restore(vec![bad], 0, |_| 0);
        assert_eq!(t.pending(), 0);
        assert_eq!(t.take_dropped(), vec![7]);
    }

    #[test]
    fn a_restored_signal_goes_on_only_from_the_bar_after_the_last_it_saw() {
        let made = |t: &mut OutcomeTracker| {
            t.track(
                &signal(Direction::Long, 240_000),
                "BTCUSDT".into(),
                Some((60_000, 100.0)),
                Vec::new(),
            );
            t.on_bar(&bar(60_000, 101.0, 99.0, 100.5));
            t.records()
        };
        let mut before = OutcomeTracker::default();
        let stored = made(&mut before);
        assert_eq!(stored[0].seen_to_ms, 120_000);
        // The bar it saw again is passed over; the next one carries it on.
        let mut again = OutcomeTracker::default();
        again.restore(stored.clone(), 0, |_| 0);
        assert!(again.on_bar(&bar(60_000, 101.0, 99.0, 100.5)).is_empty());
        assert!(again.on_bar(&bar(120_000, 101.0, 99.0, 100.5)).is_empty());
        assert_eq!((again.pending(), again.untracked()), (1, 0));
        // A bar missed while the service was down: dropped, not read from what is left.
        let mut gap = OutcomeTracker::default();
        gap.restore(stored, 5, |_| 0);
        assert!(gap.on_bar(&bar(180_000, 101.0, 99.0, 100.5)).is_empty());
        assert_eq!((gap.pending(), gap.untracked()), (0, 1));
        assert_eq!(gap.take_dropped(), vec![1]);
        // Ids go on after the largest stored.
        let next = gap
            .track(&signal(Direction::Long, 60_000), "X".into(), None, vec![])
            .unwrap();
        assert_eq!(next.id, 6);
    }

    #[test]
    fn a_bar_a_day_past_the_horizon_reads_no_outcome() {
        let mut t = OutcomeTracker::default();
        let made = t
            .track(
                &signal(Direction::Long, 60_000),
                "BTCUSDT".into(),
                Some((60_000, 100.0)),
                Vec::new(),
            )
            .unwrap();
        // The symbol's next bar comes two days later.
        assert!(
            t.on_bar(&bar(2 * 86_400_000, 101.0, 99.0, 100.5))
                .is_empty()
        );
        assert_eq!((t.pending(), t.untracked()), (0, 1));
        assert_eq!(t.take_dropped(), vec![made.id]);
    }
}
