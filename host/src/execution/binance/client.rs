//! A connection to Binance spot's trading API (or its testnet, or `stratbox exchange-sim`): the
//! WebSocket API for requests, signed per request or on a `session.logon` (Ed25519 keys), and
//! the user data stream on the same connection; signed REST as the fallback when the
//! WebSocket API cannot be reached. An answer that never comes (a timeout, a lost connection,
//! REST's 503 -1007) is [`TradingError::Unknown`]: the request may or may not have acted, and
//! only a query can tell. Both of Binance's limits are kept here too, so the exchange never has
//! to enforce them: requests wait for room in the minute's REQUEST_WEIGHT (counted from the
//! exchange's own reports), and a new order past the ORDERS limits is [`TradingError::Throttled`]
//! without being sent.

use super::clock::ServerClock;
use super::credentials::Credentials;
use super::limits::{OrderCounter, OrderLimits};
use crate::feeds::binance::WeightLimiter;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// Why a trading request did not succeed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TradingError {
    /// The exchange refused it, with its code and message.
    #[error("refused (HTTP {status}, {code}): {msg}")]
    Refused {
        /// HTTP status (or the WebSocket API's `status`).
        status: u16,
        /// Binance's error code.
        code: i64,
        /// Binance's message.
        msg: String,
    },
    /// No answer: the request may have acted or not.
    #[error("no answer to {what}: its outcome is unknown")]
    Unknown {
        /// The request.
        what: String,
    },
    /// The request could not be sent.
    #[error("{0}")]
    Transport(String),
    /// A new order past the ORDERS limits, held back here (not sent).
    #[error("held back: {0}")]
    Throttled(String),
}

/// Where the exchange is.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// REST base, e.g. `https://api.binance.com`.
    pub rest: String,
    /// WebSocket API, e.g. `wss://ws-api.binance.com:443/ws-api/v3`.
    pub ws_api: String,
}

type Pending = HashMap<String, oneshot::Sender<Value>>;

/// One WebSocket API connection: requests go to its task, answers come back by id, user data
/// events to `events`.
struct Connection {
    requests: mpsc::Sender<(String, String, oneshot::Sender<Value>)>,
}

/// The trading connection of one account.
pub struct TradingClient {
    endpoints: Endpoints,
    credentials: Arc<Credentials>,
    clock: Arc<ServerClock>,
    http: reqwest::Client,
    connection: tokio::sync::Mutex<Option<Connection>>,
    events: tokio::sync::Mutex<Option<mpsc::Sender<Value>>>,
    next_id: std::sync::atomic::AtomicU64,
    weight: WeightLimiter,
    orders: std::sync::Mutex<OrderCounter>,
    /// The account's ORDERS limits (Binance's until the exchange's own are read).
    order_limits: std::sync::Mutex<OrderLimits>,
    /// How long an answer may take before its outcome counts as unknown.
    pub timeout: Duration,
}

/// How much of Binance's limits the client has used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// REQUEST_WEIGHT used this minute.
    pub weight_used: u32,
    /// REQUEST_WEIGHT allowed per minute.
    pub weight_limit: u32,
    /// New orders counted.
    pub orders: super::OrderCounts,
    /// The ORDERS limits kept.
    pub limits: OrderLimits,
}

/// The request weight of a trading method, as Binance documents it.
fn weight_of(method: &str) -> u32 {
    match method {
        "order.status" => 4,
        "session.logon" | "userDataStream.subscribe" | "userDataStream.subscribe.signature" => 2,
        "account.status" | "allOrders" | "myTrades" => 20,
        _ => 1,
    }
}

fn refused(status: u16, body: &Value) -> TradingError {
    TradingError::Refused {
        status,
        code: body["code"].as_i64().unwrap_or(0),
        msg: body["msg"].as_str().unwrap_or("").to_string(),
    }
}

/// A parameter's text as it is signed and sent.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The text a WebSocket API signature covers: every parameter but `signature`, sorted by name,
/// as `name=value` joined by `&`.
pub fn ws_payload(params: &Map<String, Value>) -> String {
    let mut pairs: Vec<(&String, String)> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "signature")
        .map(|(k, v)| (k, text(v)))
        .collect();
    pairs.sort();
    let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join("&")
}

impl TradingClient {
    /// A client of `endpoints` for the account of `credentials`; nothing connects yet.
    pub fn new(endpoints: Endpoints, credentials: Credentials) -> Self {
        TradingClient {
            endpoints,
            credentials: Arc::new(credentials),
            clock: Arc::new(ServerClock::default()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            connection: tokio::sync::Mutex::new(None),
            events: tokio::sync::Mutex::new(None),
            next_id: Default::default(),
            weight: WeightLimiter::new(super::REQUEST_WEIGHT_PER_MINUTE as u32),
            orders: Default::default(),
            order_limits: Default::default(),
            timeout: Duration::from_secs(10),
        }
    }

    /// The exchange's clock as this client keeps it.
    pub fn clock(&self) -> &ServerClock {
        &self.clock
    }

    /// How much of both limits is in use now.
    pub fn usage(&self) -> Usage {
        let (weight_used, weight_limit) = self.weight.used();
        Usage {
            weight_used,
            weight_limit,
            orders: self
                .orders
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .counts(self.clock.now()),
            limits: self.order_limits(),
        }
    }

    /// Waits until the minute's REQUEST_WEIGHT has room for `weight` (at once when it has: a
    /// zero sleep would still wait for the timer's next millisecond).
    async fn room_for(&self, weight: u32) {
        let wait = self.weight.delay_for(weight);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// The ORDERS limits kept.
    pub fn order_limits(&self) -> OrderLimits {
        *self.order_limits.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `orders` and `weight` (per minute) as the limits instead of Binance's defaults.
    pub fn set_limits(&self, orders: OrderLimits, weight: u32) {
        *self.order_limits.lock().unwrap_or_else(|p| p.into_inner()) = orders;
        self.weight.set_limit(weight);
    }

    /// Reads the exchange's own limits from `GET /api/v3/exchangeInfo` (`rateLimits`: the
    /// minute's REQUEST_WEIGHT, ORDERS per 10 s and per day) and keeps them; those it does not
    /// state stay as they were.
    pub async fn learn_limits(&self) -> Result<(OrderLimits, u32), TradingError> {
        let url = format!("{}/api/v3/exchangeInfo", self.endpoints.rest);
        let transport = |e: reqwest::Error| TradingError::Transport(e.to_string());
        let info: Value = self
            .http
            .get(url)
            .send()
            .await
            .map_err(transport)?
            .json()
            .await
            .map_err(transport)?;
        let mut orders = self.order_limits();
        let (_, mut weight) = self.weight.used();
        for limit in info["rateLimits"].as_array().into_iter().flatten() {
            let n = limit["limit"].as_u64().unwrap_or(0);
            match (
                limit["rateLimitType"].as_str(),
                limit["interval"].as_str(),
                limit["intervalNum"].as_u64(),
            ) {
                (Some("REQUEST_WEIGHT"), Some("MINUTE"), Some(1)) => {
                    weight = u32::try_from(n).unwrap_or(u32::MAX)
                }
                (Some("ORDERS"), Some("SECOND"), Some(10)) => {
                    orders.per_10s = usize::try_from(n).unwrap_or(usize::MAX)
                }
                (Some("ORDERS"), Some("DAY"), Some(1)) => orders.per_day = n,
                _ => {}
            }
        }
        self.set_limits(orders, weight);
        Ok((orders, weight))
    }

    /// Measures the exchange clock's offset (`GET /api/v3/time`).
    pub async fn sync_clock(&self) -> Result<i64, TradingError> {
        let sent = crate::model::time::wall_clock_ms();
        let url = format!("{}/api/v3/time", self.endpoints.rest);
        let answer: Value = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| TradingError::Transport(e.to_string()))?
            .json()
            .await
            .map_err(|e| TradingError::Transport(e.to_string()))?;
        let received = crate::model::time::wall_clock_ms();
        let server = answer["serverTime"]
            .as_i64()
            .ok_or_else(|| TradingError::Transport(format!("no serverTime in {answer}")))?;
        self.clock.observe(sent, server, received);
        Ok(self.clock.offset_ms())
    }

    /// `params` with `apiKey`, the exchange's `timestamp` and the WebSocket API's signature (of
    /// every parameter sorted by name).
    fn ws_signed(&self, mut params: Map<String, Value>) -> Map<String, Value> {
        params.insert("apiKey".into(), self.credentials.api_key().into());
        params.insert("timestamp".into(), self.clock.now().into());
        let signature = self.credentials.sign(&ws_payload(&params));
        params.insert("signature".into(), signature.into());
        params
    }

    /// The connection, opened on first use; a closed one is opened again.
    async fn connection(
        &self,
    ) -> Result<mpsc::Sender<(String, String, oneshot::Sender<Value>)>, TradingError> {
        let mut guard = self.connection.lock().await;
        if let Some(c) = guard.as_ref()
            && !c.requests.is_closed()
        {
            return Ok(c.requests.clone());
        }
        let (socket, _) = tokio::time::timeout(
            self.timeout,
            tokio_tungstenite::connect_async(&self.endpoints.ws_api),
        )
        .await
        .map_err(|_| {
            TradingError::Transport(format!("{}: connect timed out", self.endpoints.ws_api))
        })?
        .map_err(|e| TradingError::Transport(format!("{}: {e}", self.endpoints.ws_api)))?;
        let (tx, rx) = mpsc::channel(1024);
        let events = self.events.lock().await.clone();
        tokio::spawn(serve_connection(socket, rx, events));
        *guard = Some(Connection {
            requests: tx.clone(),
        });
        Ok(tx)
    }

    /// Sends `method` with `params` (signed when `signed`) over the WebSocket API; its `result`.
    pub async fn request(
        &self,
        method: &str,
        params: Map<String, Value>,
        signed: bool,
    ) -> Result<Value, TradingError> {
        // Stamped and signed once it may go: a timestamp taken before a wait for the limits or
        // the connection could be outside the exchange's recvWindow when it arrives.
        self.room_for(weight_of(method)).await;
        let connection = self.connection().await?;
        let params = if signed {
            self.ws_signed(params)
        } else {
            params
        };
        let id = format!(
            "sb-{}",
            self.next_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let request = serde_json::json!({"id": id, "method": method, "params": params});
        let (reply, answer) = oneshot::channel();
        connection
            .send((id, request.to_string(), reply))
            .await
            .map_err(|_| TradingError::Transport("the WebSocket API connection closed".into()))?;
        let unknown = || TradingError::Unknown {
            what: method.to_string(),
        };
        let answer = tokio::time::timeout(self.timeout, answer)
            .await
            .map_err(|_| unknown())?
            .map_err(|_| unknown())?;
        if let Some(used) = answer["rateLimits"].as_array().and_then(|limits| {
            limits
                .iter()
                .find(|l| l["rateLimitType"] == "REQUEST_WEIGHT")
                .and_then(|l| l["count"].as_u64())
        }) {
            self.weight.observe_used(used as u32);
        }
        let status = answer["status"].as_u64().unwrap_or(0) as u16;
        if status == 429 || status == 418 {
            let wait = answer["error"]["data"]["retryAfter"]
                .as_i64()
                .map_or(60_000, |at| (at - self.clock.now()).max(0));
            self.weight.block_for(Duration::from_millis(wait as u64));
        }
        if status == 200 {
            return Ok(answer["result"].clone());
        }
        // Binance: a 5xx means the request's outcome is unknown.
        if status >= 500 {
            return Err(unknown());
        }
        Err(refused(status, &answer["error"]))
    }

    /// A signed REST request: `method` `path` with `params` in the query string.
    pub async fn rest(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &Map<String, Value>,
    ) -> Result<Value, TradingError> {
        let weight = match path {
            "/api/v3/account"
            | "/api/v3/account/commission"
            | "/api/v3/allOrders"
            | "/api/v3/myTrades" => 20,
            "/api/v3/openOrders" if !params.contains_key("symbol") => 80,
            "/api/v3/openOrders" => 6,
            "/api/v3/order" if method == reqwest::Method::GET => 4,
            _ => 1,
        };
        // Stamped and signed once it may go (see `request`).
        self.room_for(weight).await;
        let mut query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), text(v))))
            .append_pair("timestamp", &self.clock.now().to_string())
            .finish();
        let signature = self.credentials.sign(&query);
        query.push_str("&signature=");
        query.push_str(&form_urlencoded::byte_serialize(signature.as_bytes()).collect::<String>());
        let url = format!("{}{path}?{query}", self.endpoints.rest);
        let unknown = || TradingError::Unknown {
            what: format!("{method} {path}"),
        };
        let response = tokio::time::timeout(
            self.timeout,
            self.http
                .request(method.clone(), url)
                .header("X-MBX-APIKEY", self.credentials.api_key())
                .send(),
        )
        .await
        .map_err(|_| unknown())?
        .map_err(|e| {
            if e.is_connect() {
                TradingError::Transport(e.to_string())
            } else {
                unknown()
            }
        })?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
        };
        if let Some(used) = header("x-mbx-used-weight-1m") {
            self.weight.observe_used(used as u32);
        }
        if status == 429 || status == 418 {
            let wait = header("retry-after").unwrap_or(60);
            self.weight.block_for(Duration::from_secs(wait));
        }
        let body: Value = response.json().await.map_err(|_| unknown())?;
        match status {
            200 => Ok(body),
            // Binance: a 5xx means the outcome is unknown (503 -1007 "execution status unknown").
            500.. => Err(unknown()),
            _ => Err(refused(status, &body)),
        }
    }

    /// `ws_method` over the WebSocket API, or the same through REST (`http_method` `path`) when
    /// the WebSocket API cannot be reached. An unknown outcome is not resent here.
    async fn ws_or_rest(
        &self,
        ws_method: &str,
        http_method: reqwest::Method,
        path: &str,
        params: Map<String, Value>,
    ) -> Result<Value, TradingError> {
        match self.request(ws_method, params.clone(), true).await {
            Err(TradingError::Transport(_)) => self.rest(http_method, path, &params).await,
            other => other,
        }
    }

    /// Places an order (`params` as Binance names them). An unknown outcome is not resent: the
    /// caller queries by its client order id.
    pub async fn place(&self, params: Map<String, Value>) -> Result<Value, TradingError> {
        self.count_order()?;
        self.ws_or_rest(
            "order.place",
            reqwest::Method::POST,
            "/api/v3/order",
            params,
        )
        .await
    }

    /// Counts a new order against the ORDERS limits, or holds it back.
    fn count_order(&self) -> Result<(), TradingError> {
        self.orders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(self.clock.now(), self.order_limits())
            .map(|_| ())
            .map_err(TradingError::Throttled)
    }

    /// Cancels an order (`symbol` and `orderId` or `origClientOrderId`).
    pub async fn cancel(&self, params: Map<String, Value>) -> Result<Value, TradingError> {
        self.ws_or_rest(
            "order.cancel",
            reqwest::Method::DELETE,
            "/api/v3/order",
            params,
        )
        .await
    }

    /// The order's state (`symbol` and `orderId` or `origClientOrderId`).
    pub async fn query(&self, params: Map<String, Value>) -> Result<Value, TradingError> {
        self.ws_or_rest(
            "order.status",
            reqwest::Method::GET,
            "/api/v3/order",
            params,
        )
        .await
    }

    /// Subscribes to the account's user data stream on the WebSocket API connection (after a
    /// `session.logon` for an Ed25519 key, signed otherwise): its events (`executionReport`,
    /// `outboundAccountPosition`, ...) as they come, until the connection ends (the receiver
    /// then ends too; subscribe again).
    pub async fn user_data(&self) -> Result<mpsc::Receiver<Value>, TradingError> {
        let (tx, rx) = mpsc::channel(4096);
        *self.events.lock().await = Some(tx);
        // A new connection carries the stream.
        *self.connection.lock().await = None;
        if self.credentials.is_ed25519() {
            self.request("session.logon", Map::new(), true).await?;
            self.request("userDataStream.subscribe", Map::new(), false)
                .await?;
        } else {
            self.request("userDataStream.subscribe.signature", Map::new(), true)
                .await?;
        }
        // Only this connection carries the stream: a later one must not keep it open.
        self.events.lock().await.take();
        Ok(rx)
    }
}

/// Runs one WebSocket API connection: writes requests, routes answers to their waiters by id
/// and events to `events`; ends when the socket closes (waiters then learn nothing, and their
/// outcome is unknown).
async fn serve_connection(
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    mut requests: mpsc::Receiver<(String, String, oneshot::Sender<Value>)>,
    events: Option<mpsc::Sender<Value>>,
) {
    let (mut sink, mut stream) = socket.split();
    let mut pending: Pending = HashMap::new();
    loop {
        tokio::select! {
            request = requests.recv() => {
                let Some((id, text, reply)) = request else { return };
                // Waiters that gave up (their outcome unknown) are forgotten.
                pending.retain(|_, waiter| !waiter.is_closed());
                pending.insert(id, reply);
                if sink.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            frame = stream.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Ping(p))) => {
                        let _ = sink.send(Message::Pong(p)).await;
                        continue;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return,
                };
                let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
                    tracing::warn!("the WebSocket API sent malformed JSON: {text}");
                    continue;
                };
                if let Some(event) = value.get("event") {
                    if let Some(events) = &events {
                        let _ = events.send(event.clone()).await;
                    }
                    continue;
                }
                if let Some(reply) = value["id"].as_str().and_then(|id| pending.remove(id)) {
                    let _ = reply.send(value);
                }
            }
        }
    }
}
