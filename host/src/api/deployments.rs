//! Deployments: list, deploy, swap, roll back, halt, resume and remove.

use super::{ApiError, AppState, Body, BodyRefusals, ErrorBody, Refusals};
use crate::engine::service::Command;
use crate::engine::{Allowance, DeploymentInfo};
use crate::risk::Budget;
use crate::sandbox::{Grants, StateStore};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Largest request body: a component at the size limit, base64-encoded, plus room.
pub(super) const MAX_BODY: usize = 96 << 20;

/// Body of `POST /v1/deployments`.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
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
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwapRequest {
    /// The new component, base64.
    pub component: String,
    /// New configuration; the current one is kept when absent.
    #[serde(default)]
    pub config: Option<String>,
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

type Reply = Result<Json<Vec<DeploymentInfo>>, ApiError>;

/// Every deployment, in deployment order.
#[utoipa::path(get, path = "/v1/deployments", tag = "deployments",
    responses((status = 200, description = "Every deployment", body = Vec<DeploymentInfo>), Refusals))]
pub(super) async fn list(State(s): State<AppState>) -> Reply {
    Ok(Json(s.service.command(Command::List).await?))
}

/// Deploys a component with its budget and grants; answers once it runs.
#[utoipa::path(post, path = "/v1/deployments", tag = "deployments", request_body = DeployRequest,
    responses(
        (status = 200, description = "Deployed: every deployment", body = Vec<DeploymentInfo>),
        (status = 409, description = "The name is taken", body = ErrorBody),
        Refusals, BodyRefusals))]
pub(super) async fn deploy(State(s): State<AppState>, Body(req): Body<DeployRequest>) -> Reply {
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

/// Replaces a deployment's code between two events.
#[utoipa::path(post, path = "/v1/deployments/{name}/swap", tag = "deployments", request_body = SwapRequest,
    params(("name" = String, Path, description = "The deployment")),
    responses(
        (status = 200, description = "Swapped: every deployment", body = Vec<DeploymentInfo>),
        (status = 404, description = "No such deployment", body = ErrorBody),
        Refusals, BodyRefusals))]
pub(super) async fn swap(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Body(req): Body<SwapRequest>,
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

/// The answers of an action on a named deployment.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum ActionAnswers {
    /// Done: every deployment as it is after it.
    #[response(status = 200)]
    Done(Vec<DeploymentInfo>),
    /// No such deployment.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The deployment cannot do it now (no previous version to roll back to, for one).
    #[response(status = 422)]
    Unprocessable(ErrorBody),
}

/// Switches a deployment back to its previous version.
#[utoipa::path(post, path = "/v1/deployments/{name}/rollback", tag = "deployments",
    params(("name" = String, Path, description = "The deployment")),
    responses(ActionAnswers, Refusals))]
pub(super) async fn rollback(State(s): State<AppState>, Path(name): Path<String>) -> Reply {
    Ok(Json(s.service.command(Command::Rollback { name }).await?))
}

/// Removes a deployment: its orders are cancelled, its orders, fills and equity curve stay
/// readable; its positions are not closed.
#[utoipa::path(delete, path = "/v1/deployments/{name}", tag = "deployments",
    params(("name" = String, Path, description = "The deployment")),
    responses(ActionAnswers, Refusals))]
pub(super) async fn remove(State(s): State<AppState>, Path(name): Path<String>) -> Reply {
    Ok(Json(s.service.command(Command::Remove { name }).await?))
}

/// Stops a deployment; its open orders are cancelled.
#[utoipa::path(post, path = "/v1/deployments/{name}/halt", tag = "deployments",
    params(("name" = String, Path, description = "The deployment")),
    responses(ActionAnswers, Refusals))]
pub(super) async fn halt(State(s): State<AppState>, Path(name): Path<String>) -> Reply {
    Ok(Json(s.service.command(Command::Halt { name }).await?))
}

/// Restarts a halted deployment's current version.
#[utoipa::path(post, path = "/v1/deployments/{name}/resume", tag = "deployments",
    params(("name" = String, Path, description = "The deployment")),
    responses(ActionAnswers, Refusals))]
pub(super) async fn resume(State(s): State<AppState>, Path(name): Path<String>) -> Reply {
    Ok(Json(s.service.command(Command::Resume { name }).await?))
}
