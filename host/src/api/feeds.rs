//! The live feeds: their counters and connections; following, changing and dropping symbols.

use super::{ApiError, AppState, Body, BodyRefusals, ErrorBody, Refusals};
use crate::feeds::binance::ws::{ConnectionCounters, FeedCounters};
use crate::feeds::follow::{FollowError, Followed};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One live feed's counters.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct FeedReport {
    /// The symbol.
    pub symbol: String,
    /// Its counters.
    #[serde(flatten)]
    pub counters: FeedCounters,
}

/// Every live feed's messages, malformed messages, reconnects, rotations, book resyncs,
/// crossed books, late depth diffs, backfilled bars and latest lag (none for a replayed
/// market).
#[utoipa::path(get, path = "/v1/feeds", tag = "feeds",
    responses((status = 200, description = "Every live feed", body = Vec<FeedReport>), Refusals))]
pub(super) async fn counters(State(s): State<AppState>) -> Json<Vec<FeedReport>> {
    let counters = s.feeds.as_ref().map(|f| f.counters()).unwrap_or_default();
    Json(
        counters
            .into_iter()
            .map(|(symbol, counters)| FeedReport { symbol, counters })
            .collect(),
    )
}

/// Every WebSocket connection the feeds share, with its symbols, streams, messages, malformed
/// messages that named no stream, reconnects and rotations.
#[utoipa::path(get, path = "/v1/feeds/connections", tag = "feeds",
    responses((status = 200, description = "Every connection", body = Vec<ConnectionCounters>), Refusals))]
pub(super) async fn connections(State(s): State<AppState>) -> Json<Vec<ConnectionCounters>> {
    match &s.feeds {
        Some(f) => Json(f.connections().await),
        None => Json(Vec::new()),
    }
}

/// Body of `POST /v1/feeds`.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowRequest {
    /// The symbol to follow, e.g. `ETHUSDT`.
    pub symbol: String,
}

impl From<FollowError> for ApiError {
    fn from(e: FollowError) -> Self {
        let status = match &e {
            FollowError::Already(_) => StatusCode::CONFLICT,
            FollowError::NotFollowed(_) => StatusCode::NOT_FOUND,
            FollowError::Exchange(_) | FollowError::Streams { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
        };
        ApiError(status, e.to_string())
    }
}

fn live_feeds(s: &AppState) -> Result<&Arc<Followed>, ApiError> {
    s.feeds.as_ref().ok_or_else(|| {
        ApiError(
            StatusCode::CONFLICT,
            "the market is a replay: there are no live feeds to change".into(),
        )
    })
}

/// The answers of a change of the feeds.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum ChangeAnswers {
    /// Done: every feed's counters.
    #[response(status = 200)]
    Done(Vec<FeedReport>),
    /// The symbol is not followed.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The market is a replay, or the symbol is already followed.
    #[response(status = 409)]
    Conflict(ErrorBody),
}

/// Starts following a symbol the exchange lists.
#[utoipa::path(post, path = "/v1/feeds", tag = "feeds", request_body = FollowRequest,
    responses(ChangeAnswers, Refusals, BodyRefusals))]
pub(super) async fn follow(
    State(s): State<AppState>,
    Body(req): Body<FollowRequest>,
) -> Result<Json<Vec<FeedReport>>, ApiError> {
    live_feeds(&s)?.follow(&req.symbol).await?;
    Ok(counters(State(s)).await)
}

/// Body of `PUT /v1/feeds/{symbol}/streams`: stream kinds to add and to remove.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamsRequest {
    /// Kinds to subscribe: `aggTrade`, `trade`, `bookTicker`, `depth@100ms`.
    #[serde(default)]
    pub subscribe: Vec<String>,
    /// Kinds to unsubscribe.
    #[serde(default)]
    pub unsubscribe: Vec<String>,
}

/// Changes a followed symbol's streams on its open connection; answers with every feed's
/// counters (each with its streams).
#[utoipa::path(put, path = "/v1/feeds/{symbol}/streams", tag = "feeds", request_body = StreamsRequest,
    params(("symbol" = String, Path, description = "The symbol")),
    responses(ChangeAnswers, Refusals, BodyRefusals))]
pub(super) async fn change_streams(
    State(s): State<AppState>,
    Path(symbol): Path<String>,
    Body(req): Body<StreamsRequest>,
) -> Result<Json<Vec<FeedReport>>, ApiError> {
    live_feeds(&s)?
        .change_streams(&symbol, req.subscribe, req.unsubscribe)
        .await?;
    Ok(counters(State(s)).await)
}

/// Stops following a symbol.
#[utoipa::path(delete, path = "/v1/feeds/{symbol}", tag = "feeds",
    params(("symbol" = String, Path, description = "The symbol")),
    responses(ChangeAnswers, Refusals))]
pub(super) async fn unfollow(
    State(s): State<AppState>,
    Path(symbol): Path<String>,
) -> Result<Json<Vec<FeedReport>>, ApiError> {
    live_feeds(&s)?.unfollow(&symbol).await?;
    Ok(counters(State(s)).await)
}
