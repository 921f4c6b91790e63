//! The command line: argument parsing and one function per subcommand. Configuration is
//! resolved here, at the edge; the library below takes resolved values.

mod backtest;
mod check;
mod data;
mod data_check;
mod features;
mod fetch;
pub mod indicators;
mod model;
mod operator;
mod risk;
mod serve;
mod signals;
mod sim;
mod token;
mod trading;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

/// Runs sandboxed WebAssembly trading strategies.
#[derive(Parser, Debug)]
#[command(name = "stratbox", version, about)]
pub struct Cli {
    /// How logs are written to stderr: `plain` text (coloured only on a terminal) or `json`,
    /// one object a line.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Plain, env = "STRATBOX_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// How logs are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    /// Text; colour codes only when stderr is a terminal.
    Plain,
    /// One JSON object a line.
    Json,
}

/// The subcommands. (Parsed once: the size of the backtest's many options does not matter.)
#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Checks a component against the contract: its world, imports, exports and size.
    Check(check::Args),
    /// Backtests strategies over candles, trades or book captures and reports their orders,
    /// fills, equity and metrics.
    Backtest(backtest::Args),
    /// Runs the host as a long-lived service.
    Serve(serve::Args),
    /// Deploys a component to a running service.
    Deploy(operator::DeployArgs),
    /// Replaces a deployment's code between two events.
    Swap(operator::SwapArgs),
    /// Switches a deployment back to its previous version.
    Rollback(operator::NameArgs),
    /// Stops a deployment (its open orders are cancelled).
    Halt(operator::NameArgs),
    /// Restarts a halted deployment.
    Resume(operator::NameArgs),
    /// Lists deployments.
    List(operator::ListArgs),
    /// Removes a deployment: its orders are cancelled, its history stays.
    Remove(operator::NameArgs),
    /// The API's tokens: hash a secret for the configuration, create, list or revoke tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// The kill switch: every deployment HALTED, open orders cancelled, positions optionally
    /// closed.
    Kill(trading::KillArgs),
    /// Reads the account's and deployments' risk, or sets a trading state.
    TradingState(trading::StateArgs),
    /// Moves a deployment's holdings toward target weights with market orders.
    Rebalance(trading::RebalanceArgs),
    /// Market history: import, export and fetch candles.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Runs the Binance-compatible exchange simulator on loopback.
    ExchangeSim(sim::Args),
    /// Computes TA-Lib indicators over a candle file and writes them as CSV.
    Indicators(indicators::Args),
    /// The feature registry.
    #[command(subcommand)]
    Features(features::FeaturesCommand),
    /// Neural models: run one on a tensor file, or describe one.
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Risk measures over candle files: VaR and CVaR, portfolio weights, VaR backtests.
    #[command(subcommand)]
    Risk(risk::RiskCommand),
    /// The signals' stored outcomes: quality per source, kind and symbol, optimizers' skill.
    #[command(subcommand)]
    Signals(signals::SignalsCommand),
}

/// Runs `work` to completion on a runtime of the calling thread.
fn block_on<T>(work: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(work)
}

/// Parses the command line, runs the subcommand, and maps errors to a non-zero exit.
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    init_tracing(
        if matches!(cli.command, Command::Serve(_)) {
            "info"
        } else {
            "warn"
        },
        cli.log_format,
    );
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Backtest(args) => backtest::run(
            args,
            matches
                .subcommand_matches("backtest")
                .expect("the backtest subcommand's matches"),
        ),
        Command::Serve(args) => serve::run(args),
        Command::Deploy(args) => operator::run(operator::Op::Deploy(args)),
        Command::Swap(args) => operator::run(operator::Op::Swap(args)),
        Command::Rollback(args) => operator::run(operator::Op::Action("rollback", args)),
        Command::Halt(args) => operator::run(operator::Op::Action("halt", args)),
        Command::Resume(args) => operator::run(operator::Op::Action("resume", args)),
        Command::List(args) => operator::run(operator::Op::List(args)),
        Command::Remove(args) => operator::run(operator::Op::Remove(args)),
        Command::Token(command) => token::run(command),
        Command::Kill(args) => trading::kill(args),
        Command::TradingState(args) => trading::state(args),
        Command::Rebalance(args) => trading::rebalance(args),
        Command::Data(command) => data::run(command),
        Command::ExchangeSim(args) => sim::run(
            args,
            matches
                .subcommand_matches("exchange-sim")
                .expect("the exchange-sim subcommand's matches"),
        ),
        Command::Indicators(args) => indicators::run(args),
        Command::Features(command) => features::run(command),
        Command::Model(command) => model::run(command),
        Command::Risk(command) => risk::run(command),
        Command::Signals(command) => signals::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(default_level: &str, format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("STRATBOX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Plain => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Reads a file, naming it in the error.
pub(crate) fn read_file(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}

/// Reads a text file, naming it in the error.
pub(crate) fn read_text(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}
