//! Alert rules and their evaluation: a rule names a metric, a threshold and how long it must be
//! crossed; each series of the metric (a deployment's, a symbol's) fires once when it has been
//! past the threshold that long, and resolves once when it comes back.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an alert is about.
#[derive(
    utoipa::ToSchema,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertMetric {
    /// 1 while a deployment (or, with no deployment, the account) is HALTED or stopped, else 0.
    Halted,
    /// A deployment's fall from its peak equity, as a fraction.
    Drawdown,
    /// A deployment's one-day 95 % VaR, as a fraction of its equity.
    Var,
    /// A deployment's one-day 95 % VaR over its budget's `max_var` (above 1: in breach).
    VarUse,
    /// A deployment's equity, in its valuation asset.
    Equity,
    /// A deployment's share of its CPU window.
    CpuShare,
    /// Seconds since a live feed's last message.
    FeedSilenceSeconds,
    /// A live feed's latest lag behind the exchange, in seconds.
    FeedLagSeconds,
    /// Journal entries not yet written to the store.
    JournalBacklog,
    /// 1 while the running ensemble's live accuracy lies significantly below the accuracy it
    /// had on its held-out days (subject `ensemble`), else 0 (retraining only).
    ModelDrift,
    /// Hours of market time since the training data of the ensemble retraining installed
    /// ended.
    ModelAgeHours,
}

impl AlertMetric {
    /// Its name in rules.
    pub fn name(self) -> &'static str {
        match self {
            AlertMetric::Halted => "halted",
            AlertMetric::Drawdown => "drawdown",
            AlertMetric::Var => "var",
            AlertMetric::VarUse => "var_use",
            AlertMetric::Equity => "equity",
            AlertMetric::CpuShare => "cpu_share",
            AlertMetric::FeedSilenceSeconds => "feed_silence_seconds",
            AlertMetric::FeedLagSeconds => "feed_lag_seconds",
            AlertMetric::JournalBacklog => "journal_backlog",
            AlertMetric::ModelDrift => "model_drift",
            AlertMetric::ModelAgeHours => "model_age_hours",
        }
    }
}

/// How urgent an alert is.
#[derive(
    utoipa::ToSchema,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For the record.
    Info,
    /// Someone should look.
    #[default]
    Warning,
    /// Someone must act now.
    Critical,
}

/// One rule of `[[alerts]]`.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Its name (unique).
    pub name: String,
    /// The metric it watches.
    pub metric: AlertMetric,
    /// Fires when the metric is above this.
    #[serde(default)]
    pub above: Option<f64>,
    /// Fires when the metric is below this.
    #[serde(default)]
    pub below: Option<f64>,
    /// How long the metric must stay past the threshold, in seconds (0: at once).
    #[serde(default)]
    pub for_seconds: f64,
    /// How urgent it is.
    #[serde(default)]
    pub severity: Severity,
    /// Only this deployment's (or symbol's) series; every one when absent.
    #[serde(default)]
    pub subject: Option<String>,
}

impl AlertRule {
    /// Checks the rule, naming what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let name = &self.name;
        match (self.above, self.below) {
            (Some(x), None) | (None, Some(x)) if x.is_finite() => {}
            _ => {
                return Err(format!(
                    "alert {name:?}: give one finite threshold, `above` or `below`"
                ));
            }
        }
        if !(self.for_seconds >= 0.0 && self.for_seconds.is_finite()) {
            return Err(format!("alert {name:?}: for_seconds must be 0 or positive"));
        }
        if name.is_empty() {
            return Err("an alert has an empty name".into());
        }
        Ok(())
    }

    fn crossed(&self, value: f64) -> bool {
        match (self.above, self.below) {
            (Some(t), _) => value > t,
            (_, Some(t)) => value < t,
            _ => false,
        }
    }

    fn threshold(&self) -> f64 {
        self.above.or(self.below).unwrap_or(f64::NAN)
    }
}

/// One value of a metric, for one subject (a deployment, a symbol, or none for the service).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The metric.
    pub metric: AlertMetric,
    /// The deployment or symbol (`None`: the account or the service).
    pub subject: Option<String>,
    /// Its value now.
    pub value: f64,
}

/// Firing or resolved.
#[derive(utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Past its threshold for its duration.
    Firing,
    /// Back within its threshold.
    Resolved,
}

/// A change of an alert: what the log, the dashboard and the webhooks receive.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// Names this firing: the rule, the subject and when it began; its resolution has the same
    /// id, and a receiver that sees an id and state twice can drop the second.
    pub id: String,
    /// The rule.
    pub rule: String,
    /// Firing or resolved.
    pub state: AlertState,
    /// How urgent.
    pub severity: Severity,
    /// The metric.
    pub metric: AlertMetric,
    /// The deployment or symbol.
    pub subject: Option<String>,
    /// The metric's value.
    pub value: f64,
    /// The rule's threshold.
    pub threshold: f64,
    /// When it began to be past the threshold (ms since the epoch).
    pub since_ms: i64,
    /// When this change happened (ms since the epoch).
    pub at_ms: i64,
    /// In words.
    pub message: String,
}

/// Where one series stands against one rule.
#[derive(Clone, Debug)]
struct Track {
    /// Since when it has been past the threshold.
    since_ms: i64,
    /// Whether it fired.
    firing: bool,
}

/// The rules and where every series stands.
#[derive(Debug, Default)]
pub struct Evaluator {
    rules: Vec<AlertRule>,
    tracks: BTreeMap<(usize, Option<String>), Track>,
}

impl Evaluator {
    /// Evaluates `rules` (validated).
    pub fn new(rules: Vec<AlertRule>) -> Self {
        Evaluator {
            rules,
            tracks: BTreeMap::new(),
        }
    }

    /// The rules.
    pub fn rules(&self) -> &[AlertRule] {
        &self.rules
    }

    /// Takes the samples at `now_ms`: the alerts that fired or resolved. A series that is
    /// gone (a removed deployment) resolves.
    pub fn observe(&mut self, samples: &[Sample], now_ms: i64) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        let mut seen = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            for s in samples.iter().filter(|s| {
                s.metric == rule.metric
                    && rule
                        .subject
                        .as_ref()
                        .is_none_or(|want| s.subject.as_ref() == Some(want))
            }) {
                let key = (i, s.subject.clone());
                seen.push(key.clone());
                if !rule.crossed(s.value) {
                    if let Some(track) = self.tracks.remove(&key)
                        && track.firing
                    {
                        events.push(event(rule, s, AlertState::Resolved, track.since_ms, now_ms));
                    }
                    continue;
                }
                let track = self.tracks.entry(key).or_insert(Track {
                    since_ms: now_ms,
                    firing: false,
                });
                let held = (now_ms - track.since_ms) as f64 / 1e3;
                if !track.firing && held >= rule.for_seconds {
                    track.firing = true;
                    events.push(event(rule, s, AlertState::Firing, track.since_ms, now_ms));
                }
            }
        }
        let gone: Vec<_> = self
            .tracks
            .keys()
            .filter(|k| !seen.contains(k))
            .cloned()
            .collect();
        for key in gone {
            if let Some(track) = self.tracks.remove(&key)
                && track.firing
            {
                let rule = &self.rules[key.0];
                let sample = Sample {
                    metric: rule.metric,
                    subject: key.1,
                    value: f64::NAN,
                };
                events.push(event(
                    rule,
                    &sample,
                    AlertState::Resolved,
                    track.since_ms,
                    now_ms,
                ));
            }
        }
        events
    }
}

fn event(rule: &AlertRule, s: &Sample, state: AlertState, since_ms: i64, at_ms: i64) -> AlertEvent {
    let subject = s.subject.as_deref().unwrap_or("service");
    let direction = if rule.above.is_some() {
        "above"
    } else {
        "below"
    };
    let message = match state {
        AlertState::Firing => format!(
            "{}: {} of {subject} is {} ({direction} {}) for {} s",
            rule.name,
            rule.metric.name(),
            s.value,
            rule.threshold(),
            (at_ms - since_ms) / 1000
        ),
        AlertState::Resolved => format!(
            "{}: {} of {subject} is back within {} (was {direction} it for {} s)",
            rule.name,
            rule.metric.name(),
            rule.threshold(),
            (at_ms - since_ms) / 1000
        ),
    };
    AlertEvent {
        id: format!("{}/{subject}/{since_ms}", rule.name),
        rule: rule.name.clone(),
        state,
        severity: rule.severity,
        metric: rule.metric,
        subject: s.subject.clone(),
        value: s.value,
        threshold: rule.threshold(),
        since_ms,
        at_ms,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(for_seconds: f64) -> AlertRule {
        AlertRule {
            name: "dd".into(),
            metric: AlertMetric::Drawdown,
            above: Some(0.1),
            below: None,
            for_seconds,
            severity: Severity::Critical,
            subject: None,
        }
    }

    fn dd(subject: &str, value: f64) -> Sample {
        Sample {
            metric: AlertMetric::Drawdown,
            subject: Some(subject.into()),
            value,
        }
    }

    #[test]
    fn an_alert_fires_once_after_its_duration_and_resolves_once() {
        let mut e = Evaluator::new(vec![rule(2.0)]);
        assert!(e.observe(&[dd("a", 0.2)], 0).is_empty(), "not yet 2 s");
        assert!(e.observe(&[dd("a", 0.2)], 1_000).is_empty());
        let fired = e.observe(&[dd("a", 0.25)], 2_000);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].state, AlertState::Firing);
        assert_eq!(fired[0].id, "dd/a/0");
        assert_eq!(fired[0].value, 0.25);
        assert!(e.observe(&[dd("a", 0.3)], 3_000).is_empty(), "fires once");
        let resolved = e.observe(&[dd("a", 0.05)], 4_000);
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].state, AlertState::Resolved);
        assert_eq!(resolved[0].id, "dd/a/0", "the same id as its firing");
        assert!(e.observe(&[dd("a", 0.05)], 5_000).is_empty());
    }

    #[test]
    fn a_dip_back_restarts_the_clock_and_series_are_separate() {
        let mut e = Evaluator::new(vec![rule(1.0)]);
        e.observe(&[dd("a", 0.2), dd("b", 0.2)], 0);
        // a dips back before its second: it has to start over.
        assert!(e.observe(&[dd("a", 0.0), dd("b", 0.2)], 500).is_empty());
        let fired = e.observe(&[dd("a", 0.2), dd("b", 0.2)], 1_000);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].subject.as_deref(), Some("b"));
        let fired = e.observe(&[dd("a", 0.2), dd("b", 0.2)], 2_000);
        assert_eq!(fired[0].subject.as_deref(), Some("a"));
        assert_eq!(fired[0].since_ms, 1_000);
    }

    #[test]
    fn a_series_that_is_gone_resolves_and_subjects_filter() {
        let mut r = rule(0.0);
        r.subject = Some("a".into());
        let mut e = Evaluator::new(vec![r]);
        let fired = e.observe(&[dd("a", 0.5), dd("b", 0.5)], 0);
        assert_eq!(fired.len(), 1, "only a's series");
        let resolved = e.observe(&[dd("b", 0.5)], 1_000);
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].state, AlertState::Resolved);
    }

    #[test]
    fn rules_need_one_finite_threshold() {
        let mut r = rule(0.0);
        r.below = Some(1.0);
        assert!(r.validate().unwrap_err().contains("one finite threshold"));
        r.above = None;
        r.for_seconds = -1.0;
        assert!(r.validate().unwrap_err().contains("for_seconds"));
        r.for_seconds = 0.0;
        assert!(r.validate().is_ok());
        r.below = Some(f64::NAN);
        assert!(r.validate().is_err());
    }
}
