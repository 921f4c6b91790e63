//! A builder for order requests of every Binance spot type:
//! `Order::limit(sym, Side::Buy, 0.5, 101.0).ioc().submit()`,
//! `Order::stop_loss(sym, Side::Sell, 0.5, 95.0).trailing(150).submit()`.

use crate::bindings::stratbox::strategy::orders;
use crate::bindings::stratbox::strategy::types::{LimitOrder, TrailingStop, TriggeredLimit};
use crate::{
    Amount, CancelReplaceMode, OrderRejected, OrderRequest, OrderType, Side, SymbolId, TimeInForce,
    Trigger,
};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// An order being built; [`Order::submit`] sends it through the host's risk checks.
#[derive(Clone, Debug)]
pub struct Order(OrderRequest);

impl Order {
    fn new(symbol: SymbolId, side: Side, amount: Amount, order_type: OrderType) -> Self {
        Order(OrderRequest {
            client_id: NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed),
            symbol,
            side,
            amount,
            order_type,
            iceberg_quantity: None,
            reduce_only: false,
        })
    }

    /// A market order for `quantity` of the base asset.
    pub fn market(symbol: SymbolId, side: Side, quantity: f64) -> Self {
        Self::new(symbol, side, Amount::Base(quantity), OrderType::Market)
    }

    /// A market order spending (buy) or raising (sell) `quote` of the quote asset (Binance's
    /// `quoteOrderQty`).
    pub fn market_quote(symbol: SymbolId, side: Side, quote: f64) -> Self {
        Self::new(symbol, side, Amount::Quote(quote), OrderType::Market)
    }

    /// A good-till-cancelled limit order at `price`.
    pub fn limit(symbol: SymbolId, side: Side, quantity: f64, price: f64) -> Self {
        let order_type = OrderType::Limit(LimitOrder {
            price,
            time_in_force: TimeInForce::Gtc,
        });
        Self::new(symbol, side, Amount::Base(quantity), order_type)
    }

    /// A post-only limit order at `price`: refused if it would take liquidity.
    pub fn limit_maker(symbol: SymbolId, side: Side, quantity: f64, price: f64) -> Self {
        Self::new(
            symbol,
            side,
            Amount::Base(quantity),
            OrderType::LimitMaker(price),
        )
    }

    /// A stop-loss market order: a buy triggers when the price rises to `stop`, a sell when it
    /// falls to it.
    pub fn stop_loss(symbol: SymbolId, side: Side, quantity: f64, stop: f64) -> Self {
        let order_type = OrderType::StopLoss(Trigger::Price(stop));
        Self::new(symbol, side, Amount::Base(quantity), order_type)
    }

    /// A stop-loss limit order: a limit order at `limit` once `stop` triggers.
    pub fn stop_loss_limit(
        symbol: SymbolId,
        side: Side,
        quantity: f64,
        stop: f64,
        limit: f64,
    ) -> Self {
        let order_type = OrderType::StopLossLimit(TriggeredLimit {
            trigger: Trigger::Price(stop),
            price: limit,
            time_in_force: TimeInForce::Gtc,
        });
        Self::new(symbol, side, Amount::Base(quantity), order_type)
    }

    /// A take-profit market order: a sell triggers when the price rises to `stop`, a buy when it
    /// falls to it.
    pub fn take_profit(symbol: SymbolId, side: Side, quantity: f64, stop: f64) -> Self {
        let order_type = OrderType::TakeProfit(Trigger::Price(stop));
        Self::new(symbol, side, Amount::Base(quantity), order_type)
    }

    /// A take-profit limit order: a limit order at `limit` once `stop` triggers.
    pub fn take_profit_limit(
        symbol: SymbolId,
        side: Side,
        quantity: f64,
        stop: f64,
        limit: f64,
    ) -> Self {
        let order_type = OrderType::TakeProfitLimit(TriggeredLimit {
            trigger: Trigger::Price(stop),
            price: limit,
            time_in_force: TimeInForce::Gtc,
        });
        Self::new(symbol, side, Amount::Base(quantity), order_type)
    }

    /// A trailing stop-loss market order, trailing from now by `delta_bps` basis points.
    pub fn trailing_stop_loss(symbol: SymbolId, side: Side, quantity: f64, delta_bps: u32) -> Self {
        let trigger = Trigger::Trailing(TrailingStop {
            delta_bps,
            activation_price: None,
        });
        Self::new(
            symbol,
            side,
            Amount::Base(quantity),
            OrderType::StopLoss(trigger),
        )
    }

    /// A trailing take-profit market order, trailing from now by `delta_bps` basis points.
    pub fn trailing_take_profit(
        symbol: SymbolId,
        side: Side,
        quantity: f64,
        delta_bps: u32,
    ) -> Self {
        let trigger = Trigger::Trailing(TrailingStop {
            delta_bps,
            activation_price: None,
        });
        Self::new(
            symbol,
            side,
            Amount::Base(quantity),
            OrderType::TakeProfit(trigger),
        )
    }

    /// Makes a stop or take-profit order trail by `delta_bps` basis points, starting when the
    /// price reaches its stop price (Binance's `stopPrice` with `trailingDelta`). No effect on
    /// other types.
    pub fn trailing(mut self, delta_bps: u32) -> Self {
        let trail = |t: &mut Trigger| {
            let activation_price = match *t {
                Trigger::Price(p) => Some(p),
                Trigger::Trailing(s) => s.activation_price,
            };
            *t = Trigger::Trailing(TrailingStop {
                delta_bps,
                activation_price,
            });
        };
        match &mut self.0.order_type {
            OrderType::StopLoss(t) | OrderType::TakeProfit(t) => trail(t),
            OrderType::StopLossLimit(l) | OrderType::TakeProfitLimit(l) => trail(&mut l.trigger),
            OrderType::Market | OrderType::Limit(_) | OrderType::LimitMaker(_) => {}
        }
        self
    }

    fn time_in_force(mut self, tif: TimeInForce) -> Self {
        match &mut self.0.order_type {
            OrderType::Limit(l) => l.time_in_force = tif,
            OrderType::StopLossLimit(l) | OrderType::TakeProfitLimit(l) => l.time_in_force = tif,
            _ => {}
        }
        self
    }

    /// Good till cancelled (the default of limit types).
    pub fn gtc(self) -> Self {
        self.time_in_force(TimeInForce::Gtc)
    }

    /// Immediate or cancel: what does not fill at once expires.
    pub fn ioc(self) -> Self {
        self.time_in_force(TimeInForce::Ioc)
    }

    /// Fill or kill: fills entirely at once or expires.
    pub fn fok(self) -> Self {
        self.time_in_force(TimeInForce::Fok)
    }

    /// Shows only `visible` of the quantity in the book at a time (an iceberg; GTC limit types).
    pub fn iceberg(mut self, visible: f64) -> Self {
        self.0.iceberg_quantity = Some(visible);
        self
    }

    /// Sets the guest's own id for the order (one is assigned otherwise).
    pub fn client_id(mut self, id: u64) -> Self {
        self.0.client_id = id;
        self
    }

    /// Only reduce the current position.
    pub fn reduce_only(mut self) -> Self {
        self.0.reduce_only = true;
        self
    }

    /// The request as it will be sent.
    pub fn request(&self) -> &OrderRequest {
        &self.0
    }

    /// Submits the order: the host's order id, or the rule that refused it.
    pub fn submit(self) -> Result<u64, OrderRejected> {
        orders::submit(self.0)
    }

    /// Submits the order to the venue named (one of [`orders::venues`]) rather than the
    /// first (since contract 0.2.4).
    pub fn submit_at(self, venue: &str) -> Result<u64, OrderRejected> {
        orders::submit_at(venue, self.0)
    }

    /// Cancels open order `order_id` and places this order in its stead (Binance's
    /// cancel-replace, stop-on-failure: nothing is placed if `order_id` is no longer open).
    /// Returns this order's id; its fate comes to `on-order-update`.
    pub fn replace(self, order_id: u64) -> Result<u64, OrderRejected> {
        orders::modify(order_id, self.0, CancelReplaceMode::StopOnFailure)
    }

    /// As [`Order::replace`], but places this order even if the cancel fails.
    pub fn replace_anyway(self, order_id: u64) -> Result<u64, OrderRejected> {
        orders::modify(order_id, self.0, CancelReplaceMode::AllowFailure)
    }
}
