//! One running guest: its store and exports, with each callback armed with the CPU bound and
//! its counters reset, and every failure turned into a [`Halt`] with a readable reason.

use super::bindings::optimizer::SignalOptimizer;
use super::bindings::strategy::Strategy;
use super::bindings::strategy::stratbox::strategy::types;
use super::convert::v0_1 as convert;
use super::host::{CallbackCounters, GuestCtx};
use super::limits::{CpuLimit, SandboxLimits};
use crate::feeds::{BookTop, TradePrint};
use crate::market::Conditions;
use crate::model::{Bar, ExecutionType, OrderUpdate, Signal, TimestampMs};
use std::sync::Arc;
use wasmtime::{Store, Trap};

/// Why a guest was stopped. The instance cannot run again; the deployment can be restarted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Halt {
    /// What happened, in words.
    pub reason: String,
}

/// Why `init` failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InitError {
    /// The guest returned an error (a bad configuration, say).
    #[error("init refused: {0}")]
    Refused(String),
    /// The guest trapped or broke a bound during init.
    #[error("init halted: {0}")]
    Halted(Halt),
}

pub(crate) enum Guest {
    Strategy(Strategy),
    Optimizer(SignalOptimizer),
}

/// A guest instance in its own store.
pub struct Instance {
    store: Store<GuestCtx>,
    guest: Guest,
    limits: Arc<SandboxLimits>,
}

/// Runs a call into a guest, turning a panic of a host function it called (a host bug the guest
/// reached) into an error, so that guest is halted and the host goes on: the panic unwinds
/// through the guest's frames, and its store is not used again.
fn contained<R>(call: impl FnOnce() -> wasmtime::Result<R>) -> wasmtime::Result<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(wasmtime::Error::msg(format!(
            "a host function it called panicked: {message}"
        )))
    })
}

/// Calls an export of the strategy world, or does nothing for an optimizer.
macro_rules! strategy_call {
    ($self:ident, $now:expr, |$g:ident, $store:ident| $call:expr) => {{
        $self.arm($now);
        let result = match &$self.guest {
            Guest::Strategy($g) => {
                let $store = &mut $self.store;
                contained(|| $call)
            }
            Guest::Optimizer(_) => Ok(()),
        };
        result.map_err(|e| $self.halt(e))
    }};
}

impl Instance {
    pub(crate) fn new(store: Store<GuestCtx>, guest: Guest, limits: Arc<SandboxLimits>) -> Self {
        Instance {
            store,
            guest,
            limits,
        }
    }

    /// Resets the per-callback counters and bounds before a call at event time `now`.
    fn arm(&mut self, now: TimestampMs) {
        let ctx = self.store.data_mut();
        ctx.now = now;
        ctx.counters = CallbackCounters::default();
        match self.limits.cpu {
            CpuLimit::Epoch => self
                .store
                .set_epoch_deadline(self.limits.callback_ms.max(1)),
            CpuLimit::Fuel => {
                // Only fails when fuel is not enabled, which the runtime guarantees it is.
                let _ = self.store.set_fuel(self.limits.callback_fuel);
            }
        }
    }

    /// Turns a failed call into a halt reason.
    fn halt(&mut self, error: wasmtime::Error) -> Halt {
        let ctx = self.store.data_mut();
        if let Some(fault) = ctx.fault.take() {
            return Halt { reason: fault };
        }
        if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return Halt {
                reason: format!("called exit with code {}", exit.0),
            };
        }
        let stderr = String::from_utf8_lossy(&ctx.stderr.contents())
            .trim()
            .to_string();
        let stderr_tail = || {
            let tail: String = stderr
                .lines()
                .rev()
                .take(3)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join(" | ");
            if tail.is_empty() {
                String::new()
            } else {
                format!(" (stderr: {tail})")
            }
        };
        let reason = match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => format!(
                "exceeded its CPU time of {} ms in one callback",
                self.limits.callback_ms
            ),
            Some(Trap::OutOfFuel) => format!(
                "exceeded its fuel of {} in one callback",
                self.limits.callback_fuel
            ),
            Some(Trap::StackOverflow) => "stack overflow: recursion too deep".to_string(),
            Some(Trap::MemoryOutOfBounds) if stderr.is_empty() => {
                "trapped: out-of-bounds memory access (a guest's own stack overflowing, e.g. from deep recursion, \
                 shows as this)"
                    .to_string()
            }
            Some(trap) => match ctx.limiter.denied.take() {
                Some(denied) => format!("{denied}; then trapped: {trap}{}", stderr_tail()),
                None if stderr.contains("panicked") => format!("panicked{}", stderr_tail()),
                None => format!("trapped: {trap}{}", stderr_tail()),
            },
            None => format!("failed: {error:#}"),
        };
        Halt { reason }
    }

    /// Calls `init` with the deployment's configuration (orders are refused while it runs).
    pub fn init(&mut self, config: &str, now: TimestampMs) -> Result<(), InitError> {
        self.arm(now);
        self.store.data_mut().in_init = true;
        let result = match &self.guest {
            Guest::Strategy(g) => contained(|| g.call_init(&mut self.store, config)),
            Guest::Optimizer(g) => contained(|| g.call_init(&mut self.store, config)),
        };
        self.store.data_mut().in_init = false;
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(InitError::Refused(message)),
            Err(e) => Err(InitError::Halted(self.halt(e))),
        }
    }

    /// Delivers a closed bar.
    pub fn on_bar(&mut self, bar: &Bar, now: TimestampMs) -> Result<(), Halt> {
        let bar = convert::bar(bar);
        strategy_call!(self, now, |g, store| g.call_on_bar(store, bar))
    }

    /// Delivers a public trade.
    pub fn on_trade(&mut self, trade: &TradePrint, now: TimestampMs) -> Result<(), Halt> {
        let trade = convert::trade(trade);
        strategy_call!(self, now, |g, store| g.call_on_trade(store, trade))
    }

    /// Delivers a book update.
    pub fn on_book(&mut self, book: &BookTop, now: TimestampMs) -> Result<(), Halt> {
        let book = convert::book_levels(book, usize::MAX);
        strategy_call!(self, now, |g, store| g.call_on_book(store, &book))
    }

    /// Delivers a change of one of the deployment's orders (0.1 guests hear of fills only).
    pub fn on_order_update(&mut self, update: &OrderUpdate, now: TimestampMs) -> Result<(), Halt> {
        let Some(fill) = update
            .fill
            .as_ref()
            .filter(|_| update.execution == ExecutionType::Trade)
        else {
            return Ok(());
        };
        let fill = convert::fill(fill);
        strategy_call!(self, now, |g, store| g.call_on_fill(store, fill))
    }

    /// Delivers this bar's optimized signals.
    pub fn on_signal(&mut self, signals: &[Signal], now: TimestampMs) -> Result<(), Halt> {
        let signals: Vec<types::Signal> = signals.iter().map(convert::signal_out).collect();
        strategy_call!(self, now, |g, store| g.call_on_signal(store, &signals))
    }

    /// Delivers a due timer.
    pub fn on_timer(&mut self, id: u64, due: TimestampMs, now: TimestampMs) -> Result<(), Halt> {
        let timer = types::Timer { id, due };
        strategy_call!(self, now, |g, store| g.call_on_timer(store, timer))
    }

    /// Runs an optimizer over this bar's signals; checks the size of what it returns.
    pub fn optimize(
        &mut self,
        signals: &[Signal],
        conditions: &[Conditions],
        now: TimestampMs,
    ) -> Result<Vec<Signal>, Halt> {
        self.arm(now);
        let Guest::Optimizer(g) = &self.guest else {
            return Ok(signals.to_vec());
        };
        let wit_signals: Vec<types::Signal> = signals.iter().map(convert::signal_out).collect();
        let wit_conditions: Vec<types::MarketConditions> =
            conditions.iter().map(convert::conditions).collect();
        let out = contained(|| g.call_optimize(&mut self.store, &wit_signals, &wit_conditions))
            .map_err(|e| self.halt(e))?;
        let bound = signals.len() + self.limits.signals_per_callback as usize;
        if out.len() > bound {
            return Err(Halt {
                reason: format!(
                    "optimize returned {} signals for {} inputs, above the bound of {bound}",
                    out.len(),
                    signals.len()
                ),
            });
        }
        if let Some(bad) = out
            .iter()
            .find(|s| !(s.strength.is_finite() && s.confidence.is_finite()))
        {
            return Err(Halt {
                reason: format!(
                    "optimize returned a signal with non-finite strength {} or confidence {}",
                    bad.strength, bad.confidence
                ),
            });
        }
        // An optimizer re-weights and filters; it keeps each signal's source (or its own name
        // for signals it adds).
        let name = self.store.data().name.clone();
        Ok(out
            .iter()
            .map(|s| {
                let source = signals
                    .iter()
                    .find(|orig| *orig.source == s.source)
                    .map_or_else(|| name.clone(), |orig| orig.source.clone());
                let mut signal = convert::signal_in(s, &source);
                signal.strength = signal.strength.clamp(0.0, 1.0);
                signal.confidence = signal.confidence.clamp(0.0, 1.0);
                signal
            })
            .collect())
    }

    /// Asks an optimizer to score signals; one finite score per signal.
    pub fn score(&mut self, signals: &[Signal], now: TimestampMs) -> Result<Vec<f64>, Halt> {
        self.arm(now);
        let Guest::Optimizer(g) = &self.guest else {
            return Ok(Vec::new());
        };
        let wit_signals: Vec<types::Signal> = signals.iter().map(convert::signal_out).collect();
        let scores =
            contained(|| g.call_score(&mut self.store, &wit_signals)).map_err(|e| self.halt(e))?;
        if scores.len() != signals.len() || scores.iter().any(|s| !s.is_finite()) {
            return Err(Halt {
                reason: format!(
                    "score returned {} values for {} signals (one finite score each is required)",
                    scores.len(),
                    signals.len()
                ),
            });
        }
        Ok(scores)
    }

    /// Takes the signals the guest emitted since the last take.
    pub fn take_emitted(&mut self) -> Vec<Signal> {
        std::mem::take(&mut self.store.data_mut().emitted)
    }

    /// Whether any signals are waiting to be taken.
    pub fn has_emitted(&self) -> bool {
        !self.store.data().emitted.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::contained;

    #[test]
    fn a_panic_under_a_guest_call_becomes_an_error_naming_it() {
        let ok = contained(|| Ok(7));
        assert_eq!(ok.unwrap(), 7);
        let err = contained::<()>(|| panic!("bad slice at {}", 3)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a host function it called panicked: bad slice at 3"
        );
        let err = contained::<()>(|| std::panic::panic_any(5u8)).unwrap_err();
        assert!(err.to_string().ends_with("panicked: no message"), "{err}");
    }
}
