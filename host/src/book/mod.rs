//! Local order books kept by Binance's documented snapshot + diff procedure.
//!
//! [`OrderBook`] holds price levels with absolute quantities (0 deletes a level) in a
//! price-indexed ladder per side and keeps its best bid and ask cached, so reading them is O(1).
//! [`BookSync`] is the procedure as a state machine without I/O: it buffers diffs, says when a
//! snapshot is needed, drops what the snapshot already covers, applies the rest in order, and
//! starts over on a gap.

mod ladder;
mod sync;

pub use sync::{BookSync, DepthDiff, LATE_MS, Lags, SyncAction, SyncError};

use crate::model::Fixed;
use ladder::Ladder;

/// One side's levels and the book's update id.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderBook {
    /// The update id the book reflects.
    pub last_update_id: u64,
    bids: Ladder,
    asks: Ladder,
    best_bid: Option<(Fixed, Fixed)>,
    best_ask: Option<(Fixed, Fixed)>,
}

impl Default for OrderBook {
    fn default() -> Self {
        OrderBook {
            last_update_id: 0,
            bids: Ladder::new(true),
            asks: Ladder::new(false),
            best_bid: None,
            best_ask: None,
        }
    }
}

fn level((price, qty): (i64, i64)) -> (Fixed, Fixed) {
    (Fixed::from_raw(price), Fixed::from_raw(qty))
}

impl OrderBook {
    /// A book from a snapshot.
    pub fn from_snapshot(
        last_update_id: u64,
        bids: &[(Fixed, Fixed)],
        asks: &[(Fixed, Fixed)],
    ) -> Self {
        let mut book = OrderBook {
            last_update_id,
            ..Default::default()
        };
        book.apply(bids, asks);
        book
    }

    /// Applies absolute quantities: a zero quantity removes the level.
    pub fn apply(&mut self, bids: &[(Fixed, Fixed)], asks: &[(Fixed, Fixed)]) {
        if !bids.is_empty() {
            for &(price, qty) in bids {
                self.bids.set(price.raw(), qty.raw());
            }
            self.bids.settle();
            self.best_bid = self.bids.best().map(level);
        }
        if !asks.is_empty() {
            for &(price, qty) in asks {
                self.asks.set(price.raw(), qty.raw());
            }
            self.asks.settle();
            self.best_ask = self.asks.best().map(level);
        }
    }

    /// Makes `bid` and `ask` the best levels (a `bookTicker`): better levels are removed, and
    /// each side's best level gets its quantity.
    pub fn apply_top(&mut self, bid: Option<(Fixed, Fixed)>, ask: Option<(Fixed, Fixed)>) {
        for (side, top) in [(&mut self.bids, bid), (&mut self.asks, ask)] {
            let Some((price, _)) = top else { continue };
            while let Some((p, _)) = side.best()
                && side.better(p, price.raw())
            {
                side.set(p, 0);
            }
        }
        self.apply(bid.as_slice(), ask.as_slice());
    }

    /// Removes every level.
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.best_bid = None;
        self.best_ask = None;
    }

    /// The quantity bid at `price` (zero for no level).
    pub fn bid_qty(&self, price: Fixed) -> Fixed {
        Fixed::from_raw(self.bids.get(price.raw()))
    }

    /// The quantity offered at `price` (zero for no level).
    pub fn ask_qty(&self, price: Fixed) -> Fixed {
        Fixed::from_raw(self.asks.get(price.raw()))
    }

    /// Best bid (price, quantity), O(1).
    pub fn best_bid(&self) -> Option<(Fixed, Fixed)> {
        self.best_bid
    }

    /// Best ask (price, quantity), O(1).
    pub fn best_ask(&self) -> Option<(Fixed, Fixed)> {
        self.best_ask
    }

    /// Whether the best bid is at or above the best ask (a book the exchange never has: a sign
    /// of a missed or misapplied update).
    pub fn is_crossed(&self) -> bool {
        matches!((self.best_bid, self.best_ask), (Some((bid, _)), Some((ask, _))) if bid >= ask)
    }

    /// The best `n` bids, best first.
    pub fn bids(&self, n: usize) -> impl Iterator<Item = (Fixed, Fixed)> + '_ {
        self.bids.iter().take(n).map(level)
    }

    /// The best `n` asks, best first.
    pub fn asks(&self, n: usize) -> impl Iterator<Item = (Fixed, Fixed)> + '_ {
        self.asks.iter().take(n).map(level)
    }

    /// Levels on each side.
    pub fn depth(&self) -> (usize, usize) {
        (self.bids.len(), self.asks.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    #[test]
    fn applies_absolute_quantities_and_tracks_the_best_levels() {
        let mut b = OrderBook::from_snapshot(
            1,
            &[(fx("99"), fx("1")), (fx("98"), fx("2"))],
            &[(fx("101"), fx("1"))],
        );
        assert_eq!(b.best_bid(), Some((fx("99"), fx("1"))));
        b.apply(
            &[(fx("99"), fx("0")), (fx("100"), fx("3"))],
            &[(fx("101"), fx("5"))],
        );
        assert_eq!(b.best_bid(), Some((fx("100"), fx("3"))));
        assert_eq!(b.best_ask(), Some((fx("101"), fx("5"))));
        assert_eq!(
            b.bids(5).collect::<Vec<_>>(),
            vec![(fx("100"), fx("3")), (fx("98"), fx("2"))]
        );
        b.apply(&[], &[(fx("101"), fx("0"))]);
        assert_eq!(b.best_ask(), None);
        assert_eq!(b.depth(), (2, 0));
        assert_eq!(b.bid_qty(fx("98")), fx("2"));
        assert_eq!(b.bid_qty(fx("97")), Fixed::ZERO);
    }

    #[test]
    fn a_ticker_removes_levels_better_than_its_best() {
        let mut b = OrderBook::from_snapshot(
            1,
            &[
                (fx("99"), fx("1")),
                (fx("98"), fx("2")),
                (fx("97"), fx("2")),
            ],
            &[(fx("101"), fx("1")), (fx("102"), fx("1"))],
        );
        b.apply_top(Some((fx("98"), fx("5"))), Some((fx("101.5"), fx("3"))));
        assert_eq!(b.best_bid(), Some((fx("98"), fx("5"))));
        assert_eq!(b.best_ask(), Some((fx("101.5"), fx("3"))));
        assert_eq!(b.depth(), (2, 2));
        b.clear();
        assert_eq!((b.best_bid(), b.depth()), (None, (0, 0)));
    }
}
