//! The candle fill model, for data with no order book: an order sent during one bar works from
//! the next bar of its symbol, against that bar's open, high and low.
//!
//! - A market order fills whole at the next open, `slippage_ticks` ticks worse (taker).
//! - A limit order marketable at the open of its first bar (a buy at or above it) fills whole
//!   there (taker); otherwise it rests and fills whole at its limit price on the first bar that
//!   reaches it (maker), with probability `limit_fill_probability` per such bar (seeded). IOC and
//!   FOK orders not marketable at their first open expire. A limit-maker order that would take
//!   at once (a buy at or above the last price) is refused.
//! - A stop or take-profit order triggers on the bar's prices taken in the order least
//!   favourable to it (open, then its favourable extreme, then its adverse extreme); a market
//!   order then fills at the trigger price (the open if the bar opened beyond it) with
//!   slippage, a limit order as a fresh limit from that price. One whose trigger the last price
//!   has already reached is refused, as Binance refuses it.
//! - A buy never costs more than its account locked for it: what it cannot pay for expires.

use crate::execution::matching::trigger::TriggerState;
use crate::execution::venue::{Commission, ReportKind, Venue, VenueOrder, VenueReport};
use crate::feeds::MarketEvent;
use crate::market::MarketData;
use crate::model::{
    Amount, Bar, FeeRates, Fixed, Liquidity, OrderType, RejectCode, Rejection, Side, SymbolId,
    TimeInForce, TimestampMs,
};
use crate::rng::Rng;
use std::collections::BTreeMap;

/// How the candle fill model fills.
#[derive(Clone, Debug, PartialEq)]
pub struct BarFillConfig {
    /// Fee rates of symbols whose instrument gives none.
    pub fees: FeeRates,
    /// Ticks by which market fills are worse than the price they fill at.
    pub slippage_ticks: u32,
    /// Probability that a resting limit order fills on a bar that reaches its price.
    pub limit_fill_probability: f64,
    /// Seed of the fill-probability draws.
    pub seed: u64,
}

impl Default for BarFillConfig {
    fn default() -> Self {
        BarFillConfig {
            fees: FeeRates::default(),
            slippage_ticks: 0,
            limit_fill_probability: 1.0,
            seed: 1,
        }
    }
}

/// An order working in the model.
#[derive(Clone, Debug)]
struct Working {
    order: VenueOrder,
    /// Event time it arrived.
    since: TimestampMs,
    /// Its trigger, until it fires.
    trigger: Option<TriggerState>,
    /// What it works as (a stop order's type after its trigger).
    as_type: OrderType,
    /// Whether it has not yet met a bar's open since it arrived or triggered.
    fresh: bool,
    filled: Fixed,
    /// Quote spent so far, fees included.
    spent: Fixed,
    /// Quote notional filled so far.
    notional: Fixed,
}

/// The candle fill model as a venue.
#[derive(Debug)]
pub struct BarVenue {
    config: BarFillConfig,
    rng: Rng,
    working: BTreeMap<u64, Working>,
}

impl BarVenue {
    /// The model with `config`.
    pub fn new(config: BarFillConfig) -> Self {
        BarVenue {
            rng: Rng(config.seed),
            config,
            working: BTreeMap::new(),
        }
    }

    /// Whether order `id` works here.
    pub fn holds(&self, id: u64) -> bool {
        self.working.contains_key(&id)
    }

    /// Takes out every order of `symbol`, as orders for what remains of them (their trigger
    /// fired or not, what they may still spend): the symbol has a book to match against now.
    pub fn take_symbol(&mut self, symbol: SymbolId) -> Vec<VenueOrder> {
        let ids: Vec<u64> = self
            .working
            .iter()
            .filter(|(_, w)| w.order.symbol == symbol)
            .map(|(&id, _)| id)
            .collect();
        ids.into_iter()
            .filter_map(|id| self.working.remove(&id))
            .map(|w| VenueOrder {
                amount: match w.order.amount {
                    Amount::Base(q) => Amount::Base(q.saturating_sub(w.filled)),
                    Amount::Quote(q) => Amount::Quote(q.saturating_sub(w.notional)),
                },
                order_type: w.as_type,
                spend_cap: w.order.spend_cap.map(|c| c.saturating_sub(w.spent)),
                ..w.order
            })
            .collect()
    }

    fn execute(&mut self, id: u64, bar: &Bar, market: &MarketData, out: &mut Vec<VenueReport>) {
        let px = |x: f64| Fixed::from_f64(x).unwrap_or(Fixed::ZERO);
        let (open, high, low) = (px(bar.open), px(bar.high), px(bar.low));
        let time = bar.open_time;
        let fees = self.fees(bar.symbol, market);
        let tick = market
            .instrument(bar.symbol)
            .map_or(Fixed::from_raw(1), |i| i.tick());
        let step = market
            .instrument(bar.symbol)
            .map_or(Fixed::from_raw(1), |i| i.step());
        let Some(w) = self.working.get_mut(&id) else {
            return;
        };
        let buy = w.order.side == Side::Buy;
        // The price the order starts working at in this bar, and whether from the open.
        let mut start = open;
        if let Some(trigger) = &mut w.trigger {
            let Some((price, at_open)) = trigger.on_bar(open, high, low) else {
                return;
            };
            out.push(VenueReport {
                order_id: id,
                time,
                kind: ReportKind::Triggered,
            });
            w.trigger = None;
            w.as_type = w.as_type.triggered();
            w.fresh = true;
            if !at_open {
                start = price;
            }
        }
        let slipped = |p: Fixed| {
            let slip = Fixed::from_raw(
                tick.raw()
                    .saturating_mul(i64::from(self.config.slippage_ticks)),
            );
            if buy {
                p.saturating_add(slip)
            } else {
                p.saturating_sub(slip).max(tick)
            }
        };
        let fresh = std::mem::replace(&mut w.fresh, false);
        let outcome = match w.as_type {
            OrderType::Market => Some((slipped(start), Liquidity::Taker)),
            OrderType::Limit {
                price,
                time_in_force,
            } => {
                let marketable = if buy { start <= price } else { start >= price };
                let reaches = if buy { low <= price } else { high >= price };
                if fresh && marketable {
                    Some((start, Liquidity::Taker))
                } else if fresh && time_in_force != TimeInForce::Gtc {
                    out.push(VenueReport {
                        order_id: id,
                        time,
                        kind: ReportKind::Expired,
                    });
                    self.working.remove(&id);
                    return;
                } else if reaches && self.rng.uniform() < self.config.limit_fill_probability {
                    Some((price, Liquidity::Maker))
                } else {
                    None
                }
            }
            OrderType::LimitMaker { price } => {
                let reaches = if buy { low <= price } else { high >= price };
                (reaches && self.rng.uniform() < self.config.limit_fill_probability)
                    .then_some((price, Liquidity::Maker))
            }
            // Stop types become market or limit orders when triggered above.
            _ => None,
        };
        let Some((price, liquidity)) = outcome else {
            return;
        };
        let rate = match liquidity {
            Liquidity::Maker => fees.maker,
            Liquidity::Taker => fees.taker,
        };
        let w = self.working.get_mut(&id).expect("still working");
        let mut quantity = match w.order.amount {
            Amount::Base(q) => q.saturating_sub(w.filled),
            Amount::Quote(q) => q
                .saturating_sub(w.notional)
                .checked_div_floor(price)
                .unwrap_or(Fixed::ZERO)
                .floor_to(step),
        };
        if let Some(cap) = w.order.spend_cap {
            let left = cap.saturating_sub(w.spent);
            let unit = price.saturating_add(price.saturating_mul(rate.max(Fixed::ZERO)));
            let affordable = left
                .checked_div_floor(unit)
                .unwrap_or(Fixed::ZERO)
                .floor_to(step);
            quantity = quantity.min(affordable);
        }
        if quantity.is_positive() {
            let quote = price.saturating_mul(quantity);
            let fee = quote.saturating_mul(rate);
            w.filled = w.filled.saturating_add(quantity);
            w.notional = w.notional.saturating_add(quote);
            w.spent = w.spent.saturating_add(quote).saturating_add(fee);
            let complete = match w.order.amount {
                Amount::Base(q) => w.filled >= q,
                Amount::Quote(q) => q.saturating_sub(w.notional) < price.saturating_mul(step),
            };
            out.push(VenueReport {
                order_id: id,
                time,
                kind: ReportKind::Fill {
                    price,
                    quantity,
                    quote,
                    fee,
                    commission: Commission::Quote,
                    venue_trade_id: None,
                    liquidity,
                    complete,
                },
            });
            if complete {
                self.working.remove(&id);
                return;
            }
        }
        // What could not be filled (or paid for) at once ends here.
        out.push(VenueReport {
            order_id: id,
            time,
            kind: ReportKind::Expired,
        });
        self.working.remove(&id);
    }
}

impl Venue for BarVenue {
    fn place(
        &mut self,
        order: VenueOrder,
        now: TimestampMs,
        market: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        let last = market.marks.get(order.symbol);
        let tick = market
            .instrument(order.symbol)
            .map_or(Fixed::from_raw(1), |i| i.tick());
        let trigger = TriggerState::of(&order.order_type, order.side, tick);
        let refuse = |reason: Rejection| VenueReport {
            order_id: order.id,
            time: now,
            kind: ReportKind::Rejected(reason),
        };
        if let (OrderType::LimitMaker { price }, Some(last)) = (order.order_type, last) {
            let takes = match order.side {
                Side::Buy => price >= last,
                Side::Sell => price <= last,
            };
            if takes {
                out.push(refuse(Rejection::new(
                    RejectCode::WouldTakeLiquidity,
                    format!("Order would immediately match and take: limit-maker at {price}, last price {last}"),
                )));
                return;
            }
        }
        if let (Some(t), Some(last)) = (&trigger, last)
            && t.would_trigger_at(last)
        {
            out.push(refuse(Rejection::new(
                RejectCode::WouldTriggerImmediately,
                format!("Order would trigger immediately: the last price {last} has reached its stop price"),
            )));
            return;
        }
        out.push(VenueReport {
            order_id: order.id,
            time: now,
            kind: ReportKind::Accepted,
        });
        self.working.insert(
            order.id,
            Working {
                as_type: order.order_type,
                order,
                since: now,
                trigger,
                fresh: true,
                filled: Fixed::ZERO,
                spent: Fixed::ZERO,
                notional: Fixed::ZERO,
            },
        );
    }

    fn cancel(
        &mut self,
        order_id: u64,
        now: TimestampMs,
        _market: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        let was_open = self.working.remove(&order_id).is_some();
        out.push(VenueReport::cancel_answer(order_id, was_open, now));
    }

    fn on_event(&mut self, event: &MarketEvent, market: &MarketData, out: &mut Vec<VenueReport>) {
        let MarketEvent::Bar(bar) = event else {
            return;
        };
        let due: Vec<u64> = self
            .working
            .iter()
            .filter(|(_, w)| w.order.symbol == bar.symbol && w.since <= bar.open_time)
            .map(|(&id, _)| id)
            .collect();
        for id in due {
            self.execute(id, bar, market, out);
        }
    }

    fn fees(&self, symbol: SymbolId, market: &MarketData) -> FeeRates {
        market
            .instrument(symbol)
            .and_then(|i| i.fees)
            .unwrap_or(self.config.fees)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Trigger;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    fn market() -> MarketData {
        let mut m = MarketData::default();
        m.add_symbol("BTCUSDT");
        m.marks.set(0, fx("100"));
        m
    }

    fn order(id: u64, side: Side, order_type: OrderType) -> VenueOrder {
        VenueOrder {
            id,
            owner: crate::model::DeploymentId(0),
            symbol: 0,
            side,
            amount: Amount::Base(fx("1")),
            order_type,
            iceberg: None,
            spend_cap: None,
            venue: 0,
        }
    }

    fn bar(open_time: i64, open: f64, high: f64, low: f64) -> MarketEvent {
        MarketEvent::Bar(Bar {
            symbol: 0,
            interval_ms: 60_000,
            open_time,
            open,
            high,
            low,
            close: open,
            volume: 1.0,
        })
    }

    fn limit(price: &str, time_in_force: TimeInForce) -> OrderType {
        OrderType::Limit {
            price: fx(price),
            time_in_force,
        }
    }

    /// Places `orders` at time 0 and runs one bar; every report but the acceptances.
    fn run(venue: &mut BarVenue, orders: &[VenueOrder], event: MarketEvent) -> Vec<VenueReport> {
        let m = market();
        let mut out = Vec::new();
        for &o in orders {
            venue.place(o, 0, &m, &mut out);
        }
        out.retain(|r| r.kind != ReportKind::Accepted);
        venue.on_event(&event, &m, &mut out);
        out
    }

    fn fill_of(reports: &[VenueReport], id: u64) -> Option<(Fixed, Liquidity)> {
        reports.iter().find_map(|r| match r.kind {
            ReportKind::Fill {
                price, liquidity, ..
            } if r.order_id == id => Some((price, liquidity)),
            _ => None,
        })
    }

    fn has(reports: &[VenueReport], id: u64, kind: &ReportKind) -> bool {
        reports.iter().any(|r| r.order_id == id && &r.kind == kind)
    }

    #[test]
    fn market_and_limit_orders_fill_at_the_next_open_or_their_price() {
        let mut v = BarVenue::new(BarFillConfig::default());
        let orders = [
            order(1, Side::Buy, OrderType::Market),
            order(2, Side::Buy, limit("97", TimeInForce::Gtc)),
            order(3, Side::Buy, limit("101", TimeInForce::Gtc)),
            order(4, Side::Buy, limit("90", TimeInForce::Gtc)),
            order(5, Side::Buy, limit("90", TimeInForce::Ioc)),
            order(
                6,
                Side::Sell,
                OrderType::StopLoss {
                    trigger: Trigger::Price(fx("96")),
                },
            ),
            order(
                7,
                Side::Buy,
                OrderType::StopLoss {
                    trigger: Trigger::Price(fx("106")),
                },
            ),
        ];
        let r = run(&mut v, &orders, bar(0, 100.0, 105.0, 95.0));
        assert_eq!(fill_of(&r, 1), Some((fx("100"), Liquidity::Taker)));
        assert_eq!(fill_of(&r, 2), Some((fx("97"), Liquidity::Maker)));
        assert_eq!(
            fill_of(&r, 3),
            Some((fx("100"), Liquidity::Taker)),
            "marketable at the open"
        );
        assert_eq!(fill_of(&r, 4), None);
        assert!(v.holds(4), "a GTC limit not reached rests");
        assert!(
            has(&r, 5, &ReportKind::Expired),
            "an IOC not marketable expires"
        );
        assert!(has(&r, 6, &ReportKind::Triggered));
        assert_eq!(fill_of(&r, 6), Some((fx("96"), Liquidity::Taker)));
        assert!(v.holds(7) && fill_of(&r, 7).is_none());
        // Fees: 0.1 % of the quote quantity.
        let fee = r.iter().find_map(|x| match x.kind {
            ReportKind::Fill { fee, .. } if x.order_id == 2 => Some(fee),
            _ => None,
        });
        assert_eq!(fee, Some(fx("0.097")));
    }

    #[test]
    fn orders_wait_for_the_next_bar_and_gaps_trigger_at_the_open() {
        let mut v = BarVenue::new(BarFillConfig::default());
        let m = market();
        let mut out = Vec::new();
        v.place(order(1, Side::Buy, OrderType::Market), 30_000, &m, &mut out);
        v.on_event(&bar(0, 100.0, 101.0, 99.0), &m, &mut out);
        assert!(
            fill_of(&out, 1).is_none(),
            "sent during the bar opened at 0"
        );
        v.on_event(&bar(60_000, 102.0, 103.0, 101.0), &m, &mut out);
        assert_eq!(fill_of(&out, 1), Some((fx("102"), Liquidity::Taker)));
        let mut v = BarVenue::new(BarFillConfig::default());
        let stop = order(
            2,
            Side::Buy,
            OrderType::StopLoss {
                trigger: Trigger::Price(fx("105")),
            },
        );
        let r = run(&mut v, &[stop], bar(0, 107.0, 108.0, 106.0));
        assert_eq!(fill_of(&r, 2), Some((fx("107"), Liquidity::Taker)));
    }

    #[test]
    fn the_venue_refuses_makers_that_take_and_stops_that_trigger_at_once() {
        let mut v = BarVenue::new(BarFillConfig::default());
        let m = market();
        let mut out = Vec::new();
        v.place(
            order(1, Side::Buy, OrderType::LimitMaker { price: fx("100") }),
            0,
            &m,
            &mut out,
        );
        v.place(
            order(
                2,
                Side::Sell,
                OrderType::StopLoss {
                    trigger: Trigger::Price(fx("101")),
                },
            ),
            0,
            &m,
            &mut out,
        );
        v.place(
            order(3, Side::Buy, OrderType::LimitMaker { price: fx("99") }),
            0,
            &m,
            &mut out,
        );
        let codes: Vec<_> = out
            .iter()
            .map(|r| match &r.kind {
                ReportKind::Rejected(reason) => Some(reason.code),
                _ => None,
            })
            .collect();
        assert_eq!(
            codes,
            [
                Some(RejectCode::WouldTakeLiquidity),
                Some(RejectCode::WouldTriggerImmediately),
                None
            ]
        );
    }

    #[test]
    fn slippage_quote_amounts_and_spend_caps() {
        let mut v = BarVenue::new(BarFillConfig {
            slippage_ticks: 3,
            ..BarFillConfig::default()
        });
        let quote = VenueOrder {
            amount: Amount::Quote(fx("250")),
            ..order(1, Side::Buy, OrderType::Market)
        };
        let capped = VenueOrder {
            amount: Amount::Base(fx("3")),
            spend_cap: Some(fx("200.2")),
            ..order(2, Side::Buy, OrderType::Market)
        };
        let r = run(&mut v, &[quote, capped], bar(0, 100.0, 100.0, 100.0));
        // One tick is 1e-8 without a price filter: 3 ticks worse.
        let price = fx("100.00000003");
        let quantity = |id| {
            r.iter().find_map(|x| match x.kind {
                ReportKind::Fill {
                    quantity, complete, ..
                } if x.order_id == id => Some((quantity, complete)),
                _ => None,
            })
        };
        assert_eq!(fill_of(&r, 1).unwrap().0, price);
        assert_eq!(quantity(1), Some((fx("2.49999999"), true)));
        // 200.2 pays for 1.99999999 at that price with the fee; the rest expires.
        assert_eq!(quantity(2), Some((fx("1.99999999"), false)));
        assert!(has(&r, 2, &ReportKind::Expired));
    }

    #[test]
    fn limit_fill_probability_is_seeded() {
        let runs = |seed| {
            let mut v = BarVenue::new(BarFillConfig {
                limit_fill_probability: 0.5,
                seed,
                ..BarFillConfig::default()
            });
            let orders: Vec<_> = (1..=40)
                .map(|id| order(id, Side::Buy, limit("97", TimeInForce::Gtc)))
                .collect();
            let r = run(&mut v, &orders, bar(0, 100.0, 100.0, 96.0));
            (1..=40)
                .filter(|&id| fill_of(&r, id).is_some())
                .collect::<Vec<_>>()
        };
        let (a, b, c) = (runs(7), runs(7), runs(8));
        assert_eq!(a, b, "same seed, same fills");
        assert_ne!(a, c);
        assert!((8..=32).contains(&a.len()), "about half fill: {}", a.len());
    }
}
