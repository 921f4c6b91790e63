//! The simulator's signed endpoints: the account, and placing, testing, querying, cancelling
//! and replacing orders, the open and all-order lists and the account's trades, with Binance's
//! weights, ORDERS counts (`X-MBX-ORDER-COUNT-10S`, `-1D`) and error bodies. Each is an
//! [`Endpoint`], served over REST here and over the WebSocket API by [`super::ws_api`].

use super::accounts::SimAccount;
use super::trading::params::Params;
use super::trading::{OrderCounts, OrderRef, SimError, SimTrading};
use super::{Sim, now_ms, respond};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::sync::Arc;

/// A signed endpoint: its weight for the request's parameters, and its work for an account.
pub struct Endpoint {
    /// The REQUEST_WEIGHT it costs.
    pub weight: fn(&Params) -> u64,
    /// Whether its answer acknowledges an order placement or cancel (which the
    /// acknowledgement faults delay or lose).
    pub acknowledges: bool,
    /// What it does.
    pub work: fn(&SimTrading, &SimAccount, &Params) -> Answer,
}

/// What an endpoint's work gives: its answer or refusal (with Binance's `data` for
/// cancel-replace), and the account's ORDERS counts when it placed an order.
pub struct Answer {
    /// The answer, or the refusal and its data.
    pub result: Result<Value, (SimError, Option<Value>)>,
    /// The ORDERS counts, when it counted an order.
    pub counts: Option<OrderCounts>,
}

impl Answer {
    fn refused(e: SimError) -> Self {
        Answer {
            result: Err((e, None)),
            counts: None,
        }
    }
}

impl From<Result<Value, SimError>> for Answer {
    fn from(result: Result<Value, SimError>) -> Self {
        Answer {
            result: result.map_err(|e| (e, None)),
            counts: None,
        }
    }
}

/// The signed REST routes.
pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v3/account", get(rest::<0>))
        .route(
            "/api/v3/order",
            post(rest::<1>).get(rest::<3>).delete(rest::<4>),
        )
        .route("/api/v3/order/test", post(rest::<2>))
        .route("/api/v3/order/cancelReplace", post(rest::<5>))
        .route("/api/v3/openOrders", get(rest::<6>).delete(rest::<7>))
        .route("/api/v3/allOrders", get(rest::<8>))
        .route("/api/v3/myTrades", get(rest::<9>))
        .route("/api/v3/account/commission", get(rest::<10>))
}

/// The endpoints by the number their route names.
const ENDPOINTS: [&Endpoint; 11] = [
    &ACCOUNT,
    &PLACE,
    &TEST,
    &QUERY,
    &CANCEL,
    &CANCEL_REPLACE,
    &OPEN_ORDERS,
    &CANCEL_ALL,
    &ALL_ORDERS,
    &MY_TRADES,
    &COMMISSION,
];

fn error_response(e: SimError, data: Option<Value>) -> Response {
    let mut body = json!({"code": e.code, "msg": e.msg});
    if let Some(data) = data {
        body["data"] = data;
    }
    (e.status, Json(body)).into_response()
}

/// Serves endpoint `N` over REST: authenticates, runs its work at its weight, and adds the
/// ORDERS counts to the answer when the work gives them.
async fn rest<const N: usize>(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    let endpoint = ENDPOINTS[N];
    let query = query.unwrap_or_default();
    let unsigned: std::collections::BTreeMap<String, String> =
        form_urlencoded::parse(query.as_bytes())
            .chain(form_urlencoded::parse(body.as_bytes()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let weight = (endpoint.weight)(&Params(&unsigned));
    let (mut counts, mut ran) = (None, false);
    let mut response = respond(&sim, weight, || {
        let (account, params) = sim
            .accounts
            .authenticate(&headers, &query, &body, sim.clock())?;
        let trading = sim
            .trading
            .as_ref()
            .expect("a simulator with accounts trades");
        let answer = (endpoint.work)(trading, account, &Params(&params));
        ran = true;
        counts = answer.counts;
        answer
            .result
            .map(|v| v.to_string())
            .map_err(|(e, data)| error_response(e, data))
    })
    .await;
    // Only an order the exchange acted on has an acknowledgement to lose.
    if endpoint.acknowledges && ran {
        let (lost, delay) = sim.ack_fault();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        if lost {
            return super::binance_error(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                -1007,
                "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
            );
        }
    }
    if let Some(c) = counts {
        let h = response.headers_mut();
        h.insert("x-mbx-order-count-10s", HeaderValue::from(c.ten_seconds));
        h.insert("x-mbx-order-count-1d", HeaderValue::from(c.day));
    }
    response
}

/// The order a query or cancel names by `id_name` or `client_name`.
fn order_ref(p: &Params, id_name: &str, client_name: &str) -> Result<OrderRef, SimError> {
    if let Some(id) = p.integer(id_name)? {
        return Ok(OrderRef::Id(u64::try_from(id).unwrap_or(u64::MAX)));
    }
    if let Some(c) = p.get(client_name) {
        return Ok(OrderRef::Client(c.to_string()));
    }
    Err(SimError::bad_request(
        -1102,
        format!("Param '{client_name}' or '{id_name}' must be sent, but both were empty/null!"),
    ))
}

fn time_range(p: &Params) -> Result<(Option<i64>, Option<i64>), SimError> {
    Ok((p.integer("startTime")?, p.integer("endTime")?))
}

fn id(p: &Params, name: &str) -> Result<Option<u64>, SimError> {
    Ok(p.integer(name)?.map(|i| u64::try_from(i).unwrap_or(0)))
}

/// A stable user id for an API key.
fn account_uid(api_key: &str) -> u64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(api_key.as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes")) >> 16
}

fn placed(result: Result<(Value, OrderCounts), (SimError, OrderCounts)>) -> Answer {
    match result {
        Ok((v, counts)) => Answer {
            result: Ok(v),
            counts: Some(counts),
        },
        Err((e, counts)) => Answer {
            result: Err((e, None)),
            counts: Some(counts),
        },
    }
}

/// `GET /api/v3/account`, `account.status` (weight 20): commissions, permissions and balances
/// (`omitZeroBalances=true` leaves out the empty ones), as Binance answers it.
pub const ACCOUNT: Endpoint = Endpoint {
    acknowledges: false,
    weight: |_| 20,
    work: |trading, account, p| {
        let omit_zero = p.get("omitZeroBalances") == Some("true");
        let balances: Vec<Value> = trading
            .balances(account.number)
            .into_iter()
            .filter(|(_, b)| !omit_zero || b.total().is_positive())
            .map(|(asset, b)| {
                json!({
                    "asset": asset,
                    "free": super::trading::text(b.free),
                    "locked": super::trading::text(b.locked),
                })
            })
            .collect();
        let fees = trading.fees();
        // Binance's whole-number commissions are in 0.01 % (10: 0.1 %).
        let bips = |rate: crate::model::Fixed| rate.raw() / 10_000;
        Ok::<_, SimError>(json!({
            "makerCommission": bips(fees.maker),
            "takerCommission": bips(fees.taker),
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": super::trading::text(fees.maker),
                "taker": super::trading::text(fees.taker),
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": true,
            "canWithdraw": false,
            "canDeposit": false,
            "brokered": false,
            "requireSelfTradePrevention": false,
            "preventSor": false,
            "updateTime": now_ms(),
            "accountType": "SPOT",
            "balances": balances,
            "permissions": ["SPOT"],
            "uid": account_uid(&account.api_key),
        }))
        .into()
    },
};

/// Binance's `discount` of an account's commissions on `symbol`: paid in BNB at 75 % when the
/// account pays its fees in BNB (here not on the symbols that trade BNB itself).
fn discount(trading: &SimTrading, symbol: &str) -> Value {
    let on = trading.bnb_burn();
    json!({
        "enabledForAccount": on,
        "enabledForSymbol": on && !symbol.contains("BNB"),
        "discountAsset": "BNB",
        "discount": super::trading::text(crate::execution::BNB_FEE_MULTIPLIER),
    })
}

/// `GET /api/v3/account/commission`, `account.commission` (weight 20): a symbol's commission
/// rates and the BNB discount, as Binance answers them.
pub const COMMISSION: Endpoint = Endpoint {
    acknowledges: false,
    weight: |_| 20,
    work: |trading, _, p| {
        (|| {
            let symbol = p.required("symbol")?.to_ascii_uppercase();
            if !trading.has_symbol(&symbol) {
                return Err(SimError::bad_request(-1121, "Invalid symbol."));
            }
            let fees = trading.fees();
            let zero = json!({"maker": "0.00000000", "taker": "0.00000000", "buyer": "0.00000000", "seller": "0.00000000"});
            Ok(json!({
                "symbol": symbol,
                "standardCommission": {
                    "maker": super::trading::text(fees.maker),
                    "taker": super::trading::text(fees.taker),
                    "buyer": "0.00000000",
                    "seller": "0.00000000",
                },
                "specialCommission": zero,
                "taxCommission": zero,
                "discount": discount(trading, &symbol),
            }))
        })()
        .into()
    },
};

/// `POST /api/v3/order`, `order.place` (weight 1, one order).
pub const PLACE: Endpoint = Endpoint {
    acknowledges: true,
    weight: |_| 1,
    work: |trading, account, p| match p.new_order() {
        Err(e) => Answer::refused(e),
        Ok(new) => placed(trading.place(account.number, &new, now_ms())),
    },
};

/// `POST /api/v3/order/test`, `order.test` (weight 1; 20 with `computeCommissionRates=true`,
/// which answers the rates the order would pay).
pub const TEST: Endpoint = Endpoint {
    acknowledges: false,
    weight: |p| {
        if p.get("computeCommissionRates") == Some("true") {
            20
        } else {
            1
        }
    },
    work: |trading, account, p| {
        let rates = p.get("computeCommissionRates") == Some("true");
        let symbol = p.get("symbol").unwrap_or_default().to_ascii_uppercase();
        p.new_order()
            .and_then(|new| trading.test(account.number, &new, now_ms()))
            .map(|empty| {
                if rates {
                    let fees = trading.fees();
                    json!({
                        "standardCommissionForOrder": {
                            "maker": super::trading::text(fees.maker),
                            "taker": super::trading::text(fees.taker),
                        },
                        "specialCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
                        "taxCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
                        "discount": discount(trading, &symbol),
                    })
                } else {
                    empty
                }
            })
            .into()
    },
};

/// `GET /api/v3/order`, `order.status` (weight 4).
pub const QUERY: Endpoint = Endpoint {
    acknowledges: false,
    weight: |_| 4,
    work: |trading, account, p| {
        (|| {
            let symbol = p.required("symbol")?.to_ascii_uppercase();
            let which = order_ref(p, "orderId", "origClientOrderId")?;
            trading.query(account.number, &symbol, &which)
        })()
        .into()
    },
};

/// `DELETE /api/v3/order`, `order.cancel` (weight 1).
pub const CANCEL: Endpoint = Endpoint {
    acknowledges: true,
    weight: |_| 1,
    work: |trading, account, p| {
        (|| {
            let symbol = p.required("symbol")?.to_ascii_uppercase();
            let which = order_ref(p, "orderId", "origClientOrderId")?;
            let cancel_id = p.client_id("newClientOrderId")?;
            trading.cancel(account.number, &symbol, &which, cancel_id, now_ms())
        })()
        .into()
    },
};

/// `POST /api/v3/order/cancelReplace`, `order.cancelReplace` (weight 1, one order): cancels,
/// then places.
pub const CANCEL_REPLACE: Endpoint = Endpoint {
    acknowledges: true,
    weight: |_| 1,
    work: |trading, account, p| {
        let parsed = (|| {
            let allow_failure = match p.required("cancelReplaceMode")? {
                "STOP_ON_FAILURE" => false,
                "ALLOW_FAILURE" => true,
                _ => {
                    return Err(SimError::bad_request(
                        -1130,
                        "Data sent for parameter 'cancelReplaceMode' is not valid.",
                    ));
                }
            };
            let which = order_ref(p, "cancelOrderId", "cancelOrigClientOrderId")?;
            let cancel_id = p.client_id("cancelNewClientOrderId")?;
            Ok((allow_failure, which, cancel_id, p.new_order()?))
        })();
        let (allow_failure, which, cancel_id, new) = match parsed {
            Ok(parts) => parts,
            Err(e) => return Answer::refused(e),
        };
        match trading.cancel_replace(
            account.number,
            &which,
            cancel_id,
            &new,
            allow_failure,
            now_ms(),
        ) {
            Ok((v, counts)) => Answer {
                result: Ok(v),
                counts: Some(counts),
            },
            Err((e, data, counts)) => Answer {
                result: Err((e, data)),
                counts: Some(counts),
            },
        }
    },
};

/// `GET /api/v3/openOrders`, `openOrders.status` (weight 6 for one symbol, 80 for all).
pub const OPEN_ORDERS: Endpoint = Endpoint {
    acknowledges: false,
    weight: |p| if p.get("symbol").is_some() { 6 } else { 80 },
    work: |trading, account, p| {
        let symbol = p.get("symbol").map(str::to_ascii_uppercase);
        trading
            .open_orders(account.number, symbol.as_deref())
            .into()
    },
};

/// `DELETE /api/v3/openOrders`, `openOrders.cancelAll` (weight 1): cancels every open order of
/// a symbol.
pub const CANCEL_ALL: Endpoint = Endpoint {
    acknowledges: true,
    weight: |_| 1,
    work: |trading, account, p| {
        (|| {
            let symbol = p.required("symbol")?.to_ascii_uppercase();
            trading.cancel_all(account.number, &symbol, now_ms())
        })()
        .into()
    },
};

/// `GET /api/v3/allOrders`, `allOrders` (weight 20).
pub const ALL_ORDERS: Endpoint = Endpoint {
    acknowledges: false,
    weight: |_| 20,
    work: |trading, account, p| {
        (|| {
            let symbol = p.required("symbol")?.to_ascii_uppercase();
            let limit = p.limit(500, 1000)?;
            let from = id(p, "orderId")?;
            trading.all_orders(account.number, &symbol, from, time_range(p)?, limit)
        })()
        .into()
    },
};

/// `GET /api/v3/myTrades`, `myTrades` (weight 20; 5 for one order's).
pub const MY_TRADES: Endpoint = Endpoint {
    acknowledges: false,
    weight: |p| if p.get("orderId").is_some() { 5 } else { 20 },
    work: |trading, account, p| {
        (|| {
            let symbol = p.required("symbol")?.to_ascii_uppercase();
            let limit = p.limit(500, 1000)?;
            let ids = (id(p, "orderId")?, id(p, "fromId")?);
            trading.my_trades(account.number, &symbol, ids, time_range(p)?, limit)
        })()
        .into()
    },
};
