//! `stratbox risk`: VaR and CVaR, portfolio weights and VaR backtests over candle files
//! (the analyses themselves are `risk::analysis`, which the control API serves too).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::risk::analysis::{
    self, BacktestQuery, CovarianceKind, MethodQuery, Objective, OptimizeQuery, VarMethod, VarQuery,
};
use crate::risk::returns::{self, Returns};
use stratbox_quant::var::RISKMETRICS_LAMBDA;

/// `stratbox risk` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum RiskCommand {
    /// VaR and CVaR of a portfolio of the files' assets.
    Var(VarArgs),
    /// Long-only portfolio weights summing to one.
    Optimize(OptimizeArgs),
    /// Rolling one-bar VaR forecasts tested against the returns that followed.
    BacktestVar(BacktestArgs),
}

/// What every risk command reads.
#[derive(clap::Args, Debug)]
pub struct Prices {
    /// Candle CSVs, one an asset (named after the file's stem); returns are simple
    /// close-to-close returns on the open times common to all files.
    #[arg(long, value_delimiter = ',', required = true)]
    prices: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// A VaR method's settings.
#[derive(clap::Args, Debug)]
pub struct MethodArgs {
    /// The estimator.
    #[arg(long, value_enum)]
    method: VarMethod,
    /// Confidences (e.g. 0.95,0.99).
    #[arg(long, value_delimiter = ',', default_value = "0.95,0.99")]
    confidence: Vec<f64>,
    /// EWMA decay.
    #[arg(long, default_value_t = RISKMETRICS_LAMBDA)]
    lambda: f64,
    /// Monte Carlo paths.
    #[arg(long, default_value_t = 10_000)]
    paths: usize,
    /// Monte Carlo seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl MethodArgs {
    fn query(self) -> MethodQuery {
        MethodQuery {
            method: self.method,
            confidence: self.confidence,
            lambda: self.lambda,
            paths: self.paths,
            seed: self.seed,
        }
    }
}

/// Arguments of `stratbox risk var`.
#[derive(clap::Args, Debug)]
pub struct VarArgs {
    #[command(flatten)]
    prices: Prices,
    /// Portfolio weights in the files' order; equal weights when absent.
    #[arg(long, value_delimiter = ',')]
    weights: Vec<f64>,
    #[command(flatten)]
    method: MethodArgs,
    /// The horizon in bars: square root of time for the parametric methods, overlapping sums
    /// of returns for the historical one.
    #[arg(long, default_value_t = 1)]
    horizon_bars: usize,
}

/// Arguments of `stratbox risk optimize`.
#[derive(clap::Args, Debug)]
pub struct OptimizeArgs {
    #[command(flatten)]
    prices: Prices,
    /// The objective.
    #[arg(long, value_enum)]
    method: Objective,
    /// The covariance estimator (min-variance, max-sharpe, risk-parity, hrp).
    #[arg(long, value_enum, default_value = "sample")]
    covariance: CovarianceKind,
    /// The largest weight of one asset (min-variance, max-sharpe, min-cvar).
    #[arg(long, default_value_t = 1.0)]
    max_weight: f64,
    /// The CVaR confidence of min-cvar.
    #[arg(long, default_value_t = 0.95)]
    beta: f64,
    /// Current weights, for the turnover penalty (min-variance, min-cvar).
    #[arg(long, value_delimiter = ',', requires = "turnover_cost")]
    current: Vec<f64>,
    /// Cost per unit of turnover `sum |w - current|`, added to the objective.
    #[arg(long, requires = "current")]
    turnover_cost: Option<f64>,
}

/// Arguments of `stratbox risk backtest-var`.
#[derive(clap::Args, Debug)]
pub struct BacktestArgs {
    #[command(flatten)]
    prices: Prices,
    /// Portfolio weights in the files' order; equal weights when absent.
    #[arg(long, value_delimiter = ',')]
    weights: Vec<f64>,
    /// Returns each forecast is estimated from.
    #[arg(long)]
    window: usize,
    #[command(flatten)]
    method: MethodArgs,
}

/// Runs a risk subcommand.
pub fn run(command: RiskCommand) -> anyhow::Result<ExitCode> {
    let (json, value, text) = match command {
        RiskCommand::Var(args) => {
            let r = read(&args.prices)?;
            let q = VarQuery {
                weights: args.weights,
                horizon_bars: args.horizon_bars,
                method: args.method.query(),
            };
            let a = analysis::value_at_risk(&r, &q)?;
            let mut text = format!(
                "{} returns of {} ({} bars horizon, {:?})\n{:<12} {:>12} {:>12}\n",
                a.observations,
                r.names.join(", "),
                a.horizon_bars,
                a.method,
                "confidence",
                "VaR",
                "CVaR"
            );
            for (c, var) in &a.var {
                text += &format!(
                    "{c:<12} {:>11.4}% {:>11.4}%\n",
                    var * 100.0,
                    a.cvar[c] * 100.0
                );
            }
            (args.prices.json, serde_json::to_value(&a)?, text)
        }
        RiskCommand::Optimize(args) => {
            let r = read(&args.prices)?;
            let q = OptimizeQuery {
                method: args.method,
                covariance: args.covariance,
                max_weight: args.max_weight,
                beta: args.beta,
                current: args.current,
                turnover_cost: args.turnover_cost,
            };
            let a = analysis::optimize(&r, &q)?;
            let mut text = format!("{:?} weights ({:?} covariance)\n", a.method, a.covariance);
            for name in &r.names {
                text += &format!("{name:<24} {:>9.6}\n", a.weights[name]);
            }
            text += &format!(
                "mean return a bar {:.6e}, volatility a bar {:.6e}\n",
                a.mean_return, a.volatility
            );
            (args.prices.json, serde_json::to_value(&a)?, text)
        }
        RiskCommand::BacktestVar(args) => {
            let r = read(&args.prices)?;
            let q = BacktestQuery {
                weights: args.weights,
                window: args.window,
                method: args.method.query(),
            };
            let a = analysis::backtest_var(&r, &q)?;
            let mut text = format!(
                "{:<10} {:>6} {:>10} {:>10} {:>10} {:>10} {:>8}\n",
                "confidence", "obs", "exceptions", "Kupiec p", "indep. p", "cc p", "zone"
            );
            for (c, b) in &a.backtests {
                text += &format!(
                    "{c:<10} {:>6} {:>10} {:>10.4} {:>10.4} {:>10.4} {:>8}\n",
                    b.observations,
                    b.exceptions,
                    b.kupiec.p_value,
                    b.independence.p_value,
                    b.conditional_coverage.p_value,
                    b.zone
                );
            }
            (args.prices.json, serde_json::to_value(&a)?, text)
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}

fn read(prices: &Prices) -> anyhow::Result<Returns> {
    Ok(returns::read(&prices.prices)?)
}
