//! Long-only portfolio weights that sum to one, each within `[0, max_weight]`:
//! minimum variance, maximum Sharpe ratio (risk-free rate 0), equal risk contribution (risk
//! parity), hierarchical risk parity (Lopez de Prado, single linkage, as PyPortfolioOpt's
//! `HRPOpt`) and minimum CVaR (Rockafellar and Uryasev's linear program, as PyPortfolioOpt's
//! `EfficientCVaR`), with an optional turnover penalty against current weights. The
//! quadratic and linear programs are solved by Clarabel.

mod hrp;
mod qp;
mod risk_parity;

pub use hrp::hrp;
pub use risk_parity::risk_parity;

use crate::{Matrix, QuantError};
use qp::Qp;

/// Constraints shared by the optimisers.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraints {
    /// The largest weight of one asset (1 for none).
    pub max_weight: f64,
    /// Current weights and the cost per unit of turnover: adds `cost * sum |w - current|`
    /// to the objective.
    pub turnover: Option<(Vec<f64>, f64)>,
}

impl Default for Constraints {
    fn default() -> Self {
        Constraints {
            max_weight: 1.0,
            turnover: None,
        }
    }
}

impl Constraints {
    fn check(&self, n: usize) -> Result<(), QuantError> {
        if n == 0 {
            return Err(QuantError::Shape("no assets".into()));
        }
        if !(self.max_weight > 0.0 && self.max_weight <= 1.0) {
            return Err(QuantError::Parameter {
                name: "max weight",
                expected: "in (0, 1]",
                got: self.max_weight,
            });
        }
        if self.max_weight * (n as f64) < 1.0 - 1e-12 {
            return Err(QuantError::Infeasible(format!(
                "{n} assets of at most {} cannot sum to 1",
                self.max_weight
            )));
        }
        if let Some((current, cost)) = &self.turnover {
            if current.len() != n {
                return Err(QuantError::Shape(format!(
                    "{} current weights for {n} assets",
                    current.len()
                )));
            }
            if !(cost.is_finite() && *cost >= 0.0) {
                return Err(QuantError::Parameter {
                    name: "turnover cost",
                    expected: "a non-negative number",
                    got: *cost,
                });
            }
        }
        Ok(())
    }

    /// Weights `0..n` sum to one and lie in their bounds; the turnover penalty, if any, uses
    /// variables `at..at + n`.
    fn apply(&self, qp: &mut Qp, n: usize, at: usize) {
        qp.equal((0..n).map(|i| (i, 1.0)).collect(), 1.0);
        for i in 0..n {
            qp.at_most(vec![(i, -1.0)], 0.0);
            qp.at_most(vec![(i, 1.0)], self.max_weight);
        }
        if let Some((current, cost)) = &self.turnover {
            // t_i >= |w_i - c_i|.
            for (i, c) in current.iter().enumerate() {
                qp.linear(at + i, *cost);
                qp.at_most(vec![(i, 1.0), (at + i, -1.0)], *c);
                qp.at_most(vec![(i, -1.0), (at + i, -1.0)], -c);
            }
        }
    }

    fn extra(&self, n: usize) -> usize {
        if self.turnover.is_some() { n } else { 0 }
    }
}

fn square(cov: &Matrix) -> Result<usize, QuantError> {
    if cov.rows() != cov.cols() {
        return Err(QuantError::Shape(format!(
            "a covariance of {} x {}",
            cov.rows(),
            cov.cols()
        )));
    }
    Ok(cov.rows())
}

/// Cleans solver noise: negatives to zero, renormalised to sum to one.
fn tidy(mut w: Vec<f64>, n: usize) -> Vec<f64> {
    w.truncate(n);
    w.iter_mut().for_each(|v| *v = v.max(0.0));
    let s: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= s);
    w
}

/// The weights of least variance `w' cov w`.
pub fn min_variance(cov: &Matrix, constraints: &Constraints) -> Result<Vec<f64>, QuantError> {
    let n = square(cov)?;
    constraints.check(n)?;
    let mut qp = Qp::new(n + constraints.extra(n));
    qp.quadratic(0, cov, 2.0);
    constraints.apply(&mut qp, n, n);
    Ok(tidy(qp.solve()?, n))
}

/// The weights of the highest Sharpe ratio `mu'w / sqrt(w' cov w)` (risk-free rate 0), by
/// the usual change of variables: minimise `y' cov y` with `mu'y = 1`, `w = y / sum(y)`.
/// Needs an asset with a positive expected return; no turnover penalty (the change of
/// variables does not keep it convex).
pub fn max_sharpe(mu: &[f64], cov: &Matrix, max_weight: f64) -> Result<Vec<f64>, QuantError> {
    let n = square(cov)?;
    Constraints {
        max_weight,
        turnover: None,
    }
    .check(n)?;
    if mu.len() != n {
        return Err(QuantError::Shape(format!(
            "{} expected returns for {n} assets",
            mu.len()
        )));
    }
    if mu.iter().all(|&m| m <= 0.0) {
        return Err(QuantError::Infeasible(
            "no asset has a positive expected return: the maximum Sharpe ratio is undefined".into(),
        ));
    }
    // Variables y_0..y_n-1 and kappa = sum(y).
    let mut qp = Qp::new(n + 1);
    qp.quadratic(0, cov, 2.0);
    qp.equal(mu.iter().copied().enumerate().collect(), 1.0);
    let mut sum: Vec<(usize, f64)> = (0..n).map(|i| (i, 1.0)).collect();
    sum.push((n, -1.0));
    qp.equal(sum, 0.0);
    for i in 0..n {
        qp.at_most(vec![(i, -1.0)], 0.0);
        qp.at_most(vec![(i, 1.0), (n, -max_weight)], 0.0);
    }
    qp.at_most(vec![(n, -1.0)], 0.0);
    Ok(tidy(qp.solve()?, n))
}

/// The weights of least CVaR at confidence `beta` over the scenarios `returns` (one row a
/// bar): minimise `alpha + sum_t u_t / ((1 - beta) T)` with `u_t >= -r_t'w - alpha`, `u >= 0`.
pub fn min_cvar(
    returns: &Matrix,
    beta: f64,
    constraints: &Constraints,
) -> Result<Vec<f64>, QuantError> {
    crate::unit_interval("beta", beta)?;
    let (t, n) = (returns.rows(), returns.cols());
    constraints.check(n)?;
    if t < 2 {
        return Err(QuantError::TooFewReturns {
            what: "minimum CVaR",
            needed: 2,
            got: t,
        });
    }
    // Variables: w (n), turnover (extra), alpha, u (t).
    let extra = constraints.extra(n);
    let alpha = n + extra;
    let u = alpha + 1;
    let mut qp = Qp::new(u + t);
    constraints.apply(&mut qp, n, n);
    qp.linear(alpha, 1.0);
    let scale = 1.0 / ((1.0 - beta) * t as f64);
    for s in 0..t {
        qp.linear(u + s, scale);
        let mut row: Vec<(usize, f64)> = returns.row(s).iter().map(|&r| -r).enumerate().collect();
        row.push((alpha, -1.0));
        row.push((u + s, -1.0));
        qp.at_most(row, 0.0);
        qp.at_most(vec![(u + s, -1.0)], 0.0);
    }
    Ok(tidy(qp.solve()?, n))
}

/// The CVaR at confidence `beta` of a portfolio over historical scenarios, as the minimum-CVaR
/// program measures it (the mean loss beyond the `beta` quantile of losses, with the
/// Rockafellar-Uryasev fractional tail).
pub fn scenario_cvar(returns: &Matrix, weights: &[f64], beta: f64) -> Result<f64, QuantError> {
    let mut losses: Vec<f64> = returns.times(weights)?.iter().map(|r| -r).collect();
    losses.sort_by(f64::total_cmp);
    let t = losses.len() as f64;
    // min over alpha of alpha + E[(L - alpha)+] / (1 - beta): attained at a loss value.
    Ok(losses
        .iter()
        .map(|&a| a + losses.iter().map(|l| (l - a).max(0.0)).sum::<f64>() / ((1.0 - beta) * t))
        .fold(f64::INFINITY, f64::min))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cov3() -> Matrix {
        Matrix::from_rows(&[
            vec![0.04, 0.006, 0.002],
            vec![0.006, 0.09, 0.009],
            vec![0.002, 0.009, 0.0225],
        ])
        .unwrap()
    }

    #[test]
    fn refuses_what_cannot_be_solved() {
        let c = Constraints {
            max_weight: 0.3,
            turnover: None,
        };
        assert!(matches!(
            min_variance(&cov3(), &c),
            Err(QuantError::Infeasible(_))
        ));
        assert!(max_sharpe(&[-0.1, -0.2, 0.0], &cov3(), 1.0).is_err());
        assert!(min_variance(&Matrix::zeros(2, 3), &Constraints::default()).is_err());
    }

    #[test]
    fn turnover_holds_weights_near_the_current_ones() {
        let free = min_variance(&cov3(), &Constraints::default()).unwrap();
        let current = vec![0.6, 0.2, 0.2];
        let costly = Constraints {
            max_weight: 1.0,
            turnover: Some((current.clone(), 10.0)),
        };
        let held = min_variance(&cov3(), &costly).unwrap();
        for (h, c) in held.iter().zip(&current) {
            assert!((h - c).abs() < 1e-6, "{held:?}");
        }
        let cheap = Constraints {
            max_weight: 1.0,
            turnover: Some((current, 0.0)),
        };
        let same = min_variance(&cov3(), &cheap).unwrap();
        for (a, b) in same.iter().zip(&free) {
            assert!((a - b).abs() < 1e-6);
        }
    }
}
