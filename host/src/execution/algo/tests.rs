//! Parent orders worked on the book matcher: schedules, taking and resting, re-pegging,
//! participation, expiry, and their cost analysis by hand.

use super::*;
use crate::execution::route::LegView;
use crate::execution::route::books::Levels;
use crate::execution::venue::{Venue, VenueOrder, VenueReport};
use crate::execution::venues::{BookFillConfig, BookVenue};
use crate::feeds::{BookUpdate, BookUpdateKind, MarketEvent, TradePrint};
use crate::journal::NullJournal;
use crate::model::FeeRates;
use crate::risk::Budget;
use std::sync::Arc;

fn fx(s: &str) -> Fixed {
    s.parse().unwrap()
}

const D: DeploymentId = DeploymentId(0);

/// An order path on the book matcher with one account, a BTCUSDT book 99.5 / 100.5 (10 each
/// side), and the parent orders.
struct Desk {
    market: MarketData,
    path: OrderPath,
    algos: Algos,
    /// Updates that reached the strategy (not a child's).
    strategy: Vec<OrderUpdate>,
}

fn book_venue() -> BookVenue {
    BookVenue::new(BookFillConfig {
        fees: FeeRates::default(),
        queue: "risk-averse".parse().unwrap(),
        buyer_fee_in_base: false,
    })
}

impl Desk {
    fn new() -> Desk {
        Desk::on(Box::new(book_venue()))
    }

    /// A desk trading on `venue`.
    fn on(venue: Box<dyn Venue>) -> Desk {
        let mut market = MarketData::default();
        market.add_symbol("BTCUSDT");
        let mut path = OrderPath::new(venue, Arc::new(NullJournal));
        let budget = Budget {
            balances: [("USDT".to_string(), 100_000.0), ("BTC".to_string(), 10.0)].into(),
            ..Budget::unlimited(0.0)
        };
        path.open(D, "d".into(), budget, &mut market);
        let mut desk = Desk {
            market,
            path,
            algos: Algos::default(),
            strategy: Vec::new(),
        };
        desk.book(0, "99.5", "100.5", BookUpdateKind::Snapshot);
        desk
    }

    fn event(&mut self, event: MarketEvent, now: TimestampMs) {
        self.path.advance(now - 1, &self.market);
        self.path.on_event(&event, &self.market);
        self.run(now);
    }

    fn book(&mut self, now: TimestampMs, bid: &str, ask: &str, kind: BookUpdateKind) {
        let update = BookUpdate {
            symbol: 0,
            time: now,
            kind,
            bids: vec![(fx(bid), fx("10"))],
            asks: vec![(fx(ask), fx("10"))],
        };
        self.market.apply_book(&update);
        self.event(MarketEvent::Book(update), now);
    }

    fn trade(&mut self, now: TimestampMs, price: f64, quantity: f64, aggressor: Side) {
        let print = TradePrint {
            symbol: 0,
            time: now,
            trade_id: now as u64,
            price,
            quantity,
            aggressor,
        };
        self.market.push_trade(&print);
        self.algos.on_trade(0, price, quantity);
        self.event(MarketEvent::Trade(print), now);
    }

    /// Steps the parents and delivers updates until nothing more happens at `now`.
    fn run(&mut self, now: TimestampMs) {
        for _ in 0..4 {
            self.algos.step(now, &self.market, &mut self.path);
            self.path.advance(now, &self.market);
            for update in self.path.take_updates(now) {
                if !self.algos.on_update(&update) {
                    self.strategy.push(update);
                }
            }
        }
    }

    fn view(&self) -> AlgoView {
        self.algos.views(&self.market, |_| "d".into()).remove(0)
    }
}

fn spec(style: Style, urgency: Urgency, quantity: &str) -> AlgoSpec {
    AlgoSpec {
        symbol: 0,
        side: Side::Buy,
        quantity: fx(quantity),
        style,
        start: 1_000,
        end: 5_000,
        slices: 4,
        limit: None,
        max_slippage_bps: Some(100.0),
        urgency,
        venue: None,
        floating: false,
    }
}

#[test]
fn an_aggressive_twap_takes_a_quarter_each_slice_within_its_cap() {
    let mut d = Desk::new();
    d.algos
        .start(D, spec(Style::Twap, Urgency::Aggressive, "2"));
    d.run(500);
    assert_eq!(d.view().state, AlgoState::Waiting);
    for (t, filled) in [
        (1_000, 0.5),
        (1_500, 0.5),
        (2_000, 1.0),
        (3_000, 1.5),
        (4_000, 2.0),
    ] {
        d.book(t, "99.5", "100.5", BookUpdateKind::Diff);
        assert_eq!(d.view().tca.filled, filled, "at {t}");
    }
    d.run(4_001);
    let v = d.view();
    assert_eq!(v.state, AlgoState::Done);
    // Four children bought at 100.5 against a mid of 100: 50 bps, plus the 10 bps taker fee.
    let t = &v.tca;
    assert_eq!(
        (t.children, t.average_price, t.arrival_mid),
        (4, Some(100.5), Some(100.0))
    );
    assert!((t.shortfall_bps.unwrap() - 50.0).abs() < 1e-9, "{t:?}");
    assert!((t.total_cost_bps.unwrap() - 60.0).abs() < 1e-6, "{t:?}");
    assert_eq!(v.cap, Some(101.0));
    assert!(
        d.strategy.is_empty(),
        "children's updates went to the strategy: {:?}",
        d.strategy
    );
}

#[test]
fn a_passive_twap_rests_at_the_bid_follows_it_and_fills_as_maker() {
    let mut d = Desk::new();
    d.algos.start(D, spec(Style::Twap, Urgency::Passive, "1"));
    d.run(1_000);
    assert_eq!(d.view().working, 0.25);
    // The bid rises: after the re-peg pause the child is cancelled and sent at the new bid.
    d.book(1_100, "99.6", "100.5", BookUpdateKind::Snapshot);
    assert_eq!(d.view().tca.children, 1, "not before {REPEG_MS} ms");
    d.book(1_300, "99.6", "100.5", BookUpdateKind::Diff);
    d.run(1_301);
    assert_eq!(d.view().tca.children, 2);
    // A sell through our price fills the resting child, as maker, at its price.
    d.trade(1_400, 99.55, 5.0, Side::Sell);
    let t = d.view().tca;
    assert_eq!(
        (t.filled, t.average_price, t.maker_share),
        (0.25, Some(99.6), 1.0)
    );
    assert!(
        t.shortfall_bps.unwrap() < 0.0,
        "resting earns the spread: {t:?}"
    );
}

#[test]
fn pov_follows_the_markets_volume_and_an_unfilled_parent_expires() {
    let mut d = Desk::new();
    d.algos
        .start(D, spec(Style::Pov { rate: 0.1 }, Urgency::Aggressive, "5"));
    d.run(1_000);
    assert_eq!(d.view().tca.children, 0, "nothing traded yet");
    d.trade(1_100, 100.0, 3.0, Side::Buy);
    d.run(1_101);
    assert_eq!(d.view().tca.filled, 0.3);
    assert_eq!(d.view().tca.market_vwap, Some(100.0));
    d.trade(2_000, 101.0, 1.0, Side::Buy);
    d.run(2_001);
    assert_eq!(d.view().tca.filled, 0.4);
    d.run(5_000);
    let v = d.view();
    assert_eq!(v.state, AlgoState::Expired);
    assert!((v.tca.fill_ratio - 0.08).abs() < 1e-9);
}

#[test]
fn a_sliced_iceberg_shows_one_part_at_a_time_and_a_cancel_stops_it() {
    let mut d = Desk::new();
    let mut s = spec(
        Style::Iceberg {
            visible: fx("0.3"),
            native: false,
        },
        Urgency::Neutral,
        "1",
    );
    s.limit = Some(fx("99.8"));
    let id = d.algos.start(D, s);
    d.run(1_000);
    assert_eq!(d.view().working, 0.3);
    d.trade(1_100, 99.7, 0.5, Side::Sell);
    d.run(1_101);
    let v = d.view();
    assert_eq!((v.tca.filled, v.working), (0.3, 0.3));
    assert!(d.algos.cancel(id, 1_200, &mut d.path));
    d.run(1_200);
    let v = d.view();
    assert_eq!((v.state, v.working), (AlgoState::Cancelled, 0.0));
    assert!(!d.algos.active());
}

#[test]
fn a_halt_stops_the_parent_and_its_refused_children_stay_away_from_the_strategy() {
    let mut d = Desk::new();
    d.algos.start(D, spec(Style::Twap, Urgency::Passive, "1"));
    d.run(1_000);
    d.path.halt(D, 1_100, &d.market);
    d.run(1_100);
    d.run(2_000);
    let v = d.view();
    assert_eq!(v.state, AlgoState::Cancelled);
    assert_eq!(v.refused, 1, "{v:?}");
    assert!(v.last_refusal.is_some());
    assert!(d.strategy.is_empty(), "{:?}", d.strategy);
}

#[test]
fn a_peg_held_at_its_cap_stays_where_it_rests() {
    let mut d = Desk::new();
    // Capped at 99 under a 99.5 bid: the child rests at 99 and, sent again, would rest there
    // again, so the bid moving up does not make it churn.
    d.algos.start(
        D,
        AlgoSpec {
            limit: Some(fx("99")),
            max_slippage_bps: None,
            ..spec(Style::Peg { offset_ticks: 0 }, Urgency::Passive, "1")
        },
    );
    d.run(1_000);
    for (i, bid) in ["99.6", "99.7", "99.8"].iter().enumerate() {
        d.book(
            1_000 + 500 * (i as i64 + 1),
            bid,
            "100.5",
            BookUpdateKind::Snapshot,
        );
    }
    let v = d.view();
    assert_eq!((v.tca.children, v.open_children), (1, 1), "{v:?}");
    assert_eq!(v.working, 1.0);
}

/// The book matcher seen as two venues with books of their own: "dear" (maker fee 0.05 %,
/// 99.0 / 101.0) and "cheap" (no maker fee, 99.2 / 100.8), where the main feed shows
/// 99.5 / 100.5.
struct TwoVenues(BookVenue);

impl Venue for TwoVenues {
    fn place(
        &mut self,
        o: VenueOrder,
        now: TimestampMs,
        m: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        self.0.place(o, now, m, out)
    }

    fn cancel(&mut self, id: u64, now: TimestampMs, m: &MarketData, out: &mut Vec<VenueReport>) {
        self.0.cancel(id, now, m, out)
    }

    fn on_event(&mut self, e: &MarketEvent, m: &MarketData, out: &mut Vec<VenueReport>) {
        self.0.on_event(e, m, out)
    }

    fn fees(&self, symbol: SymbolId, m: &MarketData) -> FeeRates {
        self.0.fees(symbol, m)
    }

    fn legs(&self, _: SymbolId, _: &MarketData) -> Vec<LegView> {
        let leg = |name: &str, maker: &str, bid: &str, ask: &str| LegView {
            tag: crate::execution::route::venue_tag(name),
            name: name.into(),
            fees: FeeRates {
                maker: fx(maker),
                taker: fx("0.001"),
            },
            levels: Some(Arc::new(Levels {
                bids: vec![(fx(bid), fx("10"))],
                asks: vec![(fx(ask), fx("10"))],
            })),
            base_free: None,
            quote_free: None,
        };
        vec![
            leg("dear", "0.0005", "99.0", "101.0"),
            leg("cheap", "0", "99.2", "100.8"),
        ]
    }
}

#[test]
fn a_resting_child_goes_to_the_cheapest_maker_at_that_venues_own_touch() {
    let mut d = Desk::on(Box::new(TwoVenues(book_venue())));
    d.algos.start(D, spec(Style::Twap, Urgency::Passive, "1"));
    d.run(1_000);
    let open: Vec<_> = d.path.account(D).unwrap().open_orders().collect();
    assert_eq!(open.len(), 1);
    let child = &open[0].request;
    assert_eq!(child.venue, crate::execution::route::venue_tag("cheap"));
    assert_eq!(
        child.order_type,
        OrderType::LimitMaker { price: fx("99.2") },
        "the cheap venue's bid, not the main feed's 99.5"
    );
    // The main feed's bid rising does not move it: its own venue's bid has not.
    d.book(1_300, "99.7", "100.5", BookUpdateKind::Snapshot);
    d.run(1_301);
    assert_eq!(d.view().tca.children, 1, "not re-pegged");
}

#[test]
fn a_parent_pinned_to_a_venue_sends_every_child_there_at_its_touch() {
    let mut d = Desk::on(Box::new(TwoVenues(book_venue())));
    let pinned = AlgoSpec {
        venue: Some("dear".into()),
        ..spec(Style::Twap, Urgency::Passive, "1")
    };
    d.algos.start(D, pinned);
    d.run(1_000);
    let open: Vec<_> = d.path.account(D).unwrap().open_orders().collect();
    assert_eq!(open.len(), 1);
    assert_eq!(
        open[0].request.venue,
        crate::execution::route::venue_tag("dear")
    );
    assert_eq!(
        open[0].request.order_type,
        OrderType::LimitMaker { price: fx("99.0") },
        "the dear venue's own bid"
    );
    assert_eq!(d.view().venues[0].venue, "dear");
}

#[test]
fn a_pin_must_name_a_venue_of_the_host() {
    let market = {
        let mut m = MarketData::default();
        m.add_symbol("BTCUSDT");
        m
    };
    let order: order::AlgoOrder = serde_json::from_value(serde_json::json!({
        "symbol": "BTCUSDT", "side": "buy", "quantity": 1.0, "style": "twap",
        "duration_s": 60.0, "venue": "elsewhere"
    }))
    .unwrap();
    let single = order.resolve(&market, 0, None, &[]).unwrap_err();
    assert!(single.contains("single venue"), "{single}");
    let names: Vec<Arc<str>> = vec!["a".into(), "b".into()];
    let routed = order.resolve(&market, 0, None, &names).unwrap_err();
    assert!(routed.contains("use one of"), "{routed}");
    let on_b = order::AlgoOrder {
        venue: Some("b".into()),
        ..order
    };
    assert_eq!(
        on_b.resolve(&market, 0, None, &names)
            .unwrap()
            .venue
            .as_deref(),
        Some("b")
    );
}

#[test]
fn a_parent_started_now_opens_its_window_when_it_first_has_a_price() {
    let mut market = MarketData::default();
    market.add_symbol("BTCUSDT");
    let mut d = Desk {
        market,
        path: OrderPath::new(Box::new(book_venue()), Arc::new(NullJournal)),
        algos: Algos::default(),
        strategy: Vec::new(),
    };
    let budget = Budget {
        balances: [("USDT".to_string(), 100_000.0)].into(),
        ..Budget::unlimited(0.0)
    };
    d.path.open(D, "d".into(), budget, &mut d.market);
    // Asked at 0 to work for 4 s, before the service has seen any price.
    d.algos.start(
        D,
        AlgoSpec {
            start: 0,
            end: 4_000,
            floating: true,
            ..spec(Style::Twap, Urgency::Aggressive, "1")
        },
    );
    d.run(0);
    assert_eq!(d.view().state, AlgoState::Waiting);
    // The first book comes at 10 s: the window is 10 s to 14 s.
    d.book(10_000, "99.5", "100.5", BookUpdateKind::Snapshot);
    let v = d.view();
    assert_eq!(
        (v.state, v.start_ms, v.end_ms),
        (AlgoState::Working, 10_000, 14_000)
    );
    assert_eq!(v.tca.filled, 0.25, "the first slice, not expired");
}
