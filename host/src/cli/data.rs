//! `stratbox data`: import candle files into the history store, export them, and fetch them
//! from a Binance-compatible REST API.

use crate::feeds::candles::{self, Candle};
use crate::feeds::replay::parse_interval;
use crate::history::HistoryStore;
use crate::model::time::parse_utc_ms;
use anyhow::{Context, bail};
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
}

/// Where the history store is.
#[derive(clap::Args, Debug)]
pub struct Db {
    /// `sqlite://path` or `postgres://...`; a SQLite file in the user's data directory by default.
    #[arg(long, env = "STRATBOX_DB")]
    db: Option<String>,
}

impl Db {
    async fn open(&self) -> anyhow::Result<HistoryStore> {
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

fn interval_ms(text: &str) -> anyhow::Result<u32> {
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
    runtime.block_on(async {
        match command {
            DataCommand::Import(a) => import(a).await,
            DataCommand::Export(a) => export(a).await,
            DataCommand::Fetch(a) => {
                super::fetch::run(
                    a.symbol,
                    a.interval,
                    &a.from,
                    &a.to,
                    a.binance_rest,
                    a.quiet,
                    a.db.open().await?,
                )
                .await
            }
        }
    })?;
    Ok(ExitCode::SUCCESS)
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
    let candles = candles::read_file(&a.file)?;
    if let Some(w) = candles
        .windows(2)
        .find(|w| (w[1].open_time - w[0].open_time) % step != 0)
    {
        bail!(
            "{}: candles at {} and {} are not a whole number of {} intervals apart; is --interval right?",
            a.file.display(),
            w[0].open_time,
            w[1].open_time,
            a.interval
        );
    }
    let store = a.db.open().await?;
    let symbol = a.symbol.to_ascii_uppercase();
    for chunk in candles.chunks(5_000) {
        store.upsert(&symbol, &a.interval, chunk).await?;
    }
    let (first, last) = (candles[0].open_time, candles[candles.len() - 1].open_time);
    let gaps = store.gaps(&symbol, &a.interval, step, first, last).await?;
    println!(
        "imported {} candles of {symbol} {} ({first} to {last}); {} gaps in that range",
        candles.len(),
        a.interval,
        gaps.len()
    );
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
    let rows: Vec<Candle> = store.candles(&symbol, &a.interval, from, to).await?;
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
        "exported {} candles of {symbol} {} to {}",
        rows.len(),
        a.interval,
        a.output.display()
    );
    Ok(())
}
