//! What must survive a restart, as a stream of entries the engine emits and a store persists
//! off the event loop.

use crate::model::{Fixed, OrderRequest, OrderStatus, OrderUpdate, TimestampMs};
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

/// The order manager's record of one order, as persisted: enough to restore an open order
/// after a restart (its lock, its committed exposure, whether its trigger fired).
#[derive(Clone, Debug, PartialEq)]
pub struct OrderRecord {
    /// Host order id.
    pub id: u64,
    /// What was asked.
    pub request: OrderRequest,
    /// Where it is in its life.
    pub status: OrderStatus,
    /// Base quantity filled.
    pub filled: Fixed,
    /// Quote quantity filled.
    pub filled_quote: Fixed,
    /// Fees paid.
    pub fees: Fixed,
    /// When it was submitted.
    pub time: TimestampMs,
    /// The asset it locks.
    pub lock_asset: Arc<str>,
    /// What it still has locked.
    pub locked: Fixed,
    /// The signed base quantity it still commits.
    pub committed: Fixed,
    /// Whether its stop trigger has fired.
    pub triggered: bool,
}

/// A deployment's trading state as persisted: what a restart restores.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TradingRecord {
    /// Balances: (asset, free, locked).
    pub balances: Vec<(String, Fixed, Fixed)>,
    /// Positions: (symbol, quantity, average price, realised PnL).
    pub positions: Vec<(String, Fixed, Fixed, Fixed)>,
    /// Open orders with their symbols' names.
    pub open_orders: Vec<(String, OrderRecord)>,
    /// The venue's ids of the trades each open order's fills came from (an exchange's), by
    /// order id.
    pub venue_trades: std::collections::BTreeMap<u64, Vec<i64>>,
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
        budget: Box<Budget>,
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
    /// An order's record after a change.
    OrderState {
        /// The deployment.
        deployment: Arc<str>,
        /// The symbol's name.
        symbol: Arc<str>,
        /// The record.
        order: OrderRecord,
    },
    /// A deployment's balance of an asset after a change.
    Balance {
        /// The deployment.
        deployment: Arc<str>,
        /// The asset.
        asset: Arc<str>,
        /// Free amount.
        free: Fixed,
        /// Locked amount.
        locked: Fixed,
    },
    /// A deployment's position in a symbol after a change.
    Position {
        /// The deployment.
        deployment: Arc<str>,
        /// The symbol's name.
        symbol: Arc<str>,
        /// Signed base quantity.
        quantity: Fixed,
        /// Average entry price.
        average_price: Fixed,
        /// Realised PnL.
        realized_pnl: Fixed,
    },
    /// A deployment was halted, or resumed when `reason` is `None`.
    Status {
        /// The deployment.
        deployment: Arc<str>,
        /// Why it was halted.
        reason: Option<String>,
    },
    /// A protective stop changed, or ended with its position (`None`).
    Stop {
        /// The deployment.
        deployment: Arc<str>,
        /// The symbol.
        symbol: Arc<str>,
        /// The stop now.
        state: Option<Box<crate::risk::StopState>>,
    },
    /// A deployment's equity sampled at a bar's close, with its drawdown from the peak.
    Equity {
        /// The deployment.
        deployment: Arc<str>,
        /// The bar's close time.
        time: TimestampMs,
        /// Equity in its valuation asset.
        equity: f64,
        /// Fall from the peak, as a fraction.
        drawdown: f64,
    },
    /// A deployment was removed: its code, state, balances, positions and stops go; its
    /// orders, fills and equity curve stay as history.
    Removed {
        /// The deployment.
        deployment: Arc<str>,
    },
    /// A signal's horizon passed: the signal with what became of it; it waits no longer.
    SignalOutcome {
        /// Its id while it waited.
        pending_id: u64,
        /// The signal with what became of it.
        outcome: Box<crate::signals::outcome::Outcome>,
    },
    /// A signal waits for its horizon: as made, or with its progress when the engine stops.
    SignalPending(Box<crate::signals::outcome::PendingRecord>),
    /// A waiting signal is no longer followed (see [`crate::signals::outcome`]), by id.
    SignalDropped(u64),
    /// A trading state changed, by a breach or by the operator.
    TradingState {
        /// The deployment, or `None` for the whole account.
        deployment: Option<Arc<str>>,
        /// The state, why and since when.
        record: crate::risk::StateRecord,
    },
}

/// How far a journal's writer has got, for whoever must not act before an entry is durable
/// (a live venue sends an order only once its row is committed): entries are numbered in the
/// order they are recorded and committed in that order (a group recorded together counts as one).
#[derive(Clone, Debug)]
pub struct JournalProgress {
    recorded: Arc<std::sync::atomic::AtomicU64>,
    committed: tokio::sync::watch::Receiver<(u64, u64)>,
}

/// The recording side of a [`JournalProgress`]: counts the entries handed to the writer.
#[derive(Debug)]
pub struct RecordCounter(Arc<std::sync::atomic::AtomicU64>);

impl RecordCounter {
    /// Counts one more entry handed to the writer.
    pub fn recorded(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The writer's side of a [`JournalProgress`], owned by the writer alone: once it is dropped
/// (the writer has stopped), waiting for a commit fails at once.
#[derive(Debug)]
pub struct ProgressWriter {
    committed: tokio::sync::watch::Sender<(u64, u64)>,
}

impl ProgressWriter {
    /// A journal's progress with nothing recorded: its counter, its writer's side, and the
    /// progress to watch.
    pub fn new() -> (RecordCounter, ProgressWriter, JournalProgress) {
        let recorded = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (tx, rx) = tokio::sync::watch::channel((0, 0));
        (
            RecordCounter(recorded.clone()),
            ProgressWriter { committed: tx },
            JournalProgress {
                recorded,
                committed: rx,
            },
        )
    }

    /// `n` more entries were written, `lost` of them refused by the store.
    pub fn committed(&self, n: u64, lost: u64) {
        self.committed.send_modify(|(done, failed)| {
            *done += n;
            *failed += lost;
        });
    }
}

/// A position in a journal: the entries recorded before it, and the entries the store had
/// refused by then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalMark {
    entries: u64,
    lost: u64,
}

impl JournalProgress {
    /// Entries recorded and not yet written (committed or refused by the store).
    pub fn backlog(&self) -> u64 {
        let written = self.committed.borrow().0;
        self.recorded
            .load(std::sync::atomic::Ordering::SeqCst)
            .saturating_sub(written)
    }

    /// Where the journal stands now: an entry recorded before this call is committed once
    /// [`JournalProgress::committed`] of the mark returns.
    pub fn mark(&self) -> JournalMark {
        JournalMark {
            entries: self.recorded.load(std::sync::atomic::Ordering::SeqCst),
            lost: self.committed.borrow().1,
        }
    }

    /// Waits until the entries before `mark` are written; an error if the store refused any
    /// entry since the mark was taken (the one that mattered may be among them) or the writer
    /// stopped.
    pub async fn committed(&self, mark: JournalMark) -> Result<(), String> {
        let mut rx = self.committed.clone();
        let (_, lost) = *rx
            .wait_for(|(done, _)| *done >= mark.entries)
            .await
            .map_err(|_| "the journal's writer has stopped".to_string())?;
        if lost > mark.lost {
            return Err(format!(
                "the store refused {} journal entries",
                lost - mark.lost
            ));
        }
        Ok(())
    }
}

/// Where journal entries go. Implementations must not block the caller.
pub trait Journal: Send + Sync {
    /// Records one entry.
    fn record(&self, entry: JournalEntry);
    /// Records entries that stand or fall together (one change's rows: an order's update, its
    /// state, the balances and position it changed): a store keeps all of them or none, and
    /// counts them as one in [`JournalProgress`].
    fn record_all(&self, entries: Vec<JournalEntry>) {
        for entry in entries {
            self.record(entry);
        }
    }
    /// Whether it keeps account state (order records, balances, positions), which only a
    /// restart reads; a journal that does not is spared building those entries.
    fn keeps_state(&self) -> bool {
        true
    }
}

/// A journal that keeps nothing (backtests).
#[derive(Clone, Copy, Debug, Default)]
pub struct NullJournal;

impl Journal for NullJournal {
    fn record(&self, _entry: JournalEntry) {}

    fn keeps_state(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_mark_is_committed_once_the_entries_before_it_are_and_fails_on_a_loss() {
        let (counter, writer, progress) = ProgressWriter::new();
        counter.recorded();
        counter.recorded();
        assert_eq!(progress.backlog(), 2);
        let mark = progress.mark();
        counter.recorded();
        let waiting = tokio::spawn({
            let progress = progress.clone();
            async move { progress.committed(mark).await }
        });
        writer.committed(1, 0);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "one of two entries written");
        writer.committed(2, 0);
        assert_eq!(waiting.await.unwrap(), Ok(()));
        // An entry refused after the mark was taken fails it.
        let mark = progress.mark();
        counter.recorded();
        writer.committed(1, 1);
        let e = progress.committed(mark).await.unwrap_err();
        assert!(e.contains("refused 1"), "{e}");
        // A loss before the mark does not.
        counter.recorded();
        let mark = progress.mark();
        writer.committed(1, 0);
        assert_eq!(progress.committed(mark).await, Ok(()));
        // A writer gone: waiting fails at once.
        counter.recorded();
        let mark = progress.mark();
        drop(writer);
        let e = progress.committed(mark).await.unwrap_err();
        assert!(e.contains("stopped"), "{e}");
    }
}
