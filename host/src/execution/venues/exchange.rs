//! The simulated exchange paper trading and backtests share: orders of a symbol with an order
//! book go to the book matcher, the others to the candle fill model; when a symbol's book
//! appears, its orders in the candle model move to the matcher.

use super::{BarFillConfig, BarVenue, BookFillConfig, BookVenue};
use crate::execution::venue::{ReportKind, Venue, VenueOrder, VenueReport};
use crate::feeds::MarketEvent;
use crate::market::MarketData;
use crate::model::{FeeRates, SymbolId, TimestampMs};

/// The book matcher and the candle fill model behind one venue.
#[derive(Debug)]
pub struct SimExchange {
    bars: BarVenue,
    book: BookVenue,
    /// Symbols whose book has appeared (indexed by symbol id): their candle-model orders have
    /// moved to the matcher, and new ones go there.
    booked: Vec<bool>,
}

impl SimExchange {
    /// A simulated exchange whose candle model fills as `bars` says and whose book matcher as
    /// `book` says.
    pub fn new(bars: BarFillConfig, book: BookFillConfig) -> Self {
        SimExchange {
            bars: BarVenue::new(bars),
            book: BookVenue::new(book),
            booked: Vec::new(),
        }
    }
}

impl Venue for SimExchange {
    fn place(
        &mut self,
        order: VenueOrder,
        now: TimestampMs,
        market: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        if market.depth(order.symbol).is_some() {
            self.book.place(order, now, market, out);
        } else {
            self.bars.place(order, now, market, out);
        }
    }

    fn cancel(
        &mut self,
        order_id: u64,
        now: TimestampMs,
        market: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        if self.book.holds(order_id) {
            self.book.cancel(order_id, now, market, out);
        } else {
            self.bars.cancel(order_id, now, market, out);
        }
    }

    fn on_event(&mut self, event: &MarketEvent, market: &MarketData, out: &mut Vec<VenueReport>) {
        // A symbol's book appears (a live feed synced): its orders move to the book matcher,
        // quietly (they are working already). Once per symbol: a book, once there, stays.
        if let MarketEvent::Book(update) = event
            && !self
                .booked
                .get(update.symbol as usize)
                .copied()
                .unwrap_or(false)
        {
            let i = update.symbol as usize;
            if self.booked.len() <= i {
                self.booked.resize(i + 1, false);
            }
            self.booked[i] = true;
            let moving = self.bars.take_symbol(update.symbol);
            if !moving.is_empty() {
                let mut acks = Vec::new();
                for order in moving {
                    self.book.place(order, update.time, market, &mut acks);
                }
                out.extend(acks.into_iter().filter(|r| r.kind != ReportKind::Accepted));
            }
        }
        self.book.on_event(event, market, out);
        self.bars.on_event(event, market, out);
    }

    fn fees(&self, symbol: SymbolId, market: &MarketData) -> FeeRates {
        if market.depth(symbol).is_some() {
            self.book.fees(symbol, market)
        } else {
            self.bars.fees(symbol, market)
        }
    }
}
