//! The book matcher: our orders against a replayed or live L2 book and trade stream, which our
//! orders cannot change (they are not in the recorded data).
//!
//! - **Taking.** A marketable order walks the levels of the other side, best first, filling
//!   what each level offers (fees at the taker rate), up to its limit price, its quantity or
//!   quote amount, and what its account locked. Liquidity we take is remembered per level and
//!   not offered again until the recorded level has shrunk by as much (the market trading or
//!   cancelling what we took) or was emptied: our orders never consume liquidity twice.
//!   A market order the book cannot fill entirely expires for the rest; IOC likewise; FOK
//!   fills entirely or expires untouched; GTC rests for the rest.
//! - **Resting.** A passive order joins the back of its level (behind the recorded quantity
//!   and our own earlier orders there) and advances by the queue model ([`QueueModel`]). It
//!   fills at its own price (maker): entirely when a trade prints through its price or the
//!   other side's available liquidity comes to its price; by the trades at its price that pass
//!   the queue ahead of it. An iceberg shows its visible part, which goes to the back of the
//!   queue each time it is refilled.
//! - **Stops** trigger on trades (Binance's last price), then act as market or limit orders
//!   arriving at that moment. A limit-maker order that would take, or a stop whose price the
//!   last trade has reached, is refused as Binance refuses them.

use crate::execution::matching::queue::{QueueModel, QueuePos};
use crate::execution::matching::trigger::TriggerState;
use crate::execution::venue::{Commission, ReportKind, Venue, VenueOrder, VenueReport};
use crate::feeds::{BookUpdate, MarketEvent, TradePrint};
use crate::market::MarketData;
use crate::model::{
    Amount, FeeRates, Fixed, Liquidity, OrderType, RejectCode, Rejection, Side, SymbolId,
    TimeInForce, TimestampMs,
};
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BTreeMap;

/// How the book matcher fills.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BookFillConfig {
    /// Fee rates of symbols whose instrument gives none.
    pub fees: FeeRates,
    /// How queue positions advance.
    pub queue: QueueModel,
    /// Whether a buy's fee is kept out of the base bought, as Binance does without BNB (the
    /// exchange simulator); otherwise every fee is paid in quote (paper trading, backtests).
    pub buyer_fee_in_base: bool,
}

/// A level of one side of a symbol's book: (symbol, the side whose orders rest there, price).
type Level = (SymbolId, Side, Fixed);

/// An order the matcher holds: resting, or waiting for its trigger.
#[derive(Clone, Debug)]
struct Held {
    order: VenueOrder,
    /// Its trigger, until it fires.
    trigger: Option<TriggerState>,
    /// Its limit price while it rests.
    price: Fixed,
    filled: Fixed,
    notional: Fixed,
    spent: Fixed,
    queue: QueuePos,
    /// What an iceberg still shows (the whole remainder otherwise).
    visible: Fixed,
}

/// What a symbol's instrument and fees say about filling it.
#[derive(Clone, Copy, Debug)]
struct Terms {
    step: Fixed,
    fees: FeeRates,
}

/// An order taking liquidity, with what bounds it.
struct Taker {
    id: u64,
    side: Side,
    amount: Amount,
    limit: Option<Fixed>,
    spend_cap: Option<Fixed>,
    filled: Fixed,
    notional: Fixed,
    spent: Fixed,
    /// Whether its last fill completed it.
    complete: bool,
}

impl Taker {
    /// The base quantity it may still take at `price`.
    fn wants(&self, price: Fixed, terms: Terms) -> Fixed {
        let mut q = match self.amount {
            Amount::Base(q) => q.saturating_sub(self.filled),
            Amount::Quote(q) => q
                .saturating_sub(self.notional)
                .checked_div_floor(price)
                .unwrap_or(Fixed::ZERO)
                .floor_to(terms.step),
        };
        if let Some(cap) = self.spend_cap {
            let rate = terms.fees.taker.max(Fixed::ZERO);
            let unit = price.saturating_add(price.saturating_mul(rate));
            let affordable = cap
                .saturating_sub(self.spent)
                .checked_div_floor(unit)
                .unwrap_or(Fixed::ZERO)
                .floor_to(terms.step);
            q = q.min(affordable);
        }
        q.max(Fixed::ZERO)
    }

    /// Whether nothing more is to be had at `price`: its quantity, or its quote amount to
    /// within one lot step.
    fn is_complete(&self, price: Fixed, terms: Terms) -> bool {
        match self.amount {
            Amount::Base(q) => self.filled >= q,
            Amount::Quote(q) => q.saturating_sub(self.notional) < price.saturating_mul(terms.step),
        }
    }

    /// Whether `price` is within its limit.
    fn accepts(&self, price: Fixed) -> bool {
        match (self.limit, self.side) {
            (None, _) => true,
            (Some(l), Side::Buy) => price <= l,
            (Some(l), Side::Sell) => price >= l,
        }
    }
}

/// The book matcher as a venue.
#[derive(Debug)]
pub struct BookVenue {
    config: BookFillConfig,
    held: BTreeMap<u64, Held>,
    /// Our resting orders by level, oldest first.
    resting: BTreeMap<Level, Vec<u64>>,
    /// Liquidity we took from a level and the recorded level has not yet given up.
    consumed: FxHashMap<Level, Fixed>,
    /// The recorded quantity last seen at each level we rest at or took from.
    watched: BTreeMap<Level, Fixed>,
}

/// The side of the book an order on `side` takes from.
fn opposite(side: Side) -> Side {
    match side {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    }
}

/// The recorded quantity at `price` among the orders resting on `side`.
fn recorded(market: &MarketData, symbol: SymbolId, side: Side, price: Fixed) -> Fixed {
    market.depth(symbol).map_or(Fixed::ZERO, |b| match side {
        Side::Buy => b.bid_qty(price),
        Side::Sell => b.ask_qty(price),
    })
}

impl BookVenue {
    /// The matcher with `config`.
    pub fn new(config: BookFillConfig) -> Self {
        BookVenue {
            config,
            held: BTreeMap::new(),
            resting: BTreeMap::new(),
            consumed: FxHashMap::default(),
            watched: BTreeMap::new(),
        }
    }

    /// Whether order `id` is held here.
    pub fn holds(&self, id: u64) -> bool {
        self.held.contains_key(&id)
    }

    fn terms(&self, symbol: SymbolId, market: &MarketData) -> Terms {
        let instrument = market.instrument(symbol);
        Terms {
            step: instrument.map_or(Fixed::from_raw(1), |i| i.step()),
            fees: instrument.and_then(|i| i.fees).unwrap_or(self.config.fees),
        }
    }

    /// What `level` offers us now: the recorded quantity less what we took from it.
    fn available(&self, level: Level, market: &MarketData) -> Fixed {
        let recorded = recorded(market, level.0, level.1, level.2);
        recorded
            .saturating_sub(self.consumed.get(&level).copied().unwrap_or(Fixed::ZERO))
            .max(Fixed::ZERO)
    }

    fn take_from(&mut self, level: Level, quantity: Fixed, market: &MarketData) {
        *self.consumed.entry(level).or_default() = self
            .consumed
            .get(&level)
            .copied()
            .unwrap_or(Fixed::ZERO)
            .saturating_add(quantity);
        self.watched
            .entry(level)
            .or_insert_with(|| recorded(market, level.0, level.1, level.2));
    }

    #[allow(clippy::too_many_arguments)]
    fn report_fill(
        &mut self,
        id: u64,
        side: Side,
        price: Fixed,
        quantity: Fixed,
        liquidity: Liquidity,
        complete: bool,
        terms: Terms,
        time: TimestampMs,
        out: &mut Vec<VenueReport>,
    ) -> (Fixed, Fixed) {
        let quote = price.saturating_mul(quantity);
        let rate = match liquidity {
            Liquidity::Maker => terms.fees.maker,
            Liquidity::Taker => terms.fees.taker,
        };
        // A buy's fee kept in base is paid out of the base bought: it costs no quote.
        let (fee, commission, quote_fee) = if self.config.buyer_fee_in_base && side == Side::Buy {
            let base_fee = quantity.saturating_mul(rate);
            (
                base_fee.saturating_mul(price),
                Commission::Base(base_fee),
                Fixed::ZERO,
            )
        } else {
            let fee = quote.saturating_mul(rate);
            (fee, Commission::Quote, fee)
        };
        out.push(VenueReport {
            order_id: id,
            time,
            kind: ReportKind::Fill {
                price,
                quantity,
                quote,
                fee,
                commission,
                venue_trade_id: None,
                liquidity,
                complete,
            },
        });
        (quote, quote_fee)
    }

    /// Walks the other side of `symbol`'s book for `taker`, best first, up to its limit.
    fn take(
        &mut self,
        symbol: SymbolId,
        taker: &mut Taker,
        market: &MarketData,
        time: TimestampMs,
        out: &mut Vec<VenueReport>,
    ) {
        let Some(book) = market.depth(symbol) else {
            return;
        };
        match taker.side {
            Side::Buy => {
                let asks = book.asks(usize::MAX).map(|(p, _)| p);
                self.take_levels(symbol, Side::Sell, asks, taker, market, time, out)
            }
            Side::Sell => {
                let bids = book.bids(usize::MAX).map(|(p, _)| p);
                self.take_levels(symbol, Side::Buy, bids, taker, market, time, out)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn take_levels(
        &mut self,
        symbol: SymbolId,
        book_side: Side,
        prices: impl Iterator<Item = Fixed>,
        taker: &mut Taker,
        market: &MarketData,
        time: TimestampMs,
        out: &mut Vec<VenueReport>,
    ) {
        let terms = self.terms(symbol, market);
        for price in prices {
            if !taker.accepts(price) {
                break;
            }
            let wants = taker.wants(price, terms);
            if !wants.is_positive() {
                break;
            }
            let level = (symbol, book_side, price);
            let quantity = self.available(level, market).min(wants);
            if !quantity.is_positive() {
                continue;
            }
            self.take_from(level, quantity, market);
            taker.filled = taker.filled.saturating_add(quantity);
            taker.notional = taker
                .notional
                .saturating_add(price.saturating_mul(quantity));
            taker.complete = taker.is_complete(price, terms);
            let (quote, fee) = self.report_fill(
                taker.id,
                taker.side,
                price,
                quantity,
                Liquidity::Taker,
                taker.complete,
                terms,
                time,
                out,
            );
            taker.spent = taker.spent.saturating_add(quote).saturating_add(fee);
            if taker.complete {
                break;
            }
        }
    }

    /// Everything `symbol`'s other side offers up to `limit`, for a fill-or-kill check.
    fn fillable(&self, symbol: SymbolId, side: Side, limit: Fixed, market: &MarketData) -> Fixed {
        self.crossing(symbol, side, limit, market)
            .iter()
            .fold(Fixed::ZERO, |sum, &p| {
                sum.saturating_add(self.available((symbol, opposite(side), p), market))
            })
    }

    /// The other side's price levels an order on `side` at `limit` would reach, best first.
    fn crossing(
        &self,
        symbol: SymbolId,
        side: Side,
        limit: Fixed,
        market: &MarketData,
    ) -> Vec<Fixed> {
        let Some(book) = market.depth(symbol) else {
            return Vec::new();
        };
        match side {
            Side::Buy => book
                .asks(usize::MAX)
                .map(|(p, _)| p)
                .take_while(|&p| p <= limit)
                .collect(),
            Side::Sell => book
                .bids(usize::MAX)
                .map(|(p, _)| p)
                .take_while(|&p| p >= limit)
                .collect(),
        }
    }

    /// Handles an order arriving (or triggered) at `time`, working as `as_type`: takes what it
    /// can, then rests the rest (GTC limits) or expires it.
    fn work(
        &mut self,
        mut held: Held,
        as_type: OrderType,
        market: &MarketData,
        time: TimestampMs,
        out: &mut Vec<VenueReport>,
    ) {
        let order = held.order;
        let (limit, time_in_force) = match as_type {
            OrderType::Market => (None, TimeInForce::Ioc),
            OrderType::Limit {
                price,
                time_in_force,
            } => (Some(price), time_in_force),
            OrderType::LimitMaker { price } => (Some(price), TimeInForce::Gtc),
            // Stop types work once triggered, as what they become.
            _ => return,
        };
        let fok_short = match (time_in_force, limit, order.amount) {
            (TimeInForce::Fok, Some(limit), Amount::Base(q)) => {
                self.fillable(order.symbol, order.side, limit, market)
                    < q.saturating_sub(held.filled)
            }
            _ => false,
        };
        let mut taker = Taker {
            id: order.id,
            side: order.side,
            amount: order.amount,
            limit,
            spend_cap: order.spend_cap,
            filled: held.filled,
            notional: held.notional,
            spent: held.spent,
            complete: false,
        };
        if !fok_short && !matches!(as_type, OrderType::LimitMaker { .. }) {
            self.take(order.symbol, &mut taker, market, time, out);
        }
        if taker.complete {
            return;
        }
        match (limit, time_in_force) {
            (Some(price), TimeInForce::Gtc) => {
                held.filled = taker.filled;
                held.notional = taker.notional;
                held.spent = taker.spent;
                held.price = price;
                held.trigger = None;
                self.rest(held, market);
            }
            _ => out.push(VenueReport {
                order_id: order.id,
                time,
                kind: ReportKind::Expired,
            }),
        }
    }

    /// Puts `held` at the back of its level's queue.
    fn rest(&mut self, mut held: Held, market: &MarketData) {
        let order = held.order;
        let level = (order.symbol, order.side, held.price);
        let ours: Fixed = self
            .resting
            .get(&level)
            .into_iter()
            .flatten()
            .filter_map(|id| self.held.get(id))
            .fold(Fixed::ZERO, |s, h| s.saturating_add(h.visible));
        let recorded = recorded(market, level.0, level.1, level.2);
        held.queue = QueuePos::behind(recorded.saturating_add(ours).to_f64());
        let remaining = match order.amount {
            Amount::Base(q) => q.saturating_sub(held.filled),
            Amount::Quote(_) => Fixed::ZERO,
        };
        held.visible = order.iceberg.map_or(remaining, |v| v.min(remaining));
        self.watched.entry(level).or_insert(recorded);
        self.resting.entry(level).or_default().push(order.id);
        self.held.insert(order.id, held);
    }

    fn unrest(&mut self, id: u64) -> Option<Held> {
        let held = self.held.remove(&id)?;
        let level = (held.order.symbol, held.order.side, held.price);
        if let Some(ids) = self.resting.get_mut(&level) {
            ids.retain(|&i| i != id);
            if ids.is_empty() {
                self.resting.remove(&level);
            }
        }
        Some(held)
    }

    /// Fills up to `quantity` of resting order `id` at its price, as maker.
    fn fill_resting(
        &mut self,
        id: u64,
        quantity: Fixed,
        market: &MarketData,
        time: TimestampMs,
        out: &mut Vec<VenueReport>,
    ) -> Fixed {
        let Some(held) = self.held.get(&id) else {
            return Fixed::ZERO;
        };
        let terms = self.terms(held.order.symbol, market);
        let price = held.price;
        let total = match held.order.amount {
            Amount::Base(q) => q,
            Amount::Quote(_) => return Fixed::ZERO,
        };
        let mut quantity = quantity.min(held.visible).floor_to(terms.step);
        if let Some(cap) = held.order.spend_cap {
            let unit =
                price.saturating_add(price.saturating_mul(terms.fees.maker.max(Fixed::ZERO)));
            let affordable = cap
                .saturating_sub(held.spent)
                .checked_div_floor(unit)
                .unwrap_or(Fixed::ZERO)
                .floor_to(terms.step);
            quantity = quantity.min(affordable);
        }
        if !quantity.is_positive() {
            return Fixed::ZERO;
        }
        let complete = held.filled.saturating_add(quantity) >= total;
        let side = held.order.side;
        let (quote, fee) = self.report_fill(
            id,
            side,
            price,
            quantity,
            Liquidity::Maker,
            complete,
            terms,
            time,
            out,
        );
        if complete {
            self.unrest(id);
            return quantity;
        }
        let held = self.held.get_mut(&id).expect("still resting");
        held.filled = held.filled.saturating_add(quantity);
        held.notional = held.notional.saturating_add(quote);
        held.spent = held.spent.saturating_add(quote).saturating_add(fee);
        held.visible = held.visible.saturating_sub(quantity);
        if held.visible.raw() == 0 {
            // The iceberg's next part joins the back of the queue.
            let held = self.unrest(id).expect("resting");
            self.rest(held, market);
        }
        quantity
    }

    /// Our resting orders of `symbol` on `side` that a price of `price` on the other side
    /// reaches (a buy at or above it, a sell at or below), best first.
    fn reached(&self, symbol: SymbolId, side: Side, price: Fixed, strictly: bool) -> Vec<u64> {
        let lo = (symbol, side, Fixed::from_raw(i64::MIN));
        let hi = (symbol, side, Fixed::from_raw(i64::MAX));
        let mut levels: Vec<(&Level, &Vec<u64>)> = self
            .resting
            .range(lo..=hi)
            .filter(|((_, _, p), _)| match (side, strictly) {
                (Side::Buy, false) => *p >= price,
                (Side::Buy, true) => *p > price,
                (Side::Sell, false) => *p <= price,
                (Side::Sell, true) => *p < price,
            })
            .collect();
        if side == Side::Buy {
            levels.sort_by_key(|(l, _)| Reverse(l.2));
        }
        levels
            .into_iter()
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect()
    }

    fn on_trade(&mut self, trade: &TradePrint, market: &MarketData, out: &mut Vec<VenueReport>) {
        let Ok(price) = Fixed::from_f64(trade.price) else {
            return;
        };
        let time = trade.time;
        // Stops trigger on the last price.
        let triggered: Vec<u64> = self
            .held
            .iter_mut()
            .filter(|(_, h)| h.order.symbol == trade.symbol)
            .filter_map(|(&id, h)| h.trigger.as_mut()?.on_price(price).map(|_| id))
            .collect();
        for id in triggered {
            let mut held = self.held.remove(&id).expect("held");
            held.trigger = None;
            out.push(VenueReport {
                order_id: id,
                time,
                kind: ReportKind::Triggered,
            });
            let as_type = held.order.order_type.triggered();
            self.work(held, as_type, market, time, out);
        }
        // A sell trade hits bids: ours above its price are passed through, ours at it advance.
        let resting_side = opposite(trade.aggressor);
        let mut left = Fixed::from_f64(trade.quantity).unwrap_or(Fixed::ZERO);
        for id in self.reached(trade.symbol, resting_side, price, true) {
            let remaining = self.held.get(&id).map_or(Fixed::ZERO, |h| h.visible);
            self.fill_resting(id, remaining, market, time, out);
        }
        let level = (trade.symbol, resting_side, price);
        let ids: Vec<u64> = self.resting.get(&level).cloned().unwrap_or_default();
        for id in ids {
            let Some(held) = self.held.get_mut(&id) else {
                continue;
            };
            held.queue.trade(trade.quantity);
            let executable = Fixed::from_f64(held.queue.take_executable()).unwrap_or(Fixed::ZERO);
            let quantity = executable.min(left);
            if quantity.is_positive() {
                left = left.saturating_sub(self.fill_resting(id, quantity, market, time, out));
            }
        }
    }

    fn on_book(&mut self, update: &BookUpdate, market: &MarketData, out: &mut Vec<VenueReport>) {
        let symbol = update.symbol;
        let lo = (symbol, Side::Buy, Fixed::from_raw(i64::MIN));
        let hi = (symbol, Side::Sell, Fixed::from_raw(i64::MAX));
        let changes: Vec<(Level, Fixed, Fixed)> = self
            .watched
            .range(lo..=hi)
            .filter_map(|(&level, &previous)| {
                let now = recorded(market, level.0, level.1, level.2);
                (now != previous).then_some((level, previous, now))
            })
            .collect();
        for (level, previous, now) in changes {
            self.watched.insert(level, now);
            // What the recorded level gave up first pays back what we took from it.
            if now.raw() == 0 {
                self.consumed.remove(&level);
            } else if now < previous
                && let Some(c) = self.consumed.get_mut(&level)
            {
                *c = c
                    .saturating_sub(previous.saturating_sub(now))
                    .max(Fixed::ZERO);
                if c.raw() == 0 {
                    self.consumed.remove(&level);
                }
            }
            let model = self.config.queue;
            for id in self.resting.get(&level).cloned().unwrap_or_default() {
                if let Some(h) = self.held.get_mut(&id) {
                    h.queue.level(model, previous.to_f64(), now.to_f64());
                }
            }
            if !self.resting.contains_key(&level) && !self.consumed.contains_key(&level) {
                self.watched.remove(&level);
            }
        }
        // Liquidity on the other side at or through our resting prices fills us, as maker.
        let Some(book) = market.depth(symbol) else {
            return;
        };
        for side in [Side::Buy, Side::Sell] {
            let best = match side {
                Side::Buy => book.best_ask(),
                Side::Sell => book.best_bid(),
            };
            let Some((best, _)) = best else { continue };
            for id in self.reached(symbol, side, best, false) {
                let Some(held) = self.held.get(&id) else {
                    continue;
                };
                for p in self.crossing(symbol, side, held.price, market) {
                    let level = (symbol, opposite(side), p);
                    let available = self.available(level, market);
                    if !available.is_positive() {
                        continue;
                    }
                    let filled = self.fill_resting(id, available, market, update.time, out);
                    if filled.is_positive() {
                        self.take_from(level, filled, market);
                    }
                    if !self.held.contains_key(&id) {
                        break;
                    }
                }
            }
        }
    }
}

impl Venue for BookVenue {
    fn place(
        &mut self,
        order: VenueOrder,
        now: TimestampMs,
        market: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        let refuse = |reason: Rejection| VenueReport {
            order_id: order.id,
            time: now,
            kind: ReportKind::Rejected(reason),
        };
        let tick = market
            .instrument(order.symbol)
            .map_or(Fixed::from_raw(1), |i| i.tick());
        let trigger = TriggerState::of(&order.order_type, order.side, tick);
        if let (Some(t), Some(last)) = (&trigger, market.marks.get(order.symbol))
            && t.would_trigger_at(last)
        {
            out.push(refuse(Rejection::new(
                RejectCode::WouldTriggerImmediately,
                format!("Order would trigger immediately: the last price {last} has reached its stop price"),
            )));
            return;
        }
        if let OrderType::LimitMaker { price } = order.order_type
            && self
                .fillable(order.symbol, order.side, price, market)
                .is_positive()
        {
            out.push(refuse(Rejection::new(
                RejectCode::WouldTakeLiquidity,
                format!("Order would immediately match and take: limit-maker at {price} crosses the book"),
            )));
            return;
        }
        out.push(VenueReport {
            order_id: order.id,
            time: now,
            kind: ReportKind::Accepted,
        });
        let held = Held {
            order,
            trigger,
            price: Fixed::ZERO,
            filled: Fixed::ZERO,
            notional: Fixed::ZERO,
            spent: Fixed::ZERO,
            queue: QueuePos::default(),
            visible: Fixed::ZERO,
        };
        if held.trigger.is_some() {
            self.held.insert(order.id, held);
        } else {
            self.work(held, order.order_type, market, now, out);
        }
    }

    fn cancel(
        &mut self,
        order_id: u64,
        now: TimestampMs,
        _market: &MarketData,
        out: &mut Vec<VenueReport>,
    ) {
        let was_open = self.unrest(order_id).is_some();
        out.push(VenueReport::cancel_answer(order_id, was_open, now));
    }

    fn on_event(&mut self, event: &MarketEvent, market: &MarketData, out: &mut Vec<VenueReport>) {
        match event {
            MarketEvent::Trade(trade) => self.on_trade(trade, market, out),
            MarketEvent::Book(update) => self.on_book(update, market, out),
            _ => {}
        }
    }

    fn fees(&self, symbol: SymbolId, market: &MarketData) -> FeeRates {
        self.terms(symbol, market).fees
    }

    fn buyers_pay_fee_in_base(&self) -> bool {
        self.config.buyer_fee_in_base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::BookUpdateKind;
    use crate::model::Trigger;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    fn levels(text: &str) -> Vec<(Fixed, Fixed)> {
        text.split_whitespace()
            .map(|l| {
                let (p, q) = l.split_once(':').unwrap();
                (fx(p), fx(q))
            })
            .collect()
    }

    fn update(kind: BookUpdateKind, bids: &str, asks: &str) -> BookUpdate {
        BookUpdate {
            symbol: 0,
            time: 1,
            kind,
            bids: levels(bids),
            asks: levels(asks),
        }
    }

    /// BTCUSDT: bids 99 x 5, 98 x 5; asks 101 x 2, 102 x 3, 103 x 10; last price 100.
    fn market() -> MarketData {
        let mut m = MarketData::default();
        m.add_symbol("BTCUSDT");
        m.marks.set(0, fx("100"));
        m.apply_book(&update(
            BookUpdateKind::Snapshot,
            "99:5 98:5",
            "101:2 102:3 103:10",
        ));
        m
    }

    fn order(id: u64, side: Side, qty: &str, order_type: OrderType) -> VenueOrder {
        VenueOrder {
            id,
            owner: crate::model::DeploymentId(0),
            symbol: 0,
            side,
            amount: Amount::Base(fx(qty)),
            order_type,
            iceberg: None,
            spend_cap: None,
            venue: 0,
        }
    }

    fn limit(price: &str, time_in_force: TimeInForce) -> OrderType {
        OrderType::Limit {
            price: fx(price),
            time_in_force,
        }
    }

    fn trade(price: f64, quantity: f64, aggressor: Side) -> MarketEvent {
        MarketEvent::Trade(TradePrint {
            symbol: 0,
            time: 2,
            trade_id: 1,
            price,
            quantity,
            aggressor,
        })
    }

    /// Fills as (order, quantity@price, liquidity, complete).
    fn fills(reports: &[VenueReport]) -> Vec<String> {
        reports
            .iter()
            .filter_map(|r| match r.kind {
                ReportKind::Fill {
                    price,
                    quantity,
                    liquidity,
                    complete,
                    ..
                } => Some(format!(
                    "{} {quantity}@{price} {liquidity:?}{}",
                    r.order_id,
                    if complete { " done" } else { "" }
                )),
                _ => None,
            })
            .collect()
    }

    fn kinds(reports: &[VenueReport], id: u64) -> Vec<&ReportKind> {
        reports
            .iter()
            .filter(|r| r.order_id == id)
            .map(|r| &r.kind)
            .collect()
    }

    fn venue() -> BookVenue {
        BookVenue::new(BookFillConfig::default())
    }

    #[test]
    fn takers_walk_the_levels_and_never_take_liquidity_twice() {
        let mut m = market();
        let mut v = venue();
        let mut out = Vec::new();
        v.place(order(1, Side::Buy, "4", OrderType::Market), 0, &m, &mut out);
        v.place(order(2, Side::Buy, "4", OrderType::Market), 0, &m, &mut out);
        assert_eq!(
            fills(&out),
            [
                "1 2@101 Taker",
                "1 2@102 Taker done",
                "2 1@102 Taker",
                "2 3@103 Taker done"
            ]
        );
        // 101 empties; 102 falls by 2 (the market took 2 of the 3 we had taken): nothing there
        // is ours to take again yet.
        m.apply_book(&update(BookUpdateKind::Diff, "", "101:0 102:1"));
        v.on_event(
            &MarketEvent::Book(update(BookUpdateKind::Diff, "", "101:0 102:1")),
            &m,
            &mut out,
        );
        out.clear();
        v.place(
            order(3, Side::Buy, "0.5", limit("102", TimeInForce::Ioc)),
            0,
            &m,
            &mut out,
        );
        assert!(fills(&out).is_empty());
        assert_eq!(
            kinds(&out, 3),
            [&ReportKind::Accepted, &ReportKind::Expired]
        );
        // The level refills: what is new is available.
        m.apply_book(&update(BookUpdateKind::Diff, "", "102:1.5"));
        v.on_event(
            &MarketEvent::Book(update(BookUpdateKind::Diff, "", "102:1.5")),
            &m,
            &mut out,
        );
        out.clear();
        v.place(
            order(4, Side::Buy, "1", limit("102", TimeInForce::Ioc)),
            0,
            &m,
            &mut out,
        );
        assert_eq!(fills(&out), ["4 0.5@102 Taker"]);
    }

    #[test]
    fn fill_or_kill_and_immediate_or_cancel() {
        let m = market();
        let mut v = venue();
        let mut out = Vec::new();
        v.place(
            order(1, Side::Buy, "20", limit("103", TimeInForce::Fok)),
            0,
            &m,
            &mut out,
        );
        assert_eq!(
            kinds(&out, 1),
            [&ReportKind::Accepted, &ReportKind::Expired]
        );
        v.place(
            order(2, Side::Buy, "20", limit("102", TimeInForce::Ioc)),
            0,
            &m,
            &mut out,
        );
        assert_eq!(fills(&out), ["2 2@101 Taker", "2 3@102 Taker"]);
        assert_eq!(out.last().unwrap().kind, ReportKind::Expired);
        v.place(
            order(3, Side::Sell, "6", limit("98", TimeInForce::Fok)),
            0,
            &m,
            &mut out,
        );
        assert_eq!(fills(&out)[2..], ["3 5@99 Taker", "3 1@98 Taker done"]);
    }

    #[test]
    fn resting_orders_advance_by_trades_and_fill_as_makers() {
        let m = market();
        let mut v = venue();
        let mut out = Vec::new();
        v.place(
            order(1, Side::Buy, "1", limit("99", TimeInForce::Gtc)),
            0,
            &m,
            &mut out,
        );
        v.place(
            order(2, Side::Buy, "2", limit("98", TimeInForce::Gtc)),
            0,
            &m,
            &mut out,
        );
        out.clear();
        v.on_event(&trade(99.0, 3.0, Side::Sell), &m, &mut out);
        assert!(fills(&out).is_empty(), "5 ahead, 3 traded");
        v.on_event(&trade(99.0, 3.0, Side::Sell), &m, &mut out);
        assert_eq!(fills(&out), ["1 1@99 Maker done"]);
        out.clear();
        v.on_event(&trade(98.0, 6.0, Side::Sell), &m, &mut out);
        assert_eq!(fills(&out), ["2 1@98 Maker"], "1 past the 5 ahead");
        out.clear();
        // A trade through the price fills the rest at the order's own price.
        v.on_event(&trade(97.5, 0.1, Side::Sell), &m, &mut out);
        assert_eq!(fills(&out), ["2 1@98 Maker done"]);
        // A buyer's trade does not touch bids.
        v.place(
            order(3, Side::Buy, "1", limit("99", TimeInForce::Gtc)),
            0,
            &m,
            &mut out,
        );
        out.clear();
        v.on_event(&trade(99.0, 100.0, Side::Buy), &m, &mut out);
        assert!(fills(&out).is_empty());
    }

    #[test]
    fn a_trade_that_fills_an_earlier_order_does_not_advance_a_later_one() {
        let m = market();
        let mut v = venue();
        let mut out = Vec::new();
        for id in [1, 2] {
            v.place(
                order(id, Side::Buy, "1", limit("99", TimeInForce::Gtc)),
                0,
                &m,
                &mut out,
            );
        }
        out.clear();
        // 5 ahead of order 1, and order 1 ahead of order 2 (a later order queues behind ours
        // too); 6 traded: the 5, then order 1. Nothing is left for order 2, now at the front.
        v.on_event(&trade(99.0, 6.0, Side::Sell), &m, &mut out);
        assert_eq!(fills(&out), ["1 1@99 Maker done"]);
        out.clear();
        v.on_event(&trade(99.0, 0.5, Side::Sell), &m, &mut out);
        assert_eq!(fills(&out), ["2 0.5@99 Maker"]);
    }

    #[test]
    fn liquidity_reaching_a_resting_order_fills_it_at_its_price() {
        let mut m = market();
        let mut v = venue();
        let mut out = Vec::new();
        v.place(
            order(1, Side::Buy, "1", limit("100", TimeInForce::Gtc)),
            0,
            &m,
            &mut out,
        );
        let diff =
            |m: &mut MarketData, v: &mut BookVenue, asks: &str, out: &mut Vec<VenueReport>| {
                let u = update(BookUpdateKind::Diff, "", asks);
                m.apply_book(&u);
                v.on_event(&MarketEvent::Book(u), m, out);
            };
        diff(&mut m, &mut v, "100:0.4", &mut out);
        assert_eq!(fills(&out), ["1 0.4@100 Maker"]);
        diff(&mut m, &mut v, "100:0.4 103:9", &mut out);
        assert_eq!(fills(&out).len(), 1, "nothing new at 100");
        diff(&mut m, &mut v, "100:1", &mut out);
        assert_eq!(fills(&out)[1], "1 0.6@100 Maker done");
    }

    #[test]
    fn makers_that_would_take_and_stops_that_would_trigger_are_refused() {
        let m = market();
        let mut v = venue();
        let mut out = Vec::new();
        let maker = |price: &str| OrderType::LimitMaker { price: fx(price) };
        v.place(order(1, Side::Buy, "1", maker("101")), 0, &m, &mut out);
        v.place(order(2, Side::Buy, "1", maker("100")), 0, &m, &mut out);
        let stop = |p: &str| OrderType::StopLoss {
            trigger: Trigger::Price(fx(p)),
        };
        v.place(order(3, Side::Sell, "1", stop("100.5")), 0, &m, &mut out);
        v.place(order(4, Side::Sell, "1", stop("98.5")), 0, &m, &mut out);
        let rejected = |id| {
            kinds(&out, id).iter().find_map(|k| match k {
                ReportKind::Rejected(r) => Some(r.code),
                _ => None,
            })
        };
        assert_eq!(rejected(1), Some(RejectCode::WouldTakeLiquidity));
        assert_eq!(rejected(2), None);
        assert_eq!(rejected(3), Some(RejectCode::WouldTriggerImmediately));
        assert_eq!(rejected(4), None);
        out.clear();
        // The stop triggers on a trade at its price and sells into the bids; the same trade
        // printed below the resting maker bid at 100, which it fills.
        v.on_event(&trade(98.5, 0.1, Side::Sell), &m, &mut out);
        assert_eq!(kinds(&out, 4)[0], &ReportKind::Triggered);
        assert_eq!(fills(&out), ["4 1@99 Taker done", "2 1@100 Maker done"]);
    }

    #[test]
    fn icebergs_show_their_visible_part_and_rejoin_the_queue() {
        let m = market();
        let mut v = venue();
        let mut out = Vec::new();
        let iceberg = VenueOrder {
            iceberg: Some(fx("1")),
            ..order(1, Side::Sell, "3", limit("104", TimeInForce::Gtc))
        };
        v.place(iceberg, 0, &m, &mut out);
        out.clear();
        v.on_event(&trade(104.0, 1.5, Side::Buy), &m, &mut out);
        assert_eq!(fills(&out), ["1 1@104 Maker"], "only the visible part");
        v.on_event(&trade(104.0, 1.5, Side::Buy), &m, &mut out);
        v.on_event(&trade(104.0, 1.5, Side::Buy), &m, &mut out);
        assert_eq!(
            fills(&out),
            ["1 1@104 Maker", "1 1@104 Maker", "1 1@104 Maker done"]
        );
    }

    #[test]
    fn quote_amounts_and_spend_caps_bound_takers() {
        let m = market();
        let mut v = venue();
        let mut out = Vec::new();
        let quote = VenueOrder {
            amount: Amount::Quote(fx("303")),
            ..order(1, Side::Buy, "0", OrderType::Market)
        };
        v.place(quote, 0, &m, &mut out);
        // 2 @ 101 = 202, then 101 left buys 0.99019607 @ 102.
        assert_eq!(
            fills(&out),
            ["1 2@101 Taker", "1 0.99019607@102 Taker done"]
        );
        out.clear();
        let capped = VenueOrder {
            spend_cap: Some(fx("306.306")),
            ..order(2, Side::Buy, "5", OrderType::Market)
        };
        v.place(capped, 0, &m, &mut out);
        // 102 has 2.00980393 left, then 103: 306.306 pays 3 units at 102.102 with the fee.
        let f = fills(&out);
        assert!(f[0].starts_with("2 2.00980393@102"), "{f:?}");
        assert_eq!(out.last().unwrap().kind, ReportKind::Expired, "{f:?}");
    }
}
