//! Local order books kept by Binance's documented snapshot + diff procedure.
//!
//! [`OrderBook`] holds price levels with absolute quantities (0 deletes a level) and keeps its
//! best bid and ask cached, so reading them is O(1). [`BookSync`] is the procedure as a state
//! machine without I/O: it buffers diffs, says when a snapshot is needed, drops what the
//! snapshot already covers, applies the rest in order, and starts over on a gap.

mod sync;

pub use sync::{BookSync, DepthDiff, SyncAction, SyncError};

use crate::model::Fixed;
use std::cmp::Reverse;
use std::collections::BTreeMap;

/// One side's levels and the book's update id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderBook {
    /// The update id the book reflects.
    pub last_update_id: u64,
    bids: BTreeMap<Reverse<Fixed>, Fixed>,
    asks: BTreeMap<Fixed, Fixed>,
    best_bid: Option<(Fixed, Fixed)>,
    best_ask: Option<(Fixed, Fixed)>,
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
        for &(price, qty) in bids {
            if qty.raw() == 0 {
                self.bids.remove(&Reverse(price));
            } else {
                self.bids.insert(Reverse(price), qty);
            }
        }
        for &(price, qty) in asks {
            if qty.raw() == 0 {
                self.asks.remove(&price);
            } else {
                self.asks.insert(price, qty);
            }
        }
        self.best_bid = self.bids.first_key_value().map(|(p, q)| (p.0, *q));
        self.best_ask = self.asks.first_key_value().map(|(p, q)| (*p, *q));
    }

    /// Makes `bid` and `ask` the best levels (a `bookTicker`): better levels are removed, and
    /// each side's best level gets its quantity.
    pub fn apply_top(&mut self, bid: Option<(Fixed, Fixed)>, ask: Option<(Fixed, Fixed)>) {
        if let Some((price, qty)) = bid {
            while let Some((&Reverse(p), _)) = self.bids.first_key_value() {
                if p <= price {
                    break;
                }
                self.bids.pop_first();
            }
            self.apply(&[(price, qty)], &[]);
        }
        if let Some((price, qty)) = ask {
            while let Some((&p, _)) = self.asks.first_key_value() {
                if p >= price {
                    break;
                }
                self.asks.pop_first();
            }
            self.apply(&[], &[(price, qty)]);
        }
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
        self.bids
            .get(&Reverse(price))
            .copied()
            .unwrap_or(Fixed::ZERO)
    }

    /// The quantity offered at `price` (zero for no level).
    pub fn ask_qty(&self, price: Fixed) -> Fixed {
        self.asks.get(&price).copied().unwrap_or(Fixed::ZERO)
    }

    /// Best bid (price, quantity), O(1).
    pub fn best_bid(&self) -> Option<(Fixed, Fixed)> {
        self.best_bid
    }

    /// Best ask (price, quantity), O(1).
    pub fn best_ask(&self) -> Option<(Fixed, Fixed)> {
        self.best_ask
    }

    /// The best `n` bids, best first.
    pub fn bids(&self, n: usize) -> impl Iterator<Item = (Fixed, Fixed)> + '_ {
        self.bids.iter().take(n).map(|(p, q)| (p.0, *q))
    }

    /// The best `n` asks, best first.
    pub fn asks(&self, n: usize) -> impl Iterator<Item = (Fixed, Fixed)> + '_ {
        self.asks.iter().take(n).map(|(p, q)| (*p, *q))
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
