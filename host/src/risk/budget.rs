//! The risk budget an operator declares for a deployment: its starting holdings and its limits.

use crate::model::Fixed;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Limits one deployment trades under, and what its spot account starts with. Notional values
/// are in the valuation asset (`asset`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Starting amount of the valuation asset, when `balances` is not given.
    #[serde(default = "default_capital")]
    pub capital: f64,
    /// The asset equity, PnL and notional limits are measured in; the quote asset of the
    /// market's first symbol when not given (resolved when the deployment is created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// Starting holdings by asset (`{USDT = 10000, BTC = 0.5}`); `capital` of `asset` when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub balances: BTreeMap<String, f64>,
    /// Largest notional of a single order.
    pub max_order_notional: f64,
    /// Largest absolute position per symbol, as notional (open orders included).
    pub max_position_notional: f64,
    /// Largest sum of absolute position notionals over all symbols (open orders included).
    pub max_gross_exposure: f64,
    /// Most orders accepted in any one-second window of event time.
    pub max_orders_per_second: u32,
    /// Once the day's loss (UTC day, realised and unrealised) reaches this, only orders that
    /// reduce exposure are accepted.
    pub max_daily_loss: f64,
}

fn default_capital() -> f64 {
    10_000.0
}

/// A budget file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    /// Not valid TOML or JSON for a budget.
    #[error("budget is not valid: {0}")]
    Parse(String),
    /// An asset name that is not one (letters and digits only).
    #[error("budget names asset {0:?}: use letters and digits, e.g. USDT")]
    Asset(String),
    /// A limit is negative, zero where it must not be, or not finite.
    #[error("budget field {field} = {value} is invalid: {why}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Its value.
        value: f64,
        /// What is wrong.
        why: &'static str,
    },
}

impl Budget {
    /// A budget that allows anything a paper account of `capital` can do.
    pub fn unlimited(capital: f64) -> Self {
        Budget {
            capital,
            asset: None,
            balances: BTreeMap::new(),
            max_order_notional: 9e10,
            max_position_notional: 9e10,
            max_gross_exposure: 9e10,
            max_orders_per_second: 1_000_000,
            max_daily_loss: 9e10,
        }
    }

    /// Parses a budget from TOML (or JSON, which the control API uses) and validates it.
    pub fn parse(text: &str) -> Result<Self, BudgetError> {
        let budget: Budget = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| BudgetError::Parse(e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| BudgetError::Parse(e.to_string()))?
        };
        budget.validate()?;
        Ok(budget)
    }

    /// Checks every limit is finite and positive.
    pub fn validate(&self) -> Result<(), BudgetError> {
        let fields = [
            ("capital", self.capital),
            ("max_order_notional", self.max_order_notional),
            ("max_position_notional", self.max_position_notional),
            ("max_gross_exposure", self.max_gross_exposure),
            ("max_daily_loss", self.max_daily_loss),
        ];
        for (field, value) in fields {
            if !value.is_finite() || value <= 0.0 || value > 9e10 {
                return Err(BudgetError::Invalid {
                    field,
                    value,
                    why: "must be positive, finite and below 9e10",
                });
            }
        }
        for (asset, &amount) in &self.balances {
            let known = !asset.is_empty() && asset.bytes().all(|b| b.is_ascii_alphanumeric());
            if !known {
                return Err(BudgetError::Asset(asset.clone()));
            }
            if !(0.0..=9e10).contains(&amount) {
                return Err(BudgetError::Invalid {
                    field: "balances",
                    value: amount,
                    why: "every starting balance must be finite, not negative and below 9e10",
                });
            }
        }
        if let Some(asset) = &self.asset
            && (asset.is_empty() || !asset.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(BudgetError::Asset(asset.clone()));
        }
        if self.max_orders_per_second == 0 {
            return Err(BudgetError::Invalid {
                field: "max_orders_per_second",
                value: 0.0,
                why: "must be at least 1",
            });
        }
        Ok(())
    }

    pub(crate) fn fixed(value: f64) -> Fixed {
        Fixed::from_f64(value).unwrap_or(Fixed::from_raw(i64::MAX))
    }

    /// The starting holdings: `balances`, or `capital` of the valuation asset.
    pub fn starting_balances(&self, valuation_asset: &str) -> BTreeMap<String, Fixed> {
        if self.balances.is_empty() {
            BTreeMap::from([(
                valuation_asset.to_ascii_uppercase(),
                Self::fixed(self.capital),
            )])
        } else {
            self.balances
                .iter()
                .map(|(asset, &amount)| (asset.to_ascii_uppercase(), Self::fixed(amount)))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_toml_and_names_bad_fields() {
        let b = Budget::parse(
            "max_order_notional = 1000\nmax_position_notional = 2000\nmax_gross_exposure = 3000\nmax_orders_per_second = 5\nmax_daily_loss = 100\n",
        )
        .unwrap();
        assert_eq!(b.capital, 10_000.0);
        let err = Budget::parse(
            "max_order_notional = -1\nmax_position_notional = 2000\nmax_gross_exposure = 3000\nmax_orders_per_second = 5\nmax_daily_loss = 100\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("max_order_notional"), "{err}");
        let err = Budget::parse("max_order_notional = 1\nbogus = 2").unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
        let spot = Budget::parse(
            "asset = \"USDT\"\nbalances = { USDT = 5000, btc = 0.5 }\nmax_order_notional = 1000\nmax_position_notional = 2000\nmax_gross_exposure = 3000\nmax_orders_per_second = 5\nmax_daily_loss = 100\n",
        )
        .unwrap();
        let start = spot.starting_balances("USDT");
        assert_eq!(start["BTC"].to_string(), "0.5");
        assert_eq!(b.starting_balances("usdt")["USDT"].to_string(), "10000");
        let err = Budget::parse(
            "balances = { USDT = -1 }\nmax_order_notional = 1000\nmax_position_notional = 2000\nmax_gross_exposure = 3000\nmax_orders_per_second = 5\nmax_daily_loss = 100\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("balances"), "{err}");
    }
}
