//! Performance metrics of a run, with the conventions of the usual Python libraries (empyrical,
//! quantstats) given daily data and that annualisation:
//!
//! - returns are those of the equity curve resampled to UTC days (each day's last equity, a
//!   day without a sample keeping the previous one), the first day's against the starting
//!   equity;
//! - a year is 365 days (crypto trades every day), the risk-free rate is 0;
//! - annual return is the compound annual growth rate over those days, annual volatility the
//!   sample standard deviation (ddof 1) times sqrt(365), Sharpe their mean over that deviation
//!   times sqrt(365), Sortino the mean over the downside deviation (root mean square of the
//!   negative returns, zero for the rest) times sqrt(365), Calmar the annual return over the
//!   maximum drawdown of the daily curve.
//!
//! Drawdown is also measured on the whole curve, every sample (`max_drawdown`, with its
//! duration from the peak to the recovery or the end). Trade statistics come from the fills:
//! a closing trade is a fill that reduces a position; it wins when its price beats the average
//! entry by more than its fee.

use crate::model::{Fill, Side, TimestampMs};
use serde::Serialize;
use std::collections::HashMap;

const DAY_MS: i64 = 86_400_000;
const DAYS_A_YEAR: f64 = 365.0;

/// Headline figures of a run (of one deployment, or of all together).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Equity at the start.
    pub initial_equity: f64,
    /// Equity at the end.
    pub final_equity: f64,
    /// `final - initial`.
    pub pnl: f64,
    /// `final / initial - 1`.
    pub total_return: f64,
    /// Compound annual growth of the daily curve.
    pub annual_return: f64,
    /// Standard deviation of daily returns, annualised.
    pub annual_volatility: f64,
    /// Mean over standard deviation of daily returns, annualised.
    pub sharpe: f64,
    /// Mean over downside deviation of daily returns, annualised.
    pub sortino: f64,
    /// Annual return over the daily curve's maximum drawdown.
    pub calmar: f64,
    /// Largest peak-to-trough fall of the whole equity curve, as a fraction of the peak.
    pub max_drawdown: f64,
    /// How long that drawdown lasted, peak to recovery (or the end), in ms.
    pub max_drawdown_duration_ms: i64,
    /// Largest peak-to-trough fall of the daily curve.
    pub max_drawdown_daily: f64,
    /// Daily returns the ratios were computed from.
    pub days: usize,
    /// Share of closing trades that made money after fees.
    pub win_rate: f64,
    /// Profit of winning closing trades over the loss of losing ones.
    pub profit_factor: f64,
    /// Number of fills.
    pub trades: usize,
    /// Number of fills that reduced or closed a position.
    pub closing_trades: usize,
    /// Traded notional over the starting equity.
    pub turnover: f64,
    /// Fees paid (in the quote asset of each fill).
    pub fees: f64,
    /// Share of the run's time with an open position.
    pub exposure_time: f64,
}

/// One sample of an equity curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct EquityPoint {
    /// Event time.
    pub time: TimestampMs,
    /// Equity then.
    pub equity: f64,
}

/// The daily returns of a curve starting at `initial`.
pub fn daily_returns(initial: f64, curve: &[EquityPoint]) -> Vec<f64> {
    let Some(first) = curve.first() else {
        return Vec::new();
    };
    let first_day = first.time.div_euclid(DAY_MS);
    let last_day = curve
        .last()
        .map_or(first_day, |p| p.time.div_euclid(DAY_MS));
    let mut closes = Vec::with_capacity((last_day - first_day + 1) as usize);
    let mut i = 0;
    let mut equity = initial;
    for day in first_day..=last_day {
        while i < curve.len() && curve[i].time.div_euclid(DAY_MS) <= day {
            equity = curve[i].equity;
            i += 1;
        }
        closes.push(equity);
    }
    let mut previous = initial;
    closes
        .into_iter()
        .map(|e| {
            let r = if previous != 0.0 {
                e / previous - 1.0
            } else {
                0.0
            };
            previous = e;
            r
        })
        .collect()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation (ddof 1).
fn std_dev(x: &[f64]) -> f64 {
    if x.len() < 2 {
        return f64::NAN;
    }
    let m = mean(x);
    (x.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / (x.len() - 1) as f64).sqrt()
}

/// The return-based ratios of daily returns: (annual return, annual volatility, Sharpe,
/// Sortino, max drawdown, Calmar), NaN where undefined.
pub fn ratios(returns: &[f64]) -> (f64, f64, f64, f64, f64, f64) {
    if returns.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN, f64::NAN, 0.0, f64::NAN);
    }
    let growth: f64 = returns.iter().map(|r| 1.0 + r).product();
    let years = returns.len() as f64 / DAYS_A_YEAR;
    let annual_return = growth.powf(1.0 / years) - 1.0;
    let sd = std_dev(returns);
    let annual_volatility = sd * DAYS_A_YEAR.sqrt();
    let m = mean(returns);
    let sharpe = m / sd * DAYS_A_YEAR.sqrt();
    let downside = (returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / returns.len() as f64)
        .sqrt()
        * DAYS_A_YEAR.sqrt();
    let sortino = m * DAYS_A_YEAR / downside;
    let mut peak = 1.0f64;
    let mut value = 1.0f64;
    let mut max_drawdown = 0.0f64;
    for r in returns {
        value *= 1.0 + r;
        peak = peak.max(value);
        max_drawdown = max_drawdown.max(1.0 - value / peak);
    }
    let calmar = if max_drawdown > 0.0 {
        annual_return / max_drawdown
    } else {
        f64::NAN
    };
    (
        annual_return,
        annual_volatility,
        sharpe,
        sortino,
        max_drawdown,
        calmar,
    )
}

/// The deepest fall of a curve from a peak, as a fraction of the peak, and how long it lasted
/// from the peak to the recovery (or the curve's end).
pub fn drawdown(initial: f64, curve: &[EquityPoint]) -> (f64, i64) {
    let start = curve.first().map_or(0, |p| p.time);
    let (mut peak, mut peak_time) = (initial, start);
    let (mut deepest, mut deepest_duration) = (0.0f64, 0i64);
    // The current drawdown's depth, and whether it is the deepest seen.
    let (mut current, mut current_is_deepest) = (0.0f64, false);
    for p in curve {
        if p.equity >= peak {
            if current_is_deepest {
                deepest_duration = p.time - peak_time;
            }
            peak = p.equity;
            peak_time = p.time;
            current = 0.0;
            current_is_deepest = false;
            continue;
        }
        if peak > 0.0 {
            current = current.max((peak - p.equity) / peak);
        }
        if current > deepest {
            deepest = current;
            current_is_deepest = true;
        }
    }
    if current_is_deepest {
        deepest_duration = curve.last().map_or(0, |p| p.time) - peak_time;
    }
    (deepest, deepest_duration)
}

/// Trade statistics of fills: (closing trades, winners, gross profit, gross loss).
fn closing_trades(fills: &[Fill]) -> (usize, usize, f64, f64) {
    let mut book: HashMap<u32, (f64, f64)> = HashMap::new(); // symbol -> (signed qty, average price)
    let (mut closing, mut wins, mut profit, mut loss) = (0, 0, 0.0, 0.0);
    for f in fills {
        let (qty, avg) = book.entry(f.symbol).or_insert((0.0, 0.0));
        let price = f.price.to_f64();
        let q = f.quantity.to_f64();
        let signed = if f.side == Side::Buy { q } else { -q };
        if *qty != 0.0 && qty.signum() != signed.signum() {
            let closed = q.min(qty.abs());
            let pnl = (price - *avg) * closed * qty.signum() - f.fee.to_f64();
            closing += 1;
            if pnl > 0.0 {
                wins += 1;
                profit += pnl;
            } else {
                loss -= pnl;
            }
            let after = *qty + signed;
            if after == 0.0 || after.signum() != qty.signum() {
                *avg = price;
            }
            *qty = after;
        } else {
            let total = qty.abs() + q;
            *avg = if total > 0.0 {
                (*avg * qty.abs() + price * q) / total
            } else {
                0.0
            };
            *qty += signed;
        }
    }
    (closing, wins, profit, loss)
}

/// Share of the time between the curve's first and last samples during which the fills left a
/// position open.
fn exposure_time(fills: &[Fill], curve: &[EquityPoint]) -> f64 {
    let (Some(first), Some(last)) = (curve.first(), curve.last()) else {
        return 0.0;
    };
    let span = last.time - first.time;
    if span <= 0 {
        return 0.0;
    }
    let mut open: HashMap<u32, f64> = HashMap::new();
    let (mut exposed, mut since) = (0i64, None::<TimestampMs>);
    for f in fills {
        let q = f.quantity.to_f64();
        let position = open.entry(f.symbol).or_insert(0.0);
        *position += if f.side == Side::Buy { q } else { -q };
        if position.abs() < 1e-12 {
            *position = 0.0;
        }
        let any_open = open.values().any(|&p| p != 0.0);
        match (since, any_open) {
            (None, true) => since = Some(f.time),
            (Some(t), false) => {
                exposed += f.time - t;
                since = None;
            }
            _ => {}
        }
    }
    if let Some(t) = since {
        exposed += last.time - t;
    }
    (exposed as f64 / span as f64).clamp(0.0, 1.0)
}

/// The metrics of a run that started at `initial` equity, sampled as `curve`, with `fills`.
pub fn measure(initial: f64, curve: &[EquityPoint], fills: &[Fill]) -> Metrics {
    let final_equity = curve.last().map_or(initial, |p| p.equity);
    let returns = daily_returns(initial, curve);
    let (annual_return, annual_volatility, sharpe, sortino, max_drawdown_daily, calmar) =
        ratios(&returns);
    let (max_drawdown, max_drawdown_duration_ms) = drawdown(initial, curve);
    let (closing, wins, profit, loss) = closing_trades(fills);
    let traded: f64 = fills.iter().map(|f| f.quote_quantity.to_f64().abs()).sum();
    Metrics {
        initial_equity: initial,
        final_equity,
        pnl: final_equity - initial,
        total_return: if initial != 0.0 {
            final_equity / initial - 1.0
        } else {
            0.0
        },
        annual_return,
        annual_volatility,
        sharpe,
        sortino,
        calmar,
        max_drawdown,
        max_drawdown_duration_ms,
        max_drawdown_daily,
        days: returns.len(),
        win_rate: if closing > 0 {
            wins as f64 / closing as f64
        } else {
            0.0
        },
        profit_factor: if loss > 0.0 {
            profit / loss
        } else if profit > 0.0 {
            f64::INFINITY
        } else {
            0.0
        },
        trades: fills.len(),
        closing_trades: closing,
        turnover: if initial != 0.0 {
            traded / initial
        } else {
            0.0
        },
        fees: fills.iter().map(|f| f.fee.to_f64()).sum(),
        exposure_time: exposure_time(fills, curve),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(day: f64, equity: f64) -> EquityPoint {
        EquityPoint {
            time: (day * DAY_MS as f64) as i64,
            equity,
        }
    }

    #[test]
    fn days_take_their_last_sample_and_quiet_days_keep_the_previous() {
        let curve = [
            point(0.1, 101.0),
            point(0.9, 102.0),
            point(2.5, 99.96),
            point(2.6, 100.98),
        ];
        let r = daily_returns(100.0, &curve);
        assert_eq!(r.len(), 3);
        assert!((r[0] - 0.02).abs() < 1e-12);
        assert_eq!(r[1], 0.0);
        assert!((r[2] - (100.98 / 102.0 - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn drawdown_is_measured_on_every_sample_with_its_duration() {
        let curve = [
            point(0.0, 100.0),
            point(1.0, 120.0),
            point(2.0, 90.0),
            point(3.0, 110.0),
            point(4.0, 121.0),
            point(5.0, 115.0),
        ];
        let (dd, duration) = drawdown(100.0, &curve);
        assert!((dd - 0.25).abs() < 1e-12);
        assert_eq!(
            duration,
            3 * DAY_MS,
            "from the peak at day 1 to the recovery at day 4"
        );
        let flat = measure(100.0, &[point(0.0, 100.0), point(1.0, 100.0)], &[]);
        assert_eq!(
            (flat.max_drawdown, flat.win_rate, flat.trades),
            (0.0, 0.0, 0)
        );
        assert!(
            flat.sharpe.is_nan(),
            "no variance: undefined, as the libraries say"
        );
    }
}
