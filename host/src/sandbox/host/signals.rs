//! `signals`: what a strategy publishes for the optimizers and other strategies.

use super::{GuestCtx, HostResult};
use crate::model::Signal;
use crate::sandbox::bindings::v0_2::strategy::stratbox::strategy::{signals, types};
use crate::sandbox::convert::v0_2 as convert;

impl GuestCtx {
    /// Adds a signal the guest emitted (already speaking for this deployment) to this event's
    /// raw signals; traps past the bound or on non-finite values.
    pub(crate) fn emit_signal(&mut self, mut signal: Signal) -> HostResult<()> {
        self.counters.signals += 1;
        if self.counters.signals > self.limits.signals_per_callback {
            let limit = self.limits.signals_per_callback;
            return Err(self.trap(format!("emitted more than {limit} signals in one callback")));
        }
        if !(signal.strength.is_finite() && signal.confidence.is_finite()) {
            return Err(
                self.trap("emitted a signal with a non-finite strength or confidence".into())
            );
        }
        signal.strength = signal.strength.clamp(0.0, 1.0);
        signal.confidence = signal.confidence.clamp(0.0, 1.0);
        signal.time = self.now;
        self.emitted.push(signal);
        Ok(())
    }
}

impl signals::Host for GuestCtx {
    fn emit(&mut self, signal: types::Signal) -> HostResult<()> {
        // A guest speaks only for itself.
        let signal = convert::signal_in(&signal, &self.name);
        self.emit_signal(signal)
    }
}
