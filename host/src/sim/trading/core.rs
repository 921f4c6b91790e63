//! The simulator's matching core: the host's own order path (risk checks with the symbols'
//! exchange filters, the order manager's balance locks, the book matcher) over a market fed by
//! the simulator's books and trades, one account per API key, and the orders and trades of
//! each account as Binance reports them.

use super::SimError;
use super::answers::{SimFill, SimOrder, text};
use super::params::{NewOrder, RespType};
use crate::execution::OrderPath;
use crate::execution::binance::{OrderCounter, OrderCounts, OrderLimits};
use crate::execution::oms::Balance;
use crate::execution::venues::{BookFillConfig, BookVenue};
use crate::feeds::MarketEvent;
use crate::journal::NullJournal;
use crate::market::MarketData;
use crate::model::{
    AssetId, DeploymentId, ExecutionType, FeeRates, Liquidity, OrderRequest, OrderStatus,
    OrderUpdate, RejectCode, Rejection, Side, SymbolId,
};
use crate::risk::AccountLimits;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Orders kept in all (beyond it the oldest ended ones are forgotten, down to nine tenths).
const KEPT_ORDERS: usize = 200_000;
/// Trades kept per account.
const KEPT_TRADES: usize = 100_000;

/// The core's state, behind the simulator's lock.
pub struct Core {
    /// The market as the simulator's feeds made it.
    pub market: MarketData,
    path: OrderPath,
    /// Every order still known, by id.
    orders: BTreeMap<u64, SimOrder>,
    /// Open orders by account and client id.
    open_clients: HashMap<(u32, String), u64>,
    /// Trades by account, oldest first.
    trades: Vec<VecDeque<SimFill>>,
    counters: Vec<OrderCounter>,
    limits: OrderLimits,
    /// The accounts' commission rates.
    pub fees: FeeRates,
    /// Whether the accounts pay commissions in BNB when they hold enough.
    pub bnb_burn: bool,
    next_client: u64,
    /// The accounts' user data events.
    events: broadcast::Sender<UserEvent>,
}

/// An event of one account's user data stream.
#[derive(Clone, Debug)]
pub struct UserEvent {
    /// The account's number.
    pub account: u32,
    /// The event's JSON (`executionReport`, `outboundAccountPosition`).
    pub json: Arc<str>,
}

/// The Binance error for a refusal of the order path.
pub fn refusal(r: &Rejection) -> SimError {
    let (code, msg) = match r.code {
        RejectCode::Filter(f) => (-1013, format!("Filter failure: {}", f.name())),
        RejectCode::InsufficientBalance => (
            -2010,
            "Account has insufficient balance for requested action.".into(),
        ),
        RejectCode::WouldTakeLiquidity => (-2010, "Order would immediately match and take.".into()),
        RejectCode::WouldTriggerImmediately => (-2010, "Order would trigger immediately.".into()),
        RejectCode::UnknownOrder => (-2011, "Unknown order sent.".into()),
        _ => (-2010, r.message.clone()),
    };
    SimError::bad_request(code, msg)
}

/// The page of `chosen` (oldest first) a list answers: its first `limit` when the request
/// names where to start, its newest `limit` otherwise.
fn page<T>(chosen: &[T], from_start: bool, limit: usize) -> &[T] {
    if from_start {
        &chosen[..limit.min(chosen.len())]
    } else {
        &chosen[chosen.len().saturating_sub(limit)..]
    }
}

fn unknown_order() -> SimError {
    SimError::bad_request(-2013, "Order does not exist.")
}

/// Which order a query or cancel names: `orderId` or `origClientOrderId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderRef {
    /// By the exchange's id.
    Id(u64),
    /// By the client's id.
    Client(String),
}

impl Core {
    /// A core trading `symbols` (described by `exchange_info`) for accounts with these starting
    /// balances, in account order, each within `limits` of new orders and paying `fees` (in
    /// BNB at Binance's discount with `bnb_burn`, when the account holds enough; at the price
    /// of a BNB symbol the core trades).
    pub fn new(
        symbols: &[String],
        exchange_info: &str,
        accounts: &[BTreeMap<String, f64>],
        limits: OrderLimits,
        fees: FeeRates,
        bnb_burn: bool,
    ) -> Result<Core, String> {
        let mut market = MarketData::default();
        market
            .instruments
            .describe(exchange_info)
            .map_err(|e| e.to_string())?;
        for s in symbols {
            market.add_symbol(s);
        }
        // Binance keeps a buyer's commission out of the base bought (when not paid in BNB).
        let venue = BookVenue::new(BookFillConfig {
            buyer_fee_in_base: true,
            fees,
            ..BookFillConfig::default()
        });
        let mut path = OrderPath::new(Box::new(venue), Arc::new(NullJournal));
        // The accounts are the exchange's customers, not one desk: no limit spans them (the
        // ORDERS limits apply to each).
        path.set_account_limits(AccountLimits {
            max_orders_per_second: u32::MAX,
            ..AccountLimits::default()
        });
        for (n, balances) in accounts.iter().enumerate() {
            let mut budget = crate::risk::Budget::unlimited(0.0);
            budget.balances = balances.clone();
            budget.fee_asset = bnb_burn.then(|| "BNB".to_string());
            let quote = market
                .instrument(0)
                .map(|i| market.instruments.asset_name(i.quote).to_string());
            budget.asset = quote;
            path.open(
                DeploymentId(n as u32),
                format!("account-{n}").into(),
                budget,
                &mut market,
            );
        }
        Ok(Core {
            market,
            path,
            orders: BTreeMap::new(),
            open_clients: HashMap::new(),
            trades: vec![VecDeque::new(); accounts.len()],
            counters: vec![OrderCounter::default(); accounts.len()],
            limits,
            fees,
            bnb_burn,
            next_client: 0,
            events: broadcast::channel(4096).0,
        })
    }

    /// Records a market event and matches resting orders against it.
    pub fn on_event(&mut self, event: MarketEvent) {
        match &event {
            MarketEvent::Book(update) => self.market.apply_book(update),
            MarketEvent::Trade(trade) => self.market.push_trade(trade),
            _ => {}
        }
        self.path.on_event(&event, &self.market);
        self.settle(event.time());
    }

    /// Takes every update the order path has and applies it to the orders and trades.
    fn settle(&mut self, now: i64) -> Vec<OrderUpdate> {
        self.path.advance(now, &self.market);
        let updates = self.path.take_updates(i64::MAX);
        for u in &updates {
            self.apply(u);
        }
        updates
    }

    fn apply(&mut self, u: &OrderUpdate) {
        let Some(order) = self.orders.get_mut(&u.order_id) else {
            return;
        };
        order.status = u.status;
        order.executed = u.filled;
        order.quote = u.filled_quote;
        order.update_time = u.time;
        if !u.status.is_open() {
            self.open_clients
                .remove(&(order.account, order.client_order_id.clone()));
        }
        match u.execution {
            ExecutionType::New if !u.request.order_type.is_algo() => {
                order.working_time.get_or_insert(u.time);
            }
            ExecutionType::Triggered => order.working_time = Some(u.time),
            _ => {}
        }
        let fill = u.fill.as_ref().map(|fill| SimFill {
            symbol: order.symbol.clone(),
            id: fill.trade_id,
            order_id: u.order_id,
            price: fill.price,
            quantity: fill.quantity,
            quote: fill.quote_quantity,
            commission: fill.commission,
            commission_asset: fill.commission_asset.clone(),
            time: fill.time,
            is_buyer: fill.side == Side::Buy,
            is_maker: fill.liquidity == Liquidity::Maker,
        });
        if let Some(fill) = &fill {
            let trades = &mut self.trades[order.account as usize];
            if trades.len() == KEPT_TRADES {
                trades.pop_front();
            }
            trades.push_back(fill.clone());
        }
        // A refusal at placement is an error answer, and a failed cancel changes nothing:
        // neither is an event, as on Binance.
        let silent = matches!(
            u.execution,
            ExecutionType::Rejected | ExecutionType::CancelRejected
        );
        if silent || self.events.receiver_count() == 0 {
            return;
        }
        let account = order.account;
        let report = order.execution_report(u, fill.as_ref());
        self.publish(account, report);
        // A commission in BNB changed that balance too.
        let commission = fill
            .as_ref()
            .and_then(|f| self.market.instruments.asset_id(&f.commission_asset));
        let position = self.account_position(account, u.request.symbol, commission, u.time);
        self.publish(account, position);
    }

    fn publish(&self, account: u32, event: Value) {
        let _ = self.events.send(UserEvent {
            account,
            json: event.to_string().into(),
        });
    }

    /// `outboundAccountPosition` of the assets of `symbol` in `account`, and of `other` (the
    /// asset a commission was paid in) when it is neither.
    fn account_position(
        &self,
        account: u32,
        symbol: SymbolId,
        other: Option<AssetId>,
        time: i64,
    ) -> Value {
        let balances: Vec<Value> = match (
            self.market.instrument(symbol),
            self.path.account(DeploymentId(account)),
        ) {
            (Some(i), Some(a)) => [i.base, i.quote]
                .into_iter()
                .chain(other.filter(|&o| o != i.base && o != i.quote))
                .map(|asset| {
                    let b = a.balance(asset);
                    serde_json::json!({
                        "a": self.market.instruments.asset_name(asset),
                        "f": text(b.free),
                        "l": text(b.locked),
                    })
                })
                .collect(),
            _ => Vec::new(),
        };
        serde_json::json!({"e": "outboundAccountPosition", "E": time, "u": time, "B": balances})
    }

    /// A receiver of every account's user data events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<UserEvent> {
        self.events.subscribe()
    }

    fn symbol(&self, name: &str) -> Result<(SymbolId, Arc<str>), SimError> {
        let id = self
            .market
            .symbols()
            .id(name)
            .ok_or_else(|| SimError::bad_request(-1121, "Invalid symbol."))?;
        let name = self.market.symbols().name(id).cloned().expect("known id");
        Ok((id, name))
    }

    /// Counts a new order of `account` against the ORDERS limits.
    pub fn count_order(&mut self, account: u32, now: i64) -> Result<OrderCounts, SimError> {
        self.counters[account as usize]
            .take(now, self.limits)
            .map_err(|msg| SimError::new(axum::http::StatusCode::TOO_MANY_REQUESTS, -1015, msg))
    }

    /// The ORDERS counts of `account` at `now`.
    pub fn order_counts(&mut self, account: u32, now: i64) -> OrderCounts {
        self.counters[account as usize].counts(now)
    }

    fn request(&self, new: &NewOrder) -> Result<(OrderRequest, Arc<str>), SimError> {
        let (symbol, name) = self.symbol(&new.symbol)?;
        let request = OrderRequest {
            client_id: 0,
            symbol,
            side: new.side,
            amount: new.amount,
            order_type: new.order_type,
            iceberg: new.iceberg,
            reduce_only: false,
            venue: 0,
        };
        Ok((request, name))
    }

    /// `POST /api/v3/order/test`: the order checked as a placement would be (parameters, symbol,
    /// filters), not placed.
    pub fn test(&self, account: u32, new: &NewOrder, now: i64) -> Result<Value, SimError> {
        let (request, _) = self.request(new)?;
        let id = DeploymentId(account);
        let view = self.path.account(id).expect("every account is open");
        self.path
            .risk()
            .check(
                id,
                &request,
                view,
                self.path.oms(),
                &self.market,
                now,
                false,
            )
            .map_err(|r| refusal(&r))?;
        Ok(serde_json::json!({}))
    }

    /// `POST /api/v3/order`: places `new` for `account` at `now`; the answer its
    /// `newOrderRespType` asks for.
    pub fn place(&mut self, account: u32, new: &NewOrder, now: i64) -> Result<Value, SimError> {
        let (request, symbol) = self.request(new)?;
        let client_order_id = match &new.client_order_id {
            Some(id) => {
                if self.open_clients.contains_key(&(account, id.clone())) {
                    return Err(SimError::bad_request(-2010, "Duplicate order sent."));
                }
                id.clone()
            }
            None => self.generated_client_id(),
        };
        let id = DeploymentId(account);
        let order_id = match self.path.submit(id, request, now, &self.market) {
            Ok(order_id) => order_id,
            Err(reason) => {
                self.settle(now);
                return Err(refusal(&reason));
            }
        };
        self.forget_old();
        self.open_clients
            .insert((account, client_order_id.clone()), order_id);
        self.orders.insert(
            order_id,
            SimOrder {
                account,
                id: order_id,
                symbol,
                client_order_id,
                side: new.side,
                amount: new.amount,
                order_type: new.order_type,
                iceberg: new.iceberg,
                status: OrderStatus::PendingNew,
                executed: Default::default(),
                quote: Default::default(),
                time: now,
                update_time: now,
                working_time: None,
            },
        );
        let updates = self.settle(now);
        if let Some(refused) = updates
            .iter()
            .find(|u| u.order_id == order_id && u.status == OrderStatus::Rejected)
        {
            self.orders.remove(&order_id);
            let reason = refused
                .reject
                .clone()
                .unwrap_or_else(|| Rejection::invalid("refused by the venue"));
            return Err(refusal(&reason));
        }
        let order = &self.orders[&order_id];
        Ok(match new.resp_type {
            RespType::Ack => order.ack(),
            RespType::Result => order.result(None),
            RespType::Full => {
                // Its fills are the account's newest trades: nothing else traded meanwhile.
                let mut fills: Vec<SimFill> = self.trades[account as usize]
                    .iter()
                    .rev()
                    .take_while(|f| f.order_id == order_id)
                    .cloned()
                    .collect();
                fills.reverse();
                order.result(Some(&fills))
            }
        })
    }

    fn generated_client_id(&mut self) -> String {
        self.next_client += 1;
        format!("sim{:019}", self.next_client)
    }

    /// Past [`KEPT_ORDERS`], drops the oldest ended orders.
    fn forget_old(&mut self) {
        if self.orders.len() < KEPT_ORDERS {
            return;
        }
        let ended: Vec<u64> = self
            .orders
            .values()
            .filter(|o| !o.status.is_open())
            .map(|o| o.id)
            .take(KEPT_ORDERS / 10)
            .collect();
        for id in ended {
            self.orders.remove(&id);
        }
    }

    fn find(&self, account: u32, symbol: &str, which: &OrderRef) -> Result<&SimOrder, SimError> {
        self.symbol(symbol)?;
        let found = match which {
            OrderRef::Id(id) => self.orders.get(id),
            OrderRef::Client(c) => match self.open_clients.get(&(account, c.clone())) {
                Some(id) => self.orders.get(id),
                None => self
                    .orders
                    .values()
                    .rev()
                    .find(|o| o.account == account && &o.client_order_id == c),
            },
        };
        found
            .filter(|o| o.account == account && *o.symbol == *symbol)
            .ok_or_else(unknown_order)
    }

    /// `GET /api/v3/order`.
    pub fn query(&self, account: u32, symbol: &str, which: &OrderRef) -> Result<Value, SimError> {
        self.find(account, symbol, which).map(SimOrder::query)
    }

    /// `DELETE /api/v3/order`: cancels an open order at `now`; the answer names the cancel
    /// `cancel_id` (generated when `None`).
    pub fn cancel(
        &mut self,
        account: u32,
        symbol: &str,
        which: &OrderRef,
        cancel_id: Option<String>,
        now: i64,
    ) -> Result<Value, SimError> {
        let unknown = || SimError::bad_request(-2011, "Unknown order sent.");
        let order_id = self.find(account, symbol, which).map_err(|_| unknown())?.id;
        self.path
            .cancel(DeploymentId(account), order_id, now)
            .map_err(|_| unknown())?;
        self.settle(now);
        let order = &self.orders[&order_id];
        if order.status != OrderStatus::Cancelled {
            return Err(unknown());
        }
        let cancel_id = cancel_id.unwrap_or_else(|| self.generated_client_id());
        Ok(self.orders[&order_id].cancelled(&cancel_id, now))
    }

    /// `DELETE /api/v3/openOrders`: cancels every open order of `account` in `symbol`.
    pub fn cancel_all(&mut self, account: u32, symbol: &str, now: i64) -> Result<Value, SimError> {
        self.symbol(symbol)?;
        let open: Vec<u64> = self
            .orders
            .values()
            .filter(|o| o.account == account && *o.symbol == *symbol && o.status.is_open())
            .map(|o| o.id)
            .collect();
        let mut answers = Vec::new();
        for id in open {
            if let Ok(a) = self.cancel(account, symbol, &OrderRef::Id(id), None, now) {
                answers.push(a);
            }
        }
        Ok(Value::Array(answers))
    }

    /// `GET /api/v3/openOrders`, for one symbol or all.
    pub fn open_orders(&self, account: u32, symbol: Option<&str>) -> Result<Value, SimError> {
        if let Some(s) = symbol {
            self.symbol(s)?;
        }
        Ok(Value::Array(
            self.orders
                .values()
                .filter(|o| {
                    o.account == account
                        && o.status.is_open()
                        && symbol.is_none_or(|s| *o.symbol == *s)
                })
                .map(SimOrder::query)
                .collect(),
        ))
    }

    /// `GET /api/v3/allOrders`: from `from_id`, or within [start, end] (the newest `limit`
    /// without either), oldest first.
    pub fn all_orders(
        &self,
        account: u32,
        symbol: &str,
        from_id: Option<u64>,
        start: Option<i64>,
        end: Option<i64>,
        limit: usize,
    ) -> Result<Value, SimError> {
        self.symbol(symbol)?;
        let chosen: Vec<&SimOrder> = self
            .orders
            .values()
            .filter(|o| o.account == account && *o.symbol == *symbol)
            .filter(|o| from_id.is_none_or(|f| o.id >= f))
            .filter(|o| start.is_none_or(|s| o.time >= s) && end.is_none_or(|e| o.time <= e))
            .collect();
        let chosen = page(&chosen, from_id.is_some() || start.is_some(), limit);
        Ok(Value::Array(chosen.iter().map(|o| o.query()).collect()))
    }

    /// `GET /api/v3/myTrades`: of one order, from trade `from_id`, or within [start, end] (the
    /// newest `limit` otherwise), oldest first.
    #[allow(clippy::too_many_arguments)]
    pub fn my_trades(
        &self,
        account: u32,
        symbol: &str,
        order_id: Option<u64>,
        from_id: Option<u64>,
        start: Option<i64>,
        end: Option<i64>,
        limit: usize,
    ) -> Result<Value, SimError> {
        self.symbol(symbol)?;
        let chosen: Vec<&SimFill> = self.trades[account as usize]
            .iter()
            .filter(|t| *t.symbol == *symbol)
            .filter(|t| order_id.is_none_or(|o| t.order_id == o))
            .filter(|t| from_id.is_none_or(|f| t.id >= f))
            .filter(|t| start.is_none_or(|s| t.time >= s) && end.is_none_or(|e| t.time <= e))
            .collect();
        let from_start = from_id.is_some() || start.is_some() || order_id.is_some();
        let chosen = page(&chosen, from_start, limit);
        Ok(Value::Array(chosen.iter().map(|t| t.json()).collect()))
    }

    /// Deposits `delta` of `asset` into `account` (negative: withdraws it, up to what is free),
    /// announced on the user data stream as Binance announces it: `balanceUpdate`, then
    /// `outboundAccountPosition`. The asset's balance after it.
    pub fn transfer(
        &mut self,
        account: u32,
        asset: &str,
        delta: crate::model::Fixed,
        now: i64,
    ) -> Result<Balance, SimError> {
        let id = self.market.instruments.asset(&asset.to_ascii_uppercase());
        self.path
            .transfer(DeploymentId(account), id, delta, &self.market)
            .map_err(|e| SimError::bad_request(-2010, &e))?;
        let b = self
            .path
            .account(DeploymentId(account))
            .map(|a| a.balance(id))
            .unwrap_or_default();
        let name = self.market.instruments.asset_name(id).to_string();
        self.publish(
            account,
            serde_json::json!({"e": "balanceUpdate", "E": now, "a": name, "d": text(delta), "T": now}),
        );
        let position = serde_json::json!({"e": "outboundAccountPosition", "E": now, "u": now,
            "B": [{"a": name, "f": text(b.free), "l": text(b.locked)}]});
        self.publish(account, position);
        Ok(b)
    }

    /// The balances of `account`, by asset name.
    pub fn balances(&self, account: u32) -> Vec<(String, Balance)> {
        self.path
            .account(DeploymentId(account))
            .map(|a| {
                a.balances()
                    .map(|(asset, b)| (self.market.instruments.asset_name(asset).to_string(), b))
                    .collect()
            })
            .unwrap_or_default()
    }
}
