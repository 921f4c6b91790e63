//! A sliding window of values that ranks its newest among the rest: the values in arrival
//! order beside the same values sorted in short blocks, so that a value arriving or leaving
//! moves one block's values, not half the window's.

use std::collections::VecDeque;

/// Blocks hold up to twice this many values; one split in two at its halves.
const BLOCK: usize = 32;

/// The last `capacity` values, for the rank of each new one among them.
pub struct RankWindow {
    capacity: usize,
    arrival: VecDeque<f64>,
    /// The held values sorted, cut in blocks (none empty, at most `2 * BLOCK` each).
    blocks: Vec<Vec<f64>>,
    /// Each block's largest value.
    lasts: Vec<f64>,
    /// Each block's length (beside `lasts`: the few lines a rank reads).
    lens: Vec<u32>,
    /// Where the values of the block the newest value went into start (as it was before any
    /// split; 0 before the first value): the next value, close to it, most likely goes there
    /// too. Only ever requested from memory (a stale address is harmless there), never read.
    hint: usize,
}

impl RankWindow {
    /// An empty window of `capacity` values (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        RankWindow {
            capacity,
            arrival: VecDeque::with_capacity(capacity),
            blocks: Vec::new(),
            lasts: Vec::new(),
            lens: Vec::new(),
            hint: 0,
        }
    }

    /// Requests the lines the next [`RankWindow::push`] most likely touches (see
    /// [`super::prefetch`]).
    pub fn prefetch(&self) {
        super::prefetch::deque_ends(&self.arrival);
        super::prefetch::slice(&self.lasts);
        super::prefetch::slice(&self.lens);
        super::prefetch::slice(&self.blocks);
        if self.hint != 0 {
            super::prefetch::range(self.hint as *const f64, 2 * BLOCK * size_of::<f64>());
        }
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

    /// Inserts `value` in its place among the sorted values; how many held are at or below it
    /// (itself included): those before its place, itself, and the copies of it after.
    fn insert(&mut self, value: f64) -> usize {
        if self.blocks.is_empty() {
            self.blocks.push(Vec::with_capacity(2 * BLOCK + 1));
            self.lasts.push(value);
            self.lens.push(0);
        }
        // The first block reaching it, else the last.
        let k = count(&self.lasts, |last| last < value).min(self.blocks.len() - 1);
        let block = &mut self.blocks[k];
        let at = count(block, |v| v < value);
        block.insert(at, value);
        self.hint = block.as_ptr() as usize;
        let before: usize = self.lens[..k].iter().map(|n| *n as usize).sum();
        let copies = block[at..].iter().take_while(|v| **v == value).count();
        let mut rank = before + at + copies;
        if at + copies == block.len() {
            // Copies may go on into the next blocks (rare: only among equal values).
            for next in &self.blocks[k + 1..] {
                let same = next.iter().take_while(|v| **v == value).count();
                rank += same;
                if same < next.len() {
                    break;
                }
            }
        }
        let block = &mut self.blocks[k];
        if block.len() > 2 * BLOCK {
            let mut upper = Vec::with_capacity(2 * BLOCK + 1);
            upper.extend_from_slice(&block[BLOCK..]);
            block.truncate(BLOCK);
            let (lower_last, upper_last) = (block[BLOCK - 1], upper[upper.len() - 1]);
            let upper_len = upper.len() as u32;
            self.lasts[k] = lower_last;
            self.lens[k] = BLOCK as u32;
            self.blocks.insert(k + 1, upper);
            self.lasts.insert(k + 1, upper_last);
            self.lens.insert(k + 1, upper_len);
        } else {
            self.lasts[k] = block[block.len() - 1];
            self.lens[k] = block.len() as u32;
        }
        rank
    }

    fn remove(&mut self, value: f64) {
        // The first block reaching it holds its first copy.
        let k = count(&self.lasts, |last| last < value);
        let Some(block) = self.blocks.get_mut(k) else {
            return;
        };
        block.remove(count(block, |v| v < value));
        let left = block.len();
        // A block left short takes in its successor when both fit in one.
        if left < BLOCK / 2
            && k + 1 < self.blocks.len()
            && left + self.blocks[k + 1].len() <= 2 * BLOCK
        {
            let next = self.blocks.remove(k + 1);
            self.lasts.remove(k + 1);
            self.lens.remove(k + 1);
            self.blocks[k].extend_from_slice(&next);
        }
        let block = &self.blocks[k];
        match block.last() {
            Some(last) => {
                self.lasts[k] = *last;
                self.lens[k] = block.len() as u32;
            }
            None => {
                self.blocks.remove(k);
                self.lasts.remove(k);
                self.lens.remove(k);
            }
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
                assert_eq!(window.blocks.concat(), sorted);
                assert!(
                    window
                        .blocks
                        .iter()
                        .all(|b| !b.is_empty() && b.len() <= 2 * BLOCK)
                );
                let lasts: Vec<f64> = window.blocks.iter().map(|b| b[b.len() - 1]).collect();
                assert_eq!(window.lasts, lasts);
                let lens: Vec<u32> = window.blocks.iter().map(|b| b.len() as u32).collect();
                assert_eq!(window.lens, lens);
            }
        }
    }
}
