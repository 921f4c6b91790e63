//! The simulator's WebSocket API at `/ws-api/v3`, as Binance's: requests
//! `{"id", "method", "params"}` answered `{"id", "status", "result" | "error", "rateLimits"}`;
//! signed requests carry `apiKey`, `timestamp` and a `signature` of their other parameters
//! sorted by name, or ride on a session authenticated by `session.logon` (Ed25519 keys);
//! `userDataStream.subscribe` (on a session) or `userDataStream.subscribe.signature` pushes the
//! account's `executionReport` and `outboundAccountPosition` events as
//! `{"subscriptionId", "event"}`. The trading methods are the REST endpoints' own work
//! ([`super::orders`]), with the same weights and ORDERS counts.

use super::Sim;
use super::orders::{self, Endpoint};
use super::trading::params::Params;
use super::trading::{OrderCounts, SimError, UserEvent};
use axum::extract::ws::{Message, WebSocket};
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio::time::Instant;

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
    /// User data events sent, for the stream faults.
    events_sent: u64,
    /// An event held back by the reorder fault, sent after the next one.
    held: Option<Value>,
}

/// What becomes of an answer under the acknowledgement faults.
enum Outgoing {
    /// Sent at once.
    Now(Value),
    /// Sent at this instant.
    At(Instant, Value),
    /// Lost.
    Never,
}

/// What a request answers: its result or error, and the rate limits it used.
struct Reply {
    result: Result<Value, (SimError, Option<Value>)>,
    weight_used: u64,
    orders: Option<OrderCounts>,
    /// Whether a trading method's work ran (the exchange acted on the request).
    ran: bool,
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
        "account.commission" => &orders::COMMISSION,
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
            self.sim.clock(),
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
                            format!(
                                "Too much request weight used; current limit is {} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
                                self.sim.weight_limit
                            ),
                        ),
                        Some(json!({"retryAfter": self.sim.clock() + retry_after as i64 * 1000})),
                    )),
                    weight_used: used,
                    orders: None,
                    ran: false,
                };
            }
        };
        let reply = |result: Result<Value, SimError>| Reply {
            result: result.map_err(|e| (e, None)),
            weight_used: used,
            orders: None,
            ran: false,
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
                ran: true,
            };
        }
        match method {
            "ping" => reply(Ok(json!({}))),
            "time" => reply(Ok(json!({"serverTime": self.sim.clock()}))),
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
        self.authorized_since = Some(self.sim.clock());
        Ok(self.status())
    }

    fn status(&self) -> Value {
        json!({
            "apiKey": self.logged_on,
            "authorizedSince": self.authorized_since,
            "connectedSince": self.connected_since,
            "returnRateLimits": true,
            "serverTime": self.sim.clock(),
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

    /// The answer to one text frame, delayed or lost for an acknowledgement under the faults.
    fn answer(&mut self, text: &str) -> Outgoing {
        let (answer, acknowledges) = self.answer_now(text);
        if !acknowledges {
            return Outgoing::Now(answer);
        }
        match self.sim.ack_fault() {
            (true, _) => Outgoing::Never,
            (false, Some(delay)) => Outgoing::At(Instant::now() + delay, answer),
            (false, None) => Outgoing::Now(answer),
        }
    }

    /// The answer to one text frame, and whether it acknowledges an order placement or cancel.
    fn answer_now(&mut self, text: &str) -> (Value, bool) {
        let request: Value = match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                let refusal = json!({"id": null, "status": 400,
                    "error": {"code": -1000, "msg": "Malformed request: not a JSON object."}});
                return (refusal, false);
            }
        };
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let Some(method) = request.get("method").and_then(Value::as_str) else {
            let refusal = json!({"id": id, "status": 400,
                "error": {"code": -1102, "msg": "Mandatory parameter 'method' was not sent, was empty/null, or malformed."}});
            return (refusal, false);
        };
        let mut params = BTreeMap::new();
        if let Some(Value::Object(map)) = request.get("params") {
            for (k, v) in map {
                match param_text(v) {
                    Some(text) => {
                        params.insert(k.clone(), text);
                    }
                    None => {
                        let refusal = json!({"id": id, "status": 400,
                            "error": {"code": -1100, "msg": format!("Illegal characters found in parameter '{k}'.")}});
                        return (refusal, false);
                    }
                }
            }
        }
        let reply = self.handle(method, &params);
        let acknowledges = reply.ran && endpoint(method).is_some_and(|e| e.acknowledges);
        let mut limits = vec![
            json!({"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
            "intervalNum": 1, "limit": self.sim.weight_limit, "count": reply.weight_used}),
        ];
        if let Some(c) = reply.orders {
            limits.push(
                json!({"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
                "limit": self.sim.order_limits.per_10s, "count": c.ten_seconds}),
            );
            limits.push(
                json!({"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
                "limit": self.sim.order_limits.per_day, "count": c.day}),
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
        (answer, acknowledges)
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

    /// The frames to send for `event` under the stream faults (duplicated, held back for the
    /// next, or with one held before), and whether the connection closes after them.
    fn frames_for(&mut self, event: Value) -> (Vec<Value>, bool) {
        self.events_sent += 1;
        let n = self.events_sent;
        let faults = &self.sim.faults;
        let every = |k: Option<u64>| k.is_some_and(|k| n.is_multiple_of(k));
        let mut frames = Vec::new();
        if every(faults.report_swap_every) && self.held.is_none() {
            self.held = Some(event);
        } else {
            if every(faults.report_dup_every) {
                frames.push(event.clone());
            }
            frames.push(event);
            frames.extend(self.held.take());
        }
        (frames, every(faults.stream_drop_every))
    }
}

/// Serves one WebSocket API connection until the client leaves.
pub async fn serve(mut socket: WebSocket, sim: Arc<Sim>) {
    let connected_since = sim.clock();
    let mut session = Session {
        sim,
        logged_on: None,
        connected_since,
        authorized_since: None,
        subscription: None,
        next_subscription: 0,
        events_sent: 0,
        held: None,
    };
    // Answers the acknowledgement delay fault holds back, in the order they are due.
    let mut delayed: VecDeque<(Instant, Value)> = VecDeque::new();
    loop {
        let due = delayed.front().map(|(at, _)| *at);
        let frames: Vec<Value> = tokio::select! {
            message = socket.recv() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(p))) => {
                        if socket.send(Message::Pong(p)).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    // Binary frames (SBE) are not served: refused like an unknown request.
                    Some(Ok(Message::Binary(_))) => "binary".into(),
                    Some(Ok(Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                };
                match session.answer(text.as_str()) {
                    Outgoing::Now(answer) => vec![answer],
                    Outgoing::At(at, answer) => {
                        delayed.push_back((at, answer));
                        continue;
                    }
                    Outgoing::Never => continue,
                }
            }
            () = async { tokio::time::sleep_until(due.expect("a delayed answer")).await },
                if due.is_some() =>
            {
                delayed.pop_front().map(|(_, answer)| answer).into_iter().collect()
            }
            event = session.next_event() => {
                let Some(event) = event else {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                };
                let (frames, close) = session.frames_for(event);
                for frame in frames {
                    if socket.send(Message::Text(frame.to_string().into())).await.is_err() {
                        return;
                    }
                }
                if close {
                    // The stream drop fault: the connection ends, as a network failure would.
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                continue;
            }
        };
        for frame in frames {
            if socket
                .send(Message::Text(frame.to_string().into()))
                .await
                .is_err()
            {
                return;
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
