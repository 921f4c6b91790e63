//! The operators' control endpoint (axum): deploy, swap, rollback, halt, resume and list
//! strategies; read the risk, set trading states and pull the kill switch; load, roll back and
//! inspect the model ensemble; read the live feeds' counters; each behind a bearer token.
//! Components travel base64-encoded in JSON bodies.

mod auth;
mod client;
mod read;
mod risk;
mod tokens;

pub use auth::{
    RateLimiter, Scope, TokenInfo, TokenRegistry, TokenSource, hash_secret, new_secret,
};
pub use client::Client;
pub use risk::{KillRequest, PricesBody, RebalanceRequest, StateRequest};
pub use tokens::{CreateTokenRequest, CreatedToken};

use crate::engine::service::{Command, EngineService};
use crate::engine::{Allowance, DeployError};
use crate::feeds::binance::ws::{ConnectionCounters, FeedCounters};
use crate::feeds::follow::{FollowError, Followed};
use crate::inference::{InferenceConfig, InferenceError, InferenceStatus, ModelControl};
use crate::monitor::ServiceMetrics;
use crate::risk::Budget;
use crate::sandbox::{Grants, StateStore};
use crate::store::Store;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Largest request body: a component at the size limit, base64-encoded, plus room.
const MAX_BODY: usize = 96 << 20;

/// Body of `POST /v1/deployments`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    /// Deployment name.
    pub name: String,
    /// The component, base64.
    pub component: String,
    /// Configuration for `init` (JSON text).
    #[serde(default)]
    pub config: Option<String>,
    /// Risk budget.
    pub budget: Budget,
    /// Sandbox grants (none when absent).
    #[serde(default)]
    pub grants: Grants,
}

/// Body of `POST /v1/deployments/{name}/swap`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwapRequest {
    /// The new component, base64.
    pub component: String,
    /// New configuration; the current one is kept when absent.
    #[serde(default)]
    pub config: Option<String>,
}

/// A failed request: status and message.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<DeployError> for ApiError {
    fn from(e: DeployError) -> Self {
        let status = match &e {
            DeployError::Unknown(_) => StatusCode::NOT_FOUND,
            DeployError::Exists(_) => StatusCode::CONFLICT,
            DeployError::EngineStopped => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError(status, e.to_string())
    }
}

/// Everything the API serves.
pub struct ApiContext {
    /// The engine.
    pub service: Arc<EngineService>,
    /// The model ensemble.
    pub models: Arc<ModelControl>,
    /// The live feeds (none for a replayed market).
    pub feeds: Option<Arc<Followed>>,
    /// The engine's metrics.
    pub metrics: Arc<ServiceMetrics>,
    /// The database: history, tokens and the audit log.
    pub store: Store,
    /// The tokens accepted.
    pub tokens: Arc<TokenRegistry>,
    /// Requests per token.
    pub limiter: Arc<RateLimiter>,
    /// Whether the journal's writer is still running (readiness).
    pub journal_alive: Arc<dyn Fn() -> bool + Send + Sync>,
}

#[derive(Clone)]
pub(crate) struct AppState {
    service: Arc<EngineService>,
    models: Arc<ModelControl>,
    feeds: Option<Arc<Followed>>,
    metrics: Arc<ServiceMetrics>,
    store: Store,
    tokens: Arc<TokenRegistry>,
    limiter: Arc<RateLimiter>,
    journal_alive: Arc<dyn Fn() -> bool + Send + Sync>,
}

/// Largest body of a request that carries no component or price series.
const SMALL_BODY: usize = 64 << 10;
/// Largest body of a risk analysis (price series).
const PRICES_BODY: usize = 16 << 20;

/// The router: health and readiness for anyone; reads for `read` tokens; deployment changes,
/// trading states and the kill switch for `trade`; tokens, the audit log, feeds and models for
/// `admin`. Each route takes bodies up to what it needs.
pub fn router(context: ApiContext) -> Router {
    let state = AppState {
        service: context.service,
        models: context.models,
        feeds: context.feeds,
        metrics: context.metrics,
        store: context.store,
        tokens: context.tokens,
        limiter: context.limiter,
        journal_alive: context.journal_alive,
    };
    let scoped = |routes: Router<AppState>, scope: Scope| {
        routes.route_layer(axum::middleware::from_fn_with_state(
            (state.clone(), scope),
            auth::authorize,
        ))
    };
    let read = Router::new()
        .route("/v1/deployments", get(list))
        .route("/v1/deployments/{name}", get(read::deployment))
        .route(
            "/v1/deployments/{name}/account",
            get(read::deployment_account),
        )
        .route(
            "/v1/deployments/{name}/orders",
            get(read::deployment_orders),
        )
        .route("/v1/deployments/{name}/fills", get(read::deployment_fills))
        .route(
            "/v1/deployments/{name}/equity",
            get(read::deployment_equity),
        )
        .route("/v1/account", get(read::account))
        .route("/v1/account/orders", get(read::orders))
        .route("/v1/account/fills", get(read::fills))
        .route("/v1/account/equity", get(read::equity))
        .route("/v1/risk", get(risk::report))
        .route("/v1/feeds", get(feed_counters))
        .route("/v1/feeds/connections", get(feed_connections))
        .route("/v1/inference", get(inference_status))
        .route("/metrics", get(render_metrics))
        .layer(DefaultBodyLimit::max(SMALL_BODY));
    let analyses = Router::new()
        .route("/v1/risk/var", post(risk::var))
        .route("/v1/risk/optimize", post(risk::optimize))
        .route("/v1/risk/backtest-var", post(risk::backtest_var))
        .layer(DefaultBodyLimit::max(PRICES_BODY));
    let components = Router::new()
        .route("/v1/deployments", post(deploy))
        .route("/v1/deployments/{name}/swap", post(swap))
        .layer(DefaultBodyLimit::max(MAX_BODY));
    let trade = Router::new()
        .route("/v1/deployments/{name}", axum::routing::delete(remove))
        .route("/v1/deployments/{name}/rollback", post(rollback))
        .route("/v1/deployments/{name}/halt", post(halt))
        .route("/v1/deployments/{name}/resume", post(resume))
        .route("/v1/deployments/{name}/state", post(risk::deployment_state))
        .route("/v1/deployments/{name}/rebalance", post(risk::rebalance))
        .route("/v1/risk/state", post(risk::account_state))
        .route("/v1/kill", post(risk::kill))
        .layer(DefaultBodyLimit::max(SMALL_BODY));
    let admin = Router::new()
        .route("/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/v1/tokens/{name}", axum::routing::delete(tokens::revoke))
        .route("/v1/audit", get(tokens::audit))
        .route("/v1/feeds", post(follow))
        .route("/v1/feeds/{symbol}", axum::routing::delete(unfollow))
        .route(
            "/v1/feeds/{symbol}/streams",
            axum::routing::put(change_streams),
        )
        .route("/v1/inference", axum::routing::put(load_models))
        .route("/v1/inference/rollback", post(rollback_models))
        .layer(DefaultBodyLimit::max(SMALL_BODY));
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/ready", get(ready))
        .merge(scoped(read.merge(analyses), Scope::Read))
        .merge(scoped(components.merge(trade), Scope::Trade))
        .merge(scoped(admin, Scope::Admin))
        .with_state(state)
}

/// Whether the service can do its work.
#[derive(Debug, Serialize, Deserialize)]
pub struct Readiness {
    /// All of the below.
    pub ready: bool,
    /// The engine answers.
    pub engine: bool,
    /// The journal's writer runs and its backlog is under a minute's worth.
    pub journal: bool,
    /// Every live feed has received a message (true for a replayed market).
    pub feeds: bool,
    /// What is not ready.
    pub problems: Vec<String>,
}

/// Most journal entries queued before the service calls itself not ready.
const READY_BACKLOG: usize = 100_000;

/// `GET /v1/ready`: 200 when the engine answers, the journal is writable and every live feed
/// has data; 503 with the problems otherwise.
async fn ready(State(s): State<AppState>) -> Response {
    let mut problems = Vec::new();
    let engine = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        s.service.command(Command::List),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    if !engine {
        problems.push("the engine does not answer within 2 s".to_string());
    }
    let backlog = s.metrics.journal_backlog();
    let journal = (s.journal_alive)() && backlog < READY_BACKLOG;
    if !journal {
        problems.push(format!(
            "the journal is not writable (writer running: {}, backlog {backlog} entries)",
            (s.journal_alive)()
        ));
    }
    let mut feeds = true;
    if let Some(f) = &s.feeds {
        for (symbol, c) in f.counters() {
            if c.messages == 0 {
                feeds = false;
                problems.push(format!("feed {symbol} has received nothing yet"));
            }
        }
    }
    let readiness = Readiness {
        ready: problems.is_empty(),
        engine,
        journal,
        feeds,
        problems,
    };
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness)).into_response()
}

fn decode(component: &str) -> Result<Arc<[u8]>, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(component.trim())
        .map(Into::into)
        .map_err(|e| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("component is not valid base64: {e}"),
            )
        })
}

type Reply = Result<Json<Vec<crate::engine::DeploymentInfo>>, ApiError>;

async fn list(State(s): State<AppState>) -> Reply {
    Ok(Json(s.service.command(Command::List).await?))
}

async fn deploy(State(s): State<AppState>, Json(req): Json<DeployRequest>) -> Reply {
    req.budget
        .validate()
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    let bytes = decode(&req.component)?;
    let command = Command::Deploy {
        name: req.name,
        bytes,
        config: req.config.unwrap_or_else(|| "{}".into()),
        allowance: Allowance {
            budget: req.budget,
            grants: req.grants,
        },
        state: StateStore::default(),
    };
    Ok(Json(s.service.command(command).await?))
}

async fn swap(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Json(req): Json<SwapRequest>,
) -> Reply {
    let bytes = decode(&req.component)?;
    Ok(Json(
        s.service
            .command(Command::Swap {
                name,
                bytes,
                config: req.config,
            })
            .await?,
    ))
}

async fn rollback(State(s): State<AppState>, Path(name): Path<String>) -> Reply {
    Ok(Json(s.service.command(Command::Rollback { name }).await?))
}

/// `DELETE /v1/deployments/{name}`: cancels its orders and removes it; its orders, fills and
/// equity curve stay readable.
async fn remove(State(s): State<AppState>, Path(name): Path<String>) -> Reply {
    Ok(Json(s.service.command(Command::Remove { name }).await?))
}

async fn halt(State(s): State<AppState>, Path(name): Path<String>) -> Reply {
    Ok(Json(s.service.command(Command::Halt { name }).await?))
}

async fn resume(State(s): State<AppState>, Path(name): Path<String>) -> Reply {
    Ok(Json(s.service.command(Command::Resume { name }).await?))
}

impl From<InferenceError> for ApiError {
    fn from(e: InferenceError) -> Self {
        ApiError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
    }
}

async fn inference_status(State(s): State<AppState>) -> Json<InferenceStatus> {
    Json(s.models.status())
}

/// `PUT /v1/inference` with an `[inference]` table as JSON (paths as the host sees them): loads
/// the ensemble off the event path and swaps it in; on any error the running one stays.
async fn load_models(
    State(s): State<AppState>,
    Json(config): Json<InferenceConfig>,
) -> Result<Json<InferenceStatus>, ApiError> {
    let models = s.models.clone();
    let status = tokio::task::spawn_blocking(move || models.load(&config))
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    Ok(Json(status))
}

async fn rollback_models(State(s): State<AppState>) -> Result<Json<InferenceStatus>, ApiError> {
    Ok(Json(s.models.rollback()?))
}

/// One live feed's counters.
#[derive(Debug, Serialize, Deserialize)]
pub struct FeedReport {
    /// The symbol.
    pub symbol: String,
    /// Its counters.
    #[serde(flatten)]
    pub counters: FeedCounters,
}

/// `GET /v1/feeds`: every live feed's messages, malformed messages, reconnects, rotations,
/// book resyncs, backfilled bars and latest lag.
async fn feed_counters(State(s): State<AppState>) -> Json<Vec<FeedReport>> {
    let counters = s.feeds.as_ref().map(|f| f.counters()).unwrap_or_default();
    Json(
        counters
            .into_iter()
            .map(|(symbol, counters)| FeedReport { symbol, counters })
            .collect(),
    )
}

/// `GET /v1/feeds/connections`: every WebSocket connection the feeds share, with its symbols,
/// streams, messages, malformed messages that named no stream, reconnects and rotations.
async fn feed_connections(State(s): State<AppState>) -> Json<Vec<ConnectionCounters>> {
    match &s.feeds {
        Some(f) => Json(f.connections().await),
        None => Json(Vec::new()),
    }
}

/// Body of `POST /v1/feeds`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowRequest {
    /// The symbol to follow, e.g. `ETHUSDT`.
    pub symbol: String,
}

impl From<FollowError> for ApiError {
    fn from(e: FollowError) -> Self {
        let status = match &e {
            FollowError::Already(_) => StatusCode::CONFLICT,
            FollowError::NotFollowed(_) => StatusCode::NOT_FOUND,
            FollowError::Exchange(_) | FollowError::Streams { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        };
        ApiError(status, e.to_string())
    }
}

fn live_feeds(s: &AppState) -> Result<&Arc<Followed>, ApiError> {
    s.feeds.as_ref().ok_or_else(|| {
        ApiError(
            StatusCode::CONFLICT,
            "the market is a replay: there are no live feeds to change".into(),
        )
    })
}

/// `POST /v1/feeds`: starts following a symbol the exchange lists.
async fn follow(
    State(s): State<AppState>,
    Json(req): Json<FollowRequest>,
) -> Result<Json<Vec<FeedReport>>, ApiError> {
    live_feeds(&s)?.follow(&req.symbol).await?;
    Ok(feed_counters(State(s)).await)
}

/// Body of `PUT /v1/feeds/{symbol}/streams`: stream kinds to add and to remove.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamsRequest {
    /// Kinds to subscribe: `aggTrade`, `trade`, `bookTicker`, `depth@100ms`.
    #[serde(default)]
    pub subscribe: Vec<String>,
    /// Kinds to unsubscribe.
    #[serde(default)]
    pub unsubscribe: Vec<String>,
}

/// `PUT /v1/feeds/{symbol}/streams`: changes a followed symbol's streams on its open
/// connection; answers with every feed's counters (each with its streams).
async fn change_streams(
    State(s): State<AppState>,
    Path(symbol): Path<String>,
    Json(req): Json<StreamsRequest>,
) -> Result<Json<Vec<FeedReport>>, ApiError> {
    live_feeds(&s)?
        .change_streams(&symbol, req.subscribe, req.unsubscribe)
        .await?;
    Ok(feed_counters(State(s)).await)
}

/// `DELETE /v1/feeds/{symbol}`: stops following a symbol.
async fn unfollow(
    State(s): State<AppState>,
    Path(symbol): Path<String>,
) -> Result<Json<Vec<FeedReport>>, ApiError> {
    live_feeds(&s)?.unfollow(&symbol).await?;
    Ok(feed_counters(State(s)).await)
}

/// `GET /metrics`: every metric in the OpenMetrics text format Prometheus scrapes.
async fn render_metrics(State(s): State<AppState>) -> Response {
    if let Some(feeds) = &s.feeds {
        s.metrics.record_feeds(&feeds.counters());
    }
    s.metrics.record_inference(&s.models.status());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}
