//! Backtests: one component against a series of bars, through the same engine, risk check and
//! paper venue the service uses.

use crate::engine::{DeployError, Engine, Inference, Status};
use crate::execution::venues::{BarFillConfig, BarVenue};
use crate::feeds::MarketEvent;
use crate::inference::{InferenceConfig, InferenceError, Predictor};
use crate::journal::{Journal, JournalEntry};
use crate::model::{Bar, Fill};
use crate::monitor::{Summary, summarize};
use crate::risk::Budget;
use crate::sandbox::{Runtime, StateStore};
use std::sync::{Arc, Mutex};
use stratbox_infer::Compute;

/// Keeps the fills of a run in memory.
#[derive(Default)]
pub struct FillRecorder(Mutex<Vec<Fill>>);

impl FillRecorder {
    /// The fills so far, in order.
    pub fn fills(&self) -> Vec<Fill> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Journal for FillRecorder {
    fn record(&self, entry: JournalEntry) {
        if let JournalEntry::Order {
            update: crate::model::OrderUpdate {
                fill: Some(fill), ..
            },
            ..
        } = entry
        {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).push(fill);
        }
    }
}

/// The outcome of a backtest.
#[derive(Debug)]
pub struct BacktestReport {
    /// Every execution, in order.
    pub fills: Vec<Fill>,
    /// Headline figures.
    pub summary: Summary,
    /// Whether the strategy was still running at the end, or why it was halted.
    pub status: Status,
    /// Bars replayed.
    pub bars: usize,
}

/// The deployment name a backtest runs under.
pub const BACKTEST_NAME: &str = "backtest";

/// What a backtest runs.
pub struct Backtest<'a> {
    /// The strategy component.
    pub component: Arc<[u8]>,
    /// Its configuration for `init` (JSON text).
    pub config: String,
    /// Its risk budget.
    pub budget: Budget,
    /// The symbols the bars belong to.
    pub symbols: &'a [&'a str],
    /// Bars of one or more symbols, in time order.
    pub bars: &'a [Bar],
    /// The candle fill model's settings.
    pub venue: BarFillConfig,
    /// A model ensemble predicting inline after every bar, if any.
    pub inference: Option<&'a InferenceConfig>,
}

/// Why a backtest could not run.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// The strategy could not be deployed.
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// The models could not be loaded.
    #[error(transparent)]
    Inference(#[from] InferenceError),
}

/// Runs the backtest `setup` describes.
pub fn run(runtime: Arc<Runtime>, setup: Backtest<'_>) -> Result<BacktestReport, BacktestError> {
    let Backtest {
        component,
        config,
        budget,
        symbols,
        bars,
        venue,
        inference,
    } = setup;
    let recorder = Arc::new(FillRecorder::default());
    let mut engine = Engine::new(runtime, recorder.clone(), Box::new(BarVenue::new(venue)));
    {
        let mut market = engine.market().write().unwrap_or_else(|p| p.into_inner());
        for s in symbols {
            market.add_symbol(s);
        }
    }
    if let Some(config) = inference {
        let compute = Compute::select(config.device).map_err(InferenceError::from)?;
        let predictor = Predictor::load(config, &compute, engine.market(), 1)?;
        engine.set_inference(Inference::Inline(Box::new(predictor)));
    }
    let capital = budget.capital;
    engine.deploy(
        BACKTEST_NAME,
        component,
        config,
        budget,
        StateStore::default(),
    )?;
    let mut equity = Vec::with_capacity(bars.len());
    for bar in bars {
        engine.handle(&MarketEvent::Bar(*bar));
        equity.push(engine.equity(BACKTEST_NAME)?.to_f64());
    }
    let fills = std::mem::take(&mut *recorder.0.lock().unwrap_or_else(|p| p.into_inner()));
    let interval = bars.first().map_or(60_000, |b| b.interval_ms);
    Ok(BacktestReport {
        summary: summarize(capital, &equity, interval, &fills),
        status: engine.status(BACKTEST_NAME)?.clone(),
        fills,
        bars: bars.len(),
    })
}
