//! Trading states, their automatic transitions, the account-wide limits and the kill switch,
//! on the order path with the candle fill model.

use super::tests::{D, bar, code, fx, market_order, setup};
use crate::feeds::MarketEvent;
use crate::market::MarketData;
use crate::model::{
    AccountLimit, Amount, DeploymentId, OrderRequest, OrderType, RejectCode, Side, TimeInForce,
};
use crate::risk::{AccountLimits, AccountView, Budget, TradingState};

const D1: DeploymentId = DeploymentId(1);

fn limit(symbol: u32, side: Side, qty: &str, price: &str) -> OrderRequest {
    OrderRequest {
        order_type: OrderType::Limit {
            price: fx(price),
            time_in_force: TimeInForce::Gtc,
        },
        ..market_order(symbol, side, qty)
    }
}

/// `event` reaches the market data and the order path at `now`, then the protective stops.
fn step(
    m: &mut MarketData,
    p: &mut super::OrderPath,
    event: MarketEvent,
    now: i64,
) -> Vec<super::StopFired> {
    if let MarketEvent::Bar(b) = &event {
        m.push_bar(*b);
    }
    p.advance(now, m);
    p.on_event(&event, m);
    p.protect(&event, m, now)
}

/// Fills what is pending with a bar of BTCUSDT opening at `price`, at `time`.
fn fill(m: &mut MarketData, p: &mut super::OrderPath, time: i64, price: f64) {
    p.advance(time, m);
    let event = MarketEvent::Bar(bar(0, time, price, price, price));
    if let MarketEvent::Bar(b) = &event {
        m.push_bar(*b);
    }
    p.on_event(&event, m);
}

#[test]
fn reducing_accepts_only_what_reduces_and_halted_only_cancels() {
    let (mut m, mut p) = setup(Budget::unlimited(10_000.0));
    p.submit(D, market_order(0, Side::Buy, "2"), 0, &m).unwrap();
    fill(&mut m, &mut p, 0, 100.0);
    assert_eq!(p.account(D).unwrap().position(0), fx("2"));

    p.set_state(D, TradingState::Reducing, "review".into(), 1);
    let r = p.submit(D, market_order(0, Side::Buy, "0.1"), 1, &m);
    assert_eq!(code(r), Some(RejectCode::Reducing));
    let r = p.submit(D, market_order(0, Side::Sell, "3"), 1, &m);
    assert_eq!(
        code(r),
        Some(RejectCode::Reducing),
        "a sell that flips the position"
    );
    let r = p.submit(D, market_order(1, Side::Buy, "1"), 1, &m);
    assert_eq!(
        code(r),
        Some(RejectCode::Reducing),
        "no position in ETH to reduce"
    );
    let resting = p
        .submit(D, limit(0, Side::Sell, "1", "150"), 1, &m)
        .unwrap();
    // With one open sell of 1, a sell of 1.5 would flip what is committed; 1 more does not.
    let r = p.submit(D, limit(0, Side::Sell, "1.5", "150"), 1, &m);
    assert_eq!(code(r), Some(RejectCode::Reducing));
    p.submit(D, limit(0, Side::Sell, "1", "150"), 1, &m)
        .unwrap();

    p.set_state(D, TradingState::Halted, "operator stop".into(), 2);
    let r = p.submit(D, market_order(0, Side::Sell, "0.5"), 2_000, &m);
    let refusal = r.unwrap_err();
    assert_eq!(refusal.code, RejectCode::TradingHalted);
    assert!(
        refusal.message.contains("operator stop"),
        "{}",
        refusal.message
    );
    p.cancel(D, resting, 2_000).unwrap();

    // The account's state binds every deployment, whatever its own.
    p.set_state(D, TradingState::Active, "reviewed".into(), 3);
    p.set_account_state(TradingState::Halted, "desk closed".into(), 3);
    let refusal = p
        .submit(D, market_order(0, Side::Sell, "0.5"), 3_000, &m)
        .unwrap_err();
    assert!(
        refusal.message.contains("desk closed"),
        "{}",
        refusal.message
    );
    p.set_account_state(TradingState::Active, String::new(), 4);
    p.advance(4_000, &m); // the cancel reaches the venue: its 1 BTC is free again
    p.submit(D, market_order(0, Side::Sell, "0.5"), 4_000, &m)
        .unwrap();
}

#[test]
fn breaches_tighten_the_state_once_and_the_operator_loosens_it() {
    let budget = Budget {
        max_daily_loss: 400.0,
        max_drawdown: Some(0.08),
        ..Budget::unlimited(10_000.0)
    };
    let (mut m, mut p) = setup(budget);
    p.submit(D, market_order(0, Side::Buy, "50"), 0, &m)
        .unwrap();
    fill(&mut m, &mut p, 0, 100.0);
    assert!(p.monitor(60_000, &m, 60_000).is_empty());
    // Down 10 %: a loss of 500 (plus fees) reaches max_daily_loss: REDUCING.
    m.marks.set(0, fx("90"));
    let changed = p.monitor(120_000, &m, 60_000);
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].1.state, TradingState::Reducing);
    assert!(
        changed[0].1.reason.contains("max_daily_loss"),
        "{:?}",
        changed[0].1
    );
    // The same breach does not tighten again; the operator's decision stands.
    p.set_state(D, TradingState::Active, "accepted the loss".into(), 130_000);
    assert!(p.monitor(180_000, &m, 60_000).is_empty());
    // Down 20 %: a drawdown past 8 % of peak equity: HALTED.
    m.marks.set(0, fx("80"));
    let changed = p.monitor(240_000, &m, 60_000);
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].1.state, TradingState::Halted);
    assert!(
        changed[0].1.reason.contains("max_drawdown"),
        "{:?}",
        changed[0].1
    );
    let r = p.submit(D, market_order(0, Side::Sell, "1"), 240_000, &m);
    assert_eq!(code(r), Some(RejectCode::TradingHalted));
    let d = p.risk().deployment(D).unwrap();
    assert!((d.drawdown - 0.1).abs() < 0.01, "{}", d.drawdown);
}

#[test]
fn a_var_above_its_limit_moves_the_deployment_to_reducing() {
    let budget = Budget {
        max_var: Some(0.02),
        ..Budget::unlimited(10_000.0)
    };
    let (mut m, mut p) = setup(budget);
    p.submit(D, market_order(0, Side::Buy, "90"), 0, &m)
        .unwrap();
    fill(&mut m, &mut p, 0, 100.0);
    // One-minute bars swinging 1 % around 100: a one-day VaR (1440 bars) far above 2 %.
    let mut changed = Vec::new();
    for i in 1..=40 {
        let price = if i % 2 == 0 { "101" } else { "99" };
        m.marks.set(0, fx(price));
        changed.extend(p.monitor(i * 60_000, &m, 60_000));
    }
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0].1.state, TradingState::Reducing);
    assert!(changed[0].1.reason.contains("VaR"), "{:?}", changed[0].1);
    let var = p.risk().deployment(D).unwrap().var.unwrap();
    assert!(var > 0.2 && var < 1.0, "{var}");
}

/// Two deployments on one account-wide risk.
fn two_deployments(limits: AccountLimits) -> (MarketData, super::OrderPath) {
    let (mut m, mut p) = setup(Budget::unlimited(10_000.0));
    p.open(D1, "t".into(), Budget::unlimited(10_000.0), &mut m);
    p.roll_day(0, &m);
    p.set_account_limits(limits);
    (m, p)
}

#[test]
fn account_limits_count_every_deployment() {
    let (m, mut p) = two_deployments(AccountLimits {
        max_orders_per_second: 3,
        ..AccountLimits::default()
    });
    p.submit(D, limit(0, Side::Buy, "1", "99"), 0, &m).unwrap();
    p.submit(D1, limit(0, Side::Buy, "1", "99"), 0, &m).unwrap();
    p.submit(D, limit(0, Side::Buy, "1", "99"), 500, &m)
        .unwrap();
    let r = p.submit(D1, limit(0, Side::Buy, "1", "99"), 900, &m);
    assert_eq!(code(r), Some(RejectCode::Account(AccountLimit::OrderRate)));
    p.submit(D1, limit(0, Side::Buy, "1", "99"), 1_000, &m)
        .unwrap();

    let (m, mut p) = two_deployments(AccountLimits {
        max_open_orders: Some(2),
        price_band: Some(0.05),
        max_order_notional: Some(500.0),
        ..AccountLimits::default()
    });
    let r = p.submit(D, limit(0, Side::Buy, "1", "106"), 0, &m);
    assert_eq!(code(r), Some(RejectCode::Account(AccountLimit::PriceBand)));
    let r = p.submit(D, limit(0, Side::Sell, "1", "94"), 0, &m);
    assert_eq!(code(r), Some(RejectCode::Account(AccountLimit::PriceBand)));
    let r = p.submit(D, market_order(0, Side::Buy, "5.1"), 0, &m);
    assert_eq!(
        code(r),
        Some(RejectCode::Account(AccountLimit::OrderNotional))
    );
    p.submit(D, limit(0, Side::Buy, "1", "96"), 0, &m).unwrap();
    p.submit(D1, limit(0, Side::Buy, "1", "96"), 0, &m).unwrap();
    let r = p.submit(D1, limit(0, Side::Buy, "1", "96"), 0, &m);
    assert_eq!(code(r), Some(RejectCode::Account(AccountLimit::OpenOrders)));

    // Exposure: 5 BTC (500) committed by one deployment, 6 more by the other is 1100.
    let (m, mut p) = two_deployments(AccountLimits {
        max_gross_exposure: Some(1_000.0),
        max_symbol_concentration: Some(0.044),
        ..AccountLimits::default()
    });
    p.submit(D, limit(0, Side::Buy, "5", "99"), 0, &m).unwrap();
    let r = p.submit(D1, limit(0, Side::Buy, "6", "99"), 0, &m);
    assert_eq!(
        code(r),
        Some(RejectCode::Account(AccountLimit::GrossExposure))
    );
    // 4 more is 9 BTC at 99 (891): 4.46 % of the account's 20,000, above 4.4 %; 3 more is not.
    let r = p.submit(D1, limit(0, Side::Buy, "4", "99"), 0, &m);
    assert_eq!(
        code(r),
        Some(RejectCode::Account(AccountLimit::Concentration))
    );
    p.submit(D1, limit(0, Side::Buy, "3", "99"), 0, &m).unwrap();

    let (m, mut p) = two_deployments(AccountLimits {
        max_net_exposure: Some(600.0),
        ..AccountLimits::default()
    });
    p.submit(D, limit(0, Side::Buy, "5", "99"), 0, &m).unwrap();
    let r = p.submit(D1, limit(1, Side::Buy, "20", "9.9"), 0, &m);
    assert_eq!(
        code(r),
        Some(RejectCode::Account(AccountLimit::NetExposure))
    );
    p.submit(D1, limit(1, Side::Buy, "9", "9.9"), 0, &m)
        .unwrap();
}

#[test]
fn the_kill_switch_cancels_everything_closes_positions_and_halts() {
    let (mut m, mut p) = two_deployments(AccountLimits::default());
    p.submit(D, market_order(0, Side::Buy, "2"), 0, &m).unwrap();
    fill(&mut m, &mut p, 0, 100.0);
    p.submit(D, limit(0, Side::Buy, "1", "90"), 60_000, &m)
        .unwrap();
    p.submit(D1, limit(1, Side::Buy, "3", "9"), 60_000, &m)
        .unwrap();
    p.advance(60_000, &m);
    p.take_updates(60_000);

    let report = p.kill(60_001, &m, Some(0.01), "test kill");
    assert_eq!(report.cancelled, 2);
    assert_eq!(report.flatten.len(), 1);
    let (who, symbol, outcome) = &report.flatten[0];
    assert_eq!((*who, *symbol), (D, 0));
    let order_id = *outcome.as_ref().unwrap();
    let order = p.account(D).unwrap().order(order_id).unwrap();
    assert_eq!(order.request.side, Side::Sell);
    assert_eq!(order.request.amount, Amount::Base(fx("2")));
    assert_eq!(order.request.order_type.limit_price(), Some(fx("99")));
    for id in [D, D1] {
        let open: Vec<_> = p.account(id).unwrap().open_orders().map(|o| o.id).collect();
        assert!(open.iter().all(|&o| o == order_id), "{open:?}");
    }
    assert_eq!(p.risk().account().state.state, TradingState::Halted);
    let r = p.submit(D1, market_order(1, Side::Buy, "1"), 60_002, &m);
    assert_eq!(code(r), Some(RejectCode::TradingHalted));
    // The closing order fills on the next bar; the position is flat.
    fill(&mut m, &mut p, 120_000, 100.0);
    assert_eq!(p.account(D).unwrap().position(0), fx("0"));
}

#[test]
fn a_protective_stop_closes_the_position_though_trading_is_halted() {
    let budget = Budget {
        stops: Some(toml::from_str("trailing = 0.05\nfixed = 0.1").unwrap()),
        ..Budget::unlimited(10_000.0)
    };
    let (mut m, mut p) = setup(budget);
    p.submit(D, market_order(0, Side::Buy, "2"), 0, &m).unwrap();
    fill(&mut m, &mut p, 0, 100.0);
    let bar_event = |t: i64, high: f64, low: f64, close: f64| {
        MarketEvent::Bar(crate::model::Bar {
            close,
            ..bar(0, t, low, high, low)
        })
    };
    // The first bar after the fill opens the stop at the entry: 100 - 5 % = 95.
    assert!(
        step(
            &mut m,
            &mut p,
            bar_event(60_000, 101.0, 99.0, 100.0),
            60_000
        )
        .is_empty()
    );
    let (_, s) = p.stops(D).next().unwrap();
    assert!((s.level.unwrap() - 95.95).abs() < 1e-9, "{s:?}");
    // Up to 120: the stop trails to 114. Trading is halted and the deployment stopped.
    assert!(
        step(
            &mut m,
            &mut p,
            bar_event(120_000, 120.0, 101.0, 118.0),
            120_000
        )
        .is_empty()
    );
    p.set_state(D, TradingState::Halted, "operator".into(), 120_001);
    p.halt(D, 120_001, &m);
    let fired = step(
        &mut m,
        &mut p,
        bar_event(180_000, 118.0, 113.0, 114.0),
        180_000,
    );
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0].reason, crate::risk::StopReason::Price);
    let order = fired[0].order.clone().unwrap();
    let o = p.account(D).unwrap().order(order).unwrap();
    assert_eq!(
        (o.request.side, o.request.amount),
        (Side::Sell, Amount::Base(fx("2")))
    );
    // It fills on the next bar; the position is flat and its stop gone.
    step(
        &mut m,
        &mut p,
        bar_event(240_000, 115.0, 112.0, 113.0),
        240_000,
    );
    assert_eq!(p.account(D).unwrap().position(0), fx("0"));
    assert!(p.stops(D).next().is_none());
    // The guest's own orders stay refused.
    let r = p.submit(D, market_order(0, Side::Buy, "1"), 240_001, &m);
    assert!(r.is_err());
}

#[test]
fn a_stop_follows_its_position_entry_at_each_fill() {
    let budget = Budget {
        stops: Some(toml::from_str("fixed = 0.1").unwrap()),
        ..Budget::unlimited(10_000.0)
    };
    let (mut m, mut p) = setup(budget);
    p.submit(D, market_order(0, Side::Buy, "2"), 0, &m).unwrap();
    fill(&mut m, &mut p, 0, 100.0);
    let event = MarketEvent::Bar(bar(0, 60_000, 100.0, 100.0, 100.0));
    assert!(step(&mut m, &mut p, event, 60_000).is_empty());
    let (_, s) = p.stops(D).next().unwrap();
    assert_eq!((s.entry, s.level), (100.0, Some(90.0)));
    // Two more at 110, filled with no stop-keeping event after them: the stop's entry is the
    // new average at once (105), and the fixed level 10 % under it.
    p.submit(D, market_order(0, Side::Buy, "2"), 60_001, &m)
        .unwrap();
    fill(&mut m, &mut p, 120_000, 110.0);
    let average = p
        .account(D)
        .unwrap()
        .positions()
        .find(|&(s, _)| s == 0)
        .map(|(_, pos)| pos.average_price.to_f64());
    assert_eq!(average, Some(105.0));
    let (_, s) = p.stops(D).next().unwrap();
    assert_eq!(s.entry, 105.0, "{s:?}");
    assert!((s.level.unwrap() - 94.5).abs() < 1e-9, "{s:?}");
    assert_eq!(s.best, 100.0, "the best price is left to the market events");
    // Closed and opened again before the next market event: the old stop goes with the close,
    // and the new position gets a stop of its own at that event (opened then, at its entry).
    p.submit(D, market_order(0, Side::Sell, "4"), 120_001, &m)
        .unwrap();
    fill(&mut m, &mut p, 180_000, 120.0);
    assert!(p.stops(D).next().is_none(), "gone with the close");
    p.submit(D, market_order(0, Side::Buy, "1"), 180_001, &m)
        .unwrap();
    fill(&mut m, &mut p, 240_000, 130.0);
    assert!(p.stops(D).next().is_none());
    let event = MarketEvent::Bar(bar(0, 300_000, 130.0, 130.0, 130.0));
    assert!(step(&mut m, &mut p, event, 300_000).is_empty());
    let (_, s) = p.stops(D).next().unwrap();
    assert_eq!(
        (s.entry, s.opened_at, s.best),
        (130.0, 300_000, 130.0),
        "{s:?}"
    );
}

#[test]
fn a_rebalance_sends_the_differences_sells_first() {
    let (mut m, mut p) = setup(Budget::unlimited(10_000.0));
    let orders = p.rebalance(D, &[(0, 0.5), (1, 0.3)], 0, &m).unwrap();
    let sent: Vec<_> = orders
        .iter()
        .map(|o| (o.symbol, o.side, o.quantity))
        .collect();
    assert_eq!(sent, [(0, Side::Buy, fx("50")), (1, Side::Buy, fx("300"))]);
    assert!(orders.iter().all(|o| o.order.is_ok()), "{orders:?}");
    fill(&mut m, &mut p, 0, 100.0);
    let event = MarketEvent::Bar(bar(1, 0, 10.0, 10.0, 10.0));
    if let MarketEvent::Bar(b) = &event {
        m.push_bar(*b);
    }
    p.on_event(&event, &m);
    assert_eq!(p.account(D).unwrap().position(1), fx("300"));
    // Down to 20 % in BTC: a sell of the difference first, then a buy of ETH up to 40 %.
    let orders = p.rebalance(D, &[(1, 0.4), (0, 0.2)], 60_000, &m).unwrap();
    assert_eq!(orders[0].symbol, 0);
    assert_eq!(orders[0].side, Side::Sell);
    assert_eq!(orders[1].side, Side::Buy);
    let equity = p.account(D).unwrap().equity(&m).unwrap().to_f64();
    let sold = orders[0].quantity.to_f64();
    assert!(
        (sold - (50.0 - equity * 0.2 / 100.0)).abs() < 1e-6,
        "{sold} of {equity}"
    );
    // Weights that cannot be held are refused whole.
    assert!(p.rebalance(D, &[(0, 0.7), (1, 0.5)], 60_000, &m).is_err());
    assert!(p.rebalance(D, &[(0, -0.1)], 60_000, &m).is_err());
}
