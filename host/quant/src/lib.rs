//! Risk and portfolio mathematics for the host's risk stage and the `stratbox risk` commands.
//!
//! Everything here is a pure function of its inputs (returns as a [`Matrix`] of simple returns,
//! one row a bar, one column an asset), checked against numpy/scipy, scikit-learn and
//! PyPortfolioOpt by the fixtures in `tests/fixtures/risk/`:
//! - [`var`]: value at risk and expected shortfall by five methods;
//! - [`backtest`]: Kupiec's and Christoffersen's tests of a VaR series, Basel's traffic light;
//! - [`covariance`]: sample, Ledoit-Wolf and EWMA estimators;
//! - [`optimize`]: minimum variance, maximum Sharpe, risk parity, HRP and minimum CVaR weights;
//! - [`sizing`]: position sizes from volatility, Kelly or a stop distance;
//! - [`performance`]: a Sharpe ratio's bootstrap interval, probabilistic and deflated Sharpe.

pub mod backtest;
pub mod cointegration;
pub mod covariance;
mod matrix;
pub mod optimize;
pub mod performance;
pub mod rng;
pub mod sizing;
pub mod stats;
pub mod var;

pub use matrix::Matrix;

/// What was wrong with a risk computation's input.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QuantError {
    /// Too few observations for the estimate.
    #[error("{what} needs at least {needed} returns, got {got}")]
    TooFewReturns {
        /// The estimate.
        what: &'static str,
        /// The fewest it works with.
        needed: usize,
        /// What it was given.
        got: usize,
    },
    /// Inputs whose sizes disagree.
    #[error("{0}")]
    Shape(String),
    /// A parameter out of its range.
    #[error("{name} must be {expected}, got {got}")]
    Parameter {
        /// The parameter.
        name: &'static str,
        /// Its range, in words.
        expected: &'static str,
        /// The value given.
        got: f64,
    },
    /// A value that is not finite among the inputs.
    #[error("{0} holds a value that is not a finite number")]
    NotFinite(&'static str),
    /// The optimisation has no solution under its constraints.
    #[error("{0}")]
    Infeasible(String),
}

/// Checks that `value` lies in the open interval (0, 1).
pub(crate) fn unit_interval(name: &'static str, value: f64) -> Result<(), QuantError> {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(QuantError::Parameter {
            name,
            expected: "strictly between 0 and 1",
            got: value,
        })
    }
}
