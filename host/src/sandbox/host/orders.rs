//! `orders`: submits, cancels, replaces and reads orders, balances, positions and the account.
//! Each call translates and forwards to the order path; nothing is decided here but the
//! sandbox's own bounds (orders per callback, none during `init`).

use super::{GuestCtx, HostResult};
use crate::execution::ReplaceMode;
use crate::execution::oms::{Account, Balance, Position};
use crate::market::MarketData;
use crate::model::{Fixed, OrderRequest, RejectCode, Rejection, SymbolId};
use crate::risk::{AccountView, Budget};
use crate::sandbox::bindings::v0_2::strategy::stratbox::strategy::{orders, types};
use crate::sandbox::convert::v0_2 as convert;

/// The account as a guest sees it, in its valuation asset.
pub(crate) struct AccountSummary {
    pub valuation_asset: String,
    pub equity: f64,
    pub gross_exposure: f64,
    pub daily_pnl: f64,
    pub budget: Budget,
    pub remaining_gross_exposure: f64,
    pub remaining_daily_loss: f64,
    pub balances: Vec<(String, Balance)>,
}

impl GuestCtx {
    /// Counts an order against the callback's bound (trapping past it) and refuses orders from
    /// `init`, which runs before the deployment trades.
    fn admit_order(&mut self) -> HostResult<Result<(), Rejection>> {
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

    /// Submits the order `request` makes of the market (converting and checking the guest's
    /// values): its id, or why it was refused.
    pub(crate) fn submit_order(
        &mut self,
        request: impl FnOnce(&MarketData) -> Result<OrderRequest, Rejection>,
    ) -> HostResult<Result<u64, Rejection>> {
        if let Err(r) = self.admit_order()? {
            return Ok(Err(r));
        }
        let market = self.env.market();
        Ok(request(&market).and_then(|request| {
            self.env
                .orders()
                .submit(self.id, request, self.now, &market)
        }))
    }

    /// Cancels `old` and places what `request` makes in its stead, at the venue `old` went to.
    pub(crate) fn replace_order(
        &mut self,
        old: u64,
        request: impl FnOnce(&MarketData) -> Result<OrderRequest, Rejection>,
        mode: ReplaceMode,
    ) -> HostResult<Result<u64, Rejection>> {
        if let Err(r) = self.admit_order()? {
            return Ok(Err(r));
        }
        let venue = self
            .with_account(|a, _| a.order(old).map(|o| o.request.venue))
            .flatten()
            .unwrap_or(0);
        let market = self.env.market();
        Ok(request(&market).and_then(|request| {
            self.env.orders().replace(
                self.id,
                old,
                OrderRequest { venue, ..request },
                mode,
                self.now,
            )
        }))
    }

    /// Asks the venue to cancel order `id`.
    pub(crate) fn cancel_order(&mut self, id: u64) -> Result<(), Rejection> {
        self.env.orders().cancel(self.id, id, self.now)
    }

    /// Asks the venue to cancel every open order in `symbol`.
    pub(crate) fn cancel_all_orders(&mut self, symbol: SymbolId) -> Vec<u64> {
        self.env.orders().cancel_all(self.id, symbol, self.now)
    }

    /// Runs `f` on the deployment's account and the market.
    pub(crate) fn with_account<R>(&self, f: impl FnOnce(&Account, &MarketData) -> R) -> Option<R> {
        let market = self.env.market();
        let orders = self.env.orders();
        orders.account(self.id).map(|a| f(a, &market))
    }

    /// Positions with their unrealised PnL at the last prices.
    pub(crate) fn positions_now(&self) -> Vec<(SymbolId, Position, f64)> {
        self.with_account(|a, market| {
            a.positions()
                .map(|(symbol, p)| {
                    let mark = market.marks.get(symbol).unwrap_or(p.average_price);
                    let unrealized = mark
                        .saturating_sub(p.average_price)
                        .saturating_mul(p.quantity)
                        .to_f64();
                    (symbol, *p, unrealized)
                })
                .collect()
        })
        .unwrap_or_default()
    }

    /// The account's summary; traps if the deployment has none (it always has one once running).
    pub(crate) fn account_summary(&mut self) -> HostResult<AccountSummary> {
        let summary = {
            let market = self.env.market();
            let orders = self.env.orders();
            orders
                .account(self.id)
                .zip(orders.risk().deployment(self.id))
                .map(|(a, risk)| {
                    let b = risk.budget.clone();
                    let equity = a.equity(&market).unwrap_or(Fixed::ZERO);
                    let daily = if risk.day == i64::MIN {
                        0.0
                    } else {
                        equity.saturating_sub(risk.day_start_equity).to_f64()
                    };
                    let gross = a.gross_exposure(&market).to_f64();
                    let names = &market.instruments;
                    AccountSummary {
                        valuation_asset: names.asset_name(a.valuation).to_string(),
                        equity: equity.to_f64(),
                        gross_exposure: gross,
                        daily_pnl: daily,
                        remaining_gross_exposure: (b.max_gross_exposure - gross).max(0.0),
                        remaining_daily_loss: (b.max_daily_loss + daily.min(0.0)).max(0.0),
                        budget: b,
                        balances: a
                            .balances()
                            .map(|(asset, balance)| (names.asset_name(asset).to_string(), balance))
                            .collect(),
                    }
                })
        };
        summary.ok_or_else(|| self.trap("account-view: the deployment has no account".into()))
    }
}

fn balance(asset: &str, b: &Balance) -> types::Balance {
    types::Balance {
        asset: asset.to_string(),
        free: b.free.to_f64(),
        locked: b.locked.to_f64(),
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

    fn venues(&mut self) -> HostResult<Vec<String>> {
        let names = self.env.orders().venue_names();
        Ok(names.iter().map(|n| n.to_string()).collect())
    }

    fn submit_at(
        &mut self,
        venue: String,
        order: types::OrderRequest,
    ) -> HostResult<Result<u64, types::OrderRejected>> {
        let tag = self.env.orders().venue_named(&venue);
        Ok(self
            .submit_order(|m| {
                let tag = tag.map_err(|why| Rejection::new(RejectCode::InvalidOrder, why))?;
                Ok(OrderRequest {
                    venue: tag,
                    ..convert::order_request(&order, m)?
                })
            })?
            .map_err(|r| convert::rejection(&r)))
    }

    fn cancel(&mut self, order_id: u64) -> HostResult<Result<(), types::OrderRejected>> {
        Ok(self
            .cancel_order(order_id)
            .map_err(|r| convert::rejection(&r)))
    }

    fn cancel_all(&mut self, symbol: u32) -> HostResult<Vec<u64>> {
        Ok(self.cancel_all_orders(symbol))
    }

    fn modify(
        &mut self,
        order_id: u64,
        replacement: types::OrderRequest,
        mode: types::CancelReplaceMode,
    ) -> HostResult<Result<u64, types::OrderRejected>> {
        Ok(self
            .replace_order(
                order_id,
                |m| convert::order_request(&replacement, m),
                convert::replace_mode(mode),
            )?
            .map_err(|r| convert::rejection(&r)))
    }

    fn open_orders(&mut self) -> HostResult<Vec<types::OpenOrder>> {
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

    fn balances(&mut self) -> HostResult<Vec<types::Balance>> {
        Ok(self
            .with_account(|a, market| {
                a.balances()
                    .map(|(asset, b)| balance(market.instruments.asset_name(asset), &b))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn account_view(&mut self) -> HostResult<types::Account> {
        let s = self.account_summary()?;
        let b = &s.budget;
        Ok(types::Account {
            valuation_asset: s.valuation_asset,
            equity: s.equity,
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
            balances: s.balances.iter().map(|(a, b)| balance(a, b)).collect(),
        })
    }
}
