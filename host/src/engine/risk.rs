//! The engine's side of the risk stage: watching equity on every bar, the operator's trading
//! state changes and the kill switch, each journaled so a restart resumes in the same state,
//! and the report operators read.

use super::Engine;
use super::deployment::DeployError;
use crate::journal::JournalEntry;
use crate::model::{Fixed, TimestampMs};
use crate::risk::{AccountLimits, AccountView, StateRecord, TradingState};
use serde::{Deserialize, Serialize};

/// One deployment's risk, as operators read it.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DeploymentRiskInfo {
    /// The deployment.
    pub name: String,
    /// Its trading state, why and since when.
    pub state: StateRecord,
    /// Equity in its valuation asset (0 while an asset it holds has no price).
    pub equity: f64,
    /// The highest equity seen.
    pub peak_equity: f64,
    /// The fall from the peak, as a fraction.
    pub drawdown: f64,
    /// One-day 95 % VaR of its equity, as a fraction (once 30 bars are seen).
    pub var: Option<f64>,
    /// Its budget's VaR limit, as a fraction of equity.
    #[serde(default)]
    pub max_var: Option<f64>,
    /// Its budget's drawdown limit, as a fraction.
    #[serde(default)]
    pub max_drawdown: Option<f64>,
    /// Its budget's share of wall time its callbacks may take.
    #[serde(default)]
    pub max_cpu_share: f64,
    /// Gross exposure (absolute position notionals).
    pub gross_exposure: f64,
    /// One-bar 95 % VaR and CVaR of its equity returns by each method (once 30 bars are seen).
    #[serde(default)]
    pub bar_var: Vec<VarInfo>,
    /// Its protective stops.
    #[serde(default)]
    pub stops: Vec<StopInfo>,
}

/// One position the kill switch closed, or could not.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FlattenInfo {
    /// The deployment.
    pub deployment: String,
    /// The symbol.
    pub symbol: String,
    /// The closing order's id, if it was placed.
    pub order_id: Option<u64>,
    /// Why it was not.
    pub refused: Option<String>,
}

/// One order of a rebalance, or why it was refused.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RebalanceInfo {
    /// The symbol.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    /// The base quantity.
    pub quantity: f64,
    /// The order's id, if it was accepted.
    pub order_id: Option<u64>,
    /// Why it was refused.
    pub refused: Option<String>,
}

/// The account's and each deployment's risk.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RiskReport {
    /// The whole account's trading state.
    pub account: StateRecord,
    /// The account-wide limits.
    pub limits: AccountLimits,
    /// One-bar VaR and CVaR of the account's equity (every deployment's summed) by each
    /// method, once 30 bars are seen.
    #[serde(default)]
    pub account_var: Vec<VarInfo>,
    /// Each deployment.
    pub deployments: Vec<DeploymentRiskInfo>,
    /// After a kill: open orders cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<usize>,
    /// After a kill with flattening: each position's closing order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flatten: Vec<FlattenInfo>,
    /// After the kill switch on a live exchange: the positions are closed once the exchange
    /// has confirmed the cancels (their orders appear then).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flatten_pending: bool,
    /// After a rebalance: its orders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rebalance: Vec<RebalanceInfo>,
}

/// A VaR estimate of a deployment's or the account's equity.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VarInfo {
    /// `historical`, `parametric`, `ewma` or `cornish-fisher`.
    pub method: String,
    /// The confidence (0.95 or 0.99).
    pub confidence: f64,
    /// Value at risk, a positive loss fraction.
    pub var: f64,
    /// Expected shortfall beyond it.
    pub cvar: f64,
}

/// One-bar 95 % and 99 % VaR and CVaR of `returns` by each method, once there are 30 of them.
fn bar_var(returns: &[f64]) -> Vec<VarInfo> {
    use stratbox_quant::var::{self, Method, RISKMETRICS_LAMBDA};
    if returns.len() < 30 {
        return Vec::new();
    }
    let methods = [
        ("historical", Method::Historical),
        ("parametric", Method::Parametric),
        (
            "ewma",
            Method::Ewma {
                lambda: RISKMETRICS_LAMBDA,
            },
        ),
        ("cornish-fisher", Method::CornishFisher),
    ];
    methods
        .into_iter()
        .flat_map(|m| [(m, 0.95), (m, 0.99)])
        .filter_map(|((name, method), confidence)| {
            let e = var::series(returns, method, confidence, 1).ok()?;
            Some(VarInfo {
                method: name.to_string(),
                confidence,
                var: e.var,
                cvar: e.cvar,
            })
        })
        .collect()
}

/// The returns of every deployment's equity summed, on the bar times all of them sampled.
fn account_returns<'a>(
    samples: impl Iterator<Item = &'a std::collections::VecDeque<(i64, f64)>>,
) -> Vec<f64> {
    let mut totals: std::collections::BTreeMap<i64, (usize, f64)> = Default::default();
    let mut count = 0;
    for deployment in samples {
        count += 1;
        for &(time, equity) in deployment {
            let t = totals.entry(time).or_insert((0, 0.0));
            t.0 += 1;
            t.1 += equity;
        }
    }
    let equity: Vec<f64> = totals
        .values()
        .filter(|(n, _)| *n == count)
        .map(|(_, e)| *e)
        .collect();
    equity
        .windows(2)
        .filter(|w| w[0] > 0.0)
        .map(|w| w[1] / w[0] - 1.0)
        .collect()
}

/// A protective stop, as operators read it.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StopInfo {
    /// The symbol.
    pub symbol: String,
    /// Whether the position is long.
    pub long: bool,
    /// The position's entry price.
    pub entry: f64,
    /// The best price since entry.
    pub best: f64,
    /// The stop price now, if a price rule applies.
    pub level: Option<f64>,
    /// The closing order, while it is open.
    pub order: Option<u64>,
    /// When the position was opened (event time).
    pub opened_at: i64,
}

impl Engine {
    /// Keeps the protective stops on `event` and delivers the closing orders' updates.
    pub(super) fn protect(&mut self, event: &crate::feeds::MarketEvent) {
        if !self.deployments.iter().any(|d| d.budget.stops.is_some()) {
            return;
        }
        let fired = {
            let market = self.env.market();
            self.env.orders().protect(event, &market, self.now)
        };
        for f in fired {
            let name = self
                .deployments
                .iter()
                .find(|d| d.id == f.deployment)
                .map_or_else(String::new, |d| d.name.to_string());
            match &f.order {
                Ok(order) => {
                    tracing::warn!(deployment = %name, symbol = f.symbol, reason = ?f.reason, order, "protective stop fired: closing the position")
                }
                Err(why) => {
                    tracing::error!(deployment = %name, symbol = f.symbol, reason = ?f.reason, refused = %why.message, "protective stop fired but its closing order was refused")
                }
            }
        }
    }

    /// Watches every deployment's equity after a bar closing at `now` (bars of `bar_ms`),
    /// journaling each trading state a breach tightened.
    pub(super) fn monitor_risk(&mut self, now: TimestampMs, bar_ms: i64) {
        let changed = {
            let market = self.env.market();
            self.env.orders().monitor(now, &market, bar_ms)
        };
        self.export_risk();
        self.journal_equity(now);
        for (id, state) in changed {
            if let Some(d) = self.deployments.iter().find(|d| d.id == id) {
                tracing::warn!(deployment = &*d.name, state = state.state.name(), reason = %state.reason, "trading state tightened");
                self.env.journal.record(JournalEntry::TradingState {
                    deployment: Some(d.name.clone()),
                    record: state,
                });
            }
        }
    }

    /// Journals each deployment's equity sampled at `now` (its curve), when the journal keeps
    /// state.
    fn journal_equity(&self, now: TimestampMs) {
        if !self.env.journal.keeps_state() {
            return;
        }
        let orders = self.env.orders();
        for d in &self.deployments {
            let Some(r) = orders.risk().deployment(d.id) else {
                continue;
            };
            if let Some(&(time, equity)) = r.equity_samples.back()
                && time == now
            {
                self.env.journal.record(JournalEntry::Equity {
                    deployment: d.name.clone(),
                    time,
                    equity,
                    drawdown: r.drawdown,
                });
            }
        }
    }

    /// Sets each deployment's equity, PnL, drawdown, VaR, exposure and trading state in the
    /// service's metrics.
    fn export_risk(&self) {
        let Some(m) = &self.metrics else {
            return;
        };
        let market = self.env.market();
        let orders = self.env.orders();
        let risk = orders.risk();
        for d in &self.deployments {
            let (Some(r), Some(account)) = (risk.deployment(d.id), orders.account(d.id)) else {
                continue;
            };
            let l = &d.label;
            let equity = account.equity(&market).map_or(0.0, Fixed::to_f64);
            m.equity.get_or_create(l).set(equity);
            let (mut realized, mut unrealized) = (0.0, 0.0);
            for (symbol, p) in account.positions() {
                realized += p.realized_pnl.to_f64();
                // At the last price, as the account's view marks it.
                if let Some(mark) = market.average_price(symbol, 0, 0) {
                    unrealized += (mark.to_f64() - p.average_price.to_f64()) * p.quantity.to_f64();
                }
            }
            m.realized_pnl.get_or_create(l).set(realized);
            m.unrealized_pnl.get_or_create(l).set(unrealized);
            m.drawdown.get_or_create(l).set(r.drawdown);
            m.var.get_or_create(l).set(r.var.unwrap_or(0.0));
            m.gross_exposure
                .get_or_create(l)
                .set(account.gross_exposure(&market).to_f64());
            let state = risk
                .effective_state(d.id)
                .map_or(r.state.state, |s| s.state);
            m.trading_state.get_or_create(l).set(match state {
                TradingState::Active => 0,
                TradingState::Reducing => 1,
                TradingState::Halted => 2,
            });
        }
    }

    /// Sets a deployment's trading state (or with no name, the whole account's).
    pub fn set_trading_state(
        &mut self,
        name: Option<&str>,
        state: TradingState,
        reason: &str,
    ) -> Result<(), DeployError> {
        let record = StateRecord {
            state,
            reason: reason.to_string(),
            since: self.now,
        };
        let deployment = match name {
            Some(name) => {
                let d = &self.deployments[self.find(name)?];
                self.env
                    .orders()
                    .set_state(d.id, state, reason.to_string(), self.now);
                Some(d.name.clone())
            }
            None => {
                self.env
                    .orders()
                    .set_account_state(state, reason.to_string(), self.now);
                None
            }
        };
        tracing::warn!(
            deployment = deployment.as_deref().unwrap_or("(account)"),
            state = state.name(),
            reason,
            "trading state set"
        );
        self.env
            .journal
            .record(JournalEntry::TradingState { deployment, record });
        Ok(())
    }

    /// Restores trading states read back from the store (after a restart), without journaling.
    pub fn restore_trading_state(&mut self, name: Option<&str>, record: StateRecord) {
        let mut orders = self.env.orders();
        match name {
            Some(name) => {
                if let Some(d) = self.deployments.iter().find(|d| &*d.name == name) {
                    orders.set_state(d.id, record.state, record.reason, record.since);
                }
            }
            None => orders.set_account_state(record.state, record.reason, record.since),
        }
    }

    /// The kill switch: the account HALTED, every open order cancelled, and with `flatten` (a
    /// slippage cap) every position closed by marketable orders. The report after it.
    pub fn kill(&mut self, flatten: Option<f64>, reason: &str) -> RiskReport {
        let outcome = {
            let market = self.env.market();
            self.env.orders().kill(self.now, &market, flatten, reason)
        };
        tracing::warn!(reason, cancelled = outcome.cancelled, "kill switch");
        self.env.journal.record(JournalEntry::TradingState {
            deployment: None,
            record: StateRecord {
                state: TradingState::Halted,
                reason: reason.to_string(),
                since: self.now,
            },
        });
        self.deliver_updates();
        let market = self.env.market();
        let flatten = outcome
            .flatten
            .into_iter()
            .map(|(id, symbol, result)| FlattenInfo {
                deployment: self
                    .deployments
                    .iter()
                    .find(|d| d.id == id)
                    .map_or_else(String::new, |d| d.name.to_string()),
                symbol: market
                    .instrument(symbol)
                    .map_or_else(|| symbol.to_string(), |i| i.symbol.to_string()),
                order_id: result.as_ref().ok().copied(),
                refused: result.err().map(|r| r.message),
            })
            .collect();
        drop(market);
        RiskReport {
            cancelled: Some(outcome.cancelled),
            flatten,
            flatten_pending: outcome.flatten_pending,
            ..self.risk_report()
        }
    }

    /// The account's and every deployment's risk now.
    pub fn risk_report(&self) -> RiskReport {
        let market = self.env.market();
        let orders = self.env.orders();
        let risk = orders.risk();
        let deployments = self
            .deployments
            .iter()
            .filter_map(|d| {
                let r = risk.deployment(d.id)?;
                let account = orders.account(d.id);
                Some(DeploymentRiskInfo {
                    name: d.name.to_string(),
                    state: r.state.clone(),
                    equity: account
                        .and_then(|a| a.equity(&market))
                        .map_or(0.0, Fixed::to_f64),
                    peak_equity: r.peak_equity.to_f64(),
                    drawdown: r.drawdown,
                    var: r.var,
                    max_var: r.budget.max_var,
                    max_drawdown: r.budget.max_drawdown,
                    max_cpu_share: r.budget.max_cpu_share,
                    gross_exposure: account.map_or(0.0, |a| a.gross_exposure(&market).to_f64()),
                    bar_var: bar_var(&r.equity_returns()),
                    stops: orders
                        .stops(d.id)
                        .map(|(symbol, s)| StopInfo {
                            symbol: market
                                .instrument(symbol)
                                .map_or_else(|| symbol.to_string(), |i| i.symbol.to_string()),
                            long: s.long,
                            entry: s.entry,
                            best: s.best,
                            level: s.level,
                            order: s.order,
                            opened_at: s.opened_at,
                        })
                        .collect(),
                })
            })
            .collect();
        let account_var = bar_var(&account_returns(
            self.deployments
                .iter()
                .filter_map(|d| risk.deployment(d.id))
                .map(|r| &r.equity_samples),
        ));
        RiskReport {
            account: risk.account().state.clone(),
            limits: risk.account().limits.clone(),
            account_var,
            deployments,
            cancelled: None,
            flatten: Vec::new(),
            flatten_pending: false,
            rebalance: Vec::new(),
        }
    }

    /// Moves deployment `name`'s holdings toward `weights` (symbol name, fraction of its
    /// equity) with market orders through the order path; the report with those orders. Buys
    /// the free balance cannot fund until the sells fill are refused: run it again after.
    pub fn rebalance(
        &mut self,
        name: &str,
        weights: &[(String, f64)],
    ) -> Result<RiskReport, DeployError> {
        let id = self.deployments[self.find(name)?].id;
        let orders = {
            let market = self.env.market();
            let ids =
                weights
                    .iter()
                    .map(|(symbol, w)| {
                        market.symbols().id(symbol).map(|s| (s, *w)).ok_or_else(|| {
                            DeployError::Rebalance(format!("unknown symbol {symbol:?}"))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
            self.env
                .orders()
                .rebalance(id, &ids, self.now, &market)
                .map_err(|r| DeployError::Rebalance(r.message))?
        };
        tracing::info!(deployment = name, orders = orders.len(), "rebalance");
        self.deliver_updates();
        let market = self.env.market();
        let rebalance = orders
            .into_iter()
            .map(|o| RebalanceInfo {
                symbol: market
                    .instrument(o.symbol)
                    .map_or_else(|| o.symbol.to_string(), |i| i.symbol.to_string()),
                side: match o.side {
                    crate::model::Side::Buy => "buy".into(),
                    crate::model::Side::Sell => "sell".into(),
                },
                quantity: o.quantity.to_f64(),
                order_id: o.order.as_ref().ok().copied(),
                refused: o.order.err().map(|r| r.message),
            })
            .collect();
        drop(market);
        Ok(RiskReport {
            rebalance,
            ..self.risk_report()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_var_reports_every_method_once_there_are_enough_returns() {
        let returns: Vec<f64> = (0..40)
            .map(|i| ((i * 37 % 11) as f64 - 5.0) / 1000.0)
            .collect();
        assert!(bar_var(&returns[..29]).is_empty());
        let all = bar_var(&returns);
        let methods: Vec<(&str, f64)> = all
            .iter()
            .map(|v| (v.method.as_str(), v.confidence))
            .collect();
        assert_eq!(methods.len(), 8);
        assert_eq!(methods[0], ("historical", 0.95));
        assert_eq!(methods[7], ("cornish-fisher", 0.99));
        let historical =
            stratbox_quant::var::series(&returns, stratbox_quant::var::Method::Historical, 0.95, 1)
                .unwrap();
        assert_eq!((all[0].var, all[0].cvar), (historical.var, historical.cvar));
    }

    #[test]
    fn the_account_sums_equity_on_the_times_every_deployment_sampled() {
        let a: std::collections::VecDeque<(i64, f64)> = [(1, 100.0), (2, 110.0), (3, 99.0)].into();
        let b: std::collections::VecDeque<(i64, f64)> = [(2, 90.0), (3, 101.0)].into();
        let r = account_returns([&a, &b].into_iter());
        assert_eq!(r.len(), 1);
        assert!((r[0] - (200.0 / 200.0 - 1.0)).abs() < 1e-15);
    }
}
