//! Trading states: what a deployment (or the whole account) may still do. A breach moves the
//! state on its own (a day's loss to REDUCING, the drawdown to HALTED, VaR to REDUCING, each as
//! the budget says); only the operator moves it back.

use crate::model::TimestampMs;
use serde::{Deserialize, Serialize};

/// What orders are accepted.
#[derive(
    utoipa::ToSchema,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TradingState {
    /// Every order the other checks allow.
    #[default]
    Active,
    /// Only orders that reduce a position (without flipping it).
    Reducing,
    /// No new order; cancels only.
    Halted,
}

impl TradingState {
    /// The state's name, in upper case as operators read it.
    pub fn name(self) -> &'static str {
        match self {
            TradingState::Active => "ACTIVE",
            TradingState::Reducing => "REDUCING",
            TradingState::Halted => "HALTED",
        }
    }

    /// Parses `active`, `reducing` or `halted` (any case).
    pub fn parse(text: &str) -> Option<TradingState> {
        match text.to_ascii_lowercase().as_str() {
            "active" => Some(TradingState::Active),
            "reducing" => Some(TradingState::Reducing),
            "halted" => Some(TradingState::Halted),
            _ => None,
        }
    }
}

/// A state with why and since when it holds.
#[derive(utoipa::ToSchema, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StateRecord {
    /// The state.
    pub state: TradingState,
    /// Why (empty for the initial ACTIVE).
    pub reason: String,
    /// Event time it was entered.
    pub since: TimestampMs,
}

impl StateRecord {
    /// Moves to `state` for `reason` if that is stricter than the current state (a breach
    /// never loosens a state); whether it moved.
    pub fn tighten(&mut self, state: TradingState, reason: String, now: TimestampMs) -> bool {
        if state <= self.state {
            return false;
        }
        *self = StateRecord {
            state,
            reason,
            since: now,
        };
        true
    }

    /// The stricter of this record and `other` (this one when they are equally strict).
    pub fn stricter<'a>(&'a self, other: &'a StateRecord) -> &'a StateRecord {
        if other.state > self.state {
            other
        } else {
            self
        }
    }

    /// Sets `state` whatever it was (the operator's decision).
    pub fn set(&mut self, state: TradingState, reason: String, now: TimestampMs) {
        *self = StateRecord {
            state,
            reason,
            since: now,
        };
    }
}
