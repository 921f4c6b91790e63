//! The engine: one deterministic loop that updates the market, executes resting orders, fires
//! timers, delivers each event to every running deployment in deployment order, passes the
//! bar's signals through the optimizers, and switches versions only between two events.
//!
//! The same [`Engine`] runs backtests (driven directly) and the service (driven by
//! [`service::EngineService`] on its own thread).

pub mod deployment;
pub mod service;

pub use deployment::{
    Allowance, DeployError, Deployment, PrepareInputs, Prepared, Status, Version,
};

use crate::execution::{Execution, PaperVenue};
use crate::feeds::{BookTop, MarketEvent, TradePrint};
use crate::inference::{InferenceService, Predictor};
use crate::journal::{Journal, JournalEntry, VersionRecord};
use crate::market::MarketData;
use crate::model::{Bar, Fill, Fixed, TimestampMs};
use crate::risk::Budget;
use crate::sandbox::bindings::strategy::stratbox::strategy::types;
use crate::sandbox::guest_ctx::{lock, wit_bar, wit_side, wit_status};
use crate::sandbox::{Halt, HostEnv, Instance, Runtime, Signal, StateStore, World};
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

/// What `list` reports about a deployment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeploymentInfo {
    /// Its name.
    pub name: String,
    /// The world its component implements.
    pub world: World,
    /// Running or halted, with the reason.
    #[serde(flatten)]
    pub status: Status,
    /// Content hash of the running version.
    pub hash: String,
    /// Content hash of the version kept for rollback.
    pub previous_hash: Option<String>,
    /// Events delivered since deployment.
    pub delivered: u64,
    /// Account equity in the quote asset.
    pub equity: f64,
    /// Orders still open.
    pub open_orders: usize,
}

/// The event loop's state.
pub struct Engine {
    runtime: Arc<Runtime>,
    env: HostEnv,
    deployments: Vec<Deployment>,
    venue: PaperVenue,
    now: TimestampMs,
    inference: Inference,
}

/// How the engine obtains predictions.
pub enum Inference {
    /// No models.
    Off,
    /// Predict on the loop itself right after each bar: deterministic, for backtests.
    Inline(Box<Predictor>),
    /// Hand requests to an inference thread that publishes predictions as events.
    Background(Arc<InferenceService>),
}

impl Engine {
    /// An engine with no deployments.
    pub fn new(runtime: Arc<Runtime>, journal: Arc<dyn Journal>, venue: PaperVenue) -> Self {
        let env = HostEnv {
            market: Arc::new(RwLock::new(MarketData::default())),
            journal,
            order_ids: Arc::new(AtomicU64::new(1)),
        };
        Engine {
            runtime,
            env,
            deployments: Vec::new(),
            venue,
            now: 0,
            inference: Inference::Off,
        }
    }

    /// The market data guests read.
    pub fn market(&self) -> &Arc<RwLock<MarketData>> {
        &self.env.market
    }

    /// The sandbox runtime.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Event time of the last event.
    pub fn now(&self) -> TimestampMs {
        self.now
    }

    fn find(&self, name: &str) -> Result<usize, DeployError> {
        self.deployments
            .iter()
            .position(|d| &*d.name == name)
            .ok_or_else(|| DeployError::Unknown(name.to_string()))
    }

    /// Inputs to prepare a brand-new deployment off the loop.
    pub fn prepare_new(
        &self,
        name: &str,
        allowance: Allowance,
        state: StateStore,
    ) -> Result<PrepareInputs, DeployError> {
        deployment::validate_name(name)?;
        if self.find(name).is_ok() {
            return Err(DeployError::Exists(name.to_string()));
        }
        allowance.grants.check().map_err(DeployError::BadGrants)?;
        Ok(PrepareInputs::fresh(
            self.runtime.clone(),
            self.env.clone(),
            name,
            allowance,
            state,
            self.now,
        ))
    }

    /// Inputs to prepare a new version of an existing deployment off the loop.
    pub fn prepare_existing(&self, name: &str) -> Result<PrepareInputs, DeployError> {
        let d = &self.deployments[self.find(name)?];
        Ok(PrepareInputs {
            runtime: self.runtime.clone(),
            env: self.env.clone(),
            name: d.name.clone(),
            data: d.data.clone(),
            now: self.now,
        })
    }

    /// The version a rollback of `name` would restore.
    pub fn previous_version(&self, name: &str) -> Result<Version, DeployError> {
        let d = &self.deployments[self.find(name)?];
        d.previous
            .clone()
            .ok_or_else(|| DeployError::NoPrevious(name.to_string()))
    }

    /// The running version of `name`, for a restart.
    pub fn current_version(&self, name: &str) -> Result<Version, DeployError> {
        Ok(self.deployments[self.find(name)?].current.clone())
    }

    /// Deploys, compiling and initialising on the caller's thread (backtests, start-up).
    pub fn deploy(
        &mut self,
        name: &str,
        bytes: Arc<[u8]>,
        config: String,
        budget: Budget,
        state: StateStore,
    ) -> Result<(), DeployError> {
        self.deploy_allowed(name, bytes, config, Allowance::budget(budget), state)
    }

    /// As [`Engine::deploy`], with sandbox grants besides the budget.
    pub fn deploy_allowed(
        &mut self,
        name: &str,
        bytes: Arc<[u8]>,
        config: String,
        allowance: Allowance,
        state: StateStore,
    ) -> Result<(), DeployError> {
        let prepared = self
            .prepare_new(name, allowance, state)?
            .prepare(bytes, config)?;
        self.install_new(prepared)
    }

    /// Adds a prepared new deployment after every existing one.
    pub fn install_new(&mut self, prepared: Prepared) -> Result<(), DeployError> {
        if self.find(&prepared.name).is_ok() {
            return Err(DeployError::Exists(prepared.name.to_string()));
        }
        tracing::info!(deployment = &*prepared.name, hash = %prepared.version.compiled.report.hash, "deployed");
        self.deployments.push(Deployment::new(prepared));
        self.journal_deployment(self.deployments.len() - 1);
        Ok(())
    }

    /// Switches `prepared` in as the running version; the old one is kept for rollback.
    /// With `restart`, the running version is restarted in place and nothing is kept.
    pub fn install_version(
        &mut self,
        prepared: Prepared,
        restart: bool,
    ) -> Result<(), DeployError> {
        let i = self.find(&prepared.name)?;
        let d = &mut self.deployments[i];
        let offered = prepared.version.compiled.report.world;
        if offered != d.world {
            return Err(DeployError::WorldChanged {
                name: d.name.to_string(),
                running: d.world,
                offered,
            });
        }
        if !restart {
            d.previous = Some(std::mem::replace(&mut d.current, prepared.version));
        }
        d.instance = Some(prepared.instance);
        if d.status != Status::Running {
            self.env.journal.record(JournalEntry::Status {
                deployment: d.name.clone(),
                reason: None,
            });
        }
        d.status = Status::Running;
        tracing::info!(deployment = &*d.name, hash = %d.current.compiled.report.hash, restart, "version switched in");
        if !restart {
            self.journal_deployment(i);
        }
        Ok(())
    }

    /// Restores the version a deployment kept for rollback before a restart.
    pub fn set_previous(&mut self, name: &str, version: Version) -> Result<(), DeployError> {
        let i = self.find(name)?;
        self.deployments[i].previous = Some(version);
        Ok(())
    }

    fn journal_deployment(&self, i: usize) {
        let d = &self.deployments[i];
        let record = |v: &Version| VersionRecord {
            hash: v.compiled.report.hash.clone(),
            bytes: v.bytes.clone(),
            config: v.config.clone(),
        };
        let (budget, grants) = {
            let data = lock(&d.data);
            (data.account.budget().clone(), data.grants.clone())
        };
        self.env.journal.record(JournalEntry::Deployed {
            deployment: d.name.clone(),
            world: d.world,
            current: record(&d.current),
            previous: d.previous.as_ref().map(record),
            budget,
            grants,
        });
    }

    /// A copy of a deployment's state store.
    pub fn state(&self, name: &str) -> Result<StateStore, DeployError> {
        Ok(lock(&self.deployments[self.find(name)?].data).state.clone())
    }

    /// Stops a deployment by the operator's hand.
    pub fn halt(&mut self, name: &str, reason: &str) -> Result<(), DeployError> {
        let i = self.find(name)?;
        self.halt_at(
            i,
            Halt {
                reason: reason.to_string(),
            },
        );
        Ok(())
    }

    fn halt_at(&mut self, i: usize, halt: Halt) {
        let d = &mut self.deployments[i];
        tracing::warn!(deployment = &*d.name, reason = %halt.reason, "deployment halted");
        self.env.journal.record(JournalEntry::Status {
            deployment: d.name.clone(),
            reason: Some(halt.reason.clone()),
        });
        d.halt(halt);
    }

    /// The status of a deployment.
    pub fn status(&self, name: &str) -> Result<&Status, DeployError> {
        Ok(&self.deployments[self.find(name)?].status)
    }

    /// Every deployment, in deployment order.
    pub fn list(&self) -> Vec<DeploymentInfo> {
        let market = self.env.market.read().unwrap_or_else(|p| p.into_inner());
        self.deployments
            .iter()
            .map(|d| {
                let data = lock(&d.data);
                DeploymentInfo {
                    name: d.name.to_string(),
                    world: d.world,
                    status: d.status.clone(),
                    hash: d.current.compiled.report.hash.clone(),
                    previous_hash: d.previous.as_ref().map(|v| v.compiled.report.hash.clone()),
                    delivered: d.delivered,
                    equity: data.account.equity(&market.marks).to_f64(),
                    open_orders: data.account.open_orders().count(),
                }
            })
            .collect()
    }

    /// Equity of a deployment's account, in the quote asset.
    pub fn equity(&self, name: &str) -> Result<Fixed, DeployError> {
        let d = &self.deployments[self.find(name)?];
        let market = self.env.market.read().unwrap_or_else(|p| p.into_inner());
        Ok(lock(&d.data).account.equity(&market.marks))
    }

    /// Handles one market event.
    pub fn handle(&mut self, event: &MarketEvent) {
        match event {
            MarketEvent::Bar(bar) => self.on_bar(bar),
            MarketEvent::Book(book) => self.on_book(book),
            MarketEvent::Trade(trade) => self.on_trade(trade),
            MarketEvent::Source(source) => self
                .env
                .market
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .record(source.clone()),
            MarketEvent::Prediction(prediction) => {
                self.now = self.now.max(prediction.known_at);
                self.env
                    .market
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .set_prediction(prediction.clone());
            }
        }
    }

    /// Sets how predictions are made: inline (backtests), by an inference thread (the
    /// service), or not at all.
    pub fn set_inference(&mut self, inference: Inference) {
        self.inference = inference;
    }

    /// Assembles the bar's symbol's model windows and predicts inline or queues the request.
    fn request_prediction(&mut self, bar: &Bar) {
        let spec = match &self.inference {
            Inference::Off => return,
            Inference::Inline(predictor) => predictor.spec().clone(),
            Inference::Background(service) => match service.spec() {
                Some(spec) => spec,
                None => return,
            },
        };
        let request = {
            let market = self.env.market.read().unwrap_or_else(|p| p.into_inner());
            spec.request(&market.features, &[bar.symbol], &[bar.close_time()])
        };
        let Some(request) = request else { return };
        match &mut self.inference {
            Inference::Off => {}
            Inference::Background(service) => service.submit(request),
            Inference::Inline(predictor) => match predictor.run(&request, |as_of| as_of) {
                Ok(predictions) => {
                    let mut market = self.env.market.write().unwrap_or_else(|p| p.into_inner());
                    for p in predictions {
                        market.set_prediction(p);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "inference failed"),
            },
        }
    }

    fn on_bar(&mut self, bar: &Bar) {
        let now = bar.close_time();
        self.now = self.now.max(now);
        self.execute_resting_orders(bar);
        self.env
            .market
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push_bar(*bar);
        self.request_prediction(bar);
        self.fire_timers(now);
        let wit = wit_bar(bar);
        let mut raw_signals: Vec<Signal> = Vec::new();
        self.each_running(World::Strategy, true, |instance| {
            let result = instance.on_bar(&wit, now);
            if instance.has_emitted() {
                raw_signals.extend(instance.take_emitted());
            }
            result
        });
        if !raw_signals.is_empty() {
            self.dispatch_signals(raw_signals, now);
        }
    }

    fn on_trade(&mut self, trade: &TradePrint) {
        self.now = self.now.max(trade.time);
        self.env
            .market
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push_trade(trade);
        self.fire_timers(self.now);
        let wit = types::Trade {
            symbol: trade.symbol,
            time: trade.time,
            trade_id: trade.trade_id,
            price: trade.price,
            quantity: trade.quantity,
            aggressor: wit_side(trade.aggressor),
        };
        let now = self.now;
        self.each_running(World::Strategy, true, |instance| {
            instance.on_trade(&wit, now)
        });
    }

    fn on_book(&mut self, book: &BookTop) {
        self.now = self.now.max(book.time);
        self.fire_timers(self.now);
        let level = |&(price, quantity): &(f64, f64)| types::BookLevel { price, quantity };
        let wit = types::BookLevels {
            symbol: book.symbol,
            time: book.time,
            bids: book.bids.iter().map(level).collect(),
            asks: book.asks.iter().map(level).collect(),
        };
        self.env
            .market
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .set_book(book.clone());
        let now = self.now;
        self.each_running(World::Strategy, true, |instance| {
            instance.on_book(&wit, now)
        });
    }

    /// Executes every deployment's open orders in `bar.symbol` against the bar, then tells
    /// each owner of its fills.
    fn execute_resting_orders(&mut self, bar: &Bar) {
        let symbol_name = {
            let market = self.env.market.read().unwrap_or_else(|p| p.into_inner());
            market.symbols.name(bar.symbol).cloned()
        };
        for i in 0..self.deployments.len() {
            let fills = {
                let d = &self.deployments[i];
                let market = self.env.market.read().unwrap_or_else(|p| p.into_inner());
                let mut data = lock(&d.data);
                data.account.roll_day(bar.open_time, &market.marks);
                let mut outcomes = Vec::new();
                for order in data
                    .account
                    .open_orders_mut()
                    .filter(|o| o.request.symbol == bar.symbol)
                {
                    match self.venue.execute(order, bar) {
                        Execution::Rest => {}
                        outcome => {
                            let remaining = order.request.quantity.saturating_sub(order.filled);
                            outcomes.push((order.id, outcome, remaining));
                        }
                    }
                }
                let mut fills: Vec<Fill> = Vec::new();
                for (id, outcome, remaining) in outcomes {
                    match outcome {
                        Execution::Fill(price) => {
                            let fee = self.venue.fee(price, remaining);
                            fills.extend(data.account.apply_execution(
                                id,
                                price,
                                remaining,
                                fee,
                                bar.open_time,
                            ));
                        }
                        _ => {
                            data.account.expire(id);
                        }
                    }
                }
                fills
            };
            for fill in fills {
                if let Some(symbol) = &symbol_name {
                    self.env.journal.record(JournalEntry::Fill {
                        fill: fill.clone(),
                        symbol: symbol.clone(),
                    });
                }
                let d = &mut self.deployments[i];
                let Some(instance) = d.instance.as_mut() else {
                    continue;
                };
                let wit = types::Fill {
                    order_id: fill.order_id,
                    client_id: fill.client_id,
                    symbol: fill.symbol,
                    side: wit_side(fill.side),
                    price: fill.price.to_f64(),
                    quantity: fill.quantity.to_f64(),
                    fee: fill.fee.to_f64(),
                    time: fill.time,
                    status: wit_status(fill.status),
                };
                if let Err(halt) = instance.on_fill(&wit, bar.open_time) {
                    self.halt_at(i, halt);
                }
            }
        }
    }

    fn fire_timers(&mut self, now: TimestampMs) {
        for i in 0..self.deployments.len() {
            let d = &mut self.deployments[i];
            if d.world != World::Strategy || d.instance.is_none() {
                continue;
            }
            let due = lock(&d.data).take_due_timers(now);
            for (due, id) in due {
                let Some(instance) = self.deployments[i].instance.as_mut() else {
                    break;
                };
                if let Err(halt) = instance.on_timer(types::Timer { id, due }, now) {
                    self.halt_at(i, halt);
                }
            }
        }
    }

    /// Passes raw signals through every running optimizer in order, then delivers the result
    /// to every running strategy.
    fn dispatch_signals(&mut self, mut signals: Vec<Signal>, now: TimestampMs) {
        let conditions: Vec<types::MarketConditions> = {
            let market = self.env.market.read().unwrap_or_else(|p| p.into_inner());
            let mut symbols: Vec<u32> = signals.iter().map(|s| s.symbol).collect();
            symbols.sort_unstable();
            symbols.dedup();
            symbols
                .into_iter()
                .filter_map(|s| market.conditions(s))
                .map(|c| types::MarketConditions {
                    symbol: c.symbol,
                    time: c.time,
                    volatility: c.volatility,
                    trend: c.trend,
                    volume_ratio: c.volume_ratio,
                })
                .collect()
        };
        self.each_running(World::SignalOptimizer, true, |instance| {
            signals = instance.optimize(&signals, &conditions, now)?;
            Ok(())
        });
        if signals.is_empty() {
            return;
        }
        self.each_running(World::Strategy, false, |instance| {
            let result = instance.on_signal(&signals, now);
            // Signals emitted while handling signals are dropped: no feedback loops within a bar.
            instance.take_emitted();
            result
        });
    }

    /// Calls `f` on every running deployment of `world` in deployment order, counting it as a
    /// delivered event when `is_event`; halts any deployment whose call fails.
    fn each_running(
        &mut self,
        world: World,
        is_event: bool,
        mut f: impl FnMut(&mut Instance) -> Result<(), Halt>,
    ) {
        for i in 0..self.deployments.len() {
            let d = &mut self.deployments[i];
            if d.world != world {
                continue;
            }
            let Some(instance) = d.instance.as_mut() else {
                continue;
            };
            d.delivered += u64::from(is_event);
            if let Err(halt) = f(instance) {
                self.halt_at(i, halt);
            }
        }
    }
}
