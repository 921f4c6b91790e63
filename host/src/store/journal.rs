//! The journal the service's engine writes to: entries go into a queue, and a tokio task
//! applies them to the [`Store`] in batches, so the event loop never waits for the disk.
//! Entries recorded together ([`Journal::record_all`]: one fill's row, its order's state, the
//! balances and the position it changed) travel as one group that no batch splits, so a crash
//! keeps all of them or none.

use super::Store;
use crate::journal::{Journal, JournalEntry, JournalProgress, ProgressWriter, RecordCounter};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Most groups of entries applied in one transaction.
const BATCH: usize = 512;

/// Pauses before applying a failed batch again (the database may be briefly unreachable or
/// locked); after the last, entries are applied one at a time.
const RETRY_PAUSES_MS: [u64; 4] = [20, 100, 500, 2_000];

/// Queues journal entries for the writer task.
pub struct StoreJournal {
    tx: mpsc::UnboundedSender<Vec<JournalEntry>>,
    recorded: RecordCounter,
    watch: JournalProgress,
}

impl StoreJournal {
    /// Starts the writer task on the current tokio runtime; await the handle after dropping
    /// every clone of the journal to flush what is queued.
    pub fn start(store: Store) -> (StoreJournal, JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<JournalEntry>>();
        let (recorded, committed, watch) = ProgressWriter::new();
        let writer = tokio::spawn(async move {
            let mut groups = Vec::with_capacity(BATCH);
            let mut batch = Batch::default();
            while rx.recv_many(&mut groups, BATCH).await > 0 {
                batch.take(&mut groups);
                let lost = persist(&store, &batch).await;
                committed.committed(batch.lengths.len() as u64, lost);
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

/// Groups of entries taken off the queue together, laid end to end.
#[derive(Default)]
struct Batch {
    entries: Vec<JournalEntry>,
    /// Each group's number of entries, in order.
    lengths: Vec<usize>,
}

impl Batch {
    /// Replaces the batch with `groups`, which it empties.
    fn take(&mut self, groups: &mut Vec<Vec<JournalEntry>>) {
        self.entries.clear();
        self.lengths.clear();
        for group in groups.drain(..) {
            self.lengths.push(group.len());
            self.entries.extend(group);
        }
    }

    /// Each group's entries.
    fn groups(&self) -> impl Iterator<Item = &[JournalEntry]> {
        self.lengths.iter().scan(0, |start, &len| {
            let group = &self.entries[*start..*start + len];
            *start += len;
            Some(group)
        })
    }
}

/// Applies a batch, retrying while the database fails; if it still fails, applies its groups
/// one by one so that only those the store refuses are lost, each logged with its content.
/// Returns how many groups were lost.
async fn persist(store: &Store, batch: &Batch) -> u64 {
    let all = &batch.entries;
    for pause in RETRY_PAUSES_MS {
        match store.apply(all).await {
            Ok(()) => return 0,
            Err(e) => {
                tracing::warn!(
                    "journal batch of {} entries not persisted, retrying in {pause} ms: {e}",
                    all.len()
                );
                tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
            }
        }
    }
    if store.apply(all).await.is_ok() {
        return 0;
    }
    let mut lost = 0;
    for group in batch.groups() {
        if let Err(e) = store.apply(group).await {
            tracing::error!("journal entries not persisted: {e}; entries: {group:?}");
            lost += 1;
        }
    }
    lost
}

impl Journal for StoreJournal {
    fn record(&self, entry: JournalEntry) {
        self.record_all(vec![entry]);
    }

    fn record_all(&self, entries: Vec<JournalEntry>) {
        if entries.is_empty() {
            return;
        }
        if self.tx.send(entries).is_err() {
            tracing::error!("journal writer has stopped; entries were not persisted");
        } else {
            // Counted once on its way: only then can it ever be committed.
            self.recorded.recorded();
        }
    }
}
