//! Data quality checks of a candle history, stored or in a file: gaps (with their lengths),
//! duplicated and out-of-order rows, open times off the interval's grid, OHLC inconsistencies,
//! zero or negative prices, negative volume, zero-volume stretches, outliers (robust z-score of
//! log returns, of log volume and of the wicks beyond the body, where fat fingers show) and
//! stale repeats (a candle identical to the one before it, volume included). [`check`]
//! reports; it changes nothing: the `--fix` policies of `stratbox data` act on its findings.
//!
//! The robust z-score of a value is its distance from the median of the trailing window's
//! values (those before it, never after) in units of the larger of 1.4826 x their median
//! absolute deviation and 1.2533 x their mean absolute deviation from the median (each the
//! standard deviation under normality). Prices move in whole ticks, so most returns of a quiet
//! or illiquid market are one of a few values and their MAD is zero or float noise; the mean
//! deviation still sees the ticks (Iglewicz and Hoaglin's modified z-score falls back on it the
//! same way). A window whose values are all equal makes any other value an outlier. Values go
//! into the window winsorised at the threshold, so one spike cannot hide the next. The median
//! and spread are recomputed every tenth of a window rather than for every row. Volume and
//! wick outliers are spikes only (thin volume is the zero-volume check's).

use crate::feeds::candles::Candle;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Thresholds of the checks.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    /// A log return whose robust z-score is above this (in absolute value) is an outlier.
    pub return_z: f64,
    /// A candle's log volume whose robust z-score is above this is an outlier (spikes only:
    /// thin volume is the zero-volume check's).
    pub volume_z: f64,
    /// A candle's wick beyond its body, ln(high / max(open, close)) above or
    /// ln(min(open, close) / low) below, whose robust z-score (against the trailing window of
    /// wicks on its side) is above this is an outlier: a fat finger or a bad print. A real
    /// move has a body; a bad print is a wick.
    pub wick_z: f64,
    /// Values (returns, log volumes, wicks) in the trailing window a value is scored against.
    pub window: usize,
    /// Values the window must hold before any is scored.
    pub min_window: usize,
    /// Zero-volume candles in a row (no gap between) reported as a stretch.
    pub zero_volume_run: usize,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            return_z: 10.0,
            volume_z: 6.0,
            wick_z: 10.0,
            window: 1_000,
            min_window: 100,
            zero_volume_run: 5,
        }
    }
}

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Open times missing between two rows (or at an end of the checked range).
    Gap,
    /// A row with the open time of an earlier row.
    Duplicate,
    /// A row opening before the row above it.
    OutOfOrder,
    /// An open time off the interval's grid.
    Misaligned,
    /// High below open, close or low, or low above open or close.
    Ohlc,
    /// A price at or below zero.
    NonPositivePrice,
    /// A negative volume.
    NegativeVolume,
    /// A stretch of zero-volume candles.
    ZeroVolume,
    /// A log return far from the trailing window's.
    ReturnOutlier,
    /// A log volume far above the trailing window's.
    VolumeOutlier,
    /// A wick far beyond the trailing window's.
    WickOutlier,
    /// Candles identical to the one before them, volume included.
    StaleRepeat,
}

impl FindingKind {
    /// Every kind, in report order.
    pub const ALL: [FindingKind; 12] = [
        FindingKind::Gap,
        FindingKind::Duplicate,
        FindingKind::OutOfOrder,
        FindingKind::Misaligned,
        FindingKind::Ohlc,
        FindingKind::NonPositivePrice,
        FindingKind::NegativeVolume,
        FindingKind::ZeroVolume,
        FindingKind::ReturnOutlier,
        FindingKind::VolumeOutlier,
        FindingKind::WickOutlier,
        FindingKind::StaleRepeat,
    ];

    /// The name reports and the flags table use.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Gap => "gap",
            FindingKind::Duplicate => "duplicate",
            FindingKind::OutOfOrder => "out_of_order",
            FindingKind::Misaligned => "misaligned",
            FindingKind::Ohlc => "ohlc",
            FindingKind::NonPositivePrice => "non_positive_price",
            FindingKind::NegativeVolume => "negative_volume",
            FindingKind::ZeroVolume => "zero_volume",
            FindingKind::ReturnOutlier => "return_outlier",
            FindingKind::VolumeOutlier => "volume_outlier",
            FindingKind::WickOutlier => "wick_outlier",
            FindingKind::StaleRepeat => "stale_repeat",
        }
    }

    /// Whether the finding is about stored rows that can be marked suspect (gaps are about
    /// rows that are not there; duplicates and disorder exist only in files).
    pub fn marks_rows(self) -> bool {
        !matches!(
            self,
            FindingKind::Gap | FindingKind::Duplicate | FindingKind::OutOfOrder
        )
    }
}

/// One problem: a row, or a run of rows (`last_open_time` set).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// What it is.
    pub kind: FindingKind,
    /// Open time of the (first) row concerned; of the first missing one for a gap.
    pub open_time: i64,
    /// Open time of the last row of a run (of the last missing one for a gap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_open_time: Option<i64>,
    /// Rows concerned (missing ones for a gap).
    pub rows: u64,
    /// The file's line of the row, when checking a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// What was wrong, with the values.
    pub detail: String,
}

impl Finding {
    /// Whether the finding covers the row opening at `open_time`.
    pub fn covers(&self, open_time: i64) -> bool {
        match self.last_open_time {
            Some(last) => (self.open_time..=last).contains(&open_time),
            None => self.open_time == open_time,
        }
    }
}

/// What [`check`] found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QualityReport {
    /// Rows checked.
    pub rows: u64,
    /// First and last open time among them (none when there are no rows).
    pub first_open_time: Option<i64>,
    /// Last open time.
    pub last_open_time: Option<i64>,
    /// Open times missing, over every gap.
    pub missing_rows: u64,
    /// Findings per kind, every kind listed.
    pub counts: BTreeMap<FindingKind, u64>,
    /// Every finding, in open-time order within each kind, kinds in [`FindingKind::ALL`]'s
    /// order.
    pub findings: Vec<Finding>,
}

impl QualityReport {
    /// Whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// One line: the rows and each kind's count.
    pub fn summary(&self) -> String {
        let span = match (self.first_open_time, self.last_open_time) {
            (Some(a), Some(b)) => format!(" from {} to {}", utc(a), utc(b)),
            _ => String::new(),
        };
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(kind, n)| match kind {
                FindingKind::Gap => format!("{n} gap (missing {} rows)", self.missing_rows),
                _ => format!("{n} {}", kind.name()),
            })
            .collect();
        format!("{} rows{span}: {}", self.rows, counts.join(", "))
    }
}

/// An open time as `YYYY-MM-DD HH:MM:SS` UTC.
pub fn utc(ms: i64) -> String {
    crate::model::time::format_utc(ms, true)
}

/// The grid a series of `step` ms candles opens on: multiples of `step` from the epoch for
/// intervals that divide a day, Mondays 00:00 UTC for weeks (as Binance's klines), else the
/// phase most of the open times share (`fallback`'s without any).
fn grid_phase(step: i64, times: impl Iterator<Item = i64>, fallback: i64) -> i64 {
    const DAY: i64 = 86_400_000;
    if DAY % step == 0 {
        return 0;
    }
    if step % (7 * DAY) == 0 {
        // 1970-01-01 was a Thursday: the first Monday is four days on.
        return 4 * DAY;
    }
    let mut phases: HashMap<i64, usize> = HashMap::new();
    for t in times {
        *phases.entry(t.rem_euclid(step)).or_default() += 1;
    }
    phases
        .into_iter()
        .max_by_key(|&(phase, n)| (n, std::cmp::Reverse(phase)))
        .map_or(fallback.rem_euclid(step), |(phase, _)| phase)
}

/// Checks `candles` of one symbol at one interval of `step` ms, in the order given (a file's,
/// whose line numbers `lines` holds, one per candle; a store's, in open-time order, with
/// `lines` empty). `range` is the span of open times the history should cover, both ends
/// included (the rows' own first and last where not given): open times missing at its ends are
/// gaps too. Rows before its start are history only: the outlier windows start on them (so the
/// range's first rows are scored too), and nothing is reported about them.
pub fn check(
    candles: &[Candle],
    lines: &[usize],
    step: i64,
    range: (Option<i64>, Option<i64>),
    config: &CheckConfig,
) -> QualityReport {
    assert!(step > 0, "an interval is at least 1 ms");
    let line = |i: usize| lines.get(i).copied();
    let at = |i: usize| line(i).map_or(format!("row {}", i + 1), |l| format!("line {l}"));
    let mut findings: Vec<Finding> = Vec::new();
    // Rows in the order given: duplicates, and rows opening before the row above them.
    let mut seen: HashMap<i64, usize> = HashMap::with_capacity(candles.len());
    let mut previous: Option<usize> = None;
    let mut unique: Vec<usize> = Vec::with_capacity(candles.len());
    for (i, c) in candles.iter().enumerate() {
        if let Some(&first) = seen.get(&c.open_time) {
            let earlier = &candles[first];
            let detail = if same_values(earlier, c) {
                format!("same open time and values as {}", at(first))
            } else {
                format!(
                    "same open time as {} with other values (close {} there, {} here; volume {} there, {} here)",
                    at(first),
                    earlier.close,
                    c.close,
                    earlier.volume,
                    c.volume
                )
            };
            findings.push(row_finding(FindingKind::Duplicate, c, line(i), detail));
            continue;
        }
        seen.insert(c.open_time, i);
        if let Some(p) = previous
            && c.open_time < candles[p].open_time
        {
            findings.push(row_finding(
                FindingKind::OutOfOrder,
                c,
                line(i),
                format!(
                    "opens before the row above it ({}, opening {})",
                    at(p),
                    utc(candles[p].open_time)
                ),
            ));
        }
        previous = Some(i);
        unique.push(i);
    }
    unique.sort_by_key(|&i| candles[i].open_time);
    let rows: Vec<&Candle> = unique.iter().map(|&i| &candles[i]).collect();
    let row_line = |k: usize| line(unique[k]);
    let mut missing_rows = 0;
    let phase = grid_phase(step, rows.iter().map(|c| c.open_time), range.0.unwrap_or(0));
    let on_grid = move |t: i64| (t - phase).rem_euclid(step) == 0;
    // The grid slot each row fills: a row off the grid fills the slot it opens in (and is
    // reported), so the slot is not a gap that a refill would fill twice.
    let mut slots: Vec<i64> = rows
        .iter()
        .map(|c| c.open_time - (c.open_time - phase).rem_euclid(step))
        .collect();
    slots.dedup();
    let from = range
        .0
        .map(|from| from + (phase - from).rem_euclid(step))
        .or_else(|| slots.first().copied());
    let to = range
        .1
        .map(|to| to - (to - phase).rem_euclid(step))
        .or_else(|| slots.last().copied());
    if let (Some(from), Some(to)) = (from, to) {
        let filled = slots.iter().copied().filter(|t| *t <= to);
        for g in super::find_gaps(filled, step, from, to) {
            let n = ((g.to - g.from) / step + 1) as u64;
            missing_rows += n;
            findings.push(Finding {
                kind: FindingKind::Gap,
                open_time: g.from,
                last_open_time: Some(g.to),
                rows: n,
                line: None,
                detail: format!("{n} missing from {} to {}", utc(g.from), utc(g.to)),
            });
        }
    }
    for (k, c) in rows.iter().enumerate() {
        if !on_grid(c.open_time) {
            findings.push(row_finding(
                FindingKind::Misaligned,
                c,
                row_line(k),
                format!(
                    "opens {} ms off the {step} ms grid",
                    (c.open_time - phase).rem_euclid(step)
                ),
            ));
        }
        findings.extend(
            value_findings(c)
                .into_iter()
                .map(|(kind, detail)| row_finding(kind, c, row_line(k), detail)),
        );
    }
    runs(&rows, step, config, &row_line, &mut findings);
    outliers(&rows, step, config, &row_line, &mut findings);
    // Rows before the range were history only.
    let start = range.0.unwrap_or(i64::MIN);
    findings.retain(|f| f.last_open_time.unwrap_or(f.open_time) >= start);
    findings.sort_by_key(|f| (f.kind, f.open_time));
    let mut counts: BTreeMap<FindingKind, u64> = FindingKind::ALL.iter().map(|k| (*k, 0)).collect();
    for f in &findings {
        *counts.entry(f.kind).or_default() += 1;
    }
    let first_checked = rows.iter().find(|c| c.open_time >= start);
    QualityReport {
        rows: candles.iter().filter(|c| c.open_time >= start).count() as u64,
        first_open_time: first_checked.map(|c| c.open_time),
        last_open_time: first_checked.and(rows.last()).map(|c| c.open_time),
        missing_rows,
        counts,
        findings,
    }
}

fn same_values(a: &Candle, b: &Candle) -> bool {
    a.open == b.open
        && a.high == b.high
        && a.low == b.low
        && a.close == b.close
        && a.volume == b.volume
}

fn row_finding(kind: FindingKind, c: &Candle, line: Option<usize>, detail: String) -> Finding {
    Finding {
        kind,
        open_time: c.open_time,
        last_open_time: None,
        rows: 1,
        line,
        detail,
    }
}

/// What is wrong with one candle's own values.
fn value_findings(c: &Candle) -> Vec<(FindingKind, String)> {
    let mut out = Vec::new();
    let (o, h, l, cl, v) = (
        c.open.to_f64(),
        c.high.to_f64(),
        c.low.to_f64(),
        c.close.to_f64(),
        c.volume.to_f64(),
    );
    let prices = [("open", o), ("high", h), ("low", l), ("close", cl)];
    let non_positive: Vec<String> = prices
        .iter()
        .filter(|(_, p)| *p <= 0.0)
        .map(|(name, p)| format!("{name} {p}"))
        .collect();
    if !non_positive.is_empty() {
        out.push((FindingKind::NonPositivePrice, non_positive.join(", ")));
    }
    let mut broken = Vec::new();
    if h < o.max(cl) {
        broken.push(format!(
            "high {} below max(open, close) {}",
            c.high,
            o.max(cl)
        ));
    }
    if l > o.min(cl) {
        broken.push(format!(
            "low {} above min(open, close) {}",
            c.low,
            o.min(cl)
        ));
    }
    if h < l {
        broken.push(format!("high {} below low {}", c.high, c.low));
    }
    if !broken.is_empty() {
        out.push((FindingKind::Ohlc, broken.join("; ")));
    }
    if v < 0.0 {
        out.push((FindingKind::NegativeVolume, format!("volume {}", c.volume)));
    }
    out
}

/// Zero-volume stretches and stale repeats, each run one finding.
fn runs(
    rows: &[&Candle],
    step: i64,
    config: &CheckConfig,
    line: &dyn Fn(usize) -> Option<usize>,
    findings: &mut Vec<Finding>,
) {
    let run_finding = |kind, a: usize, b: usize, detail: String| Finding {
        kind,
        open_time: rows[a].open_time,
        last_open_time: (b > a).then_some(rows[b].open_time),
        rows: (b - a + 1) as u64,
        line: line(a),
        detail,
    };
    // Zero volume, the stretch unbroken by a gap.
    let mut k = 0;
    while k < rows.len() {
        if rows[k].volume.to_f64() != 0.0 {
            k += 1;
            continue;
        }
        let start = k;
        while k + 1 < rows.len()
            && rows[k + 1].volume.to_f64() == 0.0
            && rows[k + 1].open_time - rows[k].open_time == step
        {
            k += 1;
        }
        let n = k - start + 1;
        if n >= config.zero_volume_run.max(1) {
            findings.push(run_finding(
                FindingKind::ZeroVolume,
                start,
                k,
                format!("{n} candles in a row with no volume"),
            ));
        }
        k += 1;
    }
    // Repeats: identical to the row before, with volume (a flat zero-volume candle is a quiet
    // market, reported above when it lasts).
    let repeats =
        |k: usize| k > 0 && rows[k].volume.to_f64() != 0.0 && same_values(rows[k - 1], rows[k]);
    let mut k = 1;
    while k < rows.len() {
        if !repeats(k) {
            k += 1;
            continue;
        }
        let start = k;
        while k + 1 < rows.len() && repeats(k + 1) {
            k += 1;
        }
        let c = rows[start - 1];
        findings.push(run_finding(
            FindingKind::StaleRepeat,
            start,
            k,
            format!(
                "{} candle(s) repeating {} exactly (open {} high {} low {} close {} volume {})",
                k - start + 1,
                utc(c.open_time),
                c.open,
                c.high,
                c.low,
                c.close,
                c.volume
            ),
        ));
        k += 1;
    }
}

/// Return, volume and wick outliers by robust z-score against the trailing window.
fn outliers(
    rows: &[&Candle],
    step: i64,
    config: &CheckConfig,
    line: &dyn Fn(usize) -> Option<usize>,
    findings: &mut Vec<Finding>,
) {
    let mut returns = Trailing::new(config);
    let mut volumes = Trailing::new(config);
    let mut wicks = [Trailing::new(config), Trailing::new(config)];
    for (k, c) in rows.iter().enumerate() {
        let close = c.close.to_f64();
        let (open, high, low) = (c.open.to_f64(), c.high.to_f64(), c.low.to_f64());
        let (top, bottom) = (open.max(close), open.min(close));
        if low > 0.0 && bottom > 0.0 && high >= top && bottom >= low {
            for (side, (name, wick)) in
                [("upper", (high / top).ln()), ("lower", (bottom / low).ln())]
                    .into_iter()
                    .enumerate()
            {
                if let Some(z) = wicks[side].score(wick)
                    && z > config.wick_z
                {
                    findings.push(row_finding(
                        FindingKind::WickOutlier,
                        c,
                        line(k),
                        format!(
                            "{name} wick to {} from a body of {bottom} to {top}: {wick:.6} in log, robust z {z:.1}",
                            if side == 0 { &c.high } else { &c.low },
                        ),
                    ));
                }
                wicks[side].push(wick, config.wick_z);
            }
        }
        if k > 0 {
            let before = rows[k - 1].close.to_f64();
            // Returns between neighbours only: across a gap it spans several bars.
            if c.open_time - rows[k - 1].open_time == step && before > 0.0 && close > 0.0 {
                let r = (close / before).ln();
                if let Some(z) = returns.score(r)
                    && z.abs() > config.return_z
                {
                    findings.push(row_finding(
                        FindingKind::ReturnOutlier,
                        c,
                        line(k),
                        format!(
                            "log return {r:.6} from close {} to {}: robust z {z:.1}",
                            rows[k - 1].close,
                            c.close
                        ),
                    ));
                }
                returns.push(r, config.return_z);
            }
        }
        let v = c.volume.to_f64();
        if v > 0.0 {
            let lv = v.ln();
            if let Some(z) = volumes.score(lv)
                && z > config.volume_z
            {
                findings.push(row_finding(
                    FindingKind::VolumeOutlier,
                    c,
                    line(k),
                    format!("volume {}: robust z of its log {z:.1}", c.volume),
                ));
            }
            volumes.push(lv, config.volume_z);
        }
    }
}

/// The last `window` values with their median and spread, recomputed every tenth of a window.
/// A value far out goes in at the threshold's distance (winsorised), so one spike cannot widen
/// the spread enough to hide the next.
struct Trailing {
    values: VecDeque<f64>,
    window: usize,
    min: usize,
    refresh: usize,
    since: usize,
    /// Median and scale (the larger of 1.4826 MAD and 1.2533 mean absolute deviation).
    stats: Option<(f64, f64)>,
    scratch: Vec<f64>,
}

impl Trailing {
    fn new(config: &CheckConfig) -> Self {
        let window = config.window.max(2);
        Trailing {
            values: VecDeque::with_capacity(window + 1),
            window,
            min: config.min_window.clamp(2, window),
            refresh: (window / 10).max(1),
            since: 0,
            stats: None,
            scratch: Vec::with_capacity(window),
        }
    }

    /// Takes in `x`, moved to within `threshold` spreads of the median.
    fn push(&mut self, x: f64, threshold: f64) {
        let x = match self.stats {
            Some((median, scale)) if scale > 0.0 => {
                x.clamp(median - threshold * scale, median + threshold * scale)
            }
            _ => x,
        };
        self.values.push_back(x);
        if self.values.len() > self.window {
            self.values.pop_front();
        }
        self.since += 1;
        if self.values.len() >= self.min && (self.stats.is_none() || self.since >= self.refresh) {
            self.since = 0;
            self.stats = self.compute();
        }
    }

    fn compute(&mut self) -> Option<(f64, f64)> {
        self.scratch.clear();
        self.scratch.extend(self.values.iter().copied());
        let median = median_of(&mut self.scratch);
        let mean_abs =
            self.values.iter().map(|x| (x - median).abs()).sum::<f64>() / self.values.len() as f64;
        self.scratch.clear();
        self.scratch
            .extend(self.values.iter().map(|x| (x - median).abs()));
        let mad = median_of(&mut self.scratch);
        Some((median, (1.4826 * mad).max(1.2533 * mean_abs)))
    }

    /// `x`'s robust z-score against the values so far, once there are enough; infinite for
    /// any other value than the median of a window whose values are all equal.
    fn score(&self, x: f64) -> Option<f64> {
        let (median, scale) = self.stats?;
        Some(if x == median {
            0.0
        } else if scale > 0.0 {
            (x - median) / scale
        } else {
            f64::INFINITY.copysign(x - median)
        })
    }
}

/// The median of `values` (reordered), the mean of the middle two for an even count.
fn median_of(values: &mut [f64]) -> f64 {
    let n = values.len();
    let (_, upper, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return upper;
    }
    let lower = values[..n / 2]
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    (lower + upper) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = 60_000;

    fn candle(t: i64, o: &str, h: &str, l: &str, c: &str, v: &str) -> Candle {
        Candle {
            open_time: t,
            open: o.parse().unwrap(),
            high: h.parse().unwrap(),
            low: l.parse().unwrap(),
            close: c.parse().unwrap(),
            volume: v.parse().unwrap(),
        }
    }

    /// A quiet minute series: closes wandering by a few ticks, volumes near 10.
    fn series(n: usize) -> Vec<Candle> {
        (0..n)
            .map(|i| {
                let c = 100.0 + ((i * 7) % 5) as f64 * 0.01;
                let v = 10.0 + ((i * 3) % 4) as f64;
                candle(
                    i as i64 * M,
                    &format!("{c}"),
                    &format!("{}", c + 0.02),
                    &format!("{}", c - 0.02),
                    &format!("{c}"),
                    &format!("{v}"),
                )
            })
            .collect()
    }

    fn kinds(r: &QualityReport) -> Vec<(FindingKind, i64, u64)> {
        r.findings
            .iter()
            .map(|f| (f.kind, f.open_time, f.rows))
            .collect()
    }

    #[test]
    fn a_clean_series_has_no_finding() {
        let r = check(&series(500), &[], M, (None, None), &CheckConfig::default());
        assert!(r.is_clean(), "{:?}", r.findings);
        assert_eq!(r.rows, 500);
        assert_eq!(r.counts.len(), FindingKind::ALL.len());
    }

    #[test]
    fn gaps_are_found_with_their_lengths_and_at_the_ranges_ends() {
        let mut rows = series(20);
        rows.retain(|c| !(5..8).contains(&(c.open_time / M)) && c.open_time != 12 * M);
        let r = check(&rows, &[], M, (None, None), &CheckConfig::default());
        assert_eq!(
            kinds(&r),
            vec![(FindingKind::Gap, 5 * M, 3), (FindingKind::Gap, 12 * M, 1)]
        );
        assert_eq!(r.missing_rows, 4);
        assert_eq!(r.findings[0].last_open_time, Some(7 * M));
        // A range wider than the rows: its ends are missing too (unaligned ends move onto
        // the grid).
        let r = check(
            &rows,
            &[],
            M,
            (Some(-2 * M - 5), Some(21 * M + 5)),
            &CheckConfig::default(),
        );
        assert_eq!(
            kinds(&r),
            vec![
                (FindingKind::Gap, -2 * M, 2),
                (FindingKind::Gap, 5 * M, 3),
                (FindingKind::Gap, 12 * M, 1),
                (FindingKind::Gap, 20 * M, 2),
            ]
        );
        // No rows at all: the range is one gap.
        let r = check(&[], &[], M, (Some(0), Some(9 * M)), &CheckConfig::default());
        assert_eq!(kinds(&r), vec![(FindingKind::Gap, 0, 10)]);
    }

    #[test]
    fn duplicates_and_disorder_are_found_by_line_and_left_out_of_the_rest() {
        let mut rows = series(10);
        rows.swap(3, 4);
        let mut dup = rows[6].clone();
        rows.push(dup.clone());
        dup.close = "101".parse().unwrap();
        dup.high = "101".parse().unwrap();
        rows.push(dup);
        let lines: Vec<usize> = (2..2 + rows.len()).collect();
        let r = check(&rows, &lines, M, (None, None), &CheckConfig::default());
        assert_eq!(
            kinds(&r),
            vec![
                (FindingKind::Duplicate, 6 * M, 1),
                (FindingKind::Duplicate, 6 * M, 1),
                (FindingKind::OutOfOrder, 3 * M, 1),
            ]
        );
        assert_eq!(r.findings[0].line, Some(12));
        assert!(
            r.findings[0]
                .detail
                .contains("same open time and values as line 8")
        );
        assert_eq!(r.findings[1].line, Some(13));
        assert!(
            r.findings[1]
                .detail
                .contains("other values (close 100.02 there, 101 here"),
            "{}",
            r.findings[1].detail
        );
        assert_eq!(r.findings[2].line, Some(6));
        assert_eq!(r.missing_rows, 0, "the rows sorted leave no gap");
    }

    #[test]
    fn each_broken_value_is_named() {
        let mut rows = series(10);
        rows[2] = candle(2 * M, "100", "99", "98", "100.5", "1");
        rows[4] = candle(4 * M, "100", "101", "100.2", "100", "1");
        rows[6] = candle(6 * M, "0", "1", "-1", "0.5", "1");
        rows[8] = candle(8 * M, "1", "1", "1", "1", "-3");
        let r = check(&rows, &[], M, (None, None), &CheckConfig::default());
        let by = |k| r.findings.iter().filter(move |f| f.kind == k);
        let ohlc: Vec<_> = by(FindingKind::Ohlc).collect();
        assert_eq!(ohlc.len(), 2, "{ohlc:?}");
        assert_eq!(ohlc[0].detail, "high 99 below max(open, close) 100.5");
        assert_eq!(ohlc[1].detail, "low 100.2 above min(open, close) 100");
        let non_positive: Vec<_> = by(FindingKind::NonPositivePrice).collect();
        assert_eq!(non_positive.len(), 1);
        assert_eq!(non_positive[0].detail, "open 0, low -1");
        let negative: Vec<_> = by(FindingKind::NegativeVolume).collect();
        assert_eq!(negative.len(), 1);
        assert_eq!(negative[0].open_time, 8 * M);
    }

    #[test]
    fn zero_volume_stretches_count_only_when_long_and_unbroken() {
        let mut rows = series(40);
        for k in (3..8).chain(20..24).chain(30..36) {
            rows[k].volume = "0".parse().unwrap();
        }
        rows.remove(33); // a gap splits the last stretch into 3 and 2
        let r = check(&rows, &[], M, (None, None), &CheckConfig::default());
        let zero: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::ZeroVolume)
            .collect();
        assert_eq!(zero.len(), 1, "{zero:?}");
        assert_eq!(
            (zero[0].open_time, zero[0].last_open_time),
            (3 * M, Some(7 * M))
        );
        assert_eq!(zero[0].rows, 5);
        assert!(zero[0].covers(5 * M) && !zero[0].covers(8 * M));
    }

    #[test]
    fn exact_repeats_with_volume_are_stale_and_quiet_flat_candles_are_not() {
        let mut rows = series(30);
        for k in 11..14 {
            rows[k] = Candle {
                open_time: k as i64 * M,
                ..rows[10].clone()
            };
        }
        let flat = candle(0, "5", "5", "5", "5", "0");
        for (k, row) in rows.iter_mut().enumerate().take(22).skip(20) {
            *row = Candle {
                open_time: k as i64 * M,
                ..flat.clone()
            };
        }
        let r = check(&rows, &[], M, (None, None), &CheckConfig::default());
        let stale: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::StaleRepeat)
            .collect();
        assert_eq!(stale.len(), 1, "{stale:?}");
        assert_eq!((stale[0].open_time, stale[0].rows), (11 * M, 3));
        assert_eq!(stale[0].last_open_time, Some(13 * M));
    }

    #[test]
    fn outliers_are_scored_against_the_trailing_window_only() {
        let mut rows = series(400);
        // A 20 % jump and back, and a volume a thousand times the usual.
        for k in [250usize, 251] {
            let c = if k == 250 { "120" } else { "100" };
            rows[k] = candle(k as i64 * M, c, c, c, c, "10");
        }
        rows[300].volume = "10000".parse().unwrap();
        // Before the window holds enough values nothing is scored, however wild.
        rows[50] = candle(50 * M, "150", "150", "150", "150", "10");
        let r = check(&rows, &[], M, (None, None), &CheckConfig::default());
        let found: Vec<(FindingKind, i64)> = r
            .findings
            .iter()
            .filter(|f| {
                matches!(
                    f.kind,
                    FindingKind::ReturnOutlier | FindingKind::VolumeOutlier
                )
            })
            .map(|f| (f.kind, f.open_time / M))
            .collect();
        assert_eq!(
            found,
            vec![
                (FindingKind::ReturnOutlier, 250),
                (FindingKind::ReturnOutlier, 251),
                (FindingKind::VolumeOutlier, 300),
            ]
        );
        // Across a gap no return is taken: the jump's neighbours missing, it is not scored.
        let mut gapped = rows.clone();
        gapped.remove(251);
        gapped.remove(249);
        let r = check(&gapped, &[], M, (None, None), &CheckConfig::default());
        assert!(
            r.findings
                .iter()
                .all(|f| f.kind != FindingKind::ReturnOutlier),
            "{:?}",
            r.findings
        );
    }

    #[test]
    fn the_mean_deviation_stands_in_where_most_returns_are_zero() {
        // An illiquid market: nine flat minutes in ten, then a tick.
        let mut rows: Vec<Candle> = (0..300)
            .map(|i| {
                let c = if i % 10 == 9 { "100.01" } else { "100" };
                candle(i * M, c, c, c, c, "1")
            })
            .collect();
        let jump = candle(280 * M, "103", "103", "103", "103", "1");
        rows[280] = jump;
        let r = check(&rows, &[], M, (None, None), &CheckConfig::default());
        let returns: Vec<i64> = r
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::ReturnOutlier)
            .map(|f| f.open_time / M)
            .collect();
        assert_eq!(returns, vec![280, 281], "the ticks are not outliers");
    }

    #[test]
    fn open_times_off_the_grid_are_misaligned() {
        let mut rows = series(10);
        rows[4].open_time += 1_000;
        let r = check(&rows, &[], M, (None, None), &CheckConfig::default());
        // The row fills the slot it opens in: no gap a refill would fill twice.
        assert_eq!(kinds(&r), vec![(FindingKind::Misaligned, 4 * M + 1_000, 1)]);
        // Weeks open on Mondays (2024-01-01 was one).
        let week = 7 * 86_400_000;
        let monday = 1_704_067_200_000;
        let weeks: Vec<Candle> = (0..3)
            .map(|i| candle(monday + i * week, "1", "5", "1", &format!("{}", 2 + i), "1"))
            .collect();
        assert!(check(&weeks, &[], week, (None, None), &CheckConfig::default()).is_clean());
        let thursdays: Vec<Candle> = weeks
            .iter()
            .map(|c| Candle {
                open_time: c.open_time + 3 * 86_400_000,
                ..c.clone()
            })
            .collect();
        let r = check(&thursdays, &[], week, (None, None), &CheckConfig::default());
        assert_eq!(r.counts[&FindingKind::Misaligned], 3);
    }

    #[test]
    fn intervals_that_do_not_divide_a_day_take_the_phase_most_rows_share() {
        let day = 86_400_000;
        let step = 3 * day;
        let mut rows: Vec<Candle> = (0..6)
            .map(|i| {
                let c = format!("{}", 10 + i);
                candle(day + i * step, "10", "20", "5", &c, "1")
            })
            .collect();
        rows[0].open_time += 3_600_000;
        let r = check(&rows, &[], step, (None, None), &CheckConfig::default());
        assert_eq!(
            kinds(&r),
            vec![(FindingKind::Misaligned, day + 3_600_000, 1)]
        );
    }

    #[test]
    fn rows_before_the_range_are_history_only_and_one_bound_is_enough() {
        let mut rows = series(400);
        rows[100] = candle(100 * M, "100", "99", "98", "100.5", "1");
        for k in [250usize, 251] {
            let c = if k == 250 { "120" } else { "100" };
            rows[k] = candle(k as i64 * M, c, c, c, c, "10");
        }
        let r = check(
            &rows,
            &[],
            M,
            (Some(200 * M), None),
            &CheckConfig::default(),
        );
        assert_eq!(
            kinds(&r),
            vec![
                (FindingKind::ReturnOutlier, 250 * M, 1),
                (FindingKind::ReturnOutlier, 251 * M, 1)
            ],
            "the broken candle before the range is not reported"
        );
        assert_eq!((r.rows, r.first_open_time), (200, Some(200 * M)));
        // With the range alone, its first rows are not scored against anything.
        let alone: Vec<Candle> = rows[240..].to_vec();
        let r = check(
            &alone,
            &[],
            M,
            (Some(240 * M), None),
            &CheckConfig::default(),
        );
        assert!(r.is_clean(), "{:?}", r.findings);
        // A start before the rows: the missing head is a gap; the end is the rows' own.
        let r = check(
            &rows[..10],
            &[],
            M,
            (Some(-3 * M), None),
            &CheckConfig::default(),
        );
        assert_eq!(kinds(&r), vec![(FindingKind::Gap, -3 * M, 3)]);
    }

    #[test]
    fn one_spike_does_not_hide_the_next_and_a_still_market_makes_any_move_an_outlier() {
        let mut rows = series(600);
        for k in [250usize, 251] {
            let c = if k == 250 { "118" } else { "100" };
            rows[k] = candle(k as i64 * M, c, c, c, c, "10");
        }
        // A 2 % bad print, well inside the spike's reach in the window.
        rows[300] = candle(300 * M, "102", "102", "102", "102", "10");
        let r = check(&rows, &[], M, (None, None), &CheckConfig::default());
        let found: Vec<i64> = r
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::ReturnOutlier)
            .map(|f| f.open_time / M)
            .collect();
        assert_eq!(found, vec![250, 251, 300, 301]);
        // 200 minutes without a trade at one price, then a tick.
        let mut still: Vec<Candle> = (0..201)
            .map(|i| candle(i * M, "5", "5", "5", "5", "1"))
            .collect();
        still[200] = candle(200 * M, "5.01", "5.01", "5.01", "5.01", "1");
        let r = check(&still, &[], M, (None, None), &CheckConfig::default());
        let returns: Vec<&Finding> = r
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::ReturnOutlier)
            .collect();
        assert_eq!(returns.len(), 1, "{:?}", r.findings);
        assert!(
            returns[0].detail.ends_with("robust z inf"),
            "{}",
            returns[0].detail
        );
    }

    #[test]
    fn an_early_row_from_the_future_is_one_disorder_not_every_row_after_it() {
        let mut rows = series(10);
        rows[1].open_time = 100 * M;
        let lines: Vec<usize> = (2..12).collect();
        let r = check(&rows, &lines, M, (None, None), &CheckConfig::default());
        let disorder: Vec<&Finding> = r
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::OutOfOrder)
            .collect();
        assert_eq!(disorder.len(), 1);
        assert_eq!(disorder[0].line, Some(4));
        assert!(
            disorder[0].detail.contains("(line 3, opening"),
            "{}",
            disorder[0].detail
        );
    }

    #[test]
    fn a_fat_finger_wick_is_a_wick_outlier_and_a_modest_one_is_not() {
        let mut rows: Vec<Candle> = (0..300)
            .map(|i| {
                let c = 100.0 + ((i * 7) % 5) as f64 * 0.01;
                let wick = 0.02 + ((i * 3) % 7) as f64 * 0.01;
                candle(
                    i as i64 * M,
                    &format!("{c}"),
                    &format!("{}", c + wick),
                    &format!("{}", c - wick),
                    &format!("{c}"),
                    "10",
                )
            })
            .collect();
        rows[250].high = "150".parse().unwrap();
        rows[260].low = "99.9".parse().unwrap();
        let r = check(&rows, &[], M, (None, None), &CheckConfig::default());
        let wicks: Vec<i64> = r
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::WickOutlier)
            .map(|f| f.open_time / M)
            .collect();
        assert_eq!(wicks, vec![250], "{:?}", r.findings);
        assert!(
            r.findings
                .iter()
                .all(|f| f.kind == FindingKind::WickOutlier)
        );
    }
}
