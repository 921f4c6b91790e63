//! Trading on the simulator: Binance's order endpoints over the host's own order path, so what
//! the simulator fills is what a backtest on the same books would ([`core`]); the parameters
//! ([`params`]), answers ([`answers`]) and ORDERS limits (`crate::execution::binance::limits`) as Binance has them.

mod answers;
mod core;
pub mod params;

pub use self::core::{OrderRef, UserEvent};
pub use crate::execution::binance::{OrderCounts, OrderLimits};
pub use answers::text;

use crate::execution::oms::Balance;
use crate::feeds::{BookUpdate, BookUpdateKind, MarketEvent, TradePrint};
use crate::model::{FeeRates, Fixed, Side, SymbolId};
use axum::http::StatusCode;
use params::NewOrder;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A refusal as Binance sends it: HTTP status, code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Binance's error code.
    pub code: i64,
    /// Binance's message.
    pub msg: String,
}

impl SimError {
    /// An error with `status`.
    pub fn new(status: StatusCode, code: i64, msg: impl Into<String>) -> Self {
        SimError {
            status,
            code,
            msg: msg.into(),
        }
    }

    /// A 400 error.
    pub fn bad_request(code: i64, msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, msg)
    }

    /// -1102 for a mandatory parameter not sent.
    pub fn missing(name: &str) -> Self {
        Self::bad_request(
            -1102,
            format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )
    }
}

/// The matching core of every account, shared by the handlers and the feeds.
pub struct SimTrading {
    core: Mutex<self::core::Core>,
}

impl SimTrading {
    /// Trading in `symbols` (described by `exchange_info`) for accounts starting with these
    /// balances (account `n` is the `n`-th), each within `limits` of new orders and paying
    /// `fees` (in BNB at Binance's discount with `bnb_burn`, when an account holds enough).
    pub fn new(
        symbols: &[String],
        exchange_info: &str,
        accounts: &[BTreeMap<String, f64>],
        limits: OrderLimits,
        fees: FeeRates,
        bnb_burn: bool,
    ) -> Result<Arc<Self>, String> {
        let core = self::core::Core::new(symbols, exchange_info, accounts, limits, fees, bnb_burn)?;
        Ok(Arc::new(SimTrading {
            core: Mutex::new(core),
        }))
    }

    /// The accounts' commission rates.
    pub fn fees(&self) -> FeeRates {
        self.core().fees
    }

    /// Whether the accounts pay their commissions in BNB when they hold enough.
    pub fn bnb_burn(&self) -> bool {
        self.core().bnb_burn
    }

    fn core(&self) -> MutexGuard<'_, self::core::Core> {
        self.core.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether symbol `name` trades here.
    pub fn has_symbol(&self, name: &str) -> bool {
        self.core().market.symbols().id(name).is_some()
    }

    /// The feed of symbol `name` into the core.
    pub fn feed(self: &Arc<Self>, name: &str) -> Option<TradingFeed> {
        let symbol = self.core().market.symbols().id(name)?;
        Some(TradingFeed {
            trading: self.clone(),
            symbol,
        })
    }

    /// Places `new` for `account` at `now`, counted against the ORDERS limits first.
    pub fn place(
        &self,
        account: u32,
        new: &NewOrder,
        now: i64,
    ) -> Result<(Value, OrderCounts), (SimError, OrderCounts)> {
        let mut core = self.core();
        let counts = match core.count_order(account, now) {
            Ok(c) => c,
            Err(e) => return Err((e, core.order_counts(account, now))),
        };
        core.place(account, new, now)
            .map(|v| (v, counts))
            .map_err(|e| (e, counts))
    }

    /// Checks `new` as a placement would, without placing it.
    pub fn test(&self, account: u32, new: &NewOrder, now: i64) -> Result<Value, SimError> {
        self.core().test(account, new, now)
    }

    /// Cancels the open order `which`; `cancel_id` names the cancel.
    pub fn cancel(
        &self,
        account: u32,
        symbol: &str,
        which: &OrderRef,
        cancel_id: Option<String>,
        now: i64,
    ) -> Result<Value, SimError> {
        self.core().cancel(account, symbol, which, cancel_id, now)
    }

    /// Cancels `which`, then places `new` if the cancel succeeded or `allow_failure`; Binance's
    /// `cancelReplace` answer, or its error with the `data` of both halves.
    #[allow(clippy::too_many_arguments)]
    pub fn cancel_replace(
        &self,
        account: u32,
        which: &OrderRef,
        cancel_id: Option<String>,
        new: &NewOrder,
        allow_failure: bool,
        now: i64,
    ) -> Result<(Value, OrderCounts), (SimError, Option<Value>, OrderCounts)> {
        let mut core = self.core();
        let counts = match core.count_order(account, now) {
            Ok(c) => c,
            Err(e) => return Err((e, None, core.order_counts(account, now))),
        };
        let cancel = core.cancel(account, &new.symbol, which, cancel_id, now);
        let placed = match (&cancel, allow_failure) {
            (Err(_), false) => None,
            _ => Some(core.place(account, new, now)),
        };
        let half = |r: &Result<Value, SimError>| match r {
            Ok(v) => ("SUCCESS", v.clone()),
            Err(e) => ("FAILURE", serde_json::json!({"code": e.code, "msg": e.msg})),
        };
        let (cancel_result, cancel_response) = half(&cancel);
        let (new_result, new_response) = match &placed {
            None => ("NOT_ATTEMPTED", Value::Null),
            Some(r) => half(r),
        };
        let data = serde_json::json!({
            "cancelResult": cancel_result,
            "newOrderResult": new_result,
            "cancelResponse": cancel_response,
            "newOrderResponse": new_response,
        });
        match (cancel.is_ok(), placed.as_ref().map(Result::is_ok)) {
            (true, Some(true)) => Ok((data, counts)),
            (true, _) | (false, Some(true)) => Err((
                SimError::new(
                    StatusCode::CONFLICT,
                    -2021,
                    "Order cancel-replace partially failed.",
                ),
                Some(data),
                counts,
            )),
            (false, _) => Err((
                SimError::bad_request(-2022, "Order cancel-replace failed."),
                Some(data),
                counts,
            )),
        }
    }

    /// Cancels every open order of `account` in `symbol`.
    pub fn cancel_all(&self, account: u32, symbol: &str, now: i64) -> Result<Value, SimError> {
        self.core().cancel_all(account, symbol, now)
    }

    /// The order `which`.
    pub fn query(&self, account: u32, symbol: &str, which: &OrderRef) -> Result<Value, SimError> {
        self.core().query(account, symbol, which)
    }

    /// Open orders of `account`, of `symbol` or all.
    pub fn open_orders(&self, account: u32, symbol: Option<&str>) -> Result<Value, SimError> {
        self.core().open_orders(account, symbol)
    }

    /// Orders of `account` in `symbol`, as `GET /api/v3/allOrders` selects them.
    pub fn all_orders(
        &self,
        account: u32,
        symbol: &str,
        from_id: Option<u64>,
        range: (Option<i64>, Option<i64>),
        limit: usize,
    ) -> Result<Value, SimError> {
        self.core()
            .all_orders(account, symbol, from_id, range.0, range.1, limit)
    }

    /// Trades of `account` in `symbol`, as `GET /api/v3/myTrades` selects them.
    pub fn my_trades(
        &self,
        account: u32,
        symbol: &str,
        ids: (Option<u64>, Option<u64>),
        range: (Option<i64>, Option<i64>),
        limit: usize,
    ) -> Result<Value, SimError> {
        self.core()
            .my_trades(account, symbol, ids.0, ids.1, range.0, range.1, limit)
    }

    /// A receiver of every account's user data events from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<UserEvent> {
        self.core().subscribe()
    }

    /// Deposits (or, negative, withdraws) `delta` of `asset` for `account`; its balance after.
    pub fn transfer(
        &self,
        account: u32,
        asset: &str,
        delta: crate::model::Fixed,
        now: i64,
    ) -> Result<Balance, SimError> {
        self.core().transfer(account, asset, delta, now)
    }

    /// The balances of `account` by asset.
    pub fn balances(&self, account: u32) -> Vec<(String, Balance)> {
        self.core().balances(account)
    }
}

/// One symbol's books and trades into the core, as the simulator makes them.
pub struct TradingFeed {
    trading: Arc<SimTrading>,
    symbol: SymbolId,
}

impl TradingFeed {
    /// A book snapshot or diff at `time`.
    pub fn book(
        &self,
        time: i64,
        kind: BookUpdateKind,
        bids: Vec<(Fixed, Fixed)>,
        asks: Vec<(Fixed, Fixed)>,
    ) {
        self.trading.core().on_event(MarketEvent::Book(BookUpdate {
            symbol: self.symbol,
            time,
            kind,
            bids,
            asks,
        }));
    }

    /// A public trade.
    pub fn trade(&self, time: i64, id: u64, price: Fixed, quantity: Fixed, buyer_is_maker: bool) {
        self.trading.core().on_event(MarketEvent::Trade(TradePrint {
            symbol: self.symbol,
            time,
            trade_id: id,
            price: price.to_f64(),
            quantity: quantity.to_f64(),
            aggressor: if buyer_is_maker {
                Side::Sell
            } else {
                Side::Buy
            },
        }));
    }
}
