//! Rebalancing: target weights of a deployment's equity turned into market orders through the
//! whole order path (every check applies), sells first so their proceeds fund the buys.

use super::OrderPath;
use crate::market::MarketData;
use crate::model::{
    Amount, DeploymentId, Fixed, OrderRequest, OrderType, RejectCode, Rejection, Side, SymbolId,
    TimestampMs,
};
use crate::risk::AccountView;

/// One order a rebalance sent, or why it could not.
#[derive(Clone, Debug, PartialEq)]
pub struct RebalanceOrder {
    /// The symbol.
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// The base quantity.
    pub quantity: Fixed,
    /// The order's id, or the check that refused it.
    pub order: Result<u64, Rejection>,
}

fn invalid(message: String) -> Rejection {
    Rejection::new(RejectCode::InvalidOrder, message)
}

impl OrderPath {
    /// Moves deployment `id`'s holdings of each symbol's base asset toward `weights` (symbol,
    /// fraction of the deployment's equity; long-only, summing to at most one, the rest held in
    /// the valuation asset) with market orders for the differences, valued at the marks.
    /// Differences below a lot step are left. Each symbol must be quoted in the deployment's
    /// valuation asset. The orders sent; refused if the weights or the market do not allow a
    /// rebalance at all.
    pub fn rebalance(
        &mut self,
        id: DeploymentId,
        weights: &[(SymbolId, f64)],
        now: TimestampMs,
        market: &MarketData,
    ) -> Result<Vec<RebalanceOrder>, Rejection> {
        let total: f64 = weights.iter().map(|(_, w)| w).sum();
        if weights.iter().any(|(_, w)| !(w.is_finite() && *w >= 0.0)) || total > 1.0 + 1e-9 {
            return Err(invalid(format!(
                "weights must be non-negative and sum to at most 1 (they sum to {total})"
            )));
        }
        let account = self
            .oms
            .account(id)
            .ok_or_else(|| invalid("the deployment has no account".into()))?;
        let equity = account
            .equity(market)
            .filter(|e| e.is_positive())
            .ok_or_else(|| invalid("the deployment's equity has no price yet".into()))?;
        let mut orders = Vec::new();
        for &(symbol, weight) in weights {
            let instrument = market
                .instrument(symbol)
                .ok_or_else(|| invalid(format!("unknown symbol id {symbol}")))?;
            if instrument.quote != account.valuation {
                return Err(invalid(format!(
                    "{} is not quoted in the deployment's valuation asset",
                    instrument.symbol
                )));
            }
            let price = market
                .marks
                .get(symbol)
                .filter(|p| p.is_positive())
                .ok_or_else(|| invalid(format!("no price yet for {}", instrument.symbol)))?;
            let target = Fixed::from_f64(equity.to_f64() * weight / price.to_f64())
                .map_err(|e| invalid(format!("{}: {e}", instrument.symbol)))?;
            let held = account.holding(instrument.base);
            let difference = target.saturating_sub(held);
            let quantity = difference.abs().floor_to(instrument.step());
            if quantity.is_positive() {
                let side = if difference.raw() > 0 {
                    Side::Buy
                } else {
                    Side::Sell
                };
                orders.push((symbol, side, quantity));
            }
        }
        // Sells first: their proceeds are free for the buys once they fill.
        orders.sort_by_key(|&(_, side, _)| side == Side::Buy);
        Ok(orders
            .into_iter()
            .map(|(symbol, side, quantity)| {
                let request = OrderRequest {
                    client_id: 0,
                    symbol,
                    side,
                    amount: Amount::Base(quantity),
                    order_type: OrderType::Market,
                    iceberg: None,
                    reduce_only: false,
                    venue: 0,
                };
                RebalanceOrder {
                    symbol,
                    side,
                    quantity,
                    order: self.submit(id, request, now, market),
                }
            })
            .collect())
    }
}
