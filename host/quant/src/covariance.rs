//! Covariance estimators of asset returns (one row a bar): the sample covariance (ddof 1, as
//! numpy's `cov` and PyPortfolioOpt's `sample_cov`), Ledoit-Wolf shrinkage toward a scaled
//! identity (scikit-learn's `LedoitWolf`: centred data, the 1/T covariance, its shrinkage
//! formula), and RiskMetrics' exponentially weighted covariance (zero mean, weights
//! `lambda^(T-1-i)` normalised to one).

use crate::{Matrix, QuantError};

/// Which estimator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Estimator {
    /// The sample covariance.
    Sample,
    /// Ledoit-Wolf shrinkage.
    LedoitWolf,
    /// Exponentially weighted, with this decay.
    Ewma {
        /// The decay (RiskMetrics: 0.94).
        lambda: f64,
    },
}

/// The covariance of `returns` by `estimator`.
pub fn estimate(returns: &Matrix, estimator: Estimator) -> Result<Matrix, QuantError> {
    match estimator {
        Estimator::Sample => sample(returns),
        Estimator::LedoitWolf => ledoit_wolf(returns).map(|(c, _)| c),
        Estimator::Ewma { lambda } => ewma(returns, lambda),
    }
}

fn need(returns: &Matrix, what: &'static str, n: usize) -> Result<(), QuantError> {
    if returns.rows() < n {
        return Err(QuantError::TooFewReturns {
            what,
            needed: n,
            got: returns.rows(),
        });
    }
    if returns.cols() == 0 {
        return Err(QuantError::Shape("no assets".into()));
    }
    Ok(())
}

/// `sum_t x_t x_t'` of the rows of `x` minus `centre`, divided by `div`.
fn scatter(x: &Matrix, centre: &[f64], div: f64) -> Matrix {
    let n = x.cols();
    // The upper triangle, row by row, so the inner loop runs over contiguous memory.
    let mut upper = vec![0.0; n * n];
    let mut d = vec![0.0; n];
    for t in 0..x.rows() {
        for ((d, v), c) in d.iter_mut().zip(x.row(t)).zip(centre) {
            *d = v - c;
        }
        for i in 0..n {
            let di = d[i];
            for (acc, dj) in upper[i * n + i..(i + 1) * n].iter_mut().zip(&d[i..]) {
                *acc += di * dj;
            }
        }
    }
    let mut c = Matrix::zeros(n, n);
    for i in 0..n {
        for j in i..n {
            let v = upper[i * n + j] / div;
            c.set(i, j, v);
            c.set(j, i, v);
        }
    }
    c
}

/// The sample covariance, ddof 1.
pub fn sample(returns: &Matrix) -> Result<Matrix, QuantError> {
    need(returns, "the sample covariance", 2)?;
    Ok(scatter(
        returns,
        &returns.column_means(),
        (returns.rows() - 1) as f64,
    ))
}

/// Ledoit-Wolf's shrunk covariance and its shrinkage, as scikit-learn computes them.
pub fn ledoit_wolf(returns: &Matrix) -> Result<(Matrix, f64), QuantError> {
    need(returns, "the Ledoit-Wolf covariance", 2)?;
    let (t, p) = (returns.rows() as f64, returns.cols());
    let means = returns.column_means();
    let emp = scatter(returns, &means, t);
    let mu = (0..p).map(|i| emp.get(i, i)).sum::<f64>() / p as f64;
    // beta_ = sum_t (sum_j x_tj^2)^2; delta_ = sum_jk (sum_t x_tj x_tk)^2 / T^2.
    let mut beta_ = 0.0;
    for r in 0..returns.rows() {
        let s: f64 = returns
            .row(r)
            .iter()
            .zip(&means)
            .map(|(v, m)| (v - m) * (v - m))
            .sum();
        beta_ += s * s;
    }
    let mut delta_ = 0.0;
    for i in 0..p {
        for j in 0..p {
            delta_ += emp.get(i, j) * emp.get(i, j);
        }
    }
    let trace = mu * p as f64;
    let beta = (beta_ / t - delta_) / (p as f64 * t);
    let delta = (delta_ - 2.0 * mu * trace + p as f64 * mu * mu) / p as f64;
    let beta = beta.min(delta);
    let shrinkage = if beta == 0.0 { 0.0 } else { beta / delta };
    let mut c = emp;
    for i in 0..p {
        for j in 0..p {
            let target = if i == j { mu } else { 0.0 };
            c.set(i, j, (1.0 - shrinkage) * c.get(i, j) + shrinkage * target);
        }
    }
    Ok((c, shrinkage))
}

/// RiskMetrics' exponentially weighted covariance.
pub fn ewma(returns: &Matrix, lambda: f64) -> Result<Matrix, QuantError> {
    crate::unit_interval("lambda", lambda)?;
    need(returns, "the EWMA covariance", 1)?;
    let n = returns.cols();
    let mut c = Matrix::zeros(n, n);
    let mut den = 0.0;
    for t in 0..returns.rows() {
        let r = returns.row(t);
        for i in 0..n {
            for j in i..n {
                c.set(i, j, lambda * c.get(i, j) + r[i] * r[j]);
            }
        }
        den = lambda * den + 1.0;
    }
    for i in 0..n {
        for j in i..n {
            let v = c.get(i, j) / den;
            c.set(i, j, v);
            c.set(j, i, v);
        }
    }
    Ok(c)
}

/// The correlation matrix of a covariance matrix.
pub fn correlation(cov: &Matrix) -> Matrix {
    let n = cov.rows();
    let mut c = Matrix::zeros(n, n);
    for i in 0..n {
        for j in 0..n {
            c.set(i, j, cov.get(i, j) / (cov.get(i, i) * cov.get(j, j)).sqrt());
        }
    }
    c
}
