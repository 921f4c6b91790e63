//! `clock`: event time and timers.

use super::{GuestCtx, HostResult, lock};
use crate::sandbox::bindings::strategy::stratbox::strategy::clock;

/// Most timers one deployment may have pending.
const MAX_TIMERS: usize = 10_000;

impl clock::Host for GuestCtx {
    fn now(&mut self) -> HostResult<i64> {
        Ok(self.now)
    }

    fn set_timer(&mut self, due: i64) -> HostResult<u64> {
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

    fn cancel_timer(&mut self, id: u64) -> HostResult<bool> {
        let mut data = lock(&self.deployment);
        let found = data.timers.iter().find(|(_, i)| *i == id).copied();
        Ok(found.is_some_and(|t| data.timers.remove(&t)))
    }
}
