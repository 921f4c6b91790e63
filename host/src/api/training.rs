//! Retraining inside the service: its status, and a run on demand.

use super::{ApiError, AppState, ErrorBody, Refusals};
use crate::learning::retrain::{Retrainer, TrainingStatus};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::Arc;

fn retrainer(s: &AppState) -> Result<&Arc<Retrainer>, ApiError> {
    s.training.as_ref().ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            "retraining is off: the service config has no [training] section".into(),
        )
    })
}

/// Retraining's schedule, the last run's judgement (the new ensemble's and the running one's
/// held-out scores, and whether it was installed) and the installed ensemble's age.
#[utoipa::path(get, path = "/v1/training", tag = "models",
    responses(
        (status = 200, description = "The status", body = TrainingStatus),
        (status = 404, description = "Retraining is off", body = ErrorBody),
        Refusals))]
pub(super) async fn status(State(s): State<AppState>) -> Result<Json<TrainingStatus>, ApiError> {
    Ok(Json(retrainer(&s)?.status()))
}

/// Starts a run at the current market time, whatever the schedule (after the one under way,
/// if any); `GET /v1/training` shows its outcome.
#[utoipa::path(post, path = "/v1/training/run", tag = "models",
    responses(
        (status = 202, description = "Asked for", body = TrainingStatus),
        (status = 404, description = "Retraining is off", body = ErrorBody),
        Refusals))]
pub(super) async fn run(
    State(s): State<AppState>,
) -> Result<(StatusCode, Json<TrainingStatus>), ApiError> {
    let retrainer = retrainer(&s)?;
    retrainer.run_now();
    Ok((StatusCode::ACCEPTED, Json(retrainer.status())))
}
