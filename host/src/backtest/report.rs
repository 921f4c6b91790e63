//! What a backtest reports: every order change, every fill, each strategy's equity curve and
//! metrics, and the same for all strategies together.

use crate::engine::Status;
use crate::model::{Amount, ExecutionType, Fill, OrderType, OrderUpdate, TimestampMs, Trigger};
use crate::monitor::{EquityPoint, Metrics, measure};
use serde::Serialize;
use std::sync::Arc;

/// One change of an order, flattened for reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OrderRecord {
    /// Event time.
    pub time: TimestampMs,
    /// The deployment.
    pub deployment: String,
    /// Host order id.
    pub order_id: u64,
    /// The strategy's id.
    pub client_id: u64,
    /// Symbol name.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Binance's type name.
    pub order_type: &'static str,
    /// Limit price, if any.
    pub price: Option<String>,
    /// Stop (or trailing activation) price, if any.
    pub stop_price: Option<String>,
    /// Trailing delta in basis points, if any.
    pub trailing_delta: Option<u32>,
    /// Time in force, for limit types.
    pub time_in_force: Option<String>,
    /// Base quantity asked (or none for a quote amount).
    pub quantity: Option<String>,
    /// Quote amount asked, for a market order by quote.
    pub quote_quantity: Option<String>,
    /// What happened.
    pub execution: ExecutionType,
    /// The status after it.
    pub status: crate::model::OrderStatus,
    /// Base quantity filled so far.
    pub filled: String,
    /// Quote quantity filled so far.
    pub filled_quote: String,
    /// For a fill: its trade id, price, quantity, fee and liquidity side.
    pub fill: Option<FillRecord>,
    /// For a refusal: the rule, as `filter:LOT_SIZE` or `max-position`.
    pub reject_rule: Option<String>,
    /// For a refusal: the sentence with the numbers.
    pub reject_message: Option<String>,
}

/// One fill, for reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FillRecord {
    /// Event time.
    pub time: TimestampMs,
    /// The deployment.
    pub deployment: String,
    /// Host order id.
    pub order_id: u64,
    /// The venue's trade id.
    pub trade_id: u64,
    /// Symbol name.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Execution price.
    pub price: String,
    /// Base quantity.
    pub quantity: String,
    /// Quote quantity.
    pub quote_quantity: String,
    /// Fee in the quote asset.
    pub fee: String,
    /// `maker` or `taker`.
    pub liquidity: crate::model::Liquidity,
}

impl FillRecord {
    fn of(fill: &Fill, symbol: &str) -> Self {
        FillRecord {
            time: fill.time,
            deployment: fill.owner.to_string(),
            order_id: fill.order_id,
            trade_id: fill.trade_id,
            symbol: symbol.to_string(),
            side: side(fill.side),
            price: fill.price.to_string(),
            quantity: fill.quantity.to_string(),
            quote_quantity: fill.quote_quantity.to_string(),
            fee: fill.fee.to_string(),
            liquidity: fill.liquidity,
        }
    }
}

fn side(side: crate::model::Side) -> String {
    format!("{side:?}").to_lowercase()
}

impl OrderRecord {
    /// The record of `update` of a symbol named `symbol`.
    pub fn of(update: &OrderUpdate, symbol: &str) -> Self {
        let r = &update.request;
        let (stop_price, trailing_delta) = match r.order_type.trigger() {
            Some(Trigger::Price(p)) => (Some(p.to_string()), None),
            Some(Trigger::Trailing {
                delta_bps,
                activation,
            }) => (activation.map(|p| p.to_string()), Some(delta_bps)),
            None => (None, None),
        };
        let (quantity, quote_quantity) = match r.amount {
            Amount::Base(q) => (Some(q.to_string()), None),
            Amount::Quote(q) => (None, Some(q.to_string())),
        };
        OrderRecord {
            time: update.time,
            deployment: update.owner.to_string(),
            order_id: update.order_id,
            client_id: update.client_id,
            symbol: symbol.to_string(),
            side: side(r.side),
            order_type: r.order_type.name(),
            price: r.order_type.limit_price().map(|p| p.to_string()),
            stop_price,
            trailing_delta,
            time_in_force: match r.order_type {
                OrderType::LimitMaker { .. } => None,
                t => t.time_in_force().map(|t| format!("{t:?}").to_uppercase()),
            },
            quantity,
            quote_quantity,
            execution: update.execution,
            status: update.status,
            filled: update.filled.to_string(),
            filled_quote: update.filled_quote.to_string(),
            fill: update.fill.as_ref().map(|f| FillRecord::of(f, symbol)),
            reject_rule: update.reject.as_ref().map(|r| r.code.rule()),
            reject_message: update.reject.as_ref().map(|r| r.message.clone()),
        }
    }
}

/// One strategy's results.
#[derive(Clone, Debug, Serialize)]
pub struct DeploymentReport {
    /// Its name.
    pub name: String,
    /// Running at the end, or halted with the reason.
    #[serde(flatten)]
    pub status: Status,
    /// Its metrics.
    pub metrics: Metrics,
    /// Its equity curve.
    pub equity: Vec<EquityPoint>,
}

/// All strategies together.
#[derive(Clone, Debug, Serialize)]
pub struct TotalReport {
    /// The metrics of the summed equity and all fills.
    pub metrics: Metrics,
    /// The summed equity curve.
    pub equity: Vec<EquityPoint>,
}

/// What a backtest produced.
#[derive(Clone, Debug, Serialize)]
pub struct BacktestReport {
    /// Market events replayed.
    pub events: usize,
    /// Each deployment's status (optimizers included).
    pub statuses: Vec<(String, Status)>,
    /// Each strategy's results.
    pub deployments: Vec<DeploymentReport>,
    /// All strategies together.
    pub total: TotalReport,
    /// Every change of every order, in order.
    pub orders: Vec<OrderRecord>,
    /// Every fill, in order.
    pub fills: Vec<FillRecord>,
    /// Every parent order the strategies worked by execution algorithms, with its cost
    /// analysis (shortfall against the arrival mid, VWAP slippage, fees, fill ratio).
    pub algos: Vec<crate::execution::algo::AlgoView>,
    /// The run's signals (the strategies' and the host's detectors') and their quality.
    pub signals: SignalsReport,
}

/// What the run's signals turned out to be.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SignalsReport {
    /// Signals whose horizon passed within the run.
    pub signals: usize,
    /// Signals whose horizon had not passed when the run ended.
    pub pending: usize,
    /// Their quality per source x kind x symbol, and each optimizer's skill.
    pub quality: crate::signals::quality::QualityReport,
    /// Each measured signal with its outcome, in the order the outcomes arrived.
    pub outcomes: Vec<crate::signals::outcome::Outcome>,
}

impl BacktestReport {
    /// The deployments that were halted, with the reason.
    pub fn halted(&self) -> impl Iterator<Item = (&str, &str)> {
        self.statuses.iter().filter_map(|(n, s)| match s {
            Status::Halted(reason) => Some((n.as_str(), reason.as_str())),
            Status::Running => None,
        })
    }
}

/// Puts a report together from the run's results.
pub(super) fn assemble(
    traders: &[String],
    initial: &[f64],
    curves: Vec<Vec<EquityPoint>>,
    statuses: Vec<(String, Status)>,
    updates: Vec<(OrderUpdate, Arc<str>)>,
    events: usize,
    algos: Vec<crate::execution::algo::AlgoView>,
) -> BacktestReport {
    let fills: Vec<(Fill, Arc<str>)> = updates
        .iter()
        .filter_map(|(u, s)| u.fill.clone().map(|f| (f, s.clone())))
        .collect();
    let deployments: Vec<DeploymentReport> = traders
        .iter()
        .zip(initial)
        .zip(&curves)
        .map(|((name, &start), curve)| {
            let own: Vec<Fill> = fills
                .iter()
                .filter(|(f, _)| &*f.owner == name)
                .map(|(f, _)| f.clone())
                .collect();
            DeploymentReport {
                name: name.clone(),
                status: statuses
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(Status::Running, |(_, s)| s.clone()),
                metrics: measure(start, curve, &own),
                equity: curve.clone(),
            }
        })
        .collect();
    let total_curve: Vec<EquityPoint> = curves.first().map_or_else(Vec::new, |first| {
        first
            .iter()
            .enumerate()
            .map(|(i, p)| EquityPoint {
                time: p.time,
                equity: curves.iter().map(|c| c[i].equity).sum(),
            })
            .collect()
    });
    let all_fills: Vec<Fill> = fills.iter().map(|(f, _)| f.clone()).collect();
    BacktestReport {
        events,
        statuses,
        total: TotalReport {
            metrics: measure(initial.iter().sum(), &total_curve, &all_fills),
            equity: total_curve,
        },
        deployments,
        orders: updates.iter().map(|(u, s)| OrderRecord::of(u, s)).collect(),
        fills: fills.iter().map(|(f, s)| FillRecord::of(f, s)).collect(),
        algos,
        signals: SignalsReport::default(),
    }
}
