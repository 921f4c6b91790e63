//! The glue behind [`export_strategy!`](crate::export_strategy) and
//! [`export_optimizer!`](crate::export_optimizer): one instance of the guest's type, created by
//! `init` and handed to every later callback.

use std::cell::RefCell;

/// Holds the single instance of a strategy or optimizer.
pub struct Slot<T>(RefCell<Option<T>>);

// SAFETY: a wasm32-wasip2 component instance runs on one thread, and the host never calls
// into it re-entrantly, so the slot is only ever touched from that thread.
unsafe impl<T> Sync for Slot<T> {}

impl<T> Slot<T> {
    /// An empty slot.
    pub const fn new() -> Self {
        Slot(RefCell::new(None))
    }

    /// Stores the instance `init` built.
    pub fn set(&self, value: T) {
        *self.0.borrow_mut() = Some(value);
    }

    /// Runs `f` on the instance; `default` when `init` has not succeeded.
    pub fn with<R>(&self, default: R, f: impl FnOnce(&mut T) -> R) -> R {
        match self.0.borrow_mut().as_mut() {
            Some(instance) => f(instance),
            None => default,
        }
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Exports a type implementing [`Strategy`](crate::Strategy) as the component's `strategy` world.
///
/// Use it once per component, at the crate root.
#[macro_export]
macro_rules! export_strategy {
    ($ty:ty) => {
        static __STRATBOX_STRATEGY: $crate::__Slot<$ty> = $crate::__Slot::new();

        struct __StratboxStrategyExport;

        impl $crate::bindings::Guest for __StratboxStrategyExport {
            fn init(config: ::std::string::String) -> ::std::result::Result<(), ::std::string::String> {
                let instance = <$ty as $crate::Strategy>::init(&config)?;
                __STRATBOX_STRATEGY.set(instance);
                Ok(())
            }
            fn on_bar(bar: $crate::Bar) {
                __STRATBOX_STRATEGY.with((), |s| $crate::Strategy::on_bar(s, &bar))
            }
            fn on_trade(trade: $crate::Trade) {
                __STRATBOX_STRATEGY.with((), |s| $crate::Strategy::on_trade(s, &trade))
            }
            fn on_book(top: $crate::TopOfBook) {
                __STRATBOX_STRATEGY.with((), |s| $crate::Strategy::on_book(s, &top))
            }
            fn on_order_update(update: $crate::OrderUpdate) {
                __STRATBOX_STRATEGY.with((), |s| $crate::Strategy::on_order_update(s, &update))
            }
            fn on_signal(signals: ::std::vec::Vec<$crate::Signal>) {
                __STRATBOX_STRATEGY.with((), |s| $crate::Strategy::on_signal(s, &signals))
            }
            fn on_timer(timer: $crate::Timer) {
                __STRATBOX_STRATEGY.with((), |s| $crate::Strategy::on_timer(s, &timer))
            }
        }

        $crate::bindings::__export_strategy_world!(__StratboxStrategyExport with_types_in $crate::bindings);
    };
}

/// Exports a type implementing [`SignalOptimizer`](crate::SignalOptimizer) as the component's
/// `signal-optimizer` world.
#[macro_export]
macro_rules! export_optimizer {
    ($ty:ty) => {
        static __STRATBOX_OPTIMIZER: $crate::__Slot<$ty> = $crate::__Slot::new();

        struct __StratboxOptimizerExport;

        impl $crate::optimizer_bindings::Guest for __StratboxOptimizerExport {
            fn init(config: ::std::string::String) -> ::std::result::Result<(), ::std::string::String> {
                let instance = <$ty as $crate::SignalOptimizer>::init(&config)?;
                __STRATBOX_OPTIMIZER.set(instance);
                Ok(())
            }
            fn optimize(
                signals: ::std::vec::Vec<$crate::Signal>,
                conditions: ::std::vec::Vec<$crate::MarketConditions>,
            ) -> ::std::vec::Vec<$crate::Signal> {
                __STRATBOX_OPTIMIZER.with(::std::vec::Vec::new(), |o| {
                    $crate::SignalOptimizer::optimize(o, signals, &conditions)
                })
            }
            fn score(signals: ::std::vec::Vec<$crate::Signal>) -> ::std::vec::Vec<f64> {
                __STRATBOX_OPTIMIZER.with(::std::vec::Vec::new(), |o| {
                    $crate::SignalOptimizer::score(o, &signals)
                })
            }
        }

        $crate::optimizer_bindings::__export_optimizer_world!(__StratboxOptimizerExport with_types_in $crate::optimizer_bindings);
    };
}
