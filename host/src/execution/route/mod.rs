//! Several venues behind one: the [`Router`] is the order path's [`Venue`] when the host trades
//! on more than one exchange account. Every order names its venue by tag
//! ([`crate::model::OrderRequest::venue`], stored with the order, so a restart sends it back to
//! the same exchange); an order that names none goes to the first venue. What to send where
//! is decided before: execution algorithms split their children across the venues for the
//! best price after fees ([`split`]), from each venue's own book ([`books`]), fees and account.

pub mod books;
pub mod split;

use super::venue::{Counted, FeeDiscount, Venue, VenueOrder, VenueReport, Waker};
use crate::feeds::MarketEvent;
use crate::market::MarketData;
use crate::model::{FeeRates, Fixed, RejectCode, Rejection, SymbolId, TimestampMs};
use books::{LegBooks, Levels};
use std::collections::HashMap;
use std::sync::Arc;

/// The tag of the venue named `name`: a 32-bit FNV-1a hash of the name, stable across restarts
/// and the order of the configuration, never 0 (which names no venue).
pub fn venue_tag(name: &str) -> u32 {
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash.max(1)
}

/// One venue behind the router.
pub struct Leg {
    /// Its name, from the configuration.
    pub name: Arc<str>,
    /// The venue.
    pub venue: Box<dyn Venue>,
    /// Its own books.
    pub books: Arc<LegBooks>,
}

/// What a split needs to know of one venue for one symbol.
#[derive(Clone, Debug, PartialEq)]
pub struct LegView {
    /// Its tag, for [`crate::model::OrderRequest::venue`].
    pub tag: u32,
    /// Its name.
    pub name: Arc<str>,
    /// Its fee rates.
    pub fees: FeeRates,
    /// Its book, when in sync and fresh.
    pub levels: Option<Arc<Levels>>,
    /// The free base asset of its account, when known.
    pub base_free: Option<Fixed>,
    /// The free quote asset of its account, when known.
    pub quote_free: Option<Fixed>,
}

/// Orders sent to the venue their tag names.
pub struct Router {
    legs: Vec<(u32, Leg)>,
    /// The venue of every order it has placed and not yet seen end.
    placed: HashMap<u64, usize>,
}

impl Router {
    /// A router over `legs`, the first the default one; an error when there are none or two
    /// names share a tag.
    pub fn new(legs: Vec<Leg>) -> Result<Self, String> {
        if legs.is_empty() {
            return Err("a router needs at least one venue".into());
        }
        let mut tagged: Vec<(u32, Leg)> = Vec::with_capacity(legs.len());
        for leg in legs {
            let tag = venue_tag(&leg.name);
            if let Some((_, other)) = tagged.iter().find(|(t, _)| *t == tag) {
                return Err(format!(
                    "venues {:?} and {:?} have the same tag {tag}: rename one",
                    other.name, leg.name
                ));
            }
            tagged.push((tag, leg));
        }
        Ok(Router {
            legs: tagged,
            placed: HashMap::new(),
        })
    }

    /// The index of the venue `tag` names (0: the first).
    fn leg_of(&self, tag: u32) -> Option<usize> {
        if tag == 0 {
            return Some(0);
        }
        self.legs.iter().position(|(t, _)| *t == tag)
    }

    /// Forgets the venue of orders that `reports` (what a venue has just answered) end.
    fn forget_ended(&mut self, reports: &[VenueReport]) {
        use super::venue::ReportKind;
        for r in reports {
            let ended = match &r.kind {
                ReportKind::Rejected(_) | ReportKind::Expired | ReportKind::Cancelled => true,
                ReportKind::Fill { complete, .. } => *complete,
                _ => false,
            };
            if ended {
                self.placed.remove(&r.order_id);
            }
        }
    }

    /// Sends `order` to its venue through `send`, or refuses it when its tag names none.
    fn dispatch(
        &mut self,
        order: VenueOrder,
        now: TimestampMs,
        out: &mut Vec<VenueReport>,
        send: impl FnOnce(&mut dyn Venue, VenueOrder, &mut Vec<VenueReport>),
    ) {
        let Some(leg) = self.leg_of(order.venue) else {
            out.push(VenueReport {
                order_id: order.id,
                time: now,
                kind: super::venue::ReportKind::Rejected(Rejection::new(
                    RejectCode::InvalidOrder,
                    format!(
                        "the order names venue {} and no configured venue has that tag",
                        order.venue
                    ),
                )),
            });
            return;
        };
        self.placed.insert(order.id, leg);
        let from = out.len();
        send(self.legs[leg].1.venue.as_mut(), order, out);
        self.forget_ended(&out[from..]);
    }
}

impl Venue for Router {
    fn place(
        &mut self,
        order: VenueOrder,
        now: TimestampMs,
        market: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        self.dispatch(order, now, out, |venue, order, out| {
            venue.place(order, now, market, out)
        });
    }

    fn cancel(
        &mut self,
        order_id: u64,
        now: TimestampMs,
        market: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        let Some(&leg) = self.placed.get(&order_id) else {
            out.push(VenueReport::cancel_answer(order_id, false, now));
            return;
        };
        let from = out.len();
        self.legs[leg].1.venue.cancel(order_id, now, market, out);
        self.forget_ended(&out[from..]);
    }

    fn on_event(&mut self, event: &MarketEvent, market: &MarketData, out: &mut Vec<VenueReport>) {
        let from = out.len();
        for (_, leg) in &mut self.legs {
            leg.venue.on_event(event, market, out);
        }
        self.forget_ended(&out[from..]);
    }

    /// The highest rates of any venue, so that what an order locks covers its fees wherever
    /// it goes.
    fn buyers_pay_fee_in_base(&self) -> bool {
        self.legs
            .iter()
            .any(|(_, l)| l.venue.buyers_pay_fee_in_base())
    }

    /// The first leg's, where orders that name no venue (the kill switch's) go.
    fn fee_discount(&self, symbol: SymbolId, market: &MarketData) -> Option<FeeDiscount> {
        self.legs[0].1.venue.fee_discount(symbol, market)
    }

    /// The first leg's, where orders that name no venue (the kill switch's) go.
    fn free(&self, asset: &str) -> Option<Fixed> {
        self.legs[0].1.venue.free(asset)
    }

    fn fees(&self, symbol: SymbolId, market: &MarketData) -> FeeRates {
        self.legs
            .iter()
            .map(|(_, l)| l.venue.fees(symbol, market))
            .reduce(|a, b| FeeRates {
                maker: a.maker.max(b.maker),
                taker: a.taker.max(b.taker),
            })
            .unwrap_or_default()
    }

    fn restore(
        &mut self,
        order: VenueOrder,
        counted: &Counted,
        now: TimestampMs,
        market: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        self.dispatch(order, now, out, |venue, order, out| {
            venue.restore(order, counted, now, market, out)
        });
    }

    fn poll(&mut self, out: &mut Vec<VenueReport>) {
        let from = out.len();
        for (_, leg) in &mut self.legs {
            leg.venue.poll(out);
        }
        self.forget_ended(&out[from..]);
    }

    fn set_waker(&mut self, waker: Waker) {
        for (_, leg) in &mut self.legs {
            leg.venue.set_waker(waker.clone());
        }
    }

    fn is_remote(&self) -> bool {
        self.legs.iter().any(|(_, l)| l.venue.is_remote())
    }

    fn names(&self) -> Vec<Arc<str>> {
        self.legs.iter().map(|(_, l)| l.name.clone()).collect()
    }

    fn default_tag(&self) -> u32 {
        self.legs[0].0
    }

    fn legs(&self, symbol: SymbolId, market: &MarketData) -> Vec<LegView> {
        let instrument = market.instrument(symbol);
        let asset = |a: Option<crate::model::AssetId>| {
            a.map(|a| market.instruments.asset_name(a).to_string())
        };
        let base = asset(instrument.map(|i| i.base));
        let quote = asset(instrument.map(|i| i.quote));
        let name = market
            .symbols()
            .name(symbol)
            .map(|n| n.to_ascii_uppercase());
        self.legs
            .iter()
            .map(|(tag, leg)| LegView {
                tag: *tag,
                name: leg.name.clone(),
                fees: leg.venue.fees(symbol, market),
                levels: name.as_deref().and_then(|n| leg.books.levels(n)),
                base_free: base.as_deref().and_then(|a| leg.venue.free(a)),
                quote_free: quote.as_deref().and_then(|a| leg.venue.free(a)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
