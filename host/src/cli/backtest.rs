//! `stratbox backtest`: one strategy over a candle CSV, through the paper venue.

use crate::backtest;
use crate::engine::Status;
use crate::execution::venues::BarFillConfig;
use crate::feeds::replay;
use crate::inference::InferenceConfig;
use crate::model::{FeeRates, Fixed, SymbolTable};
use crate::risk::Budget;
use crate::sandbox::{Runtime, SandboxLimits};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `stratbox backtest`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Candle CSV: `open_time_ms,open,high,low,close,volume` with a header, or a Binance kline dump.
    #[arg(long)]
    data: PathBuf,
    /// The strategy component (.wasm).
    #[arg(long)]
    strategy: PathBuf,
    /// The strategy's configuration, a JSON file passed to its `init`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Risk budget (TOML); without it the account's capital is the only limit.
    #[arg(long)]
    budget: Option<PathBuf>,
    /// Symbol the candles belong to.
    #[arg(long, default_value = "BTCUSDT")]
    symbol: String,
    /// Candle interval (1m, 5m, 1h...); inferred from the data when omitted.
    #[arg(long)]
    interval: Option<String>,
    /// Fee as a fraction of notional.
    #[arg(long, default_value = "0.001")]
    fee: String,
    /// Sandbox limits (TOML, the `[sandbox]` table of the service configuration).
    #[arg(long)]
    sandbox: Option<PathBuf>,
    /// Model ensemble (TOML, the `[inference]` table of the service configuration): predicts
    /// after every bar, before the strategy sees it, so `market.predict` answers.
    #[arg(long)]
    models: Option<PathBuf>,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Reads an `[inference]` table, paths relative to its file.
fn models_config(path: &std::path::Path) -> anyhow::Result<InferenceConfig> {
    let mut config: InferenceConfig = toml::from_str(&super::read_text(path)?)
        .with_context(|| format!("in {}", path.display()))?;
    config.resolve(path.parent().unwrap_or(std::path::Path::new(".")));
    Ok(config)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let component = super::read_file(&args.strategy)?;
    let config = match &args.config {
        Some(path) => super::read_text(path)?,
        None => "{}".to_string(),
    };
    let budget = match &args.budget {
        Some(path) => Budget::parse(&super::read_text(path)?)
            .with_context(|| format!("in {}", path.display()))?,
        None => Budget::unlimited(10_000.0),
    };
    let limits: SandboxLimits = match &args.sandbox {
        Some(path) => toml::from_str(&super::read_text(path)?)
            .with_context(|| format!("in {}", path.display()))?,
        None => SandboxLimits::default(),
    };
    let fee: Fixed = args
        .fee
        .parse()
        .with_context(|| format!("--fee {}", args.fee))?;
    let interval = match &args.interval {
        Some(text) => Some(
            replay::parse_interval(text)
                .with_context(|| format!("--interval {text:?}: use e.g. 1m, 5m, 1h, 1d"))?,
        ),
        None => None,
    };
    let mut symbols = SymbolTable::default();
    let symbol = symbols.intern(&args.symbol);
    let bars = replay::read_candles(&args.data, symbol, interval)?;
    let runtime = Runtime::new(limits)?;
    let inference = match &args.models {
        Some(path) => Some(models_config(path)?),
        None => None,
    };
    let report = backtest::run(
        runtime,
        backtest::Backtest {
            component: component.into(),
            config,
            budget,
            symbols: &[&args.symbol],
            bars: &bars,
            venue: BarFillConfig {
                fees: FeeRates {
                    maker: fee,
                    taker: fee,
                },
                ..BarFillConfig::default()
            },
            inference: inference.as_ref(),
        },
    )?;
    if args.json {
        let out = serde_json::json!({
            "bars": report.bars,
            "status": report.status,
            "summary": report.summary,
            "fills": report.fills,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{:>14} {:>9} {:>4} {:>16} {:>14} {:>12}",
            "time_ms", "order", "side", "price", "quantity", "fee"
        );
        for f in &report.fills {
            println!(
                "{:>14} {:>9} {:>4} {:>16} {:>14} {:>12}",
                f.time,
                f.order_id,
                format!("{:?}", f.side).to_lowercase(),
                f.price,
                f.quantity,
                f.fee
            );
        }
        let s = &report.summary;
        println!();
        println!("bars           {}", report.bars);
        println!("trades         {} ({} closing)", s.trades, s.closing_trades);
        println!("pnl            {:.4}", s.pnl);
        println!("return         {:.4}%", s.total_return * 100.0);
        println!("max drawdown   {:.4}%", s.max_drawdown * 100.0);
        println!("sharpe         {:.4}", s.sharpe);
        println!("win rate       {:.2}%", s.win_rate * 100.0);
        println!("final equity   {:.4}", s.final_equity);
    }
    match &report.status {
        Status::Running => Ok(ExitCode::SUCCESS),
        Status::Halted(reason) => {
            eprintln!("strategy halted: {reason}");
            Ok(ExitCode::FAILURE)
        }
    }
}
