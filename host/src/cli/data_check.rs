//! `stratbox data check`: the quality checks of [`crate::history::quality`] on a stored history
//! or a candle file, with the `--fix` policies that act on the store: refill gaps from the
//! venue, mark suspect rows. Neither changes a stored candle: refilling adds the missing ones,
//! marking writes `candle_flags` beside them.

use super::data::{Db, interval_ms, time_arg};
use crate::feeds::binance::{RestClient, RestError};
use crate::feeds::candles::{self, Candle};
use crate::history::HistoryStore;
use crate::history::quality::{self, CheckConfig, Finding, FindingKind, QualityReport};
use anyhow::bail;
use serde::Serialize;
use std::path::PathBuf;

/// What `--fix` may do.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixPolicy {
    /// Fetch the missing candles from the venue's REST API (`--binance-rest`), when reachable.
    RefillGaps,
    /// Record every suspect row in `candle_flags` (the candle itself is left as it is).
    MarkSuspect,
    /// On import: keep the first of rows sharing an open time, and take rows out of order into
    /// their place.
    DropDuplicates,
}

/// The checks' thresholds.
#[derive(clap::Args, Debug, Clone)]
pub struct Thresholds {
    /// A log return whose robust z-score (against the trailing window) is above this is an
    /// outlier.
    #[arg(long, default_value_t = CheckConfig::default().return_z)]
    return_z: f64,
    /// A candle's log volume whose robust z-score is above this is an outlier.
    #[arg(long, default_value_t = CheckConfig::default().volume_z)]
    volume_z: f64,
    /// A candle's wick beyond its body (in log) whose robust z-score is above this is an
    /// outlier: a fat finger or a bad print.
    #[arg(long, default_value_t = CheckConfig::default().wick_z)]
    wick_z: f64,
    /// Values (returns, log volumes, log ranges) in the trailing window each is scored against.
    #[arg(long, default_value_t = CheckConfig::default().window)]
    outlier_window: usize,
    /// Zero-volume candles in a row reported as a stretch.
    #[arg(long, default_value_t = CheckConfig::default().zero_volume_run)]
    zero_volume_run: usize,
}

impl Thresholds {
    /// The checks' configuration.
    pub fn config(&self) -> anyhow::Result<CheckConfig> {
        if !(self.return_z > 0.0 && self.volume_z > 0.0 && self.wick_z > 0.0) {
            bail!("--return-z, --volume-z and --wick-z must be above 0");
        }
        if self.outlier_window < 2 {
            bail!("--outlier-window must be at least 2");
        }
        Ok(CheckConfig {
            return_z: self.return_z,
            volume_z: self.volume_z,
            wick_z: self.wick_z,
            window: self.outlier_window,
            min_window: CheckConfig::default().min_window.min(self.outlier_window),
            zero_volume_run: self.zero_volume_run.max(1),
        })
    }
}

/// Arguments of `data check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Symbol.
    #[arg(long)]
    symbol: String,
    /// Interval, e.g. 1m.
    #[arg(long)]
    interval: String,
    /// Check this candle file (.csv or .zip) instead of the store.
    #[arg(long)]
    file: Option<PathBuf>,
    /// First open time the history should cover (date, date-time in UTC, or milliseconds);
    /// the rows before it are read as the outlier checks' history.
    #[arg(long)]
    from: Option<String>,
    /// Last open time it should cover, included (unlike `data fetch --to`), at most the last
    /// closed candle's.
    #[arg(long)]
    to: Option<String>,
    /// Print the report (every finding) as JSON.
    #[arg(long)]
    json: bool,
    /// Findings listed in the text report.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Policies to apply to the store, comma separated: refill-gaps (closed candles only),
    /// mark-suspect (replaces the range's earlier marks).
    #[arg(long, value_enum, value_delimiter = ',')]
    fix: Vec<FixPolicy>,
    /// Exit with status 1 when a finding of these kinds is made (comma separated, e.g.
    /// `gap,ohlc`; `any` for every kind), to gate a pipeline.
    #[arg(long, value_delimiter = ',')]
    fail_on: Vec<String>,
    /// REST base URL the gaps are refilled from.
    #[arg(
        long,
        env = "STRATBOX_BINANCE_REST",
        default_value = "https://api.binance.com"
    )]
    binance_rest: String,
    #[command(flatten)]
    thresholds: Thresholds,
    #[command(flatten)]
    db: Db,
}

/// The JSON report of `data check`.
#[derive(Serialize)]
struct Output<'a> {
    symbol: &'a str,
    interval: &'a str,
    /// `store` or the file's path.
    source: String,
    #[serde(flatten)]
    report: &'a QualityReport,
    /// Candles fetched into the gaps (with `--fix refill-gaps`).
    #[serde(skip_serializing_if = "Option::is_none")]
    refilled: Option<u64>,
    /// Why the venue could not refill them.
    #[serde(skip_serializing_if = "Option::is_none")]
    refill_error: Option<String>,
    /// Marks written (a row and a kind each; with `--fix mark-suspect`).
    #[serde(skip_serializing_if = "Option::is_none")]
    marked: Option<u64>,
    /// Candles of the range marked suspect in the store, after any marking.
    #[serde(skip_serializing_if = "Option::is_none")]
    flagged: Option<u64>,
}

/// Runs `data check`: whether a finding of a `--fail-on` kind was made.
pub async fn run(a: CheckArgs) -> anyhow::Result<bool> {
    let step = i64::from(interval_ms(&a.interval)?);
    let config = a.thresholds.config()?;
    let fail_on = fail_kinds(&a.fail_on)?;
    let symbol = a.symbol.to_ascii_uppercase();
    let from = a.from.as_deref().map(|t| time_arg("from", t)).transpose()?;
    let to = a.to.as_deref().map(|t| time_arg("to", t)).transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        bail!("--to must not be before --from");
    }
    // Candles still open (or to come) are not missing yet.
    let last_closed = crate::model::time::wall_clock_ms() - step;
    let to = to.map(|t| t.min(last_closed));
    let range = (from, to);
    // The outlier windows start this far before the range, on history that is only read.
    let history_from =
        from.map(|f| f.saturating_sub(step.saturating_mul(config.window as i64 + 1)));
    let (read_from, read_to) = (history_from.unwrap_or(i64::MIN), to.unwrap_or(i64::MAX));
    if let Some(file) = &a.file {
        if !a.fix.is_empty() {
            bail!(
                "--fix acts on the store; to take a file in with a policy use `stratbox data import {} --fix ...`",
                file.display()
            );
        }
        let rows: Vec<(usize, Candle)> = candles::read_unchecked(file)?
            .into_iter()
            .filter(|(_, c)| (read_from..=read_to).contains(&c.open_time))
            .collect();
        let (lines, rows): (Vec<usize>, Vec<Candle>) = rows.into_iter().unzip();
        let report = quality::check(&rows, &lines, step, range, &config);
        let out = Output {
            symbol: &symbol,
            interval: &a.interval,
            source: file.display().to_string(),
            report: &report,
            refilled: None,
            refill_error: None,
            marked: None,
            flagged: None,
        };
        print(&out, a.json, a.limit)?;
        return Ok(fails(&report, &fail_on));
    }
    if a.fix.contains(&FixPolicy::DropDuplicates) {
        bail!(
            "--fix drop-duplicates applies to files (the store holds one candle per open time): use it with `stratbox data import`"
        );
    }
    let store = a.db.open().await?;
    let mut rows = store
        .candles(&symbol, &a.interval, read_from, read_to)
        .await?;
    let mut report = quality::check(&rows, &[], step, range, &config);
    if report.rows == 0 && from.is_none() && to.is_none() {
        bail!(
            "no candles of {symbol} {} in the store; give --from and --to to check for a range that should be there",
            a.interval
        );
    }
    let (mut refilled, mut refill_error) = (None, None);
    if a.fix.contains(&FixPolicy::RefillGaps) && report.missing_rows > 0 {
        let (n, venue_error) =
            refill(&store, &symbol, &a.interval, step, &report, &a.binance_rest).await?;
        refilled = Some(n);
        refill_error = venue_error.map(|e| {
            format!(
                "the venue at {} could not refill every gap ({n} candles came before it failed): {e}",
                a.binance_rest
            )
        });
        // Whatever arrived is checked with the rest.
        rows = store
            .candles(&symbol, &a.interval, read_from, read_to)
            .await?;
        report = quality::check(&rows, &[], step, range, &config);
    }
    // The range the marks describe: the one checked.
    let span = (
        from.or(report.first_open_time).unwrap_or(i64::MIN),
        to.or(report.last_open_time).unwrap_or(i64::MAX),
    );
    let marked = if a.fix.contains(&FixPolicy::MarkSuspect) {
        let mut marks = marks(&report, &rows);
        marks.retain(|(t, _, _)| (span.0..=span.1).contains(t));
        store
            .replace_flags(
                &symbol,
                &a.interval,
                span,
                &marks,
                crate::model::time::wall_clock_ms(),
            )
            .await?;
        Some(marks.len() as u64)
    } else {
        None
    };
    let flagged = {
        let mut times: Vec<i64> = store
            .flags(&symbol, &a.interval, span.0, span.1)
            .await?
            .into_iter()
            .map(|f| f.open_time)
            .collect();
        times.dedup();
        times.len() as u64
    };
    let out = Output {
        symbol: &symbol,
        interval: &a.interval,
        source: "store".into(),
        report: &report,
        refilled,
        refill_error,
        marked,
        flagged: Some(flagged),
    };
    print(&out, a.json, a.limit)?;
    Ok(fails(&report, &fail_on))
}

/// The kinds `--fail-on` names (`any` for all of them).
fn fail_kinds(names: &[String]) -> anyhow::Result<Vec<FindingKind>> {
    let mut kinds = Vec::new();
    for name in names {
        if name == "any" {
            kinds.extend(FindingKind::ALL);
            continue;
        }
        match FindingKind::ALL.iter().find(|k| k.name() == name) {
            Some(k) => kinds.push(*k),
            None => bail!(
                "--fail-on {name:?}: use any, or kinds among {}",
                FindingKind::ALL.map(FindingKind::name).join(", ")
            ),
        }
    }
    Ok(kinds)
}

/// Whether `report` found anything of `kinds`.
fn fails(report: &QualityReport, kinds: &[FindingKind]) -> bool {
    report.findings.iter().any(|f| kinds.contains(&f.kind))
}

/// Fetches every gap of `report` from the venue into the store, closed candles only: how many
/// arrived, and the venue's error if it failed (after them). A store error ends the command.
async fn refill(
    store: &HistoryStore,
    symbol: &str,
    interval: &str,
    step: i64,
    report: &QualityReport,
    base: &str,
) -> anyhow::Result<(u64, Option<RestError>)> {
    let client = RestClient::new(base);
    let mut stored = 0u64;
    let mut store_error = None;
    for gap in report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Gap)
    {
        let last = gap.last_open_time.unwrap_or(gap.open_time);
        let fetched = client
            .klines_range(
                symbol,
                interval,
                step,
                gap.open_time,
                last + 1,
                async |page| {
                    let now = crate::model::time::wall_clock_ms();
                    let closed: Vec<Candle> = page
                        .into_iter()
                        .filter(|c| c.open_time + step <= now)
                        .collect();
                    match store.upsert(symbol, interval, &closed).await {
                        Ok(n) => {
                            stored += n;
                            Ok(())
                        }
                        Err(e) => {
                            store_error = Some(e);
                            Err(RestError::Transport {
                                path: "store".into(),
                                message: "the store failed".into(),
                            })
                        }
                    }
                },
            )
            .await;
        if let Some(e) = store_error {
            return Err(anyhow::Error::new(e)
                .context(format!("storing refilled candles ({stored} stored before)")));
        }
        if let Err(e) = fetched {
            return Ok((stored, Some(e)));
        }
    }
    Ok((stored, None))
}

/// The marks `report`'s findings put on `rows`: each row a finding about rows covers, once
/// per kind.
pub fn marks<'a>(report: &'a QualityReport, rows: &[Candle]) -> Vec<(i64, &'a str, String)> {
    let mut out = Vec::new();
    for f in report.findings.iter().filter(|f| f.kind.marks_rows()) {
        let start = rows.partition_point(|c| c.open_time < f.open_time);
        out.extend(
            rows[start..]
                .iter()
                .take_while(|c| f.covers(c.open_time))
                .map(|c| (c.open_time, f.kind.name(), f.detail.clone())),
        );
    }
    out
}

fn print(out: &Output<'_>, json: bool, limit: usize) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(out)?);
        return Ok(());
    }
    let r = out.report;
    println!(
        "{} {} ({}): {}",
        out.symbol,
        out.interval,
        out.source,
        r.summary()
    );
    for f in r.findings.iter().take(limit) {
        println!("  {}", describe(f));
    }
    if r.findings.len() > limit {
        println!(
            "  ... and {} more (--limit N, or --json for all)",
            r.findings.len() - limit
        );
    }
    if let Some(n) = out.refilled {
        println!(
            "refilled {n} candles from the venue; {} rows still missing",
            r.missing_rows
        );
    }
    if let Some(e) = &out.refill_error {
        println!("{e}");
    }
    if let Some(n) = out.marked {
        println!(
            "wrote {n} suspect marks (a row and a kind each) in candle_flags, replacing the range's earlier ones; the candles are unchanged"
        );
    }
    if let Some(n) = out.flagged {
        println!("{n} candles of the range are marked suspect in the store");
    }
    Ok(())
}

/// A finding as one line of text.
fn describe(f: &Finding) -> String {
    let at = match f.last_open_time {
        Some(last) => format!("{} .. {}", quality::utc(f.open_time), quality::utc(last)),
        None => quality::utc(f.open_time),
    };
    let line = f.line.map(|l| format!(" (line {l})")).unwrap_or_default();
    format!("{} {at}{line}: {}", f.kind.name(), f.detail)
}

/// Arguments of `data check-book`.
#[derive(clap::Args, Debug)]
pub struct CheckBookArgs {
    /// Capture files (`<receive time ns> <json>` a line, gzip or plain), read in order.
    #[arg(required = true)]
    captures: Vec<PathBuf>,
    /// The symbol bare depth snapshots are for, when the capture streams several.
    #[arg(long)]
    symbol: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// The JSON report of `data check-book`.
#[derive(Serialize)]
struct BookOutput<'a> {
    /// Totals over the captures.
    totals: &'a crate::feeds::capture::CaptureStats,
    /// Each symbol's book.
    books: &'a [crate::feeds::capture::BookQuality],
}

/// Runs `data check-book`: rebuilds each symbol's book from the captures by Binance's
/// procedure and reports its sequence gaps, crossed states, outdated and late diffs.
pub fn run_book(a: CheckBookArgs) -> anyhow::Result<()> {
    let mut symbols = crate::model::SymbolTable::default();
    let mut intern = |name: &str| symbols.intern(name);
    let paths: Vec<&std::path::Path> = a.captures.iter().map(PathBuf::as_path).collect();
    let capture = crate::feeds::capture::read(&paths, &mut intern, a.symbol.as_deref(), None)?;
    let (s, books) = (&capture.stats, &capture.books);
    if a.json {
        let out = BookOutput { totals: s, books };
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{} lines: {} depth diffs, {} snapshots, {} book tickers, {} trades",
        s.lines, s.depth_diffs, s.snapshots, s.tickers, s.trades
    );
    if books.is_empty() {
        println!("no depth stream in the captures: no book to check");
    }
    for b in books {
        println!(
            "{}: {} diffs; {} sequence gaps, {} crossed, {} outdated, {} late (over {} ms slower than the fastest; lags {} to {} ms){}",
            b.symbol,
            b.diffs,
            b.sequence_gaps,
            b.crossed,
            b.outdated,
            b.late,
            crate::book::LATE_MS,
            b.min_lag_ms.unwrap_or(0),
            b.max_lag_ms.unwrap_or(0),
            if b.synced {
                ""
            } else {
                "; never in sync at the end (no snapshot covered its diffs)"
            }
        );
    }
    if s.tickers_dropped > 0 {
        println!(
            "book tickers against the rebuilt books: {} agreeing, {} disagreeing",
            s.tickers_agreeing, s.tickers_disagreeing
        );
    }
    Ok(())
}
