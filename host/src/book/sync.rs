//! The synchronisation procedure of Binance's spot documentation ("How to manage a local order
//! book correctly"), with no I/O:
//!
//! 1. Open the diff stream and buffer its events, noting the `U` of the first one.
//! 2. Get a depth snapshot (limit 5000).
//! 3. If the snapshot's `lastUpdateId` is below that first `U`, get another snapshot.
//! 4. Drop buffered events with `u <= lastUpdateId`.
//! 5. The book's update id is the snapshot's; apply the remaining events in order.
//! 6. For each event: `u` below the book's id → ignore; `U` above the book's id + 1 → a gap:
//!    discard the book and start again from 1; otherwise apply and set the id to `u`.
//!
//! Events keep flowing into the buffer while a snapshot is fetched, so nothing is lost on
//! re-initialisation. The snapshot is requested once the first diff is buffered or, for a quiet
//! symbol whose stream has sent nothing for a while after subscribing ([`BookSync::on_quiet`]),
//! without one: every change after that snapshot is still to come on the stream, and a diff that
//! does not follow it is a gap like any other.
//!
//! Beside its gaps the procedure counts what else a stream got wrong: diffs that left the book
//! crossed, and diffs repeating updates the stream had already delivered (outdated; a capture's
//! fault, while a live feed's connection rotation repeats some by design). Callers count late
//! diffs ([`LATE_MS`]), which need the receive time.

use super::OrderBook;
use crate::model::Fixed;

/// A diff is late (stale when it arrives) when its lag (receive time less exchange event time)
/// exceeds the smallest lag of the last five to ten minutes (event time) by more than this many
/// ms. The smallest lag stands for the clocks' offset plus the fastest delivery, so a clock that
/// runs behind or ahead of the exchange's does not make every diff late, or none; taken over
/// recent minutes only, it follows a drifting clock and forgets a clock step.
pub const LATE_MS: i64 = 1_000;

/// How long each of the two spans whose smallest lags make the baseline lasts (event time).
const BASELINE_SPAN_MS: i64 = 5 * 60_000;

/// The lags of a stream's events: smallest, largest, and the late ones ([`LATE_MS`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lags {
    /// The smallest lag seen, ms (none before the first event).
    pub min: Option<i64>,
    /// The largest lag seen, ms.
    pub max: Option<i64>,
    /// Events late against the recent smallest lag.
    pub late: u64,
    /// The smallest lags of the current span and of the one before it.
    recent: (Option<i64>, Option<i64>),
    /// When the current span began (event time, ms).
    since: Option<i64>,
}

impl Lags {
    /// Takes in one event's lag (receive less exchange time, ms) at its exchange time `at`;
    /// whether it was late.
    pub fn observe(&mut self, lag: i64, at: i64) -> bool {
        if self
            .since
            .is_none_or(|since| at - since >= BASELINE_SPAN_MS)
        {
            self.recent = (None, self.recent.0);
            self.since = Some(at);
        }
        let current = self.recent.0.map_or(lag, |m| m.min(lag));
        self.recent.0 = Some(current);
        let baseline = self.recent.1.map_or(current, |m| m.min(current));
        self.min = Some(self.min.map_or(lag, |m| m.min(lag)));
        self.max = Some(self.max.map_or(lag, |m| m.max(lag)));
        let late = lag - baseline > LATE_MS;
        self.late += u64::from(late);
        late
    }
}

/// A depth diff event (`<symbol>@depth@100ms`).
#[derive(Clone, Debug, PartialEq)]
pub struct DepthDiff {
    /// Event time.
    pub event_time: i64,
    /// First update id in the event (`U`).
    pub first_update_id: u64,
    /// Last update id in the event (`u`).
    pub final_update_id: u64,
    /// Bid levels with absolute quantities.
    pub bids: Vec<(Fixed, Fixed)>,
    /// Ask levels with absolute quantities.
    pub asks: Vec<(Fixed, Fixed)>,
}

/// What the caller should do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncAction {
    /// Nothing: keep feeding diffs.
    None,
    /// Fetch a depth snapshot and hand it to [`BookSync::on_snapshot`].
    FetchSnapshot,
    /// The book changed and is in sync.
    Updated,
}

/// A diff that breaks the sequence, for logs and counters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("update ids jumped from {local} to {first}..{last}: resynchronising")]
pub struct SyncError {
    /// The book's id.
    pub local: u64,
    /// The event's `U`.
    pub first: u64,
    /// The event's `u`.
    pub last: u64,
}

/// One symbol's book and where it is in the procedure.
#[derive(Debug, Default)]
pub struct BookSync {
    book: Option<OrderBook>,
    buffer: Vec<DepthDiff>,
    snapshot_requested: bool,
    /// Times the book was rebuilt after a gap.
    pub resyncs: u64,
    /// The last gap seen.
    pub last_gap: Option<SyncError>,
    /// Diffs after which the book was crossed (best bid at or above best ask).
    pub crossed: u64,
    /// Diffs whose updates the stream had already delivered (a repeat, or one arriving after
    /// a later one), ignored.
    pub outdated: u64,
    /// The last id of the latest diff applied since the book was (re)built.
    last_diff_id: Option<u64>,
}

impl BookSync {
    /// A procedure with nothing received yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The book, once in sync.
    pub fn book(&self) -> Option<&OrderBook> {
        self.book.as_ref()
    }

    /// Feeds one diff from the stream.
    pub fn on_diff(&mut self, diff: DepthDiff) -> SyncAction {
        let Some(book) = self.book.as_mut() else {
            self.buffer.push(diff);
            if self.snapshot_requested {
                return SyncAction::None;
            }
            self.snapshot_requested = true;
            return SyncAction::FetchSnapshot;
        };
        if diff.final_update_id <= book.last_update_id {
            // Older than the snapshot is expected (step 4); older than a diff applied, not.
            if self
                .last_diff_id
                .is_some_and(|last| diff.final_update_id <= last)
            {
                self.outdated += 1;
            }
            return SyncAction::None;
        }
        if diff.first_update_id > book.last_update_id + 1 {
            let gap = SyncError {
                local: book.last_update_id,
                first: diff.first_update_id,
                last: diff.final_update_id,
            };
            tracing::warn!("{gap}");
            self.last_gap = Some(gap);
            self.resyncs += 1;
            self.book = None;
            self.last_diff_id = None;
            self.buffer = vec![diff];
            self.snapshot_requested = true;
            return SyncAction::FetchSnapshot;
        }
        book.apply(&diff.bids, &diff.asks);
        book.last_update_id = diff.final_update_id;
        self.last_diff_id = Some(diff.final_update_id);
        self.crossed += u64::from(book.is_crossed());
        SyncAction::Updated
    }

    /// Whether the procedure waits for its first diff: no book, nothing buffered, no snapshot
    /// asked for.
    pub fn waiting(&self) -> bool {
        self.book.is_none() && !self.snapshot_requested
    }

    /// The stream has been subscribed for a while without a diff: asks for the snapshot now
    /// rather than after the first diff, which a quiet symbol may not send for minutes.
    pub fn on_quiet(&mut self) -> SyncAction {
        if !self.waiting() {
            return SyncAction::None;
        }
        self.snapshot_requested = true;
        SyncAction::FetchSnapshot
    }

    /// Feeds the snapshot that [`SyncAction::FetchSnapshot`] asked for. Returns
    /// `FetchSnapshot` again when it is older than the buffered diffs.
    pub fn on_snapshot(
        &mut self,
        last_update_id: u64,
        bids: &[(Fixed, Fixed)],
        asks: &[(Fixed, Fixed)],
    ) -> SyncAction {
        let first_u = self.buffer.first().map_or(0, |d| d.first_update_id);
        if last_update_id < first_u {
            return SyncAction::FetchSnapshot;
        }
        self.snapshot_requested = false;
        self.book = Some(OrderBook::from_snapshot(last_update_id, bids, asks));
        self.last_diff_id = None;
        let mut buffered = std::mem::take(&mut self.buffer).into_iter();
        while let Some(diff) = buffered.next() {
            if diff.final_update_id <= last_update_id {
                continue;
            }
            if self.on_diff(diff) == SyncAction::FetchSnapshot {
                // A gap inside the buffer: keep what followed it for the next snapshot.
                self.buffer.extend(buffered);
                return SyncAction::FetchSnapshot;
            }
        }
        SyncAction::Updated
    }

    /// Starts over (after a reconnect): the book is dropped and diffs are buffered again.
    pub fn reset(&mut self) {
        self.book = None;
        self.last_diff_id = None;
        self.buffer.clear();
        self.snapshot_requested = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    fn diff(first: u64, last: u64, bid: &str, qty: &str) -> DepthDiff {
        DepthDiff {
            event_time: 0,
            first_update_id: first,
            final_update_id: last,
            bids: vec![(fx(bid), fx(qty))],
            asks: vec![],
        }
    }

    #[test]
    fn buffers_until_a_covering_snapshot_then_applies_in_order() {
        let mut s = BookSync::new();
        assert_eq!(
            s.on_diff(diff(101, 105, "10", "1")),
            SyncAction::FetchSnapshot
        );
        assert_eq!(s.on_diff(diff(106, 110, "11", "2")), SyncAction::None);
        // A snapshot older than the first buffered U is refused: fetch again.
        assert_eq!(s.on_snapshot(99, &[], &[]), SyncAction::FetchSnapshot);
        assert_eq!(s.on_diff(diff(111, 112, "12", "3")), SyncAction::None);
        // Snapshot at 107: the first diff (u=105) is dropped, the second straddles it.
        assert_eq!(
            s.on_snapshot(107, &[(fx("9"), fx("9"))], &[]),
            SyncAction::Updated
        );
        let book = s.book().unwrap();
        assert_eq!(book.last_update_id, 112);
        assert_eq!(
            book.bids(10).collect::<Vec<_>>(),
            vec![(fx("12"), fx("3")), (fx("11"), fx("2")), (fx("9"), fx("9"))]
        );
        // An old event is ignored.
        assert_eq!(s.on_diff(diff(100, 111, "50", "1")), SyncAction::None);
        assert_eq!(s.book().unwrap().best_bid(), Some((fx("12"), fx("3"))));
    }

    #[test]
    fn crossed_books_and_repeated_diffs_are_counted_and_old_ones_after_a_snapshot_are_not() {
        let mut s = BookSync::new();
        s.on_diff(diff(101, 105, "10", "1"));
        s.on_snapshot(105, &[(fx("9"), fx("1"))], &[(fx("11"), fx("1"))]);
        // The buffered diff older than the snapshot is step 4's, not a fault; so is one
        // arriving after the snapshot, before any diff is applied.
        assert_eq!(s.on_diff(diff(104, 104, "10", "3")), SyncAction::None);
        assert_eq!((s.outdated, s.crossed), (0, 0));
        assert_eq!(s.on_diff(diff(106, 107, "10", "2")), SyncAction::Updated);
        // A repeat of an applied diff, or a part of one, is outdated.
        assert_eq!(s.on_diff(diff(106, 107, "10", "2")), SyncAction::None);
        assert_eq!(s.on_diff(diff(107, 107, "10", "2")), SyncAction::None);
        assert_eq!(s.outdated, 2);
        // A bid at the ask crosses the book; removing it uncrosses it.
        assert_eq!(s.on_diff(diff(108, 108, "11", "1")), SyncAction::Updated);
        assert_eq!(s.crossed, 1);
        assert!(s.book().unwrap().is_crossed());
        assert_eq!(s.on_diff(diff(109, 109, "11", "0")), SyncAction::Updated);
        assert_eq!(s.crossed, 1);
        assert!(!s.book().unwrap().is_crossed());
    }

    #[test]
    fn lateness_is_measured_from_the_recent_smallest_lag_whatever_the_clocks_do() {
        // A local clock 1.3 s behind the exchange's: every lag negative. Only the diff 1,050 ms
        // slower than the fastest is late; 1,000 ms slower is not.
        let mut lags = Lags::default();
        for (i, lag) in [-1_280, -1_300, -1_250, -250, -300, -301]
            .into_iter()
            .enumerate()
        {
            lags.observe(lag, i as i64 * 100);
        }
        assert_eq!(
            (lags.min, lags.max, lags.late),
            (Some(-1_300), Some(-250), 1)
        );
        // A clock drifting 1 ms a second for an hour: never late.
        let mut drift = Lags::default();
        for s in 0..3_600 {
            drift.observe(s, s * 1_000);
        }
        assert_eq!(drift.late, 0);
        // A clock stepped back 5 s for a moment: the diffs after it are late only until the
        // step has left the baseline (at most ten minutes).
        let mut step = Lags::default();
        let late: Vec<i64> = (0..1_200)
            .filter(|&s| step.observe(if s == 100 { -5_000 } else { 0 }, s * 1_000))
            .collect();
        assert_eq!(late.first(), Some(&101));
        assert!(*late.last().unwrap() < 100 + 600, "{late:?}");
    }

    #[test]
    fn a_quiet_stream_gets_its_book_from_a_snapshot_before_any_diff() {
        let mut s = BookSync::new();
        assert!(s.waiting());
        assert_eq!(s.on_quiet(), SyncAction::FetchSnapshot);
        assert_eq!(s.on_quiet(), SyncAction::None, "asked once");
        assert_eq!(
            s.on_snapshot(50, &[(fx("10"), fx("1"))], &[]),
            SyncAction::Updated
        );
        assert_eq!(s.book().unwrap().last_update_id, 50);
        assert_eq!(s.on_quiet(), SyncAction::None, "in sync already");
        // The next change follows the snapshot.
        assert_eq!(s.on_diff(diff(51, 52, "10", "2")), SyncAction::Updated);
        assert_eq!(s.book().unwrap().best_bid(), Some((fx("10"), fx("2"))));
        // One that does not is a gap.
        assert_eq!(
            s.on_diff(diff(60, 61, "10", "3")),
            SyncAction::FetchSnapshot
        );
        assert_eq!(s.resyncs, 1);
        assert!(!s.waiting(), "the diff that revealed the gap is buffered");
    }

    #[test]
    fn a_gap_discards_the_book_and_keeps_the_diff_that_revealed_it() {
        let mut s = BookSync::new();
        s.on_diff(diff(1, 1, "10", "1"));
        s.on_snapshot(1, &[(fx("10"), fx("1"))], &[]);
        assert_eq!(s.on_diff(diff(2, 3, "10", "2")), SyncAction::Updated);
        assert_eq!(s.on_diff(diff(5, 6, "10", "3")), SyncAction::FetchSnapshot);
        assert_eq!(s.resyncs, 1);
        assert!(s.book().is_none());
        assert_eq!(s.on_diff(diff(7, 7, "10", "4")), SyncAction::None);
        assert_eq!(
            s.on_snapshot(6, &[(fx("10"), fx("3"))], &[]),
            SyncAction::Updated
        );
        assert_eq!(s.book().unwrap().best_bid(), Some((fx("10"), fx("4"))));
        assert_eq!(s.book().unwrap().last_update_id, 7);
    }

    #[test]
    fn a_gap_inside_the_buffer_keeps_the_diffs_after_it() {
        let mut s = BookSync::new();
        s.on_diff(diff(10, 10, "1", "1"));
        s.on_diff(diff(12, 12, "2", "2")); // 11 is missing
        s.on_diff(diff(13, 13, "3", "3"));
        assert_eq!(s.on_snapshot(10, &[], &[]), SyncAction::FetchSnapshot);
        assert_eq!(
            s.on_snapshot(12, &[(fx("2"), fx("2"))], &[]),
            SyncAction::Updated
        );
        assert_eq!(s.book().unwrap().last_update_id, 13);
        assert_eq!(s.book().unwrap().best_bid(), Some((fx("3"), fx("3"))));
    }
}
