//! Host bindings generated from `wit/`, one module per released version of the contract, each
//! with its two worlds. The interfaces both worlds of a version import are generated once, with
//! its `strategy` world, and shared.

/// `stratbox:strategy@0.1.0`, kept so components built against it keep running.
pub mod v0_1 {
    /// The `strategy` world and every interface of the package.
    pub mod strategy {
        wasmtime::component::bindgen!({
            path: "../wit/0.1.0",
            world: "strategy",
            imports: { default: trappable },
        });
    }

    /// The `signal-optimizer` world.
    pub mod optimizer {
        wasmtime::component::bindgen!({
            path: "../wit/0.1.0",
            world: "signal-optimizer",
            imports: { default: trappable },
            with: {
                "stratbox:strategy/types": super::strategy::stratbox::strategy::types,
                "stratbox:strategy/market": super::strategy::stratbox::strategy::market,
                "stratbox:strategy/clock": super::strategy::stratbox::strategy::clock,
                "stratbox:strategy/state": super::strategy::stratbox::strategy::state,
                "stratbox:strategy/log": super::strategy::stratbox::strategy::log,
            },
        });
    }
}

/// `stratbox:strategy@0.2.4`, the current contract (0.2.1 added the `risk` interface, 0.2.2
/// `execution`, 0.2.3 `conditions`, 0.2.4 `orders.venues`, `orders.submit-at` and
/// `execution.start-at`). A component built against an earlier 0.2.x imports a subset of it,
/// which wasmtime's semver-aware linker resolves to these 0.2.4 definitions.
pub mod v0_2 {
    /// The `strategy` world and every interface of the package.
    pub mod strategy {
        wasmtime::component::bindgen!({
            path: "../wit/0.2.4",
            world: "strategy",
            imports: { default: trappable },
        });
    }

    /// The `signal-optimizer` world.
    pub mod optimizer {
        wasmtime::component::bindgen!({
            path: "../wit/0.2.4",
            world: "signal-optimizer",
            imports: { default: trappable },
            with: {
                "stratbox:strategy/types": super::strategy::stratbox::strategy::types,
                "stratbox:strategy/market": super::strategy::stratbox::strategy::market,
                "stratbox:strategy/clock": super::strategy::stratbox::strategy::clock,
                "stratbox:strategy/state": super::strategy::stratbox::strategy::state,
                "stratbox:strategy/log": super::strategy::stratbox::strategy::log,
                "stratbox:strategy/conditions": super::strategy::stratbox::strategy::conditions,
            },
        });
    }
}
