//! How good each source's signals have been, out of sample: every figure comes from signals
//! whose outcome ([`super::outcome`]) arrived after they were made, per source x kind x
//! symbol over the latest [`WINDOW`] outcomes (the board the engine keeps, from running sums as
//! each outcome arrives, the rank IC refreshed every [`REFRESH_EVERY`]) or over any stored
//! span (`stratbox signals report`), and each signal optimizer's own skill: how well its
//! `score` of a signal foretold that signal's realised return.
//!
//! - hit rate with its 95 % Wilson score interval (sound at small counts and near 0 or 1);
//! - mean realised return in the signal's direction, mean favourable and adverse excursions;
//! - information coefficient: Pearson and Spearman (rank) correlation of strength against
//!   realised return (`null` below three outcomes or without variance);
//! - edge over the horizon: the mean return in the signal's direction at each quarter of it, so
//!   a signal whose edge peaks early and fades shows it.

use super::outcome::{CHECKPOINTS, Outcome};
use crate::model::SignalKind;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use stratbox_learn::metrics::{pearson, spearman};

/// Outcomes each source x kind x symbol keeps on the board.
pub const WINDOW: usize = 500;

/// Scores each optimizer keeps on the board.
pub const OPTIMIZER_WINDOW: usize = 2_000;

/// Source x kind x symbol windows the board keeps (sources come and go: deployments, model
/// versions); past it the one whose latest outcome is oldest goes.
pub const MAX_WINDOWS: usize = 10_000;

/// Optimizers the board keeps; past it the one scored longest ago goes.
pub const MAX_OPTIMIZERS: usize = 1_000;

/// z of a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// What the quality figures read of one outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    /// When the signal was made.
    pub time_ms: i64,
    /// Its strength.
    pub strength: f64,
    /// Its realised return in its direction.
    pub realized_return: f64,
    /// Its return at each checkpoint.
    pub path: [f64; 4],
    /// Its largest adverse excursion.
    pub max_adverse: f64,
    /// Its largest favourable excursion.
    pub max_favourable: f64,
}

impl From<&Outcome> for Scored {
    fn from(o: &Outcome) -> Self {
        Scored {
            time_ms: o.time_ms,
            strength: o.strength,
            realized_return: o.realized_return,
            path: o.path,
            max_adverse: o.max_adverse,
            max_favourable: o.max_favourable,
        }
    }
}

/// The quality of one source's signals of one kind on one symbol.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize)]
pub struct Quality {
    /// Who made them.
    #[schema(value_type = String)]
    pub source: Arc<str>,
    /// Their kind.
    #[schema(value_type = String)]
    pub kind: SignalKind,
    /// The symbol.
    #[schema(value_type = String)]
    pub symbol: Arc<str>,
    /// Outcomes measured.
    pub signals: usize,
    /// Those with a positive return in their direction.
    pub hits: usize,
    /// `hits / signals`.
    pub hit_rate: f64,
    /// Lower end of its 95 % Wilson interval.
    pub hit_rate_low: f64,
    /// Upper end of its 95 % Wilson interval.
    pub hit_rate_high: f64,
    /// Mean return in the signals' direction at their horizon.
    pub mean_return: f64,
    /// Pearson correlation of strength with realised return.
    pub ic: Option<f64>,
    /// Spearman (rank) correlation of strength with realised return.
    pub rank_ic: Option<f64>,
    /// Mean return in the signals' direction at each quarter of the horizon.
    pub edge_by_horizon: [f64; 4],
    /// Mean largest favourable excursion.
    pub mean_favourable: f64,
    /// Mean largest adverse excursion.
    pub mean_adverse: f64,
    /// When the signal of the oldest outcome measured was made (outcomes in the order they
    /// arrived; a stored report reads them in the order the signals were made).
    pub first_ms: i64,
    /// When the signal of the newest outcome measured was made.
    pub last_ms: i64,
}

/// The 95 % Wilson score interval of `hits` out of `n`.
pub fn wilson(hits: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (n, p) = (n as f64, hits as f64 / n as f64);
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// The quality of `outcomes` (at least one) of `source`'s `kind` signals on `symbol`.
pub fn summarize(
    source: Arc<str>,
    kind: SignalKind,
    symbol: Arc<str>,
    outcomes: &[Scored],
) -> Quality {
    let n = outcomes.len();
    let hits = outcomes.iter().filter(|o| o.realized_return > 0.0).count();
    let (low, high) = wilson(hits, n);
    let strengths: Vec<f64> = outcomes.iter().map(|o| o.strength).collect();
    let returns: Vec<f64> = outcomes.iter().map(|o| o.realized_return).collect();
    let (ic, rank_ic) = if n >= 3 {
        (
            finite(pearson(&strengths, &returns)),
            finite(spearman(&strengths, &returns)),
        )
    } else {
        (None, None)
    };
    let mut edge = [0.0; CHECKPOINTS.len()];
    for (i, e) in edge.iter_mut().enumerate() {
        *e = mean(outcomes.iter().map(|o| o.path[i]));
    }
    Quality {
        source,
        kind,
        symbol,
        signals: n,
        hits,
        hit_rate: hits as f64 / n.max(1) as f64,
        hit_rate_low: low,
        hit_rate_high: high,
        mean_return: mean(returns.iter().copied()),
        ic,
        rank_ic,
        edge_by_horizon: edge,
        mean_favourable: mean(outcomes.iter().map(|o| o.max_favourable)),
        mean_adverse: mean(outcomes.iter().map(|o| o.max_adverse)),
        first_ms: outcomes.first().map_or(0, |o| o.time_ms),
        last_ms: outcomes.last().map_or(0, |o| o.time_ms),
    }
}

/// How well one signal optimizer's scores foretold the signals' realised returns.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize)]
pub struct OptimizerSkill {
    /// The optimizer's deployment.
    #[schema(value_type = String)]
    pub optimizer: Arc<str>,
    /// Signals it scored whose outcome is known.
    pub scored: usize,
    /// Pearson correlation of its score with realised return.
    pub ic: Option<f64>,
    /// Spearman (rank) correlation of its score with realised return.
    pub rank_ic: Option<f64>,
    /// Signals it scored 0.5 or more.
    pub favoured: usize,
    /// Their hit rate.
    pub favoured_hit_rate: Option<f64>,
    /// Signals it scored below 0.5.
    pub disfavoured: usize,
    /// Their hit rate.
    pub disfavoured_hit_rate: Option<f64>,
}

/// `(score, realised return)` pairs of `optimizer`, summarised.
pub fn optimizer_skill(optimizer: Arc<str>, pairs: &[(f64, f64)]) -> OptimizerSkill {
    let scores: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let returns: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let hit_rate = |favoured: bool| {
        let side: Vec<f64> = pairs
            .iter()
            .filter(|(s, _)| (*s >= 0.5) == favoured)
            .map(|p| p.1)
            .collect();
        let rate = (!side.is_empty())
            .then(|| side.iter().filter(|r| **r > 0.0).count() as f64 / side.len() as f64);
        (side.len(), rate)
    };
    let (favoured, favoured_hit_rate) = hit_rate(true);
    let (disfavoured, disfavoured_hit_rate) = hit_rate(false);
    let enough = pairs.len() >= 3;
    OptimizerSkill {
        optimizer,
        scored: pairs.len(),
        ic: enough.then(|| pearson(&scores, &returns)).and_then(finite),
        rank_ic: enough.then(|| spearman(&scores, &returns)).and_then(finite),
        favoured,
        favoured_hit_rate,
        disfavoured,
        disfavoured_hit_rate,
    }
}

/// An optimizer's (score, realised return) pairs, oldest first.
type Pairs = VecDeque<(f64, f64)>;

/// A source, kind and symbol.
pub type Key = (Arc<str>, SignalKind, Arc<str>);

/// The quality of a span of outcomes, as `stratbox signals report` prints it.
#[derive(utoipa::ToSchema, Clone, Debug, Default, PartialEq, Serialize)]
pub struct QualityReport {
    /// Per source x kind x symbol, and per source x kind over all symbols (symbol `*`) where
    /// it has several.
    pub sources: Vec<Quality>,
    /// Each signal optimizer's skill.
    pub optimizers: Vec<OptimizerSkill>,
}

/// Sums up `outcomes`: each with its source, kind, symbol and optimizer scores.
pub fn tally(
    outcomes: impl IntoIterator<Item = (Key, Scored, Vec<(Arc<str>, f64)>)>,
) -> QualityReport {
    let mut keys: BTreeMap<Key, Vec<Scored>> = BTreeMap::new();
    let mut optimizers: BTreeMap<Arc<str>, Vec<(f64, f64)>> = BTreeMap::new();
    for (key, scored, scores) in outcomes {
        for (optimizer, score) in scores {
            optimizers
                .entry(optimizer)
                .or_default()
                .push((score, scored.realized_return));
        }
        keys.entry(key).or_default().push(scored);
    }
    let mut all: BTreeMap<(Arc<str>, SignalKind), (usize, Vec<Scored>)> = BTreeMap::new();
    for ((source, kind, _), list) in &keys {
        let entry = all.entry((source.clone(), *kind)).or_default();
        entry.0 += 1;
        entry.1.extend_from_slice(list);
    }
    let mut sources: Vec<Quality> = keys
        .into_iter()
        .map(|((source, kind, symbol), mut list)| {
            list.sort_by_key(|o| o.time_ms);
            summarize(source, kind, symbol, &list)
        })
        .collect();
    for ((source, kind), (symbols, mut list)) in all {
        if symbols > 1 {
            list.sort_by_key(|o| o.time_ms);
            sources.push(summarize(source, kind, "*".into(), &list));
        }
    }
    sources.sort_by(|a, b| (&a.source, a.kind, &a.symbol).cmp(&(&b.source, b.kind, &b.symbol)));
    QualityReport {
        sources,
        optimizers: optimizers
            .into_iter()
            .map(|(name, pairs)| optimizer_skill(name, &pairs))
            .collect(),
    }
}

/// Outcomes between two exact recomputations of a window's running sums and rank IC.
pub const REFRESH_EVERY: usize = 25;

/// Running sums of a window's outcomes: count, hits, strength s and return r (s, r, s², r²,
/// sr), the return at each checkpoint, favourable and adverse excursions.
#[derive(Clone, Copy, Default)]
struct Sums {
    n: usize,
    hits: usize,
    s: f64,
    r: f64,
    ss: f64,
    rr: f64,
    sr: f64,
    path: [f64; 4],
    favourable: f64,
    adverse: f64,
}

impl Sums {
    fn add(&mut self, o: &Scored, sign: f64) {
        if sign > 0.0 {
            self.n += 1;
            self.hits += usize::from(o.realized_return > 0.0);
        } else {
            self.n -= 1;
            self.hits -= usize::from(o.realized_return > 0.0);
        }
        let (s, r) = (o.strength, o.realized_return);
        self.s += sign * s;
        self.r += sign * r;
        self.ss += sign * s * s;
        self.rr += sign * r * r;
        self.sr += sign * s * r;
        for (p, v) in self.path.iter_mut().zip(o.path) {
            *p += sign * v;
        }
        self.favourable += sign * o.max_favourable;
        self.adverse += sign * o.max_adverse;
    }

    /// Pearson correlation of strength with return (none below three or without variance).
    fn ic(&self) -> Option<f64> {
        if self.n < 3 {
            return None;
        }
        let n = self.n as f64;
        let vs = self.ss - self.s * self.s / n;
        let vr = self.rr - self.r * self.r / n;
        // Variances lost in rounding count as none.
        if vs <= 1e-12 * self.ss.max(f64::MIN_POSITIVE)
            || vr <= 1e-12 * self.rr.max(f64::MIN_POSITIVE)
        {
            return None;
        }
        finite((self.sr - self.s * self.r / n) / (vs * vr).sqrt())
    }
}

/// One source x kind x symbol's latest outcomes with their running sums.
#[derive(Default)]
struct Window {
    outcomes: VecDeque<Scored>,
    sums: Sums,
    rank_ic: Option<f64>,
    since_refresh: usize,
    /// The board's outcome count when it last took one in.
    last_seen: u64,
}

impl Window {
    fn push(&mut self, o: Scored) {
        self.outcomes.push_back(o);
        self.sums.add(&o, 1.0);
        if self.outcomes.len() > WINDOW
            && let Some(old) = self.outcomes.pop_front()
        {
            self.sums.add(&old, -1.0);
        }
        self.since_refresh += 1;
        if self.since_refresh >= REFRESH_EVERY || self.outcomes.len() < 2 * REFRESH_EVERY {
            self.refresh();
        }
    }

    /// Recomputes the sums exactly (no rounding carried over) and the rank IC.
    fn refresh(&mut self) {
        self.since_refresh = 0;
        let mut sums = Sums::default();
        for o in &self.outcomes {
            sums.add(o, 1.0);
        }
        self.sums = sums;
        self.rank_ic = (self.outcomes.len() >= 3)
            .then(|| {
                let (s, r): (Vec<f64>, Vec<f64>) = self
                    .outcomes
                    .iter()
                    .map(|o| (o.strength, o.realized_return))
                    .unzip();
                spearman(&s, &r)
            })
            .and_then(finite);
    }

    /// The window's quality from its sums: exact but for the rank IC, which is as of the
    /// last refresh (at most [`REFRESH_EVERY`] outcomes ago).
    fn quick(&self, source: Arc<str>, kind: SignalKind, symbol: Arc<str>) -> Quality {
        let q = &self.sums;
        let n = q.n.max(1) as f64;
        let (low, high) = wilson(q.hits, q.n);
        Quality {
            source,
            kind,
            symbol,
            signals: q.n,
            hits: q.hits,
            hit_rate: q.hits as f64 / n,
            hit_rate_low: low,
            hit_rate_high: high,
            mean_return: q.r / n,
            ic: q.ic(),
            rank_ic: self.rank_ic,
            edge_by_horizon: q.path.map(|p| p / n),
            mean_favourable: q.favourable / n,
            mean_adverse: q.adverse / n,
            first_ms: self.outcomes.front().map_or(0, |o| o.time_ms),
            last_ms: self.outcomes.back().map_or(0, |o| o.time_ms),
        }
    }
}

/// The key seen longest ago among `(key, last seen)`.
fn oldest<'a, K: Clone + 'a>(entries: impl Iterator<Item = (&'a K, u64)>) -> Option<K> {
    entries
        .min_by_key(|(_, seen)| *seen)
        .map(|(k, _)| k.clone())
}

/// The rolling quality the engine keeps as outcomes arrive.
#[derive(Default)]
pub struct QualityBoard {
    windows: BTreeMap<Key, Window>,
    /// Each optimizer's latest (score, return) pairs and when it last scored.
    optimizers: BTreeMap<Arc<str>, (Pairs, u64)>,
    /// Outcomes taken in, restored ones included: the clock of the windows' `last_seen`.
    clock: u64,
    /// Outcomes taken in by [`QualityBoard::add`].
    resolved: u64,
}

/// What taking an outcome in did to the board.
pub struct Added {
    /// The key's quality after it.
    pub quality: Quality,
    /// A window dropped to stay within [`MAX_WINDOWS`].
    pub evicted: Option<Key>,
}

impl QualityBoard {
    /// Takes `outcome` in; the key's quality after it, from running sums (its rank IC as of
    /// the window's last refresh, every [`REFRESH_EVERY`] outcomes).
    pub fn add(&mut self, outcome: &Outcome) -> Added {
        self.resolved += 1;
        self.take_in(outcome)
    }

    /// Takes `outcome` into its key's window and its optimizers' pairs.
    fn take_in(&mut self, outcome: &Outcome) -> Added {
        self.clock += 1;
        let now = self.clock;
        for (optimizer, score) in &outcome.scores {
            if !self.optimizers.contains_key(optimizer)
                && self.optimizers.len() >= MAX_OPTIMIZERS
                && let Some(stale) = oldest(self.optimizers.iter().map(|(k, v)| (k, v.1)))
            {
                self.optimizers.remove(&stale);
            }
            let (window, seen) = self.optimizers.entry(optimizer.clone()).or_default();
            if window.len() == OPTIMIZER_WINDOW {
                window.pop_front();
            }
            window.push_back((*score, outcome.realized_return));
            *seen = now;
        }
        let key = (outcome.source.clone(), outcome.kind, outcome.symbol.clone());
        let mut evicted = None;
        if !self.windows.contains_key(&key) && self.windows.len() >= MAX_WINDOWS {
            evicted = oldest(self.windows.iter().map(|(k, w)| (k, w.last_seen)));
            if let Some(stale) = &evicted {
                self.windows.remove(stale);
            }
        }
        let window = self.windows.entry(key).or_default();
        window.push(Scored::from(outcome));
        window.last_seen = now;
        Added {
            quality: window.quick(outcome.source.clone(), outcome.kind, outcome.symbol.clone()),
            evicted,
        }
    }

    /// The quality of every source x kind x symbol, sorted by them, computed afresh.
    pub fn qualities(&mut self) -> Vec<Quality> {
        self.windows
            .iter_mut()
            .map(|((source, kind, symbol), w)| {
                summarize(
                    source.clone(),
                    *kind,
                    symbol.clone(),
                    w.outcomes.make_contiguous(),
                )
            })
            .collect()
    }

    /// Every optimizer's skill, by name.
    pub fn optimizers(&mut self) -> Vec<OptimizerSkill> {
        self.optimizers
            .iter_mut()
            .map(|(name, (w, _))| optimizer_skill(name.clone(), w.make_contiguous()))
            .collect()
    }

    /// Takes in stored outcomes, oldest first, as a restart's starting point; they are not
    /// counted among [`QualityBoard::resolved`].
    pub fn restore(&mut self, outcomes: &[Outcome]) {
        for o in outcomes {
            self.take_in(o);
        }
    }

    /// Outcomes taken in since the start (not those restored).
    pub fn resolved(&self) -> u64 {
        self.resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(strength: f64, r: f64) -> Scored {
        Scored {
            time_ms: 0,
            strength,
            realized_return: r,
            path: [r / 4.0, r / 2.0, r * 0.75, r],
            max_adverse: 0.01,
            max_favourable: 0.02,
        }
    }

    #[test]
    fn wilson_matches_the_textbook_values() {
        // 8 of 10: (0.4902, 0.9433); 0 of 10: (0, 0.2775) (Wilson 1927; Newcombe 1998).
        let (l, h) = wilson(8, 10);
        assert!(
            (l - 0.490_162).abs() < 1e-5 && (h - 0.943_318).abs() < 1e-5,
            "{l} {h}"
        );
        let (l, h) = wilson(0, 10);
        assert!(l < 1e-12 && (h - 0.277_533).abs() < 1e-5, "{l} {h}");
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }

    #[test]
    fn strength_that_orders_returns_has_an_ic_of_one() {
        let outcomes: Vec<Scored> = (1..=10)
            .map(|i| scored(i as f64 / 10.0, (i as f64 - 4.0) / 100.0))
            .collect();
        let q = summarize("s".into(), SignalKind::Trend, "BTC".into(), &outcomes);
        assert_eq!((q.signals, q.hits), (10, 6));
        assert!((q.ic.unwrap() - 1.0).abs() < 1e-12);
        assert!((q.rank_ic.unwrap() - 1.0).abs() < 1e-12);
        assert!((q.mean_return - 0.015).abs() < 1e-12);
        assert!((q.edge_by_horizon[1] - 0.0075).abs() < 1e-12);
        let two = summarize("s".into(), SignalKind::Trend, "BTC".into(), &outcomes[..2]);
        assert_eq!(two.ic, None);
        let flat: Vec<Scored> = (0..5).map(|i| scored(0.5, i as f64)).collect();
        let q = summarize("s".into(), SignalKind::Trend, "BTC".into(), &flat);
        assert_eq!(q.ic, None, "no variance in strength");
    }

    #[test]
    fn the_running_quality_equals_the_exact_one() {
        let mut board = QualityBoard::default();
        let mut last = None;
        for i in 0..(WINDOW + 137) {
            let r = ((i * 37 % 101) as f64 - 50.0) / 1e4;
            let outcome = Outcome {
                source: "s".into(),
                kind: SignalKind::Trend,
                symbol: "BTC".into(),
                time_ms: i as i64,
                direction: crate::model::Direction::Long,
                strength: (i * 13 % 17) as f64 / 17.0,
                confidence: 0.5,
                horizon_ms: 60_000,
                entry_price: 100.0,
                exit_price: 100.0 * (1.0 + r),
                exit_time_ms: i as i64 + 60_000,
                realized_return: r,
                hit: r > 0.0,
                max_adverse: 0.001,
                max_favourable: (i % 7) as f64 / 1e3,
                path: [r / 4.0, r / 2.0, r * 0.75, r],
                scores: Vec::new(),
            };
            last = Some(board.add(&outcome).quality);
        }
        let quick = last.unwrap();
        let exact = board.qualities().remove(0);
        assert_eq!((quick.signals, quick.hits), (exact.signals, exact.hits));
        for (a, b) in [
            (quick.mean_return, exact.mean_return),
            (quick.ic.unwrap(), exact.ic.unwrap()),
            (quick.mean_favourable, exact.mean_favourable),
            (quick.edge_by_horizon[2], exact.edge_by_horizon[2]),
        ] {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        // WINDOW + 137 outcomes: the rank IC is that of a refresh a few outcomes ago.
        assert!((quick.rank_ic.unwrap() - exact.rank_ic.unwrap()).abs() < 0.05);
    }

    #[test]
    fn a_tally_adds_every_symbol_of_a_source_and_kind_and_each_optimizer() {
        let row = |symbol: &str, r: f64, score: f64| {
            (
                (
                    Arc::from("host:trend"),
                    SignalKind::Trend,
                    Arc::from(symbol),
                ),
                scored(0.5, r),
                vec![(Arc::from("opt"), score)],
            )
        };
        let report = tally([
            row("BTC", 0.01, 0.9),
            row("ETH", -0.02, 0.1),
            row("ETH", 0.03, 0.7),
        ]);
        let symbols: Vec<&str> = report.sources.iter().map(|q| &*q.symbol).collect();
        assert_eq!(symbols, ["*", "BTC", "ETH"]);
        assert_eq!((report.sources[0].signals, report.sources[0].hits), (3, 2));
        assert_eq!(report.sources[2].signals, 2);
        assert_eq!(report.optimizers[0].scored, 3);
        assert_eq!(report.optimizers[0].favoured_hit_rate, Some(1.0));
    }

    #[test]
    fn an_optimizer_whose_scores_foretell_returns_shows_it() {
        let pairs = [
            (0.9, 0.02),
            (0.8, 0.01),
            (0.2, -0.01),
            (0.1, -0.03),
            (0.6, -0.001),
        ];
        let s = optimizer_skill("opt".into(), &pairs);
        assert_eq!((s.favoured, s.disfavoured), (3, 2));
        assert_eq!(s.favoured_hit_rate, Some(2.0 / 3.0));
        assert_eq!(s.disfavoured_hit_rate, Some(0.0));
        assert!(s.ic.unwrap() > 0.8 && s.rank_ic.unwrap() > 0.8);
    }
}
