//! The engine as a service: the loop runs on its own thread and takes market events and
//! operator commands from one ordered queue. Compilation, instantiation and `init` of a new
//! version happen on a helper thread; the switch itself is an item in the queue, so it falls
//! between two events and no event is lost or delivered twice.

use super::{
    AccountSnapshot, Allowance, DeployError, DeploymentInfo, Engine, PrepareInputs, Prepared,
    RiskReport, Version,
};
use crate::execution::algo::AlgoView;
use crate::execution::algo::order::AlgoOrder;
use crate::execution::cost::{CostError, CostEstimate};
use crate::feeds::MarketEvent;
use crate::feeds::recorder::CaptureWriter;
use crate::risk::TradingState;
use crate::sandbox::StateStore;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// An operator command. (A deploy carries a budget and grants; commands are few, so their size
/// does not matter.)
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Adds a deployment.
    Deploy {
        /// Its name.
        name: String,
        /// The component.
        bytes: Arc<[u8]>,
        /// Configuration for `init` (JSON text).
        config: String,
        /// Its risk budget and sandbox grants.
        allowance: Allowance,
        /// State persisted from an earlier run.
        state: StateStore,
    },
    /// Replaces a deployment's code; the configuration stays unless a new one is given.
    Swap {
        /// The deployment.
        name: String,
        /// The new component.
        bytes: Arc<[u8]>,
        /// New configuration, if any.
        config: Option<String>,
    },
    /// Switches back to the previous version.
    Rollback {
        /// The deployment.
        name: String,
    },
    /// Stops a deployment.
    Halt {
        /// The deployment.
        name: String,
    },
    /// Restarts a halted deployment's current version.
    Resume {
        /// The deployment.
        name: String,
    },
    /// Removes a deployment (its orders cancelled, its history kept).
    Remove {
        /// The deployment.
        name: String,
    },
    /// Lists deployments.
    List,
}

/// The answer to a command: the deployments as they are after it.
pub type Reply = Result<Vec<DeploymentInfo>, DeployError>;

/// An operator's risk command.
#[derive(Clone, Debug)]
pub enum RiskCommand {
    /// Reads the account's and every deployment's risk.
    Report,
    /// Sets a deployment's trading state, or with no name the account's.
    SetState {
        /// The deployment, or `None` for the whole account.
        name: Option<String>,
        /// The new state.
        state: TradingState,
        /// Why (recorded with it).
        reason: String,
    },
    /// Moves a deployment's holdings toward target weights.
    Rebalance {
        /// The deployment.
        name: String,
        /// Symbol and fraction of the deployment's equity.
        weights: Vec<(String, f64)>,
    },
    /// The kill switch.
    Kill {
        /// Close every position with orders at most this fraction through the touch.
        flatten: Option<f64>,
        /// Why (recorded with the HALTED state).
        reason: String,
    },
}

enum Install {
    New,
    Version,
    Restart,
}

enum Input {
    Event(MarketEvent),
    Command(Command, oneshot::Sender<Reply>),
    Risk(
        RiskCommand,
        oneshot::Sender<Result<RiskReport, DeployError>>,
    ),
    Account(
        Option<String>,
        oneshot::Sender<Result<AccountSnapshot, DeployError>>,
    ),
    Signals(usize, oneshot::Sender<Vec<super::SignalRecord>>),
    SignalQuality(oneshot::Sender<super::SignalQualityReport>),
    Regimes(oneshot::Sender<Vec<crate::signals::regime::RegimeHistory>>),
    Cost(CostQuery, oneshot::Sender<Result<CostEstimate, CostError>>),
    Install(
        Result<Prepared, DeployError>,
        Install,
        oneshot::Sender<Reply>,
    ),
    /// A remote venue has reports to collect.
    Venue,
    /// Start a parent order on a deployment's account (with a VWAP's weights).
    StartAlgo(
        String,
        Box<AlgoOrder>,
        Option<Vec<f64>>,
        oneshot::Sender<Result<Result<u64, String>, DeployError>>,
    ),
    CancelAlgo(u64, oneshot::Sender<bool>),
    Algos(oneshot::Sender<Vec<AlgoView>>),
    Shutdown,
}

/// An order to estimate the cost of: symbol, side and amount.
#[derive(Clone, Debug)]
pub struct CostQuery {
    /// The symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: crate::model::Side,
    /// Base quantity or quote amount.
    pub amount: crate::model::Amount,
}

/// Feeds market events into the engine's queue.
#[derive(Clone)]
pub struct EventSender(Sender<Input>);

impl EventSender {
    /// Queues an event; false once the engine has stopped.
    pub fn send(&self, event: MarketEvent) -> bool {
        self.0.send(Input::Event(event)).is_ok()
    }
}

/// A running engine thread.
pub struct EngineService {
    tx: Sender<Input>,
    /// The loop's thread until [`EngineService::shutdown`] joins it.
    thread: std::sync::Mutex<Option<JoinHandle<Engine>>>,
}

impl EngineService {
    /// Starts the loop on its own thread.
    pub fn start(engine: Engine) -> Self {
        Self::start_recording(engine, None)
    }

    /// Starts the loop on its own thread, writing every market event it handles to `recorder`
    /// (a capture a backtest can replay).
    pub fn start_recording(engine: Engine, recorder: Option<CaptureWriter>) -> Self {
        let (tx, rx) = channel();
        let loop_tx = tx.clone();
        // One wake-up queued at a time: the loop collects everything reported until it runs.
        let woken = Arc::new(AtomicBool::new(false));
        let (wake_tx, flag) = (tx.clone(), woken.clone());
        engine
            .orders()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_waker(Arc::new(move || {
                if !flag.swap(true, Ordering::AcqRel) {
                    let _ = wake_tx.send(Input::Venue);
                }
            }));
        let thread = std::thread::Builder::new()
            .name("engine".into())
            .spawn(move || run(engine, rx, loop_tx, recorder, woken))
            .expect("spawn engine thread");
        EngineService {
            tx,
            thread: std::sync::Mutex::new(Some(thread)),
        }
    }

    /// A handle for market sources.
    pub fn events(&self) -> EventSender {
        EventSender(self.tx.clone())
    }

    /// Sends a command and waits for its answer.
    pub async fn command(&self, command: Command) -> Reply {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Input::Command(command, reply))
            .map_err(|_| DeployError::EngineStopped)?;
        answer.await.map_err(|_| DeployError::EngineStopped)?
    }

    /// Sends a risk command and waits for the report after it.
    pub async fn risk(&self, command: RiskCommand) -> Result<RiskReport, DeployError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Input::Risk(command, reply))
            .map_err(|_| DeployError::EngineStopped)?;
        answer.await.map_err(|_| DeployError::EngineStopped)?
    }

    /// Deployment `name`'s account now, or with `None` every deployment's summed.
    pub async fn account(&self, name: Option<String>) -> Result<AccountSnapshot, DeployError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Input::Account(name, reply))
            .map_err(|_| DeployError::EngineStopped)?;
        answer.await.map_err(|_| DeployError::EngineStopped)?
    }

    /// The newest `limit` signals the engine passed on.
    pub async fn signals(&self, limit: usize) -> Result<Vec<super::SignalRecord>, DeployError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Input::Signals(limit, reply))
            .map_err(|_| DeployError::EngineStopped)?;
        answer.await.map_err(|_| DeployError::EngineStopped)
    }

    /// The signals' outcomes and rolling quality now.
    pub async fn signal_quality(&self) -> Result<super::SignalQualityReport, DeployError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Input::SignalQuality(reply))
            .map_err(|_| DeployError::EngineStopped)?;
        answer.await.map_err(|_| DeployError::EngineStopped)
    }

    /// Every symbol's market regimes with their changes.
    pub async fn regimes(&self) -> Result<Vec<crate::signals::regime::RegimeHistory>, DeployError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Input::Regimes(reply))
            .map_err(|_| DeployError::EngineStopped)?;
        answer.await.map_err(|_| DeployError::EngineStopped)
    }

    /// What an order would cost taking the book now (the pre-trade estimate).
    pub async fn cost(
        &self,
        query: CostQuery,
    ) -> Result<Result<CostEstimate, CostError>, DeployError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Input::Cost(query, reply))
            .map_err(|_| DeployError::EngineStopped)?;
        answer.await.map_err(|_| DeployError::EngineStopped)
    }

    /// Starts parent `order` on deployment `name`'s account (`weights`: a VWAP's volume
    /// profile): its id, or why the order was refused.
    pub async fn start_algo(
        &self,
        name: String,
        order: AlgoOrder,
        weights: Option<Vec<f64>>,
    ) -> Result<Result<u64, String>, DeployError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Input::StartAlgo(name, Box::new(order), weights, reply))
            .map_err(|_| DeployError::EngineStopped)?;
        answer.await.map_err(|_| DeployError::EngineStopped)?
    }

    /// Stops parent order `id`: false for no such working parent.
    pub async fn cancel_algo(&self, id: u64) -> Result<bool, DeployError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Input::CancelAlgo(id, reply))
            .map_err(|_| DeployError::EngineStopped)?;
        answer.await.map_err(|_| DeployError::EngineStopped)
    }

    /// Every parent order, newest first, with its state and cost analysis.
    pub async fn algos(&self) -> Result<Vec<AlgoView>, DeployError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Input::Algos(reply))
            .map_err(|_| DeployError::EngineStopped)?;
        answer.await.map_err(|_| DeployError::EngineStopped)
    }

    /// Sends a command and blocks until its answer (outside an async runtime).
    pub fn command_blocking(&self, command: Command) -> Reply {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Input::Command(command, reply))
            .map_err(|_| DeployError::EngineStopped)?;
        answer
            .blocking_recv()
            .map_err(|_| DeployError::EngineStopped)?
    }

    /// Stops the loop after the events already queued and returns the engine; `None` when an
    /// earlier call stopped it. Takes `&self`: the API's last connections may still hold the
    /// service for a moment after the server stopped.
    pub fn shutdown(&self) -> Option<Engine> {
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()?;
        let _ = self.tx.send(Input::Shutdown);
        Some(thread.join().expect("engine thread panicked"))
    }
}

impl Drop for EngineService {
    fn drop(&mut self) {
        let thread = self
            .thread
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(thread) = thread {
            let _ = self.tx.send(Input::Shutdown);
            let _ = thread.join();
        }
    }
}

/// Prepares on a helper thread and queues the switch.
fn prepare_off_loop(
    tx: &Sender<Input>,
    how: Install,
    reply: oneshot::Sender<Reply>,
    work: impl FnOnce() -> Result<Prepared, DeployError> + Send + 'static,
) {
    let tx = tx.clone();
    std::thread::Builder::new()
        .name("prepare".into())
        .spawn(move || {
            let prepared = work();
            let _ = tx.send(Input::Install(prepared, how, reply));
        })
        .expect("spawn prepare thread");
}

fn run(
    mut engine: Engine,
    rx: Receiver<Input>,
    tx: Sender<Input>,
    mut recorder: Option<CaptureWriter>,
    woken: Arc<AtomicBool>,
) -> Engine {
    while let Ok(input) = rx.recv() {
        match input {
            Input::StartAlgo(name, order, weights, reply) => {
                let _ = reply.send(engine.start_algo(&name, &order, weights));
            }
            Input::CancelAlgo(id, reply) => {
                let _ = reply.send(engine.cancel_algo(id));
            }
            Input::Algos(reply) => {
                let _ = reply.send(engine.algos());
            }
            Input::Venue => {
                woken.store(false, Ordering::Release);
                engine.collect_venue_reports();
            }
            Input::Event(event) => {
                if let Some(recorder) = &mut recorder {
                    let market = engine.market().read().unwrap_or_else(|p| p.into_inner());
                    recorder.record(&event, market.symbols());
                }
                engine.handle(&event)
            }
            Input::Command(command, reply) => command_step(&mut engine, &tx, command, reply),
            Input::Risk(command, reply) => {
                let result = match command {
                    RiskCommand::Report => Ok(engine.risk_report()),
                    RiskCommand::SetState {
                        name,
                        state,
                        reason,
                    } => engine
                        .set_trading_state(name.as_deref(), state, &reason)
                        .map(|()| engine.risk_report()),
                    RiskCommand::Kill { flatten, reason } => Ok(engine.kill(flatten, &reason)),
                    RiskCommand::Rebalance { name, weights } => engine.rebalance(&name, &weights),
                };
                let _ = reply.send(result);
            }
            Input::Account(name, reply) => {
                let _ = reply.send(engine.account(name.as_deref()));
            }
            Input::Signals(limit, reply) => {
                let _ = reply.send(engine.signals(limit));
            }
            Input::SignalQuality(reply) => {
                let _ = reply.send(engine.signal_quality());
            }
            Input::Regimes(reply) => {
                let _ = reply.send(engine.regimes());
            }
            Input::Cost(q, reply) => {
                let _ = reply.send(engine.cost(&q.symbol, q.side, q.amount));
            }
            Input::Install(prepared, how, reply) => {
                let result = prepared.and_then(|p| match how {
                    Install::New => engine.install_new(p),
                    Install::Version => engine.install_version(p, false),
                    Install::Restart => engine.install_version(p, true),
                });
                let _ = reply.send(result.map(|()| engine.list()));
            }
            Input::Shutdown => break,
        }
    }
    if let Some(recorder) = recorder
        && let Err(e) = recorder.finish()
    {
        tracing::error!("the market recording could not be finished: {e}");
    }
    engine
}

fn command_step(
    engine: &mut Engine,
    tx: &Sender<Input>,
    command: Command,
    reply: oneshot::Sender<Reply>,
) {
    let with_version = |inputs: Result<PrepareInputs, DeployError>,
                        version: Result<Version, DeployError>| {
        inputs.and_then(|i| version.map(|v| (i, v)))
    };
    match command {
        Command::Deploy {
            name,
            bytes,
            config,
            allowance,
            state,
        } => match engine.prepare_new(&name, allowance, state) {
            Ok(inputs) => prepare_off_loop(tx, Install::New, reply, move || {
                inputs.prepare(bytes, config)
            }),
            Err(e) => drop(reply.send(Err(e))),
        },
        Command::Swap {
            name,
            bytes,
            config,
        } => {
            match with_version(
                engine.prepare_existing(&name),
                engine.current_version(&name),
            ) {
                Ok((inputs, current)) => {
                    let config = config.unwrap_or(current.config);
                    prepare_off_loop(tx, Install::Version, reply, move || {
                        inputs.prepare(bytes, config)
                    });
                }
                Err(e) => drop(reply.send(Err(e))),
            }
        }
        Command::Rollback { name } => match with_version(
            engine.prepare_existing(&name),
            engine.previous_version(&name),
        ) {
            Ok((inputs, previous)) => prepare_off_loop(tx, Install::Version, reply, move || {
                inputs.prepare_version(previous)
            }),
            Err(e) => drop(reply.send(Err(e))),
        },
        Command::Resume { name } => match with_version(
            engine.prepare_existing(&name),
            engine.current_version(&name),
        ) {
            Ok((inputs, current)) => prepare_off_loop(tx, Install::Restart, reply, move || {
                inputs.prepare_version(current)
            }),
            Err(e) => drop(reply.send(Err(e))),
        },
        Command::Halt { name } => {
            let result = engine.halt(&name, "halted by the operator");
            let _ = reply.send(result.map(|()| engine.list()));
        }
        Command::Remove { name } => {
            let _ = reply.send(engine.remove(&name).map(|_| engine.list()));
        }
        Command::List => {
            let _ = reply.send(Ok(engine.list()));
        }
    }
}
