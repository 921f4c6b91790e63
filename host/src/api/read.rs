//! The read endpoints: each deployment's and the whole account's holdings now (from the
//! engine), and their orders, fills and equity curves (from the store), a page at a time.

use super::{ApiError, AppState, ErrorBody, Refusals};
use crate::engine::service::Command;
use crate::engine::{
    AccountSnapshot, DeploymentInfo, SIGNALS_KEPT, SignalQualityReport, SignalRecord, SignalStage,
};
use crate::signals::regime::RegimeHistory;
use crate::store::{EquityPoint, FillRow, HistoryQuery, OrderRow, Page, StoreError};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Schema(message) => ApiError(StatusCode::BAD_REQUEST, message),
            other => ApiError(StatusCode::SERVICE_UNAVAILABLE, other.to_string()),
        }
    }
}

/// A query's filters, or a 400 naming the unusable one.
pub(super) fn checked(q: QueryResult) -> Result<HistoryQuery, ApiError> {
    let Query(q) = q.map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))?;
    q.validate()
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e))?;
    Ok(q)
}

pub(super) type QueryResult = Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>;

/// Answers 404 unless deployment `name` runs now or has left history in the store.
async fn known(s: &AppState, name: &str) -> Result<(), ApiError> {
    let running = s.service.command(Command::List).await?;
    if running.iter().any(|d| d.name == name) {
        return Ok(());
    }
    let q = HistoryQuery {
        limit: Some(1),
        ..HistoryQuery::default()
    };
    if !s.store.order_page(Some(name), &q).await?.items.is_empty()
        || !s.store.equity_curve(Some(name), &q).await?.items.is_empty()
    {
        return Ok(());
    }
    Err(ApiError(
        StatusCode::NOT_FOUND,
        format!("no deployment named {name:?}, now or in the history"),
    ))
}

/// One deployment.
#[utoipa::path(get, path = "/v1/deployments/{name}", tag = "deployments",
    params(("name" = String, Path, description = "The deployment")),
    responses(
        (status = 200, description = "The deployment", body = DeploymentInfo),
        (status = 404, description = "No such deployment", body = ErrorBody),
        Refusals))]
pub(super) async fn deployment(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<DeploymentInfo>, ApiError> {
    s.service
        .command(Command::List)
        .await?
        .into_iter()
        .find(|d| d.name == name)
        .map(Json)
        .ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                format!("no deployment named {name:?}"),
            )
        })
}

/// A deployment's holdings now: balances, positions at the mark, open orders, equity.
#[utoipa::path(get, path = "/v1/deployments/{name}/account", tag = "account",
    params(("name" = String, Path, description = "The deployment")),
    responses(
        (status = 200, description = "Its account", body = AccountSnapshot),
        (status = 404, description = "No such deployment", body = ErrorBody),
        Refusals))]
pub(super) async fn deployment_account(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<AccountSnapshot>, ApiError> {
    Ok(Json(s.service.account(Some(name)).await?))
}

/// Every deployment's holdings summed.
#[utoipa::path(get, path = "/v1/account", tag = "account",
    responses((status = 200, description = "The account", body = AccountSnapshot), Refusals))]
pub(super) async fn account(State(s): State<AppState>) -> Result<Json<AccountSnapshot>, ApiError> {
    Ok(Json(s.service.account(None).await?))
}

/// A deployment's orders, newest first.
#[utoipa::path(get, path = "/v1/deployments/{name}/orders", tag = "account", params(("name" = String, Path, description = "The deployment"), HistoryQuery),
    responses(
        (status = 200, description = "A page", body = Page<OrderRow>),
        (status = 400, description = "A filter is unusable", body = ErrorBody),
        (status = 404, description = "No such deployment, now or in the history", body = ErrorBody),
        Refusals))]
pub(super) async fn deployment_orders(
    State(s): State<AppState>,
    Path(name): Path<String>,
    q: QueryResult,
) -> Result<Json<Page<OrderRow>>, ApiError> {
    let q = checked(q)?;
    known(&s, &name).await?;
    Ok(Json(s.store.order_page(Some(&name), &q).await?))
}

/// Every deployment's orders, newest first.
#[utoipa::path(get, path = "/v1/account/orders", tag = "account", params(HistoryQuery),
    responses(
        (status = 200, description = "A page", body = Page<OrderRow>),
        (status = 400, description = "A filter is unusable", body = ErrorBody),
        Refusals))]
pub(super) async fn orders(
    State(s): State<AppState>,
    q: QueryResult,
) -> Result<Json<Page<OrderRow>>, ApiError> {
    Ok(Json(s.store.order_page(None, &checked(q)?).await?))
}

/// A deployment's fills, newest first.
#[utoipa::path(get, path = "/v1/deployments/{name}/fills", tag = "account", params(("name" = String, Path, description = "The deployment"), HistoryQuery),
    responses(
        (status = 200, description = "A page", body = Page<FillRow>),
        (status = 400, description = "A filter is unusable", body = ErrorBody),
        (status = 404, description = "No such deployment, now or in the history", body = ErrorBody),
        Refusals))]
pub(super) async fn deployment_fills(
    State(s): State<AppState>,
    Path(name): Path<String>,
    q: QueryResult,
) -> Result<Json<Page<FillRow>>, ApiError> {
    let q = checked(q)?;
    known(&s, &name).await?;
    Ok(Json(s.store.fill_page(Some(&name), &q).await?))
}

/// Every deployment's fills, newest first.
#[utoipa::path(get, path = "/v1/account/fills", tag = "account", params(HistoryQuery),
    responses(
        (status = 200, description = "A page", body = Page<FillRow>),
        (status = 400, description = "A filter is unusable", body = ErrorBody),
        Refusals))]
pub(super) async fn fills(
    State(s): State<AppState>,
    q: QueryResult,
) -> Result<Json<Page<FillRow>>, ApiError> {
    Ok(Json(s.store.fill_page(None, &checked(q)?).await?))
}

/// A deployment's equity and drawdown once a bar, oldest first (the last `limit` points).
#[utoipa::path(get, path = "/v1/deployments/{name}/equity", tag = "account", params(("name" = String, Path, description = "The deployment"), HistoryQuery),
    responses(
        (status = 200, description = "A page", body = Page<EquityPoint>),
        (status = 400, description = "A filter is unusable", body = ErrorBody),
        (status = 404, description = "No such deployment, now or in the history", body = ErrorBody),
        Refusals))]
pub(super) async fn deployment_equity(
    State(s): State<AppState>,
    Path(name): Path<String>,
    q: QueryResult,
) -> Result<Json<Page<EquityPoint>>, ApiError> {
    let q = checked(q)?;
    known(&s, &name).await?;
    Ok(Json(s.store.equity_curve(Some(&name), &q).await?))
}

/// Every deployment's equity summed once a bar, with the account's drawdown, oldest first.
#[utoipa::path(get, path = "/v1/account/equity", tag = "account", params(HistoryQuery),
    responses(
        (status = 200, description = "A page", body = Page<EquityPoint>),
        (status = 400, description = "A filter is unusable", body = ErrorBody),
        Refusals))]
pub(super) async fn equity(
    State(s): State<AppState>,
    q: QueryResult,
) -> Result<Json<Page<EquityPoint>>, ApiError> {
    Ok(Json(s.store.equity_curve(None, &checked(q)?).await?))
}

/// Filters of the signals list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct SignalsQuery {
    /// Signals in the answer (1 to 1000; 100 when absent).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Only this symbol's (e.g. `BTCUSDT`).
    symbol: Option<String>,
    /// Only those of this source (the strategy or optimizer that made them).
    source: Option<String>,
    /// Only those seen at this stage: `emitted` or `optimized`.
    stage: Option<SignalStage>,
    /// Only those made at or after this time (ms since the epoch).
    since: Option<i64>,
    /// Only those made before this time (ms since the epoch).
    until: Option<i64>,
}

impl SignalsQuery {
    fn admits(&self, r: &SignalRecord) -> bool {
        self.symbol.as_ref().is_none_or(|s| **s == *r.symbol)
            && self.source.as_ref().is_none_or(|s| **s == *r.source)
            && self.stage.is_none_or(|s| s == r.stage)
            && self.since.is_none_or(|t| r.time_ms >= t)
            && self.until.is_none_or(|t| r.time_ms < t)
    }
}

/// The latest signals, newest first: as strategies emitted them and as the optimizers passed
/// them on (kept in memory, the last 1000), filtered.
#[utoipa::path(get, path = "/v1/signals", tag = "account", params(SignalsQuery),
    responses(
        (status = 200, description = "The latest signals", body = Vec<SignalRecord>),
        (status = 400, description = "A filter is unusable", body = ErrorBody),
        Refusals))]
pub(super) async fn signals(
    State(s): State<AppState>,
    q: Result<Query<SignalsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<SignalRecord>>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.body_text()))?;
    let limit = match q.limit {
        None => 100,
        Some(n @ 1..=1000) => n as usize,
        Some(n) => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!("limit {n}: use 1 to 1000"),
            ));
        }
    };
    let all = s.service.signals(SIGNALS_KEPT).await?;
    Ok(Json(
        all.into_iter()
            .filter(|r| q.admits(r))
            .take(limit)
            .collect(),
    ))
}

/// The signals' quality: for each source (a strategy, a detector `host:<kind>`, a model) x
/// kind x symbol, what its latest signals (up to 500) turned out to be once their horizon
/// passed: hit rate with its 95 % interval, mean return in their direction, information
/// coefficient of strength against realised return, and the edge at each quarter of the
/// horizon; and each signal optimizer's skill at scoring them.
#[utoipa::path(get, path = "/v1/signals/quality", tag = "account",
    responses(
        (status = 200, description = "The signals' rolling quality", body = SignalQualityReport),
        Refusals))]
pub(super) async fn signal_quality(
    State(s): State<AppState>,
) -> Result<Json<SignalQualityReport>, ApiError> {
    Ok(Json(s.service.signal_quality().await?))
}

/// Every symbol's market regimes as of its latest bar (volatility by quantiles of realised
/// volatility, trend by ADX and slope, liquidity from the book) with the history of their
/// changes (the latest 1000), when `[signals.regimes]` tracks them (empty otherwise).
#[utoipa::path(get, path = "/v1/signals/regimes", tag = "account",
    responses(
        (status = 200, description = "Market regimes by symbol", body = Vec<RegimeHistory>),
        Refusals))]
pub(super) async fn regimes(
    State(s): State<AppState>,
) -> Result<Json<Vec<RegimeHistory>>, ApiError> {
    Ok(Json(s.service.regimes().await?))
}
