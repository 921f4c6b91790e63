//! The risk budget an operator declares for a deployment: its starting holdings and its limits.

use super::state::TradingState;
use super::stops::StopConfig;
use crate::model::Fixed;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Limits one deployment trades under, and what its spot account starts with. Notional values
/// are in the valuation asset (`asset`).
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    /// The asset the account pays its fees in (`BNB`), at Binance's discount, when it holds
    /// enough of it, as Binance's "use BNB to pay fees" does; on simulated venues (paper
    /// trading, backtests, the exchange simulator): on an exchange its account's own setting
    /// decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_asset: Option<String>,
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
    /// Largest fall of equity from its peak, as a fraction (0.2: 20 %); none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_drawdown: Option<f64>,
    /// Largest net exposure (signed position notionals summed, open orders included); none
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_net_exposure: Option<f64>,
    /// Largest one-day 95 % VaR of the deployment's equity, as a fraction of equity; none when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_var: Option<f64>,
    /// Largest gross exposure over equity (1: no borrowing, as on a spot account).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub max_leverage: f64,
    /// The state a breach of `max_daily_loss` moves the deployment to.
    #[serde(default = "reducing", skip_serializing_if = "is_reducing")]
    pub on_daily_loss: TradingState,
    /// The state a breach of `max_drawdown` moves the deployment to.
    #[serde(default = "halted", skip_serializing_if = "is_halted")]
    pub on_drawdown: TradingState,
    /// The state a breach of `max_var` moves the deployment to.
    #[serde(default = "reducing", skip_serializing_if = "is_reducing")]
    pub on_var: TradingState,
    /// Largest share of `cpu_window_ms` of wall time the deployment's callbacks may take (host
    /// calls included) before it is halted; accounted and enforced by the service.
    #[serde(
        default = "default_cpu_share",
        skip_serializing_if = "is_default_cpu_share"
    )]
    pub max_cpu_share: f64,
    /// Protective stops the host keeps on each of the deployment's positions; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stops: Option<StopConfig>,
    /// The rolling window `max_cpu_share` is measured over, in milliseconds.
    #[serde(
        default = "default_cpu_window",
        skip_serializing_if = "is_default_cpu_window"
    )]
    pub cpu_window_ms: u64,
}

fn default_cpu_share() -> f64 {
    0.2
}

fn is_default_cpu_share(v: &f64) -> bool {
    *v == default_cpu_share()
}

fn default_cpu_window() -> u64 {
    10_000
}

fn is_default_cpu_window(v: &u64) -> bool {
    *v == default_cpu_window()
}

fn default_capital() -> f64 {
    10_000.0
}

fn one() -> f64 {
    1.0
}

fn is_one(v: &f64) -> bool {
    *v == 1.0
}

fn reducing() -> TradingState {
    TradingState::Reducing
}

fn is_reducing(s: &TradingState) -> bool {
    *s == TradingState::Reducing
}

fn halted() -> TradingState {
    TradingState::Halted
}

fn is_halted(s: &TradingState) -> bool {
    *s == TradingState::Halted
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
    /// A protective stop rule out of its range.
    #[error("budget {0}")]
    Stops(String),
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
            fee_asset: None,
            max_order_notional: 9e10,
            max_position_notional: 9e10,
            max_gross_exposure: 9e10,
            max_orders_per_second: 1_000_000,
            max_daily_loss: 9e10,
            max_drawdown: None,
            max_net_exposure: None,
            max_var: None,
            max_leverage: 1e6,
            on_daily_loss: TradingState::Reducing,
            on_drawdown: TradingState::Halted,
            on_var: TradingState::Reducing,
            max_cpu_share: 1.0,
            stops: None,
            cpu_window_ms: default_cpu_window(),
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
        let fractions = [
            ("max_drawdown", self.max_drawdown),
            ("max_var", self.max_var),
        ];
        for (field, value) in fractions {
            if let Some(value) = value
                && !(value > 0.0 && value <= 1.0)
            {
                return Err(BudgetError::Invalid {
                    field,
                    value,
                    why: "is a fraction of equity: above 0 and at most 1",
                });
            }
        }
        if let Some(value) = self.max_net_exposure
            && !(value.is_finite() && value > 0.0 && value <= 9e10)
        {
            return Err(BudgetError::Invalid {
                field: "max_net_exposure",
                value,
                why: "must be positive, finite and below 9e10",
            });
        }
        if !(self.max_cpu_share > 0.0 && self.max_cpu_share <= 1.0) {
            return Err(BudgetError::Invalid {
                field: "max_cpu_share",
                value: self.max_cpu_share,
                why: "is a share of wall time: above 0 and at most 1",
            });
        }
        if !(100..=3_600_000).contains(&self.cpu_window_ms) {
            return Err(BudgetError::Invalid {
                field: "cpu_window_ms",
                value: self.cpu_window_ms as f64,
                why: "must be between 100 ms and an hour",
            });
        }
        if let Some(stops) = &self.stops {
            stops.validate().map_err(BudgetError::Stops)?;
        }
        if !(self.max_leverage.is_finite() && self.max_leverage > 0.0) {
            return Err(BudgetError::Invalid {
                field: "max_leverage",
                value: self.max_leverage,
                why: "must be positive and finite (1 for no borrowing)",
            });
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
        for asset in [&self.asset, &self.fee_asset].into_iter().flatten() {
            if asset.is_empty() || !asset.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(BudgetError::Asset(asset.clone()));
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
    fn the_example_budget_is_valid() {
        let b = Budget::parse(include_str!("../../../examples/budget.toml")).unwrap();
        let stops = b.stops.expect("the example has stops");
        assert_eq!((stops.trailing, stops.fixed), (Some(0.05), Some(0.1)));
    }

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
        // The newer limits are optional: an old budget reads with their defaults, and writes
        // back without them.
        assert_eq!((b.max_drawdown, b.max_leverage), (None, 1.0));
        assert_eq!(b.on_drawdown, TradingState::Halted);
        let json = serde_json::to_string(&b).unwrap();
        assert!(
            !json.contains("max_drawdown") && !json.contains("on_var"),
            "{json}"
        );
        let limited = Budget::parse(
            "max_order_notional = 1000\nmax_position_notional = 2000\nmax_gross_exposure = 3000\nmax_orders_per_second = 5\nmax_daily_loss = 100\nmax_drawdown = 0.2\nmax_var = 0.05\non_var = \"halted\"\n",
        )
        .unwrap();
        assert_eq!(
            (limited.max_drawdown, limited.on_var),
            (Some(0.2), TradingState::Halted)
        );
        let err = Budget::parse(
            "max_order_notional = 1000\nmax_position_notional = 2000\nmax_gross_exposure = 3000\nmax_orders_per_second = 5\nmax_daily_loss = 100\nmax_drawdown = 1.5\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("max_drawdown"), "{err}");
    }
}
