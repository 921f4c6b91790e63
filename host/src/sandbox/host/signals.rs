//! `signals`: what a strategy publishes for the optimizers and other strategies.

use super::{GuestCtx, HostResult};
use crate::sandbox::bindings::strategy::stratbox::strategy::{signals, types};
use crate::sandbox::convert::v0_1 as convert;

impl signals::Host for GuestCtx {
    fn emit(&mut self, signal: types::Signal) -> HostResult<()> {
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
        // A guest speaks only for itself, and now.
        let mut signal = convert::signal_in(&signal, &self.name);
        signal.strength = signal.strength.clamp(0.0, 1.0);
        signal.confidence = signal.confidence.clamp(0.0, 1.0);
        signal.time = self.now;
        self.emitted.push(signal);
        Ok(())
    }
}
