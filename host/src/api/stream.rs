//! The live stream the dashboard reads: a snapshot of the service every second and every alert
//! as it happens, as server-sent events.

use super::feeds::{self, FeedReport};
use super::{ApiError, AppState, Refusals};
use crate::engine::service::{Command, RiskCommand};
use crate::engine::{AccountSnapshot, DeploymentInfo, RiskReport};
use crate::inference::InferenceStatus;
use crate::monitor::alerts::{AlertEvent, AlertList};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Serialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// The service as the dashboard shows it.
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct Snapshot {
    /// Wall-clock time of the snapshot (ms since the epoch).
    pub time_ms: i64,
    /// The deployments.
    pub deployments: Vec<DeploymentInfo>,
    /// The risk report.
    pub risk: RiskReport,
    /// Every deployment's holdings summed.
    pub account: AccountSnapshot,
    /// The alerts.
    pub alerts: AlertList,
    /// The live feeds.
    pub feeds: Vec<FeedReport>,
    /// The model ensemble.
    pub inference: InferenceStatus,
}

/// Takes a snapshot; an error once the engine has stopped.
async fn snapshot(s: &AppState) -> Result<Snapshot, ApiError> {
    Ok(Snapshot {
        time_ms: crate::model::time::wall_clock_ms(),
        deployments: s.service.command(Command::List).await?,
        risk: s.service.risk(RiskCommand::Report).await?,
        account: s.service.account(None).await?,
        alerts: s.alerts.list(),
        feeds: feeds::counters(State(s.clone())).await.0,
        inference: s.models.status(),
    })
}

/// Server-sent events: `snapshot` (a [`Snapshot`]) at once and every second, `alert` (an
/// [`AlertEvent`]) as each alert fires or resolves. The stream does not end while the service
/// runs.
#[utoipa::path(get, path = "/v1/stream", tag = "service",
    responses(
        (status = 200, description = "`snapshot` and `alert` events", body = Snapshot,
         content_type = "text/event-stream"),
        Refusals))]
pub(super) async fn stream(
    State(s): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let alerts = s.alerts.subscribe();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let events = futures_util::stream::unfold(
        (s, alerts, ticker),
        |(s, mut alerts, mut ticker)| async move {
            let event = tokio::select! {
                _ = ticker.tick() => snapshot_event(&s).await?,
                alert = alerts.recv() => match alert {
                    Ok(alert) => alert_event(&alert),
                    // Fell behind: the next snapshot carries the alert list.
                    Err(RecvError::Lagged(_)) => snapshot_event(&s).await?,
                    Err(RecvError::Closed) => return None,
                },
            };
            Some((Ok(event), (s, alerts, ticker)))
        },
    );
    Sse::new(events).keep_alive(KeepAlive::default())
}

async fn snapshot_event(s: &AppState) -> Option<Event> {
    let snapshot = snapshot(s).await.ok()?;
    Event::default().event("snapshot").json_data(snapshot).ok()
}

fn alert_event(alert: &AlertEvent) -> Event {
    Event::default()
        .event("alert")
        .json_data(alert)
        .unwrap_or_else(|_| Event::default().event("alert"))
}
