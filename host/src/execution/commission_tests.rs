//! Where a fill's commission is paid from: the quote asset, the base a buy received, an asset
//! the exchange charged (BNB), or the asset an account pays its fees in at Binance's discount.

use super::tests::{D, bar, budget, fx, market_order};
use super::{Commission, OrderPath, ReportKind, Venue, VenueOrder, VenueReport};
use crate::journal::{Journal, JournalEntry, NullJournal};
use crate::market::MarketData;
use crate::model::{Amount, Fill, Fixed, Side};
use crate::risk::Budget;
use std::sync::Arc;

/// A venue that fills every order at once at 100 with a 0.1 % commission in quote, or as
/// `charged` says, as an exchange tells it: its amount per unit of base filled, in the base
/// (`BASE`, valued at the price) or in another asset (valued by the order manager); `remote`
/// says whether it is an exchange.
struct ChargingVenue {
    charged: Option<(&'static str, Fixed)>,
    remote: bool,
    /// Buys pay in quote whatever `charged` says.
    buys_in_quote: bool,
}

impl Venue for ChargingVenue {
    fn place(&mut self, order: VenueOrder, now: i64, _: &MarketData, out: &mut Vec<VenueReport>) {
        let Amount::Base(quantity) = order.amount else {
            return;
        };
        let price = fx("100");
        let quote = price.saturating_mul(quantity);
        let charged = self
            .charged
            .filter(|_| !(self.buys_in_quote && order.side == Side::Buy));
        let (fee, commission) = match charged {
            None => (quote.saturating_mul(fx("0.001")), Commission::Quote),
            Some(("BASE", per_unit)) => {
                let base = quantity.saturating_mul(per_unit);
                (base.saturating_mul(price), Commission::Base(base))
            }
            Some((asset, per_unit)) => (
                Fixed::ZERO,
                Commission::Other(asset.into(), quantity.saturating_mul(per_unit)),
            ),
        };
        for kind in [
            ReportKind::Accepted,
            ReportKind::Fill {
                price,
                quantity,
                quote,
                fee,
                commission: commission.clone(),
                venue_trade_id: None,
                liquidity: crate::model::Liquidity::Taker,
                complete: true,
            },
        ] {
            out.push(VenueReport {
                order_id: order.id,
                time: now,
                kind,
            });
        }
    }

    fn cancel(&mut self, order_id: u64, now: i64, _: &MarketData, out: &mut Vec<VenueReport>) {
        out.push(VenueReport::cancel_answer(order_id, false, now));
    }

    fn on_event(
        &mut self,
        _: &crate::feeds::MarketEvent,
        _: &MarketData,
        _: &mut Vec<VenueReport>,
    ) {
    }

    fn fees(&self, _: u32, _: &MarketData) -> crate::model::FeeRates {
        crate::model::FeeRates::default()
    }

    fn is_remote(&self) -> bool {
        self.remote
    }
}

/// BTCUSDT at 100 and, with `bnb_price`, BNBUSDT at it; an account holding 10,000 USDT, 5 BTC
/// and `bnb` BNB, paying its fees in BNB when `fee_asset`; orders go to `venue`.
fn account(
    bnb_price: Option<f64>,
    bnb: f64,
    fee_asset: bool,
    venue: ChargingVenue,
) -> (MarketData, OrderPath) {
    account_journaled(bnb_price, bnb, fee_asset, venue, Arc::new(NullJournal))
}

/// [`account`], journaled to `journal`.
fn account_journaled(
    bnb_price: Option<f64>,
    bnb: f64,
    fee_asset: bool,
    venue: ChargingVenue,
    journal: Arc<dyn Journal>,
) -> (MarketData, OrderPath) {
    let mut market = MarketData::default();
    market.add_symbol("BTCUSDT");
    market.push_bar(bar(0, -60_000, 100.0, 100.0, 100.0));
    if let Some(price) = bnb_price {
        market.add_symbol("BNBUSDT");
        market.push_bar(bar(1, -60_000, price, price, price));
    }
    let mut balances = budget().balances;
    balances.insert("BNB".into(), bnb);
    let budget = Budget {
        balances,
        fee_asset: fee_asset.then(|| "BNB".into()),
        ..budget()
    };
    let mut path = OrderPath::new(Box::new(venue), journal);
    path.open(D, "s".into(), budget, &mut market);
    path.roll_day(0, &market);
    (market, path)
}

/// Trades `quantity` of BTCUSDT on `side` at `now`; its fill.
fn trade(path: &mut OrderPath, market: &MarketData, side: Side, quantity: &str, now: i64) -> Fill {
    path.submit(D, market_order(0, side, quantity), now, market)
        .unwrap();
    path.advance(now, market);
    path.take_updates(i64::MAX)
        .into_iter()
        .find_map(|u| u.fill)
        .expect("a fill")
}

/// Free balances of USDT, BTC and BNB, and the BTCUSDT position's realised PnL.
fn books(path: &OrderPath, market: &MarketData) -> (Fixed, Fixed, Fixed, Fixed) {
    let a = path.account(D).unwrap();
    let free = |name| a.balance(market.instruments.asset_id(name).unwrap()).free;
    let pnl = a.position_in(0).map_or(Fixed::ZERO, |p| p.realized_pnl);
    (free("USDT"), free("BTC"), free("BNB"), pnl)
}

const QUOTE: ChargingVenue = ChargingVenue {
    charged: None,
    remote: false,
    buys_in_quote: false,
};

#[test]
fn an_account_paying_fees_in_bnb_pays_three_quarters_of_each_fee_in_bnb_at_its_price() {
    let (market, mut path) = account(Some(500.0), 1.0, true, QUOTE);
    // 2 BTC at 100: a fee of 0.2 USDT, 0.15 at 75 %, 0.0003 BNB at 500.
    let fill = trade(&mut path, &market, Side::Buy, "2", 1);
    assert_eq!(
        (fill.fee, fill.commission, &*fill.commission_asset),
        (fx("0.15"), fx("0.0003"), "BNB")
    );
    assert_eq!(
        books(&path, &market),
        (fx("9800"), fx("7"), fx("0.9997"), fx("-0.15"))
    );
    // A sell's proceeds are whole: 100 USDT for 1 BTC, 0.075 USDT of fee in BNB.
    let fill = trade(&mut path, &market, Side::Sell, "1", 2);
    assert_eq!((fill.fee, fill.commission), (fx("0.075"), fx("0.00015")));
    assert_eq!(
        books(&path, &market),
        (fx("9900"), fx("6"), fx("0.99955"), fx("-0.225"))
    );
}

#[test]
fn without_enough_bnb_or_a_price_of_it_the_fee_is_paid_as_the_venue_charged_it() {
    for (price, bnb) in [(Some(500.0), 0.0001), (None, 1.0)] {
        let (market, mut path) = account(price, bnb, true, QUOTE);
        let fill = trade(&mut path, &market, Side::Buy, "2", 1);
        assert_eq!(
            (fill.fee, fill.commission, &*fill.commission_asset),
            (fx("0.2"), fx("0.2"), "USDT")
        );
        let bnb = Fixed::from_f64(bnb).unwrap();
        assert_eq!(
            books(&path, &market),
            (fx("9799.8"), fx("7"), bnb, fx("-0.2"))
        );
    }
}

#[test]
fn on_an_exchange_the_fee_asset_setting_is_ignored_and_its_bnb_commission_is_valued_at_the_market()
{
    // The exchange charged in quote (its account pays no BNB): so does the host.
    let remote = ChargingVenue {
        charged: None,
        remote: true,
        buys_in_quote: false,
    };
    let (market, mut path) = account(Some(500.0), 1.0, true, remote);
    let fill = trade(&mut path, &market, Side::Buy, "2", 1);
    assert_eq!((fill.fee, &*fill.commission_asset), (fx("0.2"), "USDT"));
    // It charged 0.0002 BNB a BTC: taken from the BNB balance, valued at 500.
    let bnb = ChargingVenue {
        charged: Some(("BNB", fx("0.0002"))),
        remote: true,
        buys_in_quote: false,
    };
    let (market, mut path) = account(Some(500.0), 1.0, false, bnb);
    let fill = trade(&mut path, &market, Side::Buy, "2", 1);
    assert_eq!(
        (fill.fee, fill.commission, &*fill.commission_asset),
        (fx("0.2"), fx("0.0004"), "BNB")
    );
    assert_eq!(
        books(&path, &market),
        (fx("9800"), fx("7"), fx("0.9996"), fx("-0.2"))
    );
}

#[test]
fn a_commission_in_an_asset_without_a_price_or_unknown_is_told_but_valued_at_zero() {
    // BNB is known (the account holds some) but no symbol prices it: taken, valued at zero.
    let bnb = ChargingVenue {
        charged: Some(("BNB", fx("0.0002"))),
        remote: true,
        buys_in_quote: false,
    };
    let (market, mut path) = account(None, 1.0, false, bnb);
    let fill = trade(&mut path, &market, Side::Buy, "2", 1);
    assert_eq!(
        (fill.fee, fill.commission, &*fill.commission_asset),
        (Fixed::ZERO, fx("0.0004"), "BNB")
    );
    assert_eq!(
        books(&path, &market),
        (fx("9800"), fx("7"), fx("0.9996"), Fixed::ZERO)
    );
    // An asset no symbol and no balance names: told, nothing taken.
    let xyz = ChargingVenue {
        charged: Some(("XYZ", fx("1"))),
        remote: true,
        buys_in_quote: false,
    };
    let (market, mut path) = account(None, 1.0, false, xyz);
    let fill = trade(&mut path, &market, Side::Buy, "2", 1);
    assert_eq!(
        (fill.fee, fill.commission, &*fill.commission_asset),
        (Fixed::ZERO, fx("2"), "XYZ")
    );
    assert_eq!(
        books(&path, &market),
        (fx("9800"), fx("7"), fx("1"), Fixed::ZERO)
    );
}

#[test]
fn a_sells_commission_in_base_is_taken_from_the_base_balance() {
    // Selling BTC and paying 0.001 BTC a BTC in BTC (as an exchange charges a BNB sell in BNB).
    let base = ChargingVenue {
        charged: Some(("BASE", fx("0.001"))),
        remote: true,
        buys_in_quote: false,
    };
    let (market, mut path) = account(None, 0.0, false, base);
    let fill = trade(&mut path, &market, Side::Sell, "2", 1);
    assert_eq!(
        (fill.fee, fill.commission, &*fill.commission_asset),
        (fx("0.2"), fx("0.002"), "BTC")
    );
    // Sold short from flat: 2.002 BTC gone for 200 USDT, the commission in the price.
    let (usdt, btc, _, pnl) = books(&path, &market);
    assert_eq!((usdt, btc, pnl), (fx("10200"), fx("2.998"), Fixed::ZERO));
    let position = *path.account(D).unwrap().position_in(0).unwrap();
    assert_eq!(position.quantity, fx("-2.002"));
    assert_eq!(position.average_price, fx("99.9000999"));
}

#[test]
fn a_sell_closing_a_long_with_its_commission_in_base_realises_the_commissions_cost() {
    // Bought 2 at 100 (fee in quote), then sold 1.9 at 100 paying 0.0019 BTC: 1.9019 BTC of
    // the position gone for 190 USDT.
    let venue = ChargingVenue {
        charged: Some(("BASE", fx("0.001"))),
        remote: true,
        buys_in_quote: true,
    };
    let (market, mut path) = account(None, 0.0, false, venue);
    trade(&mut path, &market, Side::Buy, "2", 1);
    trade(&mut path, &market, Side::Sell, "1.9", 2);
    let position = *path.account(D).unwrap().position_in(0).unwrap();
    assert_eq!(position.quantity, fx("0.0981"));
    // 190 - 1.9019 x 100 = -0.19, and the buy's fee of 0.2.
    assert_eq!(position.realized_pnl, fx("-0.39"));
    let (_, btc, _, _) = books(&path, &market);
    assert_eq!(btc, fx("5.0981"));
}

/// A journal that keeps the balances it is told, as a restart would read them.
#[derive(Default)]
struct Balances(std::sync::Mutex<std::collections::BTreeMap<String, Fixed>>);

impl Journal for Balances {
    fn record(&self, entry: JournalEntry) {
        if let JournalEntry::Balance { asset, free, .. } = entry {
            self.0.lock().unwrap().insert(asset.to_string(), free);
        }
    }
}

#[test]
fn the_balance_a_commission_in_another_asset_was_taken_from_is_journaled_for_a_restart() {
    for (fee_asset, venue) in [
        (true, QUOTE),
        (
            false,
            ChargingVenue {
                charged: Some(("BNB", fx("0.0002"))),
                remote: true,
                buys_in_quote: false,
            },
        ),
    ] {
        let journal = Arc::new(Balances::default());
        let (market, mut path) =
            account_journaled(Some(500.0), 1.0, fee_asset, venue, journal.clone());
        trade(&mut path, &market, Side::Buy, "2", 1);
        let (usdt, btc, bnb, _) = books(&path, &market);
        let kept = journal.0.lock().unwrap().clone();
        assert_eq!(
            (kept.get("USDT"), kept.get("BTC"), kept.get("BNB")),
            (Some(&usdt), Some(&btc), Some(&bnb))
        );
        assert!(bnb < fx("1"), "{bnb}");
    }
}

#[test]
fn a_sells_commission_in_base_beyond_what_is_free_is_a_realised_cost_not_a_short() {
    // 5 BTC held, 5 more bought; all 10 sold with 0.01 BTC of commission the deployment no
    // longer holds (the rest of the exchange account paid it): a realised cost, not a short.
    let venue = ChargingVenue {
        charged: Some(("BASE", fx("0.001"))),
        remote: true,
        buys_in_quote: true,
    };
    let (market, mut path) = account(None, 0.0, false, venue);
    trade(&mut path, &market, Side::Buy, "5", 1);
    trade(&mut path, &market, Side::Sell, "10", 2);
    let position = *path.account(D).unwrap().position_in(0).unwrap();
    let (_, btc, _, _) = books(&path, &market);
    assert_eq!(btc, Fixed::ZERO);
    // Long 5 sold at 100 and 5 more sold short (the starting balance): -5, not -5.01; the
    // commission's 0.01 BTC valued at 100 is realised with the buy's 0.5 fee.
    assert_eq!(position.quantity, fx("-5"));
    assert_eq!(position.realized_pnl, fx("-1.5"));
}
