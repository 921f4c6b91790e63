//! The order path's protective stops: on every bar and trade, each position of a deployment
//! whose budget names stop rules keeps its [`StopState`]; when one fires, the host closes the
//! position with a reduce-only market order that no trading state holds back (the guest may be
//! halted, swapped or misbehaving). Stops are journaled and restored after a restart.

use super::OrderPath;
use crate::feeds::MarketEvent;
use crate::journal::JournalEntry;
use crate::market::MarketData;
use crate::model::{
    Amount, DeploymentId, Fixed, OrderRequest, OrderType, Rejection, Side, SymbolId, TimestampMs,
};
use crate::risk::{StopReason, StopState};

/// A stop that fired: whose, why, and the closing order or why there is none.
#[derive(Clone, Debug, PartialEq)]
pub struct StopFired {
    /// The deployment.
    pub deployment: DeploymentId,
    /// The symbol.
    pub symbol: SymbolId,
    /// Why it fired.
    pub reason: StopReason,
    /// The closing order's id, or why it was refused.
    pub order: Result<u64, Rejection>,
}

impl OrderPath {
    /// Keeps the protective stops of `event`'s symbol (which `market` has recorded) and closes
    /// the positions whose stop fired; those, with their orders.
    pub fn protect(
        &mut self,
        event: &MarketEvent,
        market: &MarketData,
        now: TimestampMs,
    ) -> Vec<StopFired> {
        let symbol = match event {
            MarketEvent::Bar(b) => b.symbol,
            MarketEvent::Trade(t) => t.symbol,
            _ => return Vec::new(),
        };
        let guarded: Vec<DeploymentId> = self
            .oms
            .accounts()
            .map(|a| a.id)
            .filter(|&id| {
                self.risk
                    .deployment(id)
                    .is_some_and(|d| d.budget.stops.is_some())
            })
            .collect();
        let mut fired = Vec::new();
        for id in guarded {
            if let Some(f) = self.protect_one(id, symbol, event, market, now) {
                fired.push(f);
            }
        }
        fired
    }

    fn protect_one(
        &mut self,
        id: DeploymentId,
        symbol: SymbolId,
        event: &MarketEvent,
        market: &MarketData,
        now: TimestampMs,
    ) -> Option<StopFired> {
        let config = self.risk.deployment(id)?.budget.stops.clone()?;
        let account = self.oms.account(id)?;
        let (quantity, entry) = account
            .positions()
            .find(|(s, _)| *s == symbol)
            .map_or((Fixed::ZERO, Fixed::ZERO), |(_, p)| {
                (p.quantity, p.average_price)
            });
        let key = (id, symbol);
        if quantity.raw() == 0 {
            if self.stops.remove(&key).is_some() {
                self.journal_stop(id, symbol, None, market);
            }
            return None;
        }
        let long = quantity.raw() > 0;
        let state = self
            .stops
            .entry(key)
            .and_modify(|s| {
                if s.long != long {
                    *s = StopState::new(long, entry.to_f64(), now, &config);
                }
            })
            .or_insert_with(|| StopState::new(long, entry.to_f64(), now, &config));
        state.entry = entry.to_f64();
        if let Some(order) = state.order
            && account.order(order).is_none()
        {
            state.order = None;
        }
        let reason = match event {
            MarketEvent::Bar(b) => state.on_bar(b.high, b.low, b.close, now, &config),
            MarketEvent::Trade(t) => state.on_trade(t.price, now, &config),
            _ => None,
        };
        let closing = reason.filter(|_| state.order.is_none());
        let fired = closing.map(|reason| {
            let order = self.close_position(id, symbol, quantity, now, market);
            if let (Ok(order_id), Some(s)) = (&order, self.stops.get_mut(&key)) {
                s.order = Some(*order_id);
            }
            StopFired {
                deployment: id,
                symbol,
                reason,
                order,
            }
        });
        let state = self.stops.get(&key).cloned().map(Box::new);
        self.journal_stop(id, symbol, state, market);
        fired
    }

    /// Keeps deployment `id`'s stop on `symbol` in line with its position after a fill: fills
    /// between two market events (the book's matching, an order placed after the stops were
    /// kept) move the average, and the rules measured from the entry, the journal and the risk
    /// report follow at once. A stop whose position closed or turned goes at once, so that a
    /// position reopened before the next event gets a stop of its own there (opened then, its
    /// best price and break-even afresh) rather than the old one's.
    pub(super) fn sync_stop_entry(
        &mut self,
        id: DeploymentId,
        symbol: SymbolId,
        market: &MarketData,
    ) {
        let (Some(state), Some(account), Some(config)) = (
            self.stops.get_mut(&(id, symbol)),
            self.oms.account(id),
            self.risk
                .deployment(id)
                .and_then(|d| d.budget.stops.as_ref()),
        ) else {
            return;
        };
        let (quantity, entry) = account
            .positions()
            .find(|(s, _)| *s == symbol)
            .map_or((0, 0.0), |(_, p)| {
                (p.quantity.raw(), p.average_price.to_f64())
            });
        if quantity == 0 || (quantity > 0) != state.long {
            self.stops.remove(&(id, symbol));
            return self.journal_stop(id, symbol, None, market);
        }
        if state.entry == entry {
            return;
        }
        state.set_entry(entry, config);
        let state = Some(Box::new(state.clone()));
        self.journal_stop(id, symbol, state, market);
    }

    /// A reduce-only market order for the whole position, on the symbol's lot grid, sent past
    /// the trading state.
    fn close_position(
        &mut self,
        id: DeploymentId,
        symbol: SymbolId,
        quantity: Fixed,
        now: TimestampMs,
        market: &MarketData,
    ) -> Result<u64, Rejection> {
        let step = market
            .instrument(symbol)
            .map_or(Fixed::from_raw(1), |i| i.step());
        let request = OrderRequest {
            client_id: 0,
            symbol,
            side: if quantity.raw() > 0 {
                Side::Sell
            } else {
                Side::Buy
            },
            amount: Amount::Base(quantity.abs().floor_to(step)),
            order_type: OrderType::Market,
            iceberg: None,
            reduce_only: true,
            venue: 0,
        };
        self.submit_protective(id, request, now, market)
    }

    fn journal_stop(
        &self,
        id: DeploymentId,
        symbol: SymbolId,
        state: Option<Box<StopState>>,
        market: &MarketData,
    ) {
        let journal = self.oms.journal();
        if !journal.keeps_state() {
            return;
        }
        let (Some(account), Some(instrument)) = (self.oms.account(id), market.instrument(symbol))
        else {
            return;
        };
        journal.record(JournalEntry::Stop {
            deployment: account.name.clone(),
            symbol: instrument.symbol.clone(),
            state,
        });
    }

    /// Puts back deployment `id`'s stops read from the store (after a restart).
    pub fn restore_stops(&mut self, id: DeploymentId, stops: Vec<(SymbolId, StopState)>) {
        for (symbol, state) in stops {
            self.stops.insert((id, symbol), state);
        }
    }

    /// Deployment `id`'s protective stops, by symbol.
    pub fn stops(&self, id: DeploymentId) -> impl Iterator<Item = (SymbolId, &StopState)> {
        self.stops
            .range((id, SymbolId::MIN)..=(id, SymbolId::MAX))
            .map(|(&(_, s), state)| (s, state))
    }
}
