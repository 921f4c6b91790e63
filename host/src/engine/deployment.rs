//! A deployment: a named slot that runs one version of a component at a time, keeps the
//! previous version for rollback, and owns the state every version shares (its account lives in
//! the order manager under the deployment's id).

use crate::model::{DeploymentId, TimestampMs};
use crate::risk::{Budget, BudgetError};
use crate::sandbox::{
    Compiled, DeploymentData, Grants, GuestCtx, Halt, HostEnv, InitError, Instance, Runtime,
    SandboxError, SharedDeployment, StateStore, World,
};
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// Why a deploy, swap, rollback, restart or operator action did not happen. The running version,
/// if any, is untouched.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The component could not be compiled, checked or instantiated.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The new version's `init` failed.
    #[error(transparent)]
    Init(#[from] InitError),
    /// No deployment has that name.
    #[error("no deployment named {0:?}")]
    Unknown(String),
    /// The name is taken.
    #[error("a deployment named {0:?} already exists; use swap to replace its code")]
    Exists(String),
    /// A name that cannot be used.
    #[error(
        "invalid deployment name {0:?}: use 1 to 64 characters from a-z, A-Z, 0-9, '-', '_' and '.'"
    )]
    BadName(String),
    /// A swap to a component of the other world.
    #[error("deployment {name:?} runs a {} component; the new one is a {}", .running.name(), .offered.name())]
    WorldChanged {
        /// The deployment.
        name: String,
        /// Its world.
        running: World,
        /// The new component's world.
        offered: World,
    },
    /// Grants that cannot be given.
    #[error("{0}")]
    BadGrants(String),
    /// A budget that cannot be used.
    #[error(transparent)]
    BadBudget(BudgetError),
    /// Rollback with no previous version.
    #[error("deployment {0:?} has no previous version to roll back to")]
    NoPrevious(String),
    /// The engine is gone (service shutting down).
    #[error("the engine has stopped")]
    EngineStopped,
    /// A rebalance that cannot be made as asked (weights, symbols or prices).
    #[error("rebalance refused: {0}")]
    Rebalance(String),
}

/// Checks a deployment name.
pub fn validate_name(name: &str) -> Result<(), DeployError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(DeployError::BadName(name.to_string()))
    }
}

/// One version of a deployment's code.
#[derive(Clone)]
pub struct Version {
    /// The compiled component.
    pub compiled: Arc<Compiled>,
    /// Its bytes, kept for persistence and recompilation.
    pub bytes: Arc<[u8]>,
    /// The configuration `init` receives.
    pub config: String,
}

/// Whether a deployment runs.
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "status", content = "reason", rename_all = "lowercase")]
pub enum Status {
    /// Receiving events.
    Running,
    /// Stopped, with the reason.
    Halted(String),
}

/// A version instantiated and initialised away from the event loop, ready to switch in.
pub struct Prepared {
    pub(crate) name: Arc<str>,
    pub(crate) version: Version,
    pub(crate) instance: Instance,
    pub(crate) data: SharedDeployment,
    /// A new deployment's budget, for the account opened when it is installed.
    pub(crate) budget: Option<Budget>,
}

/// Everything needed to prepare a version off the event loop.
#[derive(Clone)]
pub struct PrepareInputs {
    /// The runtime to compile and instantiate with.
    pub runtime: Arc<Runtime>,
    /// The host environment guests see.
    pub env: HostEnv,
    /// The deployment's name.
    pub name: Arc<str>,
    /// The deployment's shared data (id, state, timers, grants).
    pub data: SharedDeployment,
    /// A new deployment's budget (none for a new version of an existing one).
    pub budget: Option<Budget>,
    /// Event time `init` sees.
    pub now: TimestampMs,
}

impl PrepareInputs {
    /// Inputs for new deployment `id` with `allowance` and previously persisted `state`.
    pub fn fresh(
        runtime: Arc<Runtime>,
        env: HostEnv,
        name: &str,
        id: DeploymentId,
        allowance: Allowance,
        state: StateStore,
        now: TimestampMs,
    ) -> Self {
        let data = DeploymentData::new(id, state).with_grants(allowance.grants);
        PrepareInputs {
            runtime,
            env,
            name: name.into(),
            data: Arc::new(Mutex::new(data)),
            budget: Some(allowance.budget),
            now,
        }
    }

    /// Compiles (or finds in the cache), instantiates and initialises `bytes` with `config`.
    pub fn prepare(self, bytes: Arc<[u8]>, config: String) -> Result<Prepared, DeployError> {
        let compiled = self.runtime.compile(&bytes)?;
        let version = Version {
            compiled,
            bytes,
            config,
        };
        self.prepare_version(version)
    }

    /// Instantiates and initialises a version already compiled.
    pub fn prepare_version(self, version: Version) -> Result<Prepared, DeployError> {
        let ctx = GuestCtx::new(
            self.name.clone(),
            self.env.clone(),
            self.data.clone(),
            self.runtime.limits().clone(),
        )?;
        let mut instance = self.runtime.instantiate(&version.compiled, ctx)?;
        instance.init(&version.config, self.now)?;
        Ok(Prepared {
            name: self.name,
            version,
            instance,
            data: self.data,
            budget: self.budget,
        })
    }
}

/// What the operator allows a deployment: its risk budget and its sandbox grants.
#[derive(Clone, Debug, PartialEq)]
pub struct Allowance {
    /// The risk budget every order is checked against.
    pub budget: Budget,
    /// What its guests may reach beyond the contract.
    pub grants: Grants,
}

impl Allowance {
    /// `budget`, granting nothing.
    pub fn budget(budget: Budget) -> Self {
        Allowance {
            budget,
            grants: Grants::default(),
        }
    }
}

/// A named slot in the engine.
pub struct Deployment {
    pub(crate) id: DeploymentId,
    pub(crate) name: Arc<str>,
    /// Its budget, with the valuation asset resolved.
    pub(crate) budget: Budget,
    pub(crate) world: World,
    pub(crate) data: SharedDeployment,
    pub(crate) current: Version,
    pub(crate) previous: Option<Version>,
    pub(crate) instance: Option<Instance>,
    pub(crate) status: Status,
    pub(crate) delivered: u64,
    /// Wall time inside its callbacks.
    pub(crate) cpu: super::cpu::CpuMeter,
    /// Its label in the service's metrics.
    pub(crate) label: crate::monitor::DeploymentLabel,
}

impl Deployment {
    pub(crate) fn new(prepared: Prepared, id: DeploymentId, budget: Budget) -> Self {
        let cpu = super::cpu::CpuMeter::new(std::time::Duration::from_millis(budget.cpu_window_ms));
        Deployment {
            cpu,
            label: crate::monitor::ServiceMetrics::label(&prepared.name),
            id,
            budget,
            world: prepared.version.compiled.report.world,
            name: prepared.name,
            data: prepared.data,
            current: prepared.version,
            previous: None,
            instance: Some(prepared.instance),
            status: Status::Running,
            delivered: 0,
        }
    }

    /// Stops the deployment's guest (the engine cancels its orders).
    pub(crate) fn halt(&mut self, halt: Halt) {
        self.instance = None;
        self.status = Status::Halted(halt.reason);
    }
}
