//! The values alert rules watch, read off the risk report, the deployment list, the live
//! feeds' counters and the journal.

use super::rules::{AlertMetric, Sample};
use crate::engine::{DeploymentInfo, RiskReport, Status};
use crate::feeds::binance::ws::FeedCounters;
use crate::risk::TradingState;
use std::collections::BTreeMap;

/// When each live feed was first watched: a feed that has received nothing is silent since.
#[derive(Debug, Default)]
pub struct FeedSilence {
    first_seen: BTreeMap<String, i64>,
}

impl FeedSilence {
    /// Seconds since `symbol`'s feed last received a message (at `received_ms`, 0 for never),
    /// or since it was first watched, as of `now_ms`.
    fn seconds(&mut self, symbol: &str, received_ms: i64, now_ms: i64) -> f64 {
        let first = *self.first_seen.entry(symbol.to_string()).or_insert(now_ms);
        (now_ms - received_ms.max(first)) as f64 / 1e3
    }
}

/// What the service looks like now, for the alert rules.
pub struct Readings<'a> {
    /// The risk report.
    pub risk: &'a RiskReport,
    /// The deployments.
    pub deployments: &'a [DeploymentInfo],
    /// Every live feed's counters.
    pub feeds: &'a [(String, FeedCounters)],
    /// Journal entries not yet written.
    pub journal_backlog: u64,
    /// Retraining's status, when the service retrains.
    pub training: Option<&'a crate::learning::retrain::TrainingStatus>,
}

/// Every metric the rules can watch, by subject, at `now_ms`.
pub fn samples(r: &Readings<'_>, silence: &mut FeedSilence, now_ms: i64) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut push = |metric, subject: Option<&str>, value: f64| {
        out.push(Sample {
            metric,
            subject: subject.map(String::from),
            value,
        })
    };
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    push(
        AlertMetric::Halted,
        None,
        flag(r.risk.account.state == TradingState::Halted),
    );
    for d in r.deployments {
        let stopped = matches!(d.status, Status::Halted(_));
        let risk = r.risk.deployments.iter().find(|x| x.name == d.name);
        let halted = stopped || risk.is_some_and(|x| x.state.state == TradingState::Halted);
        let name = Some(d.name.as_str());
        push(AlertMetric::Halted, name, flag(halted));
        push(AlertMetric::Equity, name, d.equity);
        push(AlertMetric::CpuShare, name, d.cpu_share);
        if let Some(x) = risk {
            push(AlertMetric::Drawdown, name, x.drawdown);
            if let Some(var) = x.var {
                push(AlertMetric::Var, name, var);
                if let Some(limit) = x.max_var.filter(|l| *l > 0.0) {
                    push(AlertMetric::VarUse, name, var / limit);
                }
            }
        }
    }
    for (symbol, c) in r.feeds {
        let name = Some(symbol.as_str());
        push(
            AlertMetric::FeedSilenceSeconds,
            name,
            silence.seconds(symbol, c.received_ms, now_ms),
        );
        push(AlertMetric::FeedLagSeconds, name, c.lag_ms as f64 / 1e3);
    }
    push(AlertMetric::JournalBacklog, None, r.journal_backlog as f64);
    if let Some(t) = r.training {
        if let Some(age) = t.model_age_hours {
            push(AlertMetric::ModelAgeHours, None, age);
        }
        // The running version's models.
        for m in t
            .live
            .models
            .iter()
            .filter(|m| Some(m.version) == t.running_version)
        {
            if m.validation_accuracy.is_some() {
                push(AlertMetric::ModelDrift, Some(&m.model), flag(m.drifting));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::rules::{AlertRule, AlertState, Evaluator, Severity};
    use super::*;
    use serde_json::json;

    /// Deployment `a` 30 % below its peak with a VaR of 5 % against a 2 % limit, `b` well.
    fn readings() -> (RiskReport, Vec<DeploymentInfo>) {
        let active = json!({"state": "active", "reason": "", "since": 0});
        let risk = |name: &str, drawdown: f64, var: f64| {
            json!({"name": name, "state": active, "equity": 1000.0 * (1.0 - drawdown),
                   "peak_equity": 1000.0, "drawdown": drawdown, "var": var, "max_var": 0.02,
                   "gross_exposure": 0.0})
        };
        let report = json!({"account": active, "limits": {},
                            "deployments": [risk("a", 0.3, 0.05), risk("b", 0.01, 0.01)]});
        let info = |name: &str| {
            json!({"name": name, "world": "strategy", "status": "running", "hash": "h",
                   "previous_hash": null, "delivered": 1, "equity": 700.0, "open_orders": 0})
        };
        (
            serde_json::from_value(report).unwrap(),
            serde_json::from_value(json!([info("a"), info("b")])).unwrap(),
        )
    }

    #[test]
    fn drawdown_and_a_var_over_its_limit_fire_their_rules_for_that_deployment_only() {
        let (risk, deployments) = readings();
        let now = Readings {
            risk: &risk,
            deployments: &deployments,
            feeds: &[],
            journal_backlog: 0,
            training: None,
        };
        let taken = samples(&now, &mut FeedSilence::default(), 0);
        let value = |metric, subject: &str| {
            taken
                .iter()
                .find(|s| s.metric == metric && s.subject.as_deref() == Some(subject))
                .map(|s| s.value)
        };
        assert_eq!(value(AlertMetric::Drawdown, "a"), Some(0.3));
        assert_eq!(value(AlertMetric::VarUse, "a"), Some(2.5));
        assert_eq!(value(AlertMetric::VarUse, "b"), Some(0.5));
        let rule = |name: &str, metric, above| AlertRule {
            name: name.into(),
            metric,
            above: Some(above),
            below: None,
            for_seconds: 0.0,
            severity: Severity::Critical,
            subject: None,
        };
        let mut rules = Evaluator::new(vec![
            rule("drawdown", AlertMetric::Drawdown, 0.2),
            rule("var-breach", AlertMetric::VarUse, 1.0),
        ]);
        let fired = rules.observe(&taken, 0);
        let fired: Vec<(&str, &str, AlertState)> = fired
            .iter()
            .map(|e| (e.rule.as_str(), e.subject.as_deref().unwrap(), e.state))
            .collect();
        assert_eq!(
            fired,
            vec![
                ("drawdown", "a", AlertState::Firing),
                ("var-breach", "a", AlertState::Firing)
            ]
        );
    }

    #[test]
    fn the_running_versions_drift_and_the_models_age_are_sampled() {
        use crate::inference::LiveAccuracy;
        let (risk, deployments) = readings();
        let live = |version, model: &str, validation, drifting| LiveAccuracy {
            version,
            model: model.into(),
            validation_accuracy: validation,
            drifting,
            ..LiveAccuracy::default()
        };
        let mut training = crate::learning::retrain::TrainingStatus {
            model_age_hours: Some(30.0),
            running_version: Some(3),
            ..Default::default()
        };
        training.live.models = vec![
            live(4, "ensemble", Some(0.6), false),
            live(3, "ensemble", Some(0.6), true),
            live(3, "logistic", None, false),
            live(2, "ensemble", Some(0.6), false),
        ];
        let now = Readings {
            risk: &risk,
            deployments: &deployments,
            feeds: &[],
            journal_backlog: 0,
            training: Some(&training),
        };
        let taken = samples(&now, &mut FeedSilence::default(), 0);
        let of = |metric| -> Vec<(Option<String>, f64)> {
            taken
                .iter()
                .filter(|s| s.metric == metric)
                .map(|s| (s.subject.clone(), s.value))
                .collect()
        };
        assert_eq!(
            of(AlertMetric::ModelDrift),
            vec![(Some("ensemble".into()), 1.0)],
            "the running version only, and only what has a validation level"
        );
        assert_eq!(of(AlertMetric::ModelAgeHours), vec![(None, 30.0)]);
    }

    #[test]
    fn silence_counts_from_the_last_message() {
        let mut s = FeedSilence::default();
        assert_eq!(s.seconds("BTCUSDT", 900, 1_000), 0.0, "watched from now");
        assert_eq!(s.seconds("BTCUSDT", 900, 3_500), 2.5);
        assert_eq!(s.seconds("BTCUSDT", 4_000, 4_000), 0.0);
        assert_eq!(s.seconds("ETHUSDT", 0, 4_000), 0.0);
        assert_eq!(s.seconds("BTCUSDT", 4_000, 6_000), 2.0);
        assert_eq!(
            s.seconds("ETHUSDT", 0, 6_000),
            2.0,
            "never received: since watched"
        );
    }
}
