//! The wasmtime engine shared by every guest, its two linkers (one per world), the epoch
//! ticker, and the cache of compiled components keyed by content hash.

use super::bindings::{v0_1, v0_2};
use super::check::{self, ComponentReport, Contract, World};
use super::host::GuestCtx;
use super::instance::{Guest, Instance};
use super::limits::{CpuLimit, SandboxLimits};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// A grant could not be given (e.g. a granted directory is gone).
    #[error("cannot give the guest its grants: {0}")]
    Grant(String),
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
    StrategyV0_1(v0_1::strategy::StrategyPre<GuestCtx>),
    StrategyV0_2(v0_2::strategy::StrategyPre<GuestCtx>),
    OptimizerV0_1(v0_1::optimizer::SignalOptimizerPre<GuestCtx>),
    OptimizerV0_2(v0_2::optimizer::SignalOptimizerPre<GuestCtx>),
}

/// Stops the epoch ticker thread when dropped.
struct EpochTicker(Arc<AtomicBool>);

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The engine, linkers (one per world, each offering every released contract version) and
/// compiled-component cache of one host.
pub struct Runtime {
    engine: Engine,
    strategy_linker: Linker<GuestCtx>,
    optimizer_linker: Linker<GuestCtx>,
    limits: Arc<SandboxLimits>,
    cache: Mutex<HashMap<String, Arc<Compiled>>>,
    disk_cache: Option<PathBuf>,
    compilations: AtomicU64,
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
        v0_1::strategy::Strategy::add_to_linker::<_, HasSelf<GuestCtx>>(
            &mut strategy_linker,
            |c| c,
        )
        .map_err(SandboxError::Engine)?;
        v0_2::strategy::Strategy::add_to_linker::<_, HasSelf<GuestCtx>>(
            &mut strategy_linker,
            |c| c,
        )
        .map_err(SandboxError::Engine)?;
        v0_1::optimizer::SignalOptimizer::add_to_linker::<_, HasSelf<GuestCtx>>(
            &mut optimizer_linker,
            |c| c,
        )
        .map_err(SandboxError::Engine)?;
        v0_2::optimizer::SignalOptimizer::add_to_linker::<_, HasSelf<GuestCtx>>(
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
            disk_cache: None,
            compilations: AtomicU64::new(0),
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
        let component = match self.load_cached(&hash) {
            Some(component) => component,
            None => {
                self.compilations.fetch_add(1, Ordering::Relaxed);
                let component = Component::new(&self.engine, bytes)
                    .map_err(|e| SandboxError::Invalid(format!("{e:#}")))?;
                self.store_cached(&hash, &component);
                component
            }
        };
        let kind = check::classify(&self.engine, &component)?;
        let (world, _) = kind;
        let linker = match world {
            World::Strategy => &self.strategy_linker,
            World::SignalOptimizer => &self.optimizer_linker,
        };
        let link = |e| check::CheckError::link(world, e);
        let ipre = linker.instantiate_pre(&component).map_err(link)?;
        let pre = match kind {
            (World::Strategy, Contract::V0_1) => {
                GuestPre::StrategyV0_1(v0_1::strategy::StrategyPre::new(ipre).map_err(link)?)
            }
            (World::Strategy, Contract::V0_2) => {
                GuestPre::StrategyV0_2(v0_2::strategy::StrategyPre::new(ipre).map_err(link)?)
            }
            (World::SignalOptimizer, Contract::V0_1) => GuestPre::OptimizerV0_1(
                v0_1::optimizer::SignalOptimizerPre::new(ipre).map_err(link)?,
            ),
            (World::SignalOptimizer, Contract::V0_2) => GuestPre::OptimizerV0_2(
                v0_2::optimizer::SignalOptimizerPre::new(ipre).map_err(link)?,
            ),
        };
        let report = check::report(&self.engine, &component, kind, bytes.len(), hash.clone());
        let compiled = Arc::new(Compiled { report, pre });
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(hash, compiled.clone());
        Ok(compiled)
    }

    /// Keeps compiled components in `dir` as well as in memory, so a restarted host does not
    /// compile its deployments again. The directory must be private to this host.
    pub fn with_disk_cache(mut self: Arc<Self>, dir: PathBuf) -> Arc<Self> {
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!("compiled-component cache {} unusable: {e}", dir.display());
            return self;
        }
        match Arc::get_mut(&mut self) {
            Some(runtime) => runtime.disk_cache = Some(dir),
            None => {
                tracing::warn!("compiled-component cache must be set before the runtime is shared")
            }
        }
        self
    }

    /// How many components this runtime compiled (rather than found in a cache).
    pub fn compilations(&self) -> u64 {
        self.compilations.load(Ordering::Relaxed)
    }

    fn cache_path(&self, hash: &str) -> Option<PathBuf> {
        self.disk_cache
            .as_ref()
            .map(|dir| dir.join(format!("{hash}.cwasm")))
    }

    /// A component compiled earlier by this host, if the cache has a usable one.
    fn load_cached(&self, hash: &str) -> Option<Component> {
        let path = self.cache_path(hash)?;
        // Read into memory rather than mapping the file: a file changed under a mapping would
        // crash the host, one changed after reading cannot.
        let bytes = std::fs::read(&path).ok()?;
        // SAFETY: the bytes were written by `store_cached` of a host with this engine
        // configuration into a directory private to the host; wasmtime checks that the artifact
        // matches the engine (version, target, settings) and refuses it otherwise, in which case
        // the component is compiled again.
        match unsafe { Component::deserialize(&self.engine, &bytes) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!("ignoring cached component {}: {e:#}", path.display());
                None
            }
        }
    }

    /// Writes a compiled component to the disk cache (atomically: temporary file, then rename).
    fn store_cached(&self, hash: &str, component: &Component) {
        let Some(path) = self.cache_path(hash) else {
            return;
        };
        let write = || -> std::io::Result<()> {
            let bytes = component.serialize().map_err(std::io::Error::other)?;
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, &path)
        };
        if let Err(e) = write() {
            tracing::warn!("could not cache compiled component {}: {e}", path.display());
        }
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
            GuestPre::StrategyV0_1(pre) => pre.instantiate(&mut store).map(Guest::StrategyV0_1),
            GuestPre::StrategyV0_2(pre) => pre.instantiate(&mut store).map(Guest::StrategyV0_2),
            GuestPre::OptimizerV0_1(pre) => pre.instantiate(&mut store).map(Guest::OptimizerV0_1),
            GuestPre::OptimizerV0_2(pre) => pre.instantiate(&mut store).map(Guest::OptimizerV0_2),
        }
        .map_err(SandboxError::Instantiate)?;
        Ok(Instance::new(store, guest, self.limits.clone()))
    }
}
