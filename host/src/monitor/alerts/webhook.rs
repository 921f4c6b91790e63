//! Alert delivery to webhooks: each event is POSTed as JSON to every URL, in order, retried with
//! a doubling pause while the receiver fails, and never delivered twice to the same URL.

use super::rules::AlertEvent;
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use tokio::sync::mpsc;

/// First pause before a retry; each next one doubles.
const FIRST_PAUSE: Duration = Duration::from_millis(250);

/// Deliveries remembered per URL to refuse a second one (the oldest are forgotten first).
const REMEMBERED: usize = 10_000;

/// Sends alert events to webhooks from a task per URL.
#[derive(Clone, Debug)]
pub struct Webhooks {
    queues: Vec<mpsc::UnboundedSender<AlertEvent>>,
}

impl Webhooks {
    /// Starts a delivery task for each of `urls`, trying each event `attempts` times.
    pub fn start(urls: &[String], attempts: u32) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let queues = urls
            .iter()
            .map(|url| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(deliver(http.clone(), url.clone(), attempts.max(1), rx));
                tx
            })
            .collect();
        Webhooks { queues }
    }

    /// Queues `event` for every webhook.
    pub fn send(&self, event: &AlertEvent) {
        for queue in &self.queues {
            let _ = queue.send(event.clone());
        }
    }
}

async fn deliver(
    http: reqwest::Client,
    url: String,
    attempts: u32,
    mut events: mpsc::UnboundedReceiver<AlertEvent>,
) {
    let mut delivered: HashSet<(String, super::rules::AlertState)> = HashSet::new();
    let mut order = VecDeque::new();
    while let Some(event) = events.recv().await {
        let key = (event.id.clone(), event.state);
        if delivered.contains(&key) {
            continue;
        }
        let mut pause = FIRST_PAUSE;
        for attempt in 1..=attempts {
            let sent = http
                .post(&url)
                .header("Idempotency-Key", format!("{}/{:?}", event.id, event.state))
                .json(&event)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    delivered.insert(key.clone());
                    order.push_back(key.clone());
                    if order.len() > REMEMBERED
                        && let Some(old) = order.pop_front()
                    {
                        delivered.remove(&old);
                    }
                    break;
                }
                outcome => {
                    let why = match outcome {
                        Ok(r) => format!("answered {}", r.status()),
                        Err(e) => e.to_string(),
                    };
                    if attempt == attempts {
                        tracing::error!(%url, alert = %event.id, "alert not delivered after {attempts} attempts: {why}");
                    } else {
                        tracing::warn!(%url, alert = %event.id, attempt, "alert delivery failed, retrying in {pause:?}: {why}");
                        tokio::time::sleep(pause).await;
                        pause *= 2;
                    }
                }
            }
        }
    }
}
