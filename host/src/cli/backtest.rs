//! `stratbox backtest`: strategies and signal optimizers over candle files, trade files and
//! Binance stream captures, through the simulated exchange paper trading uses.

use crate::backtest::{self, Component};
use crate::config::ExecutionConfig;
use crate::feeds::capture::CaptureReader;
use crate::feeds::trade_bars::TradeBars;
use crate::feeds::trade_file::read_trades;
use crate::feeds::{MarketEvent, TradePrint, replay};
use crate::inference::InferenceConfig;
use crate::model::{Side, SymbolTable};
use crate::risk::Budget;
use crate::sandbox::{Runtime, SandboxLimits};
use crate::signals::config::SignalsConfig;
use anyhow::Context;
use clap::ArgMatches;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `stratbox backtest`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Candle CSV (`open_time_ms,open,high,low,close,volume` or a Binance kline dump), as
    /// `FILE` (of `--symbol`) or `SYMBOL=FILE`; repeat for several symbols.
    #[arg(long)]
    data: Vec<String>,
    /// Trade file (`timestamp_ms,trade_id,type,side,price,amount,cost`), as `FILE` or
    /// `SYMBOL=FILE`; repeatable.
    #[arg(long)]
    trades: Vec<String>,
    /// Binance stream capture (`<receive ns> <json>` a line, plain or gzip); repeatable.
    #[arg(long)]
    capture: Vec<PathBuf>,
    /// A strategy component (.wasm); repeatable, each followed by its own `--config`,
    /// `--budget` and `--name`.
    #[arg(long)]
    strategy: Vec<PathBuf>,
    /// A signal optimizer component (.wasm); repeatable, each followed by its own `--config`.
    #[arg(long)]
    optimizer: Vec<PathBuf>,
    /// The configuration (a JSON file) of the component named before it.
    #[arg(long)]
    config: Vec<PathBuf>,
    /// The risk budget (TOML) of the strategy named before it; without one the account starts
    /// with 10,000 of the quote asset and no other limit.
    #[arg(long)]
    budget: Vec<PathBuf>,
    /// The deployment name of the component named before it (the file's name otherwise).
    #[arg(long)]
    name: Vec<String>,
    /// Symbol of `--data`/`--trades` files given without one, and of a capture's bare snapshots.
    #[arg(long, default_value = "BTCUSDT")]
    symbol: String,
    /// Exchange rules of the symbols: an `exchangeInfo` answer saved to a file.
    #[arg(long)]
    symbols: Option<PathBuf>,
    /// Candle interval (1m, 5m, 1h...): of candle files (inferred when omitted), and of the
    /// bars trades and captures make (none when omitted).
    #[arg(long)]
    interval: Option<String>,
    /// Queue model of the book matcher: risk-averse, power:N, power2:N, power3:N, log, log2.
    #[arg(long, default_value = "risk-averse")]
    queue: String,
    /// Latency both ways between the strategies and the exchange, in ms.
    #[arg(long, conflicts_with = "latency_file")]
    latency_ms: Option<i64>,
    /// Recorded latency: CSV of `req_ts,exch_ts,resp_ts` in nanoseconds.
    #[arg(long)]
    latency_file: Option<PathBuf>,
    /// Fee of both sides as a fraction of notional (`--maker-fee`/`--taker-fee` win).
    #[arg(long)]
    fee: Option<f64>,
    /// Maker fee (negative for a rebate).
    #[arg(long, allow_hyphen_values = true)]
    maker_fee: Option<f64>,
    /// Taker fee.
    #[arg(long)]
    taker_fee: Option<f64>,
    /// Candle model: ticks by which market fills are worse.
    #[arg(long, default_value_t = 0)]
    slippage_ticks: u32,
    /// Candle model: probability that a resting limit fills on a bar reaching its price.
    #[arg(long, default_value_t = 1.0)]
    fill_probability: f64,
    /// Seed of the simulation's random draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Sandbox limits (TOML, the `[sandbox]` table of the service configuration).
    #[arg(long)]
    sandbox: Option<PathBuf>,
    /// Model ensemble (TOML, the `[inference]` table of the service configuration): predicts
    /// after every bar, before the strategies see it, so `market.predict` answers.
    #[arg(long)]
    models: Option<PathBuf>,
    /// The host's signal detectors and regimes (TOML with a `[signals]` table, as in the
    /// service configuration, which may be given whole): they run after every bar and the
    /// report measures every signal's outcome.
    #[arg(long)]
    signals: Option<PathBuf>,
    /// Writes the full report (orders, fills, equity curves, metrics) as JSON to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Prints the report as JSON instead of tables.
    #[arg(long)]
    json: bool,
}

/// Reads the `[signals]` table of a TOML file (other tables ignored); one naming no detector
/// is an error.
fn signals_config(path: &Path) -> anyhow::Result<SignalsConfig> {
    #[derive(serde::Deserialize)]
    struct File {
        signals: Option<SignalsConfig>,
    }
    let file: File = toml::from_str(&super::read_text(path)?)
        .with_context(|| format!("in {}", path.display()))?;
    let Some(signals) = file.signals.filter(|s| *s != SignalsConfig::default()) else {
        anyhow::bail!(
            "{}: no [signals] table naming a detector (e.g. [signals.trend])",
            path.display()
        );
    };
    signals
        .validate()
        .map_err(|e| anyhow::anyhow!("{}: [signals]: {e}", path.display()))?;
    Ok(signals)
}

/// Reads an `[inference]` table, paths relative to its file.
fn models_config(path: &Path) -> anyhow::Result<InferenceConfig> {
    let mut config: InferenceConfig = toml::from_str(&super::read_text(path)?)
        .with_context(|| format!("in {}", path.display()))?;
    config.resolve(path.parent().unwrap_or(Path::new(".")));
    Ok(config)
}

/// `SYMBOL=FILE`, or `FILE` of `default`.
fn symbol_and_file<'a>(arg: &'a str, default: &'a str) -> (&'a str, &'a str) {
    match arg.split_once('=') {
        Some((s, f)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric()) => (s, f),
        _ => (default, arg),
    }
}

/// A component with the options that followed it on the command line.
struct Grouped {
    strategy: bool,
    path: PathBuf,
    config: Option<PathBuf>,
    budget: Option<PathBuf>,
    name: Option<String>,
}

fn group(args: &Args, matches: &ArgMatches) -> anyhow::Result<Vec<Grouped>> {
    let indices = |id: &str| -> Vec<usize> {
        matches
            .indices_of(id)
            .map(|i| i.collect())
            .unwrap_or_default()
    };
    let mut components: Vec<(usize, bool, PathBuf)> = indices("strategy")
        .into_iter()
        .zip(&args.strategy)
        .map(|(i, p)| (i, true, p.clone()))
        .chain(
            indices("optimizer")
                .into_iter()
                .zip(&args.optimizer)
                .map(|(i, p)| (i, false, p.clone())),
        )
        .collect();
    components.sort_by_key(|c| c.0);
    let owner = |at: usize, what: &str| -> anyhow::Result<usize> {
        components.iter().rposition(|c| c.0 < at).ok_or_else(|| {
            anyhow::anyhow!("--{what} must follow the --strategy or --optimizer it is for")
        })
    };
    let mut grouped: Vec<Grouped> = components
        .iter()
        .map(|(_, strategy, path)| Grouped {
            strategy: *strategy,
            path: path.clone(),
            config: None,
            budget: None,
            name: None,
        })
        .collect();
    for (at, path) in indices("config").into_iter().zip(&args.config) {
        let slot = &mut grouped[owner(at, "config")?].config;
        anyhow::ensure!(slot.is_none(), "two --config for one component");
        *slot = Some(path.clone());
    }
    for (at, path) in indices("budget").into_iter().zip(&args.budget) {
        let g = &mut grouped[owner(at, "budget")?];
        anyhow::ensure!(g.strategy, "--budget is for a strategy, not an optimizer");
        g.budget = Some(path.clone());
    }
    for (at, name) in indices("name").into_iter().zip(&args.name) {
        grouped[owner(at, "name")?].name = Some(name.clone());
    }
    Ok(grouped)
}

/// Reads every input into one time-ordered stream of events, naming symbols in `symbols`.
fn events(args: &Args, symbols: &mut SymbolTable) -> anyhow::Result<Vec<MarketEvent>> {
    let interval = match &args.interval {
        Some(text) => Some(
            replay::parse_interval(text)
                .with_context(|| format!("--interval {text:?}: use e.g. 1m, 5m, 1h, 1d"))?,
        ),
        None => None,
    };
    let mut events = Vec::new();
    for arg in &args.data {
        let (symbol, file) = symbol_and_file(arg, &args.symbol);
        let id = symbols.intern(symbol);
        let bars = replay::read_candles(Path::new(file), id, interval)?;
        events.extend(bars.into_iter().map(MarketEvent::Bar));
    }
    for arg in &args.trades {
        let (symbol, file) = symbol_and_file(arg, &args.symbol);
        let id = symbols.intern(symbol);
        let mut bars = interval.map(TradeBars::new);
        for t in read_trades(Path::new(file)).map_err(anyhow::Error::msg)? {
            if let Some(bars) = &mut bars {
                let mut closed = Vec::new();
                bars.advance(t.time, &mut closed);
                events.extend(closed.into_iter().map(MarketEvent::Bar));
                bars.trade(id, t.time, t.price.to_f64(), t.quantity.to_f64());
            }
            events.push(MarketEvent::Trade(TradePrint {
                symbol: id,
                time: t.time,
                trade_id: t.id,
                price: t.price.to_f64(),
                quantity: t.quantity.to_f64(),
                aggressor: if t.buyer_is_maker {
                    Side::Sell
                } else {
                    Side::Buy
                },
            }));
        }
    }
    if !args.capture.is_empty() {
        let mut intern = |name: &str| symbols.intern(name);
        let default =
            (args.data.is_empty() && args.trades.is_empty()).then_some(args.symbol.as_str());
        let mut reader = CaptureReader::new(&mut intern, default, interval);
        for path in &args.capture {
            reader.read_file(path)?;
        }
        let capture = reader.finish();
        if capture.stats.resyncs > 0 || capture.stats.unsynced_diffs > 0 {
            eprintln!(
                "note: the capture's books lost sync {} times ({} symbols never synced)",
                capture.stats.resyncs, capture.stats.unsynced_diffs
            );
        }
        events.extend(capture.events);
    }
    anyhow::ensure!(
        !events.is_empty(),
        "nothing to replay: give --data, --trades or --capture"
    );
    // One stream in time order; events of one time keep their files' order.
    events.sort_by_key(MarketEvent::time);
    Ok(events)
}

pub fn run(args: Args, matches: &ArgMatches) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !args.strategy.is_empty(),
        "give at least one --strategy component"
    );
    let mut components = Vec::new();
    for Grouped {
        path,
        config,
        budget,
        name,
        ..
    } in group(&args, matches)?
    {
        let name = name.unwrap_or_else(|| {
            path.file_stem().map_or("component".into(), |s| {
                s.to_string_lossy().replace('_', "-")
            })
        });
        anyhow::ensure!(
            !components.iter().any(|c: &Component| c.name == name),
            "two components named {name:?}: give one a --name"
        );
        let budget = match budget {
            Some(path) => Budget::parse(&super::read_text(&path)?)
                .with_context(|| format!("in {}", path.display()))?,
            None => Budget::unlimited(10_000.0),
        };
        components.push(Component {
            name,
            bytes: super::read_file(&path)?.into(),
            config: match config {
                Some(path) => super::read_text(&path)?,
                None => "{}".to_string(),
            },
            budget,
        });
    }
    let limits: SandboxLimits = match &args.sandbox {
        Some(path) => toml::from_str(&super::read_text(path)?)
            .with_context(|| format!("in {}", path.display()))?,
        None => SandboxLimits::default(),
    };
    let exchange_info = match &args.symbols {
        Some(path) => Some(super::read_text(path)?),
        None => None,
    };
    let mut symbols = SymbolTable::default();
    let events = events(&args, &mut symbols)?;
    let names: Vec<String> = (0..)
        .map_while(|i| symbols.name(i).map(|n| n.to_string()))
        .collect();
    let execution = ExecutionConfig {
        fee: args.fee,
        maker_fee: args.maker_fee,
        taker_fee: args.taker_fee,
        slippage_ticks: args.slippage_ticks,
        limit_fill_probability: args.fill_probability,
        seed: args.seed,
        queue: args.queue.clone(),
        entry_latency_ms: args.latency_ms.unwrap_or(0),
        response_latency_ms: args.latency_ms.unwrap_or(0),
        latency_file: args.latency_file.clone(),
        symbols: None,
    };
    let runtime = Runtime::new(limits)?;
    let inference = match &args.models {
        Some(path) => Some(models_config(path)?),
        None => None,
    };
    let signals = match &args.signals {
        Some(path) => Some(signals_config(path)?),
        None => None,
    };
    let report = backtest::run(
        runtime,
        backtest::Backtest {
            components,
            symbols: &names,
            exchange_info: exchange_info.as_deref(),
            events: &events,
            execution,
            inference: inference.as_ref(),
            features: None,
            signals: signals.as_ref(),
            progress: !args.json,
        },
    )?;
    if let Some(path) = &args.report {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        serde_json::to_writer(std::io::BufWriter::new(file), &report)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_tables(&report);
    }
    let mut halted = false;
    for (name, reason) in report.halted() {
        eprintln!("{name} halted: {reason}");
        halted = true;
    }
    Ok(if halted {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_tables(report: &backtest::BacktestReport) {
    println!(
        "{:>14} {:<16} {:>9} {:<10} {:<4} {:>16} {:>14} {:>12} {:<5}",
        "time_ms", "deployment", "order", "symbol", "side", "price", "quantity", "fee", "liq"
    );
    for f in &report.fills {
        println!(
            "{:>14} {:<16} {:>9} {:<10} {:<4} {:>16} {:>14} {:>12} {:<5}",
            f.time,
            f.deployment,
            f.order_id,
            f.symbol,
            f.side,
            f.price,
            f.quantity,
            f.fee,
            format!("{:?}", f.liquidity).to_lowercase()
        );
    }
    println!();
    println!("events         {}", report.events);
    let rows = report
        .deployments
        .iter()
        .map(|d| (d.name.as_str(), &d.metrics))
        .chain((report.deployments.len() > 1).then_some(("all", &report.total.metrics)));
    for (name, m) in rows {
        println!();
        println!("{name}");
        println!(
            "  trades         {} ({} closing)",
            m.trades, m.closing_trades
        );
        println!("  pnl            {:.4}", m.pnl);
        println!("  return         {:.4}%", m.total_return * 100.0);
        println!("  annual return  {:.4}%", m.annual_return * 100.0);
        println!("  volatility     {:.4}%", m.annual_volatility * 100.0);
        println!("  sharpe         {:.4}", m.sharpe);
        println!("  sortino        {:.4}", m.sortino);
        println!("  calmar         {:.4}", m.calmar);
        println!(
            "  max drawdown   {:.4}% ({:.1} h)",
            m.max_drawdown * 100.0,
            m.max_drawdown_duration_ms as f64 / 3.6e6
        );
        println!("  win rate       {:.2}%", m.win_rate * 100.0);
        println!("  profit factor  {:.4}", m.profit_factor);
        println!("  turnover       {:.4}", m.turnover);
        println!("  fees           {:.8}", m.fees);
        println!("  exposure       {:.2}%", m.exposure_time * 100.0);
        println!("  final equity   {:.8}", m.final_equity);
    }
    if report.signals.signals + report.signals.pending > 0 {
        println!();
        println!(
            "signals: {} measured, {} still within their horizon at the end",
            report.signals.signals, report.signals.pending
        );
        print!("{}", super::signals::table(&report.signals.quality));
    }
}
