//! Value at risk and expected shortfall (CVaR) of a return series or a portfolio.
//!
//! Both are positive loss fractions over a horizon of `h` bars at confidence `c` (tail
//! probability `a = 1 - c`):
//! - historical: the empirical `a` quantile `q` of the overlapping `h`-bar sums of returns,
//!   linearly interpolated between order statistics (numpy's default); VaR `-q`, CVaR the mean
//!   loss of the sums at or below `q`;
//! - parametric: normal with the sample mean and standard deviation (ddof 1), scaled by
//!   `h` and `sqrt(h)`;
//! - EWMA: RiskMetrics, zero mean, variance `sum w_i r_i^2` with weights `lambda^(T-1-i)`
//!   normalised to one (`lambda` 0.94 by default), scaled by `sqrt(h)`;
//! - Cornish-Fisher: the normal quantile corrected by the sample skewness and excess kurtosis
//!   (both biased, as scipy's defaults); CVaR integrates the corrected quantile over the tail
//!   exactly, by the normal's partial moments;
//! - Monte Carlo: seeded correlated normal draws (Cholesky of the sample covariance, mean and
//!   covariance scaled by `h`), then the historical estimator on the simulated returns.

use crate::rng::Rng;
use crate::stats::{excess_kurtosis, mean, normal_pdf, normal_ppf, quantile_sorted, skewness, std};
use crate::{Matrix, QuantError, unit_interval};

/// RiskMetrics' decay for daily data.
pub const RISKMETRICS_LAMBDA: f64 = 0.94;

/// How a VaR is estimated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// The empirical quantile.
    Historical,
    /// Normal with the sample's mean and standard deviation.
    Parametric,
    /// Normal, zero mean, exponentially weighted variance with this decay.
    Ewma {
        /// The decay (RiskMetrics: 0.94).
        lambda: f64,
    },
    /// Normal quantile corrected for skewness and kurtosis.
    CornishFisher,
    /// Correlated normal simulation.
    MonteCarlo {
        /// Simulated paths.
        paths: usize,
        /// The generator's seed.
        seed: u64,
    },
}

/// A VaR and its CVaR at one confidence, as positive loss fractions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The confidence (e.g. 0.95).
    pub confidence: f64,
    /// Value at risk.
    pub var: f64,
    /// Expected shortfall beyond the VaR.
    pub cvar: f64,
}

fn check(what: &'static str, n: usize, needed: usize) -> Result<(), QuantError> {
    if n < needed {
        return Err(QuantError::TooFewReturns {
            what,
            needed,
            got: n,
        });
    }
    Ok(())
}

fn check_inputs(returns: &[f64], confidence: f64, horizon: usize) -> Result<(), QuantError> {
    unit_interval("confidence", confidence)?;
    if horizon == 0 {
        return Err(QuantError::Parameter {
            name: "horizon",
            expected: "at least one bar",
            got: 0.0,
        });
    }
    if returns.iter().any(|r| !r.is_finite()) {
        return Err(QuantError::NotFinite("the returns"));
    }
    Ok(())
}

/// VaR and CVaR of one return series (a deployment's or a portfolio's) over `horizon` bars.
pub fn series(
    returns: &[f64],
    method: Method,
    confidence: f64,
    horizon: usize,
) -> Result<Estimate, QuantError> {
    check_inputs(returns, confidence, horizon)?;
    let a = 1.0 - confidence;
    let h = horizon as f64;
    let (var, cvar) = match method {
        Method::Historical => {
            check("historical VaR", returns.len(), horizon + 1)?;
            historical(&overlapping_sums(returns, horizon), a)
        }
        Method::Parametric => {
            check("parametric VaR", returns.len(), 2)?;
            normal(mean(returns) * h, std(returns, 1) * h.sqrt(), a)
        }
        Method::Ewma { lambda } => {
            unit_interval("lambda", lambda)?;
            check("EWMA VaR", returns.len(), 1)?;
            normal(0.0, ewma_variance(returns, lambda).sqrt() * h.sqrt(), a)
        }
        Method::CornishFisher => {
            check("Cornish-Fisher VaR", returns.len(), 4)?;
            cornish_fisher(returns, h, a)
        }
        Method::MonteCarlo { paths, seed } => {
            check("Monte Carlo VaR", returns.len(), 2)?;
            check_paths(paths)?;
            let (m, s) = (mean(returns) * h, std(returns, 1) * h.sqrt());
            let mut rng = Rng(seed);
            let draws: Vec<f64> = (0..paths).map(|_| m + s * rng.normal()).collect();
            historical(&draws, a)
        }
    };
    Ok(Estimate {
        confidence,
        var,
        cvar,
    })
}

/// VaR and CVaR of a portfolio with `weights` over assets' `returns` (one row a bar).
/// Monte Carlo draws the assets jointly; every other method reads the portfolio's returns.
pub fn portfolio(
    returns: &Matrix,
    weights: &[f64],
    method: Method,
    confidence: f64,
    horizon: usize,
) -> Result<Estimate, QuantError> {
    let p = returns.times(weights)?;
    let Method::MonteCarlo { paths, seed } = method else {
        return series(&p, method, confidence, horizon);
    };
    check_inputs(&p, confidence, horizon)?;
    check("Monte Carlo VaR", p.len(), returns.cols() + 1)?;
    check_paths(paths)?;
    let h = horizon as f64;
    let means = returns.column_means();
    let cov = crate::covariance::sample(returns)?;
    let l = cov.cholesky().ok_or_else(|| {
        QuantError::Shape("the assets' covariance is not positive definite".into())
    })?;
    // The portfolio's loading on each independent normal: sqrt(h) L' w.
    let n = returns.cols();
    let loading: Vec<f64> = (0..n)
        .map(|k| h.sqrt() * (k..n).map(|i| l.get(i, k) * weights[i]).sum::<f64>())
        .collect();
    let drift = h * crate::matrix::dot(&means, weights);
    let mut rng = Rng(seed);
    let draws: Vec<f64> = (0..paths)
        .map(|_| drift + loading.iter().map(|c| c * rng.normal()).sum::<f64>())
        .collect();
    let (var, cvar) = historical(&draws, 1.0 - confidence);
    Ok(Estimate {
        confidence,
        var,
        cvar,
    })
}

fn check_paths(paths: usize) -> Result<(), QuantError> {
    if paths < 100 {
        return Err(QuantError::Parameter {
            name: "paths",
            expected: "at least 100",
            got: paths as f64,
        });
    }
    Ok(())
}

/// Sums of each `h` consecutive returns.
pub fn overlapping_sums(returns: &[f64], h: usize) -> Vec<f64> {
    if h == 1 {
        return returns.to_vec();
    }
    returns.windows(h).map(|w| w.iter().sum()).collect()
}

/// (VaR, CVaR) of an empirical distribution at tail probability `a`.
fn historical(values: &[f64], a: f64) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let q = quantile_sorted(&sorted, a);
    let tail = &sorted[..sorted.partition_point(|&v| v <= q)];
    (-q, -mean(tail))
}

/// (VaR, CVaR) of a normal with mean `m` and deviation `s` at tail probability `a`.
fn normal(m: f64, s: f64, a: f64) -> (f64, f64) {
    let z = normal_ppf(a);
    (-(m + z * s), -(m - s * normal_pdf(z) / a))
}

/// The RiskMetrics variance: zero mean, weights `lambda^(T-1-i)` normalised to one.
pub fn ewma_variance(returns: &[f64], lambda: f64) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for r in returns {
        num = lambda * num + r * r;
        den = lambda * den + 1.0;
    }
    num / den
}

fn cornish_fisher(returns: &[f64], h: f64, a: f64) -> (f64, f64) {
    let (m, s) = (mean(returns) * h, std(returns, 1) * h.sqrt());
    let (sk, k) = (skewness(returns), excess_kurtosis(returns));
    let z = normal_ppf(a);
    let zcf = z + (z * z - 1.0) * sk / 6.0 + (z.powi(3) - 3.0 * z) * k / 24.0
        - (2.0 * z.powi(3) - 5.0 * z) * sk * sk / 36.0;
    // E[zcf(Z); Z < z] / a from the normal's partial moments M0..M3.
    let phi = normal_pdf(z);
    let (m0, m1, m2, m3) = (a, -phi, a - z * phi, -(z * z + 2.0) * phi);
    let tail = m1 + (m2 - m0) * sk / 6.0 + (m3 - 3.0 * m1) * k / 24.0
        - (2.0 * m3 - 5.0 * m1) * sk * sk / 36.0;
    (-(m + zcf * s), -(m + s * tail / a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_parameters_and_too_few_returns() {
        let r = [0.01, -0.02, 0.005];
        assert!(series(&r, Method::Historical, 1.0, 1).is_err());
        assert!(series(&r, Method::Historical, 0.95, 0).is_err());
        assert!(matches!(
            series(&r, Method::Historical, 0.95, 3),
            Err(QuantError::TooFewReturns { needed: 4, .. })
        ));
        assert!(series(&r, Method::CornishFisher, 0.95, 1).is_err());
        assert!(series(&[0.1, f64::NAN], Method::Parametric, 0.95, 1).is_err());
        let mc = Method::MonteCarlo { paths: 10, seed: 1 };
        assert!(series(&r, mc, 0.95, 1).is_err());
    }

    #[test]
    fn cornish_fisher_without_skew_or_kurtosis_is_normal() {
        // Symmetric, and with the kurtosis of the normal it is parametric: check the formula's
        // tail integral against numerical integration of the corrected quantile instead.
        let r: Vec<f64> = (0..2000)
            .map(|i| ((i * 7919) % 2000) as f64 / 1e5 - 0.01)
            .collect();
        let e = series(&r, Method::CornishFisher, 0.95, 1).unwrap();
        let (m, s) = (mean(&r), std(&r, 1));
        let (sk, k) = (skewness(&r), excess_kurtosis(&r));
        let zcf = |z: f64| {
            z + (z * z - 1.0) * sk / 6.0 + (z.powi(3) - 3.0 * z) * k / 24.0
                - (2.0 * z.powi(3) - 5.0 * z) * sk * sk / 36.0
        };
        let n = 200_000;
        let integral: f64 = (0..n)
            .map(|i| zcf(normal_ppf(0.05 * (i as f64 + 0.5) / n as f64)))
            .sum::<f64>()
            / n as f64;
        assert!((e.cvar - -(m + s * integral)).abs() < 1e-6, "{e:?}");
    }
}
