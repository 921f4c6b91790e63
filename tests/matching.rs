//! The matching simulator's promises, checked on random markets and orders (proptest) and on
//! a real capture: it never fills better than the book allowed at the time, never takes the
//! same liquidity twice, never lets a spot balance go negative, and gives the same fills for
//! the same inputs and seed.

mod common;

use common::*;
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use stratbox::execution::venues::{BookFillConfig, BookVenue, SimExchange};
use stratbox::execution::{OrderPath, ReplaceMode, ReportKind, Venue, VenueOrder, VenueReport};
use stratbox::feeds::{BookUpdate, BookUpdateKind, MarketEvent, TradePrint};
use stratbox::journal::NullJournal;
use stratbox::market::MarketData;
use stratbox::model::{
    Amount, DeploymentId, Fixed, Liquidity, OrderRequest, OrderType, Side, TimeInForce,
};
use stratbox::risk::Budget;

/// One thing that happens in a random market.
#[derive(Clone, Debug)]
enum Step {
    /// A level of the book changes: bids at 90..=99, asks at 101..=110.
    Level { bid: bool, offset: u8, qty: u8 },
    /// A trade at 90..=110.
    Trade { buyer: bool, price: u8, qty: u8 },
    /// Our order: kind 0 market, 1 GTC limit, 2 IOC, 3 FOK, 4 limit-maker; limit 90..=110.
    Order {
        buy: bool,
        kind: u8,
        price: u8,
        qty: u8,
    },
    /// Cancels the i-th order we sent.
    Cancel { index: u8 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (any::<bool>(), 0u8..10, 0u8..8).prop_map(|(bid, offset, qty)| Step::Level { bid, offset, qty }),
        3 => (any::<bool>(), 90u8..=110, 1u8..6).prop_map(|(buyer, price, qty)| Step::Trade { buyer, price, qty }),
        3 => (any::<bool>(), 0u8..5, 90u8..=110, 1u8..12).prop_map(|(buy, kind, price, qty)| Step::Order { buy, kind, price, qty }),
        1 => (0u8..20).prop_map(|index| Step::Cancel { index }),
    ]
}

fn fx(n: u8) -> Fixed {
    Fixed::from_int(i64::from(n))
}

/// A market with a book of 5 at every level from 90 to 99 and 101 to 110.
fn market() -> MarketData {
    let mut m = MarketData::default();
    m.add_symbol("BTCUSDT");
    m.marks.set(0, Fixed::from_int(100));
    m.apply_book(&BookUpdate {
        symbol: 0,
        time: 0,
        kind: BookUpdateKind::Snapshot,
        bids: (90..=99).map(|p| (fx(p), fx(5))).collect(),
        asks: (101..=110).map(|p| (fx(p), fx(5))).collect(),
    });
    m
}

fn order_type(kind: u8, price: Fixed) -> OrderType {
    let limit = |time_in_force| OrderType::Limit {
        price,
        time_in_force,
    };
    match kind {
        0 => OrderType::Market,
        1 => limit(TimeInForce::Gtc),
        2 => limit(TimeInForce::Ioc),
        3 => limit(TimeInForce::Fok),
        _ => OrderType::LimitMaker { price },
    }
}

/// What we know of each order we sent: side, limit, quantity, filled.
struct Sent {
    side: Side,
    limit: Option<Fixed>,
    quantity: Fixed,
    filled: Fixed,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_book_matcher_never_fills_better_than_the_book_nor_takes_liquidity_twice(
        steps in proptest::collection::vec(step(), 1..80),
    ) {
        let mut m = market();
        let mut v = BookVenue::new(BookFillConfig::default());
        let mut sent: Vec<(u64, Sent)> = Vec::new();
        // What we took from each level since its recorded quantity last changed.
        let mut taken: HashMap<(Side, Fixed), Fixed> = HashMap::new();
        for (t, step) in steps.iter().enumerate() {
            let time = t as i64 + 1;
            let mut out: Vec<VenueReport> = Vec::new();
            // A trade at or through a price lets makers there fill.
            let mut traded: Option<(Side, Fixed)> = None;
            match *step {
                Step::Level { bid, offset, qty } => {
                    let (price, side) = if bid { (fx(99 - offset), Side::Buy) } else { (fx(101 + offset), Side::Sell) };
                    let level = vec![(price, fx(qty))];
                    let update = BookUpdate {
                        symbol: 0, time, kind: BookUpdateKind::Diff,
                        bids: if bid { level.clone() } else { Vec::new() },
                        asks: if bid { Vec::new() } else { level },
                    };
                    let before = m.depth(0).map(|b| if bid { b.bid_qty(price) } else { b.ask_qty(price) });
                    m.apply_book(&update);
                    if before != Some(fx(qty)) {
                        taken.remove(&(side, price));
                    }
                    v.on_event(&MarketEvent::Book(update), &m, &mut out);
                }
                Step::Trade { buyer, price, qty } => {
                    let aggressor = if buyer { Side::Buy } else { Side::Sell };
                    traded = Some((aggressor, fx(price)));
                    let trade = TradePrint { symbol: 0, time, trade_id: t as u64, price: f64::from(price), quantity: f64::from(qty), aggressor };
                    m.marks.set(0, fx(price));
                    v.on_event(&MarketEvent::Trade(trade), &m, &mut out);
                }
                Step::Order { buy, kind, price, qty } => {
                    let id = sent.len() as u64 + 1;
                    let side = if buy { Side::Buy } else { Side::Sell };
                    let order_type = order_type(kind, fx(price));
                    sent.push((id, Sent { side, limit: order_type.limit_price(), quantity: fx(qty), filled: Fixed::ZERO }));
                    let order = VenueOrder { id, owner: stratbox::model::DeploymentId(0), symbol: 0, side, amount: Amount::Base(fx(qty)), order_type, iceberg: None, spend_cap: None, venue: 0 };
                    v.place(order, time, &m, &mut out);
                }
                Step::Cancel { index } => {
                    if let Some((id, _)) = sent.get(index as usize) {
                        v.cancel(*id, time, &m, &mut out);
                    }
                }
            }
            let book = m.depth(0).unwrap();
            // Makers filled by a trade at (not through) their price, which the other side did
            // not reach: no more than the trade's quantity between them.
            let mut at_trade_price = Fixed::ZERO;
            for r in &out {
                let ReportKind::Fill { price, quantity, liquidity, .. } = r.kind else { continue };
                let (_, s) = sent.iter_mut().find(|(id, _)| *id == r.order_id).unwrap();
                s.filled = s.filled.saturating_add(quantity);
                prop_assert!(s.filled <= s.quantity, "overfilled: {} of {}", s.filled, s.quantity);
                let buy = s.side == Side::Buy;
                if let Some(limit) = s.limit {
                    prop_assert!(if buy { price <= limit } else { price >= limit }, "beyond its limit");
                }
                match liquidity {
                    Liquidity::Taker => {
                        // A taker fills at a level of the other side that is in the book now,
                        // and takes no more from it than it holds since it last changed.
                        let (book_side, recorded) = if buy { (Side::Sell, book.ask_qty(price)) } else { (Side::Buy, book.bid_qty(price)) };
                        let sum = taken.entry((book_side, price)).or_default();
                        *sum = sum.saturating_add(quantity);
                        prop_assert!(*sum <= recorded, "took {} from a level of {} at {}", sum, recorded, price);
                    }
                    Liquidity::Maker => {
                        // A maker fills at its own price, when a trade or the other side reached it.
                        prop_assert_eq!(Some(price), s.limit);
                        let by_trade = traded.is_some_and(|(aggressor, p)| aggressor != s.side && if buy { p <= price } else { p >= price });
                        let by_book = if buy { book.best_ask().is_some_and(|(a, _)| a <= price) } else { book.best_bid().is_some_and(|(b, _)| b >= price) };
                        prop_assert!(by_trade || by_book, "a maker fill at {} nothing reached", price);
                        if let (Step::Trade { qty, .. }, false) = (step, by_book)
                            && traded.is_some_and(|(_, p)| p == price)
                        {
                            at_trade_price = at_trade_price.saturating_add(quantity);
                            prop_assert!(at_trade_price <= fx(*qty), "makers at {} filled {} by a trade of {}", price, at_trade_price, qty);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn spot_balances_never_go_negative_and_fills_conserve_them(
        steps in proptest::collection::vec(step(), 1..60),
    ) {
        let mut m = market();
        let mut path = OrderPath::new(
            Box::new(SimExchange::new(Default::default(), Default::default())),
            Arc::new(NullJournal),
        );
        let id = DeploymentId(0);
        let budget = Budget {
            balances: [("USDT".to_string(), 1_000.0), ("BTC".to_string(), 10.0)].into(),
            ..Budget::unlimited(1.0)
        };
        path.open(id, "s".into(), budget, &mut m);
        let (usdt, btc) = (m.instruments.asset_id("USDT").unwrap(), m.instruments.asset_id("BTC").unwrap());
        let mut ids = Vec::new();
        let (mut quote, mut base) = (Fixed::from_int(1_000), Fixed::from_int(10));
        for (t, step) in steps.iter().enumerate() {
            let time = t as i64 * 10;
            match *step {
                Step::Level { bid, offset, qty } => {
                    let price = if bid { fx(99 - offset) } else { fx(101 + offset) };
                    let level = vec![(price, fx(qty))];
                    let update = BookUpdate { symbol: 0, time, kind: BookUpdateKind::Diff, bids: if bid { level.clone() } else { Vec::new() }, asks: if bid { Vec::new() } else { level } };
                    m.apply_book(&update);
                    path.on_event(&MarketEvent::Book(update), &m);
                }
                Step::Trade { buyer, price, qty } => {
                    let trade = TradePrint { symbol: 0, time, trade_id: t as u64, price: f64::from(price), quantity: f64::from(qty), aggressor: if buyer { Side::Buy } else { Side::Sell } };
                    m.push_trade(&trade);
                    path.on_event(&MarketEvent::Trade(trade), &m);
                }
                Step::Order { buy, kind, price, qty } => {
                    let request = OrderRequest { client_id: 0, symbol: 0, side: if buy { Side::Buy } else { Side::Sell }, amount: Amount::Base(fx(qty)), order_type: order_type(kind, fx(price)), iceberg: None, reduce_only: false, venue: 0 };
                    // Every third order replaces the last one sent.
                    let result = match ids.last() {
                        Some(&old) if t % 3 == 0 => path.replace(id, old, request, ReplaceMode::AllowFailure, time),
                        _ => path.submit(id, request, time, &m),
                    };
                    if let Ok(order) = result { ids.push(order); }
                }
                Step::Cancel { index } => {
                    if let Some(&order) = ids.get(index as usize) { let _ = path.cancel(id, order, time); }
                }
            }
            path.advance(time, &m);
            for u in path.take_updates(time) {
                if let Some(f) = u.fill {
                    match f.side {
                        Side::Buy => { base = base.saturating_add(f.quantity); quote = quote.saturating_sub(f.quote_quantity).saturating_sub(f.fee); }
                        Side::Sell => { base = base.saturating_sub(f.quantity); quote = quote.saturating_add(f.quote_quantity).saturating_sub(f.fee); }
                    }
                }
            }
            let a = path.account(id).unwrap();
            for asset in [usdt, btc] {
                let b = a.balance(asset);
                prop_assert!(b.free.raw() >= 0 && b.locked.raw() >= 0, "negative balance {:?}", b);
            }
            prop_assert_eq!(a.balance(usdt).total(), quote);
            prop_assert_eq!(a.balance(btc).total(), base);
        }
    }
}

fn capture_run(queue: &str, latency_ms: i64) -> String {
    let (names, events) = btcusdt_capture();
    let budget = Budget {
        balances: [("USDT".to_string(), 100_000.0), ("BTC".to_string(), 1.0)].into(),
        ..Budget::unlimited(1.0)
    };
    let report = stratbox::backtest::run(
        stratbox::sandbox::Runtime::new(Default::default()).unwrap(),
        stratbox::backtest::Backtest {
            components: vec![stratbox::backtest::Component {
                name: "mm".into(),
                bytes: guest("market-maker"),
                config: r#"{"quantity": 0.01, "max_position": 0.05}"#.into(),
                budget,
            }],
            symbols: &names,
            exchange_info: None,
            events: &events,
            execution: stratbox::config::ExecutionConfig {
                queue: queue.into(),
                entry_latency_ms: latency_ms,
                response_latency_ms: latency_ms,
                ..Default::default()
            },
            inference: None,
            features: None,
            signals: None,
            progress: false,
        },
    )
    .unwrap();
    assert!(
        report.fills.len() > 50,
        "{queue}: {} fills",
        report.fills.len()
    );
    serde_json::to_string(&(&report.orders, &report.fills)).unwrap()
}

#[test]
fn the_same_capture_and_settings_give_the_same_fills() {
    for (queue, latency) in [("risk-averse", 0), ("power:2", 5)] {
        assert_eq!(
            capture_run(queue, latency),
            capture_run(queue, latency),
            "{queue}"
        );
    }
    assert_ne!(
        capture_run("risk-averse", 0),
        capture_run("log", 25),
        "the queue model and latency matter"
    );
}
