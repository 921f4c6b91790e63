//! The risk budget an operator declares for a deployment, and the typed reasons an order is refused.

use crate::model::Fixed;
use serde::{Deserialize, Serialize};

/// Limits one deployment trades under. Notional values are in the quote asset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Starting cash of the deployment's paper account.
    #[serde(default = "default_capital")]
    pub capital: f64,
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
            max_order_notional: 1e12,
            max_position_notional: 1e12,
            max_gross_exposure: 1e12,
            max_orders_per_second: 1_000_000,
            max_daily_loss: 1e12,
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
}

/// Why an order was refused; mirrors the WIT `reject-code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectCode {
    /// Malformed: non-finite, non-positive or out-of-range values.
    InvalidOrder,
    /// The symbol is unknown or has no price yet.
    UnknownSymbol,
    /// Larger than `max_order_notional`.
    MaxOrderNotional,
    /// Would take the symbol's position past `max_position_notional`.
    MaxPosition,
    /// Would take gross exposure past `max_gross_exposure`.
    MaxGrossExposure,
    /// More than `max_orders_per_second` in the last second.
    MaxOrdersPerSecond,
    /// The day's loss reached `max_daily_loss` and the order adds exposure.
    MaxDailyLoss,
    /// A reduce-only order that would open or flip a position.
    ReduceOnly,
    /// The callback submitted more orders than one callback may.
    TooManyOrdersInCallback,
    /// The strategy is halted.
    StrategyHalted,
}

/// A refused order: the code and a sentence with the numbers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rejection {
    /// Why.
    pub code: RejectCode,
    /// The numbers behind it.
    pub message: String,
}

impl Rejection {
    /// A rejection with a message.
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
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
    }
}
