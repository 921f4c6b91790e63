//! `stratbox model evaluate`: the models `stratbox model train` wrote, judged on candles after
//! their training data only, each alone and as the ensemble `inference.json` makes of them:
//! accuracy, log loss, Brier score, calibration, confusion, the information coefficient of the
//! expected return, the same scores against shifted labels (which must come out at chance),
//! and the trading result of a plain rule on the predictions through the backtester (the model
//! follower component on the matching simulator, after fees): return, Sharpe with a bootstrap
//! confidence interval, maximum drawdown, win rate and the deflated Sharpe ratio over the
//! configurations tried.

use super::dataset::{Dataset, DatasetSpec};
use super::judge::{member_probabilities, weighted};
use super::train::{TrainConfig, at_chance, shift};
use crate::backtest::{self, Backtest, Component};
use crate::config::ExecutionConfig;
use crate::features::{FeatureConfig, FeatureEngine};
use crate::feeds::MarketEvent;
use crate::feeds::candles::Candle;
use crate::inference::{InferenceConfig, MemberConfig};
use crate::model::SymbolTable;
use crate::risk::Budget;
use crate::sandbox::{Runtime, SandboxLimits};
use ndarray::{Array2, Axis};
use serde::Serialize;
use std::path::Path;
use stratbox_infer::{Compute, DeviceChoice, default_class_returns};
use stratbox_learn::metrics::{Scores, pearson, spearman};
use stratbox_quant::performance::{
    bootstrap_sharpe_interval, deflated_sharpe, sharpe as period_sharpe,
};

/// How `evaluate` trades and reports.
#[derive(Clone, Debug)]
pub struct EvaluateOptions {
    /// The model follower component (`model_follower.wasm`) that trades the predictions; no
    /// trading results without it.
    pub strategy: Option<Vec<u8>>,
    /// Configurations tried before these (for the deflated Sharpe ratio); at least the
    /// number evaluated here.
    pub trials: Option<usize>,
    /// Fee of both sides as a fraction of notional.
    pub fee: f64,
    /// Seed of the shifted labels and the bootstrap.
    pub seed: u64,
}

/// The trading result of one model's predictions.
#[derive(Clone, Debug, Serialize)]
pub struct TradingResult {
    /// Fills.
    pub trades: usize,
    /// Total return of the equity.
    pub total_return: f64,
    /// Annualised Sharpe ratio of the per-bar returns.
    pub sharpe: f64,
    /// Its 95 % moving-block bootstrap interval (blocks of a label horizon), annualised.
    pub sharpe_interval: (f64, f64),
    /// The probability that the true Sharpe ratio beats what the best of `trials` unskilled
    /// configurations would show (Bailey and López de Prado's deflated Sharpe ratio).
    pub deflated_sharpe: f64,
    /// Largest fall from a peak, as a fraction.
    pub max_drawdown: f64,
    /// Share of closing trades that made money.
    pub win_rate: f64,
    /// Fees paid, in the quote asset.
    pub fees: f64,
}

/// One model's (or the ensemble's) evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct ModelEvaluation {
    /// The member's name, or `ensemble`.
    pub name: String,
    /// Scores of the predictions.
    pub scores: Scores,
    /// Pearson correlation of the expected return (classes weighted by the ensemble's class
    /// returns) with the realised return to each label's end.
    pub ic_pearson: f64,
    /// Its rank (Spearman) correlation.
    pub ic_spearman: f64,
    /// Scores against labels shifted around the sample order.
    pub shifted: Scores,
    /// Whether those come out at chance; when not, the report's numbers are suspect.
    pub shifted_at_chance: bool,
    /// The plain rule's trading result, when a strategy component was given.
    pub trading: Option<TradingResult>,
}

/// What `stratbox model evaluate` reports.
#[derive(Clone, Debug, Serialize)]
pub struct EvaluationReport {
    /// Samples judged (after the training data and a label horizon).
    pub samples: usize,
    /// The first and last judged sample's bar close time.
    pub from_ms: i64,
    /// See `from_ms`.
    pub to_ms: i64,
    /// The last training sample's time, as `report.json` says.
    pub trained_to_ms: i64,
    /// Configurations the deflated Sharpe ratio counts.
    pub trials: usize,
    /// How trades are made: the rule and its settings.
    pub rule: String,
    /// Each model, then the ensemble.
    pub models: Vec<ModelEvaluation>,
}

/// Evaluates the models in `dir` on `series` (symbol name, candles); `progress` gets a line per
/// model.
pub fn evaluate(
    dir: &Path,
    series: &[(String, Vec<Candle>)],
    options: &EvaluateOptions,
    mut progress: impl FnMut(&str),
) -> Result<EvaluationReport, String> {
    let config = TrainConfig::load(&dir.join("train.toml"))?;
    let read = |name: &str| -> Result<String, String> {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let trained: serde_json::Value =
        serde_json::from_str(&read("report.json")?).map_err(|e| format!("report.json: {e}"))?;
    let trained_to_ms = trained["to_ms"]
        .as_i64()
        .ok_or("report.json: no to_ms: not written by `stratbox model train`")?;
    let table: InferenceConfig = serde_json::from_str(&read("inference.json")?)
        .map_err(|e| format!("inference.json: {e}"))?;
    if table.models.is_empty() {
        return Err("inference.json names no model".into());
    }
    let interval_ms = config.interval_ms()?;
    let horizon = config.label.horizon();
    // Samples whose labels could overlap the training data's are left out: those made at or
    // before the close of the last training label's bar (reports of earlier builds lack it: then a label
    // horizon after the last training sample).
    let cut = trained["labels_end_ms"]
        .as_i64()
        .unwrap_or(trained_to_ms + (horizon as i64) * i64::from(interval_ms));
    let spec = DatasetSpec {
        features: config.features.clone(),
        seq: config.seq,
        label: config.label,
        interval_ms,
    };
    let data = Dataset::build(series, &spec, config.feature_engine.clone())?;
    // The backtest computes features as the training set did, with the history the windows
    // need.
    let (features, warm_up) = {
        let probe = FeatureEngine::new(config.feature_engine.clone())?;
        let needed = FeatureEngine::rows_needed(&probe.columns(&config.features)?, config.seq);
        let features = FeatureConfig {
            history: config.feature_engine.history.max(needed + 1),
            ..config.feature_engine.clone()
        };
        (features, needed + 1)
    };
    let keep: Vec<usize> = (0..data.len()).filter(|&i| data.times[i] > cut).collect();
    if keep.len() < 2 {
        return Err(format!(
            "{} of the data's samples lie after the training data (which ends at {trained_to_ms}) and a label horizon: evaluate on later candles",
            keep.len()
        ));
    }
    let labels: Vec<usize> = keep.iter().map(|&i| data.labels[i].class).collect();
    let realised: Vec<f64> = keep.iter().map(|&i| data.labels[i].ret).collect();
    let windows = data.x.select(Axis(0), &keep);
    let classes = config.label.classes();
    let class_returns = table
        .class_returns
        .clone()
        .unwrap_or_else(|| default_class_returns(classes));
    let compute = Compute::select(DeviceChoice::Cpu).map_err(|e| e.to_string())?;
    let mut predictions: Vec<(String, Array2<f64>)> = Vec::new();
    for member in &table.models {
        if member.features != config.features {
            return Err(format!(
                "{}: reads other features than train.toml names",
                member.name
            ));
        }
        let p = member_probabilities(member, windows.view(), classes, &compute)?;
        predictions.push((member.name.clone(), p));
    }
    let ensemble = weighted(&table, predictions.iter().map(|(_, p)| p));
    predictions.push(("ensemble".into(), ensemble));
    let shifted_labels = shift(&labels, horizon, options.seed);
    let mut models: Vec<ModelEvaluation> = predictions
        .iter()
        .map(|(name, p)| {
            let expected: Vec<f64> = p
                .rows()
                .into_iter()
                .map(|row| row.dot(&ndarray::ArrayView1::from(&class_returns)))
                .collect();
            let shifted = Scores::of(p.view(), &shifted_labels);
            ModelEvaluation {
                name: name.clone(),
                scores: Scores::of(p.view(), &labels),
                ic_pearson: pearson(&expected, &realised),
                ic_spearman: spearman(&expected, &realised),
                shifted_at_chance: at_chance(&shifted, horizon),
                shifted,
                trading: None,
            }
        })
        .collect();
    let trials = options.trials.unwrap_or(0).max(models.len());
    let rule = format!(
        "model_follower: long {} of the starting equity (split between the symbols) when the expected return is above 0, flat when below; fee {}",
        EXPOSURE, options.fee
    );
    if let Some(bytes) = &options.strategy {
        let bars_per_year = 365.0 * 86_400_000.0 / f64::from(interval_ms);
        let mut per_bar: Vec<Vec<f64>> = Vec::new();
        for (k, model) in models.iter_mut().enumerate() {
            let members: Vec<MemberConfig> = if k < table.models.len() {
                vec![MemberConfig {
                    weight: 1.0,
                    ..table.models[k].clone()
                }]
            } else {
                table.models.clone()
            };
            let inference = InferenceConfig {
                device: DeviceChoice::Cpu,
                models: members,
                ..table.clone()
            };
            let (result, returns) = trade(
                bytes,
                series,
                cut,
                interval_ms,
                &inference,
                (&features, warm_up),
                options,
            )?;
            progress(&format!(
                "{}: {} trades, return {:.4}%, max drawdown {:.4}%",
                model.name,
                result.trades,
                result.total_return * 100.0,
                result.max_drawdown * 100.0
            ));
            let mut result = result;
            let (lo, hi) = bootstrap_sharpe_interval(&returns, horizon, 1000, 0.95, options.seed);
            let annual = bars_per_year.sqrt();
            result.sharpe = period_sharpe(&returns) * annual;
            result.sharpe_interval = (lo * annual, hi * annual);
            model.trading = Some(result);
            per_bar.push(returns);
        }
        // The deflated Sharpe ratio: against the best of `trials` lucky configurations, whose
        // ratios vary as the ones evaluated here do.
        let ratios: Vec<f64> = per_bar
            .iter()
            .map(|r| period_sharpe(r))
            .filter(|r| r.is_finite())
            .collect();
        let variance = if ratios.len() > 1 {
            stratbox_quant::stats::std(&ratios, 1).powi(2)
        } else {
            0.0
        };
        for (model, returns) in models.iter_mut().zip(&per_bar) {
            if let Some(t) = &mut model.trading {
                t.deflated_sharpe = deflated_sharpe(returns, trials, variance);
            }
        }
    }
    for m in &models {
        progress(&format!(
            "{}: accuracy {:.4} (chance {:.4}), log loss {:.4} (prior {:.4}), Brier {:.4}, IC {:.4} (rank {:.4}); shifted labels {:.4}{}",
            m.name,
            m.scores.accuracy,
            m.scores.chance,
            m.scores.log_loss,
            m.scores.prior_log_loss,
            m.scores.brier,
            m.ic_pearson,
            m.ic_spearman,
            m.shifted.accuracy,
            if m.shifted_at_chance {
                " (at chance)"
            } else {
                " (ABOVE CHANCE: these numbers are suspect)"
            }
        ));
    }
    Ok(EvaluationReport {
        samples: keep.len(),
        from_ms: data.times[keep[0]],
        to_ms: data.times[*keep.last().expect("two or more")],
        trained_to_ms,
        trials,
        rule,
        models,
    })
}

/// Share of the equity the rule buys with.
const EXPOSURE: f64 = 0.95;

/// Backtests the model follower with `inference` predicting: `warm_up` bars before `cut` warm
/// the features up, the rule trades from `cut` on; returns its result (Sharpe fields unset)
/// and its per-bar returns from `cut`.
fn trade(
    component: &[u8],
    series: &[(String, Vec<Candle>)],
    cut: i64,
    interval_ms: u32,
    inference: &InferenceConfig,
    (features, warm_up): (&FeatureConfig, usize),
    options: &EvaluateOptions,
) -> Result<(TradingResult, Vec<f64>), String> {
    let mut symbols = SymbolTable::default();
    let mut events = Vec::new();
    // The bars before the cut warm the features up; the rule trades from the cut on.
    let from = cut - warm_up as i64 * i64::from(interval_ms);
    for (name, candles) in series {
        let id = symbols.intern(name);
        for c in candles {
            let bar = c.to_bar(id, interval_ms);
            if bar.close_time() > from {
                events.push(MarketEvent::Bar(bar));
            }
        }
    }
    events.sort_by_key(MarketEvent::time);
    let names: Vec<String> = (0..)
        .map_while(|i| symbols.name(i).map(|n| n.to_string()))
        .collect();
    let capital = 10_000.0;
    if events.is_empty() {
        return Err("no bar after the training data to trade on".into());
    }
    // Each symbol's share of the equity, bought at each entry's price: the rule is long or
    // flat in each.
    let config = serde_json::json!({
        "notional": capital * EXPOSURE / names.len() as f64,
        "min_return": 0.0,
        "min_confidence": 0.0,
        "max_age_ms": 2 * i64::from(interval_ms),
        "from_ms": cut,
    });
    let runtime = Runtime::new(SandboxLimits::default()).map_err(|e| e.to_string())?;
    let report = backtest::run(
        runtime,
        Backtest {
            components: vec![Component {
                name: "model-follower".into(),
                bytes: component.to_vec().into(),
                config: config.to_string(),
                budget: Budget::unlimited(capital),
            }],
            symbols: &names,
            exchange_info: None,
            events: &events,
            execution: ExecutionConfig {
                fee: Some(options.fee),
                seed: options.seed,
                ..ExecutionConfig::default()
            },
            inference: Some(inference),
            features: Some(features),
            signals: None,
            progress: false,
        },
    )
    .map_err(|e| e.to_string())?;
    if let Some((name, reason)) = report.halted().next() {
        return Err(format!("{name} halted: {reason}"));
    }
    let deployment = report
        .deployments
        .first()
        .ok_or("the backtest reported no deployment")?;
    let m = &deployment.metrics;
    // Per-bar returns from the cut on (nothing is held before it).
    let mut returns = Vec::with_capacity(deployment.equity.len());
    let mut previous = capital;
    for point in deployment.equity.iter().filter(|p| p.time >= cut) {
        returns.push(point.equity / previous - 1.0);
        previous = point.equity;
    }
    Ok((
        TradingResult {
            trades: m.trades,
            total_return: m.total_return,
            sharpe: f64::NAN,
            sharpe_interval: (f64::NAN, f64::NAN),
            deflated_sharpe: f64::NAN,
            max_drawdown: m.max_drawdown,
            win_rate: m.win_rate,
            fees: m.fees,
        },
        returns,
    ))
}
