//! The order path end to end without a guest: risk checks, locks, fills and releases, against
//! the candle fill model.

use super::OrderPath;
use super::venues::{BarFillConfig, BarVenue};
use crate::feeds::MarketEvent;
use crate::journal::NullJournal;
use crate::market::MarketData;
use crate::model::{
    Amount, Bar, DeploymentId, ExecutionType, Fixed, OrderRequest, OrderStatus, OrderType,
    RejectCode, Side, TimeInForce,
};
use crate::risk::{AccountView, Budget};
use std::sync::Arc;

pub(super) fn fx(s: &str) -> Fixed {
    s.parse().unwrap()
}

pub(super) const D: DeploymentId = DeploymentId(0);

pub(super) fn budget() -> Budget {
    Budget {
        capital: 10_000.0,
        asset: None,
        balances: [("USDT".to_string(), 10_000.0), ("BTC".to_string(), 5.0)].into(),
        max_order_notional: 1_000.0,
        max_position_notional: 1_500.0,
        max_gross_exposure: 2_000.0,
        max_orders_per_second: 3,
        max_daily_loss: 100.0,
        ..Budget::unlimited(0.0)
    }
}

pub(super) fn bar(symbol: u32, open_time: i64, open: f64, high: f64, low: f64) -> Bar {
    Bar {
        symbol,
        interval_ms: 60_000,
        open_time,
        open,
        high,
        low,
        close: open,
        volume: 1.0,
    }
}

/// A market with BTCUSDT at 100 and ETHUSDT at 10, and an order path with one account.
pub(super) fn setup(budget: Budget) -> (MarketData, OrderPath) {
    let mut market = MarketData::default();
    market.add_symbol("BTCUSDT");
    market.add_symbol("ETHUSDT");
    market.push_bar(bar(0, -60_000, 100.0, 100.0, 100.0));
    market.push_bar(bar(1, -60_000, 10.0, 10.0, 10.0));
    let mut path = OrderPath::new(
        Box::new(BarVenue::new(BarFillConfig::default())),
        Arc::new(NullJournal),
    );
    path.open(D, "s".into(), budget, &mut market);
    path.roll_day(0, &market);
    (market, path)
}

pub(super) fn market_order(symbol: u32, side: Side, qty: &str) -> OrderRequest {
    OrderRequest {
        client_id: 0,
        symbol,
        side,
        amount: Amount::Base(fx(qty)),
        order_type: OrderType::Market,
        iceberg: None,
        reduce_only: false,
        venue: 0,
    }
}

pub(super) fn code(r: Result<u64, crate::model::Rejection>) -> Option<RejectCode> {
    r.err().map(|r| r.code)
}

#[test]
fn each_budget_limit_rejects_only_the_order_that_breaks_it() {
    let (m, mut p) = setup(budget());
    // Order notional: 10 @ 100 = 1000 passes, 10.01 fails.
    let r = p.submit(D, market_order(0, Side::Buy, "10.01"), 0, &m);
    assert_eq!(code(r), Some(RejectCode::MaxOrderNotional));
    p.submit(D, market_order(0, Side::Buy, "10"), 0, &m)
        .unwrap();
    // Position: 5 more (1500 in all, open orders included) passes, then 0.01 more fails.
    p.submit(D, market_order(0, Side::Buy, "5"), 0, &m).unwrap();
    let r = p.submit(D, market_order(0, Side::Buy, "0.01"), 0, &m);
    assert_eq!(code(r), Some(RejectCode::MaxPosition));
    // Rate: a third order in this second passes, a fourth fails.
    p.submit(D, market_order(1, Side::Buy, "1"), 0, &m).unwrap();
    let r = p.submit(D, market_order(1, Side::Buy, "1"), 0, &m);
    assert_eq!(code(r), Some(RejectCode::MaxOrdersPerSecond));
    // A second later: gross 1500 + 10 + 49 @ 10 = 2000 passes, 49.01 more would not.
    let r = p.submit(D, market_order(1, Side::Buy, "49.01"), 1000, &m);
    assert_eq!(code(r), Some(RejectCode::MaxGrossExposure));
    p.submit(D, market_order(1, Side::Buy, "49"), 1000, &m)
        .unwrap();
    // Orders that reduce are accepted whatever the exposure (the account holds BTC to sell).
    p.submit(D, market_order(0, Side::Sell, "1"), 1000, &m)
        .unwrap();
    // Every refusal was reported as a rejected update too.
    let rejected = p
        .take_updates(1000)
        .iter()
        .filter(|u| u.execution == ExecutionType::Rejected)
        .count();
    assert_eq!(rejected, 4);
}

#[test]
fn fills_move_balances_positions_and_pnl_and_end_the_lock() {
    let (mut m, mut p) = setup(Budget::unlimited(10_000.0));
    let id = p.submit(D, market_order(0, Side::Buy, "2"), 0, &m).unwrap();
    p.advance(0, &m);
    let a = p.account(D).unwrap();
    let (usdt, btc) = (
        m.instruments.asset_id("USDT").unwrap(),
        m.instruments.asset_id("BTC").unwrap(),
    );
    // Locked: 2 x 100 plus the 0.1 % fee, plus 10 % for the market to move.
    assert_eq!(a.balance(usdt).locked, fx("220.22000004"));
    assert_eq!(a.order(id).unwrap().status, OrderStatus::New);
    let next = MarketEvent::Bar(bar(0, 0, 100.0, 101.0, 99.0));
    if let MarketEvent::Bar(b) = &next {
        m.push_bar(*b);
    }
    p.on_event(&next, &m);
    let a = p.account(D).unwrap();
    assert_eq!(a.balance(usdt).free, fx("9799.8"));
    assert_eq!(a.balance(usdt).locked, Fixed::ZERO);
    assert_eq!(a.balance(btc).free, fx("2"));
    m.marks.set(0, fx("110"));
    assert_eq!(a.equity(&m), Some(fx("10019.8")));
    // Sell both at 110 on the next bar.
    p.submit(D, market_order(0, Side::Sell, "2"), 60_000, &m)
        .unwrap();
    p.advance(60_000, &m);
    let next = MarketEvent::Bar(bar(0, 60_000, 110.0, 110.0, 110.0));
    p.on_event(&next, &m);
    let a = p.account(D).unwrap();
    let (_, position) = a.positions().next().unwrap();
    assert_eq!(position.quantity, Fixed::ZERO);
    assert_eq!(position.realized_pnl, fx("19.58"));
    assert_eq!(a.balance(usdt).free, fx("10019.58"));
    assert_eq!(a.balance(btc).total(), Fixed::ZERO);
    let fills: Vec<_> = p
        .take_updates(60_000)
        .into_iter()
        .filter_map(|u| u.fill)
        .collect();
    assert_eq!(fills.len(), 2);
    assert!(fills.iter().all(|f| f.status == OrderStatus::Filled));
}

#[test]
fn cancelled_and_expired_orders_release_their_lock_and_exposure() {
    let (m, mut p) = setup(Budget {
        max_orders_per_second: 100,
        ..budget()
    });
    let limit = |qty: &str, price: &str, tif| OrderRequest {
        order_type: OrderType::Limit {
            price: fx(price),
            time_in_force: tif,
        },
        ..market_order(0, Side::Buy, qty)
    };
    let a = p
        .submit(D, limit("10", "90", TimeInForce::Gtc), 0, &m)
        .unwrap();
    let b = p
        .submit(D, limit("5", "90", TimeInForce::Ioc), 0, &m)
        .unwrap();
    assert_eq!(
        code(p.submit(D, limit("2", "90", TimeInForce::Gtc), 0, &m)),
        Some(RejectCode::MaxPosition),
        "15 committed at 90 and 2 more: 1530, above 1500"
    );
    p.advance(0, &m);
    p.cancel(D, a, 0).unwrap();
    p.advance(0, &m);
    // The IOC order is not marketable at the next open: it expires.
    p.on_event(&MarketEvent::Bar(bar(0, 0, 100.0, 100.0, 95.0)), &m);
    let account = p.account(D).unwrap();
    assert!(account.order(b).is_none());
    assert_eq!(account.committed(0), Fixed::ZERO);
    let usdt = m.instruments.asset_id("USDT").unwrap();
    assert_eq!(account.balance(usdt).locked, Fixed::ZERO);
    assert_eq!(account.balance(usdt).free, fx("10000"));
    assert_eq!(
        code(p.cancel(D, a, 0).map(|()| 0)),
        Some(RejectCode::UnknownOrder),
        "an order can be cancelled once"
    );
}

#[test]
fn daily_loss_blocks_new_exposure_but_not_reductions() {
    let (mut m, mut p) = setup(Budget {
        balances: [("USDT".to_string(), 10_000.0)].into(),
        ..budget()
    });
    p.submit(D, market_order(0, Side::Buy, "10"), 0, &m)
        .unwrap();
    p.advance(0, &m);
    p.on_event(&MarketEvent::Bar(bar(0, 0, 100.0, 100.0, 100.0)), &m);
    m.marks.set(0, fx("89"));
    assert_eq!(
        code(p.submit(D, market_order(0, Side::Buy, "1"), 5000, &m)),
        Some(RejectCode::MaxDailyLoss)
    );
    p.submit(D, market_order(0, Side::Sell, "1"), 5000, &m)
        .unwrap();
    // Reduce-only that would flip is refused.
    let flip = OrderRequest {
        reduce_only: true,
        ..market_order(0, Side::Sell, "11")
    };
    assert_eq!(
        code(p.submit(D, flip, 5000, &m)),
        Some(RejectCode::ReduceOnly)
    );
    // A new UTC day starts a new count.
    p.roll_day(86_400_000, &m);
    p.submit(D, market_order(0, Side::Buy, "1"), 86_400_000, &m)
        .unwrap();
}

#[test]
fn balances_bound_every_order_and_halts_release_everything() {
    let (m, mut p) = setup(Budget::unlimited(500.0));
    let r = p.submit(D, market_order(0, Side::Sell, "0.1"), 0, &m);
    assert_eq!(
        code(r),
        Some(RejectCode::InsufficientBalance),
        "no BTC held"
    );
    let r = p.submit(D, market_order(0, Side::Buy, "5"), 0, &m);
    assert_eq!(
        code(r),
        Some(RejectCode::InsufficientBalance),
        "500.5 needed"
    );
    // A market buy locks at most what is free, once its estimate is covered.
    p.submit(D, market_order(0, Side::Buy, "4.9"), 0, &m)
        .unwrap();
    let usdt = m.instruments.asset_id("USDT").unwrap();
    assert_eq!(p.account(D).unwrap().balance(usdt).free, Fixed::ZERO);
    p.halt(D, 0, &m);
    let a = p.account(D).unwrap();
    assert_eq!(a.balance(usdt).free, fx("500"));
    assert_eq!(a.open_orders().count(), 0);
    assert_eq!(
        code(p.submit(D, market_order(0, Side::Buy, "1"), 0, &m)),
        Some(RejectCode::StrategyHalted)
    );
    p.resume(D);
    p.submit(D, market_order(0, Side::Buy, "1"), 0, &m).unwrap();
}

#[test]
fn requests_and_answers_take_their_latency() {
    let (m, p) = setup(Budget::unlimited(10_000.0));
    let mut p = p.with_latency(super::LatencyModel::constant(5, 3));
    let limit = OrderRequest {
        order_type: OrderType::Limit {
            price: fx("90"),
            time_in_force: TimeInForce::Gtc,
        },
        ..market_order(0, Side::Buy, "1")
    };
    let id = p.submit(D, limit, 0, &m).unwrap();
    p.advance(4, &m);
    assert_eq!(
        p.account(D).unwrap().order(id).unwrap().status,
        OrderStatus::PendingNew
    );
    p.advance(5, &m);
    assert_eq!(
        p.account(D).unwrap().order(id).unwrap().status,
        OrderStatus::New
    );
    assert!(
        p.take_updates(7).is_empty(),
        "the venue's answer is on its way back"
    );
    let updates = p.take_updates(8);
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].execution, ExecutionType::New);
    assert_eq!(p.next_due(), None);
}

#[test]
fn cancel_replace_frees_the_old_lock_for_the_new_order_or_refuses_it() {
    let (m, mut p) = setup(Budget::unlimited(1_000.0));
    let limit = |qty: &str, price: &str| OrderRequest {
        order_type: OrderType::Limit {
            price: fx(price),
            time_in_force: TimeInForce::Gtc,
        },
        ..market_order(0, Side::Buy, qty)
    };
    // 9 @ 90 locks 810.81: a second such order would not fit, its replacement does.
    let old = p.submit(D, limit("9", "90"), 0, &m).unwrap();
    p.advance(0, &m);
    let new = p
        .replace(
            D,
            old,
            limit("9", "95"),
            super::ReplaceMode::StopOnFailure,
            0,
        )
        .unwrap();
    p.advance(0, &m);
    let a = p.account(D).unwrap();
    assert!(a.order(old).is_none());
    assert_eq!(a.order(new).unwrap().status, OrderStatus::New);
    let kinds: Vec<_> = p
        .take_updates(0)
        .iter()
        .map(|u| (u.order_id, u.execution))
        .collect();
    assert_eq!(
        kinds,
        [
            (old, ExecutionType::New),
            (old, ExecutionType::Cancelled),
            (new, ExecutionType::New)
        ]
    );
    // Replacing an order that is gone: refused at once, or placed anyway when allowed.
    assert_eq!(
        code(p.replace(
            D,
            old,
            limit("1", "90"),
            super::ReplaceMode::StopOnFailure,
            0
        )),
        Some(RejectCode::UnknownOrder)
    );
    let placed = p
        .replace(
            D,
            old,
            limit("0.1", "90"),
            super::ReplaceMode::AllowFailure,
            0,
        )
        .unwrap();
    p.advance(0, &m);
    assert_eq!(
        p.account(D).unwrap().order(placed).unwrap().status,
        OrderStatus::New
    );
    // A replacement the free balance cannot cover is refused at the venue, after the cancel.
    let big = p
        .replace(
            D,
            new,
            limit("20", "95"),
            super::ReplaceMode::StopOnFailure,
            0,
        )
        .unwrap();
    p.advance(0, &m);
    let last = p.take_updates(0);
    let refusal = last.iter().find(|u| u.order_id == big).unwrap();
    assert_eq!(refusal.reject_code(), Some(RejectCode::InsufficientBalance));
    assert!(
        p.account(D).unwrap().order(new).is_none(),
        "the old one was cancelled"
    );
}

#[test]
fn a_limit_buy_filled_one_lot_step_at_a_time_completes_and_releases_its_lock() {
    use crate::execution::venues::{BookFillConfig, BookVenue};
    use crate::feeds::{BookUpdate, BookUpdateKind, TradePrint};
    // Prices and fees whose per-fill rounding adds up: each fill rounds its quote and fee to
    // 1e-8, so a hundred fills cost more than the whole order priced at once.
    let mut market = MarketData::default();
    market.instruments.describe(r#"[{"symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT",
        "filters": [{"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"}]}]"#).unwrap();
    market.add_symbol("BTCUSDT");
    let mut path = OrderPath::new(
        Box::new(BookVenue::new(BookFillConfig::default())),
        Arc::new(NullJournal),
    );
    let mut budget = Budget::unlimited(0.0);
    budget.balances = [("USDT".to_string(), 100.0)].into();
    path.open(D, "s".into(), budget, &mut market);
    let price = fx("40788.57211020");
    let book = MarketEvent::Book(BookUpdate {
        symbol: 0,
        time: 1,
        kind: BookUpdateKind::Snapshot,
        bids: vec![(fx("40788.5"), fx("1"))],
        asks: vec![(fx("40788.6"), fx("1"))],
    });
    if let MarketEvent::Book(u) = &book {
        market.apply_book(u);
    }
    path.on_event(&book, &market);
    let order = OrderRequest {
        order_type: OrderType::LimitMaker { price },
        ..market_order(0, Side::Buy, "0.001")
    };
    let id = path.submit(D, order, 2, &market).unwrap();
    path.advance(2, &market);
    // Sells print through the order's price one lot step at a time.
    for n in 0..100 {
        let trade = MarketEvent::Trade(TradePrint {
            symbol: 0,
            time: 3 + n,
            trade_id: n as u64,
            price: price.to_f64(),
            quantity: 0.00001,
            aggressor: Side::Sell,
        });
        if let MarketEvent::Trade(t) = &trade {
            market.push_trade(t);
        }
        path.on_event(&trade, &market);
    }
    let updates = path.take_updates(i64::MAX);
    let last = updates.iter().rfind(|u| u.order_id == id).unwrap();
    assert_eq!(last.status, OrderStatus::Filled, "{last:?}");
    assert_eq!(last.filled, fx("0.001"));
    let account = path.account(D).unwrap();
    let usdt = market.instruments.asset_id("USDT").unwrap();
    assert_eq!(account.balance(usdt).locked, Fixed::ZERO);
    assert!(account.balance(usdt).free.is_positive());
}

/// A venue that fills every order at once at 100, keeping a buy's 0.1 % commission in base (as
/// Binance does without BNB).
struct BaseFeeVenue;

impl super::Venue for BaseFeeVenue {
    fn place(
        &mut self,
        order: super::VenueOrder,
        now: i64,
        _market: &MarketData,
        out: &mut Vec<super::VenueReport>,
    ) {
        let Amount::Base(quantity) = order.amount else {
            return;
        };
        let price = fx("100");
        let commission = quantity.saturating_mul(fx("0.001"));
        let (fee, commission) = match order.side {
            Side::Buy => (
                commission.saturating_mul(price),
                super::Commission::Base(commission),
            ),
            Side::Sell => (
                price.saturating_mul(quantity).saturating_mul(fx("0.001")),
                super::Commission::Quote,
            ),
        };
        for kind in [
            super::ReportKind::Accepted,
            super::ReportKind::Fill {
                price,
                quantity,
                quote: price.saturating_mul(quantity),
                fee,
                commission: commission.clone(),
                venue_trade_id: None,
                liquidity: crate::model::Liquidity::Taker,
                complete: true,
            },
        ] {
            out.push(super::VenueReport {
                order_id: order.id,
                time: now,
                kind,
            });
        }
    }

    fn cancel(
        &mut self,
        order_id: u64,
        now: i64,
        _: &MarketData,
        out: &mut Vec<super::VenueReport>,
    ) {
        out.push(super::VenueReport::cancel_answer(order_id, false, now));
    }

    fn on_event(&mut self, _: &MarketEvent, _: &MarketData, _: &mut Vec<super::VenueReport>) {}

    fn fees(&self, _: u32, _: &MarketData) -> crate::model::FeeRates {
        crate::model::FeeRates::default()
    }

    fn buyers_pay_fee_in_base(&self) -> bool {
        true
    }
}

#[test]
fn the_kill_switchs_closing_buy_is_grossed_up_by_a_commission_kept_in_base() {
    let (mut market, _) = setup(budget());
    let mut path = OrderPath::new(Box::new(BaseFeeVenue), Arc::new(NullJournal));
    path.open(D, "s".into(), budget(), &mut market);
    path.roll_day(0, &market);
    // Sold 3 of the 5 BTC it was given: 3 short of where it started.
    path.submit(D, market_order(0, Side::Sell, "3"), 1, &market)
        .unwrap();
    path.advance(1, &market);
    let position = |p: &OrderPath| {
        p.account(D)
            .unwrap()
            .position_in(0)
            .map_or(Fixed::ZERO, |x| x.quantity)
    };
    assert_eq!(position(&path), fx("-3"));
    let report = path.kill(2, &market, Some(0.05), "test kill");
    let order_id = *report.flatten[0].2.as_ref().unwrap();
    let order = path.account(D).unwrap().order(order_id).unwrap();
    // 3 / 0.999 = 3.003003.., up to the next lot.
    let step = market.instrument(0).unwrap().step();
    let Amount::Base(bought) = order.request.amount else {
        panic!("{:?}", order.request)
    };
    assert!(bought > fx("3.003") && bought <= fx("3.003004").saturating_add(step));
    assert!(!order.request.reduce_only);
    path.advance(3, &market);
    // What arrived after the commission closes the position to within a lot, never short.
    let left = position(&path);
    assert!(left >= Fixed::ZERO && left < step, "{left}");
}

/// [`BaseFeeVenue`] on an account that pays its fees in BNB at 75 %, holding `bnb` free.
struct BnbPayingVenue {
    bnb: Fixed,
}

impl super::Venue for BnbPayingVenue {
    fn place(
        &mut self,
        order: super::VenueOrder,
        now: i64,
        market: &MarketData,
        out: &mut Vec<super::VenueReport>,
    ) {
        BaseFeeVenue.place(order, now, market, out);
    }

    fn cancel(
        &mut self,
        order_id: u64,
        now: i64,
        m: &MarketData,
        out: &mut Vec<super::VenueReport>,
    ) {
        BaseFeeVenue.cancel(order_id, now, m, out);
    }

    fn on_event(&mut self, _: &MarketEvent, _: &MarketData, _: &mut Vec<super::VenueReport>) {}

    fn fees(&self, _: u32, _: &MarketData) -> crate::model::FeeRates {
        crate::model::FeeRates::default()
    }

    fn buyers_pay_fee_in_base(&self) -> bool {
        true
    }

    fn fee_discount(&self, _: u32, _: &MarketData) -> Option<super::FeeDiscount> {
        Some(super::FeeDiscount {
            asset: "BNB".into(),
            multiplier: super::BNB_FEE_MULTIPLIER,
        })
    }

    fn free(&self, asset: &str) -> Option<Fixed> {
        (asset == "BNB").then_some(self.bnb)
    }
}

#[test]
fn the_kill_switchs_closing_buy_is_not_grossed_up_when_the_account_pays_its_fees_in_bnb() {
    // 3 BTC at up to 105 (5 % through the touch) with a 0.1 % taker fee at 75 %, in BNB at
    // 500 and a tenth more for BNB to move: 0.00051975 BNB.
    for (bnb, grossed) in [("0.00052", false), ("0.00051", true)] {
        let (mut market, _) = setup(budget());
        market.add_symbol("BNBUSDT");
        market.push_bar(bar(2, -60_000, 500.0, 500.0, 500.0));
        let venue = BnbPayingVenue { bnb: fx(bnb) };
        let mut path = OrderPath::new(Box::new(venue), Arc::new(NullJournal));
        path.open(D, "s".into(), budget(), &mut market);
        path.roll_day(0, &market);
        path.submit(D, market_order(0, Side::Sell, "3"), 1, &market)
            .unwrap();
        path.advance(1, &market);
        let report = path.kill(2, &market, Some(0.05), "test kill");
        let order_id = *report.flatten[0].2.as_ref().unwrap();
        let order = path.account(D).unwrap().order(order_id).unwrap();
        let Amount::Base(bought) = order.request.amount else {
            panic!("{:?}", order.request)
        };
        assert_eq!(bought > fx("3"), grossed, "{bnb} BNB free: bought {bought}");
        assert_eq!(order.request.reduce_only, !grossed, "{bnb} BNB free");
    }
}

#[test]
fn a_commission_kept_in_base_leaves_less_base_and_no_quote_fee() {
    let (mut market, _) = setup(budget());
    let mut path = OrderPath::new(Box::new(BaseFeeVenue), Arc::new(NullJournal));
    path.open(D, "s".into(), budget(), &mut market);
    path.roll_day(0, &market);
    let (btc, usdt) = (
        market.instruments.asset_id("BTC").unwrap(),
        market.instruments.asset_id("USDT").unwrap(),
    );
    path.submit(D, market_order(0, Side::Buy, "2"), 1, &market)
        .unwrap();
    path.advance(1, &market);
    let a = path.account(D).unwrap();
    // 2 bought at 100: 200 USDT paid and nothing more; 2 - 0.002 BTC received.
    assert_eq!(a.balance(usdt).free, fx("9800"));
    assert_eq!(a.balance(usdt).locked, Fixed::ZERO);
    assert_eq!(a.balance(btc).free, fx("6.998"));
    let position = a.position_in(0).unwrap();
    assert_eq!(position.quantity, fx("1.998"));
    // The commission is in the average price (200 / 1.998), not counted a second time.
    assert_eq!(position.average_price, fx("100.10010010"));
    assert_eq!(position.realized_pnl, Fixed::ZERO);
    // Selling the whole position sells what the account holds.
    path.submit(D, market_order(0, Side::Sell, "1.998"), 2, &market)
        .unwrap();
    path.advance(2, &market);
    let a = path.account(D).unwrap();
    assert_eq!(a.balance(btc).free, fx("5"));
    assert_eq!(a.position_in(0).unwrap().quantity, Fixed::ZERO);
    let updates = path.take_updates(i64::MAX);
    let fees: Vec<Fixed> = updates
        .iter()
        .filter_map(|u| u.fill.as_ref().map(|f| f.fee))
        .collect();
    assert_eq!(
        fees,
        [fx("0.2"), fx("0.1998")],
        "each fill's fee, valued in quote"
    );
}

/// An exchange that answers on its own time: it records what reaches it and says nothing yet
/// (a cancel of an order it never saw is refused, as Binance does).
struct QuietRemote(Arc<std::sync::Mutex<Vec<String>>>);

impl super::Venue for QuietRemote {
    fn place(
        &mut self,
        o: super::VenueOrder,
        _: i64,
        _: &MarketData,
        _: &mut Vec<super::VenueReport>,
    ) {
        self.0.lock().unwrap().push(format!("place {}", o.id));
    }

    fn cancel(&mut self, id: u64, now: i64, _: &MarketData, out: &mut Vec<super::VenueReport>) {
        self.0.lock().unwrap().push(format!("cancel {id}"));
        out.push(super::VenueReport::cancel_answer(id, false, now));
    }

    fn on_event(&mut self, _: &MarketEvent, _: &MarketData, _: &mut Vec<super::VenueReport>) {}

    fn fees(&self, _: u32, _: &MarketData) -> crate::model::FeeRates {
        crate::model::FeeRates::default()
    }

    fn is_remote(&self) -> bool {
        true
    }
}

#[test]
fn a_halt_ends_orders_that_never_left_for_a_remote_exchange() {
    let (mut market, _) = setup(budget());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut path = OrderPath::new(Box::new(QuietRemote(seen.clone())), Arc::new(NullJournal));
    path.open(D, "s".into(), budget(), &mut market);
    path.roll_day(0, &market);
    let usdt = market.instruments.asset_id("USDT").unwrap();
    let id = path
        .submit(D, market_order(0, Side::Buy, "1"), 1, &market)
        .unwrap();
    // Halted before the order went out: it ends here, its funds free again, and the exchange
    // hears of neither it nor a cancel.
    path.halt(D, 1, &market);
    path.advance(2, &market);
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
    let a = path.account(D).unwrap();
    assert!(a.open_orders().next().is_none());
    assert_eq!(a.balance(usdt).locked, Fixed::ZERO);
    let updates = path.take_updates(i64::MAX);
    assert_eq!(
        updates.last().map(|u| (u.order_id, u.status)),
        Some((id, crate::model::OrderStatus::Cancelled))
    );
}

/// A journal that keeps the groups it is told, as recorded.
#[derive(Default)]
struct Groups(std::sync::Mutex<Vec<Vec<crate::journal::JournalEntry>>>);

impl crate::journal::Journal for Groups {
    fn record(&self, entry: crate::journal::JournalEntry) {
        self.record_all(vec![entry]);
    }

    fn record_all(&self, entries: Vec<crate::journal::JournalEntry>) {
        self.0.lock().unwrap().push(entries);
    }
}

#[test]
fn an_orders_change_and_everything_it_moved_are_recorded_as_one_group() {
    use crate::journal::JournalEntry;
    let journal = Arc::new(Groups::default());
    let mut market = MarketData::default();
    market.add_symbol("BTCUSDT");
    market.push_bar(bar(0, -60_000, 100.0, 100.0, 100.0));
    let mut p = OrderPath::new(
        Box::new(BarVenue::new(BarFillConfig::default())),
        journal.clone(),
    );
    p.open(D, "s".into(), Budget::unlimited(10_000.0), &mut market);
    p.roll_day(0, &market);
    journal.0.lock().unwrap().clear();
    p.submit(D, market_order(0, Side::Buy, "2"), 0, &market)
        .unwrap();
    p.advance(0, &market);
    let next = MarketEvent::Bar(bar(0, 0, 100.0, 101.0, 99.0));
    if let MarketEvent::Bar(b) = &next {
        market.push_bar(*b);
    }
    p.on_event(&next, &market);
    let kinds = |group: &[JournalEntry]| -> Vec<&'static str> {
        group
            .iter()
            .map(|e| match e {
                JournalEntry::Order { update, .. } if update.fill.is_some() => "fill",
                JournalEntry::Order { .. } => "update",
                JournalEntry::OrderState { .. } => "state",
                JournalEntry::Balance { .. } => "balance",
                JournalEntry::Position { .. } => "position",
                _ => "other",
            })
            .collect()
    };
    let groups: Vec<Vec<&str>> = journal.0.lock().unwrap().iter().map(|g| kinds(g)).collect();
    assert_eq!(
        groups,
        [
            // Accepted by the risk checks: the order's lock.
            vec!["state", "balance", "balance"],
            // Acknowledged by the venue.
            vec!["update", "state", "balance", "balance"],
            // Filled at once, whole: the fill, the balances and position it moved, and the
            // order's last state.
            vec!["fill", "balance", "balance", "position", "state"],
        ]
    );
}
