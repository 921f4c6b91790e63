//! The pre-trade cost of an order from the book as it stands: the levels a market order of
//! that size would walk, its average price, its impact against the mid, the spread and the
//! taker fee, against resting at the touch as a maker. Our own earlier orders are not in the
//! recorded book, so this is the cost of the first order of that size.

use crate::book::OrderBook;
use crate::model::{Amount, FeeRates, Fixed, Side};

/// What an order would cost taking liquidity now.
#[derive(Clone, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct CostEstimate {
    /// Base quantity the book would fill.
    pub quantity: f64,
    /// Quote amount it would pay (buy) or receive (sell), before fees.
    pub notional: f64,
    /// Its average price; none when nothing would fill.
    pub average_price: Option<f64>,
    /// The mid price now.
    pub mid: f64,
    /// The spread, in basis points of the mid.
    pub spread_bps: f64,
    /// How much worse than the mid the average price is, in basis points (half the spread and
    /// the depth walked).
    pub impact_bps: f64,
    /// The taker fee, in the quote asset.
    pub fee: f64,
    /// Impact and fee together, in basis points of the notional.
    pub total_bps: f64,
    /// Levels of the book it would take from.
    pub levels: usize,
    /// What the book could not fill: base quantity, or quote amount for an order by amount.
    pub unfilled: f64,
    /// Resting at the touch instead: the maker fee in basis points, no impact, and a fill that
    /// waits for the market.
    pub maker_fee_bps: f64,
}

/// Why no estimate can be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// The market does not trade the symbol.
    #[error("unknown symbol {0:?}")]
    UnknownSymbol(String),
    /// No book with both sides is kept for it (yet).
    #[error("no order book of {0} yet: the feed keeps books of the symbols it follows with depth")]
    NoBook(String),
}

/// The cost of a market order for `amount` on `side` against `book`, at `fees`, in lots of
/// `step`; `None` without both sides of the book.
pub fn estimate(
    book: &OrderBook,
    side: Side,
    amount: Amount,
    fees: FeeRates,
    step: Fixed,
) -> Option<CostEstimate> {
    let (bid, ask) = (book.best_bid()?.0, book.best_ask()?.0);
    let mid = (bid.to_f64() + ask.to_f64()) / 2.0;
    let levels: Box<dyn Iterator<Item = (Fixed, Fixed)>> = match side {
        Side::Buy => Box::new(book.asks(usize::MAX)),
        Side::Sell => Box::new(book.bids(usize::MAX)),
    };
    let (mut quantity, mut notional, mut used) = (Fixed::ZERO, Fixed::ZERO, 0usize);
    let mut left = match amount {
        Amount::Base(q) | Amount::Quote(q) => q,
    };
    for (price, size) in levels {
        if !left.is_positive() {
            break;
        }
        let take = match amount {
            Amount::Base(_) => size.min(left),
            Amount::Quote(_) => size.min(
                left.checked_div_floor(price)
                    .unwrap_or(Fixed::ZERO)
                    .floor_to(step),
            ),
        };
        if !take.is_positive() {
            break;
        }
        let paid = price.saturating_mul(take);
        quantity = quantity.saturating_add(take);
        notional = notional.saturating_add(paid);
        left = match amount {
            Amount::Base(_) => left.saturating_sub(take),
            Amount::Quote(_) => left.saturating_sub(paid),
        };
        used += 1;
    }
    let average = quantity
        .is_positive()
        .then(|| notional.to_f64() / quantity.to_f64());
    let sign = match side {
        Side::Buy => 1.0,
        Side::Sell => -1.0,
    };
    let impact_bps = average.map_or(0.0, |a| sign * (a - mid) / mid * 1e4);
    let fee = notional.to_f64() * fees.taker.to_f64();
    Some(CostEstimate {
        quantity: quantity.to_f64(),
        notional: notional.to_f64(),
        average_price: average,
        mid,
        spread_bps: (ask.to_f64() - bid.to_f64()) / mid * 1e4,
        impact_bps,
        fee,
        total_bps: impact_bps + fees.taker.to_f64() * 1e4,
        levels: used,
        unfilled: left.to_f64(),
        maker_fee_bps: fees.maker.to_f64() * 1e4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    fn book() -> OrderBook {
        let mut b = OrderBook::default();
        b.apply(
            &[(fx("99"), fx("1")), (fx("98"), fx("2"))],
            &[
                (fx("101"), fx("1")),
                (fx("102"), fx("1")),
                (fx("105"), fx("10")),
            ],
        );
        b
    }

    #[test]
    fn a_buy_walks_the_asks_and_pays_half_the_spread_the_depth_and_the_fee() {
        let e = estimate(
            &book(),
            Side::Buy,
            Amount::Base(fx("2.5")),
            FeeRates::default(),
            fx("0.001"),
        )
        .unwrap();
        // 1 @ 101, 1 @ 102, 0.5 @ 105: 255.5 for 2.5, average 102.2 against a mid of 100.
        assert_eq!((e.quantity, e.notional, e.levels), (2.5, 255.5, 3));
        assert!((e.average_price.unwrap() - 102.2).abs() < 1e-9);
        assert!((e.impact_bps - 220.0).abs() < 1e-6);
        assert!((e.spread_bps - 200.0).abs() < 1e-9);
        assert!((e.fee - 0.2555).abs() < 1e-9);
        assert!((e.total_bps - 230.0).abs() < 1e-6);
        assert_eq!(e.unfilled, 0.0);
    }

    #[test]
    fn a_sell_by_quote_amount_walks_the_bids_and_reports_what_is_left() {
        let e = estimate(
            &book(),
            Side::Sell,
            Amount::Quote(fx("500")),
            FeeRates::default(),
            fx("0.001"),
        )
        .unwrap();
        // 1 @ 99 and 2 @ 98: 295 of 500; the book ends there.
        assert_eq!((e.quantity, e.notional, e.levels), (3.0, 295.0, 2));
        assert!((e.unfilled - 205.0).abs() < 1e-9);
        // Selling below the mid is a cost too.
        assert!(e.impact_bps > 0.0);
        assert!(
            estimate(
                &OrderBook::default(),
                Side::Buy,
                Amount::Base(fx("1")),
                FeeRates::default(),
                fx("1")
            )
            .is_none()
        );
    }
}
