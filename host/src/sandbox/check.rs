//! Checking a component against the contract before it runs: which world it implements, what
//! it imports and exports, and a precise error when something is missing or has the wrong type.

use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::Component;

/// The package of the contract.
pub const PACKAGE: &str = "stratbox:strategy";

/// A released version of the contract. Within one (0.2.x) versions only add; a component built
/// against any released version runs, through that version's adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub enum Contract {
    /// `stratbox:strategy@0.1.x`.
    #[serde(rename = "0.1")]
    V0_1,
    /// `stratbox:strategy@0.2.x`, the current contract.
    #[serde(rename = "0.2")]
    V0_2,
}

impl Contract {
    /// The contract new components are built against.
    pub const CURRENT: Contract = Contract::V0_2;
    /// Every version this host runs, oldest first.
    pub const ALL: [Contract; 2] = [Contract::V0_1, Contract::V0_2];

    /// `0.1`, `0.2`.
    pub fn name(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1",
            Contract::V0_2 => "0.2",
        }
    }

    /// The version of an import's `@x.y.z` suffix, if it is a released one.
    fn of(version: &str) -> Option<Contract> {
        Contract::ALL.into_iter().find(|c| {
            version
                .strip_prefix(c.name())
                .is_some_and(|rest| rest.starts_with('.'))
        })
    }
}

/// The world a component implements.
#[derive(utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
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

    /// The functions the world exports in `contract`.
    pub fn exports(self, contract: Contract) -> &'static [&'static str] {
        match (self, contract) {
            (World::Strategy, Contract::V0_1) => &[
                "init",
                "on-bar",
                "on-trade",
                "on-book",
                "on-fill",
                "on-signal",
                "on-timer",
            ],
            (World::Strategy, Contract::V0_2) => &[
                "init",
                "on-bar",
                "on-trade",
                "on-book",
                "on-order-update",
                "on-signal",
                "on-timer",
            ],
            (World::SignalOptimizer, _) => &["init", "optimize", "score"],
        }
    }

    /// The contract interfaces the world lets a component import.
    pub fn imports(self) -> &'static [&'static str] {
        match self {
            World::Strategy => &[
                "types",
                "market",
                "clock",
                "orders",
                "signals",
                "state",
                "log",
                "risk",
                "execution",
                "conditions",
            ],
            World::SignalOptimizer => &["types", "market", "clock", "state", "log", "conditions"],
        }
    }
}

/// What `stratbox check` prints about a component.
#[derive(Clone, Debug, Serialize)]
pub struct ComponentReport {
    /// The world it implements.
    pub world: World,
    /// The contract version it was built against.
    pub contract: Contract,
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
         on-book, on-order-update, on-signal and on-timer (on-fill instead of on-order-update in 0.1); the \
         signal-optimizer world exports init, optimize and score; this component exports [{}]",
        .0.join(", ")
    )]
    NoWorld(Vec<String>),
    /// It exports functions of both worlds.
    #[error(
        "component exports functions of both the strategy and the signal-optimizer world; a component implements one"
    )]
    BothWorlds,
    /// Exports are missing.
    #[error("component looks like a {} (contract {}) but does not export {}", .world.name(), .contract.name(), .missing.join(", "))]
    MissingExports {
        /// The world it resembles.
        world: World,
        /// The contract version its imports or exports point to.
        contract: Contract,
        /// What it lacks.
        missing: Vec<String>,
    },
    /// It imports interfaces of two versions of the contract.
    #[error("component imports {PACKAGE} interfaces of two versions, {} and {}; build it against one", .0.name(), .1.name())]
    MixedVersions(Contract, Contract),
    /// It imports something the world does not offer.
    #[error("{} components may import only wasi:* and {PACKAGE}/{{{}}} of a released version (0.1.x, 0.2.x); this component imports {}", .world.name(), .world.imports().join(","), .import)]
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

/// Decides which world and contract version `component` implements, checking its export and
/// import names. The version is that of its contract imports; a component importing none is
/// told by its exports (`on-fill` is 0.1's, `on-order-update` 0.2's), the current one otherwise.
pub fn classify(engine: &Engine, component: &Component) -> Result<(World, Contract), CheckError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let has = |name: &str| exports.iter().any(|e| e == name);
    let like = |world: World| {
        Contract::ALL.iter().any(|&c| {
            world
                .exports(c)
                .iter()
                .filter(|&&e| e != "init")
                .any(|e| has(e))
        })
    };
    let world = match (like(World::Strategy), like(World::SignalOptimizer)) {
        (true, true) => return Err(CheckError::BothWorlds),
        (true, false) => World::Strategy,
        (false, true) => World::SignalOptimizer,
        (false, false) => return Err(CheckError::NoWorld(exports)),
    };
    let mut imported: Option<Contract> = None;
    for (name, _) in ty.imports(engine) {
        if name.starts_with("wasi:") {
            continue;
        }
        let contract = name
            .strip_prefix(PACKAGE)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.split_once('@'))
            .filter(|(iface, _)| world.imports().contains(iface))
            .and_then(|(_, version)| Contract::of(version))
            .ok_or_else(|| CheckError::ForbiddenImport {
                world,
                import: name.to_string(),
            })?;
        match imported {
            Some(other) if other != contract => {
                return Err(CheckError::MixedVersions(
                    other.min(contract),
                    other.max(contract),
                ));
            }
            _ => imported = Some(contract),
        }
    }
    let contract = imported.unwrap_or(if world == World::Strategy && has("on-fill") {
        Contract::V0_1
    } else {
        Contract::CURRENT
    });
    let missing: Vec<String> = world
        .exports(contract)
        .iter()
        .filter(|e| !has(e))
        .map(|e| e.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(CheckError::MissingExports {
            world,
            contract,
            missing,
        });
    }
    Ok((world, contract))
}

/// The report of a component already classified as `world` of `contract`.
pub fn report(
    engine: &Engine,
    component: &Component,
    (world, contract): (World, Contract),
    size: usize,
    hash: String,
) -> ComponentReport {
    let ty = component.component_type();
    ComponentReport {
        world,
        contract,
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
