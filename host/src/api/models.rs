//! The model ensemble: its status, loading a new one, rolling back.

use super::{ApiError, AppState, Body, BodyRefusals, ErrorBody, Refusals};
use crate::inference::{InferenceConfig, InferenceError, InferenceStatus};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

impl From<InferenceError> for ApiError {
    fn from(e: InferenceError) -> Self {
        ApiError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
    }
}

/// The running ensemble: version, device, members, predictions, batches and latency.
#[utoipa::path(get, path = "/v1/inference", tag = "models",
    responses((status = 200, description = "The ensemble", body = InferenceStatus), Refusals))]
pub(super) async fn status(State(s): State<AppState>) -> Json<InferenceStatus> {
    Json(s.models.status())
}

/// Loads an ensemble from an `[inference]` table (paths as the host sees them) off the event
/// path and swaps it in; on any error the running one stays.
#[utoipa::path(put, path = "/v1/inference", tag = "models", request_body = InferenceConfig,
    responses((status = 200, description = "Loaded", body = InferenceStatus), Refusals, BodyRefusals))]
pub(super) async fn load(
    State(s): State<AppState>,
    Body(config): Body<InferenceConfig>,
) -> Result<Json<InferenceStatus>, ApiError> {
    let models = s.models.clone();
    let status = tokio::task::spawn_blocking(move || models.load(&config))
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    Ok(Json(status))
}

/// Returns to the previous ensemble.
#[utoipa::path(post, path = "/v1/inference/rollback", tag = "models",
    responses(
        (status = 200, description = "Rolled back", body = InferenceStatus),
        (status = 422, description = "There is no previous ensemble", body = ErrorBody),
        Refusals))]
pub(super) async fn rollback(State(s): State<AppState>) -> Result<Json<InferenceStatus>, ApiError> {
    Ok(Json(s.models.rollback()?))
}
