//! The operators' control endpoint (axum): deploy, swap, rollback, halt, resume, remove and
//! list strategies; read their holdings, orders, fills and equity; read the risk, set trading
//! states and pull the kill switch; load, roll back and inspect the model ensemble and its
//! retraining; follow live feeds; manage tokens and read the audit log. Each path needs a token of its scope; the
//! OpenAPI 3.1 description the routers are built from is served at `/v1/openapi.json`.
//! Components travel base64-encoded in JSON bodies.

mod algos;
mod auth;
mod client;
mod cost;
mod dashboard;
mod deployments;
mod feeds;
mod health;
mod models;
mod read;
mod registry;
mod risk;
mod stream;
mod tokens;
mod training;
mod venue;

pub use auth::{
    RateLimit, RateLimiter, Scope, TokenInfo, TokenRegistry, TokenSource, hash_secret, new_secret,
};
pub use client::Client;
pub use deployments::{DeployRequest, SwapRequest};
pub use feeds::{FeedReport, FollowRequest, StreamsRequest};
pub use health::Readiness;
pub use risk::{KillRequest, PricesBody, RebalanceRequest, StateRequest};
pub use tokens::{CreateTokenRequest, CreatedToken};

use crate::engine::DeployError;
use crate::engine::service::EngineService;
use crate::feeds::follow::Followed;
use crate::inference::ModelControl;
use crate::monitor::ServiceMetrics;
use crate::monitor::alerts::AlertCenter;
use crate::store::Store;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A failed request: status and message.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
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
    /// The alerts.
    pub alerts: Arc<AlertCenter>,
    /// Each live venue's name and state, when orders go to exchanges (none: paper trading).
    pub venue: Vec<(Arc<str>, Arc<crate::execution::binance::Shared>)>,
    /// Stored candles (VWAP volume profiles).
    pub history: Option<Arc<crate::history::HistoryStore>>,
    /// Retraining, when the service retrains.
    pub training: Option<Arc<crate::learning::retrain::Retrainer>>,
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
    alerts: Arc<AlertCenter>,
    venue: Vec<(Arc<str>, Arc<crate::execution::binance::Shared>)>,
    history: Option<Arc<crate::history::HistoryStore>>,
    training: Option<Arc<crate::learning::retrain::Retrainer>>,
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
        alerts: context.alerts,
        venue: context.venue,
        history: context.history,
        training: context.training,
    };
    let mut doc = ApiDoc::openapi();
    let mut scoped = |routes: OpenApiRouter<AppState>, scope: Scope, limit: usize| {
        let (routes, api) = routes.split_for_parts();
        doc.merge(api);
        routes.layer(DefaultBodyLimit::max(limit)).route_layer(
            axum::middleware::from_fn_with_state((state.clone(), scope), auth::authorize),
        )
    };
    let read = scoped(
        OpenApiRouter::new()
            .routes(routes!(deployments::list))
            .routes(routes!(read::deployment))
            .routes(routes!(read::deployment_account))
            .routes(routes!(read::deployment_orders))
            .routes(routes!(read::deployment_fills))
            .routes(routes!(read::deployment_equity))
            .routes(routes!(read::account))
            .routes(routes!(read::orders))
            .routes(routes!(read::fills))
            .routes(routes!(read::equity))
            .routes(routes!(read::signals))
            .routes(routes!(read::signal_quality))
            .routes(routes!(read::regimes))
            .routes(routes!(cost::estimate))
            .routes(routes!(venue::venue))
            .routes(routes!(algos::list))
            .routes(routes!(risk::report))
            .routes(routes!(feeds::counters))
            .routes(routes!(feeds::connections))
            .routes(routes!(models::status))
            .routes(routes!(registry::list))
            .routes(routes!(registry::get))
            .routes(routes!(training::status))
            .routes(routes!(health::metrics))
            .routes(routes!(health::alerts))
            .routes(routes!(tokens::session))
            .routes(routes!(stream::stream)),
        Scope::Read,
        SMALL_BODY,
    );
    let analyses = scoped(
        OpenApiRouter::new()
            .routes(routes!(risk::var))
            .routes(routes!(risk::optimize))
            .routes(routes!(risk::backtest_var)),
        Scope::Read,
        PRICES_BODY,
    );
    let components = scoped(
        OpenApiRouter::new()
            .routes(routes!(deployments::deploy))
            .routes(routes!(deployments::swap)),
        Scope::Trade,
        deployments::MAX_BODY,
    );
    let trade = scoped(
        OpenApiRouter::new()
            .routes(routes!(deployments::remove))
            .routes(routes!(deployments::rollback))
            .routes(routes!(deployments::halt))
            .routes(routes!(deployments::resume))
            .routes(routes!(risk::deployment_state))
            .routes(routes!(risk::rebalance))
            .routes(routes!(risk::account_state))
            .routes(routes!(risk::kill))
            .routes(routes!(algos::start))
            .routes(routes!(algos::cancel)),
        Scope::Trade,
        SMALL_BODY,
    );
    let admin = scoped(
        OpenApiRouter::new()
            .routes(routes!(tokens::list))
            .routes(routes!(tokens::create))
            .routes(routes!(tokens::revoke))
            .routes(routes!(tokens::audit))
            .routes(routes!(feeds::follow))
            .routes(routes!(feeds::unfollow))
            .routes(routes!(feeds::change_streams))
            .routes(routes!(models::load))
            .routes(routes!(models::rollback))
            .routes(routes!(registry::deploy))
            .routes(routes!(training::run)),
        Scope::Admin,
        SMALL_BODY,
    );
    let (public, api) = OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
        .split_for_parts();
    doc.merge(api);
    // After the merges: the routers bring the schemas these change.
    for modifier in [&BearerAuth as &dyn utoipa::Modify, &OpenFlattened] {
        modifier.modify(&mut doc);
    }
    let doc = Arc::new(doc);
    public
        .route(
            "/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc) }
            }),
        )
        .merge(dashboard::routes())
        .merge(read)
        .merge(analyses)
        .merge(components)
        .merge(trade)
        .merge(admin)
        .with_state(state)
}

/// The API's description: everything but the paths, which the routers add.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "stratbox",
        description = "The operators' API of a stratbox host: deployments of sandboxed strategies, their holdings, orders, fills and equity, risk, feeds, models, tokens and the audit log.",
    ),
    security(("bearer" = [])),
    tags(
        (name = "deployments", description = "Deploy, swap, roll back, halt, resume and remove strategies"),
        (name = "account", description = "Holdings now, orders, fills and equity curves"),
        (name = "risk", description = "Risk report, trading states, the kill switch, rebalancing, analyses"),
        (name = "execution", description = "The venue orders go to and the pre-trade cost of an order"),
        (name = "feeds", description = "Live market feeds"),
        (name = "models", description = "The model ensemble"),
        (name = "admin", description = "Tokens and the audit log"),
        (name = "service", description = "Health, readiness and metrics"),
    )
)]
struct ApiDoc;

/// Adds the bearer token scheme every scoped path requires.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
    }
}

/// Lets the members of an `allOf` (serde's `flatten`) have the other members' properties: a
/// member closed by `additionalProperties: false` would make every `allOf` unsatisfiable. The
/// service still refuses unknown fields where serde does.
struct OpenFlattened;

impl utoipa::Modify for OpenFlattened {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::Schema;
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let mut opened = Vec::new();
        let mut open = |schema: &mut Schema| {
            if let Schema::AllOf(all) = schema {
                for member in &mut all.items {
                    match member {
                        RefOr::Ref(r) => opened.push(
                            r.ref_location
                                .trim_start_matches("#/components/schemas/")
                                .to_string(),
                        ),
                        RefOr::T(Schema::Object(o)) => o.additional_properties = None,
                        RefOr::T(_) => {}
                    }
                }
            }
        };
        for schema in components.schemas.values_mut() {
            if let RefOr::T(schema) = schema {
                open(schema);
                // One level down: an allOf inside an allOf (a flattened struct flattening another).
                if let Schema::AllOf(all) = schema {
                    for member in &mut all.items {
                        if let RefOr::T(inner) = member {
                            open(inner);
                        }
                    }
                }
            }
        }
        for name in opened {
            if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(&name) {
                o.additional_properties = None;
            }
        }
    }
}

/// The body of every refusal.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What was wrong.
    pub error: String,
}

/// A path parameter, or 400 naming why it could not be read (e.g. an id that is not a number).
fn path_value<T>(
    value: Result<axum::extract::Path<T>, axum::extract::rejection::PathRejection>,
) -> Result<T, ApiError> {
    value
        .map(|axum::extract::Path(v)| v)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))
}

/// The refusals of every scoped path.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum Refusals {
    /// No bearer token, or one the service does not know.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The token's scope is below the path's.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// The token is over its rate limit; `Retry-After` says when to come back.
    #[response(status = 429)]
    TooManyRequests(ErrorBody),
}

/// The refusals of a path that takes a JSON body.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum BodyRefusals {
    /// The body is not JSON.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// The body is larger than the path takes.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// The body does not have the documented shape, or its values are unusable.
    #[response(status = 422)]
    Unprocessable(ErrorBody),
}

/// A JSON body whose rejections answer as [`ErrorBody`], like every other refusal.
pub struct Body<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let refused =
            |r: axum::extract::rejection::JsonRejection| ApiError(r.status(), r.body_text());
        // Content type, size and syntax first; then the shape, which must be an object (serde
        // would otherwise take an array for a struct's fields in order).
        let Json(raw) = Json::<Box<serde_json::value::RawValue>>::from_request(request, state)
            .await
            .map_err(refused)?;
        if !raw.get().trim_start().starts_with('{') {
            return Err(ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the body must be a JSON object".into(),
            ));
        }
        let Json(value) = Json::<T>::from_bytes(raw.get().as_bytes()).map_err(refused)?;
        Ok(Body(value))
    }
}
