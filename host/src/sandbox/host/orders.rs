//! `orders`: submits, cancels and reads orders, positions and the account. Each call translates
//! and forwards to the order path; nothing is decided here but the sandbox's own bounds.

use super::{GuestCtx, HostResult};
use crate::model::{Fixed, RejectCode, Rejection};
use crate::risk::AccountView;
use crate::sandbox::bindings::strategy::stratbox::strategy::{orders, types};
use crate::sandbox::convert::v0_1 as convert;

impl GuestCtx {
    /// Counts an order against the callback's bound (trapping past it) and refuses orders from
    /// `init`, which runs before the deployment trades.
    fn admit_order(&mut self) -> wasmtime::Result<Result<(), Rejection>> {
        self.counters.orders += 1;
        if self.counters.orders > self.limits.orders_per_callback {
            let limit = self.limits.orders_per_callback;
            return Err(self.trap(format!(
                "submitted more than {limit} orders in one callback"
            )));
        }
        if self.in_init {
            return Ok(Err(Rejection::new(
                RejectCode::StrategyHalted,
                "orders are refused during init: submit them from a callback",
            )));
        }
        Ok(Ok(()))
    }
}

impl orders::Host for GuestCtx {
    fn submit(
        &mut self,
        order: types::OrderRequest,
    ) -> HostResult<Result<u64, types::OrderRejected>> {
        if let Err(r) = self.admit_order()? {
            return Ok(Err(convert::rejection(&r)));
        }
        let market = self.env.market();
        let result = convert::order_request(&order, &market).and_then(|request| {
            self.env
                .orders()
                .submit(self.id, request, self.now, &market)
        });
        Ok(result.map_err(|r| convert::rejection(&r)))
    }

    fn cancel(&mut self, order_id: u64) -> HostResult<Result<(), String>> {
        Ok(self
            .env
            .orders()
            .cancel(self.id, order_id, self.now)
            .map_err(|r| r.message))
    }

    fn open_orders(&mut self) -> HostResult<Vec<types::OrderUpdate>> {
        let path = self.env.orders();
        Ok(path
            .account(self.id)
            .into_iter()
            .flat_map(|a| a.open_orders())
            .map(|o| types::OrderUpdate {
                order_id: o.id,
                client_id: o.request.client_id,
                symbol: o.request.symbol,
                side: convert::side(o.request.side),
                status: convert::order_status(o.status),
                quantity: o.request.base_quantity().unwrap_or(o.remaining()).to_f64(),
                filled_quantity: o.filled.to_f64(),
                time: o.time,
            })
            .collect())
    }

    fn positions(&mut self) -> HostResult<Vec<types::Position>> {
        let market = self.env.market();
        let path = self.env.orders();
        Ok(path
            .account(self.id)
            .into_iter()
            .flat_map(|a| a.positions())
            .map(|(symbol, p)| {
                let mark = market.marks.get(symbol).unwrap_or(p.average_price);
                types::Position {
                    symbol,
                    quantity: p.quantity.to_f64(),
                    average_price: p.average_price.to_f64(),
                    realized_pnl: p.realized_pnl.to_f64(),
                    unrealized_pnl: mark
                        .saturating_sub(p.average_price)
                        .saturating_mul(p.quantity)
                        .to_f64(),
                }
            })
            .collect())
    }

    fn account_view(&mut self) -> HostResult<types::Account> {
        let env = self.env.clone();
        let market = env.market();
        let path = env.orders();
        let (Some(account), Some(risk)) = (path.account(self.id), path.risk().deployment(self.id))
        else {
            return Err(self.trap("account_view: the deployment has no account".into()));
        };
        let b = &risk.budget;
        let equity = account.equity(&market).unwrap_or(Fixed::ZERO);
        let daily = if risk.day == i64::MIN {
            0.0
        } else {
            equity.saturating_sub(risk.day_start_equity).to_f64()
        };
        let gross = account.gross_exposure(&market).to_f64();
        Ok(types::Account {
            equity: equity.to_f64(),
            cash: account.balance(account.valuation).total().to_f64(),
            gross_exposure: gross,
            daily_pnl: daily,
            budget: types::Budget {
                max_order_notional: b.max_order_notional,
                max_position_notional: b.max_position_notional,
                max_gross_exposure: b.max_gross_exposure,
                max_orders_per_second: b.max_orders_per_second,
                max_daily_loss: b.max_daily_loss,
            },
            remaining_gross_exposure: (b.max_gross_exposure - gross).max(0.0),
            remaining_daily_loss: (b.max_daily_loss + daily.min(0.0)).max(0.0),
        })
    }
}
