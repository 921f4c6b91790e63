//! The adapter of contract 0.1 onto the host: components built against
//! `stratbox:strategy@0.1.0` call these, which convert to domain values and use the same host
//! logic as 0.2, so their orders meet the same checks, balances and fills as everyone's. (Zed's
//! extension host keeps one such adapter per released WIT version.)

use super::{GuestCtx, HostResult};
use crate::market::HISTORY;
use crate::sandbox::bindings::v0_1::strategy::stratbox::strategy::{
    clock, log, market, orders, signals, state, types,
};
use crate::sandbox::convert::v0_1 as convert;

impl types::Host for GuestCtx {}

impl market::Host for GuestCtx {
    fn find_symbol(&mut self, name: String) -> HostResult<Option<u32>> {
        Ok(self.env.market().symbols().id(&name))
    }

    fn symbol_name(&mut self, symbol: u32) -> HostResult<Option<String>> {
        Ok(self
            .env
            .market()
            .symbols()
            .name(symbol)
            .map(|n| n.to_string()))
    }

    fn recent_bars(&mut self, symbol: u32, count: u32) -> HostResult<Vec<types::Bar>> {
        let count = (count as usize).min(HISTORY);
        Ok(self
            .env
            .market()
            .recent_bars(symbol, count)
            .map(convert::bar)
            .collect())
    }

    fn best_bid_ask(&mut self, symbol: u32) -> HostResult<Option<types::TopOfBook>> {
        Ok(self
            .env
            .market()
            .top(symbol)
            .as_ref()
            .map(convert::top_of_book))
    }

    fn book(&mut self, symbol: u32, depth: u32) -> HostResult<Option<types::BookLevels>> {
        Ok(self
            .env
            .market()
            .book(symbol)
            .map(|b| convert::book_levels(b, depth as usize)))
    }

    fn feature(&mut self, symbol: u32, name: String) -> HostResult<Result<Option<f64>, String>> {
        Ok(self.named_feature(symbol, &name))
    }

    fn predict(&mut self, symbol: u32) -> HostResult<Option<types::Prediction>> {
        Ok(self
            .env
            .market()
            .prediction(symbol)
            .map(convert::prediction))
    }
}

impl clock::Host for GuestCtx {
    fn now(&mut self) -> HostResult<i64> {
        Ok(self.now)
    }

    fn set_timer(&mut self, due: i64) -> HostResult<u64> {
        self.set_timer_at(due)
    }

    fn cancel_timer(&mut self, id: u64) -> HostResult<bool> {
        Ok(self.cancel_timer_id(id))
    }
}

impl orders::Host for GuestCtx {
    fn submit(
        &mut self,
        order: types::OrderRequest,
    ) -> HostResult<Result<u64, types::OrderRejected>> {
        Ok(self
            .submit_order(|m| convert::order_request(&order, m))?
            .map_err(|r| convert::rejection(&r)))
    }

    fn cancel(&mut self, order_id: u64) -> HostResult<Result<(), String>> {
        Ok(self.cancel_order(order_id).map_err(|r| r.message))
    }

    fn open_orders(&mut self) -> HostResult<Vec<types::OrderUpdate>> {
        Ok(self
            .with_account(|a, _| a.open_orders().map(convert::open_order).collect())
            .unwrap_or_default())
    }

    fn positions(&mut self) -> HostResult<Vec<types::Position>> {
        Ok(self
            .positions_now()
            .into_iter()
            .map(|(symbol, p, unrealized_pnl)| types::Position {
                symbol,
                quantity: p.quantity.to_f64(),
                average_price: p.average_price.to_f64(),
                realized_pnl: p.realized_pnl.to_f64(),
                unrealized_pnl,
            })
            .collect())
    }

    /// 0.1's account has one `cash` figure: the valuation asset's balance, free and locked.
    fn account_view(&mut self) -> HostResult<types::Account> {
        let s = self.account_summary()?;
        let b = &s.budget;
        let cash = s
            .balances
            .iter()
            .find(|(asset, _)| *asset == s.valuation_asset)
            .map_or(0.0, |(_, balance)| balance.total().to_f64());
        Ok(types::Account {
            equity: s.equity,
            cash,
            gross_exposure: s.gross_exposure,
            daily_pnl: s.daily_pnl,
            budget: types::Budget {
                max_order_notional: b.max_order_notional,
                max_position_notional: b.max_position_notional,
                max_gross_exposure: b.max_gross_exposure,
                max_orders_per_second: b.max_orders_per_second,
                max_daily_loss: b.max_daily_loss,
            },
            remaining_gross_exposure: s.remaining_gross_exposure,
            remaining_daily_loss: s.remaining_daily_loss,
        })
    }
}

impl signals::Host for GuestCtx {
    fn emit(&mut self, signal: types::Signal) -> HostResult<()> {
        let signal = convert::signal_in(&signal, &self.name);
        self.emit_signal(signal)
    }
}

impl state::Host for GuestCtx {
    fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        Ok(self.state_get(&key))
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<Result<(), String>> {
        Ok(self.state_set(key, value))
    }

    fn delete(&mut self, key: String) -> HostResult<bool> {
        Ok(self.state_delete(key))
    }

    fn keys(&mut self) -> HostResult<Vec<String>> {
        Ok(self.state_keys())
    }
}

impl log::Host for GuestCtx {
    fn log(&mut self, level: types::Level, message: String) -> HostResult<()> {
        self.log_line(convert::level_in(level), message);
        Ok(())
    }
}
