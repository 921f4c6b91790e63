//! A market maker: on every book update it quotes `quantity` on both sides at the best bid
//! and ask with post-only (limit-maker) orders, moves a quote by cancel-replace when the touch
//! moves, and stops quoting the side that would take its position past `max_position`. With
//! `inside_ticks` it quotes that many ticks inside the spread where the spread allows.
//! Config: `{"quantity": 0.001, "max_position": 0.01, "inside_ticks": 0}`.
//!
//! On spot it can sell only what it holds: give its budget some of the base asset.

use stratbox_guest::prelude::*;

/// One side's working quote: its order id and price.
type Quote = Option<(u64, f64)>;

struct MarketMaker {
    quantity: f64,
    max_position: f64,
    inside_ticks: f64,
    /// The symbol's tick, once read.
    tick: Option<f64>,
    position: f64,
    bid: Quote,
    ask: Quote,
}

impl MarketMaker {
    /// Keeps `slot`'s quote as `order` at `price`: places it, moves the working quote to it,
    /// or cancels the working quote when there is no order for the side.
    fn quote(slot: &mut Quote, order: Option<Order>, price: f64) {
        match (order, *slot) {
            (None, Some((id, _))) => {
                if orders::cancel(id).is_ok() {
                    *slot = None;
                }
            }
            (Some(order), None) => *slot = order.submit().ok().map(|id| (id, price)),
            (Some(order), Some((id, p))) if p != price => {
                *slot = order.replace(id).ok().map(|id| (id, price));
            }
            _ => {}
        }
    }
}

impl Strategy for MarketMaker {
    fn init(cfg: &str) -> Result<Self, String> {
        let quantity = config::number(cfg, "quantity").unwrap_or(0.001);
        let max_position = config::number(cfg, "max_position").unwrap_or(quantity * 10.0);
        if quantity.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err(format!("quantity must be positive, got {quantity}"));
        }
        Ok(MarketMaker {
            quantity,
            max_position,
            inside_ticks: config::number(cfg, "inside_ticks").unwrap_or(0.0).max(0.0),
            tick: None,
            position: 0.0,
            bid: None,
            ask: None,
        })
    }

    fn on_book(&mut self, top: &TopOfBook) {
        let (mut bid, mut ask) = (top.bid.price, top.ask.price);
        if !(bid > 0.0 && bid < ask) {
            return;
        }
        let tick = *self
            .tick
            .get_or_insert_with(|| market::symbol_info(top.symbol).map_or(0.0, |i| i.tick_size));
        let inside = self.inside_ticks * tick;
        if inside > 0.0 && ask - bid > 2.0 * inside + tick / 2.0 {
            let floor = |x: f64| (x / tick).round() * tick;
            bid = floor(bid + inside);
            ask = floor(ask - inside);
        }
        let q = self.quantity;
        let buy = (self.position + q <= self.max_position + 1e-12)
            .then(|| Order::limit_maker(top.symbol, Side::Buy, q, bid));
        let sell = (self.position - q >= -self.max_position - 1e-12)
            .then(|| Order::limit_maker(top.symbol, Side::Sell, q, ask));
        Self::quote(&mut self.bid, buy, bid);
        Self::quote(&mut self.ask, sell, ask);
    }

    fn on_order_update(&mut self, update: &OrderUpdate) {
        if let Some(fill) = &update.execution {
            self.position += match update.side {
                Side::Buy => fill.quantity,
                Side::Sell => -fill.quantity,
            };
        }
        let ended = matches!(
            update.status,
            OrderStatus::Filled
                | OrderStatus::Cancelled
                | OrderStatus::Expired
                | OrderStatus::Rejected
        );
        if ended {
            for slot in [&mut self.bid, &mut self.ask] {
                if slot.is_some_and(|(id, _)| id == update.order_id) {
                    *slot = None;
                }
            }
        }
    }
}

export_strategy!(MarketMaker);
