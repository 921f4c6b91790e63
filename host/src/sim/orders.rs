//! The simulator's signed REST endpoints: the account, and placing, testing, querying,
//! cancelling and replacing orders, the open and all-order lists and the account's trades, with
//! Binance's weights, ORDERS counts (`X-MBX-ORDER-COUNT-10S`, `-1D`) and error bodies.

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

/// The signed routes.
pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v3/account", get(account))
        .route(
            "/api/v3/order",
            post(new_order).get(query_order).delete(cancel_order),
        )
        .route("/api/v3/order/test", post(test_order))
        .route("/api/v3/order/cancelReplace", post(cancel_replace))
        .route(
            "/api/v3/openOrders",
            get(open_orders).delete(cancel_open_orders),
        )
        .route("/api/v3/allOrders", get(all_orders))
        .route("/api/v3/myTrades", get(my_trades))
}

/// What a signed endpoint's work gives: its answer or refusal (with Binance's `data` for
/// cancel-replace), and the account's ORDERS counts when it placed an order.
struct Answer {
    result: Result<Value, (SimError, Option<Value>)>,
    counts: Option<OrderCounts>,
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

fn error_response(e: SimError, data: Option<Value>) -> Response {
    let mut body = json!({"code": e.code, "msg": e.msg});
    if let Some(data) = data {
        body["data"] = data;
    }
    (e.status, Json(body)).into_response()
}

/// A request in its parts: headers, query string and form body.
struct Signed {
    headers: HeaderMap,
    query: String,
    body: String,
}

impl Signed {
    fn new(headers: HeaderMap, query: Option<String>, body: String) -> Self {
        Signed {
            headers,
            query: query.unwrap_or_default(),
            body,
        }
    }

    /// Authenticates, then runs `work` with the account's number and the parameters, at
    /// `weight`; adds the ORDERS counts to the answer when the work gives them.
    async fn run(
        self,
        sim: &Sim,
        weight: u64,
        work: impl FnOnce(&SimTrading, u32, &Params) -> Answer,
    ) -> Response {
        let mut counts = None;
        let mut response = respond(sim, weight, || {
            let (account, params) =
                sim.accounts
                    .authenticate(&self.headers, &self.query, &self.body, now_ms())?;
            let trading = sim
                .trading
                .as_ref()
                .expect("a simulator with accounts trades");
            let answer = work(trading, account.number, &Params(&params));
            counts = answer.counts;
            answer
                .result
                .map(|v| v.to_string())
                .map_err(|(e, data)| error_response(e, data))
        })
        .await;
        if let Some(c) = counts {
            let h = response.headers_mut();
            h.insert("x-mbx-order-count-10s", HeaderValue::from(c.ten_seconds));
            h.insert("x-mbx-order-count-1d", HeaderValue::from(c.day));
        }
        response
    }
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

/// `GET /api/v3/account` (weight 20): commissions, permissions and balances
/// (`omitZeroBalances=true` leaves out the empty ones), as Binance answers it.
async fn account(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let api_key = headers
        .get("x-mbx-apikey")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    Signed::new(headers, query, String::new())
        .run(&sim, 20, |trading, account, p| {
            let omit_zero = p.get("omitZeroBalances") == Some("true");
            let balances: Vec<Value> = trading
                .balances(account)
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
            Ok::<_, SimError>(json!({
                "makerCommission": 10,
                "takerCommission": 10,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "commissionRates": {"maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000", "seller": "0.00000000"},
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
                "uid": account_uid(&api_key),
            }))
            .into()
        })
        .await
}

/// A stable user id for an API key.
fn account_uid(api_key: &str) -> u64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(api_key.as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes")) >> 16
}

/// `POST /api/v3/order` (weight 1, one order).
async fn new_order(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    Signed::new(headers, query, body)
        .run(&sim, 1, |trading, account, p| match p.new_order() {
            Err(e) => Answer::refused(e),
            Ok(new) => match trading.place(account, &new, now_ms()) {
                Ok((v, counts)) => Answer {
                    result: Ok(v),
                    counts: Some(counts),
                },
                Err((e, counts)) => Answer {
                    result: Err((e, None)),
                    counts: Some(counts),
                },
            },
        })
        .await
}

/// `POST /api/v3/order/test` (weight 1; 20 with `computeCommissionRates=true`, which answers
/// the rates the order would pay).
async fn test_order(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    let rates = query
        .as_deref()
        .unwrap_or("")
        .contains("computeCommissionRates=true")
        || body.contains("computeCommissionRates=true");
    Signed::new(headers, query, body)
        .run(&sim, if rates { 20 } else { 1 }, |trading, account, p| {
            let checked = p
                .new_order()
                .and_then(|new| trading.test(account, &new, now_ms()));
            checked
                .map(|empty| {
                    if rates {
                        json!({
                            "standardCommissionForOrder": {"maker": "0.00100000", "taker": "0.00100000"},
                            "specialCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
                            "taxCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
                            "discount": {"enabledForAccount": false, "enabledForSymbol": false, "discountAsset": "BNB", "discount": "0.25000000"}
                        })
                    } else {
                        empty
                    }
                })
                .into()
        })
        .await
}

/// `GET /api/v3/order` (weight 4).
async fn query_order(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    Signed::new(headers, query, body)
        .run(&sim, 4, |trading, account, p| {
            (|| {
                let symbol = p.required("symbol")?.to_ascii_uppercase();
                let which = order_ref(p, "orderId", "origClientOrderId")?;
                trading.query(account, &symbol, &which)
            })()
            .into()
        })
        .await
}

/// `DELETE /api/v3/order` (weight 1).
async fn cancel_order(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    Signed::new(headers, query, body)
        .run(&sim, 1, |trading, account, p| {
            (|| {
                let symbol = p.required("symbol")?.to_ascii_uppercase();
                let which = order_ref(p, "orderId", "origClientOrderId")?;
                let cancel_id = p.client_id("newClientOrderId")?;
                trading.cancel(account, &symbol, &which, cancel_id, now_ms())
            })()
            .into()
        })
        .await
}

/// `POST /api/v3/order/cancelReplace` (weight 1, one order): cancels, then places.
async fn cancel_replace(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    Signed::new(headers, query, body)
        .run(&sim, 1, |trading, account, p| {
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
            match trading.cancel_replace(account, &which, cancel_id, &new, allow_failure, now_ms())
            {
                Ok((v, counts)) => Answer {
                    result: Ok(v),
                    counts: Some(counts),
                },
                Err((e, data, counts)) => Answer {
                    result: Err((e, data)),
                    counts: Some(counts),
                },
            }
        })
        .await
}

/// `GET /api/v3/openOrders` (weight 6 for one symbol, 80 for all).
async fn open_orders(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    let one_symbol = form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .chain(form_urlencoded::parse(body.as_bytes()))
        .any(|(k, v)| k == "symbol" && !v.is_empty());
    Signed::new(headers, query, body)
        .run(
            &sim,
            if one_symbol { 6 } else { 80 },
            |trading, account, p| {
                let symbol = p.get("symbol").map(str::to_ascii_uppercase);
                trading.open_orders(account, symbol.as_deref()).into()
            },
        )
        .await
}

/// `DELETE /api/v3/openOrders` (weight 1): cancels every open order of a symbol.
async fn cancel_open_orders(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    Signed::new(headers, query, body)
        .run(&sim, 1, |trading, account, p| {
            (|| {
                let symbol = p.required("symbol")?.to_ascii_uppercase();
                trading.cancel_all(account, &symbol, now_ms())
            })()
            .into()
        })
        .await
}

/// `GET /api/v3/allOrders` (weight 20).
async fn all_orders(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    Signed::new(headers, query, body)
        .run(&sim, 20, |trading, account, p| {
            (|| {
                let symbol = p.required("symbol")?.to_ascii_uppercase();
                let limit = p.limit(500, 1000)?;
                trading.all_orders(account, &symbol, id(p, "orderId")?, time_range(p)?, limit)
            })()
            .into()
        })
        .await
}

/// `GET /api/v3/myTrades` (weight 20; 5 for one order's).
async fn my_trades(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    let one_order = query.as_deref().unwrap_or("").contains("orderId=");
    Signed::new(headers, query, body)
        .run(
            &sim,
            if one_order { 5 } else { 20 },
            |trading, account, p| {
                (|| {
                    let symbol = p.required("symbol")?.to_ascii_uppercase();
                    let limit = p.limit(500, 1000)?;
                    let ids = (id(p, "orderId")?, id(p, "fromId")?);
                    trading.my_trades(account, &symbol, ids, time_range(p)?, limit)
                })()
                .into()
            },
        )
        .await
}
