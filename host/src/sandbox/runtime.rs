//! The wasmtime engine shared by every guest, its two linkers (one per world), the epoch
//! ticker, and the cache of compiled components keyed by content hash.

use super::bindings::{optimizer::SignalOptimizerPre, strategy::StrategyPre};
use super::check::{self, ComponentReport, World};
use super::guest_ctx::GuestCtx;
use super::instance::{Guest, Instance};
use super::limits::{CpuLimit, SandboxLimits};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

/// Largest component accepted, in bytes.
pub const MAX_COMPONENT_BYTES: usize = 64 << 20;
/// How often the epoch advances under [`CpuLimit::Epoch`].
const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Why a component could not be loaded or started.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The engine could not be configured.
    #[error("cannot configure the wasm engine: {0:#}")]
    Engine(wasmtime::Error),
    /// Not a valid component, or too large.
    #[error("not a valid component: {0}")]
    Invalid(String),
    /// A valid component that does not match either world.
    #[error(transparent)]
    WorldMismatch(#[from] check::CheckError),
    /// Instantiation failed (e.g. its memory minimum exceeds the sandbox's limit).
    #[error("cannot instantiate the component: {0:#}")]
    Instantiate(wasmtime::Error),
}

/// The hex SHA-256 of a component's bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A compiled, checked component, ready to instantiate.
pub struct Compiled {
    /// What it is.
    pub report: ComponentReport,
    pre: GuestPre,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
enum GuestPre {
    Strategy(StrategyPre<GuestCtx>),
    Optimizer(SignalOptimizerPre<GuestCtx>),
}

/// Stops the epoch ticker thread when dropped.
struct EpochTicker(Arc<AtomicBool>);

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The engine, linkers and compiled-component cache of one host.
pub struct Runtime {
    engine: Engine,
    strategy_linker: Linker<GuestCtx>,
    optimizer_linker: Linker<GuestCtx>,
    limits: Arc<SandboxLimits>,
    cache: Mutex<HashMap<String, Arc<Compiled>>>,
    _ticker: Option<EpochTicker>,
}

impl Runtime {
    /// An engine configured for `limits`: the pooling allocator when the machine allows it.
    pub fn new(limits: SandboxLimits) -> Result<Arc<Self>, SandboxError> {
        let engine = match Engine::new(&Self::config(&limits, true)) {
            Ok(engine) => engine,
            Err(e) => {
                tracing::warn!(
                    "pooling allocator unavailable ({e:#}); allocating instances on demand"
                );
                Engine::new(&Self::config(&limits, false)).map_err(SandboxError::Engine)?
            }
        };
        let mut strategy_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut strategy_linker)
            .map_err(SandboxError::Engine)?;
        let mut optimizer_linker = strategy_linker.clone();
        super::bindings::strategy::Strategy::add_to_linker::<_, HasSelf<GuestCtx>>(
            &mut strategy_linker,
            |c| c,
        )
        .map_err(SandboxError::Engine)?;
        super::bindings::optimizer::SignalOptimizer::add_to_linker::<_, HasSelf<GuestCtx>>(
            &mut optimizer_linker,
            |c| c,
        )
        .map_err(SandboxError::Engine)?;
        let ticker = (limits.cpu == CpuLimit::Epoch).then(|| {
            let stop = Arc::new(AtomicBool::new(false));
            let (flag, engine) = (stop.clone(), engine.clone());
            std::thread::Builder::new()
                .name("epoch-ticker".into())
                .spawn(move || {
                    while !flag.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })
                .expect("spawn epoch ticker");
            EpochTicker(stop)
        });
        Ok(Arc::new(Runtime {
            engine,
            strategy_linker,
            optimizer_linker,
            limits: Arc::new(limits),
            cache: Mutex::new(HashMap::new()),
            _ticker: ticker,
        }))
    }

    fn config(limits: &SandboxLimits, pooling: bool) -> Config {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.max_wasm_stack(1 << 20);
        match limits.cpu {
            CpuLimit::Epoch => config.epoch_interruption(true),
            CpuLimit::Fuel => config.consume_fuel(true),
        };
        if pooling {
            let mut pool = PoolingAllocationConfig::default();
            pool.total_component_instances(1_000)
                .total_core_instances(10_000)
                .total_memories(2_000)
                .total_tables(4_000)
                .max_memory_size((limits.memory_mib as usize) << 20)
                .table_elements(limits.table_elements);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        config
    }

    /// The sandbox bounds every guest of this runtime runs under.
    pub fn limits(&self) -> &Arc<SandboxLimits> {
        &self.limits
    }

    /// Compiles and checks a component, or returns the cached result for the same bytes.
    pub fn compile(&self, bytes: &[u8]) -> Result<Arc<Compiled>, SandboxError> {
        if bytes.len() > MAX_COMPONENT_BYTES {
            return Err(SandboxError::Invalid(format!(
                "{} bytes is above the {MAX_COMPONENT_BYTES}-byte limit",
                bytes.len()
            )));
        }
        match bytes {
            [0, b'a', b's', b'm', 1, 0, 0, 0, ..] => {
                return Err(SandboxError::Invalid(
                    "this is a core WebAssembly module, not a component: build the guest for wasm32-wasip2 \
                     (or wrap the module with `wasm-tools component new`)"
                        .into(),
                ));
            }
            [0, b'a', b's', b'm', ..] => {}
            _ => {
                return Err(SandboxError::Invalid(
                    "not a WebAssembly file: it lacks the \\0asm header".into(),
                ));
            }
        }
        let hash = content_hash(bytes);
        if let Some(hit) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&hash)
        {
            return Ok(hit.clone());
        }
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| SandboxError::Invalid(format!("{e:#}")))?;
        let world = check::classify(&self.engine, &component)?;
        let pre = match world {
            World::Strategy => {
                let ipre = self
                    .strategy_linker
                    .instantiate_pre(&component)
                    .map_err(|e| check::CheckError::link(world, e))?;
                GuestPre::Strategy(
                    StrategyPre::new(ipre).map_err(|e| check::CheckError::link(world, e))?,
                )
            }
            World::SignalOptimizer => {
                let ipre = self
                    .optimizer_linker
                    .instantiate_pre(&component)
                    .map_err(|e| check::CheckError::link(world, e))?;
                GuestPre::Optimizer(
                    SignalOptimizerPre::new(ipre).map_err(|e| check::CheckError::link(world, e))?,
                )
            }
        };
        let report = check::report(&self.engine, &component, world, bytes.len(), hash.clone());
        let compiled = Arc::new(Compiled { report, pre });
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(hash, compiled.clone());
        Ok(compiled)
    }

    /// Instantiates a compiled component in a new store holding `ctx`.
    pub fn instantiate(
        &self,
        compiled: &Compiled,
        ctx: GuestCtx,
    ) -> Result<Instance, SandboxError> {
        let mut store = Store::new(&self.engine, ctx);
        store.limiter(|ctx| &mut ctx.limiter);
        // Instantiation runs the component's start functions: bound them like a callback.
        match self.limits.cpu {
            CpuLimit::Epoch => store.set_epoch_deadline(self.limits.callback_ms.max(1)),
            CpuLimit::Fuel => store
                .set_fuel(self.limits.callback_fuel)
                .map_err(SandboxError::Instantiate)?,
        }
        let guest = match &compiled.pre {
            GuestPre::Strategy(pre) => Guest::Strategy(
                pre.instantiate(&mut store)
                    .map_err(SandboxError::Instantiate)?,
            ),
            GuestPre::Optimizer(pre) => Guest::Optimizer(
                pre.instantiate(&mut store)
                    .map_err(SandboxError::Instantiate)?,
            ),
        };
        Ok(Instance::new(store, guest, self.limits.clone()))
    }
}
