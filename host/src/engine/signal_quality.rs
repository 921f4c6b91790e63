//! What became of the bar's signals: each raw signal (a strategy's or a detector's, before the
//! optimizers pass over it) is scored by every running signal optimizer's `score`, then
//! followed to its horizon ([`crate::signals::outcome`]); its outcome is journaled (the
//! `signal_outcomes` table `stratbox signals report` reads), taken into the rolling quality
//! board, the metrics, and what guests read through `conditions`. A journal that keeps state
//! also keeps the signals still waiting (as made, with their progress when the engine stops),
//! so that a restart follows them on ([`Engine::restore_signals`]).

use super::Engine;
use crate::journal::JournalEntry;
use crate::model::{Bar, Signal, TimestampMs};
use crate::sandbox::World;
use crate::signals::outcome::{Outcome, OutcomeTracker, PendingRecord, ResumePoint};
use crate::signals::quality::{OptimizerSkill, Quality, QualityBoard};
use serde::Serialize;
use std::sync::Arc;

/// The signals' quality as operators read it.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize)]
pub struct SignalQualityReport {
    /// Quality of the latest outcomes (up to 500) per source x kind x symbol.
    pub sources: Vec<Quality>,
    /// Each signal optimizer's skill at scoring them (latest 2000 scores).
    pub optimizers: Vec<OptimizerSkill>,
    /// Signals waiting for their horizon to pass.
    pub pending: usize,
    /// Outcomes measured since the engine started.
    pub resolved: u64,
    /// Signals that could not be followed (a horizon over 90 days, a source with 50,000
    /// waiting, the oldest when 200,000 wait, still waiting a day after the horizon).
    pub untracked: u64,
}

/// The engine's signal outcomes and quality board.
#[derive(Default)]
pub(super) struct SignalQuality {
    outcomes: OutcomeTracker,
    board: QualityBoard,
}

impl Engine {
    /// Every running optimizer's scores of `signals`: for each signal, `(optimizer, score)`.
    /// An optimizer whose `score` fails is halted, as when `optimize` fails.
    fn score_signals(&mut self, signals: &[Signal], now: TimestampMs) -> Vec<Vec<(Arc<str>, f64)>> {
        let mut per_signal = vec![Vec::new(); signals.len()];
        for i in 0..self.deployments.len() {
            let d = &self.deployments[i];
            if d.world != World::SignalOptimizer || d.instance.is_none() {
                continue;
            }
            let name = d.name.clone();
            let mut scores = Vec::new();
            self.call(i, |instance| {
                scores = instance.score(signals, now)?;
                Ok(())
            });
            for (slot, score) in per_signal.iter_mut().zip(scores) {
                slot.push((name.clone(), score));
            }
        }
        per_signal
    }

    /// Scores this bar's raw `signals` and follows each to its outcome.
    pub(super) fn track_signals(&mut self, signals: &[Signal], now: TimestampMs) {
        let scores = self.score_signals(signals, now);
        let keeps = self.env.journal.keeps_state();
        let market = self.env.market();
        for (signal, scores) in signals.iter().zip(scores) {
            let name = market.symbols().label(signal.symbol);
            let last_close = market
                .last_bar(signal.symbol)
                .map(|b| (b.close_time(), b.close));
            let made = self
                .signal_quality
                .outcomes
                .track(signal, name, last_close, scores);
            if let Some(record) = made.filter(|_| keeps) {
                self.env
                    .journal
                    .record(JournalEntry::SignalPending(Box::new(record)));
            }
        }
        drop(market);
        self.journal_dropped_signals();
    }

    /// Journals the signals dropped while waiting, so that their rows go.
    fn journal_dropped_signals(&mut self) {
        for id in self.signal_quality.outcomes.take_dropped() {
            if self.env.journal.keeps_state() {
                self.env.journal.record(JournalEntry::SignalDropped(id));
            }
        }
    }

    /// Takes `bar` into the waiting signals' outcomes; journals and scores those it completes.
    pub(super) fn resolve_signals(&mut self, bar: &Bar) {
        for (pending_id, outcome) in self.signal_quality.outcomes.on_bar(bar) {
            let added = self.signal_quality.board.add(&outcome);
            if let Some(m) = &self.metrics {
                m.signals.record(&added.quality);
                if let Some(key) = &added.evicted {
                    m.signals.forget(key);
                }
            }
            // Guests read it through `conditions`.
            let mut view = self.env.signals_mut();
            if let Some(key) = &added.evicted {
                view.remove_quality(key);
            }
            view.set_quality(added.quality);
            self.env.journal.record(JournalEntry::SignalOutcome {
                pending_id,
                outcome: Box::new(outcome),
            });
        }
        self.journal_dropped_signals();
    }

    /// Journals every waiting signal with its progress (the engine is stopping: a restart
    /// follows them on from here).
    pub fn journal_pending_signals(&self) {
        if !self.env.journal.keeps_state() {
            return;
        }
        for record in self.signal_quality.outcomes.records() {
            self.env
                .journal
                .record(JournalEntry::SignalPending(Box::new(record)));
        }
    }

    /// A restart: follows the stored waiting signals on (their symbols added to the market
    /// if it does not know them yet; new signals' ids after `used_ids`) and starts the quality
    /// board, the metrics and what guests read through `conditions` from the stored
    /// `outcomes` (oldest first).
    pub fn restore_signals(
        &mut self,
        pending: Vec<PendingRecord>,
        used_ids: u64,
        outcomes: &[Outcome],
    ) {
        {
            let mut market = self.env.market_mut();
            self.signal_quality
                .outcomes
                .restore(pending, used_ids, |name| market.add_symbol(name));
        }
        self.journal_dropped_signals();
        let board = &mut self.signal_quality.board;
        board.restore(outcomes);
        let qualities = board.qualities();
        let mut view = self.env.signals_mut();
        for quality in qualities {
            if let Some(m) = &self.metrics {
                m.signals.show(&quality);
            }
            view.set_quality(quality);
        }
    }

    /// The symbols whose restored signals wait for bars, by name, each with the open time of
    /// the first bar they need and the time by which the last of their horizons has passed:
    /// the bars missed while the service was down lie between.
    pub fn signal_catch_up_points(&self) -> Vec<(Arc<str>, ResumePoint)> {
        let market = self.env.market();
        self.signal_quality
            .outcomes
            .resume_points()
            .into_iter()
            .map(|point| (market.symbols().label(point.symbol), point))
            .collect()
    }

    /// Takes `bars`, missed while the service was down (each symbol's from its
    /// [`Engine::signal_catch_up_points`], all in time order), into the waiting signals'
    /// outcomes only: no strategy, detector or feature sees them.
    pub fn catch_up_signals(&mut self, bars: &[Bar]) {
        for bar in bars {
            self.resolve_signals(bar);
        }
    }

    /// Signals waiting for their horizon to pass.
    pub fn pending_signals(&self) -> usize {
        self.signal_quality.outcomes.pending()
    }

    /// The signals' quality now.
    pub fn signal_quality(&mut self) -> SignalQualityReport {
        let q = &mut self.signal_quality;
        SignalQualityReport {
            sources: q.board.qualities(),
            optimizers: q.board.optimizers(),
            pending: q.outcomes.pending(),
            resolved: q.board.resolved(),
            untracked: q.outcomes.untracked(),
        }
    }
}
