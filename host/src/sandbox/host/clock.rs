//! `clock`: event time and timers.

use super::{GuestCtx, HostResult, lock};
use crate::model::TimestampMs;
use crate::sandbox::bindings::v0_2::strategy::stratbox::strategy::clock;

/// Most timers one deployment may have pending.
const MAX_TIMERS: usize = 10_000;

impl GuestCtx {
    /// Sets a timer due at `due`; traps past the bound.
    pub(crate) fn set_timer_at(&mut self, due: TimestampMs) -> HostResult<u64> {
        let mut data = lock(&self.deployment);
        if data.timers.len() >= MAX_TIMERS {
            drop(data);
            return Err(self.trap(format!("more than {MAX_TIMERS} pending timers")));
        }
        let id = data.next_timer;
        data.next_timer += 1;
        data.timers.insert((due, id));
        Ok(id)
    }

    /// Cancels timer `id`; whether it was pending.
    pub(crate) fn cancel_timer_id(&mut self, id: u64) -> bool {
        let mut data = lock(&self.deployment);
        let found = data.timers.iter().find(|(_, i)| *i == id).copied();
        found.is_some_and(|t| data.timers.remove(&t))
    }
}

impl clock::Host for GuestCtx {
    fn now(&mut self) -> HostResult<i64> {
        Ok(self.now)
    }

    fn set_timer(&mut self, due: i64) -> HostResult<u64> {
        self.set_timer_at(due)
    }

    fn cancel_timer(&mut self, id: u64) -> HostResult<bool> {
        Ok(self.cancel_timer_id(id))
    }
}
