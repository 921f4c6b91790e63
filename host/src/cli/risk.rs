//! `stratbox risk`: VaR and CVaR, portfolio weights and VaR backtests over candle files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use stratbox_quant::backtest::{self, Backtest, LrTest};
use stratbox_quant::covariance::{self, Estimator};
use stratbox_quant::optimize::{self, Constraints};
use stratbox_quant::var::{self, Method, RISKMETRICS_LAMBDA};

use crate::risk::returns::{self, Returns};

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

/// How a VaR is estimated, on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum VarMethod {
    Historical,
    Parametric,
    Ewma,
    CornishFisher,
    MonteCarlo,
}

/// A VaR method's settings.
#[derive(clap::Args, Debug)]
pub struct MethodArgs {
    /// The estimator.
    #[arg(long, value_enum)]
    method: VarMethod,
    /// Confidences (e.g. 0.95,0.99).
    #[arg(long, value_delimiter = ',', default_value = "0.95,0.99")]
    confidence: Vec<String>,
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
    fn method(&self) -> Method {
        match self.method {
            VarMethod::Historical => Method::Historical,
            VarMethod::Parametric => Method::Parametric,
            VarMethod::Ewma => Method::Ewma {
                lambda: self.lambda,
            },
            VarMethod::CornishFisher => Method::CornishFisher,
            VarMethod::MonteCarlo => Method::MonteCarlo {
                paths: self.paths,
                seed: self.seed,
            },
        }
    }

    /// Each confidence as given and as a number.
    fn confidences(&self) -> anyhow::Result<Vec<(String, f64)>> {
        self.confidence
            .iter()
            .map(|c| {
                let v: f64 = c
                    .parse()
                    .with_context(|| format!("--confidence {c:?} is not a number"))?;
                Ok((c.clone(), v))
            })
            .collect()
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

/// Optimisers on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Objective {
    MinVariance,
    MaxSharpe,
    RiskParity,
    Hrp,
    MinCvar,
}

/// Covariance estimators on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum CovarianceKind {
    Sample,
    LedoitWolf,
    Ewma,
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
        RiskCommand::Var(args) => var_command(args)?,
        RiskCommand::Optimize(args) => optimize_command(args)?,
        RiskCommand::BacktestVar(args) => backtest_command(args)?,
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

/// The weights given, or equal ones; as many as assets.
fn weights(given: &[f64], r: &Returns) -> anyhow::Result<Vec<f64>> {
    let n = r.names.len();
    if given.is_empty() {
        return Ok(vec![1.0 / n as f64; n]);
    }
    if given.len() != n {
        bail!("--weights has {} values for {n} price files", given.len());
    }
    if given.iter().any(|w| !w.is_finite()) {
        bail!("--weights holds a value that is not a number");
    }
    Ok(given.to_vec())
}

fn named(r: &Returns, values: &[f64]) -> Value {
    let map: serde_json::Map<String, Value> = r
        .names
        .iter()
        .zip(values)
        .map(|(n, v)| (n.clone(), json!(v)))
        .collect();
    Value::Object(map)
}

type Output = (bool, Value, String);

fn var_command(args: VarArgs) -> anyhow::Result<Output> {
    let r = read(&args.prices)?;
    let w = weights(&args.weights, &r)?;
    let method = args.method.method();
    let (mut vars, mut cvars) = (BTreeMap::new(), BTreeMap::new());
    let mut text = format!(
        "{} returns of {} ({} bars horizon, {:?})\n{:<12} {:>12} {:>12}\n",
        r.matrix.rows(),
        r.names.join(", "),
        args.horizon_bars,
        args.method.method,
        "confidence",
        "VaR",
        "CVaR"
    );
    for (label, c) in args.method.confidences()? {
        let e = var::portfolio(&r.matrix, &w, method, c, args.horizon_bars)?;
        text += &format!(
            "{label:<12} {:>11.4}% {:>11.4}%\n",
            e.var * 100.0,
            e.cvar * 100.0
        );
        vars.insert(label.clone(), e.var);
        cvars.insert(label, e.cvar);
    }
    let value = json!({
        "var": vars,
        "cvar": cvars,
        "method": format!("{:?}", args.method.method),
        "horizon_bars": args.horizon_bars,
        "observations": r.matrix.rows(),
        "weights": named(&r, &w),
    });
    Ok((args.prices.json, value, text))
}

fn optimize_command(args: OptimizeArgs) -> anyhow::Result<Output> {
    let r = read(&args.prices)?;
    let estimator = match args.covariance {
        CovarianceKind::Sample => Estimator::Sample,
        CovarianceKind::LedoitWolf => Estimator::LedoitWolf,
        CovarianceKind::Ewma => Estimator::Ewma {
            lambda: RISKMETRICS_LAMBDA,
        },
    };
    let cov = covariance::estimate(&r.matrix, estimator)?;
    let constraints = Constraints {
        max_weight: args.max_weight,
        turnover: args.turnover_cost.map(|cost| (args.current.clone(), cost)),
    };
    let turnover_unused = constraints.turnover.is_some()
        && !matches!(args.method, Objective::MinVariance | Objective::MinCvar);
    if turnover_unused {
        bail!("--turnover-cost applies to min-variance and min-cvar only");
    }
    let w = match args.method {
        Objective::MinVariance => optimize::min_variance(&cov, &constraints)?,
        Objective::MaxSharpe => {
            optimize::max_sharpe(&r.matrix.column_means(), &cov, args.max_weight)?
        }
        Objective::RiskParity => optimize::risk_parity(&cov)?,
        Objective::Hrp => optimize::hrp(&cov)?,
        Objective::MinCvar => optimize::min_cvar(&r.matrix, args.beta, &constraints)?,
    };
    let mean: f64 = stratbox_quant::stats::mean(&r.matrix.times(&w)?);
    let volatility = cov.quadratic(&w).sqrt();
    let mut text = format!(
        "{:?} weights ({:?} covariance)\n",
        args.method, args.covariance
    );
    for (name, v) in r.names.iter().zip(&w) {
        text += &format!("{name:<24} {v:>9.6}\n");
    }
    text += &format!("mean return a bar {mean:.6e}, volatility a bar {volatility:.6e}\n");
    let value = json!({
        "weights": named(&r, &w),
        "method": format!("{:?}", args.method),
        "covariance": format!("{:?}", args.covariance),
        "mean_return": mean,
        "volatility": volatility,
    });
    Ok((args.prices.json, value, text))
}

fn lr(t: &LrTest) -> Value {
    json!({"statistic": t.statistic, "p_value": t.p_value})
}

fn backtest_command(args: BacktestArgs) -> anyhow::Result<Output> {
    let r = read(&args.prices)?;
    let w = weights(&args.weights, &r)?;
    let p = r.matrix.times(&w)?;
    let method = args.method.method();
    let mut results = BTreeMap::new();
    let mut text = format!(
        "{:<10} {:>6} {:>10} {:>10} {:>10} {:>10} {:>8}\n",
        "confidence", "obs", "exceptions", "Kupiec p", "indep. p", "cc p", "zone"
    );
    for (label, c) in args.method.confidences()? {
        let b: Backtest = backtest::rolling(&p, args.window, method, c)?;
        text += &format!(
            "{label:<10} {:>6} {:>10} {:>10.4} {:>10.4} {:>10.4} {:>8}\n",
            b.observations,
            b.exceptions,
            b.kupiec.p_value,
            b.independence.p_value,
            b.conditional_coverage.p_value,
            b.zone.name()
        );
        results.insert(
            label,
            json!({
                "observations": b.observations,
                "exceptions": b.exceptions,
                "kupiec": lr(&b.kupiec),
                "independence": lr(&b.independence),
                "conditional_coverage": lr(&b.conditional_coverage),
                "zone": b.zone.name(),
                "zone_probability": b.zone_probability,
            }),
        );
    }
    let value = json!({
        "backtests": results,
        "method": format!("{:?}", args.method.method),
        "window": args.window,
        "weights": named(&r, &w),
    });
    Ok((args.prices.json, value, text))
}
