//! Our orders in Binance's words and Binance's answers in ours: the parameters of a new order,
//! the client order id that names it (derived from the deployment and the host's order id, so a
//! resend is recognised as the same order), and what an order answer, a query or an
//! `executionReport` says about an order.

use crate::execution::venue::VenueOrder;
use crate::model::{
    AccountLimit, Amount, DeploymentId, ExchangeFilter, Fixed, RejectCode, Rejection, Trigger,
};
use serde_json::{Map, Value, json};

/// The client order id of host order `order_id` of deployment `owner`: `sb-<owner>-<order>`
/// (Binance allows `^[a-zA-Z0-9-_]{1,36}$`).
pub fn client_order_id(owner: DeploymentId, order_id: u64) -> String {
    format!("sb-{}-{order_id}", owner.0)
}

/// The host order id a client order id of ours names, or `None` for an order we did not send.
pub fn host_order_id(client_order_id: &str) -> Option<u64> {
    let rest = client_order_id.strip_prefix("sb-")?;
    let (owner, order) = rest.split_once('-')?;
    owner.parse::<u32>().ok()?;
    order.parse().ok()
}

/// The parameters of `order.place` / `POST /api/v3/order` for `order` on `symbol`, answered in
/// full (`newOrderRespType=FULL`, with its fills).
pub fn place_params(order: &VenueOrder, symbol: &str) -> Map<String, Value> {
    let mut p = Map::new();
    let text = |x: Fixed| Value::String(x.to_string());
    p.insert("symbol".into(), json!(symbol));
    p.insert("side".into(), json!(order.side.name()));
    p.insert("type".into(), json!(order.order_type.name()));
    match order.amount {
        Amount::Base(q) => p.insert("quantity".into(), text(q)),
        Amount::Quote(q) => p.insert("quoteOrderQty".into(), text(q)),
    };
    if let Some(price) = order.order_type.limit_price() {
        p.insert("price".into(), text(price));
    }
    if let Some(tif) = order.order_type.time_in_force() {
        p.insert("timeInForce".into(), json!(tif.name()));
    }
    match order.order_type.trigger() {
        Some(Trigger::Price(stop)) => {
            p.insert("stopPrice".into(), text(stop));
        }
        Some(Trigger::Trailing {
            delta_bps,
            activation,
        }) => {
            p.insert("trailingDelta".into(), json!(delta_bps));
            if let Some(at) = activation {
                p.insert("stopPrice".into(), text(at));
            }
        }
        None => {}
    }
    if let Some(iceberg) = order.iceberg {
        p.insert("icebergQty".into(), text(iceberg));
    }
    p.insert(
        "newClientOrderId".into(),
        json!(client_order_id(order.owner, order.id)),
    );
    p.insert("newOrderRespType".into(), json!("FULL"));
    p
}

/// Our reason for an exchange's refusal (`code`, `msg`).
pub fn rejection(code: i64, msg: &str) -> Rejection {
    let lower = msg.to_ascii_lowercase();
    let filter = |name: &str| {
        [
            ExchangeFilter::PriceFilter,
            ExchangeFilter::PercentPrice,
            ExchangeFilter::PercentPriceBySide,
            ExchangeFilter::LotSize,
            ExchangeFilter::MarketLotSize,
            ExchangeFilter::MinNotional,
            ExchangeFilter::Notional,
            ExchangeFilter::IcebergParts,
            ExchangeFilter::MaxNumOrders,
            ExchangeFilter::MaxNumAlgoOrders,
            ExchangeFilter::MaxNumIcebergOrders,
            ExchangeFilter::MaxPosition,
            ExchangeFilter::TrailingDelta,
        ]
        .into_iter()
        .find(|f| f.name() == name)
    };
    let kind = match code {
        -1013 => msg
            .strip_prefix("Filter failure: ")
            .and_then(|name| filter(name.trim()))
            .map_or(RejectCode::InvalidOrder, RejectCode::Filter),
        -1121 => RejectCode::UnknownSymbol,
        -2011 | -2013 => RejectCode::UnknownOrder,
        -1015 => RejectCode::Account(AccountLimit::OrderRate),
        -2010 if lower.contains("insufficient balance") => RejectCode::InsufficientBalance,
        -2010 if lower.contains("immediately match") => RejectCode::WouldTakeLiquidity,
        -2010 if lower.contains("trigger immediately") => RejectCode::WouldTriggerImmediately,
        _ => RejectCode::InvalidOrder,
    };
    Rejection::new(kind, format!("Binance {code}: {msg}"))
}

/// One execution of an order as Binance reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Trade {
    /// Binance's trade id (per symbol).
    pub id: i64,
    /// Price.
    pub price: Fixed,
    /// Base quantity.
    pub quantity: Fixed,
    /// Quote quantity.
    pub quote: Fixed,
    /// Commission charged.
    pub commission: Fixed,
    /// The asset it was charged in.
    pub commission_asset: String,
    /// Whether the order was the maker.
    pub maker: bool,
}

/// What one message of the exchange says about one order.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderView {
    /// Its client order id.
    pub client_order_id: String,
    /// The exchange's order id.
    pub exchange_id: i64,
    /// The symbol.
    pub symbol: String,
    /// Binance's status (`NEW`, `PARTIALLY_FILLED`, `FILLED`, `CANCELED`, `EXPIRED`,
    /// `EXPIRED_IN_MATCH`, `REJECTED`, `PENDING_NEW`).
    pub status: String,
    /// Base quantity executed so far.
    pub executed: Fixed,
    /// Whether it works in the book (false for a stop order not yet triggered).
    pub working: bool,
    /// Executions this message carries.
    pub trades: Vec<Trade>,
    /// Event time (or the answer's transaction time), in milliseconds.
    pub time: i64,
}

/// A decimal field (Binance sends decimals as strings).
fn fixed(v: &Value) -> Option<Fixed> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => Fixed::from_f64(n.as_f64()?).ok(),
        _ => None,
    }
}

/// The malformed field of an exchange message.
fn missing(field: &str, message: &Value) -> String {
    let text: String = message.to_string().chars().take(300).collect();
    format!("the exchange's order message has no valid {field}: {text}")
}

impl OrderView {
    /// An order answer (place with `FULL`, query, cancel, an entry of `openOrders`).
    pub fn from_answer(answer: &Value) -> Result<OrderView, String> {
        let get = |field: &str| answer.get(field).filter(|v| !v.is_null());
        let text = |field: &str| {
            get(field)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| missing(field, answer))
        };
        let mut trades = Vec::new();
        for fill in answer["fills"].as_array().into_iter().flatten() {
            let price = fixed(&fill["price"]).ok_or_else(|| missing("fills.price", answer))?;
            let quantity = fixed(&fill["qty"]).ok_or_else(|| missing("fills.qty", answer))?;
            trades.push(Trade {
                id: fill["tradeId"]
                    .as_i64()
                    .ok_or_else(|| missing("fills.tradeId", answer))?,
                price,
                quantity,
                quote: price.saturating_mul(quantity),
                commission: fixed(&fill["commission"]).unwrap_or(Fixed::ZERO),
                commission_asset: fill["commissionAsset"].as_str().unwrap_or("").to_string(),
                // A FULL answer's fills are the order's own taking at placement.
                maker: false,
            });
        }
        let status = text("status")?;
        Ok(OrderView {
            // A cancel's answer names the cancel in `clientOrderId`, the order in
            // `origClientOrderId`.
            client_order_id: text("origClientOrderId").or_else(|_| text("clientOrderId"))?,
            exchange_id: get("orderId")
                .and_then(Value::as_i64)
                .ok_or_else(|| missing("orderId", answer))?,
            symbol: text("symbol")?,
            executed: get("executedQty")
                .and_then(fixed)
                .ok_or_else(|| missing("executedQty", answer))?,
            // A stop order waiting for its trigger is not working (`workingTime` -1).
            working: get("isWorking")
                .and_then(Value::as_bool)
                .unwrap_or_else(|| {
                    get("workingTime")
                        .and_then(Value::as_i64)
                        .is_none_or(|t| t >= 0)
                }),
            status,
            trades,
            time: get("transactTime")
                .or_else(|| get("updateTime"))
                .and_then(Value::as_i64)
                .unwrap_or(0),
        })
    }

    /// A user data stream `executionReport`.
    pub fn from_execution_report(event: &Value) -> Result<OrderView, String> {
        let text = |field: &str| {
            event[field]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| missing(field, event))
        };
        let number = |field: &str| fixed(&event[field]).ok_or_else(|| missing(field, event));
        let execution = text("x")?;
        let mut trades = Vec::new();
        if execution == "TRADE" {
            let price = number("L")?;
            let quantity = number("l")?;
            trades.push(Trade {
                id: event["t"].as_i64().ok_or_else(|| missing("t", event))?,
                price,
                quantity,
                quote: fixed(&event["Y"]).unwrap_or_else(|| price.saturating_mul(quantity)),
                commission: fixed(&event["n"]).unwrap_or(Fixed::ZERO),
                commission_asset: event["N"].as_str().unwrap_or("").to_string(),
                maker: event["m"].as_bool().unwrap_or(false),
            });
        }
        // A cancel-replace's client id of the cancelled order is in `C`.
        let client_order_id = match event["C"].as_str() {
            Some(original) if !original.is_empty() && execution == "CANCELED" => original.into(),
            _ => text("c")?,
        };
        Ok(OrderView {
            client_order_id,
            exchange_id: event["i"].as_i64().ok_or_else(|| missing("i", event))?,
            symbol: text("s")?,
            status: text("X")?,
            executed: number("z")?,
            working: event["w"].as_bool().unwrap_or(true),
            trades,
            time: event["E"].as_i64().unwrap_or(0),
        })
    }

    /// Whether the order has ended on the exchange.
    pub fn is_final(&self) -> bool {
        matches!(
            self.status.as_str(),
            "FILLED" | "CANCELED" | "EXPIRED" | "EXPIRED_IN_MATCH" | "REJECTED"
        )
    }
}

/// A trade of `GET /api/v3/myTrades` (or `myTrades` of the WebSocket API): its order's
/// exchange id and the trade.
pub fn account_trade(trade: &Value) -> Result<(i64, Trade), String> {
    let number = |field: &str| fixed(&trade[field]).ok_or_else(|| missing(field, trade));
    let price = number("price")?;
    let quantity = number("qty")?;
    Ok((
        trade["orderId"]
            .as_i64()
            .ok_or_else(|| missing("orderId", trade))?,
        Trade {
            id: trade["id"].as_i64().ok_or_else(|| missing("id", trade))?,
            price,
            quantity,
            quote: fixed(&trade["quoteQty"]).unwrap_or_else(|| price.saturating_mul(quantity)),
            commission: number("commission")?,
            commission_asset: trade["commissionAsset"].as_str().unwrap_or("").to_string(),
            maker: trade["isMaker"].as_bool().unwrap_or(false),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OrderType, Side, TimeInForce};

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    fn order(order_type: OrderType, amount: Amount) -> VenueOrder {
        VenueOrder {
            id: 42,
            owner: DeploymentId(3),
            symbol: 0,
            side: Side::Buy,
            amount,
            order_type,
            iceberg: None,
            spend_cap: None,
            venue: 0,
        }
    }

    #[test]
    fn client_order_ids_name_deployment_and_order_and_only_ours_parse() {
        let id = client_order_id(DeploymentId(3), 42);
        assert_eq!(id, "sb-3-42");
        assert_eq!(host_order_id(&id), Some(42));
        for other in ["web_abc", "sb-x-1", "sb-3", "sb-3-", "x-3-42", ""] {
            assert_eq!(host_order_id(other), None, "{other}");
        }
        let longest = client_order_id(DeploymentId(u32::MAX), u64::MAX);
        assert!(longest.len() <= 36, "{longest}");
    }

    #[test]
    fn every_order_type_becomes_binances_parameters() {
        let stop = Trigger::Price(fx("90"));
        let cases = [
            (
                order(OrderType::Market, Amount::Quote(fx("50"))),
                json!({"type": "MARKET", "quoteOrderQty": "50"}),
            ),
            (
                order(
                    OrderType::Limit {
                        price: fx("100.5"),
                        time_in_force: TimeInForce::Ioc,
                    },
                    Amount::Base(fx("0.25")),
                ),
                json!({"type": "LIMIT", "quantity": "0.25", "price": "100.5", "timeInForce": "IOC"}),
            ),
            (
                order(
                    OrderType::LimitMaker { price: fx("99") },
                    Amount::Base(fx("1")),
                ),
                json!({"type": "LIMIT_MAKER", "quantity": "1", "price": "99"}),
            ),
            (
                order(OrderType::StopLoss { trigger: stop }, Amount::Base(fx("1"))),
                json!({"type": "STOP_LOSS", "quantity": "1", "stopPrice": "90"}),
            ),
            (
                order(
                    OrderType::TakeProfitLimit {
                        trigger: Trigger::Trailing {
                            delta_bps: 150,
                            activation: Some(fx("110")),
                        },
                        price: fx("111"),
                        time_in_force: TimeInForce::Gtc,
                    },
                    Amount::Base(fx("1")),
                ),
                json!({"type": "TAKE_PROFIT_LIMIT", "quantity": "1", "price": "111",
                       "timeInForce": "GTC", "trailingDelta": 150, "stopPrice": "110"}),
            ),
        ];
        for (order, expected) in cases {
            let p = place_params(&order, "BTCUSDT");
            assert_eq!(p["symbol"], "BTCUSDT");
            assert_eq!(p["side"], "BUY");
            assert_eq!(p["newClientOrderId"], "sb-3-42");
            assert_eq!(p["newOrderRespType"], "FULL");
            for (k, v) in expected.as_object().unwrap() {
                let got = &p[k];
                let same = match (got, v) {
                    (Value::String(a), Value::String(b)) => {
                        a == b || a.parse::<Fixed>().ok() == b.parse::<Fixed>().ok()
                    }
                    _ => got == v,
                };
                assert!(same, "{k}: {got} vs {v} in {p:?}");
            }
            let known = expected.as_object().unwrap().len() + 4;
            assert_eq!(p.len(), known, "{p:?}");
        }
    }

    #[test]
    fn refusals_map_to_our_codes() {
        let cases = [
            (
                -1013,
                "Filter failure: LOT_SIZE",
                RejectCode::Filter(ExchangeFilter::LotSize),
            ),
            (-1013, "Filter failure: WHATEVER", RejectCode::InvalidOrder),
            (
                -2010,
                "Account has insufficient balance for requested action.",
                RejectCode::InsufficientBalance,
            ),
            (
                -2010,
                "Order would immediately match and take.",
                RejectCode::WouldTakeLiquidity,
            ),
            (
                -2010,
                "Order would trigger immediately.",
                RejectCode::WouldTriggerImmediately,
            ),
            (-2011, "Unknown order sent.", RejectCode::UnknownOrder),
            (-1121, "Invalid symbol.", RejectCode::UnknownSymbol),
            (
                -1015,
                "Too many new orders.",
                RejectCode::Account(AccountLimit::OrderRate),
            ),
        ];
        for (code, msg, expected) in cases {
            let r = rejection(code, msg);
            assert_eq!(r.code, expected, "{code} {msg}");
            assert!(r.message.contains(msg) && r.message.contains(&code.to_string()));
        }
    }

    #[test]
    fn answers_and_reports_are_read_and_malformed_ones_named() {
        let full = json!({"symbol": "BTCUSDT", "orderId": 7, "clientOrderId": "sb-1-5",
            "transactTime": 1000, "origQty": "0.3", "executedQty": "0.2", "status": "PARTIALLY_FILLED",
            "fills": [{"price": "100", "qty": "0.2", "commission": "0.02", "commissionAsset": "USDT", "tradeId": 9}]});
        let view = OrderView::from_answer(&full).unwrap();
        assert_eq!(host_order_id(&view.client_order_id), Some(5));
        assert_eq!(
            (view.exchange_id, view.executed, view.time),
            (7, fx("0.2"), 1000)
        );
        assert_eq!(view.trades.len(), 1);
        assert_eq!(view.trades[0].quote, fx("20"));
        assert!(!view.is_final());
        let report = json!({"e": "executionReport", "E": 2000, "s": "BTCUSDT", "c": "sb-1-5", "C": "",
            "x": "TRADE", "X": "FILLED", "i": 7, "q": "0.3", "z": "0.3", "l": "0.1", "L": "101",
            "n": "0.0001", "N": "BTC", "t": 10, "m": true, "w": true, "Y": "10.1"});
        let view = OrderView::from_execution_report(&report).unwrap();
        assert!(view.is_final());
        assert_eq!(view.trades[0].commission_asset, "BTC");
        assert!(view.trades[0].maker);
        let mut bad = report.clone();
        bad["z"] = json!("lots");
        let e = OrderView::from_execution_report(&bad).unwrap_err();
        assert!(e.contains("valid z"), "{e}");
        let e = OrderView::from_answer(&json!({"status": "NEW"})).unwrap_err();
        assert!(e.contains("clientOrderId"), "{e}");
    }
}
