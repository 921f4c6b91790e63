//! What operators read of a deployment's account as it is now: balances, positions marked to
//! the market with their unrealised PnL, open orders and equity; and the same summed over every
//! deployment for the whole account. Exact amounts travel as decimal text, as everywhere else.

use super::Engine;
use super::deployment::DeployError;
use crate::execution::cost::{CostError, CostEstimate};
use crate::execution::oms::{Account, Order};
use crate::market::MarketData;
use crate::model::{Amount, Fixed, OrderStatus, OrderType, Side, TimestampMs};
use crate::risk::AccountView;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One asset's balance.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BalanceView {
    /// The asset.
    pub asset: String,
    /// Available for new orders.
    pub free: Fixed,
    /// Held by open orders.
    pub locked: Fixed,
}

/// A position in one symbol, marked to the market's last price.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PositionView {
    /// The symbol.
    pub symbol: String,
    /// Signed base quantity.
    pub quantity: Fixed,
    /// Average entry price of the open quantity.
    pub average_price: Fixed,
    /// The last price (none before the symbol has traded).
    pub mark_price: Option<Fixed>,
    /// Profit of the open quantity at the mark, in the quote asset.
    pub unrealized_pnl: Option<Fixed>,
    /// Profit realised by closing trades, after every fee, in the quote asset.
    pub realized_pnl: Fixed,
}

/// An open order.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    /// Host order id.
    pub order_id: u64,
    /// The strategy's own id.
    pub client_id: u64,
    /// The symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// The type and its prices.
    pub order_type: OrderType,
    /// How much was asked.
    pub amount: Amount,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// Base quantity filled.
    pub filled: Fixed,
    /// Quote quantity filled.
    pub filled_quote: Fixed,
    /// Fees paid, in the quote asset.
    pub fees: Fixed,
    /// Event time of submission.
    pub time_ms: TimestampMs,
}

/// A deployment's account now.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountSnapshot {
    /// The deployment (`None` for the whole account).
    pub deployment: Option<String>,
    /// The asset equity is valued in.
    pub valuation: String,
    /// Every holding valued at the last prices (none while an asset has no price).
    pub equity: Option<Fixed>,
    /// Balances by asset.
    pub balances: Vec<BalanceView>,
    /// Positions by symbol (closed ones keep their realised PnL).
    pub positions: Vec<PositionView>,
    /// Orders still open.
    pub open_orders: Vec<OrderView>,
}

fn symbol_name(market: &MarketData, symbol: crate::model::SymbolId) -> String {
    market
        .symbols()
        .name(symbol)
        .map_or_else(|| format!("#{symbol}"), |n| n.to_string())
}

fn order_view(order: &Order, market: &MarketData) -> OrderView {
    OrderView {
        order_id: order.id,
        client_id: order.request.client_id,
        symbol: symbol_name(market, order.request.symbol),
        side: order.request.side,
        order_type: order.request.order_type,
        amount: order.request.amount,
        status: order.status,
        filled: order.filled,
        filled_quote: order.filled_quote,
        fees: order.fees,
        time_ms: order.time,
    }
}

/// `account` as it is now at `market`'s prices.
fn snapshot(account: &Account, market: &MarketData) -> AccountSnapshot {
    let names = &market.instruments;
    AccountSnapshot {
        deployment: Some(account.name.to_string()),
        valuation: names.asset_name(account.valuation).to_string(),
        equity: account.equity(market),
        balances: account
            .balances()
            .filter(|(_, b)| b.total().raw() != 0)
            .map(|(asset, b)| BalanceView {
                asset: names.asset_name(asset).to_string(),
                free: b.free,
                locked: b.locked,
            })
            .collect(),
        positions: account
            .positions()
            .map(|(symbol, p)| {
                // The last price (Binance's average over zero minutes).
                let mark = market.average_price(symbol, 0, 0);
                PositionView {
                    symbol: symbol_name(market, symbol),
                    quantity: p.quantity,
                    average_price: p.average_price,
                    mark_price: mark,
                    unrealized_pnl: mark
                        .map(|m| m.saturating_sub(p.average_price).saturating_mul(p.quantity)),
                    realized_pnl: p.realized_pnl,
                }
            })
            .collect(),
        open_orders: account
            .open_orders()
            .map(|o| order_view(o, market))
            .collect(),
    }
}

/// Every deployment's snapshot summed: balances by asset, positions by symbol (quantities and
/// PnL added, the average price weighted by quantity), equity in `valuation` when every
/// deployment values in it.
fn total(snapshots: &[AccountSnapshot]) -> AccountSnapshot {
    let mut balances: BTreeMap<String, BalanceView> = BTreeMap::new();
    for b in snapshots.iter().flat_map(|s| &s.balances) {
        let entry = balances.entry(b.asset.clone()).or_insert(BalanceView {
            asset: b.asset.clone(),
            free: Fixed::ZERO,
            locked: Fixed::ZERO,
        });
        entry.free = entry.free.saturating_add(b.free);
        entry.locked = entry.locked.saturating_add(b.locked);
    }
    let mut positions: BTreeMap<String, PositionView> = BTreeMap::new();
    for p in snapshots.iter().flat_map(|s| &s.positions) {
        let entry = positions
            .entry(p.symbol.clone())
            .or_insert_with(|| PositionView {
                quantity: Fixed::ZERO,
                average_price: Fixed::ZERO,
                unrealized_pnl: p.mark_price.map(|_| Fixed::ZERO),
                realized_pnl: Fixed::ZERO,
                ..p.clone()
            });
        let cost = entry
            .average_price
            .saturating_mul(entry.quantity.abs())
            .saturating_add(p.average_price.saturating_mul(p.quantity.abs()));
        let size = entry.quantity.abs().saturating_add(p.quantity.abs());
        entry.average_price = cost.checked_div(size).unwrap_or(Fixed::ZERO);
        entry.quantity = entry.quantity.saturating_add(p.quantity);
        entry.realized_pnl = entry.realized_pnl.saturating_add(p.realized_pnl);
        entry.unrealized_pnl = match (entry.unrealized_pnl, p.unrealized_pnl) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            _ => None,
        };
    }
    let valuation = snapshots
        .first()
        .map_or_else(String::new, |s| s.valuation.clone());
    let same_valuation = snapshots.iter().all(|s| s.valuation == valuation);
    let equity = snapshots
        .iter()
        .try_fold(Fixed::ZERO, |sum, s| Some(sum.saturating_add(s.equity?)))
        .filter(|_| same_valuation);
    let mut open_orders: Vec<OrderView> = snapshots
        .iter()
        .flat_map(|s| s.open_orders.iter().cloned())
        .collect();
    open_orders.sort_by_key(|o| o.order_id);
    AccountSnapshot {
        deployment: None,
        valuation,
        equity,
        balances: balances.into_values().collect(),
        positions: positions.into_values().collect(),
        open_orders,
    }
}

impl Engine {
    /// The cost of taking `amount` on `side` of `symbol`'s book now, at the venue's fees.
    pub fn cost(
        &self,
        symbol: &str,
        side: Side,
        amount: Amount,
    ) -> Result<CostEstimate, CostError> {
        let market = self.env.market();
        let name = symbol.to_ascii_uppercase();
        let id = market
            .symbols()
            .id(&name)
            .ok_or_else(|| CostError::UnknownSymbol(name.clone()))?;
        let book = market
            .depth(id)
            .ok_or_else(|| CostError::NoBook(name.clone()))?;
        let step = market
            .instrument(id)
            .map_or(Fixed::from_raw(1), |i| i.step());
        let fees = self.env.orders().fees(id, &market);
        crate::execution::cost::estimate(book, side, amount, fees, step)
            .ok_or(CostError::NoBook(name))
    }

    /// Deployment `name`'s account now, or with `None` every deployment's summed.
    pub fn account(&self, name: Option<&str>) -> Result<AccountSnapshot, DeployError> {
        let market = self.env.market();
        let orders = self.env.orders();
        let snap = |id| orders.account(id).map(|a| snapshot(a, &market));
        match name {
            Some(name) => {
                let id = self.deployment_id(name)?;
                Ok(snap(id).unwrap_or_else(|| AccountSnapshot {
                    deployment: Some(name.to_string()),
                    valuation: String::new(),
                    equity: None,
                    balances: Vec::new(),
                    positions: Vec::new(),
                    open_orders: Vec::new(),
                }))
            }
            None => {
                let all: Vec<AccountSnapshot> =
                    self.deployments.iter().filter_map(|d| snap(d.id)).collect();
                Ok(total(&all))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(text: &str) -> Fixed {
        text.parse().unwrap()
    }

    fn position(symbol: &str, quantity: &str, average: &str, mark: &str) -> PositionView {
        let (q, a, m) = (fixed(quantity), fixed(average), fixed(mark));
        PositionView {
            symbol: symbol.into(),
            quantity: q,
            average_price: a,
            mark_price: Some(m),
            unrealized_pnl: Some(m.saturating_sub(a).saturating_mul(q)),
            realized_pnl: fixed("1"),
        }
    }

    fn account(
        name: &str,
        equity: &str,
        usdt: &str,
        positions: Vec<PositionView>,
    ) -> AccountSnapshot {
        AccountSnapshot {
            deployment: Some(name.into()),
            valuation: "USDT".into(),
            equity: Some(fixed(equity)),
            balances: vec![BalanceView {
                asset: "USDT".into(),
                free: fixed(usdt),
                locked: fixed("0"),
            }],
            positions,
            open_orders: Vec::new(),
        }
    }

    #[test]
    fn the_account_sums_balances_positions_and_equity() {
        let a = account(
            "a",
            "1000",
            "500",
            vec![position("BTCUSDT", "1", "100", "110")],
        );
        let b = account(
            "b",
            "2000",
            "700",
            vec![position("BTCUSDT", "3", "120", "110")],
        );
        let t = total(&[a, b]);
        assert_eq!(t.deployment, None);
        assert_eq!(t.equity, Some(fixed("3000")));
        assert_eq!(t.balances[0].free, fixed("1200"));
        let p = &t.positions[0];
        assert_eq!(p.quantity, fixed("4"));
        // (1 x 100 + 3 x 120) / 4
        assert_eq!(p.average_price, fixed("115"));
        // 1 x 10 + 3 x -10
        assert_eq!(p.unrealized_pnl, Some(fixed("-20")));
        assert_eq!(p.realized_pnl, fixed("2"));
    }

    #[test]
    fn equity_in_different_assets_is_not_summed() {
        let a = account("a", "1000", "500", Vec::new());
        let mut b = account("b", "1", "0", Vec::new());
        b.valuation = "BTC".into();
        assert_eq!(total(&[a, b]).equity, None);
    }
}
