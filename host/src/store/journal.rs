//! The journal the service's engine writes to: entries go into a queue, and a tokio task
//! applies them to the [`Store`] in batches, so the event loop never waits for the disk.

use super::Store;
use crate::journal::{Journal, JournalEntry, JournalProgress, ProgressWriter, RecordCounter};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Most entries applied in one transaction.
const BATCH: usize = 512;

/// Pauses before applying a failed batch again (the database may be briefly unreachable or
/// locked); after the last, entries are applied one at a time.
const RETRY_PAUSES_MS: [u64; 4] = [20, 100, 500, 2_000];

/// Queues journal entries for the writer task.
pub struct StoreJournal {
    tx: mpsc::UnboundedSender<JournalEntry>,
    recorded: RecordCounter,
    watch: JournalProgress,
}

impl StoreJournal {
    /// Starts the writer task on the current tokio runtime; await the handle after dropping
    /// every clone of the journal to flush what is queued.
    pub fn start(store: Store) -> (StoreJournal, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<JournalEntry>();
        let (recorded, committed, watch) = ProgressWriter::new();
        let writer = tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                let lost = persist(&store, &batch).await;
                committed.committed(batch.len() as u64, lost);
                batch.clear();
            }
        });
        (
            StoreJournal {
                tx,
                recorded,
                watch,
            },
            writer,
        )
    }

    /// Whether the writer task still takes entries (false once it has stopped).
    pub fn alive(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let weak = self.tx.downgrade();
        move || weak.upgrade().is_some_and(|tx| !tx.is_closed())
    }

    /// How far the writer has got, for whoever waits for an entry to be committed or watches
    /// the backlog.
    pub fn progress(&self) -> JournalProgress {
        self.watch.clone()
    }
}

/// Applies a batch, retrying while the database fails; if it still fails, applies the entries
/// one by one so that only those the store refuses are lost, each logged with its content.
/// Returns how many were lost.
async fn persist(store: &Store, batch: &[JournalEntry]) -> u64 {
    for pause in RETRY_PAUSES_MS {
        match store.apply(batch).await {
            Ok(()) => return 0,
            Err(e) => {
                tracing::warn!(
                    "journal batch of {} entries not persisted, retrying in {pause} ms: {e}",
                    batch.len()
                );
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
        }
    }
    if store.apply(batch).await.is_ok() {
        return 0;
    }
    let mut lost = 0;
    for entry in batch {
        if let Err(e) = store.apply(std::slice::from_ref(entry)).await {
            tracing::error!("journal entry not persisted: {e}; entry: {entry:?}");
            lost += 1;
        }
    }
    lost
}

impl Journal for StoreJournal {
    fn record(&self, entry: JournalEntry) {
        if self.tx.send(entry).is_err() {
            tracing::error!("journal writer has stopped; an entry was not persisted");
        } else {
            // Counted once on its way: only then can it ever be committed.
            self.recorded.recorded();
        }
    }
}
