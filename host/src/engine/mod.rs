//! The engine: one deterministic loop that updates the market, lets the venue match against
//! it, forwards order updates to their owners, fires timers, delivers each event to every
//! running deployment in deployment order, passes the bar's signals through the optimizers, and
//! switches versions only between two events. It names no order kind: orders are the order
//! path's business ([`crate::execution::OrderPath`]).
//!
//! The same [`Engine`] runs backtests (driven directly) and the service (driven by
//! [`service::EngineService`] on its own thread).

mod algos;
mod cpu;
pub mod deployment;
mod risk;
pub mod service;
mod signal_log;
mod signal_quality;
mod view;

pub use risk::{DeploymentRiskInfo, FlattenInfo, RebalanceInfo, RiskReport, StopInfo, VarInfo};
pub use signal_log::{KEPT as SIGNALS_KEPT, SignalRecord, SignalStage};
pub use signal_quality::SignalQualityReport;
pub use view::{AccountSnapshot, BalanceView, OrderView, PositionView};

pub use deployment::{
    Allowance, DeployError, Deployment, PrepareInputs, Prepared, Status, Version,
};

use crate::execution::{OrderPath, Venue};
use crate::feeds::{BookUpdate, MarketEvent, TradePrint};
use crate::inference::{AccuracyTracker, InferenceService, Predictor};
use crate::journal::{Journal, JournalEntry, VersionRecord};
use crate::market::MarketData;
use crate::model::{Bar, DeploymentId, Fixed, Signal, TimestampMs};
use crate::risk::{AccountView, Budget};
use crate::sandbox::{Halt, HostEnv, Instance, Runtime, StateStore, World, lock};
use crate::signals::Detectors;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// Most rounds of order updates delivered after one event: an update's callback may submit an
/// order that fills at once, whose update is delivered in the next round.
const UPDATE_ROUNDS: usize = 64;
const DAY_MS: i64 = 86_400_000;

/// What `list` reports about a deployment.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize, Deserialize)]
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
    /// Its trading state (the account's may be stricter: see the risk report).
    #[serde(default)]
    pub trading_state: crate::risk::TradingState,
    /// Share of its CPU window's wall time spent in its callbacks, now.
    #[serde(default)]
    pub cpu_share: f64,
    /// Wall time spent in its callbacks since deployment, in milliseconds.
    #[serde(default)]
    pub cpu_ms: f64,
}

/// The event loop's state.
pub struct Engine {
    runtime: Arc<Runtime>,
    env: HostEnv,
    deployments: Vec<Deployment>,
    next_id: u32,
    now: TimestampMs,
    day: i64,
    inference: Inference,
    /// Whether callbacks are timed and a deployment over its budget's CPU share halted (the
    /// service; a backtest runs flat out, so wall-time shares mean nothing there).
    enforce_cpu: bool,
    /// The service's Prometheus metrics, when it exports them.
    metrics: Option<Arc<crate::monitor::ServiceMetrics>>,
    /// The latest signals, for operators.
    signal_log: signal_log::SignalLog,
    /// Told of every bar handled (the service stores them and follows market time by them).
    bar_tap: Option<BarTap>,
    /// Follows predictions to their outcomes (the service, when it retrains).
    accuracy: Option<AccuracyTracker>,
    /// The host's own signal detectors (`[signals]`).
    detectors: Option<Detectors>,
    /// What became of the signals, and each source's quality.
    signal_quality: signal_quality::SignalQuality,
}

/// What the engine tells of each bar it handles; it must not block.
pub type BarTap = Box<dyn Fn(&Bar) + Send>;

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
    /// An engine with no deployments, whose orders go to `venue`.
    pub fn new(runtime: Arc<Runtime>, journal: Arc<dyn Journal>, venue: Box<dyn Venue>) -> Self {
        let env = HostEnv {
            market: Arc::new(RwLock::new(MarketData::default())),
            orders: Arc::new(Mutex::new(OrderPath::new(venue, journal.clone()))),
            algos: Default::default(),
            signals: Default::default(),
            journal,
        };
        Engine {
            runtime,
            env,
            deployments: Vec::new(),
            next_id: 0,
            now: 0,
            day: i64::MIN,
            inference: Inference::Off,
            enforce_cpu: false,
            metrics: None,
            signal_log: signal_log::SignalLog::default(),
            bar_tap: None,
            accuracy: None,
            detectors: None,
            signal_quality: Default::default(),
        }
    }

    /// Tells `tap` of every bar from now on.
    pub fn set_bar_tap(&mut self, tap: BarTap) {
        self.bar_tap = Some(tap);
    }

    /// Runs `detectors` on every bar, their signals joining the strategies' in the bar's
    /// signal path. Build them against the market's feature engine as it will stay: they read
    /// its columns by number.
    pub fn set_detectors(&mut self, detectors: Detectors) {
        self.detectors = (!detectors.is_empty()).then_some(detectors);
    }

    /// Every symbol's market regimes with their changes, when `[signals.regimes]` tracks them.
    pub fn regimes(&self) -> Vec<crate::signals::regime::RegimeHistory> {
        self.detectors
            .as_ref()
            .and_then(Detectors::regimes)
            .map(|r| r.histories())
            .unwrap_or_default()
    }

    /// Follows every prediction received to its outcome with `tracker`.
    pub fn set_accuracy_tracker(&mut self, tracker: AccuracyTracker) {
        self.accuracy = Some(tracker);
    }

    /// The market data guests read.
    pub fn market(&self) -> &Arc<RwLock<MarketData>> {
        &self.env.market
    }

    /// The order path: risk checks, accounts and orders, venue.
    pub fn orders(&self) -> &Arc<Mutex<OrderPath>> {
        &self.env.orders
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
        &mut self,
        name: &str,
        allowance: Allowance,
        state: StateStore,
    ) -> Result<PrepareInputs, DeployError> {
        deployment::validate_name(name)?;
        if self.find(name).is_ok() {
            return Err(DeployError::Exists(name.to_string()));
        }
        allowance.grants.check().map_err(DeployError::BadGrants)?;
        allowance
            .budget
            .validate()
            .map_err(DeployError::BadBudget)?;
        let id = DeploymentId(self.next_id);
        self.next_id += 1;
        Ok(PrepareInputs::fresh(
            self.runtime.clone(),
            self.env.clone(),
            name,
            id,
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
            budget: None,
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

    /// Adds a prepared new deployment after every existing one and opens its account.
    pub fn install_new(&mut self, mut prepared: Prepared) -> Result<(), DeployError> {
        if self.find(&prepared.name).is_ok() {
            return Err(DeployError::Exists(prepared.name.to_string()));
        }
        let id = lock(&prepared.data).id;
        let budget = prepared
            .budget
            .take()
            .ok_or_else(|| DeployError::Exists(prepared.name.to_string()))?;
        let budget = {
            let mut market = self.env.market_mut();
            let budget = self
                .env
                .orders()
                .open(id, prepared.name.clone(), budget, &mut market);
            self.env.orders().roll_day(self.now, &market);
            budget
        };
        tracing::info!(deployment = &*prepared.name, hash = %prepared.version.compiled.report.hash, "deployed");
        self.deployments.push(Deployment::new(prepared, id, budget));
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
            self.env.orders().resume(d.id);
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
        let grants = lock(&d.data).grants.clone();
        self.env.journal.record(JournalEntry::Deployed {
            deployment: d.name.clone(),
            world: d.world,
            current: record(&d.current),
            previous: d.previous.as_ref().map(record),
            budget: Box::new(d.budget.clone()),
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
        let id = d.id;
        let market = self.env.market();
        self.env.orders().halt(id, self.now, &market);
    }

    /// Removes deployment `name`: its open orders are cancelled, its guests dropped, and its
    /// account, state and stops forgotten; the journal keeps its orders, fills and equity curve.
    /// Its positions are not closed (flatten or rebalance first to close them). Returns what it
    /// was just before.
    pub fn remove(&mut self, name: &str) -> Result<DeploymentInfo, DeployError> {
        let i = self.find(name)?;
        let info = self.list().swap_remove(i);
        let d = self.deployments.remove(i);
        tracing::warn!(deployment = &*d.name, "deployment removed");
        if let Some(m) = &self.metrics {
            m.forget(&d.label);
        }
        {
            let market = self.env.market();
            let mut orders = self.env.orders();
            self.env.algos().cancel_owner(d.id, self.now, &mut orders);
            orders.remove(d.id, self.now, &market);
        }
        self.env
            .journal
            .record(JournalEntry::Removed { deployment: d.name });
        Ok(info)
    }

    /// The status of a deployment.
    pub fn status(&self, name: &str) -> Result<&Status, DeployError> {
        Ok(&self.deployments[self.find(name)?].status)
    }

    /// Every deployment, in deployment order.
    pub fn list(&self) -> Vec<DeploymentInfo> {
        let market = self.env.market();
        let orders = self.env.orders();
        self.deployments
            .iter()
            .map(|d| {
                let account = orders.account(d.id);
                DeploymentInfo {
                    name: d.name.to_string(),
                    world: d.world,
                    status: d.status.clone(),
                    hash: d.current.compiled.report.hash.clone(),
                    previous_hash: d.previous.as_ref().map(|v| v.compiled.report.hash.clone()),
                    delivered: d.delivered,
                    equity: account
                        .and_then(|a| a.equity(&market))
                        .map_or(0.0, Fixed::to_f64),
                    open_orders: account.map_or(0, |a| a.open_orders().count()),
                    trading_state: orders
                        .risk()
                        .deployment(d.id)
                        .map(|r| r.state.state)
                        .unwrap_or_default(),
                    cpu_share: d.cpu.share(Instant::now()),
                    cpu_ms: d.cpu.total().as_secs_f64() * 1e3,
                }
            })
            .collect()
    }

    /// Equity of a deployment's account, in its valuation asset (zero while an asset it holds
    /// has no price).
    pub fn equity(&self, name: &str) -> Result<Fixed, DeployError> {
        let d = &self.deployments[self.find(name)?];
        let market = self.env.market();
        Ok(self
            .env
            .orders()
            .account(d.id)
            .and_then(|a| a.equity(&market))
            .unwrap_or(Fixed::ZERO))
    }

    /// Equity of a deployment's account in its valuation asset, once every asset it holds has
    /// a price (`None` before, or for an unknown name).
    pub fn valued_equity(&self, name: &str) -> Option<Fixed> {
        let d = &self.deployments[self.find(name).ok()?];
        let market = self.env.market();
        self.env.orders().account(d.id)?.equity(&market)
    }

    /// The id of deployment `name`.
    pub fn deployment_id(&self, name: &str) -> Result<DeploymentId, DeployError> {
        Ok(self.deployments[self.find(name)?].id)
    }

    /// Handles one market event.
    pub fn handle(&mut self, event: &MarketEvent) {
        match event {
            MarketEvent::Bar(bar) => {
                if let Some(tap) = &self.bar_tap {
                    tap(bar);
                }
                if let Some(tracker) = &mut self.accuracy {
                    tracker.on_bar(bar);
                }
                self.on_bar(bar, event)
            }
            MarketEvent::Book(book) => self.on_book(book, event),
            MarketEvent::Trade(trade) => self.on_trade(trade, event),
            MarketEvent::Source(source) => self.env.market_mut().record(source.clone()),
            MarketEvent::Prediction(prediction) => {
                if let Some(tracker) = &mut self.accuracy {
                    tracker.on_prediction(prediction);
                }
                self.now = self.now.max(prediction.known_at);
                // Only a prediction the market takes (not older than the one it holds) speaks.
                let signal = {
                    let market = self.env.market();
                    let fresh = market
                        .prediction(prediction.symbol)
                        .is_none_or(|p| p.as_of <= prediction.as_of);
                    self.detectors
                        .as_ref()
                        .filter(|_| fresh)
                        .and_then(|d| d.on_prediction(prediction, &market))
                };
                self.env.market_mut().set_prediction(prediction.clone());
                if let Some(signal) = signal {
                    self.dispatch_signals(vec![signal], self.now);
                }
            }
        }
    }

    /// Moves event time to `time`, rolls the deployments' loss day when it changes, and lets
    /// the venue process what was due before it.
    fn advance_to(&mut self, time: TimestampMs) {
        self.now = self.now.max(time);
        let day = self.now.div_euclid(DAY_MS);
        let market = self.env.market();
        let mut orders = self.env.orders();
        if day != self.day {
            self.day = day;
            orders.roll_day(self.now, &market);
        }
        // Requests that reached the venue before this event meet the market as it was.
        orders.advance(self.now - 1, &market);
    }

    /// Lets the venue match against `event`, which the market has recorded, and delivers the
    /// order updates that follow.
    fn match_event(&mut self, event: &MarketEvent) {
        {
            let market = self.env.market();
            self.env.orders().on_event(event, &market);
        }
        self.deliver_updates();
    }

    /// Delivers waiting order updates to their owners; orders their callbacks submit that the
    /// venue settles at once are delivered in further rounds (at most [`UPDATE_ROUNDS`]).
    fn deliver_updates(&mut self) {
        self.step_algos();
        for _ in 0..UPDATE_ROUNDS {
            let updates = {
                let market = self.env.market();
                let mut orders = self.env.orders();
                orders.advance(self.now, &market);
                orders.take_updates(self.now)
            };
            if updates.is_empty() {
                return;
            }
            for update in &updates {
                let Some(i) = self
                    .deployments
                    .iter()
                    .position(|d| d.id == update.deployment)
                else {
                    // A removed deployment's: its parents still hear how their children end.
                    self.env.algos().on_update(update);
                    continue;
                };
                if let Some(m) = &self.metrics {
                    count_update(m, &self.deployments[i].label, update);
                }
                if self.env.algos().on_update(update) {
                    continue;
                }
                let now = self.now;
                self.call(i, |instance| instance.on_order_update(update, now));
            }
        }
    }

    /// Collects what a remote venue has reported and delivers the updates that follow.
    pub fn collect_venue_reports(&mut self) {
        self.deliver_updates();
    }

    /// Sets how predictions are made: inline (backtests), by an inference thread (the
    /// service), or not at all.
    pub fn set_inference(&mut self, inference: Inference) {
        self.inference = inference;
    }

    /// Assembles the bar's symbol's model windows and predicts inline or queues the request;
    /// the model detector's signals from the predictions made inline.
    fn request_prediction(&mut self, bar: &Bar) -> Vec<Signal> {
        let spec = match &self.inference {
            Inference::Off => return Vec::new(),
            Inference::Inline(predictor) => predictor.spec().clone(),
            Inference::Background(service) => match service.spec() {
                Some(spec) => spec,
                None => return Vec::new(),
            },
        };
        let request = {
            let market = self.env.market();
            spec.request(&market.features, &[bar.symbol], &[bar.close_time()])
        };
        let Some(request) = request else {
            return Vec::new();
        };
        let mut signals = Vec::new();
        match &mut self.inference {
            Inference::Off => {}
            Inference::Background(service) => service.submit(request),
            Inference::Inline(predictor) => match predictor.run(&request, |as_of| as_of) {
                Ok(predictions) => {
                    let mut market = self.env.market_mut();
                    for p in predictions {
                        if let Some(d) = &self.detectors {
                            signals.extend(d.on_prediction(&p, &market));
                        }
                        market.set_prediction(p);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "inference failed"),
            },
        }
        signals
    }

    fn on_bar(&mut self, bar: &Bar, event: &MarketEvent) {
        let now = bar.close_time();
        self.advance_to(now);
        if let Some(detectors) = &self.detectors {
            detectors.prefetch(bar.symbol);
        }
        self.env.market_mut().push_bar(*bar);
        self.resolve_signals(bar);
        self.match_event(event);
        self.protect(event);
        self.monitor_risk(now, i64::from(bar.interval_ms));
        let mut raw_signals = self.request_prediction(bar);
        self.fire_timers(now);
        if let Some(detectors) = &mut self.detectors {
            raw_signals.extend(detectors.on_bar(bar, &self.env.market()));
            // Guests read the bar's regimes through `conditions`.
            if let Some(regime) = detectors.regimes().and_then(|r| r.current(bar.symbol)) {
                self.env.signals_mut().set_regime(bar.symbol, regime);
            }
        }
        self.each_running(World::Strategy, true, |instance| {
            let result = instance.on_bar(bar, now);
            if instance.has_emitted() {
                raw_signals.extend(instance.take_emitted());
            }
            result
        });
        if !raw_signals.is_empty() {
            self.dispatch_signals(raw_signals, now);
        }
        self.deliver_updates();
    }

    fn on_trade(&mut self, trade: &TradePrint, event: &MarketEvent) {
        self.advance_to(trade.time);
        self.env.market_mut().push_trade(trade);
        self.env
            .algos()
            .on_trade(trade.symbol, trade.price, trade.quantity);
        self.match_event(event);
        self.protect(event);
        self.fire_timers(self.now);
        let now = self.now;
        self.each_running(World::Strategy, true, |instance| {
            instance.on_trade(trade, now)
        });
        self.deliver_updates();
    }

    fn on_book(&mut self, book: &BookUpdate, event: &MarketEvent) {
        self.advance_to(book.time);
        let top = {
            let mut market = self.env.market_mut();
            market.apply_book(book);
            market.top(book.symbol)
        };
        self.match_event(event);
        self.fire_timers(self.now);
        let now = self.now;
        if let Some(top) = top {
            self.each_running(World::Strategy, true, |instance| {
                instance.on_book(&top, now)
            });
        }
        self.deliver_updates();
    }

    fn fire_timers(&mut self, now: TimestampMs) {
        for i in 0..self.deployments.len() {
            let d = &mut self.deployments[i];
            if d.world != World::Strategy || d.instance.is_none() {
                continue;
            }
            let due = lock(&d.data).take_due_timers(now);
            for (due, id) in due {
                if self.deployments[i].instance.is_none() {
                    break;
                }
                self.call(i, |instance| instance.on_timer(id, due, now));
            }
        }
    }

    /// Passes raw signals through every running optimizer in order, then delivers the result
    /// to every running strategy.
    fn dispatch_signals(&mut self, mut signals: Vec<Signal>, now: TimestampMs) {
        self.signal_log
            .record(SignalStage::Emitted, &signals, &self.env.market());
        self.track_signals(&signals, now);
        let optimizing = self
            .deployments
            .iter()
            .any(|d| d.world == World::SignalOptimizer && d.instance.is_some());
        if optimizing {
            let conditions: Vec<crate::market::Conditions> = {
                let market = self.env.market();
                let mut symbols: Vec<u32> = signals.iter().map(|s| s.symbol).collect();
                symbols.sort_unstable();
                symbols.dedup();
                symbols
                    .into_iter()
                    .filter_map(|s| market.conditions(s))
                    .collect()
            };
            self.each_running(World::SignalOptimizer, true, |instance| {
                signals = instance.optimize(&signals, &conditions, now)?;
                Ok(())
            });
        }
        if !signals.is_empty() {
            self.deliver_signals(&signals, now);
        }
    }

    /// Delivers the signals the optimizers passed on to every running strategy.
    fn deliver_signals(&mut self, signals: &[Signal], now: TimestampMs) {
        self.signal_log
            .record(SignalStage::Optimized, signals, &self.env.market());
        self.each_running(World::Strategy, false, |instance| {
            let result = instance.on_signal(signals, now);
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
            if d.world != world || d.instance.is_none() {
                continue;
            }
            d.delivered += u64::from(is_event);
            if is_event && let Some(m) = &self.metrics {
                m.events.get_or_create(&d.label).inc();
            }
            self.call(i, &mut f);
        }
    }

    /// Calls deployment `i`'s guest; halts it when the call fails or, where the compute budget
    /// is enforced, when the call takes its CPU share (kept by its meter) over its budget.
    fn call(&mut self, i: usize, f: impl FnOnce(&mut Instance) -> Result<(), Halt>) {
        let enforce = self.enforce_cpu;
        let d = &mut self.deployments[i];
        let Some(instance) = d.instance.as_mut() else {
            return;
        };
        if !enforce {
            if let Err(halt) = f(instance) {
                self.halt_at(i, halt);
            }
            return;
        }
        let started = Instant::now();
        let result = f(instance);
        let ended = Instant::now();
        d.cpu.record(ended, ended - started);
        if let Some(m) = &self.metrics {
            let spent = (ended - started).as_secs_f64();
            m.callback_seconds.get_or_create(&d.label).observe(spent);
            m.cpu_share
                .get_or_create(&d.label)
                .set(d.cpu.recent_share());
        }
        let result = result.and_then(|()| {
            let share = d.cpu.recent_share();
            if share > d.budget.max_cpu_share {
                return Err(Halt {
                    reason: format!(
                        "CPU share {:.1}% of the last {:.1} s is above max_cpu_share {:.1}%",
                        share * 100.0,
                        d.cpu.window().as_secs_f64(),
                        d.budget.max_cpu_share * 100.0
                    ),
                });
            }
            Ok(())
        });
        if let Err(halt) = result {
            self.halt_at(i, halt);
        }
    }

    /// Keeps `metrics` up to date as the engine runs (the service exports them).
    pub fn set_metrics(&mut self, metrics: Arc<crate::monitor::ServiceMetrics>) {
        self.metrics = Some(metrics);
    }

    /// Accounts each deployment's wall time in its callbacks and halts those over their
    /// budget's share (the service does; a backtest runs flat out, where wall-time shares mean
    /// nothing, and skips the clock reads).
    pub fn enforce_cpu_share(&mut self, enforce: bool) {
        self.enforce_cpu = enforce;
    }
}

/// Counts an order update in the service's metrics.
fn count_update(
    m: &crate::monitor::ServiceMetrics,
    label: &crate::monitor::DeploymentLabel,
    update: &crate::model::OrderUpdate,
) {
    use crate::model::ExecutionType;
    match update.execution {
        ExecutionType::New => m.orders.get_or_create(label).inc(),
        ExecutionType::Trade => m.fills.get_or_create(label).inc(),
        ExecutionType::Rejected => {
            let rule = update
                .reject
                .as_ref()
                .map_or_else(|| "venue".to_string(), |r| r.code.rule());
            m.rejections
                .get_or_create(&crate::monitor::RejectionLabels {
                    deployment: label.deployment.clone(),
                    rule,
                })
                .inc()
        }
        _ => 0,
    };
}
