//! The values alert rules watch, read off the risk report, the deployment list, the live
//! feeds' counters and the journal.

use super::rules::{AlertMetric, Sample};
use crate::engine::{DeploymentInfo, RiskReport, Status};
use crate::feeds::binance::ws::FeedCounters;
use crate::risk::TradingState;
use std::collections::BTreeMap;

/// When each live feed last received a message, to measure its silence.
#[derive(Debug, Default)]
pub struct FeedSilence {
    last: BTreeMap<String, (u64, i64)>,
}

impl FeedSilence {
    /// Seconds since `symbol`'s message count last moved, as of `now_ms`.
    fn seconds(&mut self, symbol: &str, messages: u64, now_ms: i64) -> f64 {
        let entry = self
            .last
            .entry(symbol.to_string())
            .or_insert((messages, now_ms));
        if entry.0 != messages {
            *entry = (messages, now_ms);
        }
        (now_ms - entry.1) as f64 / 1e3
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
    pub journal_backlog: usize,
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
            silence.seconds(symbol, c.messages, now_ms),
        );
        push(AlertMetric::FeedLagSeconds, name, c.lag_ms as f64 / 1e3);
    }
    push(AlertMetric::JournalBacklog, None, r.journal_backlog as f64);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_counts_from_the_last_message() {
        let mut s = FeedSilence::default();
        assert_eq!(s.seconds("BTCUSDT", 10, 1_000), 0.0);
        assert_eq!(s.seconds("BTCUSDT", 10, 3_500), 2.5);
        assert_eq!(s.seconds("BTCUSDT", 11, 4_000), 0.0);
        assert_eq!(s.seconds("ETHUSDT", 0, 4_000), 0.0);
        assert_eq!(s.seconds("BTCUSDT", 11, 6_000), 2.0);
    }
}
