//! The pair detector (`[[signals.pair]]`): statistical arbitrage on two symbols whose log
//! prices are cointegrated. Over the last `window` bars both closed (matched by close time),
//! every `refit_bars` of them, the Engle-Granger test (statsmodels' `coint`, see
//! [`stratbox_quant::cointegration`]) re-estimates the hedge ratio `beta` and intercept of
//! `ln a = alpha + beta ln b` and its p-value. While that p-value is at most `max_p_value`,
//! the spread `ln a - alpha - beta ln b` is measured as a z-score against the window's
//! spreads; when it crosses `entry_z` the spread is expected to revert: above (a rich
//! against b) a short signal on `a` and a long one on `b`, below the opposite.
//!
//! Strength: |z| over twice `entry_z` (capped at 1). Confidence: 0.5, up to 1 as the p-value
//! falls from `max_p_value` to 0. The test sees only bars up to the one it runs at.

use super::config::PairConfig;
use super::leg_signals;
use crate::model::{Bar, Direction, Signal, SymbolId, SymbolTable, TimestampMs};
use std::collections::VecDeque;
use std::sync::Arc;
use stratbox_quant::cointegration::{EngleGranger, engle_granger};

/// Adds (`sign` 1) or removes (-1) the point (a, b) from the window's sums.
fn add(sums: &mut [f64; 5], a: f64, b: f64, sign: f64) {
    sums[0] += sign * a;
    sums[1] += sign * b;
    sums[2] += sign * a * a;
    sums[3] += sign * b * b;
    sums[4] += sign * a * b;
}

/// One pair's state.
pub struct Pair {
    config: PairConfig,
    source: Arc<str>,
    /// The two symbols' ids, once [`Pair::bind`] found both.
    ids: Option<(SymbolId, SymbolId)>,
    /// The latest close of each leg not yet matched, with its bar's close time.
    pending: [Option<(TimestampMs, f64)>; 2],
    /// Matched log closes (a, b), oldest first, at most `window`.
    history: VecDeque<(f64, f64)>,
    /// Sums over `history` of a, b, a², b² and ab, for the spread's moments in O(1).
    sums: [f64; 5],
    /// Matched bars since the last test, `None` before the first.
    since_fit: Option<usize>,
    /// The latest test, when it ran.
    fit: Option<EngleGranger>,
    /// Whether the spread was beyond `entry_z` at the previous matched bar.
    beyond: bool,
}

impl Pair {
    /// The detector `config` describes.
    pub fn new(config: PairConfig) -> Self {
        let source = format!("host:pair:{}/{}", config.symbols[0], config.symbols[1]).into();
        Pair {
            history: VecDeque::with_capacity(config.window + 1),
            sums: [0.0; 5],
            config,
            source,
            ids: None,
            pending: [None, None],
            since_fit: None,
            fit: None,
            beyond: false,
        }
    }

    /// Its two symbols' ids once `known` has both (kept from then on), for routing its bars.
    pub fn bind(&mut self, known: &SymbolTable) -> Option<Vec<SymbolId>> {
        let [a, b] = &self.config.symbols;
        let ids = (known.id(a)?, known.id(b)?);
        self.ids = Some(ids);
        Some(vec![ids.0, ids.1])
    }

    /// Takes `bar` in; the pair's signals when it completes a matched bar that crosses.
    pub fn on_bar(&mut self, bar: &Bar) -> Vec<Signal> {
        let c = &self.config;
        let Some((a, b)) = self.ids else {
            return Vec::new();
        };
        let leg = if bar.symbol == a {
            0
        } else if bar.symbol == b {
            1
        } else {
            return Vec::new();
        };
        if !(bar.close.is_finite() && bar.close > 0.0) {
            return Vec::new();
        }
        let time = bar.close_time();
        self.pending[leg] = Some((time, bar.close.ln()));
        let (Some((ta, la)), Some((tb, lb))) = (self.pending[0], self.pending[1]) else {
            return Vec::new();
        };
        if ta != tb {
            return Vec::new();
        }
        self.pending = [None, None];
        self.history.push_back((la, lb));
        add(&mut self.sums, la, lb, 1.0);
        if self.history.len() > c.window
            && let Some((oa, ob)) = self.history.pop_front()
        {
            add(&mut self.sums, oa, ob, -1.0);
        }
        if self.history.len() < c.window {
            return Vec::new();
        }
        let since = self.since_fit.map_or(usize::MAX, |n| n + 1);
        self.since_fit = Some(since);
        // A test that cannot run (a singular regression) waits for the next refit too.
        if since >= c.refit_bars {
            self.since_fit = Some(0);
            let (ya, yb): (Vec<f64>, Vec<f64>) = self.history.iter().copied().unzip();
            self.fit = engle_granger(&ya, &yb).ok();
            // The running sums restart exact at every test, so no rounding accumulates.
            self.sums = [0.0; 5];
            for &(x, y) in &self.history {
                add(&mut self.sums, x, y, 1.0);
            }
        }
        let Some(fit) = self.fit else {
            return Vec::new();
        };
        // The spread d = a - beta b over the window (alpha shifts it, not its z-score).
        let [sa, sb, saa, sbb, sab] = self.sums;
        let n = self.history.len() as f64;
        let sum = sa - fit.beta * sb;
        let squares = saa - 2.0 * fit.beta * sab + fit.beta * fit.beta * sbb;
        let sd = ((squares - sum * sum / n) / (n - 1.0)).max(0.0).sqrt();
        let z = (la - fit.beta * lb - sum / n) / sd;
        let was_beyond = std::mem::replace(&mut self.beyond, z.abs() >= c.entry_z);
        let tested = fit.p_value.is_finite() && fit.p_value <= c.max_p_value;
        if !z.is_finite() || !self.beyond || was_beyond || !tested {
            return Vec::new();
        }
        let strength = (z.abs() / (2.0 * c.entry_z)).min(1.0);
        let confidence = if c.max_p_value > 0.0 {
            0.5 + 0.5 * (1.0 - fit.p_value / c.max_p_value).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let (on_a, on_b) = if z > 0.0 {
            (Direction::Short, Direction::Long)
        } else {
            (Direction::Long, Direction::Short)
        };
        let horizon_ms = u64::from(c.horizon_bars) * u64::from(bar.interval_ms);
        leg_signals(
            [(a, on_a), (b, on_b)],
            time,
            (strength, confidence),
            horizon_ms,
            &self.source,
        )
    }
}
