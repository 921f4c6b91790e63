//! The risk endpoints: the account's and each deployment's risk, trading state changes, the
//! kill switch, rebalancing, and the risk analyses of `stratbox risk` over posted prices.

use super::{ApiError, AppState};
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
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateRequest {
    /// `active`, `reducing` or `halted`.
    pub state: TradingState,
    /// Why (recorded with the state).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Body of `POST /v1/kill`.
#[derive(Debug, Default, Serialize, Deserialize)]
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

/// `GET /v1/risk`.
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

/// `POST /v1/risk/state`: the whole account's trading state.
pub(super) async fn account_state(
    State(s): State<AppState>,
    Json(req): Json<StateRequest>,
) -> RiskReply {
    Ok(Json(s.service.risk(set(None, req)).await?))
}

/// `POST /v1/deployments/{name}/state`.
pub(super) async fn deployment_state(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Json(req): Json<StateRequest>,
) -> RiskReply {
    Ok(Json(s.service.risk(set(Some(name), req)).await?))
}

/// `POST /v1/kill`.
pub(super) async fn kill(State(s): State<AppState>, Json(req): Json<KillRequest>) -> RiskReply {
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
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebalanceRequest {
    /// Fraction of the deployment's equity by symbol (long-only, summing to at most 1).
    pub weights: std::collections::BTreeMap<String, f64>,
}

/// `POST /v1/deployments/{name}/rebalance`.
pub(super) async fn rebalance(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Json(req): Json<RebalanceRequest>,
) -> RiskReply {
    let command = RiskCommand::Rebalance {
        name,
        weights: req.weights.into_iter().collect(),
    };
    Ok(Json(s.service.risk(command).await?))
}

/// The prices an analysis runs over: each asset's closes as `[open_time_ms, close]` pairs;
/// returns are taken on the open times every asset has.
#[derive(Debug, Serialize, Deserialize)]
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

/// `POST /v1/risk/var`: the body's `prices` and `stratbox risk var`'s settings.
pub(super) async fn var(
    Json(body): Json<PricesBody<VarQuery>>,
) -> Result<Json<VarAnswer>, ApiError> {
    analyse(body, analysis::value_at_risk).await
}

/// `POST /v1/risk/optimize`.
pub(super) async fn optimize(
    Json(body): Json<PricesBody<OptimizeQuery>>,
) -> Result<Json<OptimizeAnswer>, ApiError> {
    analyse(body, analysis::optimize).await
}

/// `POST /v1/risk/backtest-var`.
pub(super) async fn backtest_var(
    Json(body): Json<PricesBody<BacktestQuery>>,
) -> Result<Json<BacktestsAnswer>, ApiError> {
    analyse(body, analysis::backtest_var).await
}
