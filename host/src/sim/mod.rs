//! `stratbox exchange-sim`: a loopback server speaking Binance spot's REST and WebSocket
//! protocols, so the host runs and is tested with no network. It serves one or many symbols:
//! recorded candles (`--data`) or seeded markets with volatility clustering, each with a live
//! L2 book, trades and paced klines ([`live`]), Binance's weight headers and error bodies, and
//! injects faults on demand (`--faults`).
//! WebSocket: `/stream?streams=<symbol>@depth@100ms/<symbol>@kline_<interval>/...` (combined,
//! any symbols, up to 1024 streams) and `/ws/<stream>` (raw), with SUBSCRIBE / UNSUBSCRIBE at
//! run time; see [`socket`].
//! Trading accounts (`--api-key`, [`accounts`]) reach Binance's signed REST endpoints
//! ([`orders`]) and the WebSocket API at `/ws-api/v3` with its user data stream ([`ws_api`]);
//! their orders match on the simulator's own books through the host's order path
//! ([`trading`]). `POST /sim/transfer?apiKey=K&asset=A&amount=X` (the simulator's own, not
//! Binance's) deposits into an account (a negative amount withdraws), announced on its user
//! data stream as `balanceUpdate` and `outboundAccountPosition`.

// Handlers build their error answers as axum `Response`s and return them as `Err`: that is
// the point of those results, so their size is not a concern here.
#![allow(clippy::result_large_err)]

mod accounts;
mod faults;
pub mod live;
mod market;
mod orders;
pub mod socket;
mod trading;
mod ws_api;

pub use accounts::{AccountError, Credential, SimAccounts, parse_balances};
pub use faults::{FaultError, Faults};
pub use market::SimMarket;
pub use trading::OrderLimits;

/// How the simulator behaves.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Faults to inject.
    pub faults: Faults,
    /// Seed of the book's changes.
    pub seed: u64,
    /// Milliseconds between depth diffs.
    pub book_ms: u64,
    /// Candles released per second, each announced on the kline stream; 0 serves them all at once.
    pub bars_per_second: f64,
    /// Recorded trades to replay with the candles (instead of generated ones).
    pub trades: Vec<live::SimTrade>,
    /// New orders an account may place (Binance's ORDERS limits by default).
    pub order_limits: OrderLimits,
    /// Request weight all clients together may use in a minute (Binance's 6000 by default).
    pub weight_limit: u64,
    /// The commission rates of every account (Binance's standard 0.1 % by default).
    pub fees: crate::model::FeeRates,
    /// Whether the accounts pay their commissions in BNB at Binance's 25 % discount when they
    /// hold enough (Binance's "use BNB to pay fees").
    pub bnb_burn: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            faults: Faults::default(),
            seed: 1,
            book_ms: 100,
            bars_per_second: 0.0,
            trades: Vec::new(),
            order_limits: OrderLimits::default(),
            weight_limit: WEIGHT_LIMIT,
            fees: crate::model::FeeRates::default(),
            bnb_burn: false,
        }
    }
}

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::broadcast;

/// Binance spot's request-weight limit per minute, which the simulator enforces by default.
pub const WEIGHT_LIMIT: u64 = crate::execution::binance::REQUEST_WEIGHT_PER_MINUTE;

/// One served symbol: its candles and its live side.
struct Served {
    market: SimMarket,
    live: Arc<live::Live>,
}

struct Sim {
    symbols: BTreeMap<String, Served>,
    catalog: Arc<socket::StreamCatalog>,
    events: broadcast::Sender<live::Published>,
    faults: Faults,
    requests: AtomicU64,
    /// Acknowledgements of order placements and cancels given so far.
    acks: AtomicU64,
    weight: std::sync::Mutex<(u64, u64)>, // (minute, used)
    accounts: SimAccounts,
    /// The accounts' orders and matching, when there are accounts.
    trading: Option<Arc<trading::SimTrading>>,
    order_limits: OrderLimits,
    weight_limit: u64,
}

/// The router serving `markets` as `config` says (recorded trades go with the first market).
/// Call it inside a tokio runtime: it starts the books' and the candles' tasks.
pub fn router(markets: Vec<SimMarket>, config: SimConfig) -> Router {
    router_with_accounts(markets, config, SimAccounts::default())
}

/// [`router`] with trading `accounts`, which reach the signed endpoints.
pub fn router_with_accounts(
    markets: Vec<SimMarket>,
    config: SimConfig,
    accounts: SimAccounts,
) -> Router {
    // Room for a burst from every symbol before a slow client falls behind.
    let (events, _) = broadcast::channel(4096.max(256 * markets.len()));
    let mut catalog = socket::StreamCatalog::default();
    let mut symbols = BTreeMap::new();
    let mut recorded = Some(config.trades);
    let trading = (!accounts.is_empty()).then(|| {
        let names: Vec<String> = markets.iter().map(|m| m.symbol.clone()).collect();
        let starting: Vec<_> = accounts
            .in_order()
            .into_iter()
            .map(|a| a.starting.clone())
            .collect();
        trading::SimTrading::new(
            &names,
            &exchange_info_json(
                &markets,
                (config.weight_limit, config.order_limits),
                now_ms(),
            ),
            &starting,
            config.order_limits,
            config.fees,
            config.bnb_burn,
        )
        .expect("the simulator describes its own symbols")
    });
    for (i, market) in markets.into_iter().enumerate() {
        catalog.add(&market.symbol, &market.interval);
        let live = live::Live::start(
            &market,
            events.clone(),
            recorded.take().unwrap_or_default(),
            config.seed.wrapping_add(i as u64),
            (config.book_ms, config.bars_per_second),
            trading.as_ref().and_then(|t| t.feed(&market.symbol)),
        );
        symbols.insert(market.symbol.clone(), Served { market, live });
    }
    let sim = Arc::new(Sim {
        symbols,
        catalog: Arc::new(catalog),
        events,
        faults: config.faults,
        requests: AtomicU64::new(0),
        acks: AtomicU64::new(0),
        weight: Default::default(),
        accounts,
        trading,
        order_limits: config.order_limits,
        weight_limit: config.weight_limit,
    });
    Router::new()
        .route(
            "/api/v3/ping",
            get(|| async { Json(serde_json::json!({})) }),
        )
        .route("/api/v3/time", get(time))
        .route("/api/v3/exchangeInfo", get(exchange_info))
        .route("/api/v3/klines", get(klines))
        .route("/api/v3/depth", get(depth))
        .route("/api/v3/trades", get(trades))
        .route("/api/v3/aggTrades", get(agg_trades))
        .route("/api/v3/historicalTrades", get(historical_trades))
        .route("/stream", get(combined_stream))
        .route("/ws/{stream}", get(raw_stream))
        .route("/ws-api/v3", get(ws_api_socket))
        .route("/sim/transfer", axum::routing::post(transfer))
        .merge(orders::routes())
        .with_state(sim)
}

pub(crate) fn now_ms() -> i64 {
    crate::model::time::wall_clock_ms()
}

fn binance_error(status: StatusCode, code: i64, msg: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "code": code, "msg": msg })),
    )
        .into_response()
}

impl Sim {
    /// The server's clock as clients see it (`serverTime`, and what request timestamps are
    /// checked against): the wall clock, off by the drift fault.
    fn clock(&self) -> i64 {
        now_ms() + self.faults.drift_ms
    }

    /// Whether the next acknowledgement of an order placement or cancel is lost, and how long
    /// it is late, under the acknowledgement faults.
    fn ack_fault(&self) -> (bool, Option<Duration>) {
        let n = self.acks.fetch_add(1, Ordering::Relaxed) + 1;
        let lost = self
            .faults
            .ack_drop_every
            .is_some_and(|k| n.is_multiple_of(k));
        (lost, self.faults.ack_delay_ms.map(Duration::from_millis))
    }

    /// Counts a request of `weight` against the minute's REQUEST_WEIGHT (shared by REST and
    /// the WebSocket API, as on Binance): the weight used, or with the 429 storm fault or over
    /// the limit, the weight used and the seconds to wait.
    fn take_weight(&self, weight: u64) -> Result<u64, (u64, u64)> {
        let n = self.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let used = {
            let mut w = self.weight.lock().unwrap_or_else(|p| p.into_inner());
            let minute = (now_ms() / 60_000) as u64;
            if w.0 != minute {
                *w = (minute, 0);
            }
            w.1 += weight;
            w.1
        };
        let forced_429 = self
            .faults
            .http429_every
            .is_some_and(|k| n.is_multiple_of(k));
        if forced_429 {
            Err((used, self.faults.retry_after_s))
        } else if used > self.weight_limit {
            // Like Binance: an over-limit client waits for the minute to end.
            Err((used, (60 - (now_ms() / 1000) % 60) as u64))
        } else {
            Ok(used)
        }
    }
}

/// Applies weight accounting and faults, then builds the response from `body`.
async fn respond(
    sim: &Sim,
    weight: u64,
    body: impl FnOnce() -> Result<String, Response>,
) -> Response {
    if let Some(ms) = sim.faults.slow_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let used = match sim.take_weight(weight) {
        Ok(used) => used,
        Err((used, retry_after)) => {
            let mut r = binance_error(
                StatusCode::TOO_MANY_REQUESTS,
                -1003,
                "Too much request weight used; please use WebSocket Streams for live updates to avoid polling the API.",
            );
            r.headers_mut()
                .insert("retry-after", HeaderValue::from(retry_after));
            r.headers_mut()
                .insert("x-mbx-used-weight-1m", HeaderValue::from(used));
            return r;
        }
    };
    let n = sim.requests.load(Ordering::Relaxed);
    let mut r = match body() {
        Ok(mut text) => {
            if sim
                .faults
                .malformed_every
                .is_some_and(|k| n.is_multiple_of(k))
            {
                text.truncate(text.len() / 2);
            }
            ([("content-type", "application/json")], text).into_response()
        }
        Err(r) => r,
    };
    r.headers_mut()
        .insert("x-mbx-used-weight-1m", HeaderValue::from(used));
    r
}

/// `POST /sim/transfer?apiKey=&asset=&amount=`: a deposit (negative: a withdrawal) into an
/// account; its balance of the asset after it.
async fn transfer(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let bad = |msg: String| binance_error(StatusCode::BAD_REQUEST, -1102, &msg);
    let (Some(trading), Some(key), Some(asset), Some(amount)) = (
        sim.trading.as_ref(),
        q.get("apiKey"),
        q.get("asset"),
        q.get("amount"),
    ) else {
        return bad("give apiKey, asset and amount (and start the simulator with accounts)".into());
    };
    let Some(account) = sim.accounts.get(key) else {
        return binance_error(StatusCode::UNAUTHORIZED, -2015, "Invalid API-key.");
    };
    let Ok(delta) = amount.parse::<crate::model::Fixed>() else {
        return bad(format!("amount {amount:?} is not a decimal"));
    };
    match trading.transfer(account.number, asset, delta, now_ms()) {
        Ok(b) => Json(serde_json::json!({
            "asset": asset.to_ascii_uppercase(),
            "free": b.free.to_string(),
            "locked": b.locked.to_string(),
        }))
        .into_response(),
        Err(e) => binance_error(e.status, e.code, &e.msg),
    }
}

async fn time(State(sim): State<Arc<Sim>>) -> Response {
    respond(&sim, 1, || {
        Ok(serde_json::json!({ "serverTime": sim.clock() }).to_string())
    })
    .await
}

async fn exchange_info(State(sim): State<Arc<Sim>>) -> Response {
    respond(&sim, 20, || {
        Ok(exchange_info_json(
            sim.symbols.values().map(|s| &s.market),
            (sim.weight_limit, sim.order_limits),
            sim.clock(),
        ))
    })
    .await
}

/// `exchangeInfo` of `markets`, with Binance's rate limits.
fn exchange_info_json<'a>(
    markets: impl IntoIterator<Item = &'a SimMarket>,
    (weight_limit, limits): (u64, OrderLimits),
    now: i64,
) -> String {
    let symbols: Vec<serde_json::Value> = markets.into_iter().map(SimMarket::symbol_info).collect();
    serde_json::json!({
        "timezone": "UTC",
        "serverTime": now,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": weight_limit},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": limits.per_10s},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": limits.per_day}
        ],
        "exchangeFilters": [],
        "symbols": symbols,
    })
    .to_string()
}

fn param<T: std::str::FromStr>(
    q: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, Response> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            binance_error(StatusCode::BAD_REQUEST, -1100, &format!("Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."))
        }),
    }
}

/// The `limit` parameter: `default` when absent, Binance's error outside `1..=max`.
fn limit_param(q: &HashMap<String, String>, default: usize, max: usize) -> Result<usize, Response> {
    let limit: usize = param(q, "limit")?.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(binance_error(
            StatusCode::BAD_REQUEST,
            -1130,
            "Invalid data sent for a parameter.",
        ))
    }
}

/// The served symbol the `symbol` parameter names, or Binance's error.
fn served<'a>(sim: &'a Sim, q: &HashMap<String, String>) -> Result<&'a Served, Response> {
    let Some(symbol) = q.get("symbol") else {
        return Err(binance_error(
            StatusCode::BAD_REQUEST,
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        ));
    };
    sim.symbols
        .get(symbol)
        .ok_or_else(|| binance_error(StatusCode::BAD_REQUEST, -1121, "Invalid symbol."))
}

async fn klines(State(sim): State<Arc<Sim>>, Query(q): Query<HashMap<String, String>>) -> Response {
    respond(&sim, 2, || {
        let served = served(&sim, &q)?;
        if q.get("interval") != Some(&served.market.interval) {
            return Err(binance_error(
                StatusCode::BAD_REQUEST,
                -1120,
                "Invalid interval.",
            ));
        }
        let limit = limit_param(&q, 500, 1000)?;
        let start: Option<i64> = param(&q, "startTime")?;
        let end: Option<i64> = param(&q, "endTime")?;
        Ok(served.market.klines_json(
            served.live.released.load(Ordering::SeqCst),
            start,
            end,
            limit,
        ))
    })
    .await
}

async fn depth(State(sim): State<Arc<Sim>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let limit: usize = match param(&q, "limit") {
        Ok(l) => l.unwrap_or(100),
        Err(r) => return r,
    };
    let weight = u64::from(crate::feeds::binance::depth_weight(
        limit.try_into().unwrap_or(u32::MAX),
    ));
    respond(&sim, weight, || {
        let served = served(&sim, &q)?;
        if !(1..=5000).contains(&limit) {
            return Err(binance_error(
                StatusCode::BAD_REQUEST,
                -1130,
                "Invalid data sent for a parameter.",
            ));
        }
        Ok(served.live.snapshot_json(limit))
    })
    .await
}

async fn trades(State(sim): State<Arc<Sim>>, Query(q): Query<HashMap<String, String>>) -> Response {
    trade_page(&sim, &q, false, false).await
}

async fn historical_trades(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    trade_page(&sim, &q, false, true).await
}

async fn agg_trades(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    trade_page(&sim, &q, true, true).await
}

/// One page of trades (`aggregated` or single), from `fromId` when the endpoint takes it, at
/// Binance's weight for the endpoint.
async fn trade_page(
    sim: &Arc<Sim>,
    q: &HashMap<String, String>,
    aggregated: bool,
    takes_from_id: bool,
) -> Response {
    let weight = if aggregated { 4 } else { 25 };
    respond(sim, weight, || {
        let served = served(sim, q)?;
        let limit = limit_param(q, 500, 1000)?;
        let from_id = if takes_from_id {
            param(q, "fromId")?
        } else {
            None
        };
        Ok(served.live.trades_json(aggregated, from_id, limit))
    })
    .await
}

async fn combined_stream(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let streams: Vec<String> = q
        .get("streams")
        .map(|s| s.split('/').map(str::to_string).collect())
        .unwrap_or_default();
    if streams.len() > socket::MAX_STREAMS {
        return binance_error(
            StatusCode::BAD_REQUEST,
            -1,
            &format!("At most {} streams per connection.", socket::MAX_STREAMS),
        );
    }
    serve_socket(&sim, ws, streams, true)
}

async fn raw_stream(
    State(sim): State<Arc<Sim>>,
    Path(stream): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    serve_socket(&sim, ws, vec![stream], false)
}

/// `/ws-api/v3`: the WebSocket API.
async fn ws_api_socket(State(sim): State<Arc<Sim>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| ws_api::serve(socket, sim))
}

fn serve_socket(sim: &Sim, ws: WebSocketUpgrade, streams: Vec<String>, combined: bool) -> Response {
    let (catalog, events, faults) = (
        sim.catalog.clone(),
        sim.events.subscribe(),
        sim.faults.clone(),
    );
    ws.on_upgrade(move |socket| socket::serve(socket, catalog, events, streams, combined, faults))
}
