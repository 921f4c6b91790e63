//! Checking a component against the contract before it runs: which world it implements, what
//! it imports and exports, and a precise error when something is missing or has the wrong type.

use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::Component;

/// The package and version of the contract this host implements.
pub const PACKAGE: &str = "stratbox:strategy";
/// Minor versions of the contract this host accepts (0.1.x: additions only).
pub const VERSION_PREFIX: &str = "@0.1.";

/// The world a component implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// `stratbox:strategy/strategy`.
    Strategy,
    /// `stratbox:strategy/signal-optimizer`.
    SignalOptimizer,
}

impl World {
    /// The world's WIT name.
    pub fn name(self) -> &'static str {
        match self {
            World::Strategy => "strategy",
            World::SignalOptimizer => "signal-optimizer",
        }
    }

    /// The functions the world exports.
    pub fn exports(self) -> &'static [&'static str] {
        match self {
            World::Strategy => &[
                "init",
                "on-bar",
                "on-trade",
                "on-book",
                "on-fill",
                "on-signal",
                "on-timer",
            ],
            World::SignalOptimizer => &["init", "optimize", "score"],
        }
    }

    /// The contract interfaces the world lets a component import.
    pub fn imports(self) -> &'static [&'static str] {
        match self {
            World::Strategy => &[
                "types", "market", "clock", "orders", "signals", "state", "log",
            ],
            World::SignalOptimizer => &["types", "market", "clock", "state", "log"],
        }
    }
}

/// What `stratbox check` prints about a component.
#[derive(Clone, Debug, Serialize)]
pub struct ComponentReport {
    /// The world it implements.
    pub world: World,
    /// Its imports, by name.
    pub imports: Vec<String>,
    /// Its exports, by name.
    pub exports: Vec<String>,
    /// Size in bytes.
    pub size: usize,
    /// Hex SHA-256 of its bytes.
    pub hash: String,
}

/// A component that does not match the contract.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// It exports functions of neither world.
    #[error(
        "component implements neither world of {PACKAGE}: the strategy world exports init, on-bar, on-trade, \
         on-book, on-fill, on-signal and on-timer; the signal-optimizer world exports init, optimize and score; \
         this component exports [{}]",
        .0.join(", ")
    )]
    NoWorld(Vec<String>),
    /// It exports functions of both worlds.
    #[error(
        "component exports functions of both the strategy and the signal-optimizer world; a component implements one"
    )]
    BothWorlds,
    /// Exports are missing.
    #[error("component looks like a {} but does not export {}", .world.name(), .missing.join(", "))]
    MissingExports {
        /// The world it resembles.
        world: World,
        /// What it lacks.
        missing: Vec<String>,
    },
    /// It imports something the world does not offer.
    #[error("{} components may import only wasi:* and {PACKAGE}/{{{}}}{VERSION_PREFIX}x; this component imports {}", .world.name(), .world.imports().join(","), .import)]
    ForbiddenImport {
        /// The world.
        world: World,
        /// The offending import.
        import: String,
    },
    /// An import or export has the wrong type, or an import the host does not provide.
    #[error("component does not match the {} world: {}", .world.name(), .detail)]
    Link {
        /// The world.
        world: World,
        /// wasmtime's explanation.
        detail: String,
    },
}

impl CheckError {
    pub(crate) fn link(world: World, error: wasmtime::Error) -> Self {
        CheckError::Link {
            world,
            detail: format!("{error:#}"),
        }
    }
}

/// Decides which world `component` implements, checking its export names and import names.
pub fn classify(engine: &Engine, component: &Component) -> Result<World, CheckError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let has = |name: &str| exports.iter().any(|e| e == name);
    let strategy_like = World::Strategy
        .exports()
        .iter()
        .filter(|&&e| e != "init")
        .any(|e| has(e));
    let optimizer_like = World::SignalOptimizer
        .exports()
        .iter()
        .filter(|&&e| e != "init")
        .any(|e| has(e));
    let world = match (strategy_like, optimizer_like) {
        (true, true) => return Err(CheckError::BothWorlds),
        (true, false) => World::Strategy,
        (false, true) => World::SignalOptimizer,
        (false, false) => return Err(CheckError::NoWorld(exports)),
    };
    let missing: Vec<String> = world
        .exports()
        .iter()
        .filter(|e| !has(e))
        .map(|e| e.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(CheckError::MissingExports { world, missing });
    }
    for (name, _) in ty.imports(engine) {
        if name.starts_with("wasi:") {
            continue;
        }
        let allowed = name
            .strip_prefix(PACKAGE)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.split_once('@'))
            .is_some_and(|(iface, version)| {
                world.imports().contains(&iface)
                    && format!("@{version}").starts_with(VERSION_PREFIX)
            });
        if !allowed {
            return Err(CheckError::ForbiddenImport {
                world,
                import: name.to_string(),
            });
        }
    }
    Ok(world)
}

/// The report of a component already classified as `world`.
pub fn report(
    engine: &Engine,
    component: &Component,
    world: World,
    size: usize,
    hash: String,
) -> ComponentReport {
    let ty = component.component_type();
    ComponentReport {
        world,
        imports: ty
            .imports(engine)
            .map(|(name, _)| name.to_string())
            .collect(),
        exports: ty
            .exports(engine)
            .map(|(name, _)| name.to_string())
            .collect(),
        size,
        hash,
    }
}
