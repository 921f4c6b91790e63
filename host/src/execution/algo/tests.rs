//! Parent orders worked on the book matcher: schedules, taking and resting, re-pegging,
//! participation, expiry, and their cost analysis by hand.

use super::*;
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

impl Desk {
    fn new() -> Desk {
        let mut market = MarketData::default();
        market.add_symbol("BTCUSDT");
        let mut path = OrderPath::new(
            Box::new(BookVenue::new(BookFillConfig {
                fees: FeeRates::default(),
                queue: "risk-averse".parse().unwrap(),
                buyer_fee_in_base: false,
            })),
            Arc::new(NullJournal),
        );
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
