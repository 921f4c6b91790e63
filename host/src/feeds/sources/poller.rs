//! A poller: fetches one URL every `period`, parses it in the configured format, and emits each
//! value or headline once.

use super::{SourceEvent, fear_greed, fred, news};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::mpsc;

/// The format of a source's answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// alternative.me's Fear & Greed JSON.
    FearGreed,
    /// A FRED CSV download.
    FredCsv,
    /// An RSS 2.0 or Atom feed.
    Feed,
}

/// One source to poll.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollerConfig {
    /// A name for logs and headline sources.
    pub name: String,
    /// The URL.
    pub url: String,
    /// Its format.
    pub format: Format,
    /// Seconds between polls.
    pub every_s: u64,
}

/// Polls one source and remembers what it emitted.
pub struct Poller {
    config: PollerConfig,
    http: reqwest::Client,
    seen: HashSet<String>,
}

fn now_ms() -> i64 {
    crate::model::time::wall_clock_ms()
}

impl Poller {
    /// A poller for `config`.
    pub fn new(config: PollerConfig) -> Self {
        Poller {
            config,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            seen: HashSet::new(),
        }
    }

    /// Fetches and parses once; returns only what was not emitted before.
    pub async fn poll(&mut self) -> Result<Vec<SourceEvent>, String> {
        let name = &self.config.name;
        let response = self
            .http
            .get(&self.config.url)
            .send()
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| format!("{name}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{name}: HTTP {status}"));
        }
        let known_at = now_ms();
        let events: Vec<SourceEvent> = match self.config.format {
            Format::FearGreed => fear_greed::parse_fear_greed(&body, known_at)?
                .into_iter()
                .map(SourceEvent::Observation)
                .collect(),
            Format::FredCsv => fred::parse_fred_csv(&body, known_at)?
                .into_iter()
                .map(SourceEvent::Observation)
                .collect(),
            Format::Feed => news::parse_feed(&body, name, known_at)?
                .into_iter()
                .map(SourceEvent::Headline)
                .collect(),
        };
        Ok(events
            .into_iter()
            .filter(|e| {
                let key = match e {
                    SourceEvent::Observation(o) => {
                        format!("{}/{}/{}", o.source, o.series, o.observed_at)
                    }
                    SourceEvent::Headline(h) => format!("{}/{}", h.source, h.id),
                };
                self.seen.insert(key)
            })
            .collect())
    }

    /// Polls every `every_s` seconds until `out` is dropped; failures are logged and retried
    /// at the next period.
    pub async fn run(mut self, out: mpsc::Sender<SourceEvent>) {
        let mut ticker = tokio::time::interval(Duration::from_secs(self.config.every_s.max(1)));
        loop {
            ticker.tick().await;
            match self.poll().await {
                Ok(events) => {
                    for e in events {
                        if out.send(e).await.is_err() {
                            return;
                        }
                    }
                }
                Err(e) => tracing::warn!("source poll failed: {e}"),
            }
        }
    }
}
