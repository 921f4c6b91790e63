use super::*;
use crate::execution::venue::ReportKind;
use crate::model::{Amount, DeploymentId, OrderType, Side};
use std::sync::Mutex;

/// A venue that records what it was asked and accepts or cancels at once.
struct Spy {
    name: &'static str,
    calls: Arc<Mutex<Vec<String>>>,
    fees: FeeRates,
}

impl Venue for Spy {
    fn place(
        &mut self,
        o: VenueOrder,
        now: TimestampMs,
        _: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        self.calls
            .lock()
            .unwrap()
            .push(format!("{} place {}", self.name, o.id));
        out.push(VenueReport {
            order_id: o.id,
            time: now,
            kind: ReportKind::Accepted,
        });
    }

    fn cancel(&mut self, id: u64, now: TimestampMs, _: &MarketData, out: &mut Vec<VenueReport>) {
        self.calls
            .lock()
            .unwrap()
            .push(format!("{} cancel {id}", self.name));
        out.push(VenueReport::cancel_answer(id, true, now));
    }

    fn restore(
        &mut self,
        o: VenueOrder,
        counted: &crate::execution::Counted,
        _: TimestampMs,
        _: &MarketData,
        _: &mut Vec<VenueReport>,
    ) {
        let call = format!(
            "{} restore {} after {} in {:?}",
            self.name, o.id, counted.filled, counted.trades
        );
        self.calls.lock().unwrap().push(call);
    }

    fn on_event(&mut self, _: &MarketEvent, _: &MarketData, _: &mut Vec<VenueReport>) {}

    fn fees(&self, _: SymbolId, _: &MarketData) -> FeeRates {
        self.fees
    }

    fn free(&self, asset: &str) -> Option<Fixed> {
        (asset == "USDT").then(|| Fixed::from_int(if self.name == "a" { 100 } else { 200 }))
    }
}

fn router(calls: &Arc<Mutex<Vec<String>>>) -> Router {
    let leg = |name: &'static str, taker: i64| Leg {
        name: name.into(),
        venue: Box::new(Spy {
            name,
            calls: calls.clone(),
            fees: FeeRates {
                maker: Fixed::from_raw(taker / 2),
                taker: Fixed::from_raw(taker),
            },
        }),
        books: Arc::new(LegBooks::new(
            "http://127.0.0.1:9",
            "ws://127.0.0.1:9",
            None,
            None,
        )),
    };
    Router::new(vec![leg("a", 100_000), leg("b", 20_000)]).unwrap()
}

fn order(id: u64, venue: u32) -> VenueOrder {
    VenueOrder {
        id,
        owner: DeploymentId(0),
        symbol: 0,
        side: Side::Buy,
        amount: Amount::Base(Fixed::from_int(1)),
        order_type: OrderType::Market,
        iceberg: None,
        spend_cap: None,
        venue,
    }
}

#[test]
fn tags_are_stable_hashes_of_names() {
    // FNV-1a of "a" (a fixed value: tags are stored with orders and must not change).
    assert_eq!(venue_tag("a"), 0xe40c_292c);
    assert_ne!(venue_tag("binance"), venue_tag("binance-2"));
    assert!(Router::new(Vec::new()).is_err());
}

#[test]
fn orders_go_to_the_venue_they_name_and_cancels_follow_them() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let mut r = router(&calls);
    let market = MarketData::default();
    let mut out = Vec::new();
    r.place(order(1, venue_tag("b")), 5, &market, &mut out);
    r.place(order(2, 0), 5, &market, &mut out);
    r.cancel(1, 6, &market, &mut out);
    assert_eq!(
        *calls.lock().unwrap(),
        ["b place 1", "a place 2", "b cancel 1"]
    );
    assert_eq!(out.last().unwrap().kind, ReportKind::Cancelled);
    // Order 1 has ended: the router answers a second cancel itself.
    r.cancel(1, 7, &market, &mut out);
    assert!(matches!(
        out.last().unwrap().kind,
        ReportKind::CancelRejected(_)
    ));
    assert_eq!(calls.lock().unwrap().len(), 3);
    // A tag no venue has is refused, naming it.
    r.place(order(3, 42), 8, &market, &mut out);
    let ReportKind::Rejected(why) = &out.last().unwrap().kind else {
        panic!("{:?}", out.last())
    };
    assert!(why.message.contains("venue 42"), "{}", why.message);
    assert_eq!(calls.lock().unwrap().len(), 3);
}

#[test]
fn restored_orders_go_back_to_their_venue() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let mut r = router(&calls);
    let market = MarketData::default();
    let mut out = Vec::new();
    let counted = crate::execution::Counted {
        filled: Fixed::from_int(1),
        trades: vec![4, 7],
    };
    r.restore(order(9, venue_tag("b")), &counted, 5, &market, &mut out);
    r.cancel(9, 6, &market, &mut out);
    assert_eq!(
        *calls.lock().unwrap(),
        ["b restore 9 after 1 in [4, 7]", "b cancel 9"]
    );
}

#[test]
fn locks_use_the_dearest_fees_and_splits_see_every_venue() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let r = router(&calls);
    let mut market = MarketData::default();
    market
        .instruments
        .describe(r#"{"symbols":[{"symbol":"BTCUSDT","baseAsset":"BTC","quoteAsset":"USDT","filters":[]}]}"#)
        .unwrap();
    let id = market.add_symbol("BTCUSDT");
    assert_eq!(r.fees(id, &market).taker, Fixed::from_raw(100_000));
    assert_eq!(r.default_tag(), venue_tag("a"));
    let legs = r.legs(id, &market);
    assert_eq!(legs.len(), 2);
    assert_eq!((legs[1].tag, &*legs[1].name), (venue_tag("b"), "b"));
    assert_eq!(legs[1].fees.taker, Fixed::from_raw(20_000));
    assert_eq!(legs[0].quote_free, Some(Fixed::from_int(100)));
    assert_eq!(legs[1].quote_free, Some(Fixed::from_int(200)));
    assert_eq!(legs[0].base_free, None);
    assert_eq!(legs[0].levels, None);
}
