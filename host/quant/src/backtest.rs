//! Backtests of a VaR series: exceptions counted against Kupiec's proportion-of-failures test,
//! Christoffersen's independence test and their sum (conditional coverage), each a likelihood
//! ratio with its chi-square p-value, and the Basel Committee's traffic-light zone.

use crate::stats::{binomial_cdf, chi2_sf};
use crate::var::{Method, series};
use crate::{QuantError, unit_interval};

/// A likelihood-ratio statistic and its p-value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrTest {
    /// The statistic.
    pub statistic: f64,
    /// Its chi-square p-value.
    pub p_value: f64,
}

/// The Basel traffic light: how likely so many exceptions are for a correct model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// Cumulative probability of the exceptions below 95 %.
    Green,
    /// Below 99.99 %.
    Yellow,
    /// Otherwise.
    Red,
}

impl Zone {
    /// The zone's name in lower case.
    pub fn name(self) -> &'static str {
        match self {
            Zone::Green => "green",
            Zone::Yellow => "yellow",
            Zone::Red => "red",
        }
    }
}

/// `n ln x`, with `0 ln 0 = 0`.
fn xlogy(n: f64, x: f64) -> f64 {
    if n == 0.0 { 0.0 } else { n * x.ln() }
}

/// Kupiec's proportion-of-failures test: `exceptions` in `observations` against the expected
/// rate `alpha` (chi-square, 1 degree of freedom).
pub fn kupiec(exceptions: usize, observations: usize, alpha: f64) -> LrTest {
    let (x, t) = (exceptions as f64, observations as f64);
    let rate = x / t;
    let statistic = -2.0
        * (xlogy(t - x, 1.0 - alpha) + xlogy(x, alpha) - xlogy(t - x, 1.0 - rate) - xlogy(x, rate));
    LrTest {
        statistic,
        p_value: chi2_sf(statistic, 1.0),
    }
}

/// Christoffersen's independence test on the exception sequence (chi-square, 1 degree of
/// freedom): whether an exception makes the next one more likely.
pub fn christoffersen(exceptions: &[bool]) -> LrTest {
    let mut n = [[0.0f64; 2]; 2];
    for w in exceptions.windows(2) {
        n[w[0] as usize][w[1] as usize] += 1.0;
    }
    let [[n00, n01], [n10, n11]] = n;
    let ratio = |a: f64, b: f64| if a + b == 0.0 { 0.0 } else { b / (a + b) };
    let (pi01, pi11) = (ratio(n00, n01), ratio(n10, n11));
    let pi = ratio(n00 + n10, n01 + n11);
    let statistic = -2.0
        * (xlogy(n00 + n10, 1.0 - pi) + xlogy(n01 + n11, pi)
            - xlogy(n00, 1.0 - pi01)
            - xlogy(n01, pi01)
            - xlogy(n10, 1.0 - pi11)
            - xlogy(n11, pi11));
    LrTest {
        statistic,
        p_value: chi2_sf(statistic, 1.0),
    }
}

/// The Basel zone of `exceptions` in `observations` at tail probability `alpha`, with the
/// binomial probability of at most that many exceptions.
pub fn basel_zone(exceptions: usize, observations: usize, alpha: f64) -> (Zone, f64) {
    let p = binomial_cdf(exceptions as u64, observations as u64, alpha);
    let zone = if p < 0.95 {
        Zone::Green
    } else if p < 0.9999 {
        Zone::Yellow
    } else {
        Zone::Red
    };
    (zone, p)
}

/// A rolling one-bar-ahead backtest of a VaR method.
#[derive(Clone, Debug, PartialEq)]
pub struct Backtest {
    /// Forecasts tested.
    pub observations: usize,
    /// Bars whose return fell below minus the forecast VaR.
    pub exceptions: usize,
    /// Each forecast's exception, in order.
    pub sequence: Vec<bool>,
    /// Kupiec's test.
    pub kupiec: LrTest,
    /// Christoffersen's independence test.
    pub independence: LrTest,
    /// Conditional coverage: the two statistics summed (chi-square, 2 degrees of freedom).
    pub conditional_coverage: LrTest,
    /// The Basel zone.
    pub zone: Zone,
    /// The binomial probability of at most `exceptions`.
    pub zone_probability: f64,
}

/// Forecasts each bar's one-bar VaR from the `window` returns before it and tests the
/// exceptions.
pub fn rolling(
    returns: &[f64],
    window: usize,
    method: Method,
    confidence: f64,
) -> Result<Backtest, QuantError> {
    unit_interval("confidence", confidence)?;
    if window < 2 || returns.len() <= window {
        return Err(QuantError::TooFewReturns {
            what: "a VaR backtest",
            needed: window.max(2) + 1,
            got: returns.len(),
        });
    }
    let sequence = (window..returns.len())
        .map(|t| {
            let e = series(&returns[t - window..t], method, confidence, 1)?;
            Ok(returns[t] < -e.var)
        })
        .collect::<Result<Vec<bool>, QuantError>>()?;
    Ok(evaluate(sequence, 1.0 - confidence))
}

/// The tests of an exception sequence at tail probability `alpha`.
pub fn evaluate(sequence: Vec<bool>, alpha: f64) -> Backtest {
    let observations = sequence.len();
    let exceptions = sequence.iter().filter(|&&e| e).count();
    let kupiec = kupiec(exceptions, observations, alpha);
    let independence = christoffersen(&sequence);
    let statistic = kupiec.statistic + independence.statistic;
    let (zone, zone_probability) = basel_zone(exceptions, observations, alpha);
    Backtest {
        observations,
        exceptions,
        sequence,
        kupiec,
        independence,
        conditional_coverage: LrTest {
            statistic,
            p_value: chi2_sf(statistic, 2.0),
        },
        zone,
        zone_probability,
    }
}
