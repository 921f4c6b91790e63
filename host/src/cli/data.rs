//! `stratbox data`: import candle files into the history store, export them, fetch them from
//! a Binance-compatible REST API, and check their quality. Imports and fetches are checked as
//! they come in; an import never changes a stored candle unless told to (`--overwrite`).

use super::data_check::{CheckArgs, CheckBookArgs, FixPolicy, Thresholds};
use crate::feeds::candles::{self, Candle};
use crate::feeds::replay::parse_interval;
use crate::history::HistoryStore;
use crate::history::quality::{self, FindingKind, QualityReport};
use crate::model::time::parse_utc_ms;
use anyhow::{Context, bail};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;

/// `stratbox data` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum DataCommand {
    /// Imports a candle file (plain CSV or a Binance kline dump, bare or zipped).
    Import(ImportArgs),
    /// Exports candles as `open_time_ms,open,high,low,close,volume`.
    Export(ExportArgs),
    /// Fetches candles over a time range from the REST API, resuming where the store has gaps.
    Fetch(FetchArgs),
    /// Checks a history (stored, or a file) for gaps, duplicates, disorder, broken candles,
    /// zero-volume stretches, outliers and stale repeats; `--fix` refills gaps from the venue
    /// or marks suspect rows.
    Check(CheckArgs),
    /// Rebuilds the order books of stream captures and reports their sequence gaps, crossed
    /// books, outdated and late diffs.
    CheckBook(CheckBookArgs),
}

/// Where the history store is.
#[derive(clap::Args, Debug)]
pub struct Db {
    /// `sqlite://path` or `postgres://...`; a SQLite file in the user's data directory by default.
    #[arg(long, env = "STRATBOX_DB")]
    db: Option<String>,
}

impl Db {
    /// Opens the store.
    pub(super) async fn open(&self) -> anyhow::Result<HistoryStore> {
        let url = self
            .db
            .clone()
            .unwrap_or_else(crate::config::default_db_url);
        HistoryStore::open(&url)
            .await
            .with_context(|| format!("opening {url}"))
    }
}

/// Arguments of `data import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The file (.csv or .zip).
    file: PathBuf,
    /// Symbol of the candles, e.g. LTCBTC.
    #[arg(long)]
    symbol: String,
    /// Interval of the candles, e.g. 5m.
    #[arg(long)]
    interval: String,
    /// Policies for what the checks find, comma separated: drop-duplicates (keep the first row
    /// of each open time, take rows out of order into their place), mark-suspect (take in
    /// broken candles and mark them, with every other suspect row, in `candle_flags`).
    /// Without them such a file is refused, nothing stored.
    #[arg(long, value_enum, value_delimiter = ',')]
    fix: Vec<FixPolicy>,
    /// Replace stored candles whose values differ from the file's (refused otherwise).
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    thresholds: Thresholds,
    #[command(flatten)]
    db: Db,
}

/// Arguments of `data export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Symbol.
    #[arg(long)]
    symbol: String,
    /// Interval.
    #[arg(long)]
    interval: String,
    /// Output CSV file.
    #[arg(long)]
    output: PathBuf,
    /// First open time (date, date-time in UTC, or milliseconds).
    #[arg(long)]
    from: Option<String>,
    /// Last open time (inclusive).
    #[arg(long)]
    to: Option<String>,
    /// Leave out the candles marked suspect (`data check --fix mark-suspect`).
    #[arg(long)]
    skip_flagged: bool,
    #[command(flatten)]
    db: Db,
}

/// Arguments of `data fetch`.
#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    /// Symbol.
    #[arg(long)]
    symbol: String,
    /// Interval.
    #[arg(long)]
    interval: String,
    /// First open time (date, date-time in UTC, or milliseconds).
    #[arg(long)]
    from: String,
    /// End of the range (exclusive: candles opening before it).
    #[arg(long)]
    to: String,
    /// REST base URL (the simulator's, Binance's testnet's or Binance's own).
    #[arg(
        long,
        env = "STRATBOX_BINANCE_REST",
        default_value = "https://api.binance.com"
    )]
    binance_rest: String,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    db: Db,
}

/// An interval's length in ms, from its name.
pub(super) fn interval_ms(text: &str) -> anyhow::Result<u32> {
    parse_interval(text).with_context(|| format!("interval {text:?}: use e.g. 1m, 5m, 1h, 1d"))
}

pub(super) fn time_arg(name: &str, text: &str) -> anyhow::Result<i64> {
    parse_utc_ms(text).with_context(|| {
        format!("--{name} {text:?}: use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (UTC) or milliseconds")
    })
}

pub fn run(command: DataCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let failed = runtime.block_on(async {
        match command {
            DataCommand::Import(a) => import(a).await.map(|()| false),
            DataCommand::Export(a) => export(a).await.map(|()| false),
            DataCommand::Check(a) => super::data_check::run(a).await,
            DataCommand::CheckBook(a) => super::data_check::run_book(a).map(|()| false),
            DataCommand::Fetch(a) => super::fetch::run(
                a.symbol,
                a.interval,
                &a.from,
                &a.to,
                a.binance_rest,
                a.quiet,
                a.db.open().await?,
            )
            .await
            .map(|()| false),
        }
    })?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The range arguments of `fetch`, resolved.
pub fn fetch_range(interval: &str, from: &str, to: &str) -> anyhow::Result<(u32, i64, i64)> {
    let step = interval_ms(interval)?;
    let (from, to) = (time_arg("from", from)?, time_arg("to", to)?);
    if to <= from {
        bail!("--to must be after --from");
    }
    Ok((step, from, to))
}

async fn import(a: ImportArgs) -> anyhow::Result<()> {
    let step = i64::from(interval_ms(&a.interval)?);
    let config = a.thresholds.config()?;
    if a.fix.contains(&FixPolicy::RefillGaps) {
        bail!(
            "--fix refill-gaps acts on the store: run `stratbox data check --fix refill-gaps` after the import"
        );
    }
    let shown = a.file.display().to_string();
    let (lines, rows): (Vec<usize>, Vec<Candle>) =
        candles::read_unchecked(&a.file)?.into_iter().unzip();
    let report = quality::check(&rows, &lines, step, (None, None), &config);
    refuse(&shown, &a, &report)?;
    // One row per open time (the first), in order.
    let mut seen = HashSet::with_capacity(rows.len());
    let mut rows: Vec<Candle> = rows
        .into_iter()
        .filter(|c| seen.insert(c.open_time))
        .collect();
    rows.sort_by_key(|c| c.open_time);
    let store = a.db.open().await?;
    let symbol = a.symbol.to_ascii_uppercase();
    let (first, last) = (rows[0].open_time, rows[rows.len() - 1].open_time);
    let stored: HashMap<i64, Candle> = store
        .candles(&symbol, &a.interval, first, last)
        .await?
        .into_iter()
        .map(|c| (c.open_time, c))
        .collect();
    let differing: Vec<(&Candle, &Candle)> = rows
        .iter()
        .filter_map(|c| stored.get(&c.open_time).map(|s| (s, c)))
        .filter(|(s, c)| s != c)
        .collect();
    if let Some((s, c)) = differing.first()
        && !a.overwrite
    {
        bail!(
            "{shown}: {} candles of {symbol} {} already stored differ from the file's (the first at {}: stored open {} high {} low {} close {} volume {}, file open {} high {} low {} close {} volume {}); nothing was imported; --overwrite replaces them",
            differing.len(),
            a.interval,
            quality::utc(s.open_time),
            s.open,
            s.high,
            s.low,
            s.close,
            s.volume,
            c.open,
            c.high,
            c.low,
            c.close,
            c.volume
        );
    }
    for chunk in rows.chunks(5_000) {
        store.upsert(&symbol, &a.interval, chunk).await?;
    }
    let gaps = store.gaps(&symbol, &a.interval, step, first, last).await?;
    println!(
        "imported {} candles of {symbol} {} ({first} to {last}); {} gaps in that range",
        rows.len(),
        a.interval,
        gaps.len()
    );
    if !differing.is_empty() {
        println!(
            "replaced {} stored candles whose values differed",
            differing.len()
        );
    }
    println!("quality: {}", report.summary());
    if a.fix.contains(&FixPolicy::MarkSuspect) {
        let marks = super::data_check::marks(&report, &rows);
        store
            .replace_flags(
                &symbol,
                &a.interval,
                (first, last),
                &marks,
                crate::model::time::wall_clock_ms(),
            )
            .await?;
        let mut marked: Vec<i64> = marks.iter().map(|(t, _, _)| *t).collect();
        marked.sort_unstable();
        marked.dedup();
        println!(
            "marked {} rows suspect in candle_flags ({} marks, a row and a kind each; the candles are unchanged)",
            marked.len(),
            marks.len()
        );
    }
    Ok(())
}

/// Refuses a file the checks found wrong where no `--fix` policy takes it in: off the
/// interval's grid (a wrong `--interval`, most likely), duplicated or disordered rows, broken
/// candles.
fn refuse(shown: &str, a: &ImportArgs, report: &QualityReport) -> anyhow::Result<()> {
    let first = |kinds: &[FindingKind]| {
        report
            .findings
            .iter()
            .filter(|f| kinds.contains(&f.kind))
            .min_by_key(|f| f.line)
            .map(|f| {
                format!(
                    "line {}: {} {}",
                    f.line.unwrap_or(0),
                    f.kind.name(),
                    f.detail
                )
            })
            .unwrap_or_default()
    };
    let count = |k: FindingKind| report.counts.get(&k).copied().unwrap_or(0);
    let misaligned = count(FindingKind::Misaligned);
    if misaligned > 0 && !a.fix.contains(&FixPolicy::MarkSuspect) {
        bail!(
            "{shown}: {misaligned} of {} candles open off the {} grid ({}); is --interval right? nothing was imported; --fix mark-suspect takes them in marked",
            report.rows,
            a.interval,
            first(&[FindingKind::Misaligned])
        );
    }
    let (duplicates, disordered) = (
        count(FindingKind::Duplicate),
        count(FindingKind::OutOfOrder),
    );
    if duplicates + disordered > 0 && !a.fix.contains(&FixPolicy::DropDuplicates) {
        bail!(
            "{shown}: {duplicates} rows repeat an earlier open time and {disordered} open before the row above them ({}); nothing was imported; `stratbox data check --file` lists them all, --fix drop-duplicates keeps the first row of each open time",
            first(&[FindingKind::Duplicate, FindingKind::OutOfOrder])
        );
    }
    let broken = [
        FindingKind::Ohlc,
        FindingKind::NonPositivePrice,
        FindingKind::NegativeVolume,
    ];
    let n: u64 = broken.iter().map(|k| count(*k)).sum();
    if n > 0 && !a.fix.contains(&FixPolicy::MarkSuspect) {
        bail!(
            "{shown}: {n} broken candles ({}); nothing was imported; `stratbox data check --file` lists them all, --fix mark-suspect takes them in marked",
            first(&broken)
        );
    }
    Ok(())
}

async fn export(a: ExportArgs) -> anyhow::Result<()> {
    interval_ms(&a.interval)?;
    let from = a
        .from
        .as_deref()
        .map(|t| time_arg("from", t))
        .transpose()?
        .unwrap_or(i64::MIN);
    let to =
        a.to.as_deref()
            .map(|t| time_arg("to", t))
            .transpose()?
            .unwrap_or(i64::MAX);
    let store = a.db.open().await?;
    let symbol = a.symbol.to_ascii_uppercase();
    let mut rows: Vec<Candle> = store.candles(&symbol, &a.interval, from, to).await?;
    let mut skipped = 0;
    if a.skip_flagged {
        let flagged: HashSet<i64> = store
            .flags(&symbol, &a.interval, from, to)
            .await?
            .into_iter()
            .map(|f| f.open_time)
            .collect();
        let before = rows.len();
        rows.retain(|c| !flagged.contains(&c.open_time));
        skipped = before - rows.len();
    }
    if rows.is_empty() {
        bail!("no candles of {symbol} {} in that range", a.interval);
    }
    let file = std::fs::File::create(&a.output)
        .with_context(|| format!("creating {}", a.output.display()))?;
    let mut out = std::io::BufWriter::new(file);
    candles::write_csv(&rows, &mut out)
        .with_context(|| format!("writing {}", a.output.display()))?;
    std::io::Write::flush(&mut out)?;
    println!(
        "exported {} candles of {symbol} {} to {}{}",
        rows.len(),
        a.interval,
        a.output.display(),
        if a.skip_flagged {
            format!(" ({skipped} marked suspect left out)")
        } else {
            String::new()
        }
    );
    Ok(())
}
