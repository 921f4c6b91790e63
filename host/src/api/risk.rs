//! The risk endpoints: the account's and each deployment's risk, trading state changes, the
//! kill switch, rebalancing, and the risk analyses of `stratbox risk` over posted prices.

use super::{ApiError, AppState, Body, BodyRefusals, ErrorBody, Refusals};
use crate::engine::RiskReport;
use crate::engine::service::RiskCommand;
use crate::risk::TradingState;
use crate::risk::analysis::{
    self, AnalysisError, BacktestQuery, BacktestsAnswer, OptimizeAnswer, OptimizeQuery, VarAnswer,
    VarQuery,
};
use crate::risk::returns::{self, Returns};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

/// Body of `POST /v1/risk/state` and `POST /v1/deployments/{name}/state`.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateRequest {
    /// `active`, `reducing` or `halted`.
    pub state: TradingState,
    /// Why (recorded with the state).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Body of `POST /v1/kill`.
#[derive(utoipa::ToSchema, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillRequest {
    /// Close every position with immediate-or-cancel orders at most this fraction through the
    /// touch (e.g. 0.01); positions stay open when absent.
    #[serde(default)]
    pub flatten: Option<f64>,
    /// Why (recorded with the HALTED state).
    #[serde(default)]
    pub reason: Option<String>,
}

type RiskReply = Result<Json<RiskReport>, ApiError>;

/// The account's and every deployment's risk: trading states, limits, equity, drawdown, VaR,
/// exposure and protective stops.
#[utoipa::path(get, path = "/v1/risk", tag = "risk",
    responses((status = 200, description = "The risk report", body = RiskReport), Refusals))]
pub(super) async fn report(State(s): State<AppState>) -> RiskReply {
    Ok(Json(s.service.risk(RiskCommand::Report).await?))
}

fn set(name: Option<String>, req: StateRequest) -> RiskCommand {
    RiskCommand::SetState {
        name,
        state: req.state,
        reason: req
            .reason
            .unwrap_or_else(|| format!("set to {} by the operator", req.state.name())),
    }
}

/// Sets the whole account's trading state.
#[utoipa::path(post, path = "/v1/risk/state", tag = "risk", request_body = StateRequest,
    responses((status = 200, description = "The risk report after it", body = RiskReport), Refusals, BodyRefusals))]
pub(super) async fn account_state(
    State(s): State<AppState>,
    Body(req): Body<StateRequest>,
) -> RiskReply {
    Ok(Json(s.service.risk(set(None, req)).await?))
}

/// Sets a deployment's trading state.
#[utoipa::path(post, path = "/v1/deployments/{name}/state", tag = "risk", request_body = StateRequest,
    params(("name" = String, Path, description = "The deployment")),
    responses(
        (status = 200, description = "The risk report after it", body = RiskReport),
        (status = 404, description = "No such deployment", body = ErrorBody),
        Refusals, BodyRefusals))]
pub(super) async fn deployment_state(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(req): Body<StateRequest>,
) -> RiskReply {
    Ok(Json(s.service.risk(set(Some(name), req)).await?))
}

/// The kill switch: the account HALTED, every open order cancelled, positions closed with
/// immediate-or-cancel orders when `flatten` is given.
#[utoipa::path(post, path = "/v1/kill", tag = "risk", request_body = KillRequest,
    responses((status = 200, description = "The risk report after it", body = RiskReport), Refusals, BodyRefusals))]
pub(super) async fn kill(State(s): State<AppState>, Body(req): Body<KillRequest>) -> RiskReply {
    if let Some(cap) = req.flatten
        && !(cap > 0.0 && cap < 1.0)
    {
        return Err(ApiError(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("flatten = {cap}: the slippage cap is a fraction above 0 and below 1"),
        ));
    }
    let command = RiskCommand::Kill {
        flatten: req.flatten,
        reason: req
            .reason
            .unwrap_or_else(|| "kill switch pulled by the operator".into()),
    };
    Ok(Json(s.service.risk(command).await?))
}

/// Body of `POST /v1/deployments/{name}/rebalance`.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebalanceRequest {
    /// Fraction of the deployment's equity by symbol (long-only, summing to at most 1).
    pub weights: std::collections::BTreeMap<String, f64>,
}

/// Moves a deployment's holdings toward target weights with market orders.
#[utoipa::path(post, path = "/v1/deployments/{name}/rebalance", tag = "risk", request_body = RebalanceRequest,
    params(("name" = String, Path, description = "The deployment")),
    responses(
        (status = 200, description = "The risk report with the orders sent", body = RiskReport),
        (status = 404, description = "No such deployment", body = ErrorBody),
        Refusals, BodyRefusals))]
pub(super) async fn rebalance(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(req): Body<RebalanceRequest>,
) -> RiskReply {
    let command = RiskCommand::Rebalance {
        name,
        weights: req.weights.into_iter().collect(),
    };
    Ok(Json(s.service.risk(command).await?))
}

/// The prices an analysis runs over: each asset's closes as `[open_time_ms, close]` pairs;
/// returns are taken on the open times every asset has.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct PricesBody<Q> {
    /// Closes by asset name.
    pub prices: std::collections::BTreeMap<String, Vec<(i64, f64)>>,
    /// The analysis' settings.
    #[serde(flatten)]
    pub query: Q,
}

/// Runs `analysis` over the body's prices off the async runtime (Monte Carlo may take a while).
async fn analyse<Q, A>(
    body: PricesBody<Q>,
    analysis: fn(&Returns, &Q) -> Result<A, AnalysisError>,
) -> Result<Json<A>, ApiError>
where
    Q: Send + 'static,
    A: Send + 'static,
{
    let work = move || {
        let r =
            returns::from_series(body.prices.into_iter().collect()).map_err(|e| e.to_string())?;
        analysis(&r, &body.query).map_err(|e| e.to_string())
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(answer)) => Ok(Json(answer)),
        Ok(Err(message)) => Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, message)),
        Err(e) => Err(ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// VaR and CVaR of the posted prices by each method (`stratbox risk var`'s settings).
#[utoipa::path(post, path = "/v1/risk/var", tag = "risk", request_body = PricesBody<VarQuery>,
    responses((status = 200, description = "VaR and CVaR", body = VarAnswer), Refusals, BodyRefusals))]
pub(super) async fn var(
    Body(body): Body<PricesBody<VarQuery>>,
) -> Result<Json<VarAnswer>, ApiError> {
    analyse(body, analysis::value_at_risk).await
}

/// Portfolio weights over the posted prices (`stratbox risk optimize`'s settings).
#[utoipa::path(post, path = "/v1/risk/optimize", tag = "risk", request_body = PricesBody<OptimizeQuery>,
    responses((status = 200, description = "The weights", body = OptimizeAnswer), Refusals, BodyRefusals))]
pub(super) async fn optimize(
    Body(body): Body<PricesBody<OptimizeQuery>>,
) -> Result<Json<OptimizeAnswer>, ApiError> {
    analyse(body, analysis::optimize).await
}

/// Backtests of one-bar VaR over the posted prices (`stratbox risk backtest-var`'s settings).
#[utoipa::path(post, path = "/v1/risk/backtest-var", tag = "risk", request_body = PricesBody<BacktestQuery>,
    responses((status = 200, description = "The backtests", body = BacktestsAnswer), Refusals, BodyRefusals))]
pub(super) async fn backtest_var(
    Body(body): Body<PricesBody<BacktestQuery>>,
) -> Result<Json<BacktestsAnswer>, ApiError> {
    analyse(body, analysis::backtest_var).await
}
