//! A deployment's paper account: cash, positions, open orders, the order-rate window and the
//! day's starting equity, with the pre-trade check against its [`Budget`].

use super::budget::{Budget, RejectCode, Rejection};
use crate::model::{
    Fill, Fixed, Order, OrderKind, OrderRequest, OrderStatus, Side, SymbolId, TimestampMs,
};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

const DAY_MS: i64 = 86_400_000;

/// The latest price of each symbol, indexed by symbol id.
#[derive(Clone, Debug, Default)]
pub struct Marks(Vec<Option<Fixed>>);

impl Marks {
    /// The latest price of `symbol`.
    pub fn get(&self, symbol: SymbolId) -> Option<Fixed> {
        self.0.get(symbol as usize).copied().flatten()
    }

    /// Records the latest price of `symbol`.
    pub fn set(&mut self, symbol: SymbolId, price: Fixed) {
        let i = symbol as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        self.0[i] = Some(price);
    }
}

/// Net position in one symbol.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Position {
    /// Signed base quantity: negative when short.
    pub quantity: Fixed,
    /// Average entry price of the open quantity.
    pub average_price: Fixed,
    /// Profit realised by closing trades, after fees of those trades.
    pub realized_pnl: Fixed,
}

/// Cash, positions and open orders of one deployment, checked against its budget.
#[derive(Clone, Debug)]
pub struct Account {
    budget: Budget,
    limits: Limits,
    cash: Fixed,
    positions: BTreeMap<SymbolId, Position>,
    open_orders: BTreeMap<u64, Order>,
    /// Per symbol: position plus the signed remaining quantity of open orders. Kept up to
    /// date on accept, cancel and expiry (a fill moves quantity from order to position).
    committed: BTreeMap<SymbolId, Fixed>,
    recent_accepts: VecDeque<TimestampMs>,
    day: i64,
    day_start_equity: Fixed,
}

/// The budget in exact values.
#[derive(Clone, Copy, Debug)]
struct Limits {
    order_notional: Fixed,
    position_notional: Fixed,
    gross_exposure: Fixed,
    daily_loss: Fixed,
}

impl Account {
    /// A fresh account holding the budget's capital in cash.
    pub fn new(budget: Budget) -> Self {
        let capital = Budget::fixed(budget.capital);
        Account {
            limits: Limits {
                order_notional: Budget::fixed(budget.max_order_notional),
                position_notional: Budget::fixed(budget.max_position_notional),
                gross_exposure: Budget::fixed(budget.max_gross_exposure),
                daily_loss: Budget::fixed(budget.max_daily_loss),
            },
            budget,
            cash: capital,
            positions: BTreeMap::new(),
            open_orders: BTreeMap::new(),
            committed: BTreeMap::new(),
            recent_accepts: VecDeque::new(),
            day: i64::MIN,
            day_start_equity: capital,
        }
    }

    /// The budget.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Cash in the quote asset.
    pub fn cash(&self) -> Fixed {
        self.cash
    }

    /// Positions by symbol, including flat ones that have realised PnL.
    pub fn positions(&self) -> impl Iterator<Item = (SymbolId, &Position)> {
        self.positions.iter().map(|(&s, p)| (s, p))
    }

    /// Orders still open.
    pub fn open_orders(&self) -> impl Iterator<Item = &Order> {
        self.open_orders.values()
    }

    /// Cash plus positions marked to market.
    pub fn equity(&self, marks: &Marks) -> Fixed {
        self.positions.iter().fold(self.cash, |eq, (&sym, p)| {
            let mark = marks.get(sym).unwrap_or(p.average_price);
            eq.saturating_add(p.quantity.saturating_mul(mark))
        })
    }

    /// Sum of absolute position notionals.
    pub fn gross_exposure(&self, marks: &Marks) -> Fixed {
        self.positions.iter().fold(Fixed::ZERO, |g, (&sym, p)| {
            let mark = marks.get(sym).unwrap_or(p.average_price);
            g.saturating_add(p.quantity.abs().saturating_mul(mark))
        })
    }

    /// Equity change since the start of the current UTC day.
    pub fn daily_pnl(&self, marks: &Marks) -> Fixed {
        self.equity(marks).saturating_sub(self.day_start_equity)
    }

    /// Starts a new day's loss count when `now` is in a later UTC day.
    pub fn roll_day(&mut self, now: TimestampMs, marks: &Marks) {
        let day = now.div_euclid(DAY_MS);
        if day != self.day {
            self.day = day;
            self.day_start_equity = self.equity(marks);
        }
    }

    fn position_qty(&self, symbol: SymbolId) -> Fixed {
        self.positions
            .get(&symbol)
            .map_or(Fixed::ZERO, |p| p.quantity)
    }

    /// Position plus the signed remaining quantity of open orders in `symbol`.
    fn committed_qty(&self, symbol: SymbolId) -> Fixed {
        self.committed.get(&symbol).copied().unwrap_or(Fixed::ZERO)
    }

    /// Removes an order's remaining quantity from the committed total.
    fn release(&mut self, order: &Order) {
        let remaining = order.request.quantity.saturating_sub(order.filled);
        let signed = if order.request.side == Side::Buy {
            remaining
        } else {
            -remaining
        };
        let entry = self.committed.entry(order.request.symbol).or_default();
        *entry = entry.saturating_sub(signed);
    }

    /// Checks `request` against the budget at event time `now`; on success records it as an
    /// open order with id `order_id` owned by `owner`.
    pub fn pre_trade_check(
        &mut self,
        request: OrderRequest,
        order_id: u64,
        owner: &Arc<str>,
        now: TimestampMs,
        marks: &Marks,
    ) -> Result<(), Rejection> {
        let symbol = request.symbol;
        let mark = marks.get(symbol);
        let reference = match request.kind {
            OrderKind::Limit(p) | OrderKind::StopLimit { limit: p, .. } => p,
            OrderKind::Stop(p) => mark.map_or(p, |m| m.max(p)),
            OrderKind::Market => mark.ok_or_else(|| {
                Rejection::new(
                    RejectCode::UnknownSymbol,
                    format!("no price yet for symbol {symbol}"),
                )
            })?,
        };
        let signed = if request.side == Side::Buy {
            request.quantity
        } else {
            -request.quantity
        };

        let position = self.position_qty(symbol);
        if request.reduce_only {
            let reduces = position.raw() != 0
                && position.raw().signum() != signed.raw().signum()
                && request.quantity <= position.abs();
            if !reduces {
                return Err(Rejection::new(
                    RejectCode::ReduceOnly,
                    format!(
                        "reduce-only {:?} of {} would not reduce position {}",
                        request.side, request.quantity, position
                    ),
                ));
            }
        }

        let notional = request.quantity.saturating_mul(reference);
        if notional > self.limits.order_notional {
            return Err(Rejection::new(
                RejectCode::MaxOrderNotional,
                format!(
                    "order notional {notional} exceeds max_order_notional {}",
                    self.limits.order_notional
                ),
            ));
        }

        while self
            .recent_accepts
            .front()
            .is_some_and(|&t| t <= now - 1000)
        {
            self.recent_accepts.pop_front();
        }
        if self.recent_accepts.len() >= self.budget.max_orders_per_second as usize {
            return Err(Rejection::new(
                RejectCode::MaxOrdersPerSecond,
                format!(
                    "{} orders already accepted in the last second (max_orders_per_second {})",
                    self.recent_accepts.len(),
                    self.budget.max_orders_per_second
                ),
            ));
        }

        let committed = self.committed_qty(symbol);
        let projected = committed.saturating_add(signed);
        let adds_exposure = projected.abs() > committed.abs();
        if adds_exposure {
            let daily = self.daily_pnl(marks);
            if -daily >= self.limits.daily_loss {
                return Err(Rejection::new(
                    RejectCode::MaxDailyLoss,
                    format!(
                        "today's loss {} reached max_daily_loss {}; only orders that reduce exposure are accepted",
                        -daily, self.limits.daily_loss
                    ),
                ));
            }
            let position_notional = projected.abs().saturating_mul(reference);
            if position_notional > self.limits.position_notional {
                return Err(Rejection::new(
                    RejectCode::MaxPosition,
                    format!(
                        "position notional would be {position_notional}, above max_position_notional {}",
                        self.limits.position_notional
                    ),
                ));
            }
            let others = self.committed.iter().filter(|&(&s, _)| s != symbol).fold(
                Fixed::ZERO,
                |g, (&s, q)| {
                    let price = marks
                        .get(s)
                        .or_else(|| self.positions.get(&s).map(|p| p.average_price))
                        .unwrap_or(Fixed::ZERO);
                    g.saturating_add(q.abs().saturating_mul(price))
                },
            );
            let gross = others.saturating_add(position_notional);
            if gross > self.limits.gross_exposure {
                return Err(Rejection::new(
                    RejectCode::MaxGrossExposure,
                    format!(
                        "gross exposure would be {gross}, above max_gross_exposure {}",
                        self.limits.gross_exposure
                    ),
                ));
            }
        }

        self.recent_accepts.push_back(now);
        self.committed.insert(symbol, projected);
        self.open_orders.insert(
            order_id,
            Order {
                id: order_id,
                owner: owner.clone(),
                request,
                status: OrderStatus::Accepted,
                filled: Fixed::ZERO,
                triggered: false,
                time: now,
            },
        );
        Ok(())
    }

    /// Cancels an open order.
    pub fn cancel(&mut self, order_id: u64) -> Result<Order, String> {
        let mut order = self
            .open_orders
            .remove(&order_id)
            .ok_or_else(|| format!("order {order_id} is not open"))?;
        self.release(&order);
        order.status = OrderStatus::Cancelled;
        Ok(order)
    }

    /// Mutable access to the open orders, for the venue to match.
    pub fn open_orders_mut(&mut self) -> impl Iterator<Item = &mut Order> {
        self.open_orders.values_mut()
    }

    /// Removes an order whose time in force ended.
    pub fn expire(&mut self, order_id: u64) -> Option<Order> {
        let mut order = self.open_orders.remove(&order_id)?;
        self.release(&order);
        order.status = OrderStatus::Expired;
        Some(order)
    }

    /// Applies an execution of open order `order_id`: moves cash and the position, and closes
    /// the order when it is complete. Returns the fill.
    pub fn apply_execution(
        &mut self,
        order_id: u64,
        price: Fixed,
        quantity: Fixed,
        fee: Fixed,
        time: TimestampMs,
    ) -> Option<Fill> {
        let order = self.open_orders.get_mut(&order_id)?;
        order.filled = order.filled.saturating_add(quantity);
        order.status = if order.filled >= order.request.quantity {
            OrderStatus::Filled
        } else {
            OrderStatus::PartiallyFilled
        };
        let fill = Fill {
            order_id,
            client_id: order.request.client_id,
            owner: order.owner.clone(),
            symbol: order.request.symbol,
            side: order.request.side,
            price,
            quantity,
            fee,
            time,
            status: order.status,
        };
        if order.status == OrderStatus::Filled {
            self.open_orders.remove(&order_id);
        }
        let notional = price.saturating_mul(quantity);
        self.cash = match fill.side {
            Side::Buy => self.cash.saturating_sub(notional).saturating_sub(fee),
            Side::Sell => self.cash.saturating_add(notional).saturating_sub(fee),
        };
        let position = self.positions.entry(fill.symbol).or_default();
        let signed = if fill.side == Side::Buy {
            quantity
        } else {
            -quantity
        };
        let before = position.quantity;
        let after = before.saturating_add(signed);
        position.realized_pnl = position.realized_pnl.saturating_sub(fee);
        if before.raw() == 0 || before.raw().signum() == signed.raw().signum() {
            // Opening or adding: new weighted average entry.
            let cost = before
                .abs()
                .saturating_mul(position.average_price)
                .saturating_add(notional);
            position.average_price = Fixed::from_raw(
                (i128::from(cost.raw()) * i128::from(Fixed::SCALE)
                    / i128::from(after.abs().raw().max(1))) as i64,
            );
        } else {
            // Reducing, closing or flipping.
            let closed = quantity.min(before.abs());
            let per_unit = if before.raw() > 0 {
                price.saturating_sub(position.average_price)
            } else {
                position.average_price.saturating_sub(price)
            };
            position.realized_pnl = position
                .realized_pnl
                .saturating_add(per_unit.saturating_mul(closed));
            if after.raw() == 0 {
                position.average_price = Fixed::ZERO;
            } else if after.raw().signum() != before.raw().signum() {
                position.average_price = price;
            }
        }
        position.quantity = after;
        Some(fill)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TimeInForce;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    fn budget() -> Budget {
        Budget {
            capital: 10_000.0,
            max_order_notional: 1_000.0,
            max_position_notional: 1_500.0,
            max_gross_exposure: 2_000.0,
            max_orders_per_second: 3,
            max_daily_loss: 100.0,
        }
    }

    fn market(symbol: SymbolId, side: Side, qty: &str) -> OrderRequest {
        OrderRequest {
            client_id: 0,
            symbol,
            side,
            quantity: fx(qty),
            kind: OrderKind::Market,
            time_in_force: TimeInForce::Gtc,
            reduce_only: false,
        }
    }

    fn marks() -> Marks {
        let mut m = Marks::default();
        m.set(0, fx("100"));
        m.set(1, fx("10"));
        m
    }

    #[test]
    fn each_limit_rejects_only_the_order_that_breaks_it() {
        let owner: Arc<str> = "s".into();
        let m = marks();
        let mut a = Account::new(budget());
        a.roll_day(0, &m);
        // Order notional: 10 @ 100 = 1000 passes, 10.01 fails.
        assert!(
            a.pre_trade_check(market(0, Side::Buy, "10.01"), 1, &owner, 0, &m)
                .is_err_and(|r| r.code == RejectCode::MaxOrderNotional)
        );
        a.pre_trade_check(market(0, Side::Buy, "10"), 2, &owner, 0, &m)
            .unwrap();
        // Position: 5 more (1500 total) passes, then 0.01 more fails.
        a.pre_trade_check(market(0, Side::Buy, "5"), 3, &owner, 0, &m)
            .unwrap();
        assert_eq!(
            a.pre_trade_check(market(0, Side::Buy, "0.01"), 4, &owner, 0, &m)
                .unwrap_err()
                .code,
            RejectCode::MaxPosition
        );
        // Rate: a third order in this second passes, a fourth fails.
        a.pre_trade_check(market(1, Side::Buy, "1"), 5, &owner, 0, &m)
            .unwrap();
        assert_eq!(
            a.pre_trade_check(market(1, Side::Buy, "1"), 6, &owner, 0, &m)
                .unwrap_err()
                .code,
            RejectCode::MaxOrdersPerSecond
        );
        // A second later: gross 1500 + 50 @ 10 = 2000 passes, 50.01 would fail.
        assert_eq!(
            a.pre_trade_check(market(1, Side::Buy, "49.01"), 7, &owner, 1000, &m)
                .unwrap_err()
                .code,
            RejectCode::MaxGrossExposure
        );
        a.pre_trade_check(market(1, Side::Buy, "49"), 8, &owner, 1000, &m)
            .unwrap();
        // Orders that reduce are accepted whatever the exposure.
        a.pre_trade_check(market(0, Side::Sell, "1"), 9, &owner, 1000, &m)
            .unwrap();
    }

    #[test]
    fn fills_move_cash_positions_and_pnl() {
        let owner: Arc<str> = "s".into();
        let mut m = marks();
        let mut a = Account::new(budget());
        a.roll_day(0, &m);
        a.pre_trade_check(market(0, Side::Buy, "2"), 1, &owner, 0, &m)
            .unwrap();
        let fill = a
            .apply_execution(1, fx("100"), fx("2"), fx("0.2"), 60_000)
            .unwrap();
        assert_eq!(fill.status, OrderStatus::Filled);
        assert_eq!(a.cash(), fx("9799.8"));
        m.set(0, fx("110"));
        assert_eq!(a.equity(&m), fx("10019.8"));
        a.pre_trade_check(market(0, Side::Sell, "2").clone(), 2, &owner, 60_000, &m)
            .unwrap();
        a.apply_execution(2, fx("110"), fx("2"), fx("0.22"), 120_000)
            .unwrap();
        let (_, p) = a.positions().next().unwrap();
        assert_eq!(p.quantity, Fixed::ZERO);
        assert_eq!(p.realized_pnl, fx("19.58"));
        assert_eq!(a.cash(), fx("10019.58"));
    }

    #[test]
    fn cancelled_and_expired_orders_release_their_exposure() {
        let owner: Arc<str> = "s".into();
        let m = marks();
        let mut a = Account::new(Budget {
            max_orders_per_second: 100,
            ..budget()
        });
        a.roll_day(0, &m);
        a.pre_trade_check(market(0, Side::Buy, "10"), 1, &owner, 0, &m)
            .unwrap();
        a.pre_trade_check(market(0, Side::Buy, "5"), 2, &owner, 0, &m)
            .unwrap();
        assert_eq!(
            a.pre_trade_check(market(0, Side::Buy, "1"), 3, &owner, 0, &m)
                .unwrap_err()
                .code,
            RejectCode::MaxPosition
        );
        a.cancel(2).unwrap();
        a.expire(1).unwrap();
        a.pre_trade_check(market(0, Side::Buy, "10"), 4, &owner, 0, &m)
            .unwrap();
        a.apply_execution(4, fx("100"), fx("10"), Fixed::ZERO, 0)
            .unwrap();
        a.pre_trade_check(market(0, Side::Buy, "5"), 5, &owner, 0, &m)
            .unwrap();
        assert_eq!(
            a.pre_trade_check(market(0, Side::Buy, "1"), 6, &owner, 0, &m)
                .unwrap_err()
                .code,
            RejectCode::MaxPosition
        );
        assert!(a.cancel(1).is_err(), "an order can be cancelled once");
    }

    #[test]
    fn daily_loss_blocks_new_exposure_but_not_reductions() {
        let owner: Arc<str> = "s".into();
        let mut m = marks();
        let mut a = Account::new(budget());
        a.roll_day(0, &m);
        a.pre_trade_check(market(0, Side::Buy, "10"), 1, &owner, 0, &m)
            .unwrap();
        a.apply_execution(1, fx("100"), fx("10"), Fixed::ZERO, 0)
            .unwrap();
        m.set(0, fx("90"));
        assert_eq!(
            a.pre_trade_check(market(0, Side::Buy, "1"), 2, &owner, 5000, &m)
                .unwrap_err()
                .code,
            RejectCode::MaxDailyLoss
        );
        a.pre_trade_check(market(0, Side::Sell, "1"), 3, &owner, 5000, &m)
            .unwrap();
        // Reduce-only that would flip is refused.
        assert_eq!(
            a.pre_trade_check(
                OrderRequest {
                    reduce_only: true,
                    ..market(0, Side::Sell, "11")
                },
                4,
                &owner,
                5000,
                &m
            )
            .unwrap_err()
            .code,
            RejectCode::ReduceOnly
        );
    }
}
