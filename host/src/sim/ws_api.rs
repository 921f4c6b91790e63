//! The simulator's WebSocket API at `/ws-api/v3`, as Binance's: requests
//! `{"id", "method", "params"}` answered `{"id", "status", "result" | "error", "rateLimits"}`;
//! signed requests carry `apiKey`, `timestamp` and a `signature` of their other parameters
//! sorted by name, or ride on a session authenticated by `session.logon` (Ed25519 keys);
//! `userDataStream.subscribe` (on a session) or `userDataStream.subscribe.signature` pushes the
//! account's `executionReport` and `outboundAccountPosition` events as
//! `{"subscriptionId", "event"}`. The trading methods are the REST endpoints' own work
//! ([`super::orders`]), with the same weights and ORDERS counts.

use super::orders::{self, Endpoint};
use super::trading::params::Params;
use super::trading::{OrderCounts, SimError, UserEvent};
use super::{Sim, now_ms};
use axum::extract::ws::{Message, WebSocket};
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::broadcast;

/// One connection's state.
struct Session {
    sim: Arc<Sim>,
    /// The account `session.logon` authenticated, by API key.
    logged_on: Option<String>,
    connected_since: i64,
    authorized_since: Option<i64>,
    /// The user data subscription: its id and the account's events.
    subscription: Option<(u64, u32, broadcast::Receiver<UserEvent>)>,
    next_subscription: u64,
}

/// What a request answers: its result or error, and the rate limits it used.
struct Reply {
    result: Result<Value, (SimError, Option<Value>)>,
    weight_used: u64,
    orders: Option<OrderCounts>,
}

/// The trading method of `name`, with the REST endpoint it shares its work with.
fn endpoint(name: &str) -> Option<&'static Endpoint> {
    Some(match name {
        "order.place" => &orders::PLACE,
        "order.test" => &orders::TEST,
        "order.status" => &orders::QUERY,
        "order.cancel" => &orders::CANCEL,
        "order.cancelReplace" => &orders::CANCEL_REPLACE,
        "openOrders.status" => &orders::OPEN_ORDERS,
        "openOrders.cancelAll" => &orders::CANCEL_ALL,
        "allOrders" => &orders::ALL_ORDERS,
        "myTrades" => &orders::MY_TRADES,
        "account.status" => &orders::ACCOUNT,
        _ => return None,
    })
}

/// A parameter's text: strings as they are, numbers in plain decimal form, booleans as words.
fn param_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => {
            let text = n.to_string();
            if text.contains(['e', 'E']) {
                let formatted = format!("{:.8}", n.as_f64()?);
                Some(
                    formatted
                        .trim_end_matches('0')
                        .trim_end_matches('.')
                        .to_string(),
                )
            } else {
                Some(text)
            }
        }
        _ => None,
    }
}

/// The text a WebSocket API signature covers: every parameter but `signature`, sorted by name,
/// as `name=value` joined by `&`.
pub fn signature_payload(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, _)| k.as_str() != "signature")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

impl Session {
    /// Authenticates a request's own signature (`apiKey`, `timestamp`, `signature`).
    fn signed_account(&self, params: &BTreeMap<String, String>) -> Result<String, SimError> {
        let key = params.get("apiKey").map(String::as_str).unwrap_or("");
        let account = self.sim.accounts.verify(
            key,
            &signature_payload(params),
            params.get("signature").map(String::as_str),
            params,
            now_ms(),
        )?;
        Ok(account.api_key.clone())
    }

    /// The account a trading request acts for: the session's, or its own signature's.
    fn account_for(&self, params: &BTreeMap<String, String>) -> Result<String, SimError> {
        match (&self.logged_on, params.contains_key("signature")) {
            (Some(key), false) => Ok(key.clone()),
            _ => self.signed_account(params),
        }
    }

    fn handle(&mut self, method: &str, params: &BTreeMap<String, String>) -> Reply {
        let weight = endpoint(method).map_or(1, |e| (e.weight)(&Params(params)));
        let weight = match method {
            "session.logon" | "userDataStream.subscribe" | "userDataStream.subscribe.signature" => {
                2
            }
            _ => weight,
        };
        let used = match self.sim.take_weight(weight) {
            Ok(used) => used,
            Err((used, retry_after)) => {
                return Reply {
                    result: Err((
                        SimError::new(
                            StatusCode::TOO_MANY_REQUESTS,
                            -1003,
                            "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
                        ),
                        Some(json!({"retryAfter": now_ms() + retry_after as i64 * 1000})),
                    )),
                    weight_used: used,
                    orders: None,
                };
            }
        };
        let reply = |result: Result<Value, SimError>| Reply {
            result: result.map_err(|e| (e, None)),
            weight_used: used,
            orders: None,
        };
        if let Some(endpoint) = endpoint(method) {
            let account = match self.account_for(params) {
                Ok(key) => self.sim.accounts.get(&key).expect("authenticated"),
                Err(e) => return reply(Err(e)),
            };
            let trading = self
                .sim
                .trading
                .as_ref()
                .expect("accounts come with trading");
            let answer = (endpoint.work)(trading, account, &Params(params));
            return Reply {
                result: answer.result,
                weight_used: used,
                orders: answer.counts,
            };
        }
        match method {
            "ping" => reply(Ok(json!({}))),
            "time" => reply(Ok(json!({"serverTime": now_ms()}))),
            "session.logon" => reply(self.logon(params)),
            "session.status" => reply(Ok(self.status())),
            "session.logout" => {
                self.logged_on = None;
                self.authorized_since = None;
                reply(Ok(self.status()))
            }
            "userDataStream.subscribe" => {
                let key = match &self.logged_on {
                    Some(key) => key.clone(),
                    None => {
                        return reply(Err(SimError::new(
                            StatusCode::UNAUTHORIZED,
                            -2015,
                            "Invalid API-key, IP, or permissions for action.",
                        )));
                    }
                };
                reply(self.subscribe(&key))
            }
            "userDataStream.subscribe.signature" => {
                let subscribed = self
                    .signed_account(params)
                    .and_then(|key| self.subscribe(&key));
                reply(subscribed)
            }
            "userDataStream.unsubscribe" => {
                self.subscription = None;
                reply(Ok(json!({})))
            }
            _ => reply(Err(SimError::bad_request(
                -1000,
                format!("Unknown method '{method}'."),
            ))),
        }
    }

    fn logon(&mut self, params: &BTreeMap<String, String>) -> Result<Value, SimError> {
        let key = self.signed_account(params)?;
        if !self.sim.accounts.get(&key).is_some_and(|a| a.is_ed25519()) {
            return Err(SimError::new(
                StatusCode::UNAUTHORIZED,
                -4056,
                "HMAC_SHA256 API key is not supported.",
            ));
        }
        self.logged_on = Some(key);
        self.authorized_since = Some(now_ms());
        Ok(self.status())
    }

    fn status(&self) -> Value {
        json!({
            "apiKey": self.logged_on,
            "authorizedSince": self.authorized_since,
            "connectedSince": self.connected_since,
            "returnRateLimits": true,
            "serverTime": now_ms(),
            "userDataStream": self.subscription.is_some(),
        })
    }

    fn subscribe(&mut self, key: &str) -> Result<Value, SimError> {
        let account = self.sim.accounts.get(key).expect("authenticated");
        let trading = self
            .sim
            .trading
            .as_ref()
            .expect("accounts come with trading");
        if self.subscription.is_some() {
            return Err(SimError::bad_request(
                -1210,
                "This session is already subscribed to the user data stream.",
            ));
        }
        let id = self.next_subscription;
        self.next_subscription += 1;
        self.subscription = Some((id, account.number, trading.subscribe()));
        Ok(json!({"subscriptionId": id}))
    }

    /// The answer to one text frame.
    fn answer(&mut self, text: &str) -> Value {
        let request: Value = match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return json!({"id": null, "status": 400,
                    "error": {"code": -1000, "msg": "Malformed request: not a JSON object."}});
            }
        };
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let Some(method) = request.get("method").and_then(Value::as_str) else {
            return json!({"id": id, "status": 400,
                "error": {"code": -1102, "msg": "Mandatory parameter 'method' was not sent, was empty/null, or malformed."}});
        };
        let mut params = BTreeMap::new();
        if let Some(Value::Object(map)) = request.get("params") {
            for (k, v) in map {
                match param_text(v) {
                    Some(text) => {
                        params.insert(k.clone(), text);
                    }
                    None => {
                        return json!({"id": id, "status": 400,
                            "error": {"code": -1100, "msg": format!("Illegal characters found in parameter '{k}'.")}});
                    }
                }
            }
        }
        let reply = self.handle(method, &params);
        let mut limits = vec![
            json!({"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
            "intervalNum": 1, "limit": super::WEIGHT_LIMIT, "count": reply.weight_used}),
        ];
        if let Some(c) = reply.orders {
            limits.push(
                json!({"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
                "limit": super::trading::ORDERS_PER_10S, "count": c.ten_seconds}),
            );
            limits.push(
                json!({"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
                "limit": super::trading::ORDERS_PER_DAY, "count": c.day}),
            );
        }
        let mut answer = match reply.result {
            Ok(result) => json!({"id": id, "status": 200, "result": result}),
            Err((e, data)) => {
                let mut error = json!({"code": e.code, "msg": e.msg});
                if let Some(data) = data {
                    error["data"] = data;
                }
                json!({"id": id, "status": e.status.as_u16(), "error": error})
            }
        };
        // `returnRateLimits=false` leaves them out.
        if params.get("returnRateLimits").map(String::as_str) != Some("false") {
            answer["rateLimits"] = Value::Array(limits);
        }
        answer
    }

    /// The next user data event of the subscribed account, if subscribed.
    async fn next_event(&mut self) -> Option<Value> {
        loop {
            let Some((id, account, rx)) = &mut self.subscription else {
                return std::future::pending().await;
            };
            match rx.recv().await {
                Ok(e) if e.account == *account => {
                    let event: Value = serde_json::from_str(&e.json).expect("events are JSON");
                    return Some(json!({"subscriptionId": *id, "event": event}));
                }
                Ok(_) => {}
                // A client too slow for its events loses its stream, as Binance would close it.
                Err(broadcast::error::RecvError::Lagged(_)) => return None,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Serves one WebSocket API connection until the client leaves.
pub async fn serve(mut socket: WebSocket, sim: Arc<Sim>) {
    let mut session = Session {
        sim,
        logged_on: None,
        connected_since: now_ms(),
        authorized_since: None,
        subscription: None,
        next_subscription: 0,
    };
    loop {
        tokio::select! {
            message = socket.recv() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(p))) => {
                        if socket.send(Message::Pong(p)).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let refusal = json!({"id": null, "status": 400,
                            "error": {"code": -1000, "msg": "Binary frames are not supported."}});
                        if socket.send(Message::Text(refusal.to_string().into())).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Some(Ok(Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                };
                let answer = session.answer(text.as_str());
                if socket.send(Message::Text(answer.to_string().into())).await.is_err() {
                    return;
                }
            }
            event = session.next_event() => {
                let Some(event) = event else {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                };
                if socket.send(Message::Text(event.to_string().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_sorted_without_the_signature() {
        let params: BTreeMap<String, String> = [
            ("timestamp", "1"),
            ("apiKey", "k"),
            ("symbol", "BTCUSDT"),
            ("signature", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            signature_payload(&params),
            "apiKey=k&symbol=BTCUSDT&timestamp=1"
        );
    }

    #[test]
    fn numbers_become_plain_decimals() {
        assert_eq!(param_text(&json!(0.01)).unwrap(), "0.01");
        assert_eq!(param_text(&json!(0.00001)).unwrap(), "0.00001");
        assert_eq!(
            param_text(&json!(1_700_000_000_000i64)).unwrap(),
            "1700000000000"
        );
        assert_eq!(param_text(&json!(true)).unwrap(), "true");
        assert!(param_text(&json!({"a": 1})).is_none());
    }
}
