//! What must survive a restart, as a stream of entries the engine emits and a store persists
//! off the event loop.

use crate::model::OrderUpdate;
use crate::risk::Budget;
use crate::sandbox::{Grants, World};
use std::sync::Arc;

/// One version of a deployment's code, as persisted.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionRecord {
    /// Hex SHA-256 of the component.
    pub hash: String,
    /// The component.
    pub bytes: Arc<[u8]>,
    /// The configuration `init` receives.
    pub config: String,
}

/// One change to persist.
#[derive(Clone, Debug, PartialEq)]
pub enum JournalEntry {
    /// A deployment was added or switched to another version.
    Deployed {
        /// Its name.
        deployment: Arc<str>,
        /// Its world.
        world: World,
        /// The running version.
        current: VersionRecord,
        /// The version kept for rollback.
        previous: Option<VersionRecord>,
        /// Its risk budget.
        budget: Budget,
        /// Its sandbox grants.
        grants: Grants,
    },
    /// A deployment's state key was set.
    StateSet {
        /// The deployment.
        deployment: Arc<str>,
        /// The key.
        key: String,
        /// The new value.
        value: Vec<u8>,
    },
    /// A deployment's state key was deleted.
    StateDelete {
        /// The deployment.
        deployment: Arc<str>,
        /// The key.
        key: String,
    },
    /// A change of an order's state (a fill included, as its execution).
    Order {
        /// The update, with its owner and symbol id.
        update: OrderUpdate,
        /// The symbol's name.
        symbol: Arc<str>,
    },
    /// A deployment was halted, or resumed when `reason` is `None`.
    Status {
        /// The deployment.
        deployment: Arc<str>,
        /// Why it was halted.
        reason: Option<String>,
    },
}

/// Where journal entries go. Implementations must not block the caller.
pub trait Journal: Send + Sync {
    /// Records one entry.
    fn record(&self, entry: JournalEntry);
}

/// A journal that keeps nothing (backtests).
#[derive(Clone, Copy, Debug, Default)]
pub struct NullJournal;

impl Journal for NullJournal {
    fn record(&self, _entry: JournalEntry) {}
}
