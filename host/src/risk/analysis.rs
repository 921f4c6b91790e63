//! The risk analyses operators run over aligned returns — VaR and CVaR, portfolio weights, VaR
//! backtests — as typed queries and answers, shared by `stratbox risk` and the control API.

use super::returns::Returns;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use stratbox_quant::backtest::{self, LrTest};
use stratbox_quant::covariance::{self, Estimator};
use stratbox_quant::optimize::{self, Constraints};
use stratbox_quant::var::{self, Method, RISKMETRICS_LAMBDA};
use stratbox_quant::{Matrix, QuantError};

/// Why an analysis could not run.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// The mathematics refused its input.
    #[error(transparent)]
    Quant(#[from] QuantError),
    /// A query that does not fit the assets.
    #[error("{0}")]
    Query(String),
}

/// How a VaR is estimated.
#[derive(
    utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum VarMethod {
    /// The empirical quantile.
    Historical,
    /// Normal with the sample's mean and deviation.
    Parametric,
    /// Normal, zero mean, RiskMetrics variance.
    Ewma,
    /// The normal quantile corrected for skewness and kurtosis.
    CornishFisher,
    /// Correlated normal simulation.
    MonteCarlo,
}

/// A VaR method's settings.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodQuery {
    /// The estimator.
    pub method: VarMethod,
    /// Confidences.
    #[serde(default = "default_confidence")]
    pub confidence: Vec<f64>,
    /// EWMA decay.
    #[serde(default = "default_lambda")]
    pub lambda: f64,
    /// Monte Carlo paths.
    #[serde(default = "default_paths")]
    pub paths: usize,
    /// Monte Carlo seed.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

fn default_confidence() -> Vec<f64> {
    vec![0.95, 0.99]
}

fn default_lambda() -> f64 {
    RISKMETRICS_LAMBDA
}

fn default_paths() -> usize {
    10_000
}

fn default_seed() -> u64 {
    1
}

fn default_horizon() -> usize {
    1
}

impl MethodQuery {
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
}

/// `stratbox risk var` / `POST /v1/risk/var`.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize)]
pub struct VarQuery {
    /// Portfolio weights in the assets' order; equal weights when empty.
    #[serde(default)]
    pub weights: Vec<f64>,
    /// The horizon in bars.
    #[serde(default = "default_horizon")]
    pub horizon_bars: usize,
    /// The method.
    #[serde(flatten)]
    pub method: MethodQuery,
}

/// VaR and CVaR by confidence (`"0.95"`), with what they were computed from.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VarAnswer {
    /// Value at risk by confidence, positive loss fractions.
    pub var: BTreeMap<String, f64>,
    /// Expected shortfall by confidence.
    pub cvar: BTreeMap<String, f64>,
    /// The method.
    pub method: VarMethod,
    /// The horizon in bars.
    pub horizon_bars: usize,
    /// Returns used.
    pub observations: usize,
    /// The portfolio's weights by asset.
    pub weights: BTreeMap<String, f64>,
}

/// The weights given, or equal ones; as many as assets.
fn weights(given: &[f64], r: &Returns) -> Result<Vec<f64>, AnalysisError> {
    let n = r.names.len();
    if given.is_empty() {
        return Ok(vec![1.0 / n as f64; n]);
    }
    if given.len() != n {
        return Err(AnalysisError::Query(format!(
            "{} weights for {n} assets ({})",
            given.len(),
            r.names.join(", ")
        )));
    }
    if given.iter().any(|w| !w.is_finite()) {
        return Err(AnalysisError::Query(
            "the weights hold a value that is not a number".into(),
        ));
    }
    Ok(given.to_vec())
}

fn named(r: &Returns, values: &[f64]) -> BTreeMap<String, f64> {
    r.names
        .iter()
        .cloned()
        .zip(values.iter().copied())
        .collect()
}

fn label(confidence: f64) -> String {
    format!("{confidence}")
}

/// VaR and CVaR of the portfolio of `r`'s assets.
pub fn value_at_risk(r: &Returns, q: &VarQuery) -> Result<VarAnswer, AnalysisError> {
    let w = weights(&q.weights, r)?;
    let method = q.method.method();
    let (mut var_by, mut cvar_by) = (BTreeMap::new(), BTreeMap::new());
    for &c in &q.method.confidence {
        let e = var::portfolio(&r.matrix, &w, method, c, q.horizon_bars)?;
        var_by.insert(label(c), e.var);
        cvar_by.insert(label(c), e.cvar);
    }
    Ok(VarAnswer {
        var: var_by,
        cvar: cvar_by,
        method: q.method.method,
        horizon_bars: q.horizon_bars,
        observations: r.matrix.rows(),
        weights: named(r, &w),
    })
}

/// What the optimiser minimises or maximises.
#[derive(
    utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// Least variance.
    MinVariance,
    /// Highest Sharpe ratio (risk-free rate 0).
    MaxSharpe,
    /// Equal risk contributions.
    RiskParity,
    /// Hierarchical risk parity.
    Hrp,
    /// Least CVaR over the historical scenarios.
    MinCvar,
}

/// Which covariance estimator.
#[derive(
    utoipa::ToSchema,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum CovarianceKind {
    /// The sample covariance.
    #[default]
    Sample,
    /// Ledoit-Wolf shrinkage.
    LedoitWolf,
    /// RiskMetrics' EWMA.
    Ewma,
}

/// `stratbox risk optimize` / `POST /v1/risk/optimize`.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizeQuery {
    /// The objective.
    pub method: Objective,
    /// The covariance estimator.
    #[serde(default)]
    pub covariance: CovarianceKind,
    /// The largest weight of one asset.
    #[serde(default = "default_max_weight")]
    pub max_weight: f64,
    /// The CVaR confidence of `min-cvar`.
    #[serde(default = "default_beta")]
    pub beta: f64,
    /// Current weights, for the turnover penalty.
    #[serde(default)]
    pub current: Vec<f64>,
    /// Cost per unit of turnover (min-variance, min-cvar).
    #[serde(default)]
    pub turnover_cost: Option<f64>,
}

fn default_max_weight() -> f64 {
    1.0
}

fn default_beta() -> f64 {
    0.95
}

/// Portfolio weights and what they give.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OptimizeAnswer {
    /// Weights by asset.
    pub weights: BTreeMap<String, f64>,
    /// The objective.
    pub method: Objective,
    /// The covariance estimator.
    pub covariance: CovarianceKind,
    /// The portfolio's mean return a bar.
    pub mean_return: f64,
    /// Its volatility a bar, by the estimator.
    pub volatility: f64,
}

/// Long-only weights summing to one for `r`'s assets.
pub fn optimize(r: &Returns, q: &OptimizeQuery) -> Result<OptimizeAnswer, AnalysisError> {
    let estimator = match q.covariance {
        CovarianceKind::Sample => Estimator::Sample,
        CovarianceKind::LedoitWolf => Estimator::LedoitWolf,
        CovarianceKind::Ewma => Estimator::Ewma {
            lambda: RISKMETRICS_LAMBDA,
        },
    };
    let cov: Matrix = covariance::estimate(&r.matrix, estimator)?;
    let constraints = Constraints {
        max_weight: q.max_weight,
        turnover: q.turnover_cost.map(|cost| (q.current.clone(), cost)),
    };
    if constraints.turnover.is_some()
        && !matches!(q.method, Objective::MinVariance | Objective::MinCvar)
    {
        return Err(AnalysisError::Query(
            "a turnover cost applies to min-variance and min-cvar only".into(),
        ));
    }
    let w = match q.method {
        Objective::MinVariance => optimize::min_variance(&cov, &constraints)?,
        Objective::MaxSharpe => optimize::max_sharpe(&r.matrix.column_means(), &cov, q.max_weight)?,
        Objective::RiskParity => optimize::risk_parity(&cov)?,
        Objective::Hrp => optimize::hrp(&cov)?,
        Objective::MinCvar => optimize::min_cvar(&r.matrix, q.beta, &constraints)?,
    };
    Ok(OptimizeAnswer {
        mean_return: stratbox_quant::stats::mean(&r.matrix.times(&w)?),
        volatility: cov.quadratic(&w).sqrt(),
        weights: named(r, &w),
        method: q.method,
        covariance: q.covariance,
    })
}

/// `stratbox risk backtest-var` / `POST /v1/risk/backtest-var`.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize)]
pub struct BacktestQuery {
    /// Portfolio weights in the assets' order; equal weights when empty.
    #[serde(default)]
    pub weights: Vec<f64>,
    /// Returns each forecast is estimated from.
    pub window: usize,
    /// The method.
    #[serde(flatten)]
    pub method: MethodQuery,
}

/// A likelihood ratio and its p-value.
#[derive(utoipa::ToSchema, Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct TestAnswer {
    /// The statistic.
    pub statistic: f64,
    /// Its chi-square p-value.
    pub p_value: f64,
}

impl From<LrTest> for TestAnswer {
    fn from(t: LrTest) -> Self {
        TestAnswer {
            statistic: t.statistic,
            p_value: t.p_value,
        }
    }
}

/// One confidence's backtest.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BacktestAnswer {
    /// Forecasts tested.
    pub observations: usize,
    /// Returns below minus the forecast.
    pub exceptions: usize,
    /// Kupiec's proportion of failures.
    pub kupiec: TestAnswer,
    /// Christoffersen's independence.
    pub independence: TestAnswer,
    /// Conditional coverage.
    pub conditional_coverage: TestAnswer,
    /// Basel's zone.
    pub zone: String,
    /// The binomial probability of at most that many exceptions.
    pub zone_probability: f64,
}

/// Backtests by confidence.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BacktestsAnswer {
    /// By confidence (`"0.99"`).
    pub backtests: BTreeMap<String, BacktestAnswer>,
    /// The method.
    pub method: VarMethod,
    /// The estimation window.
    pub window: usize,
    /// The portfolio's weights by asset.
    pub weights: BTreeMap<String, f64>,
}

/// Rolling one-bar VaR forecasts of the portfolio tested against what followed.
pub fn backtest_var(r: &Returns, q: &BacktestQuery) -> Result<BacktestsAnswer, AnalysisError> {
    let w = weights(&q.weights, r)?;
    let p = r.matrix.times(&w)?;
    let method = q.method.method();
    let mut backtests = BTreeMap::new();
    for &c in &q.method.confidence {
        let b = backtest::rolling(&p, q.window, method, c)?;
        backtests.insert(
            label(c),
            BacktestAnswer {
                observations: b.observations,
                exceptions: b.exceptions,
                kupiec: b.kupiec.into(),
                independence: b.independence.into(),
                conditional_coverage: b.conditional_coverage.into(),
                zone: b.zone.name().to_string(),
                zone_probability: b.zone_probability,
            },
        );
    }
    Ok(BacktestsAnswer {
        backtests,
        method: q.method.method,
        window: q.window,
        weights: named(r, &w),
    })
}
