//! Liveness, readiness, the Prometheus metrics and the alerts.

use super::{AppState, Refusals};
use crate::engine::service::Command;
use crate::feeds::binance::ws::FeedCounters;
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
    /// Every live feed has received a message within the last minute, its streams' silence
    /// limit (true for a replayed market).
    pub feeds: bool,
    /// What is not ready.
    pub problems: Vec<String>,
}

/// Most journal entries queued before the service calls itself not ready.
const READY_BACKLOG: u64 = 100_000;

/// Longest silence of a live feed before the service calls itself not ready: the streams' own
/// silence limit, after which their connection is replaced.
const READY_SILENCE_MS: i64 = 60_000;

/// Readiness: the engine answers, the journal is writable and every live feed is receiving.
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
    let silent = s.feeds.as_ref().map_or_else(Vec::new, |f| {
        silent_feeds(&f.counters(), crate::model::time::wall_clock_ms())
    });
    let feeds = silent.is_empty();
    problems.extend(silent);
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

/// What keeps the live feeds from being ready at `now_ms`: one that has received nothing yet,
/// or nothing for longer than [`READY_SILENCE_MS`].
fn silent_feeds(counters: &[(String, FeedCounters)], now_ms: i64) -> Vec<String> {
    let mut problems = Vec::new();
    for (symbol, c) in counters {
        if c.messages == 0 {
            problems.push(format!("feed {symbol} has received nothing yet"));
        } else if now_ms - c.received_ms > READY_SILENCE_MS {
            let silent = (now_ms - c.received_ms) / 1000;
            problems.push(format!("feed {symbol} has received nothing for {silent} s"));
        }
    }
    problems
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_is_ready_while_it_receives_and_not_once_silent_past_the_limit() {
        let feed = |messages, received_ms| {
            let c = FeedCounters {
                messages,
                received_ms,
                ..FeedCounters::default()
            };
            ("BTCUSDT".to_string(), c)
        };
        let now = 1_000_000;
        assert!(silent_feeds(&[feed(5, now - READY_SILENCE_MS)], now).is_empty());
        assert_eq!(
            silent_feeds(&[feed(0, 0)], now),
            ["feed BTCUSDT has received nothing yet"]
        );
        assert_eq!(
            silent_feeds(&[feed(5, now - 90_000)], now),
            ["feed BTCUSDT has received nothing for 90 s"]
        );
    }
}
