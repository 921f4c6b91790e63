//! Tokens: the caller's own (what the dashboard may offer it), and the administrator's
//! endpoints: tokens created with a fresh secret shown once, listed, revoked; the audit log.

use super::auth::{Caller, RateLimit, Scope, TokenInfo, TokenSource, hash_secret, new_secret};
use super::read::{QueryResult, checked};
use super::{ApiError, AppState, Body, BodyRefusals, ErrorBody, Refusals};
use crate::store::{AuditRow, HistoryQuery, Page, TokenRow};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};

use serde::{Deserialize, Serialize};

/// Body of `POST /v1/tokens`.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// Who will hold it: 1 to 64 letters, digits, `-`, `_` or `.`.
    pub name: String,
    /// `read`, `trade` or `admin`.
    pub scope: Scope,
    /// Its own request rate; the service's when absent.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
}

/// A token just created: its secret is shown this once and stored only as a hash.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct CreatedToken {
    /// Its name.
    pub name: String,
    /// Its scope.
    pub scope: Scope,
    /// Its own request rate, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// The bearer secret.
    pub token: String,
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The token the request was made with: its name, scope and origin.
#[utoipa::path(get, path = "/v1/session", tag = "service",
    responses((status = 200, description = "The caller's token", body = TokenInfo), Refusals))]
pub(super) async fn session(Extension(Caller(caller)): Extension<Caller>) -> Json<TokenInfo> {
    Json(caller)
}

/// Every token's name, scope and origin (never a secret or its hash).
#[utoipa::path(get, path = "/v1/tokens", tag = "admin",
    responses((status = 200, description = "Every token", body = Vec<TokenInfo>), Refusals))]
pub(super) async fn list(State(s): State<AppState>) -> Json<Vec<TokenInfo>> {
    Json(s.tokens.list())
}

/// Creates a token; its secret is in the answer only.
#[utoipa::path(post, path = "/v1/tokens", tag = "admin", request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "Created, with its secret", body = CreatedToken),
        (status = 409, description = "The name is taken", body = ErrorBody),
        Refusals, BodyRefusals))]
pub(super) async fn create(
    State(s): State<AppState>,
    Extension(Caller(caller)): Extension<Caller>,
    Body(req): Body<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    if !valid_name(&req.name) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!(
                "token name {:?}: use 1 to 64 letters, digits, '-', '_' or '.'",
                req.name
            ),
        ));
    }
    if let Some(Err(e)) = req.rate_limit.map(|r| r.check()) {
        return Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, e));
    }
    if s.tokens.named(&req.name).is_some() {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("a token named {:?} exists", req.name),
        ));
    }
    let secret = new_secret().map_err(|e| {
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("no randomness for a secret: {e}"),
        )
    })?;
    let row = TokenRow {
        name: req.name.clone(),
        sha256: hash_secret(&secret),
        scope: req.scope.name().to_string(),
        created_by: caller.name,
        created_at_ms: crate::model::time::wall_clock_ms(),
        rate_limit: req.rate_limit,
    };
    if !s.store.add_token(&row).await? {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("a token named {:?} exists", req.name),
        ));
    }
    s.tokens.insert(
        row.sha256,
        TokenInfo {
            name: req.name.clone(),
            scope: req.scope,
            source: TokenSource::Api,
            rate_limit: req.rate_limit,
        },
    );
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            name: req.name,
            scope: req.scope,
            rate_limit: req.rate_limit,
            token: secret,
        }),
    ))
}

/// Revokes a token created through the API.
#[utoipa::path(delete, path = "/v1/tokens/{name}", tag = "admin",
    params(("name" = String, Path, description = "The token's name")),
    responses(
        (status = 200, description = "Revoked: every token left", body = Vec<TokenInfo>),
        (status = 404, description = "No such token", body = ErrorBody),
        (status = 409, description = "The token comes from the configuration file", body = ErrorBody),
        Refusals))]
pub(super) async fn revoke(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    match s.tokens.named(&name) {
        None => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no token named {name:?}"),
        )),
        Some(t) if t.source == TokenSource::Config => Err(ApiError(
            StatusCode::CONFLICT,
            format!("token {name:?} comes from the configuration file: remove it there"),
        )),
        Some(_) => {
            s.store.remove_token(&name).await?;
            s.tokens.remove(&name);
            Ok(Json(s.tokens.list()))
        }
    }
}

/// Operator actions, newest first.
#[utoipa::path(get, path = "/v1/audit", tag = "admin", params(HistoryQuery),
    responses(
        (status = 200, description = "A page of the audit log", body = Page<AuditRow>),
        (status = 400, description = "A filter is unusable", body = ErrorBody),
        Refusals))]
pub(super) async fn audit(
    State(s): State<AppState>,
    q: QueryResult,
) -> Result<Json<Page<AuditRow>>, ApiError> {
    Ok(Json(s.store.audit_page(&checked(q)?).await?))
}
