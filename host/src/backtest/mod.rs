//! Backtests: strategies and signal optimizers over recorded market events (candles, trades,
//! book captures) through the same engine, risk checks, order manager and simulated exchange
//! the service paper-trades with; the result is every order change, every fill, each
//! deployment's equity curve and its metrics ([`report`]); with `[signals]`, the host's
//! detectors run as in the service and the report measures every signal's outcome.

pub mod report;

pub use report::{BacktestReport, DeploymentReport, OrderRecord, SignalsReport};

use crate::config::ExecutionConfig;
use crate::engine::{DeployError, Engine, Inference, Status};
use crate::features::{FeatureConfig, FeatureEngine};
use crate::feeds::MarketEvent;
use crate::inference::{InferenceConfig, InferenceError, Predictor};
use crate::journal::{Journal, JournalEntry};
use crate::model::{Fill, OrderUpdate, TimestampMs};
use crate::monitor::EquityPoint;
use crate::risk::Budget;
use crate::sandbox::{Runtime, StateStore};
use crate::signals::config::SignalsConfig;
use crate::signals::outcome::Outcome;
use crate::signals::quality::{Scored, tally};
use crate::signals::{Detectors, with_detector_features};
use std::sync::{Arc, Mutex};
use stratbox_infer::Compute;

/// Keeps every order update and every signal outcome of a run in memory.
#[derive(Default)]
pub struct UpdateRecorder {
    updates: Mutex<Vec<(OrderUpdate, Arc<str>)>>,
    outcomes: Mutex<Vec<Outcome>>,
}

impl UpdateRecorder {
    /// The updates so far with their symbols' names, in order.
    pub fn updates(&self) -> Vec<(OrderUpdate, Arc<str>)> {
        self.updates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The signals' outcomes so far, in the order they arrived.
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.outcomes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The fills so far, in order.
    pub fn fills(&self) -> Vec<Fill> {
        self.updates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|(u, _)| u.fill.clone())
            .collect()
    }
}

impl Journal for UpdateRecorder {
    fn record(&self, entry: JournalEntry) {
        match entry {
            JournalEntry::Order { update, symbol } => self
                .updates
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((update, symbol)),
            JournalEntry::SignalOutcome { outcome, .. } => self
                .outcomes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(*outcome),
            _ => {}
        }
    }

    fn keeps_state(&self) -> bool {
        false
    }
}

/// A component to deploy in a backtest.
#[derive(Clone, Debug)]
pub struct Component {
    /// Its deployment name (unique in the run).
    pub name: String,
    /// The component.
    pub bytes: Arc<[u8]>,
    /// Its configuration for `init` (JSON text).
    pub config: String,
    /// Its risk budget (optimizers place no orders; theirs is not used).
    pub budget: Budget,
}

/// What a backtest runs.
pub struct Backtest<'a> {
    /// Strategies and signal optimizers, in deployment order.
    pub components: Vec<Component>,
    /// The symbols the events name, in the order of their ids.
    pub symbols: &'a [String],
    /// Exchange rules of the symbols (an `exchangeInfo` answer), if any.
    pub exchange_info: Option<&'a str>,
    /// The market events, in time order.
    pub events: &'a [MarketEvent],
    /// The simulated exchange's settings.
    pub execution: ExecutionConfig,
    /// A model ensemble predicting inline after every bar, if any.
    pub inference: Option<&'a InferenceConfig>,
    /// The feature engine's settings (the service's `[features]`; the defaults when `None`).
    pub features: Option<&'a FeatureConfig>,
    /// The host's signal detectors and regimes (the service's `[signals]`), if any.
    pub signals: Option<&'a SignalsConfig>,
    /// Shows a progress bar on long runs.
    pub progress: bool,
}

/// Why a backtest could not run.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// A component could not be deployed.
    #[error("{name}: {source}")]
    Deploy {
        /// The deployment.
        name: String,
        /// Why.
        source: DeployError,
    },
    /// The models could not be loaded.
    #[error(transparent)]
    Inference(#[from] InferenceError),
    /// The execution settings or exchange rules are unusable.
    #[error("{0}")]
    Setup(String),
}

/// Events between equity samples that are not bars: the curve gets at most one sample a second
/// of event time otherwise.
const SAMPLE_MS: TimestampMs = 1_000;

/// Runs the backtest `setup` describes.
pub fn run(runtime: Arc<Runtime>, setup: Backtest<'_>) -> Result<BacktestReport, BacktestError> {
    let recorder = Arc::new(UpdateRecorder::default());
    let exchange = setup.execution.exchange().map_err(BacktestError::Setup)?;
    let latency = setup.execution.latency().map_err(BacktestError::Setup)?;
    let mut engine = Engine::new(runtime, recorder.clone(), Box::new(exchange));
    engine
        .orders()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .set_latency(latency);
    {
        let mut market = engine.market().write().unwrap_or_else(|p| p.into_inner());
        if let Some(info) = setup.exchange_info {
            market
                .instruments
                .describe(info)
                .map_err(|e| BacktestError::Setup(format!("exchange rules: {e}")))?;
        }
        if setup.features.is_some() || setup.signals.is_some() {
            let features = setup.features.cloned().unwrap_or_default();
            let features = match setup.signals {
                Some(signals) => with_detector_features(&features, signals)
                    .map_err(|e| BacktestError::Setup(format!("[signals]: {e}")))?,
                None => features,
            };
            market.features = FeatureEngine::new(features)
                .map_err(|e| BacktestError::Setup(format!("[features]: {e}")))?;
        }
        for s in setup.symbols {
            market.add_symbol(s);
        }
    }
    if let Some(signals) = setup.signals {
        let detectors = Detectors::new(
            signals,
            &mut engine.market().write().unwrap_or_else(|p| p.into_inner()),
        )
        .map_err(|e| BacktestError::Setup(format!("[signals]: {e}")))?;
        engine.set_detectors(detectors);
    }
    if let Some(config) = setup.inference {
        let compute = Compute::select(config.device).map_err(InferenceError::from)?;
        let predictor = Predictor::load(config, &compute, engine.market(), 1)?;
        engine.set_inference(Inference::Inline(Box::new(predictor)));
    }
    let mut traders = Vec::new();
    for c in &setup.components {
        engine
            .deploy(
                &c.name,
                c.bytes.clone(),
                c.config.clone(),
                c.budget.clone(),
                StateStore::default(),
            )
            .map_err(|source| BacktestError::Deploy {
                name: c.name.clone(),
                source,
            })?;
        let world = engine
            .list()
            .into_iter()
            .find(|d| d.name == c.name)
            .map(|d| d.world);
        if world == Some(crate::sandbox::World::Strategy) {
            traders.push(c.name.clone());
        }
    }
    // A strategy's starting equity is its first valued one (holdings of an asset without a
    // price yet cannot be valued).
    let mut initial: Vec<Option<f64>> = vec![None; traders.len()];
    let progress = (setup.progress && setup.events.len() > 200_000)
        .then(|| indicatif::ProgressBar::new(setup.events.len() as u64));
    let mut curves: Vec<Vec<EquityPoint>> = vec![Vec::new(); traders.len()];
    let mut last_sample = TimestampMs::MIN;
    for (i, event) in setup.events.iter().enumerate() {
        engine.handle(event);
        let is_bar = matches!(event, MarketEvent::Bar(_));
        let last = i + 1 == setup.events.len();
        let time = engine.now();
        if is_bar || last || time >= last_sample.saturating_add(SAMPLE_MS) {
            last_sample = time;
            for ((curve, name), start) in curves.iter_mut().zip(&traders).zip(&mut initial) {
                let Some(equity) = engine.valued_equity(name) else {
                    continue;
                };
                let equity = equity.to_f64();
                start.get_or_insert(equity);
                match curve.last_mut() {
                    Some(p) if p.time == time => p.equity = equity,
                    _ => curve.push(EquityPoint { time, equity }),
                }
            }
        }
        if let Some(bar) = &progress
            && i % 65_536 == 0
        {
            bar.set_position(i as u64);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let statuses: Vec<(String, Status)> = engine
        .list()
        .into_iter()
        .map(|d| (d.name, d.status))
        .collect();
    let initial: Vec<f64> = initial.into_iter().map(|e| e.unwrap_or(0.0)).collect();
    let outcomes = recorder.outcomes();
    let mut report = report::assemble(
        &traders,
        &initial,
        curves,
        statuses,
        recorder.updates(),
        setup.events.len(),
        engine.algos(),
    );
    report.signals = SignalsReport {
        signals: outcomes.len(),
        pending: engine.pending_signals(),
        quality: tally(outcomes.iter().map(|o| {
            (
                (o.source.clone(), o.kind, o.symbol.clone()),
                Scored::from(o),
                o.scores.clone(),
            )
        })),
        outcomes,
    };
    Ok(report)
}
