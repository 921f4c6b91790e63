//! `stratbox kill`, `stratbox trading-state` and `stratbox rebalance`: the kill switch, the
//! trading states and target weights of a running service, over its control endpoint.

use super::block_on;
use super::operator::Endpoint;
use crate::api::Client;
use crate::engine::RiskReport;
use crate::risk::TradingState;
use std::process::ExitCode;

/// Arguments of `stratbox kill`.
#[derive(clap::Args, Debug)]
pub struct KillArgs {
    /// Also close every position, by immediate-or-cancel orders within `--max-slippage`.
    #[arg(long)]
    flatten: bool,
    /// The farthest through the touch a closing order may go, as a fraction.
    #[arg(long, default_value_t = 0.01)]
    max_slippage: f64,
    /// Why (recorded with the HALTED state).
    #[arg(long)]
    reason: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// Arguments of `stratbox trading-state`.
#[derive(clap::Args, Debug)]
pub struct StateArgs {
    /// The deployment; the whole account when absent.
    #[arg(long)]
    name: Option<String>,
    /// The state to set (`active`, `reducing`, `halted`); only reads when absent.
    #[arg(long, value_parser = parse_state)]
    set: Option<TradingState>,
    /// Why (recorded with the state).
    #[arg(long, requires = "set")]
    reason: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    endpoint: Endpoint,
}

/// Arguments of `stratbox rebalance`.
#[derive(clap::Args, Debug)]
pub struct RebalanceArgs {
    /// The deployment.
    #[arg(long)]
    name: String,
    /// Target weights: `SYMBOL=FRACTION` of the deployment's equity, comma-separated
    /// (`BTCUSDT=0.5,ETHUSDT=0.3`; the rest stays in the valuation asset).
    #[arg(long, value_delimiter = ',', value_parser = parse_weight, required = true)]
    weights: Vec<(String, f64)>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    endpoint: Endpoint,
}

fn parse_weight(text: &str) -> Result<(String, f64), String> {
    let (symbol, weight) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: write SYMBOL=FRACTION, e.g. BTCUSDT=0.5"))?;
    let weight: f64 = weight
        .parse()
        .map_err(|_| format!("{text:?}: {weight:?} is not a number"))?;
    Ok((symbol.trim().to_ascii_uppercase(), weight))
}

/// Moves a deployment's holdings toward target weights.
pub fn rebalance(args: RebalanceArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.endpoint.endpoint, &args.endpoint.token);
    let report = block_on(client.rebalance(&args.name, args.weights.into_iter().collect()))?;
    print(&report, args.json)
}

fn parse_state(text: &str) -> Result<TradingState, String> {
    TradingState::parse(text)
        .ok_or_else(|| format!("{text:?} is not a trading state: use active, reducing or halted"))
}

/// Pulls the kill switch.
pub fn kill(args: KillArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.endpoint.endpoint, &args.endpoint.token);
    let flatten = args.flatten.then_some(args.max_slippage);
    let report = block_on(client.kill(flatten, args.reason))?;
    print(&report, args.json)
}

/// Reads or sets a trading state.
pub fn state(args: StateArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(&args.endpoint.endpoint, &args.endpoint.token);
    let report = match args.set {
        Some(state) => block_on(client.set_state(args.name.as_deref(), state, args.reason))?,
        None => block_on(client.risk())?,
    };
    print(&report, args.json)
}

fn print(report: &RiskReport, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "account: {} {}",
        report.account.state.name(),
        report.account.reason
    );
    if let Some(n) = report.cancelled {
        println!("cancelled {n} open orders");
    }
    for f in &report.flatten {
        match (&f.order_id, &f.refused) {
            (Some(id), _) => println!("closing {} of {}: order {id}", f.symbol, f.deployment),
            (None, Some(why)) => {
                println!("could not close {} of {}: {why}", f.symbol, f.deployment)
            }
            _ => {}
        }
    }
    for r in &report.rebalance {
        match (&r.order_id, &r.refused) {
            (Some(id), _) => println!("{} {} {}: order {id}", r.side, r.quantity, r.symbol),
            (None, Some(why)) => println!("{} {} {}: refused: {why}", r.side, r.quantity, r.symbol),
            _ => {}
        }
    }
    println!(
        "{:<20} {:<9} {:>14} {:>9} {:>8} reason",
        "deployment", "state", "equity", "drawdown", "VaR"
    );
    for d in &report.deployments {
        println!(
            "{:<20} {:<9} {:>14.4} {:>8.2}% {:>8} {}",
            d.name,
            d.state.state.name(),
            d.equity,
            d.drawdown * 100.0,
            d.var
                .map_or_else(|| "-".to_string(), |v| format!("{:.2}%", v * 100.0)),
            d.state.reason
        );
    }
    Ok(ExitCode::SUCCESS)
}
