//! The journal the service's engine writes to: entries go into a queue, and a tokio task
//! applies them to the [`Store`] in batches, so the event loop never waits for the disk.

use super::Store;
use crate::journal::{Journal, JournalEntry};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Most entries applied in one transaction.
const BATCH: usize = 512;

/// Queues journal entries for the writer task.
pub struct StoreJournal {
    tx: mpsc::UnboundedSender<JournalEntry>,
}

impl StoreJournal {
    /// Starts the writer task on the current tokio runtime; await the handle after dropping
    /// every clone of the journal to flush what is queued.
    pub fn start(store: Store) -> (StoreJournal, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<JournalEntry>();
        let writer = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                if let Err(e) = store.apply(&batch).await {
                    // Keep going: a failed batch is logged loudly; later batches may succeed.
                    tracing::error!(
                        "journal batch of {} entries not persisted: {e}",
                        batch.len()
                    );
                }
                batch.clear();
            }
        });
        (StoreJournal { tx }, writer)
    }
}

impl Journal for StoreJournal {
    fn record(&self, entry: JournalEntry) {
        if self.tx.send(entry).is_err() {
            tracing::error!("journal writer has stopped; an entry was not persisted");
        }
    }
}
