//! The model registry: every registered training run, and installing any one's ensemble (a
//! rollback to any earlier version) through the ensemble's hot swap.

use super::{ApiError, AppState, ErrorBody, Refusals, path_value};
use crate::inference::{InferenceConfig, InferenceStatus};
use crate::store::ModelVersion;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sha2::{Digest, Sha256};

/// Every registered training run, oldest first.
#[utoipa::path(get, path = "/v1/models", tag = "models",
    responses((status = 200, description = "The registry", body = Vec<ModelVersion>), Refusals))]
pub(super) async fn list(State(s): State<AppState>) -> Result<Json<Vec<ModelVersion>>, ApiError> {
    Ok(Json(s.store.model_versions().await?))
}

/// One registered training run.
#[utoipa::path(get, path = "/v1/models/{id}", tag = "models",
    params(("id" = i64, Path, description = "The version's number")),
    responses(
        (status = 200, description = "The version", body = ModelVersion),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "No such version", body = ErrorBody),
        Refusals))]
pub(super) async fn get(
    State(s): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<ModelVersion>, ApiError> {
    Ok(Json(version(&s, path_value(id)?).await?))
}

/// Installs a registered version's ensemble through the hot swap, after checking its weights
/// and manifests are the files it was trained into (their SHA-256); on any error the running
/// one stays.
#[utoipa::path(post, path = "/v1/models/{id}/deploy", tag = "models",
    params(("id" = i64, Path, description = "The version's number")),
    responses(
        (status = 200, description = "Installed", body = InferenceStatus),
        (status = 400, description = "The id is not a number", body = ErrorBody),
        (status = 404, description = "No such version", body = ErrorBody),
        (status = 422, description = "The version has no ensemble, or its files changed", body = ErrorBody),
        Refusals))]
pub(super) async fn deploy(
    State(s): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<InferenceStatus>, ApiError> {
    let id = path_value(id)?;
    let v = version(&s, id).await?;
    let refused = |m: String| ApiError(StatusCode::UNPROCESSABLE_ENTITY, m);
    let ensemble = v.ensemble.ok_or_else(|| {
        refused(format!(
            "version {id} has no ensemble: none of its models passed its control"
        ))
    })?;
    let config: InferenceConfig = serde_json::from_value(ensemble)
        .map_err(|e| refused(format!("version {id}: unreadable ensemble: {e}")))?;
    let models = s.models.clone();
    let hashes = v.weights_sha256;
    // Hash and load off the async workers, one after the other.
    let status = tokio::task::spawn_blocking(move || {
        for member in &config.models {
            for (path, key) in [
                (&member.weights, member.name.clone()),
                (&member.manifest, format!("{}.json", member.name)),
            ] {
                let found = std::fs::read(path)
                    .map(|bytes| hex::encode(Sha256::digest(&bytes)))
                    .map_err(|e| refused(format!("{}: {e}", path.display())))?;
                if hashes.get(&key) != Some(&found) {
                    return Err(refused(format!(
                        "{} is not the file version {id} trained (SHA-256 {found})",
                        path.display()
                    )));
                }
            }
        }
        models.load(&config).map_err(ApiError::from)
    })
    .await
    .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    Ok(Json(status))
}

async fn version(s: &AppState, id: i64) -> Result<ModelVersion, ApiError> {
    s.store.model_version(id).await?.ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            format!("no model version {id} (GET /v1/models lists them)"),
        )
    })
}
