//! The parts of matching the simulated venues share: when stop orders trigger, and where a
//! resting order stands in its queue.

pub mod queue;
pub mod trigger;
