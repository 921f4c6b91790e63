//! Equal risk contribution by cyclical coordinate descent on Spinu's convex form
//! (minimise `y'Σy/2 - sum ln(y_i) / n`, then `w = y / sum(y)`; Griveau-Billion, Richard and
//! Roncalli 2013): each asset contributes `w_i (Σw)_i`, the same for all.

use crate::{Matrix, QuantError};

/// The equal-risk-contribution weights of covariance `cov` (long-only, summing to one).
pub fn risk_parity(cov: &Matrix) -> Result<Vec<f64>, QuantError> {
    let n = super::square(cov)?;
    if n == 0 {
        return Err(QuantError::Shape("no assets".into()));
    }
    if (0..n).any(|i| cov.get(i, i) <= 0.0) {
        return Err(QuantError::Infeasible(
            "an asset without variance has no risk to equalise".into(),
        ));
    }
    let b = 1.0 / n as f64;
    let mut y: Vec<f64> = (0..n).map(|i| 1.0 / cov.get(i, i).sqrt()).collect();
    for _ in 0..10_000 {
        let mut change: f64 = 0.0;
        for i in 0..n {
            let others: f64 = (0..n)
                .filter(|&j| j != i)
                .map(|j| cov.get(i, j) * y[j])
                .sum();
            let sii = cov.get(i, i);
            let next = (-others + (others * others + 4.0 * sii * b).sqrt()) / (2.0 * sii);
            change = change.max((next - y[i]).abs() / next);
            y[i] = next;
        }
        if change < 1e-15 {
            break;
        }
    }
    let s: f64 = y.iter().sum();
    Ok(y.iter().map(|v| v / s).collect())
}
