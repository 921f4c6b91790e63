//! One side of an order book as a price-indexed ladder.
//!
//! Levels whose price is a multiple of the side's tick and lies within [`SLOTS`] ticks of the
//! ladder's origin live in an array indexed by price (pages of [`PAGE`] slots, allocated when
//! first used, with occupancy bits per page and per page group), so setting a level is an index
//! and finding the next level a few bit scans, as hftbacktest's `ROIVectorMarketDepth` does.
//! Every other level (off the tick grid, or far from the touch) lives in an ordered map, so no
//! input is refused or lost. The tick is the greatest common divisor of the prices seen; the
//! ladder regrids when prices stop fitting it and recentres when the best level leaves its range.

use std::collections::BTreeMap;
use std::fmt;

/// Slots a page holds.
const PAGE: usize = 256;
/// Pages the ladder spans.
const PAGES: usize = 4096;
/// Price steps the ladder spans from its origin (2^20: about 10,000 USDT of BTCUSDT at 0.01).
const SLOTS: usize = PAGE * PAGES;
/// Below this many levels a side stays in the ordered map (no grid to learn from yet).
const MIN_GRID_LEVELS: usize = 16;

#[derive(Clone)]
struct Page {
    /// Raw quantity per slot; zero where no level is.
    qty: [i64; PAGE],
    /// Occupied slots.
    bits: [u64; PAGE / 64],
    /// Occupied slots, counted.
    count: u16,
}

impl Page {
    fn new() -> Box<Page> {
        Box::new(Page {
            qty: [0; PAGE],
            bits: [0; PAGE / 64],
            count: 0,
        })
    }

    /// The first occupied slot at or after `from`.
    fn next(&self, from: usize) -> Option<usize> {
        let mut word = from / 64;
        let mut bits = self.bits[word] & (u64::MAX << (from % 64));
        loop {
            if bits != 0 {
                return Some(word * 64 + bits.trailing_zeros() as usize);
            }
            word += 1;
            if word == self.bits.len() {
                return None;
            }
            bits = self.bits[word];
        }
    }
}

/// One side's levels: raw price -> raw quantity (both `Fixed` units), best first.
#[derive(Clone)]
pub(super) struct Ladder {
    /// Bids: a higher price is better; asks: a lower one.
    bid: bool,
    /// The grid's step in raw price units; 0 until the side has a grid.
    tick: i64,
    /// The grid index (price / tick) at slot 0, the best end of the range.
    origin: i64,
    /// `PAGES` pages once gridded.
    pages: Vec<Option<Box<Page>>>,
    /// Pages holding a level.
    summary: [u64; PAGES / 64],
    /// The first occupied slot, or `SLOTS`.
    first: usize,
    /// Levels in pages.
    dense: usize,
    /// Levels outside the range or off the grid, by order key (best first).
    far: BTreeMap<i64, i64>,
    /// Levels in `far` whose price is off the grid.
    off_grid: usize,
}

impl Ladder {
    /// An empty side.
    pub(super) fn new(bid: bool) -> Self {
        Ladder {
            bid,
            tick: 0,
            origin: 0,
            pages: Vec::new(),
            summary: [0; PAGES / 64],
            first: SLOTS,
            dense: 0,
            far: BTreeMap::new(),
            off_grid: 0,
        }
    }

    /// A key ordering levels best first: the price for asks, its bitwise complement (an
    /// order-reversing bijection of `i64`) for bids.
    fn key(&self, raw: i64) -> i64 {
        if self.bid { !raw } else { raw }
    }

    fn on_grid(&self, raw: i64) -> bool {
        self.tick != 0 && raw % self.tick == 0
    }

    /// The slot of `raw`, if it has one.
    fn slot(&self, raw: i64) -> Option<usize> {
        if !self.on_grid(raw) {
            return None;
        }
        let index = raw / self.tick;
        let offset = if self.bid {
            self.origin.checked_sub(index)?
        } else {
            index.checked_sub(self.origin)?
        };
        usize::try_from(offset).ok().filter(|&s| s < SLOTS)
    }

    /// The raw price at an occupied slot.
    fn price_at(&self, slot: usize) -> i64 {
        let index = if self.bid {
            self.origin - slot as i64
        } else {
            self.origin + slot as i64
        };
        index * self.tick
    }

    /// The first occupied slot at or after `from`, or `SLOTS`.
    fn next_slot(&self, from: usize) -> usize {
        if from >= SLOTS {
            return SLOTS;
        }
        let page = from / PAGE;
        if let Some(p) = &self.pages[page]
            && let Some(s) = p.next(from % PAGE)
        {
            return page * PAGE + s;
        }
        let mut word = (page + 1) / 64;
        if word >= self.summary.len() {
            return SLOTS;
        }
        let mut bits = self.summary[word] & (u64::MAX << ((page + 1) % 64));
        loop {
            if bits != 0 {
                let page = word * 64 + bits.trailing_zeros() as usize;
                let p = self.pages[page].as_ref().expect("a marked page exists");
                return page * PAGE + p.next(0).expect("a marked page holds a level");
            }
            word += 1;
            if word == self.summary.len() {
                return SLOTS;
            }
            bits = self.summary[word];
        }
    }

    /// Levels on this side.
    pub(super) fn len(&self) -> usize {
        self.dense + self.far.len()
    }

    /// The raw quantity at `raw` (zero for no level).
    pub(super) fn get(&self, raw: i64) -> i64 {
        match self.slot(raw) {
            Some(s) => self.pages[s / PAGE].as_ref().map_or(0, |p| p.qty[s % PAGE]),
            None => self.far.get(&self.key(raw)).copied().unwrap_or(0),
        }
    }

    /// Sets the level at `raw` to `qty`; zero removes it. Call [`Ladder::settle`] after a batch.
    pub(super) fn set(&mut self, raw: i64, qty: i64) {
        match self.slot(raw) {
            Some(s) => self.set_slot(s, qty),
            None => {
                let key = self.key(raw);
                let counts = self.tick != 0 && !self.on_grid(raw);
                let had = if qty == 0 {
                    self.far.remove(&key).is_some()
                } else {
                    self.far.insert(key, qty).is_some()
                };
                if counts {
                    match (had, qty == 0) {
                        (false, false) => self.off_grid += 1,
                        (true, true) => self.off_grid -= 1,
                        _ => {}
                    }
                }
            }
        }
    }

    fn set_slot(&mut self, slot: usize, qty: i64) {
        let (page, i) = (slot / PAGE, slot % PAGE);
        let bit = 1u64 << (i % 64);
        if qty == 0 {
            let Some(p) = self.pages[page].as_mut() else {
                return;
            };
            if p.bits[i / 64] & bit == 0 {
                return;
            }
            p.bits[i / 64] &= !bit;
            p.qty[i] = 0;
            p.count -= 1;
            if p.count == 0 {
                self.summary[page / 64] &= !(1 << (page % 64));
            }
            self.dense -= 1;
            if slot == self.first {
                self.first = self.next_slot(slot + 1);
            }
        } else {
            let p = self.pages[page].get_or_insert_with(Page::new);
            p.qty[i] = qty;
            if p.bits[i / 64] & bit == 0 {
                p.bits[i / 64] |= bit;
                p.count += 1;
                self.summary[page / 64] |= 1 << (page % 64);
                self.dense += 1;
                self.first = self.first.min(slot);
            }
        }
    }

    /// The best level (raw price, raw quantity).
    pub(super) fn best(&self) -> Option<(i64, i64)> {
        let dense = (self.first < SLOTS).then(|| {
            let s = self.first;
            (
                self.price_at(s),
                self.pages[s / PAGE].as_ref().unwrap().qty[s % PAGE],
            )
        });
        let far = self.far.first_key_value().map(|(&k, &q)| (self.key(k), q));
        match (dense, far) {
            (Some(d), Some(f)) => Some(if self.key(f.0) < self.key(d.0) { f } else { d }),
            (d, f) => d.or(f),
        }
    }

    /// Whether `a` is a better price than `b` on this side.
    pub(super) fn better(&self, a: i64, b: i64) -> bool {
        self.key(a) < self.key(b)
    }

    /// Removes every level, keeping the grid.
    pub(super) fn clear(&mut self) {
        self.pages.iter_mut().for_each(|p| *p = None);
        self.summary = [0; PAGES / 64];
        self.first = SLOTS;
        self.dense = 0;
        self.far.clear();
        self.off_grid = 0;
    }

    /// After a batch of changes: learns the grid once the side has enough levels, regrids when
    /// too many prices fall off it, and recentres the range on the best level when that level
    /// is on the grid but outside the range.
    pub(super) fn settle(&mut self) {
        let len = self.len();
        if (self.tick == 0 && len >= MIN_GRID_LEVELS)
            || (self.off_grid > MIN_GRID_LEVELS && self.off_grid > len / 8)
        {
            let tick = self.iter().fold(0, |g, (p, _)| gcd(g, p.unsigned_abs()));
            self.rebuild(i64::try_from(tick).unwrap_or(0));
        } else if let Some((best, _)) = self.best()
            && self.on_grid(best)
            && self.slot(best).is_none()
        {
            self.rebuild(self.tick);
        }
    }

    /// Puts every level back with grid step `tick` (0: none) and the best level a quarter of
    /// the range from the range's best end, if its index allows.
    fn rebuild(&mut self, tick: i64) {
        let levels: Vec<(i64, i64)> = self.iter().collect();
        self.clear();
        self.tick = tick;
        if tick != 0 && self.pages.is_empty() {
            self.pages.resize_with(PAGES, || None);
        }
        if let Some(&(best, _)) = levels.first()
            && tick != 0
        {
            let index = best / tick;
            let margin = (SLOTS / 4) as i64;
            self.origin = if self.bid {
                index.saturating_add(margin)
            } else {
                index.saturating_sub(margin)
            };
        }
        for (price, qty) in levels {
            self.set(price, qty);
        }
    }

    /// Levels best first (raw price, raw quantity).
    pub(super) fn iter(&self) -> LadderIter<'_> {
        let mut far = self.far.iter();
        LadderIter {
            ladder: self,
            slot: self.first,
            far_next: far.next().map(|(&k, &q)| (k, q)),
            far,
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The levels of a [`Ladder`], best first: its slots and its ordered map merged.
pub(super) struct LadderIter<'a> {
    ladder: &'a Ladder,
    slot: usize,
    far: std::collections::btree_map::Iter<'a, i64, i64>,
    far_next: Option<(i64, i64)>,
}

impl Iterator for LadderIter<'_> {
    type Item = (i64, i64);

    fn next(&mut self) -> Option<(i64, i64)> {
        let l = self.ladder;
        let dense = (self.slot < SLOTS).then(|| l.price_at(self.slot));
        let take_far = match (dense, self.far_next) {
            (Some(price), Some((key, _))) => key < l.key(price),
            (None, Some(_)) => true,
            (_, None) => false,
        };
        if take_far {
            let (key, qty) = self.far_next.take()?;
            self.far_next = self.far.next().map(|(&k, &q)| (k, q));
            return Some((l.key(key), qty));
        }
        let price = dense?;
        let s = self.slot;
        let qty = l.pages[s / PAGE].as_ref().map_or(0, |p| p.qty[s % PAGE]);
        self.slot = l.next_slot(s + 1);
        Some((price, qty))
    }
}

impl PartialEq for Ladder {
    fn eq(&self, other: &Self) -> bool {
        self.bid == other.bid && self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Ladder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference: an ordered map, best first.
    fn reference(bid: bool, ops: &[(i64, i64)]) -> Vec<(i64, i64)> {
        let mut m = BTreeMap::new();
        for &(p, q) in ops {
            if q == 0 {
                m.remove(&p);
            } else {
                m.insert(p, q);
            }
        }
        let mut v: Vec<_> = m.into_iter().collect();
        if bid {
            v.reverse();
        }
        v
    }

    fn check(bid: bool, batches: &[Vec<(i64, i64)>]) {
        let mut ladder = Ladder::new(bid);
        let mut done = Vec::new();
        for batch in batches {
            for &(p, q) in batch {
                ladder.set(p, q);
            }
            ladder.settle();
            done.extend_from_slice(batch);
            let want = reference(bid, &done);
            assert_eq!(ladder.iter().collect::<Vec<_>>(), want);
            assert_eq!(ladder.len(), want.len());
            assert_eq!(ladder.best(), want.first().copied());
            for &(p, _) in batch {
                let q = want.iter().find(|l| l.0 == p).map_or(0, |l| l.1);
                assert_eq!(ladder.get(p), q);
            }
        }
    }

    /// Prices around a centre that drifts by `drift` ticks a batch, with a few far and
    /// off-grid prices and extremes mixed in.
    fn batches() -> impl Strategy<Value = Vec<Vec<(i64, i64)>>> {
        let tick = prop::sample::select(vec![1i64, 100, 1_000_000, 3_000_000]);
        let drift = -300_000i64..300_000;
        (tick, drift).prop_flat_map(|(tick, drift)| {
            let level = (
                prop_oneof![
                    8 => (-2_000i64..2_000).prop_map(move |d| (d, 0i64)),
                    1 => (-3_000_000i64..3_000_000).prop_map(|d| (d, 0)),
                    1 => (-2_000i64..2_000).prop_map(|d| (d, 1)),
                    1 => prop::sample::select(vec![(0, 2), (0, 3), (0, 4)]),
                ],
                prop_oneof![1 => Just(0i64), 3 => 1i64..1_000],
            );
            prop::collection::vec(prop::collection::vec(level, 0..40), 1..40).prop_map(
                move |batches| {
                    batches
                        .into_iter()
                        .enumerate()
                        .map(|(n, batch)| {
                            let centre = 6_000_000_000i64 / tick + drift * n as i64;
                            batch
                                .into_iter()
                                .map(|((d, kind), q)| {
                                    let price = match kind {
                                        0 => (centre + d) * tick,
                                        1 => (centre + d) * tick + tick / 3 + 1,
                                        2 => i64::MAX,
                                        3 => i64::MIN,
                                        _ => 0,
                                    };
                                    (price, q)
                                })
                                .collect()
                        })
                        .collect()
                },
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn keeps_the_same_levels_as_an_ordered_map(bid: bool, batches in batches()) {
            check(bid, &batches);
        }
    }

    #[test]
    fn learns_the_grid_regrids_and_recentres() {
        let tick = 1_000_000; // 0.01
        let mut l = Ladder::new(false);
        let levels: Vec<_> = (0..20).map(|i| ((6_000_000 + i * 3) * tick, 1)).collect();
        for &(p, q) in &levels {
            l.set(p, q);
        }
        l.settle();
        assert_eq!((l.tick, l.dense, l.far.len()), (3 * tick, 20, 0));
        // Prices on a finer grid: kept in the map until they are many, then a finer grid.
        for i in 0..40 {
            l.set((6_000_100 + i * 3) * tick + tick, 2);
            l.settle();
        }
        assert_eq!((l.tick, l.dense, l.far.len()), (tick, 60, 0));
        // The market moves beyond the range: the range follows the best level.
        l.clear();
        l.set(6_000_000 * tick + SLOTS as i64 * 5 * tick, 4);
        l.settle();
        assert_eq!((l.dense, l.far.len()), (1, 0));
        assert_eq!(
            l.best(),
            Some((6_000_000 * tick + SLOTS as i64 * 5 * tick, 4))
        );
    }
}
