//! Retraining inside the service (`[training]`, FreqAI's live retraining): on a schedule of
//! market time, on a thread of the lowest CPU priority (it runs only when a core would
//! otherwise idle; its database calls and the install run on the service's threads, so no
//! lock the engine needs is held at that priority), the models of a `train.toml` are trained
//! on the latest `train_days` of stored candles, judged together with the running ensemble on
//! the `test_days` after them, and installed through the ensemble's hot swap only when their
//! log loss there is lower. Every run is registered in the model registry with its judgement.

use super::judge::{self, HeldOutScores};
use super::train::{Progress, TrainConfig, TrainReport, train};
use crate::features::FeatureConfig;
use crate::feeds::candles::Candle;
use crate::feeds::replay::interval_name;
use crate::history::HistoryStore;
use crate::inference::{AccuracyStatus, Baselines, InferenceConfig, ModelControl};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;
use stratbox_learn::labels::LabelSpec;
use stratbox_learn::metrics::Scores;

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: f64 = 24.0 * HOUR_MS;
/// Fewest held-out samples a judgement is made on.
const MIN_HELD_OUT: usize = 30;

/// The `[training]` section of the service's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// The models, features, label and split to train (a `train.toml`).
    pub config: PathBuf,
    /// Symbols whose stored candles train the models (default: the market's).
    #[serde(default)]
    pub symbols: Vec<String>,
    /// Days of candles the models learn from (FreqAI's `train_period_days`).
    pub train_days: f64,
    /// Days after those on which the new ensemble and the running one are judged
    /// (`backtest_period_days`).
    pub test_days: f64,
    /// Hours of market time between two runs (`live_retrain_hours`).
    pub every_hours: f64,
    /// Hours after the end of its training data from which an ensemble this service trained
    /// counts as expired (`expired_hours`; the `model_age_hours` alert metric watches it).
    #[serde(default)]
    pub expiry_hours: Option<f64>,
    /// How much lower than the running ensemble's the new one's log loss must be.
    #[serde(default)]
    pub min_improvement: f64,
    /// Directory each run writes its models into (a directory `run-<market ms>` per run);
    /// `models` in the user's data directory by default.
    #[serde(default)]
    pub output: Option<PathBuf>,
}

impl TrainingConfig {
    /// Makes the relative paths relative to `base` (the service config's directory).
    pub fn resolve(&mut self, base: &Path) {
        self.config = base.join(&self.config);
        if let Some(output) = &mut self.output {
            *output = base.join(&*output);
        }
    }

    /// Why the settings cannot work, if they cannot.
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("train_days", self.train_days),
            ("test_days", self.test_days),
            ("every_hours", self.every_hours),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(format!("{name} = {value}: give a positive number"));
            }
        }
        if let Some(e) = self.expiry_hours {
            // A model's age counts from the end of its training data: it is `test_days` old
            // when installed, and the next run comes `every_hours` later.
            let least = self.test_days * 24.0 + self.every_hours;
            if !(e.is_finite() && e > least) {
                return Err(format!(
                    "expiry_hours = {e}: give more than test_days x 24 + every_hours = {least} (an ensemble is test_days old when installed and replaced every_hours later at best)"
                ));
            }
        }
        if !(self.min_improvement.is_finite() && self.min_improvement >= 0.0) {
            return Err(format!(
                "min_improvement = {}: give zero or a positive number",
                self.min_improvement
            ));
        }
        Ok(())
    }
}

/// One retraining run.
#[derive(utoipa::ToSchema, Clone, Debug, Serialize)]
pub struct RunOutcome {
    /// Market time it ran at: the close of the latest stored bar.
    pub market_time_ms: i64,
    /// Where its models were written.
    pub directory: String,
    /// Its number in the model registry, once registered.
    pub registry_id: Option<i64>,
    /// First and last training sample's close time.
    pub trained_from_ms: i64,
    /// See `trained_from_ms`.
    pub trained_to_ms: i64,
    /// Held-out samples both ensembles were judged on.
    pub held_out_samples: usize,
    /// The new ensemble's scores on them.
    pub candidate: Option<HeldOutScores>,
    /// The running ensemble's on the same samples, when one was running and could be judged.
    pub running: Option<HeldOutScores>,
    /// The running predictor's version when it was judged.
    pub running_version: Option<u64>,
    /// Whether the new ensemble was installed.
    pub installed: bool,
    /// The predictor version it was installed as.
    pub installed_version: Option<u64>,
    /// Why it was or was not installed.
    pub reason: String,
    /// Wall seconds the run took.
    pub seconds: f64,
}

/// What the operator sees of retraining.
#[derive(utoipa::ToSchema, Clone, Debug, Default, Serialize)]
pub struct TrainingStatus {
    /// Market time: the close of the latest stored bar.
    pub market_time_ms: Option<i64>,
    /// Market time the next run is due at (the first bar triggers the first run).
    pub next_due_ms: Option<i64>,
    /// Whether a run is under way.
    pub running: bool,
    /// Why the last attempt waits for more stored history, if it does.
    pub waiting: Option<String>,
    /// Runs completed.
    pub runs: u64,
    /// Of those, runs whose ensemble was installed.
    pub installs: u64,
    /// Runs that failed.
    pub failures: u64,
    /// The last completed run.
    pub last: Option<RunOutcome>,
    /// The last failure.
    pub last_error: Option<String>,
    /// The end of the running ensemble's training data, when retraining installed it.
    pub installed_data_to_ms: Option<i64>,
    /// Hours of market time since then.
    pub model_age_hours: Option<f64>,
    /// Whether that age is past `expiry_hours`.
    pub expired: bool,
    /// The running ensemble's predictor version.
    pub running_version: Option<u64>,
    /// The running models' accuracy on their predictions' realised labels.
    pub live: AccuracyStatus,
}

/// What a run reads and changes in the service.
pub struct RetrainContext {
    /// Stored candles.
    pub history: Arc<HistoryStore>,
    /// The model registry.
    pub store: Store,
    /// The running ensemble and its hot swap.
    pub models: Arc<ModelControl>,
    /// The service's async runtime, which the stores run on.
    pub runtime: tokio::runtime::Handle,
    /// The service's `[inference]` section: device, class returns and gathering of an ensemble
    /// installed when none runs.
    pub template: InferenceConfig,
    /// Where runs write (`[training].output` or its default).
    pub output: PathBuf,
    /// Where an installed ensemble's held-out accuracy goes (live accuracy is set beside it).
    pub baselines: Baselines,
    /// The live accuracy the engine's tracker publishes.
    pub accuracy: Arc<Mutex<AccuracyStatus>>,
}

/// The training settings a run uses.
struct Plan {
    config: TrainingConfig,
    train: TrainConfig,
    train_text: String,
    symbols: Vec<String>,
}

enum Message {
    /// Stored bars reach this close time.
    Clock(i64),
    /// Run at the current market time whatever the schedule.
    Now,
    Stop,
}

/// Why a run did not complete.
enum RunError {
    /// The store holds less history than the window: try again at `until` (market time).
    Wait {
        until: i64,
        reason: String,
    },
    Failed(String),
}

impl From<String> for RunError {
    fn from(e: String) -> Self {
        RunError::Failed(e)
    }
}

/// When runs are due, in market time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    every_ms: i64,
    next_ms: Option<i64>,
}

impl Schedule {
    /// A run every `every_ms` of market time, the first at the first clock seen.
    pub fn new(every_ms: i64) -> Self {
        Schedule {
            every_ms,
            next_ms: None,
        }
    }

    /// Whether a run is due at market time `clock`.
    pub fn due(&self, clock: i64) -> bool {
        self.next_ms.is_none_or(|next| clock >= next)
    }

    /// A run finished (or failed) at `clock`: the next is `every` later.
    pub fn ran(&mut self, clock: i64) {
        self.next_ms = Some(clock + self.every_ms);
    }

    /// Nothing can run before `until`.
    pub fn wait_until(&mut self, until: i64) {
        self.next_ms = Some(until);
    }

    /// When the next run is due (`None`: at the first clock).
    pub fn next(&self) -> Option<i64> {
        self.next_ms
    }
}

/// The retraining thread.
pub struct Retrainer {
    label: LabelSpec,
    interval_ms: u32,
    expiry_hours: Option<f64>,
    accuracy: Arc<Mutex<AccuracyStatus>>,
    models: Arc<ModelControl>,
    /// The end of each installed version's training data.
    trained_to: Arc<Mutex<HashMap<u64, i64>>>,
    tx: Mutex<Sender<Message>>,
    status: Arc<Mutex<TrainingStatus>>,
    stopping: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Retrainer {
    /// Reads and checks `[training]`'s `train.toml` against the service (the market's
    /// interval `market_interval_ms` when known, its `[features]`) and starts the thread;
    /// `symbols` are the market's, used when `config` names none.
    pub fn start(
        config: TrainingConfig,
        symbols: &[String],
        market_interval_ms: Option<u32>,
        features: &FeatureConfig,
        context: RetrainContext,
    ) -> Result<Arc<Self>, String> {
        config.validate()?;
        let train = TrainConfig::load(&config.config)?;
        let shown = config.config.display();
        let interval_ms = train.interval_ms()?;
        if let Some(market) = market_interval_ms.filter(|m| *m != interval_ms) {
            return Err(format!(
                "{shown}: interval {} is not the market's {}: the models would learn from other bars than they are given",
                train.interval,
                interval_name(market)
            ));
        }
        if train.feature_engine != *features {
            return Err(format!(
                "{shown}: [feature_engine] differs from the service's [features]: the models would learn from other features than they are given"
            ));
        }
        let train_text =
            std::fs::read_to_string(&config.config).map_err(|e| format!("{shown}: {e}"))?;
        let symbols: Vec<String> = if config.symbols.is_empty() {
            symbols.to_vec()
        } else {
            config.symbols.clone()
        }
        .iter()
        .map(|s| s.to_ascii_uppercase())
        .collect();
        if symbols.is_empty() {
            return Err("no symbol to train on: name them in symbols".into());
        }
        // The CPU inference's pool is made here at normal priority, before the thread's
        // lower priority could pass to its threads.
        rayon::current_num_threads();
        let (label, expiry_hours) = (train.label, config.expiry_hours);
        let (accuracy, models) = (context.accuracy.clone(), context.models.clone());
        let shared = Shared {
            status: Arc::default(),
            stopping: Arc::default(),
            trained_to: Arc::default(),
        };
        let (status, stopping, trained_to) = (
            shared.status.clone(),
            shared.stopping.clone(),
            shared.trained_to.clone(),
        );
        let plan = Plan {
            config,
            train,
            train_text,
            symbols,
        };
        let (tx, rx) = channel();
        let thread = std::thread::Builder::new()
            .name("retrain".into())
            .spawn(move || {
                lower_priority();
                run(rx, plan, context, shared)
            })
            .map_err(|e| format!("starting the retraining thread: {e}"))?;
        Ok(Arc::new(Retrainer {
            label,
            interval_ms,
            expiry_hours,
            accuracy,
            models,
            trained_to,
            tx: Mutex::new(tx),
            status,
            stopping,
            thread: Mutex::new(Some(thread)),
        }))
    }

    /// Stored bars now reach close time `clock_ms`; a run starts if one is due.
    pub fn advance(&self, clock_ms: i64) {
        let _ = lock(&self.tx).send(Message::Clock(clock_ms));
    }

    /// Asks for a run at the current market time, whatever the schedule.
    pub fn run_now(&self) {
        let _ = lock(&self.tx).send(Message::Now);
    }

    /// The status now: the running ensemble's age is that of its training data, when
    /// retraining installed it.
    pub fn status(&self) -> TrainingStatus {
        let mut status = lock(&self.status).clone();
        status.live = lock(&self.accuracy).clone();
        status.running_version = self.models.running().map(|(v, _)| v);
        status.installed_data_to_ms = status
            .running_version
            .and_then(|v| lock(&self.trained_to).get(&v).copied());
        status.model_age_hours = status
            .installed_data_to_ms
            .zip(status.market_time_ms)
            .map(|(to, now)| (now - to) as f64 / HOUR_MS);
        status.expired = status
            .model_age_hours
            .zip(self.expiry_hours)
            .is_some_and(|(age, expiry)| age > expiry);
        status
    }

    /// The label the models learn (and live accuracy judges by).
    pub fn label(&self) -> LabelSpec {
        self.label
    }

    /// The interval of the bars the models learn from.
    pub fn interval_ms(&self) -> u32 {
        self.interval_ms
    }

    /// Stops the thread: at once when idle; a run under way installs and registers nothing
    /// more, and the thread ends after it, unwaited.
    pub fn stop(&self) {
        let running = {
            let status = lock(&self.status);
            self.stopping.store(true, Ordering::Release);
            status.running
        };
        let _ = lock(&self.tx).send(Message::Stop);
        if !running && let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

/// What the thread shares with the [`Retrainer`].
struct Shared {
    status: Arc<Mutex<TrainingStatus>>,
    stopping: Arc<AtomicBool>,
    trained_to: Arc<Mutex<HashMap<u64, i64>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Puts the calling thread at the lowest CPU priority: `SCHED_IDLE` (it runs only when a core
/// would otherwise idle), or nice 19 where that is refused.
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: plain system calls on the calling thread (pid 0) with a valid parameter.
        let idle = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0;
        if !idle {
            // SAFETY: as above.
            unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
        }
        tracing::debug!(
            sched_idle = idle,
            "retraining thread at the lowest priority"
        );
    }
}

fn run(rx: Receiver<Message>, plan: Plan, context: RetrainContext, shared: Shared) {
    let every_ms = (plan.config.every_hours * HOUR_MS).round() as i64;
    let mut schedule = Schedule::new(every_ms);
    let mut clock: Option<i64> = None;
    // The CPU inference of judging runs on this pool, whose threads are made here and so
    // share this thread's priority.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(std::thread::available_parallelism().map_or(1, |n| n.get()))
        .thread_name(|i| format!("retrain-{i}"))
        .build();
    let status = &shared.status;
    loop {
        let Ok(first) = rx.recv() else { return };
        // Everything queued meanwhile counts at once: only the latest clock matters.
        let mut asked = false;
        for message in std::iter::once(first).chain(rx.try_iter()) {
            match message {
                Message::Clock(c) => clock = Some(clock.map_or(c, |k| k.max(c))),
                Message::Now => asked = true,
                Message::Stop => return,
            }
        }
        let Some(now) = clock else {
            if asked {
                lock(status).last_error =
                    Some("no market time yet: retraining waits for the first stored bar".into());
            }
            continue;
        };
        {
            let mut s = lock(status);
            s.market_time_ms = Some(now);
            // Under the status lock, as `stop` reads `running`: a stop either sees the run
            // or keeps it from starting.
            if shared.stopping.load(Ordering::Acquire) {
                return;
            }
            if !(asked || schedule.due(now)) {
                continue;
            }
            s.running = true;
        }
        let attempt = || run_once(&plan, &context, now, &shared);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &pool {
            Ok(pool) => pool.install(attempt),
            Err(_) => attempt(),
        }))
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(RunError::Failed(format!("the run panicked: {what}")))
        });
        let mut s = lock(status);
        s.running = false;
        if shared.stopping.load(Ordering::Acquire) {
            return;
        }
        match result {
            Ok(outcome) => {
                schedule.ran(now);
                s.runs += 1;
                s.waiting = None;
                if outcome.installed {
                    s.installs += 1;
                }
                tracing::info!(
                    installed = outcome.installed,
                    reason = %outcome.reason,
                    seconds = outcome.seconds,
                    "retraining run done"
                );
                s.last = Some(outcome);
            }
            Err(RunError::Wait { until, reason }) => {
                schedule.wait_until(until);
                tracing::info!(until, "retraining waits: {reason}");
                s.waiting = Some(reason);
            }
            Err(RunError::Failed(e)) => {
                schedule.ran(now);
                s.failures += 1;
                tracing::error!("retraining failed: {e}");
                s.last_error = Some(e);
            }
        }
        s.next_due_ms = schedule.next();
    }
}

/// `work` on the service's runtime: a database's futures, or a blocking call that must not
/// run at this thread's priority (the threads it starts would inherit it, and the engine may
/// wait on the locks it takes).
fn at_normal_priority<T: Send + 'static>(
    runtime: &tokio::runtime::Handle,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    runtime
        .block_on(runtime.spawn(async move { tokio::task::spawn_blocking(work).await }))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// `future` on a worker of the service's runtime (so a connection it opens gets a worker
/// thread of normal priority).
fn on_runtime<T: Send + 'static>(
    runtime: &tokio::runtime::Handle,
    future: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    runtime
        .block_on(runtime.spawn(future))
        .map_err(|e| e.to_string())
}

/// The stored candles of every symbol over the window ending at `clock`, or when the store
/// will hold enough.
fn window(
    plan: &Plan,
    context: &RetrainContext,
    clock: i64,
) -> Result<Vec<(String, Vec<Candle>)>, RunError> {
    let interval_ms = plan.train.interval_ms()?;
    let interval = i64::from(interval_ms);
    // Stored under the name the bars' length gives (`60m` is stored as `1h`).
    let stored_as = interval_name(interval_ms);
    let span = ((plan.config.train_days + plan.config.test_days) * DAY_MS).round() as i64;
    let from = clock - span;
    let mut series = Vec::with_capacity(plan.symbols.len());
    for symbol in &plan.symbols {
        let (history, name, stored) = (context.history.clone(), symbol.clone(), stored_as.clone());
        let candles = on_runtime(&context.runtime, async move {
            history
                .candles(&name, &stored, from, clock - interval)
                .await
        })?
        .map_err(|e| format!("reading {symbol}'s candles: {e}"))?;
        let first = candles.first().map(|c| c.open_time);
        if first.is_none_or(|f| f > from + interval) {
            let have = first.map_or(0.0, |f| (clock - f) as f64 / DAY_MS);
            return Err(RunError::Wait {
                until: first.map_or(clock + 1, |f| f + span),
                reason: format!(
                    "{symbol}: {have:.2} of the {:.2} days of {stored_as} candles the window needs are stored",
                    span as f64 / DAY_MS,
                ),
            });
        }
        series.push((symbol.clone(), candles));
    }
    Ok(series)
}

/// One run at market time `clock`.
fn run_once(
    plan: &Plan,
    context: &RetrainContext,
    clock: i64,
    shared: &Shared,
) -> Result<RunOutcome, RunError> {
    let started = Instant::now();
    let stopping = || shared.stopping.load(Ordering::Acquire);
    let series = window(plan, context, clock)?;
    let interval_ms = plan.train.interval_ms()?;
    let split = clock - (plan.config.test_days * DAY_MS).round() as i64;
    let training: Vec<(String, Vec<Candle>)> = series
        .iter()
        .map(|(name, candles)| {
            let before = candles
                .iter()
                .filter(|c| c.open_time + i64::from(interval_ms) <= split)
                .cloned()
                .collect();
            (name.clone(), before)
        })
        .collect();
    let mut dir = context.output.join(format!("run-{clock}"));
    for n in 2.. {
        if !dir.exists() {
            break;
        }
        dir = context.output.join(format!("run-{clock}-{n}"));
    }
    let report = train(&plan.train, &training, &dir, |p| match p {
        Progress::Line(line) | Progress::Epoch(_, line) => {
            tracing::debug!(target: "stratbox::retrain", "{line}")
        }
    })?;
    let kept = dir.join("train.toml");
    std::fs::write(&kept, &plan.train_text).map_err(|e| format!("{}: {e}", kept.display()))?;
    if stopping() {
        return Err(RunError::Failed("the service is stopping".into()));
    }
    let mut outcome = RunOutcome {
        market_time_ms: clock,
        directory: dir.display().to_string(),
        registry_id: None,
        trained_from_ms: report.from_ms,
        trained_to_ms: report.to_ms,
        held_out_samples: 0,
        candidate: None,
        running: None,
        running_version: None,
        installed: false,
        installed_version: None,
        reason: String::new(),
        seconds: 0.0,
    };
    let judged = judge(plan, context, &series, &dir, &report, &mut outcome);
    match judged {
        Ok(Some(install)) if stopping() => {
            drop(install);
            return Err(RunError::Failed("the service is stopping".into()));
        }
        Ok(Some(install)) => {
            let (models, expected) = (context.models.clone(), outcome.running_version);
            match at_normal_priority(&context.runtime, move || {
                models.load_replacing(expected, &install)
            })
            .and_then(|loaded| loaded.map_err(|e| e.to_string()))
            {
                Ok(status) => {
                    outcome.installed = true;
                    outcome.installed_version = Some(status.version);
                    lock(&shared.trained_to).insert(status.version, report.to_ms);
                    if let Some(scores) = &outcome.candidate {
                        lock(&context.baselines).insert(status.version, scores.accuracy);
                    }
                }
                Err(e) => outcome.reason = format!("not installed: {e}"),
            }
        }
        Ok(None) => {}
        Err(e) => outcome.reason = format!("not installed: {e}"),
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    if stopping() {
        return Err(RunError::Failed("the service is stopping".into()));
    }
    let mut report_json = serde_json::to_value(&report).expect("the report serialises");
    report_json["retraining"] = serde_json::to_value(&outcome).expect("the outcome serialises");
    let version = super::registry::version_of(&dir, &plan.train_text, &report, report_json)?;
    let store = context.store.clone();
    // The run stands (and may already be installed) whether or not the registry takes it.
    match on_runtime(&context.runtime, async move {
        store.register_model_version(&version).await
    })
    .and_then(|r| r.map_err(|e| e.to_string()))
    {
        Ok(id) => outcome.registry_id = Some(id),
        Err(e) => {
            tracing::error!("retraining run not registered: {e}");
            outcome.reason = format!("{} (not registered: {e})", outcome.reason);
        }
    }
    Ok(outcome)
}

/// Judges the ensemble written to `dir` against the running one on the samples after its
/// training labels: the ensemble to install if it wins (also written to `dir` as its
/// `inference.json`, with the service's device and class returns), with the outcome's scores
/// and reason set either way.
fn judge(
    plan: &Plan,
    context: &RetrainContext,
    series: &[(String, Vec<Candle>)],
    dir: &Path,
    report: &TrainReport,
    outcome: &mut RunOutcome,
) -> Result<Option<InferenceConfig>, String> {
    let table_path = dir.join("inference.json");
    if !table_path.exists() {
        outcome.reason = "not installed: no model passed its shifted-labels control".into();
        return Ok(None);
    }
    let text = std::fs::read_to_string(&table_path)
        .map_err(|e| format!("{}: {e}", table_path.display()))?;
    let candidate: InferenceConfig =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", table_path.display()))?;
    let running = context.models.running();
    let template = running
        .as_ref()
        .map_or(&context.template, |(_, config)| config);
    let install = InferenceConfig {
        models: candidate.models.clone(),
        ..template.clone()
    };
    // What the registry keeps and a later deploy of this run loads: the table as installed.
    let json = serde_json::to_string_pretty(&install).expect("the table serialises");
    std::fs::write(&table_path, json).map_err(|e| format!("{}: {e}", table_path.display()))?;
    let held_out = |table: &InferenceConfig| {
        judge::held_out(
            table,
            series,
            plan.train.label,
            plan.train.interval_ms()?,
            &plan.train.feature_engine,
            report.labels_end_ms,
        )
    };
    let new = held_out(&candidate)?;
    let Some((version, table)) = &running else {
        outcome.held_out_samples = new.labels.len();
        if new.labels.len() < MIN_HELD_OUT {
            return Err(too_few(new.labels.len()));
        }
        outcome.candidate = Some((&Scores::of(new.probabilities.view(), &new.labels)).into());
        outcome.reason = "installed: no ensemble was running".into();
        return Ok(Some(install));
    };
    outcome.running_version = Some(*version);
    let old = held_out(table).map_err(|e| {
        format!("the running ensemble (version {version}) cannot be judged on these samples: {e}")
    })?;
    let (a, b, n) = judge::compare(&new, &old);
    outcome.held_out_samples = n;
    if n < MIN_HELD_OUT {
        return Err(too_few(n));
    }
    outcome.candidate = Some((&a).into());
    outcome.running = Some((&b).into());
    if a.log_loss >= b.log_loss - plan.config.min_improvement {
        outcome.reason = format!(
            "not installed: held-out log loss {:.5} is not below the running ensemble's {:.5}{}",
            a.log_loss,
            b.log_loss,
            if plan.config.min_improvement > 0.0 {
                format!(" less {}", plan.config.min_improvement)
            } else {
                String::new()
            }
        );
        return Ok(None);
    }
    outcome.reason = format!(
        "installed: held-out log loss {:.5} against the running ensemble's {:.5}",
        a.log_loss, b.log_loss
    );
    Ok(Some(install))
}

fn too_few(n: usize) -> String {
    format!(
        "only {n} held-out samples after the training labels (at least {MIN_HELD_OUT}): lengthen test_days"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_runs_at_the_first_clock_then_every_interval() {
        let mut s = Schedule::new(6 * 3_600_000);
        assert!(s.due(1_000));
        s.ran(1_000);
        assert!(!s.due(1_000 + 6 * 3_600_000 - 1));
        assert!(s.due(1_000 + 6 * 3_600_000));
        s.wait_until(50_000_000);
        assert_eq!(s.next(), Some(50_000_000));
        assert!(!s.due(49_999_999));
    }

    #[test]
    fn settings_that_cannot_work_are_refused_by_name() {
        let base = TrainingConfig {
            config: "train.toml".into(),
            symbols: vec![],
            train_days: 7.0,
            test_days: 1.0,
            every_hours: 6.0,
            expiry_hours: None,
            min_improvement: 0.0,
            output: None,
        };
        assert!(base.validate().is_ok());
        for (bad, name) in [
            (
                TrainingConfig {
                    train_days: 0.0,
                    ..base.clone()
                },
                "train_days",
            ),
            (
                TrainingConfig {
                    every_hours: f64::NAN,
                    ..base.clone()
                },
                "every_hours",
            ),
            (
                TrainingConfig {
                    expiry_hours: Some(29.0),
                    ..base.clone()
                },
                "expiry_hours",
            ),
            (
                TrainingConfig {
                    min_improvement: -0.1,
                    ..base.clone()
                },
                "min_improvement",
            ),
        ] {
            let e = bad.validate().unwrap_err();
            assert!(e.starts_with(name), "{e}");
        }
    }
}
