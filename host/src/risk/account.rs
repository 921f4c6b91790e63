//! Limits over the whole account, every deployment together, on top of each deployment's
//! budget (the service's `[risk]` section), and the totals they are checked against.

use crate::market::MarketData;
use crate::model::{AssetId, Fixed, SymbolId};
use serde::{Deserialize, Serialize};

/// Account-wide limits. Each is off when absent, except the order rate (NautilusTrader's
/// default for a whole engine: 100 orders a second).
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountLimits {
    /// Orders accepted in any one second of event time, all deployments together.
    pub max_orders_per_second: u32,
    /// Open orders, all deployments together.
    pub max_open_orders: Option<u32>,
    /// Largest notional of one order, in the ordering deployment's valuation asset.
    pub max_order_notional: Option<f64>,
    /// Largest gross exposure (absolute position notionals plus open orders), all deployments.
    pub max_gross_exposure: Option<f64>,
    /// Largest absolute net exposure (signed notionals summed), all deployments.
    pub max_net_exposure: Option<f64>,
    /// Largest exposure to one symbol, all deployments, as a fraction of the account's equity
    /// (0.3: 30 %).
    pub max_symbol_concentration: Option<f64>,
    /// Largest distance of a limit or stop price from the mark, as a fraction (0.05: 5 %):
    /// the fat-finger check.
    pub price_band: Option<f64>,
}

impl Default for AccountLimits {
    fn default() -> Self {
        AccountLimits {
            max_orders_per_second: 100,
            max_open_orders: None,
            max_order_notional: None,
            max_gross_exposure: None,
            max_net_exposure: None,
            max_symbol_concentration: None,
            price_band: None,
        }
    }
}

impl AccountLimits {
    /// Checks every limit is in its range; the first that is not, named.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_orders_per_second == 0 {
            return Err("risk.max_orders_per_second must be at least 1".into());
        }
        let amounts = [
            ("max_order_notional", self.max_order_notional),
            ("max_gross_exposure", self.max_gross_exposure),
            ("max_net_exposure", self.max_net_exposure),
        ];
        for (name, value) in amounts {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0 && v <= 9e10)
            {
                return Err(format!(
                    "risk.{name} = {v}: must be positive, finite and below 9e10"
                ));
            }
        }
        let fractions = [
            ("max_symbol_concentration", self.max_symbol_concentration),
            ("price_band", self.price_band),
        ];
        for (name, value) in fractions {
            if let Some(v) = value
                && !(v > 0.0 && v <= 1.0)
            {
                return Err(format!(
                    "risk.{name} = {v}: a fraction, above 0 and at most 1"
                ));
            }
        }
        if self.max_open_orders == Some(0) {
            return Err("risk.max_open_orders must be at least 1".into());
        }
        Ok(())
    }
}

/// Every deployment's account together, as the account-wide checks read it.
pub trait AccountsView {
    /// Totals for an order in `symbol`, valued in `valuation`.
    fn totals(&self, market: &MarketData, valuation: AssetId, symbol: SymbolId) -> AccountTotals;
}

/// Sums over every deployment's account.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AccountTotals {
    /// Open orders.
    pub open_orders: usize,
    /// Gross committed exposure of every symbol but the order's.
    pub gross_others: Fixed,
    /// Net committed exposure of every symbol but the order's (signed).
    pub net_others: Fixed,
    /// Committed base quantity in the order's symbol (signed).
    pub symbol_committed: Fixed,
    /// Equity of every account (`None` when a holding has no price).
    pub equity: Option<Fixed>,
}
