//! # stratbox-guest
//!
//! The SDK for writing trading strategies and signal optimizers that run inside the stratbox
//! host as WebAssembly components (`wasm32-wasip2`), against the WIT contract
//! `stratbox:strategy@0.2.4`.
//!
//! A strategy is a type implementing [`Strategy`]; every callback has a no-op default, so a
//! strategy overrides only what it needs. [`export_strategy!`] turns it into a component.
//!
//! ```no_run
//! use stratbox_guest::prelude::*;
//!
//! /// Buys when the close crosses above its 20-bar mean, sells when it crosses below.
//! struct MeanCross { sma: Sma, qty: f64, above: Option<bool> }
//!
//! impl Strategy for MeanCross {
//!     fn init(config: &str) -> Result<Self, String> {
//!         let qty = config::number(config, "quantity").unwrap_or(0.01);
//!         Ok(MeanCross { sma: Sma::new(20), qty, above: None })
//!     }
//!
//!     fn on_bar(&mut self, bar: &Bar) {
//!         let Some(mean) = self.sma.update(bar.close) else { return };
//!         let above = bar.close > mean;
//!         if self.above == Some(!above) {
//!             let side = if above { Side::Buy } else { Side::Sell };
//!             if let Err(rejected) = Order::market(bar.symbol, side, self.qty).submit() {
//!                 log::warn(&format!("order refused: {}", rejected.message));
//!             }
//!         }
//!         self.above = Some(above);
//!     }
//!
//!     fn on_fill(&mut self, update: &OrderUpdate, fill: &Execution) {
//!         log::info(&format!("order {} filled {} at {}", update.order_id, fill.quantity, fill.price));
//!     }
//! }
//!
//! export_strategy!(MeanCross);
//! ```
//!
//! Orders are built with [`Order`]: every Binance spot type (market, for a base quantity or a
//! quote amount; limit with GTC, IOC or FOK; limit-maker; stop-loss and take-profit, as market
//! or limit orders, on a stop price or trailing), iceberg quantities, reduce-only, and
//! cancel-replace ([`Order::replace`]). Every change of an order comes to
//! [`Strategy::on_order_update`], rejections included with the rule that refused them.
//! Features are read by name, or faster by a [`Feature`] handle resolved once.
//!
//! Build it with `cargo build --release --target wasm32-wasip2`, then check and backtest the
//! resulting `.wasm` with `stratbox check` and `stratbox backtest`.
//!
//! The guest has no ambient capabilities: no files, sockets, environment or wall clock. Everything
//! it can do is in the host interfaces re-exported here: [`market`], [`clock`], [`orders`],
//! [`signals`], [`state`], [`log`], [`risk`] (its trading state, drawdown and VaR as the
//! host keeps them, and position sizes clipped to its budget; since 0.2.1), [`execution`]
//! (parent orders the host works by TWAP, VWAP, POV, iceberg or peg; since 0.2.2) and
//! [`conditions`] (market regimes and the signals' measured quality; since 0.2.3). With several
//! venues ([`orders::venues`], since 0.2.4), [`Order::submit_at`] and
//! [`execution::start_at`] send an order or a parent's children to the one named.

pub mod config;
mod feature;
pub mod indicators;
mod order;
mod runtime;

pub use feature::{Feature, read_features};
pub use order::Order;

/// Bindings generated from `wit/` for the `strategy` world (imports and exports).
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/0.2.4",
        world: "strategy",
        pub_export_macro: true,
        export_macro_name: "__export_strategy_world",
        default_bindings_module: "stratbox_guest::bindings",
    });
}

/// Bindings for the `signal-optimizer` world; its imports are shared with [`bindings`].
#[doc(hidden)]
pub mod optimizer_bindings {
    wit_bindgen::generate!({
        path: "../wit/0.2.4",
        world: "signal-optimizer",
        pub_export_macro: true,
        export_macro_name: "__export_optimizer_world",
        default_bindings_module: "stratbox_guest::optimizer_bindings",
        with: {
            "stratbox:strategy/types@0.2.4": crate::bindings::stratbox::strategy::types,
            "stratbox:strategy/market@0.2.4": crate::bindings::stratbox::strategy::market,
            "stratbox:strategy/clock@0.2.4": crate::bindings::stratbox::strategy::clock,
            "stratbox:strategy/state@0.2.4": crate::bindings::stratbox::strategy::state,
            "stratbox:strategy/log@0.2.4": crate::bindings::stratbox::strategy::log,
            "stratbox:strategy/conditions@0.2.4": crate::bindings::stratbox::strategy::conditions,
        },
    });
}

pub use bindings::stratbox::strategy::types::{
    Account, Amount, Balance, Bar, BookLevel, BookLevels, Budget, CancelReplaceMode, Direction,
    ExchangeFilter, Execution, ExecutionType, Instrument, Level, Liquidity, MarketConditions,
    OpenOrder, OrderRejected, OrderRequest, OrderStatus, OrderType, OrderUpdate, Position,
    Prediction, RejectCode, Side, Signal, SignalKind, SymbolId, TimeInForce, Timer, TimestampMs,
    TopOfBook, Trade, Trigger,
};

/// The deployment's risk as the host keeps it (trading state, drawdown, VaR) and position
/// sizes the host clips to the budget: volatility targeting, fractional Kelly, fixed fraction
/// risked per stop distance, each scaled by a signal's strength (since contract 0.2.1).
pub mod risk {
    pub use crate::bindings::stratbox::strategy::risk::*;
}

/// Parent orders the host works through child orders of this strategy's account: TWAP, VWAP
/// (weights per slice), POV, iceberg and peg, within a limit price or slippage cap, resting or
/// taking by urgency; their progress and cost against the arrival mid (since contract 0.2.2).
/// The children's updates go to the parent, not to [`Strategy::on_order_update`].
pub mod execution {
    pub use crate::bindings::stratbox::strategy::execution::*;
}

/// Each symbol's market regimes (volatility, trend, liquidity) and the measured quality of each
/// source's signals (hit rate with its interval, mean return, information coefficient), as the
/// host keeps them (since contract 0.2.3).
pub mod conditions {
    pub use crate::bindings::stratbox::strategy::conditions::*;
}

/// Market data the host has seen: bars, book, instruments, named features, model predictions.
pub mod market {
    pub use crate::bindings::stratbox::strategy::market::*;

    /// `price` rounded down to the instrument's tick (unchanged without one).
    pub fn floor_price(instrument: &Instrument, price: f64) -> f64 {
        floor_to(price, instrument.tick_size)
    }

    /// `quantity` rounded down to the instrument's lot step (unchanged without one).
    pub fn floor_quantity(instrument: &Instrument, quantity: f64) -> f64 {
        floor_to(quantity, instrument.step_size)
    }

    /// `x` rounded down to a multiple of `step`, computed in units of 1e-8 so the result is
    /// the decimal the host expects.
    fn floor_to(x: f64, step: f64) -> f64 {
        if step.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) || !x.is_finite() {
            return x;
        }
        let units = (x * 1e8).round() as i64;
        let step = ((step * 1e8).round() as i64).max(1);
        (units.div_euclid(step) * step) as f64 / 1e8
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn rounds_down_to_the_grid_in_exact_decimals() {
            assert_eq!(super::floor_to(101.237, 0.01), 101.23);
            assert_eq!(super::floor_to(0.30000000000000004, 0.1), 0.3);
            assert_eq!(super::floor_to(0.123456789, 0.00001), 0.12345);
            assert_eq!(super::floor_to(5.0, 0.0), 5.0);
        }
    }
}

/// Event time and timers (`on-timer` fires when event time reaches a timer's due time).
pub mod clock {
    pub use crate::bindings::stratbox::strategy::clock::*;
}

/// Orders, balances, positions and the strategy's account and budget.
pub mod orders {
    pub use crate::bindings::stratbox::strategy::orders::*;
}

/// Publishing signals to the host's signal layer.
pub mod signals {
    pub use crate::bindings::stratbox::strategy::signals::*;
}

/// The strategy's private key-value store, which survives hot swap and host restart.
pub mod state {
    pub use crate::bindings::stratbox::strategy::state::*;

    /// Reads an f64 stored with [`set_f64`].
    pub fn get_f64(key: &str) -> Option<f64> {
        let bytes = get(key)?;
        Some(f64::from_le_bytes(bytes.try_into().ok()?))
    }

    /// Stores an f64 under `key`.
    pub fn set_f64(key: &str, value: f64) -> Result<(), String> {
        set(key, &value.to_le_bytes())
    }

    /// Reads a u64 stored with [`set_u64`].
    pub fn get_u64(key: &str) -> Option<u64> {
        let bytes = get(key)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }

    /// Stores a u64 under `key`.
    pub fn set_u64(key: &str, value: u64) -> Result<(), String> {
        set(key, &value.to_le_bytes())
    }
}

/// Levelled logging through the host (rate-limited there).
pub mod log {
    use crate::bindings::stratbox::strategy::log::log;
    pub use crate::bindings::stratbox::strategy::types::Level;

    /// Logs at debug level.
    pub fn debug(message: &str) {
        log(Level::Debug, message)
    }
    /// Logs at info level.
    pub fn info(message: &str) {
        log(Level::Info, message)
    }
    /// Logs at warn level.
    pub fn warn(message: &str) {
        log(Level::Warn, message)
    }
    /// Logs at error level.
    pub fn error(message: &str) {
        log(Level::Error, message)
    }
}

/// A trading strategy. Every callback but [`Strategy::init`] has a no-op default.
///
/// The host calls the callbacks one at a time, in event order, each under a CPU and memory
/// bound; a callback that traps or exceeds a bound halts the strategy.
pub trait Strategy: Sized + 'static {
    /// Builds the strategy from its deployment configuration (JSON text, `{}` when none was
    /// given). Orders are refused here; submit them from a callback.
    fn init(config: &str) -> Result<Self, String>;
    /// A bar has closed.
    fn on_bar(&mut self, _bar: &Bar) {}
    /// A public trade.
    fn on_trade(&mut self, _trade: &Trade) {}
    /// The local order book changed; these are its best levels ([`market::book`] reads deeper).
    fn on_book(&mut self, _top: &TopOfBook) {}
    /// One of this strategy's orders changed. By default an execution is passed on to
    /// [`Strategy::on_fill`].
    fn on_order_update(&mut self, update: &OrderUpdate) {
        if let Some(execution) = &update.execution {
            self.on_fill(update, execution);
        }
    }
    /// One of this strategy's orders was (partly) filled.
    fn on_fill(&mut self, _update: &OrderUpdate, _execution: &Execution) {}
    /// This bar's signals after the optimizers.
    fn on_signal(&mut self, _signals: &[Signal]) {}
    /// A timer set with [`clock::set_timer`] came due.
    fn on_timer(&mut self, _timer: &Timer) {}
}

/// A signal optimizer: filters, re-weights and scores each bar's raw signals.
pub trait SignalOptimizer: Sized + 'static {
    /// Builds the optimizer from its deployment configuration (JSON text).
    fn init(config: &str) -> Result<Self, String>;
    /// Returns the signals to pass on to strategies.
    fn optimize(&mut self, signals: Vec<Signal>, conditions: &[MarketConditions]) -> Vec<Signal>;
    /// One quality score in 0..1 per signal.
    fn score(&mut self, signals: &[Signal]) -> Vec<f64>;
}

/// Everything a strategy usually needs, in one import.
pub mod prelude {
    pub use crate::indicators::{Bollinger, Donchian, Ema, RollingStd, Sma};
    pub use crate::{
        Bar, BookLevels, Direction, Execution, ExecutionType, Feature, Liquidity, MarketConditions,
        Order, OrderStatus, OrderUpdate, RejectCode, Side, Signal, SignalKind, SignalOptimizer,
        Strategy, TimeInForce, Timer, TopOfBook, Trade, clock, conditions, config,
        export_optimizer, export_strategy, log, market, orders, risk, signals, state,
    };
}

#[doc(hidden)]
pub use runtime::Slot as __Slot;
