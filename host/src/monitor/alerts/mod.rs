//! Alerts: rules from the configuration (`[alerts]`), evaluated once a period against the
//! service's readings; each firing and resolution goes to the log, to the alert list the API
//! and the dashboard read (with a live stream), and to the webhooks.

mod rules;
mod sample;
mod webhook;

pub use rules::{AlertEvent, AlertMetric, AlertRule, AlertState, Evaluator, Sample, Severity};
pub use sample::{FeedSilence, Readings, samples};
pub use webhook::Webhooks;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::broadcast;

/// Events kept for the alert list.
const RECENT: usize = 200;

/// The `[alerts]` section.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertConfig {
    /// URLs every alert is POSTed to as JSON.
    pub webhooks: Vec<String>,
    /// Attempts per webhook and event (the pause doubles from 250 ms between them).
    pub attempts: u32,
    /// How often the rules are evaluated, in milliseconds.
    pub evaluate_ms: u64,
    /// The rules.
    pub rules: Vec<AlertRule>,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            webhooks: Vec::new(),
            attempts: 6,
            evaluate_ms: 1_000,
            rules: Vec::new(),
        }
    }
}

impl AlertConfig {
    /// Checks every rule and URL, naming the first that is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let mut names = std::collections::HashSet::new();
        for rule in &self.rules {
            rule.validate()?;
            if !names.insert(&rule.name) {
                return Err(format!("alert {:?} is named twice", rule.name));
            }
        }
        for url in &self.webhooks {
            let parsed = reqwest::Url::parse(url).map_err(|e| format!("webhook {url:?}: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("webhook {url:?}: use an http or https URL"));
            }
        }
        if self.evaluate_ms == 0 || self.attempts == 0 {
            return Err("alerts.evaluate_ms and alerts.attempts must be at least 1".into());
        }
        Ok(())
    }
}

/// The alerts firing now and the latest changes.
#[derive(utoipa::ToSchema, Clone, Debug, Default, Serialize, Deserialize)]
pub struct AlertList {
    /// Firing now, by rule and subject.
    pub firing: Vec<AlertEvent>,
    /// The latest firings and resolutions, newest first.
    pub recent: Vec<AlertEvent>,
    /// The rules.
    pub rules: Vec<AlertRule>,
}

/// Where alerts go: the list, its live stream, the log and the webhooks.
#[derive(Debug)]
pub struct AlertCenter {
    evaluator: Mutex<Evaluator>,
    firing: Mutex<BTreeMap<String, AlertEvent>>,
    recent: Mutex<VecDeque<AlertEvent>>,
    live: broadcast::Sender<AlertEvent>,
    webhooks: Webhooks,
}

impl AlertCenter {
    /// A center evaluating `config`'s rules (validated) and delivering to its webhooks; starts
    /// the delivery tasks on the current runtime.
    pub fn new(config: &AlertConfig) -> Self {
        AlertCenter {
            evaluator: Mutex::new(Evaluator::new(config.rules.clone())),
            firing: Mutex::new(BTreeMap::new()),
            recent: Mutex::new(VecDeque::new()),
            live: broadcast::channel(256).0,
            webhooks: Webhooks::start(&config.webhooks, config.attempts),
        }
    }

    /// Evaluates the rules on `samples` at `now_ms` and delivers what changed.
    pub fn observe(&self, samples: &[Sample], now_ms: i64) {
        let events = self
            .evaluator
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe(samples, now_ms);
        for event in events {
            self.deliver(event);
        }
    }

    fn deliver(&self, event: AlertEvent) {
        match (event.state, event.severity) {
            (AlertState::Resolved, _) | (_, Severity::Info) => {
                tracing::info!(alert = %event.id, state = ?event.state, "{}", event.message)
            }
            (_, Severity::Warning) => tracing::warn!(alert = %event.id, "{}", event.message),
            (_, Severity::Critical) => tracing::error!(alert = %event.id, "{}", event.message),
        }
        {
            let mut firing = self.firing.lock().unwrap_or_else(|p| p.into_inner());
            match event.state {
                AlertState::Firing => drop(firing.insert(event.id.clone(), event.clone())),
                AlertState::Resolved => drop(firing.remove(&event.id)),
            }
        }
        {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            recent.push_front(event.clone());
            recent.truncate(RECENT);
        }
        self.webhooks.send(&event);
        let _ = self.live.send(event);
    }

    /// The alerts firing now, the latest changes and the rules.
    pub fn list(&self) -> AlertList {
        AlertList {
            firing: self
                .firing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .values()
                .cloned()
                .collect(),
            recent: self
                .recent
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .cloned()
                .collect(),
            rules: self
                .evaluator
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .rules()
                .to_vec(),
        }
    }

    /// Every alert change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<AlertEvent> {
        self.live.subscribe()
    }
}
