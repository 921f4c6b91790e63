//! Transaction cost analysis of a parent order: what its execution cost against the mid when
//! it arrived (implementation shortfall), against the market's VWAP while it worked, in fees,
//! and how much of it was done.

use crate::model::{Fixed, Side};
use serde::Serialize;

/// What a parent order's execution cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Tca {
    /// The mid when the order started.
    pub arrival_mid: Option<f64>,
    /// Average price of its fills.
    pub average_price: Option<f64>,
    /// Base quantity filled.
    pub filled: f64,
    /// Filled over asked.
    pub fill_ratio: f64,
    /// How much worse than the arrival mid the fills were, in basis points (positive: a cost).
    pub shortfall_bps: Option<f64>,
    /// The market's volume-weighted price while the order worked (its trade prints).
    pub market_vwap: Option<f64>,
    /// How much worse than the market's VWAP the fills were, in basis points.
    pub vwap_slippage_bps: Option<f64>,
    /// Fees paid, in the quote asset.
    pub fees: f64,
    /// Fees over the filled notional, in basis points.
    pub fee_bps: Option<f64>,
    /// Shortfall and fees together, in basis points.
    pub total_cost_bps: Option<f64>,
    /// Share of the filled quantity that rested (maker).
    pub maker_share: f64,
    /// Child orders sent.
    pub children: u64,
}

/// A parent's executions and the market around them, as they accumulate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Executions {
    /// Base filled.
    pub filled: Fixed,
    /// Quote notional filled.
    pub notional: Fixed,
    /// Fees paid (quote).
    pub fees: Fixed,
    /// Base filled as maker.
    pub maker: Fixed,
    /// Market volume traded since the start.
    pub market_volume: f64,
    /// Market notional traded since the start.
    pub market_notional: f64,
}

/// Costs in basis points of a price `paid` against `reference` for `side` (positive: worse).
fn cost_bps(side: Side, paid: f64, reference: f64) -> f64 {
    let sign = match side {
        Side::Buy => 1.0,
        Side::Sell => -1.0,
    };
    sign * (paid - reference) / reference * 1e4
}

impl Executions {
    /// The analysis of these executions of a `quantity` parent on `side` that arrived at
    /// `arrival_mid`, with `children` child orders.
    pub fn analyse(
        &self,
        side: Side,
        quantity: Fixed,
        arrival_mid: Option<f64>,
        children: u64,
    ) -> Tca {
        let filled = self.filled.to_f64();
        let notional = self.notional.to_f64();
        let average = (filled > 0.0).then(|| notional / filled);
        let vwap = (self.market_volume > 0.0).then(|| self.market_notional / self.market_volume);
        let fees = self.fees.to_f64();
        let fee_bps = (notional > 0.0).then(|| fees / notional * 1e4);
        let shortfall = average
            .zip(arrival_mid.filter(|m| *m > 0.0))
            .map(|(a, m)| cost_bps(side, a, m));
        Tca {
            arrival_mid,
            average_price: average,
            filled,
            fill_ratio: if quantity.is_positive() {
                filled / quantity.to_f64()
            } else {
                0.0
            },
            shortfall_bps: shortfall,
            market_vwap: vwap,
            vwap_slippage_bps: average.zip(vwap).map(|(a, v)| cost_bps(side, a, v)),
            fees,
            fee_bps,
            total_cost_bps: shortfall.zip(fee_bps).map(|(s, f)| s + f),
            maker_share: if filled > 0.0 {
                self.maker.to_f64() / filled
            } else {
                0.0
            },
            children,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    #[test]
    fn shortfall_vwap_slippage_and_fees_by_hand() {
        // Bought 2 at 101 and 103 (average 102) against an arrival mid of 100: 200 bps worse;
        // the market traded 10 at an average of 101: 99.0099 bps worse than its VWAP.
        let e = Executions {
            filled: fx("2"),
            notional: fx("204"),
            fees: fx("0.204"),
            maker: fx("1"),
            market_volume: 10.0,
            market_notional: 1010.0,
        };
        let t = e.analyse(Side::Buy, fx("4"), Some(100.0), 3);
        assert_eq!(t.average_price, Some(102.0));
        assert!((t.shortfall_bps.unwrap() - 200.0).abs() < 1e-9);
        assert!((t.vwap_slippage_bps.unwrap() - 99.00990099).abs() < 1e-6);
        assert!((t.fee_bps.unwrap() - 10.0).abs() < 1e-9);
        assert!((t.total_cost_bps.unwrap() - 210.0).abs() < 1e-9);
        assert_eq!((t.fill_ratio, t.maker_share, t.children), (0.5, 0.5, 3));
        // Selling at 102 against 100 is a gain: negative cost.
        let t = e.analyse(Side::Sell, fx("2"), Some(100.0), 1);
        assert!((t.shortfall_bps.unwrap() + 200.0).abs() < 1e-9);
        let none = Executions::default().analyse(Side::Buy, fx("1"), None, 0);
        assert_eq!(
            (none.average_price, none.shortfall_bps, none.fill_ratio),
            (None, None, 0.0)
        );
    }
}
