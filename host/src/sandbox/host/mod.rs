//! The host side of the WIT contract: the data of one guest's store ([`GuestCtx`]) and one
//! module per host interface of the current contract (`market`, `clock`, `orders`, `signals`,
//! `state`, `log`, `risk`, `execution`, `conditions`), as wasmtime's own WASI host is laid out, plus [`v0_1`], the adapter of the
//! previous contract onto the same logic. Host functions translate between WIT and domain types
//! (through [`super::convert`]), check the guest's bounds, and forward to the stage that owns
//! the data; one that finds a guest abusing a bound records the reason and traps.

mod clock;
mod conditions;
mod execution;
mod log;
mod market;
mod orders;
mod risk;
mod signals;
mod state;
pub mod v0_1;

use super::grants::Grants;
use super::limits::{Limiter, SandboxLimits};
use super::runtime::SandboxError;
use super::state::StateStore;
use crate::execution::OrderPath;
use crate::journal::{Journal, JournalEntry};
use crate::market::{FeatureRef, MarketData};
use crate::model::{DeploymentId, Signal, TimestampMs};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// What belongs to a deployment rather than to one version of its code: its id, state, timers
/// and grants. Every version of a deployment shares one, so a hot swap moves nothing. (Its
/// account and orders belong to the order manager, under the same id.)
#[derive(Debug)]
pub struct DeploymentData {
    /// The deployment's id in the engine and the order path.
    pub id: DeploymentId,
    /// The private key-value store.
    pub state: StateStore,
    /// Pending timers as `(due, id)`.
    pub timers: BTreeSet<(TimestampMs, u64)>,
    next_timer: u64,
    /// What the operator lets its guests reach beyond the contract.
    pub grants: Grants,
}

impl DeploymentData {
    /// Data for deployment `id` with this state, granted nothing.
    pub fn new(id: DeploymentId, state: StateStore) -> Self {
        DeploymentData {
            id,
            state,
            timers: BTreeSet::new(),
            next_timer: 1,
            grants: Grants::default(),
        }
    }

    /// The same, with `grants`.
    pub fn with_grants(self, grants: Grants) -> Self {
        DeploymentData { grants, ..self }
    }

    /// Removes and returns the timers due at or before `now`, earliest first.
    pub fn take_due_timers(&mut self, now: TimestampMs) -> Vec<(TimestampMs, u64)> {
        let mut due = Vec::new();
        while let Some(&first) = self.timers.first() {
            if first.0 > now {
                break;
            }
            self.timers.pop_first();
            due.push(first);
        }
        due
    }
}

/// Shared handle to a deployment's data.
pub type SharedDeployment = Arc<Mutex<DeploymentData>>;

/// Locks a deployment's data. A poisoned lock means a host function panicked mid-update; the
/// data is still structurally valid, so the host goes on with it.
pub fn lock(shared: &SharedDeployment) -> MutexGuard<'_, DeploymentData> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What every guest of one host shares. Lock order: the market before the order path.
#[derive(Clone)]
pub struct HostEnv {
    /// The market as the engine has seen it.
    pub market: Arc<RwLock<MarketData>>,
    /// Where changes to persist go.
    pub journal: Arc<dyn Journal>,
    /// Risk checks, order manager and venue.
    pub orders: Arc<Mutex<OrderPath>>,
    /// Parent orders worked by execution algorithms.
    pub algos: Arc<Mutex<crate::execution::algo::Algos>>,
    /// The market regimes and signal quality the signal stage shows guests.
    pub signals: Arc<RwLock<crate::signals::shared::SignalsView>>,
}

impl HostEnv {
    /// Reads the market; a poisoned lock is recovered as above.
    pub fn market(&self) -> std::sync::RwLockReadGuard<'_, MarketData> {
        self.market.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes the market.
    pub fn market_mut(&self) -> std::sync::RwLockWriteGuard<'_, MarketData> {
        self.market.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Locks the order path (after the market, if both are needed).
    pub fn orders(&self) -> MutexGuard<'_, OrderPath> {
        self.orders.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads what the signal stage shows guests.
    pub fn signals(&self) -> std::sync::RwLockReadGuard<'_, crate::signals::shared::SignalsView> {
        self.signals.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes what the signal stage shows guests.
    pub fn signals_mut(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, crate::signals::shared::SignalsView> {
        self.signals.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Locks the parent orders (after the market and the order path, if those are needed).
    pub fn algos(&self) -> MutexGuard<'_, crate::execution::algo::Algos> {
        self.algos.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Per-callback counters, reset before each call.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallbackCounters {
    /// Orders submitted.
    pub orders: u32,
    /// Signals emitted.
    pub signals: u32,
    /// Log lines written.
    pub logs: u32,
}

/// The features a guest resolved, by handle (the handle is the index).
#[derive(Debug, Default)]
pub(crate) struct FeatureHandles(Vec<FeatureRef>);

/// The data of one guest's wasmtime store.
pub struct GuestCtx {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) stderr: MemoryOutputPipe,
    pub(crate) name: Arc<str>,
    pub(crate) env: HostEnv,
    pub(crate) deployment: SharedDeployment,
    pub(crate) id: DeploymentId,
    pub(crate) limits: Arc<SandboxLimits>,
    /// Event time of the call in progress.
    pub(crate) now: TimestampMs,
    /// Whether the call in progress is `init` (orders are refused there).
    pub(crate) in_init: bool,
    pub(crate) counters: CallbackCounters,
    /// Signals emitted during the current event.
    pub(crate) emitted: Vec<Signal>,
    /// Features resolved by handle.
    features: FeatureHandles,
    /// Why a host function trapped, for the halt reason.
    pub(crate) fault: Option<String>,
}

/// A WASI clock frozen at the Unix epoch: what a guest sees unless granted the wall clock.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }
    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

impl GuestCtx {
    /// A context with no ambient capabilities beyond the deployment's grants: without them no
    /// preopened directories, no environment, no network, clocks frozen; stdout discarded,
    /// stderr captured (for panic messages).
    pub fn new(
        name: Arc<str>,
        env: HostEnv,
        deployment: SharedDeployment,
        limits: Arc<SandboxLimits>,
    ) -> Result<Self, SandboxError> {
        let stderr = MemoryOutputPipe::new(8 * 1024);
        let mut wasi = WasiCtxBuilder::new();
        wasi.stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        let (grants, id) = {
            let data = lock(&deployment);
            (data.grants.clone(), data.id)
        };
        grants.apply(&mut wasi).map_err(SandboxError::Grant)?;
        if !(limits.grant_wall_clock || grants.wall_clock) {
            wasi.wall_clock(FrozenClock).monotonic_clock(FrozenClock);
        }
        Ok(GuestCtx {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(&limits),
            stderr,
            name,
            env,
            deployment,
            id,
            limits,
            now: 0,
            in_init: false,
            counters: CallbackCounters::default(),
            emitted: Vec::new(),
            features: FeatureHandles::default(),
            fault: None,
        })
    }

    fn trap(&mut self, reason: String) -> wasmtime::Error {
        self.fault = Some(reason.clone());
        wasmtime::Error::msg(reason)
    }

    fn journal(&self, entry: JournalEntry) {
        self.env.journal.record(entry);
    }
}

impl WasiView for GuestCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

type HostResult<T> = wasmtime::Result<T>;

impl crate::sandbox::bindings::v0_2::strategy::stratbox::strategy::types::Host for GuestCtx {}
