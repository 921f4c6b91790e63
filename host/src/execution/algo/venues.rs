//! Where a parent's children go when the host trades on several venues: a child that takes is
//! split across them for the best price after fees ([`crate::execution::route::split`]); one
//! that rests goes whole to the venue with the lowest maker fee. Each parent keeps what it
//! executed on each venue.

use crate::execution::route::LegView;
use crate::execution::route::books::Levels;
use crate::execution::route::split::{self, LegOffer, LotRules};
use crate::market::MarketData;
use crate::model::{Fixed, Instrument, Side, SymbolId};
use serde::Serialize;
use std::sync::Arc;

/// A child's venue and quantity.
#[derive(Clone, Debug, PartialEq)]
pub struct Share {
    /// The venue's tag (0: the default venue, with a single one).
    pub tag: u32,
    /// Its name (empty with a single venue).
    pub name: Arc<str>,
    /// Base quantity.
    pub quantity: Fixed,
}

/// What a parent executed on one venue.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VenueExecution {
    /// The venue's name.
    pub venue: String,
    /// Children sent there.
    pub children: u64,
    /// Base quantity filled there.
    pub filled: f64,
    /// Quote moved there.
    pub notional: f64,
    /// Fees paid there, valued in quote.
    pub fees: f64,
}

/// The venue a resting child goes to: the first of the lowest maker fees; none with a single
/// venue (the default one, behind no router).
pub fn maker(legs: &[LegView]) -> Option<&LegView> {
    legs.iter().min_by_key(|l| l.fees.maker)
}

/// The best bid and ask of `symbol` on the venue named `venue`: its own book when the host
/// keeps it in sync, the main feed's otherwise (a single venue, or a book not yet in sync).
pub fn touch(
    legs: &[LegView],
    venue: &str,
    market: &MarketData,
    symbol: SymbolId,
) -> (Option<Fixed>, Option<Fixed>) {
    let own = legs
        .iter()
        .find(|l| &*l.name == venue)
        .and_then(|l| l.levels.as_deref());
    match own {
        Some(levels) => (
            levels.bids.first().map(|l| l.0),
            levels.asks.first().map(|l| l.0),
        ),
        None => (
            market.touch(symbol, Side::Sell),
            market.touch(symbol, Side::Buy),
        ),
    }
}

/// The venues `quantity` goes to: split across `legs` within `cap` when the child takes,
/// whole to the cheapest maker otherwise; whole to the default venue with fewer than two
/// venues or no book to split by.
pub fn shares(
    legs: &[LegView],
    instrument: &Instrument,
    side: Side,
    quantity: Fixed,
    take: bool,
    cap: Option<Fixed>,
) -> Vec<Share> {
    let whole = |leg: Option<&LegView>| {
        vec![Share {
            tag: leg.map_or(0, |l| l.tag),
            name: leg.map_or_else(|| Arc::from(""), |l| l.name.clone()),
            quantity,
        }]
    };
    if legs.len() < 2 {
        return whole(legs.first());
    }
    if !take {
        return whole(maker(legs));
    }
    // The venues with a book, and what each offers.
    let booked: Vec<(&LegView, &Levels)> = legs
        .iter()
        .filter_map(|l| Some((l, l.levels.as_deref()?)))
        .collect();
    let offers: Vec<LegOffer> = booked
        .iter()
        .map(|(l, levels)| LegOffer {
            levels: match side {
                Side::Buy => &levels.asks,
                Side::Sell => &levels.bids,
            },
            taker: l.fees.taker,
            budget: match side {
                Side::Buy => l.quote_free,
                Side::Sell => l.base_free,
            },
        })
        .collect();
    let rules = LotRules {
        step: instrument.step(),
        min_qty: instrument.min_qty(),
        min_notional: instrument.min_notional(),
    };
    let split = split::split(side, quantity, cap, rules, &offers);
    if split.is_empty() {
        return whole(legs.first());
    }
    split
        .into_iter()
        .map(|a| Share {
            tag: booked[a.leg].0.tag,
            name: booked[a.leg].0.name.clone(),
            quantity: a.quantity,
        })
        .collect()
}
