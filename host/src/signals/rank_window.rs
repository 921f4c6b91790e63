//! A sliding window of values that ranks its newest among the rest: the values in arrival
//! order beside the same values sorted in short blocks, so that a value arriving or leaving
//! moves one block's values, not half the window's. The blocks lie in one buffer of fixed-size
//! slots, their order, lengths and largest values in three short arrays: a rank reads those
//! few lines and the one or two blocks it changes, with no pointer to follow in between.

use std::collections::VecDeque;

/// Blocks hold up to twice this many values; one split in two at its halves.
const BLOCK: usize = 32;

/// Values a slot has room for: a full block and the value that makes it split, rounded up to
/// a whole number of cache lines' worth.
const SLOT: usize = 2 * BLOCK + 8;

/// The last `capacity` values, for the rank of each new one among them.
pub struct RankWindow {
    capacity: usize,
    arrival: VecDeque<f64>,
    /// The slots, `SLOT` values each; the block in slot `s` holds `values[s * SLOT..][..len]`.
    values: Vec<f64>,
    /// In sorted order, block by block: its slot, its length and its largest value.
    slots: Vec<u32>,
    lens: Vec<u32>,
    lasts: Vec<f64>,
    /// Slots no block uses.
    free: Vec<u32>,
    /// Where the slot of the block the newest value went into starts in `values` (as it was
    /// before any split): the next value, close to it, most likely goes there too. Kept as an
    /// offset, not a block index, so that requesting it needs no line that is itself being
    /// requested; only ever used to request lines from memory (a stale offset is harmless).
    hint: usize,
}

impl RankWindow {
    /// An empty window of `capacity` values (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        RankWindow {
            capacity,
            arrival: VecDeque::with_capacity(capacity),
            values: Vec::new(),
            slots: Vec::new(),
            lens: Vec::new(),
            lasts: Vec::new(),
            free: Vec::new(),
            hint: 0,
        }
    }

    /// Requests the lines the next [`RankWindow::push`] most likely touches (see
    /// [`super::prefetch`]).
    pub fn prefetch(&self) {
        super::prefetch::deque_ends(&self.arrival);
        super::prefetch::slice(&self.lasts);
        super::prefetch::slice(&self.lens);
        super::prefetch::slice(&self.slots);
        // A request never faults, so the address need not be checked against the buffer.
        let block = self.values.as_ptr().wrapping_add(self.hint);
        super::prefetch::range(block, SLOT * size_of::<f64>());
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.arrival.len()
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        self.arrival.is_empty()
    }

    /// Takes in `value` (finite), the oldest leaving once `capacity` are held; how many of the
    /// values then held are at or below it (itself included).
    pub fn push(&mut self, value: f64) -> usize {
        if self.arrival.len() == self.capacity
            && let Some(old) = self.arrival.pop_front()
        {
            self.remove(old);
        }
        self.arrival.push_back(value);
        self.insert(value)
    }

    /// Block `k`'s values.
    fn block(&self, k: usize) -> &[f64] {
        let start = self.slots[k] as usize * SLOT;
        &self.values[start..start + self.lens[k] as usize]
    }

    /// A slot for a new block.
    fn take_slot(&mut self) -> u32 {
        self.free.pop().unwrap_or_else(|| {
            let slot = (self.values.len() / SLOT) as u32;
            self.values.resize(self.values.len() + SLOT, 0.0);
            slot
        })
    }

    /// Inserts `value` in its place among the sorted values; how many held are at or below it
    /// (itself included): those before its place, itself, and the copies of it after.
    fn insert(&mut self, value: f64) -> usize {
        if self.slots.is_empty() {
            let slot = self.take_slot();
            self.slots.push(slot);
            self.lens.push(0);
            self.lasts.push(value);
        }
        // The first block reaching it, else the last.
        let k = count(&self.lasts, |last| last < value).min(self.slots.len() - 1);
        let start = self.slots[k] as usize * SLOT;
        self.hint = start;
        let len = self.lens[k] as usize;
        let block = &mut self.values[start..start + len + 1];
        let at = count(&block[..len], |v| v < value);
        block.copy_within(at..len, at + 1);
        block[at] = value;
        let len = len + 1;
        let before: usize = self.lens[..k].iter().map(|n| *n as usize).sum();
        let copies = block[at..].iter().take_while(|v| **v == value).count();
        let mut rank = before + at + copies;
        if at + copies == len {
            // Copies may go on into the next blocks (rare: only among equal values).
            for next in k + 1..self.slots.len() {
                let next = self.block(next);
                let same = next.iter().take_while(|v| **v == value).count();
                rank += same;
                if same < next.len() {
                    break;
                }
            }
        }
        if len > 2 * BLOCK {
            let slot = self.take_slot();
            let upper = slot as usize * SLOT;
            self.values.copy_within(start + BLOCK..start + len, upper);
            let upper_len = len - BLOCK;
            self.lens[k] = BLOCK as u32;
            self.lasts[k] = self.values[start + BLOCK - 1];
            self.slots.insert(k + 1, slot);
            self.lens.insert(k + 1, upper_len as u32);
            self.lasts.insert(k + 1, self.values[upper + upper_len - 1]);
        } else {
            self.lens[k] = len as u32;
            self.lasts[k] = self.values[start + len - 1];
        }
        rank
    }

    fn remove(&mut self, value: f64) {
        // The first block reaching it holds its first copy.
        let k = count(&self.lasts, |last| last < value);
        if k >= self.slots.len() {
            return;
        }
        let start = self.slots[k] as usize * SLOT;
        let len = self.lens[k] as usize;
        let block = &mut self.values[start..start + len];
        let at = count(block, |v| v < value);
        block.copy_within(at + 1..len, at);
        let mut left = len - 1;
        // A block left short takes in its successor when both fit in one.
        if left < BLOCK / 2
            && k + 1 < self.slots.len()
            && left + self.lens[k + 1] as usize <= 2 * BLOCK
        {
            let next = self.slots.remove(k + 1) as usize * SLOT;
            let next_len = self.lens.remove(k + 1) as usize;
            self.lasts.remove(k + 1);
            self.values.copy_within(next..next + next_len, start + left);
            self.free.push((next / SLOT) as u32);
            left += next_len;
        }
        if left == 0 {
            self.free.push(self.slots.remove(k));
            self.lens.remove(k);
            self.lasts.remove(k);
        } else {
            self.lens[k] = left as u32;
            self.lasts[k] = self.values[start + left - 1];
        }
    }
}

/// How many of `sorted` satisfy `holds`, a predicate true for a prefix of it: the prefix's
/// length, as a binary search would find it, counted without branches (a window's values are
/// rarely in cache when its symbol's next bar comes, and a count's loads do not wait on one
/// another as a search's do).
fn count(sorted: &[f64], holds: impl Fn(f64) -> bool) -> usize {
    sorted.iter().map(|v| usize::from(holds(*v))).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The count a plain scan of the window gives.
    fn scanned(window: &VecDeque<f64>, value: f64) -> usize {
        window.iter().filter(|v| **v <= value).count()
    }

    #[test]
    fn each_rank_equals_a_scan_of_the_window() {
        // Values with many ties, so that old and new often share a place.
        let mut state = 12345u64;
        for capacity in [1, 2, 7, 100, 1_000] {
            let mut window = RankWindow::new(capacity);
            let mut plain = VecDeque::new();
            for _ in 0..5_000 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let value = ((state >> 33) % 50) as f64 / 7.0;
                plain.push_back(value);
                if plain.len() > capacity {
                    plain.pop_front();
                }
                assert_eq!(
                    window.push(value),
                    scanned(&plain, value),
                    "capacity {capacity}"
                );
                assert_eq!(window.len(), plain.len());
                let mut sorted: Vec<f64> = plain.iter().copied().collect();
                sorted.sort_by(f64::total_cmp);
                let blocks: Vec<&[f64]> =
                    (0..window.slots.len()).map(|k| window.block(k)).collect();
                assert_eq!(blocks.concat(), sorted);
                assert!(blocks.iter().all(|b| !b.is_empty() && b.len() <= 2 * BLOCK));
                let lasts: Vec<f64> = blocks.iter().map(|b| b[b.len() - 1]).collect();
                assert_eq!(window.lasts, lasts);
                // Every slot is a block's or free, none twice.
                let mut slots: Vec<u32> =
                    window.slots.iter().chain(&window.free).copied().collect();
                slots.sort_unstable();
                let all: Vec<u32> = (0..(window.values.len() / SLOT) as u32).collect();
                assert_eq!(slots, all);
            }
        }
    }
}
