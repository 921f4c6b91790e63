//! Host bindings generated from `wit/` for the two worlds. The interfaces both worlds import
//! are generated once, with the `strategy` world, and shared.

/// The `strategy` world and every interface of the package.
pub mod strategy {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "strategy",
        imports: { default: trappable },
    });
}

/// The `signal-optimizer` world.
pub mod optimizer {
    wasmtime::component::bindgen!({
        path: "../wit",
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
