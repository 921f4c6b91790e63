//! The summary of an equity curve and its fills.

use crate::model::{Fill, Side};
use serde::Serialize;
use std::collections::HashMap;

/// Headline figures of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Equity at the start.
    pub initial_equity: f64,
    /// Equity at the end.
    pub final_equity: f64,
    /// `final - initial`.
    pub pnl: f64,
    /// `pnl / initial`.
    pub total_return: f64,
    /// Largest peak-to-trough fall of equity, as a fraction of the peak.
    pub max_drawdown: f64,
    /// Mean over standard deviation of per-bar returns, annualised; 0 when flat.
    pub sharpe: f64,
    /// Share of closing trades that made money after fees; 0 with none.
    pub win_rate: f64,
    /// Number of fills.
    pub trades: usize,
    /// Number of fills that reduced or closed a position.
    pub closing_trades: usize,
}

/// Summarises an equity curve sampled once per bar of `interval_ms`, with the run's fills.
pub fn summarize(initial_equity: f64, equity: &[f64], interval_ms: u32, fills: &[Fill]) -> Summary {
    let final_equity = equity.last().copied().unwrap_or(initial_equity);
    let mut peak = initial_equity;
    let mut max_drawdown = 0.0f64;
    for &e in equity {
        peak = peak.max(e);
        if peak > 0.0 {
            max_drawdown = max_drawdown.max((peak - e) / peak);
        }
    }
    let mut prev = initial_equity;
    let returns: Vec<f64> = equity
        .iter()
        .map(|&e| {
            let r = if prev != 0.0 { e / prev - 1.0 } else { 0.0 };
            prev = e;
            r
        })
        .collect();
    let n = returns.len() as f64;
    let sharpe = if returns.len() > 1 {
        let mean = returns.iter().sum::<f64>() / n;
        let var = returns.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / (n - 1.0);
        let bars_per_year = 365.25 * 86_400_000.0 / f64::from(interval_ms.max(1));
        if var > 0.0 {
            mean / var.sqrt() * bars_per_year.sqrt()
        } else {
            0.0
        }
    } else {
        0.0
    };
    let (wins, closing) = closing_trades(fills);
    Summary {
        initial_equity,
        final_equity,
        pnl: final_equity - initial_equity,
        total_return: if initial_equity != 0.0 {
            final_equity / initial_equity - 1.0
        } else {
            0.0
        },
        max_drawdown,
        sharpe,
        win_rate: if closing > 0 {
            wins as f64 / closing as f64
        } else {
            0.0
        },
        trades: fills.len(),
        closing_trades: closing,
    }
}

/// Counts fills that reduce a position, and those among them that made money after their fee.
fn closing_trades(fills: &[Fill]) -> (usize, usize) {
    let mut book: HashMap<u32, (f64, f64)> = HashMap::new(); // symbol -> (signed qty, average price)
    let (mut wins, mut closing) = (0, 0);
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
    (wins, closing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Fixed, Liquidity, OrderStatus};

    fn fill(side: Side, price: &str, qty: &str) -> Fill {
        let (price, quantity): (Fixed, Fixed) = (price.parse().unwrap(), qty.parse().unwrap());
        Fill {
            order_id: 1,
            client_id: 1,
            owner: "s".into(),
            symbol: 0,
            side,
            trade_id: 1,
            price,
            quantity,
            quote_quantity: price.saturating_mul(quantity),
            liquidity: Liquidity::Taker,
            fee: Fixed::ZERO,
            time: 0,
            status: OrderStatus::Filled,
        }
    }

    #[test]
    fn drawdown_return_and_win_rate() {
        let s = summarize(
            100.0,
            &[110.0, 99.0, 120.0],
            60_000,
            &[
                fill(Side::Buy, "10", "1"),
                fill(Side::Sell, "12", "1"),
                fill(Side::Buy, "10", "1"),
                fill(Side::Sell, "9", "1"),
            ],
        );
        assert!((s.max_drawdown - 0.1).abs() < 1e-12);
        assert!((s.total_return - 0.2).abs() < 1e-12);
        assert_eq!((s.trades, s.closing_trades, s.win_rate), (4, 2, 0.5));
        assert!(s.sharpe > 0.0);
        let flat = summarize(100.0, &[100.0, 100.0], 60_000, &[]);
        assert_eq!(
            (flat.sharpe, flat.max_drawdown, flat.win_rate),
            (0.0, 0.0, 0.0)
        );
    }
}
