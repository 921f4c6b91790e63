//! Execution algorithms for operators: start a parent order on a deployment's account (TWAP,
//! VWAP from the stored candles' volume profile, POV, iceberg, peg), list them with their cost
//! analysis, stop one.

use super::{ApiError, AppState, Body, BodyRefusals, ErrorBody, Refusals};
use crate::execution::algo::order::AlgoOrder;
use crate::execution::algo::{AlgoView, schedule};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

/// Days of stored one-minute candles a VWAP's volume profile is read from.
const PROFILE_DAYS: i64 = 20;

/// A started parent order.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Started {
    /// Its id.
    pub id: u64,
}

/// Whether a parent order was stopped.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Stopped {
    /// True: it was working and is stopped now.
    pub cancelled: bool,
}

/// The VWAP weights of `order` from the stored one-minute candles of its symbol, for its
/// window as it would start now (the engine starts it at its own event time, which a live
/// service keeps at the wall clock's).
async fn vwap_weights(s: &AppState, order: &AlgoOrder) -> Result<Vec<f64>, ApiError> {
    let (start, end, slices) = order
        .window(crate::model::time::wall_clock_ms())
        .map_err(|why| ApiError(StatusCode::BAD_REQUEST, why))?;
    let conflict = |m: String| ApiError(StatusCode::CONFLICT, m);
    let history = s
        .history
        .as_ref()
        .ok_or_else(|| conflict("no history store to read a volume profile from".into()))?;
    let symbol = order.symbol.to_ascii_uppercase();
    let candles = history
        .candles(&symbol, "1m", start - PROFILE_DAYS * 86_400_000, start)
        .await
        .map_err(|e| ApiError(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let volumes: Vec<(i64, f64)> = candles
        .iter()
        .map(|c| (c.open_time, c.volume.to_f64()))
        .collect();
    schedule::volume_profile(&volumes, start, end, slices).ok_or_else(|| {
        conflict(format!(
            "no stored 1m candles of {symbol} in the last {PROFILE_DAYS} days cover the window's time of day: fetch history (stratbox history) or use twap"
        ))
    })
}

/// Starts a parent order worked by an execution algorithm on deployment `name`'s account.
#[utoipa::path(post, path = "/v1/deployments/{name}/algos", tag = "execution",
    params(("name" = String, Path, description = "The deployment")),
    request_body = AlgoOrder,
    responses(
        (status = 201, description = "Started", body = Started),
        (status = 400, description = "The order is unusable", body = ErrorBody),
        (status = 404, description = "Unknown deployment", body = ErrorBody),
        (status = 409, description = "No volume profile for a VWAP", body = ErrorBody),
        Refusals, BodyRefusals))]
pub(super) async fn start(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(order): Body<AlgoOrder>,
) -> Result<(StatusCode, Json<Started>), ApiError> {
    let weights = if order.style.eq_ignore_ascii_case("vwap") {
        Some(vwap_weights(&s, &order).await?)
    } else {
        None
    };
    match s.service.start_algo(name, order, weights).await? {
        Ok(id) => Ok((StatusCode::CREATED, Json(Started { id }))),
        Err(why) => Err(ApiError(StatusCode::BAD_REQUEST, why)),
    }
}

/// Every parent order, newest first, with its state and cost analysis.
#[utoipa::path(get, path = "/v1/algos", tag = "execution",
    responses((status = 200, description = "The parent orders", body = [AlgoView]), Refusals))]
pub(super) async fn list(State(s): State<AppState>) -> Result<Json<Vec<AlgoView>>, ApiError> {
    Ok(Json(s.service.algos().await?))
}

/// Stops a parent order; its open children are cancelled.
#[utoipa::path(delete, path = "/v1/algos/{id}", tag = "execution",
    params(("id" = u64, Path, description = "The parent order")),
    responses(
        (status = 200, description = "Stopped", body = Stopped),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "No such working parent order", body = ErrorBody),
        Refusals))]
pub(super) async fn cancel(
    State(s): State<AppState>,
    id: Result<Path<u64>, axum::extract::rejection::PathRejection>,
) -> Result<Json<Stopped>, ApiError> {
    let id = super::path_value(id)?;
    if s.service.cancel_algo(id).await? {
        Ok(Json(Stopped { cancelled: true }))
    } else {
        Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no working parent order {id}"),
        ))
    }
}
