//! The parts of matching both simulated venues share: when stop orders trigger.

pub mod trigger;
