//! One running guest: its store and exports, with each callback armed with the CPU bound and
//! its counters reset, and every failure turned into a [`Halt`] with a readable reason.

use super::bindings::{v0_1, v0_2};
use super::convert;
use super::host::{CallbackCounters, GuestCtx};
use super::limits::{CpuLimit, SandboxLimits};
use crate::feeds::TradePrint;
use crate::feeds::binance::ws::BOOK_LEVELS;
use crate::market::{Conditions, Top};
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

/// A guest's exports, by world and contract version.
pub(crate) enum Guest {
    StrategyV0_1(v0_1::strategy::Strategy),
    StrategyV0_2(v0_2::strategy::Strategy),
    OptimizerV0_1(v0_1::optimizer::SignalOptimizer),
    OptimizerV0_2(v0_2::optimizer::SignalOptimizer),
}

/// A guest instance in its own store.
pub struct Instance {
    store: Store<GuestCtx>,
    guest: Guest,
    limits: Arc<SandboxLimits>,
    /// Whether its unusable scores have been logged (once per instance).
    bad_scores_logged: bool,
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

/// Calls an export of the strategy world of either version, with `$convert` the version's
/// conversions, or does nothing for an optimizer.
macro_rules! strategy_call {
    ($self:ident, $now:expr, |$g:ident, $store:ident, $convert:ident| $call:expr) => {{
        $self.arm($now);
        let result = match &$self.guest {
            Guest::StrategyV0_1($g) => {
                use convert::v0_1 as $convert;
                let $store = &mut $self.store;
                contained(|| $call)
            }
            Guest::StrategyV0_2($g) => {
                use convert::v0_2 as $convert;
                let $store = &mut $self.store;
                contained(|| $call)
            }
            Guest::OptimizerV0_1(_) | Guest::OptimizerV0_2(_) => Ok(()),
        };
        result.map_err(|e| $self.halt(e))
    }};
}

/// Calls an export of the signal-optimizer world of either version (`None` for a strategy).
macro_rules! optimizer_call {
    ($self:ident, $now:expr, |$g:ident, $store:ident, $convert:ident| $call:expr) => {{
        $self.arm($now);
        let result = match &$self.guest {
            Guest::OptimizerV0_1($g) => {
                use convert::v0_1 as $convert;
                let $store = &mut $self.store;
                contained(|| $call).map(Some)
            }
            Guest::OptimizerV0_2($g) => {
                use convert::v0_2 as $convert;
                let $store = &mut $self.store;
                contained(|| $call).map(Some)
            }
            Guest::StrategyV0_1(_) | Guest::StrategyV0_2(_) => Ok(None),
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
            bad_scores_logged: false,
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
            Guest::StrategyV0_1(g) => contained(|| g.call_init(&mut self.store, config)),
            Guest::StrategyV0_2(g) => contained(|| g.call_init(&mut self.store, config)),
            Guest::OptimizerV0_1(g) => contained(|| g.call_init(&mut self.store, config)),
            Guest::OptimizerV0_2(g) => contained(|| g.call_init(&mut self.store, config)),
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
        strategy_call!(self, now, |g, store, c| g.call_on_bar(store, c::bar(bar)))
    }

    /// Delivers a public trade.
    pub fn on_trade(&mut self, trade: &TradePrint, now: TimestampMs) -> Result<(), Halt> {
        strategy_call!(self, now, |g, store, c| g
            .call_on_trade(store, c::trade(trade)))
    }

    /// Delivers a book change: 0.2 guests get its best levels, 0.1 guests its best
    /// [`BOOK_LEVELS`] levels a side.
    pub fn on_book(&mut self, top: &Top, now: TimestampMs) -> Result<(), Halt> {
        let levels = match self.guest {
            Guest::StrategyV0_1(_) => {
                let market = self.store.data().env.market();
                market
                    .book(top.symbol)
                    .map(|b| convert::v0_1::book_levels(b, BOOK_LEVELS))
            }
            _ => None,
        };
        self.arm(now);
        let result = match &self.guest {
            Guest::StrategyV0_1(g) => match &levels {
                Some(levels) => contained(|| g.call_on_book(&mut self.store, levels)),
                None => Ok(()),
            },
            Guest::StrategyV0_2(g) => {
                let top = convert::v0_2::top_of_book(top);
                contained(|| g.call_on_book(&mut self.store, top))
            }
            Guest::OptimizerV0_1(_) | Guest::OptimizerV0_2(_) => Ok(()),
        };
        result.map_err(|e| self.halt(e))
    }

    /// Delivers a change of one of the deployment's orders (0.1 guests hear of fills only).
    pub fn on_order_update(&mut self, update: &OrderUpdate, now: TimestampMs) -> Result<(), Halt> {
        let fill = update
            .fill
            .as_ref()
            .filter(|_| update.execution == ExecutionType::Trade);
        if matches!(self.guest, Guest::StrategyV0_1(_)) && fill.is_none() {
            return Ok(());
        }
        self.arm(now);
        let result = match &self.guest {
            Guest::StrategyV0_1(g) => match fill {
                Some(fill) => {
                    let fill = convert::v0_1::fill(fill);
                    contained(|| g.call_on_fill(&mut self.store, fill))
                }
                None => Ok(()),
            },
            Guest::StrategyV0_2(g) => {
                let update = convert::v0_2::order_update(update);
                contained(|| g.call_on_order_update(&mut self.store, &update))
            }
            Guest::OptimizerV0_1(_) | Guest::OptimizerV0_2(_) => Ok(()),
        };
        result.map_err(|e| self.halt(e))
    }

    /// Delivers this bar's optimized signals.
    pub fn on_signal(&mut self, signals: &[Signal], now: TimestampMs) -> Result<(), Halt> {
        strategy_call!(self, now, |g, store, c| {
            let signals: Vec<_> = signals.iter().map(c::signal_out).collect();
            g.call_on_signal(store, &signals)
        })
    }

    /// Delivers a due timer.
    pub fn on_timer(&mut self, id: u64, due: TimestampMs, now: TimestampMs) -> Result<(), Halt> {
        strategy_call!(self, now, |g, store, c| {
            g.call_on_timer(store, c::wit::Timer { id, due })
        })
    }

    /// Runs an optimizer over this bar's signals; checks the size of what it returns.
    pub fn optimize(
        &mut self,
        signals: &[Signal],
        conditions: &[Conditions],
        now: TimestampMs,
    ) -> Result<Vec<Signal>, Halt> {
        let name = self.store.data().name.clone();
        // What the optimizer returns, as the host keeps it: each signal keeps its source (a
        // signal it adds speaks for the optimizer).
        let source = |returned: &str| {
            signals
                .iter()
                .find(|orig| *orig.source == *returned)
                .map_or_else(|| name.clone(), |orig| orig.source.clone())
        };
        let out = optimizer_call!(self, now, |g, store, c| {
            let wit_signals: Vec<_> = signals.iter().map(c::signal_out).collect();
            let wit_conditions: Vec<_> = conditions.iter().map(c::conditions).collect();
            g.call_optimize(store, &wit_signals, &wit_conditions)
                .map(|out| {
                    out.iter()
                        .map(|s| c::signal_in(s, &source(&s.source)))
                        .collect::<Vec<Signal>>()
                })
        })?;
        let Some(mut out) = out else {
            return Ok(signals.to_vec());
        };
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
        for s in &mut out {
            s.strength = s.strength.clamp(0.0, 1.0);
            s.confidence = s.confidence.clamp(0.0, 1.0);
        }
        Ok(out)
    }

    /// Asks an optimizer to score signals: one score per signal, clamped to 0..1. Scores that
    /// are not one finite value per signal are ignored (logged once), not a reason to halt:
    /// the host measures them, the contract never used them before 0.2.3's host. A trap
    /// halts, as in any call.
    pub fn score(&mut self, signals: &[Signal], now: TimestampMs) -> Result<Vec<f64>, Halt> {
        let scores = optimizer_call!(self, now, |g, store, c| {
            let wit_signals: Vec<_> = signals.iter().map(c::signal_out).collect();
            g.call_score(store, &wit_signals)
        })?;
        let Some(scores) = scores else {
            return Ok(Vec::new());
        };
        if scores.len() != signals.len() || scores.iter().any(|s| !s.is_finite()) {
            if !std::mem::replace(&mut self.bad_scores_logged, true) {
                tracing::warn!(
                    deployment = %self.store.data().name,
                    "score returned {} values for {} signals (one finite score each is needed); its scores are not measured",
                    scores.len(),
                    signals.len()
                );
            }
            return Ok(Vec::new());
        }
        Ok(scores.into_iter().map(|s| s.clamp(0.0, 1.0)).collect())
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
