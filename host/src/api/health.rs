//! Liveness, readiness, the Prometheus metrics and the alerts.

use super::{AppState, Refusals};
use crate::engine::service::Command;
use crate::monitor::alerts::AlertList;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Liveness: the process answers.
#[utoipa::path(get, path = "/v1/health", tag = "service", security(()),
    responses((status = 200, description = "Alive", body = String, content_type = "text/plain")))]
pub(super) async fn health() -> &'static str {
    "ok"
}

/// Whether the service can do its work.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct Readiness {
    /// All of the below.
    pub ready: bool,
    /// The engine answers.
    pub engine: bool,
    /// The journal's writer runs and its backlog is under 100,000 entries.
    pub journal: bool,
    /// Every live feed has received a message (true for a replayed market).
    pub feeds: bool,
    /// What is not ready.
    pub problems: Vec<String>,
}

/// Most journal entries queued before the service calls itself not ready.
const READY_BACKLOG: usize = 100_000;

/// Readiness: the engine answers, the journal is writable and every live feed has data.
#[utoipa::path(get, path = "/v1/ready", tag = "service", security(()),
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "Not ready, with the problems", body = Readiness)))]
pub(super) async fn ready(State(s): State<AppState>) -> Response {
    let mut problems = Vec::new();
    let engine = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        s.service.command(Command::List),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    if !engine {
        problems.push("the engine does not answer within 2 s".to_string());
    }
    let backlog = s.metrics.journal_backlog();
    let journal = (s.journal_alive)() && backlog < READY_BACKLOG;
    if !journal {
        problems.push(format!(
            "the journal is not writable (writer running: {}, backlog {backlog} entries)",
            (s.journal_alive)()
        ));
    }
    let mut feeds = true;
    if let Some(f) = &s.feeds {
        for (symbol, c) in f.counters() {
            if c.messages == 0 {
                feeds = false;
                problems.push(format!("feed {symbol} has received nothing yet"));
            }
        }
    }
    let readiness = Readiness {
        ready: problems.is_empty(),
        engine,
        journal,
        feeds,
        problems,
    };
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness)).into_response()
}

/// Every metric in the OpenMetrics text format Prometheus scrapes.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses(
        (status = 200, description = "The metrics", body = String,
         content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        Refusals))]
pub(super) async fn metrics(State(s): State<AppState>) -> Response {
    if let Some(feeds) = &s.feeds {
        s.metrics.record_feeds(&feeds.counters());
    }
    s.metrics.record_inference(&s.models.status());
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

/// The alerts firing now, the latest firings and resolutions, and the rules.
#[utoipa::path(get, path = "/v1/alerts", tag = "service",
    responses((status = 200, description = "The alerts", body = AlertList), Refusals))]
pub(super) async fn alerts(State(s): State<AppState>) -> Json<AlertList> {
    Json(s.alerts.list())
}
