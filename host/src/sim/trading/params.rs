//! Binance's order parameters read as Binance reads them: which each type requires and refuses,
//! their number formats, and the error codes and messages of each mistake.

use super::SimError;
use crate::model::{Amount, Fixed, OrderType, Side, TimeInForce, Trigger};
use std::collections::BTreeMap;

/// What the answer to a new order holds (Binance's `newOrderRespType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RespType {
    /// The order's ids and time.
    Ack,
    /// Its state after matching.
    Result,
    /// Its state and the fills of its placement.
    Full,
}

/// A new order as the request states it, before the symbol is looked up.
#[derive(Clone, Debug, PartialEq)]
pub struct NewOrder {
    /// The symbol's name, upper case.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Base quantity or, for market orders, the quote amount (`quoteOrderQty`).
    pub amount: Amount,
    /// The type and its prices.
    pub order_type: OrderType,
    /// `icebergQty`.
    pub iceberg: Option<Fixed>,
    /// `newClientOrderId`, if sent.
    pub client_order_id: Option<String>,
    /// `newOrderRespType`, or the type's default.
    pub resp_type: RespType,
}

/// The request's parameters, with Binance's errors for missing and malformed ones.
pub struct Params<'a>(pub &'a BTreeMap<String, String>);

/// Binance's check of a client order id: 1 to 36 of `.A-Z:/a-z0-9_-`.
pub fn valid_client_id(id: &str) -> bool {
    (1..=36).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".:/_-".contains(&b))
}

impl Params<'_> {
    /// The value of `name`, if sent and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The value of mandatory parameter `name`.
    pub fn required(&self, name: &str) -> Result<&str, SimError> {
        self.get(name).ok_or_else(|| SimError::missing(name))
    }

    /// A decimal parameter, exact to 1e-8.
    pub fn decimal(&self, name: &str) -> Result<Option<Fixed>, SimError> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        let well_formed = {
            let (int, frac) = text.split_once('.').unwrap_or((text, ""));
            !(int.is_empty() && frac.is_empty())
                && int.len() <= 20
                && frac.len() <= 20
                && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        };
        if !well_formed {
            return Err(SimError::bad_request(
                -1100,
                format!(
                    "Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."
                ),
            ));
        }
        text.parse::<Fixed>().map(Some).map_err(|_| {
            SimError::bad_request(-1111, format!("Parameter '{name}' has too much precision."))
        })
    }

    /// A mandatory decimal parameter.
    pub fn required_decimal(&self, name: &str) -> Result<Fixed, SimError> {
        self.decimal(name)?.ok_or_else(|| SimError::missing(name))
    }

    /// An integer parameter.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, SimError> {
        self.get(name)
            .map(|t| {
                t.parse::<i64>().map_err(|_| {
                    SimError::bad_request(
                        -1100,
                        format!(
                            "Illegal characters found in parameter '{name}'; legal range is '^-?[0-9]{{1,20}}$'."
                        ),
                    )
                })
            })
            .transpose()
    }

    /// A `limit` parameter: `default` when absent, at most `max`.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, SimError> {
        match self.integer("limit")? {
            None => Ok(default),
            Some(n) if n >= 1 => Ok((n as usize).min(max)),
            Some(_) => Err(SimError::bad_request(
                -1130,
                "Data sent for parameter 'limit' is not valid.",
            )),
        }
    }

    /// A client order id parameter, checked.
    pub fn client_id(&self, name: &str) -> Result<Option<String>, SimError> {
        match self.get(name) {
            None => Ok(None),
            Some(id) if valid_client_id(id) => Ok(Some(id.to_string())),
            Some(_) => Err(SimError::bad_request(
                -1100,
                format!(
                    "Illegal characters found in parameter '{name}'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{{1,36}}$'."
                ),
            )),
        }
    }

    fn refuse_extra(&self, names: &[&str]) -> Result<(), SimError> {
        match names.iter().find(|n| self.get(n).is_some()) {
            Some(name) => Err(SimError::bad_request(
                -1106,
                format!("Parameter '{name}' sent when not required."),
            )),
            None => Ok(()),
        }
    }

    fn time_in_force(&self) -> Result<TimeInForce, SimError> {
        match self.required("timeInForce")? {
            "GTC" => Ok(TimeInForce::Gtc),
            "IOC" => Ok(TimeInForce::Ioc),
            "FOK" => Ok(TimeInForce::Fok),
            _ => Err(SimError::bad_request(-1115, "Invalid timeInForce.")),
        }
    }

    /// The trigger of a stop or take-profit type: `stopPrice`, `trailingDelta`, or both (a
    /// trailing order activated at the stop price).
    fn trigger(&self) -> Result<Trigger, SimError> {
        let stop = self.decimal("stopPrice")?;
        let delta = self.integer("trailingDelta")?;
        match (stop, delta) {
            (None, None) => Err(SimError::bad_request(
                -1102,
                "Mandatory parameter 'stopPrice' or 'trailingDelta' was not sent, was empty/null, or malformed.",
            )),
            (Some(p), None) => Ok(Trigger::Price(p)),
            (activation, Some(d)) => {
                let delta_bps = u32::try_from(d)
                    .ok()
                    .filter(|&d| d > 0)
                    .ok_or_else(|| SimError::bad_request(-2010, "Invalid trailingDelta."))?;
                Ok(Trigger::Trailing {
                    delta_bps,
                    activation,
                })
            }
        }
    }

    fn quantity(&self) -> Result<Amount, SimError> {
        let q = self.required_decimal("quantity")?;
        positive(q, "quantity").map(Amount::Base)
    }

    /// The new order these parameters describe (`POST /api/v3/order`).
    pub fn new_order(&self) -> Result<NewOrder, SimError> {
        let symbol = self.required("symbol")?.to_ascii_uppercase();
        let side = match self.required("side")? {
            "BUY" => Side::Buy,
            "SELL" => Side::Sell,
            _ => return Err(SimError::bad_request(-1117, "Invalid side.")),
        };
        let kind = self.required("type")?;
        let (amount, order_type) = match kind {
            "MARKET" => {
                self.refuse_extra(&["price", "timeInForce", "stopPrice", "trailingDelta"])?;
                let amount = match (self.decimal("quantity")?, self.decimal("quoteOrderQty")?) {
                    (Some(q), None) => Amount::Base(positive(q, "quantity")?),
                    (None, Some(q)) => Amount::Quote(positive(q, "quoteOrderQty")?),
                    (Some(_), Some(_)) => {
                        return Err(SimError::bad_request(
                            -1106,
                            "Parameter 'quoteOrderQty' sent when not required.",
                        ));
                    }
                    (None, None) => {
                        return Err(SimError::bad_request(
                            -1102,
                            "Mandatory parameter 'quantity' or 'quoteOrderQty' was not sent, was empty/null, or malformed.",
                        ));
                    }
                };
                (amount, OrderType::Market)
            }
            "LIMIT" => {
                self.refuse_extra(&["quoteOrderQty", "stopPrice", "trailingDelta"])?;
                let time_in_force = self.time_in_force()?;
                let amount = self.quantity()?;
                let price = positive(self.required_decimal("price")?, "price")?;
                (
                    amount,
                    OrderType::Limit {
                        price,
                        time_in_force,
                    },
                )
            }
            "LIMIT_MAKER" => {
                self.refuse_extra(&["quoteOrderQty", "stopPrice", "trailingDelta", "timeInForce"])?;
                let amount = self.quantity()?;
                let price = positive(self.required_decimal("price")?, "price")?;
                (amount, OrderType::LimitMaker { price })
            }
            "STOP_LOSS" | "TAKE_PROFIT" => {
                self.refuse_extra(&["quoteOrderQty", "price", "timeInForce"])?;
                let amount = self.quantity()?;
                let trigger = self.trigger()?;
                let t = if kind == "STOP_LOSS" {
                    OrderType::StopLoss { trigger }
                } else {
                    OrderType::TakeProfit { trigger }
                };
                (amount, t)
            }
            "STOP_LOSS_LIMIT" | "TAKE_PROFIT_LIMIT" => {
                self.refuse_extra(&["quoteOrderQty"])?;
                let time_in_force = self.time_in_force()?;
                let amount = self.quantity()?;
                let price = positive(self.required_decimal("price")?, "price")?;
                let trigger = self.trigger()?;
                let t = if kind == "STOP_LOSS_LIMIT" {
                    OrderType::StopLossLimit {
                        trigger,
                        price,
                        time_in_force,
                    }
                } else {
                    OrderType::TakeProfitLimit {
                        trigger,
                        price,
                        time_in_force,
                    }
                };
                (amount, t)
            }
            _ => return Err(SimError::bad_request(-1116, "Invalid orderType.")),
        };
        let iceberg = self.decimal("icebergQty")?;
        if let Some(visible) = iceberg {
            positive(visible, "icebergQty")?;
            if order_type.limit_price().is_none() {
                return Err(SimError::bad_request(
                    -1106,
                    "Parameter 'icebergQty' sent when not required.",
                ));
            }
            if order_type
                .time_in_force()
                .is_some_and(|t| t != TimeInForce::Gtc)
            {
                return Err(SimError::bad_request(
                    -1130,
                    "Data sent for parameter 'timeInForce' is not valid.",
                ));
            }
        }
        let resp_type = match self.get("newOrderRespType") {
            None if matches!(order_type, OrderType::Market | OrderType::Limit { .. }) => {
                RespType::Full
            }
            None => RespType::Ack,
            Some("ACK") => RespType::Ack,
            Some("RESULT") => RespType::Result,
            Some("FULL") => RespType::Full,
            Some(_) => {
                return Err(SimError::bad_request(
                    -1130,
                    "Data sent for parameter 'newOrderRespType' is not valid.",
                ));
            }
        };
        Ok(NewOrder {
            symbol,
            side,
            amount,
            order_type,
            iceberg,
            client_order_id: self.client_id("newClientOrderId")?,
            resp_type,
        })
    }
}

/// `value` if above zero; Binance's "Invalid quantity." (or price) otherwise.
fn positive(value: Fixed, name: &str) -> Result<Fixed, SimError> {
    if value.is_positive() {
        return Ok(value);
    }
    let what = match name {
        "price" => "Invalid price.",
        "icebergQty" => "Invalid iceberg quantity.",
        _ => "Invalid quantity.",
    };
    Err(SimError::bad_request(-1013, what))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(pairs: &[(&str, &str)]) -> Result<NewOrder, SimError> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Params(&map).new_order()
    }

    fn code(r: Result<NewOrder, SimError>) -> (i64, String) {
        let e = r.unwrap_err();
        (e.code, e.msg)
    }

    #[test]
    fn reads_each_type_with_its_defaults() {
        let o = order(&[
            ("symbol", "btcusdt"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.01"),
            ("price", "40000.10"),
        ])
        .unwrap();
        assert_eq!(o.symbol, "BTCUSDT");
        assert_eq!(o.resp_type, RespType::Full);
        assert_eq!(o.amount, Amount::Base("0.01".parse().unwrap()));
        let o = order(&[
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "STOP_LOSS_LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "39000"),
            ("trailingDelta", "200"),
            ("stopPrice", "39500"),
        ])
        .unwrap();
        assert_eq!(o.resp_type, RespType::Ack);
        assert_eq!(
            o.order_type.trigger(),
            Some(Trigger::Trailing {
                delta_bps: 200,
                activation: Some("39500".parse().unwrap())
            })
        );
        let o = order(&[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quoteOrderQty", "100"),
            ("newOrderRespType", "RESULT"),
        ])
        .unwrap();
        assert_eq!(o.amount, Amount::Quote("100".parse().unwrap()));
        assert_eq!(o.resp_type, RespType::Result);
    }

    #[test]
    fn mistakes_get_binance_codes_and_messages() {
        let base = [("symbol", "BTCUSDT"), ("side", "BUY")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v = base.to_vec();
            v.extend_from_slice(extra);
            code(order(&v))
        };
        assert_eq!(
            with(&[("type", "LIMIT"), ("quantity", "1"), ("price", "1")]),
            (
                -1102,
                "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."
                    .into()
            )
        );
        assert_eq!(
            with(&[("type", "MARKET"), ("quantity", "1"), ("price", "1")]).0,
            -1106
        );
        assert_eq!(with(&[("type", "OCO"), ("quantity", "1")]).0, -1116);
        assert_eq!(with(&[("type", "MARKET"), ("quantity", "1e3")]).0, -1100);
        assert_eq!(
            with(&[("type", "MARKET"), ("quantity", "0.000000001")]),
            (-1111, "Parameter 'quantity' has too much precision.".into())
        );
        assert_eq!(
            with(&[("type", "MARKET"), ("quantity", "0")]),
            (-1013, "Invalid quantity.".into())
        );
        assert_eq!(
            with(&[
                ("type", "LIMIT"),
                ("timeInForce", "IOC"),
                ("quantity", "1"),
                ("price", "1"),
                ("icebergQty", "0.1")
            ])
            .0,
            -1130
        );
        assert_eq!(
            with(&[
                ("type", "MARKET"),
                ("quantity", "1"),
                ("newClientOrderId", "has space")
            ])
            .0,
            -1100
        );
        assert_eq!(
            code(order(&[
                ("symbol", "BTCUSDT"),
                ("side", "HOLD"),
                ("type", "MARKET")
            ]))
            .0,
            -1117
        );
    }
}
