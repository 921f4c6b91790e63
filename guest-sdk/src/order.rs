//! A builder for order requests, so a strategy writes `Order::limit(sym, Side::Buy, 0.5, 101.0).ioc().submit()`.

use crate::bindings::stratbox::strategy::orders;
use crate::{OrderKind, OrderRejected, OrderRequest, Side, StopLimitPrices, SymbolId, TimeInForce};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// An order being built; [`Order::submit`] sends it through the host's pre-trade check.
#[derive(Clone, Debug)]
pub struct Order(OrderRequest);

impl Order {
    fn new(symbol: SymbolId, side: Side, quantity: f64, kind: OrderKind) -> Self {
        Order(OrderRequest {
            client_id: NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed),
            symbol,
            side,
            quantity,
            kind,
            time_in_force: TimeInForce::Gtc,
            reduce_only: false,
        })
    }

    /// A market order.
    pub fn market(symbol: SymbolId, side: Side, quantity: f64) -> Self {
        Self::new(symbol, side, quantity, OrderKind::Market)
    }

    /// A limit order at `price`.
    pub fn limit(symbol: SymbolId, side: Side, quantity: f64, price: f64) -> Self {
        Self::new(symbol, side, quantity, OrderKind::Limit(price))
    }

    /// A stop order that becomes a market order when `stop` is touched.
    pub fn stop(symbol: SymbolId, side: Side, quantity: f64, stop: f64) -> Self {
        Self::new(symbol, side, quantity, OrderKind::Stop(stop))
    }

    /// A stop order that becomes a limit order at `limit` when `stop` is touched.
    pub fn stop_limit(symbol: SymbolId, side: Side, quantity: f64, stop: f64, limit: f64) -> Self {
        Self::new(
            symbol,
            side,
            quantity,
            OrderKind::StopLimit(StopLimitPrices { stop, limit }),
        )
    }

    /// Sets the guest's own id for the order (one is assigned otherwise).
    pub fn client_id(mut self, id: u64) -> Self {
        self.0.client_id = id;
        self
    }

    /// Immediate-or-cancel.
    pub fn ioc(mut self) -> Self {
        self.0.time_in_force = TimeInForce::Ioc;
        self
    }

    /// Fill-or-kill.
    pub fn fok(mut self) -> Self {
        self.0.time_in_force = TimeInForce::Fok;
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

    /// Submits the order: the host's order id, or why the pre-trade check refused it.
    pub fn submit(self) -> Result<u64, OrderRejected> {
        orders::submit(self.0)
    }
}
