//! The JSON of Binance's answers about orders and trades: field names, eight-decimal strings,
//! status and type names as Binance spot writes them.

use crate::model::{
    Amount, ExecutionType, Fixed, OrderStatus, OrderType, OrderUpdate, Side, Trigger,
};
use serde_json::{Value, json};
use std::sync::Arc;

/// An order as the simulator keeps it for its account.
#[derive(Clone, Debug)]
pub struct SimOrder {
    /// The account's number.
    pub account: u32,
    /// The exchange's id.
    pub id: u64,
    /// The symbol's name.
    pub symbol: Arc<str>,
    /// The client's id.
    pub client_order_id: String,
    /// Buy or sell.
    pub side: Side,
    /// Quantity or quote amount.
    pub amount: Amount,
    /// Type and prices.
    pub order_type: OrderType,
    /// Visible part of an iceberg.
    pub iceberg: Option<Fixed>,
    /// Where it is.
    pub status: OrderStatus,
    /// Base quantity executed.
    pub executed: Fixed,
    /// Quote quantity executed.
    pub quote: Fixed,
    /// When it was placed.
    pub time: i64,
    /// When it last changed.
    pub update_time: i64,
    /// When it started working in the book (a stop: when triggered).
    pub working_time: Option<i64>,
}

/// One execution of an account's order (`GET /api/v3/myTrades`).
#[derive(Clone, Debug)]
pub struct SimFill {
    /// The symbol's name.
    pub symbol: Arc<str>,
    /// The trade's id.
    pub id: u64,
    /// The order's id.
    pub order_id: u64,
    /// Price.
    pub price: Fixed,
    /// Base quantity.
    pub quantity: Fixed,
    /// Quote quantity.
    pub quote: Fixed,
    /// Fee.
    pub commission: Fixed,
    /// The asset the fee was paid in.
    pub commission_asset: Arc<str>,
    /// When.
    pub time: i64,
    /// Whether the order bought.
    pub is_buyer: bool,
    /// Whether the order made liquidity.
    pub is_maker: bool,
}

/// Binance's form of an amount: eight decimals.
pub fn text(x: Fixed) -> String {
    let raw = x.raw();
    let sign = if raw < 0 { "-" } else { "" };
    let abs = raw.unsigned_abs();
    format!("{sign}{}.{:08}", abs / 100_000_000, abs % 100_000_000)
}

/// Binance's name of a status.
pub fn status_name(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::PendingNew => "PENDING_NEW",
        OrderStatus::New => "NEW",
        OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
        OrderStatus::Filled => "FILLED",
        OrderStatus::Cancelled => "CANCELED",
        OrderStatus::Rejected => "REJECTED",
        OrderStatus::Expired => "EXPIRED",
    }
}

/// The time in force Binance shows for an order of `order_type` (GTC for types without one).
fn tif_name(order_type: &OrderType) -> &'static str {
    order_type
        .time_in_force()
        .unwrap_or(crate::model::TimeInForce::Gtc)
        .name()
}

impl SimOrder {
    fn quantities(&self) -> (Fixed, Fixed) {
        match self.amount {
            Amount::Base(q) => (q, Fixed::ZERO),
            Amount::Quote(q) => (Fixed::ZERO, q),
        }
    }

    fn stop_price(&self) -> Option<Fixed> {
        match self.order_type.trigger() {
            Some(Trigger::Price(p)) => Some(p),
            Some(Trigger::Trailing { activation, .. }) => activation,
            None => None,
        }
    }

    /// The fields every order answer shares.
    fn common(&self) -> serde_json::Map<String, Value> {
        let (orig, orig_quote) = self.quantities();
        let mut m = serde_json::Map::new();
        m.insert("symbol".into(), json!(self.symbol));
        m.insert("orderId".into(), json!(self.id));
        m.insert("orderListId".into(), json!(-1));
        m.insert("clientOrderId".into(), json!(self.client_order_id));
        m.insert(
            "price".into(),
            json!(text(self.order_type.limit_price().unwrap_or(Fixed::ZERO))),
        );
        m.insert("origQty".into(), json!(text(orig)));
        m.insert("executedQty".into(), json!(text(self.executed)));
        m.insert("origQuoteOrderQty".into(), json!(text(orig_quote)));
        m.insert("cummulativeQuoteQty".into(), json!(text(self.quote)));
        m.insert("status".into(), json!(status_name(self.status)));
        m.insert("timeInForce".into(), json!(tif_name(&self.order_type)));
        m.insert("type".into(), json!(self.order_type.name()));
        m.insert("side".into(), json!(self.side.name()));
        if let Some(stop) = self.stop_price() {
            m.insert("stopPrice".into(), json!(text(stop)));
        }
        if let Some(Trigger::Trailing { delta_bps, .. }) = self.order_type.trigger() {
            m.insert("trailingDelta".into(), json!(delta_bps));
        }
        if let Some(visible) = self.iceberg {
            m.insert("icebergQty".into(), json!(text(visible)));
        }
        m.insert("selfTradePreventionMode".into(), json!("NONE"));
        m
    }

    /// The answer to a new order with `newOrderRespType=ACK`.
    pub fn ack(&self) -> Value {
        json!({
            "symbol": self.symbol,
            "orderId": self.id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "transactTime": self.time,
        })
    }

    /// The answer to a new order with `RESULT`, or with `FULL` and its placement's `fills`.
    pub fn result(&self, fills: Option<&[SimFill]>) -> Value {
        let mut m = self.common();
        m.insert("transactTime".into(), json!(self.time));
        m.insert("workingTime".into(), json!(self.working_time.unwrap_or(-1)));
        if let Some(fills) = fills {
            let rows: Vec<Value> = fills
                .iter()
                .map(|f| {
                    json!({
                        "price": text(f.price),
                        "qty": text(f.quantity),
                        "commission": text(f.commission),
                        "commissionAsset": f.commission_asset,
                        "tradeId": f.id,
                    })
                })
                .collect();
            m.insert("fills".into(), Value::Array(rows));
        }
        Value::Object(m)
    }

    /// The order as `GET /api/v3/order` and the order lists show it.
    pub fn query(&self) -> Value {
        let mut m = self.common();
        m.entry("stopPrice").or_insert(json!(text(Fixed::ZERO)));
        m.entry("icebergQty").or_insert(json!(text(Fixed::ZERO)));
        m.insert("time".into(), json!(self.time));
        m.insert("updateTime".into(), json!(self.update_time));
        m.insert(
            "isWorking".into(),
            json!(self.working_time.is_some() && self.status.is_open()),
        );
        m.insert("workingTime".into(), json!(self.working_time.unwrap_or(-1)));
        Value::Object(m)
    }

    /// The answer to a cancel sent with client id `cancel_id` at `now`.
    pub fn cancelled(&self, cancel_id: &str, now: i64) -> Value {
        let mut m = self.common();
        m.insert("origClientOrderId".into(), json!(self.client_order_id));
        m.insert("clientOrderId".into(), json!(cancel_id));
        m.insert("transactTime".into(), json!(now));
        Value::Object(m)
    }
}

/// Binance's execution type of an update, for `executionReport`.
fn execution_name(execution: ExecutionType) -> &'static str {
    match execution {
        ExecutionType::New | ExecutionType::Triggered => "NEW",
        ExecutionType::Trade => "TRADE",
        ExecutionType::Cancelled => "CANCELED",
        ExecutionType::Rejected => "REJECTED",
        ExecutionType::Expired => "EXPIRED",
        ExecutionType::CancelRejected => "CANCEL_REJECTED",
    }
}

impl SimOrder {
    /// The user data stream's `executionReport` of `update` to this order (already applied),
    /// with `fill` for a trade.
    pub fn execution_report(&self, update: &OrderUpdate, fill: Option<&SimFill>) -> Value {
        let (orig, orig_quote) = self.quantities();
        json!({
            "e": "executionReport",
            "E": update.time,
            "s": self.symbol,
            "c": self.client_order_id,
            "S": self.side.name(),
            "o": self.order_type.name(),
            "f": tif_name(&self.order_type),
            "q": text(orig),
            "p": text(self.order_type.limit_price().unwrap_or(Fixed::ZERO)),
            "P": text(self.stop_price().unwrap_or(Fixed::ZERO)),
            "F": text(self.iceberg.unwrap_or(Fixed::ZERO)),
            "g": -1,
            "C": "",
            "x": execution_name(update.execution),
            "X": status_name(self.status),
            "r": "NONE",
            "i": self.id,
            "l": text(fill.map_or(Fixed::ZERO, |f| f.quantity)),
            "z": text(self.executed),
            "L": text(fill.map_or(Fixed::ZERO, |f| f.price)),
            "n": text(fill.map_or(Fixed::ZERO, |f| f.commission)),
            "N": fill.map(|f| f.commission_asset.clone()),
            "T": update.time,
            "t": fill.map_or(-1, |f| f.id as i64),
            "v": 0,
            "I": update.time,
            "w": self.working_time.is_some() && self.status.is_open(),
            "m": fill.is_some_and(|f| f.is_maker),
            "M": false,
            "O": self.time,
            "Z": text(self.quote),
            "Y": text(fill.map_or(Fixed::ZERO, |f| f.quote)),
            "Q": text(orig_quote),
            "W": self.working_time.unwrap_or(-1),
            "V": "NONE",
        })
    }
}

impl SimFill {
    /// The trade as `GET /api/v3/myTrades` shows it.
    pub fn json(&self) -> Value {
        json!({
            "symbol": self.symbol,
            "id": self.id,
            "orderId": self.order_id,
            "orderListId": -1,
            "price": text(self.price),
            "qty": text(self.quantity),
            "quoteQty": text(self.quote),
            "commission": text(self.commission),
            "commissionAsset": self.commission_asset,
            "time": self.time,
            "isBuyer": self.is_buyer,
            "isMaker": self.is_maker,
            "isBestMatch": true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_have_eight_decimals() {
        assert_eq!(text("0.001".parse().unwrap()), "0.00100000");
        assert_eq!(text("42".parse().unwrap()), "42.00000000");
        assert_eq!(text("-1.5".parse().unwrap()), "-1.50000000");
        assert_eq!(text(Fixed::ZERO), "0.00000000");
    }
}
