//! The data of one guest's store, and the host side of every WIT import: market reads, timers,
//! orders through the pre-trade check, signals, state and logging. Each host function checks
//! its bounds; one that finds a guest abusing them records the reason and traps.

use super::bindings::strategy::stratbox::strategy::{
    clock, log, market, orders, signals, state, types,
};
use super::grants::Grants;
use super::limits::{Limiter, SandboxLimits};
use super::runtime::SandboxError;
use super::state::StateStore;
use crate::journal::{Journal, JournalEntry};
use crate::market::{HISTORY, MarketData};
use crate::model::{Fixed, OrderKind, OrderRequest, OrderStatus, Side, TimeInForce, TimestampMs};
use crate::risk::{Account, RejectCode, Rejection};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// A signal as it crosses the boundary.
pub type Signal = types::Signal;

/// What belongs to a deployment rather than to one version of its code: state, account,
/// timers and grants. Every version of a deployment shares one, so a hot swap moves nothing.
#[derive(Debug)]
pub struct DeploymentData {
    /// The private key-value store.
    pub state: StateStore,
    /// Cash, positions, open orders and the budget.
    pub account: Account,
    /// Pending timers as `(due, id)`.
    pub timers: BTreeSet<(TimestampMs, u64)>,
    next_timer: u64,
    /// What the operator lets its guests reach beyond the contract.
    pub grants: Grants,
}

impl DeploymentData {
    /// Data for a deployment with this state and account, granted nothing.
    pub fn new(state: StateStore, account: Account) -> Self {
        DeploymentData {
            state,
            account,
            timers: BTreeSet::new(),
            next_timer: 1,
            grants: Grants::default(),
        }
    }

    /// The same, with `grants`.
    pub fn with_grants(self, grants: Grants) -> Self {
        DeploymentData { grants, ..self }
    }

    /// Removes and returns the timers due at or before `now`, earliest first.
    pub fn take_due_timers(&mut self, now: TimestampMs) -> Vec<(TimestampMs, u64)> {
        let mut due = Vec::new();
        while let Some(&first) = self.timers.first() {
            if first.0 > now {
                break;
            }
            self.timers.pop_first();
            due.push(first);
        }
        due
    }
}

/// Shared handle to a deployment's data.
pub type SharedDeployment = Arc<Mutex<DeploymentData>>;

/// Locks a deployment's data. A poisoned lock means a host function panicked mid-update; the
/// data is still structurally valid, so the host goes on with it.
pub fn lock(shared: &SharedDeployment) -> MutexGuard<'_, DeploymentData> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What every guest of one host shares.
#[derive(Clone)]
pub struct HostEnv {
    /// The market as the engine has seen it.
    pub market: Arc<RwLock<MarketData>>,
    /// Where changes to persist go.
    pub journal: Arc<dyn Journal>,
    /// Source of order ids, unique across deployments.
    pub order_ids: Arc<AtomicU64>,
}

impl HostEnv {
    /// Reads the market; a poisoned lock is recovered as above.
    pub fn market(&self) -> std::sync::RwLockReadGuard<'_, MarketData> {
        self.market.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// Per-callback counters, reset before each call.
#[derive(Clone, Copy, Debug, Default)]
pub struct CallbackCounters {
    /// Orders submitted.
    pub orders: u32,
    /// Signals emitted.
    pub signals: u32,
    /// Log lines written.
    pub logs: u32,
}

/// The data of one guest's wasmtime store.
pub struct GuestCtx {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) stderr: MemoryOutputPipe,
    pub(crate) name: Arc<str>,
    pub(crate) env: HostEnv,
    pub(crate) deployment: SharedDeployment,
    pub(crate) limits: Arc<SandboxLimits>,
    /// Event time of the call in progress.
    pub(crate) now: TimestampMs,
    pub(crate) counters: CallbackCounters,
    /// Signals emitted during the current event.
    pub(crate) emitted: Vec<Signal>,
    /// Why a host function trapped, for the halt reason.
    pub(crate) fault: Option<String>,
}

/// A WASI clock frozen at the Unix epoch: what a guest sees unless granted the wall clock.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }
    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

impl GuestCtx {
    /// A context with no ambient capabilities beyond the deployment's grants: without them no
    /// preopened directories, no environment, no network, clocks frozen; stdout discarded,
    /// stderr captured (for panic messages).
    pub fn new(
        name: Arc<str>,
        env: HostEnv,
        deployment: SharedDeployment,
        limits: Arc<SandboxLimits>,
    ) -> Result<Self, SandboxError> {
        let stderr = MemoryOutputPipe::new(8 * 1024);
        let mut wasi = WasiCtxBuilder::new();
        wasi.stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        let grants = lock(&deployment).grants.clone();
        grants.apply(&mut wasi).map_err(SandboxError::Grant)?;
        if !(limits.grant_wall_clock || grants.wall_clock) {
            wasi.wall_clock(FrozenClock).monotonic_clock(FrozenClock);
        }
        Ok(GuestCtx {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(&limits),
            stderr,
            name,
            env,
            deployment,
            limits,
            now: 0,
            counters: CallbackCounters::default(),
            emitted: Vec::new(),
            fault: None,
        })
    }

    fn trap(&mut self, reason: String) -> wasmtime::Error {
        self.fault = Some(reason.clone());
        wasmtime::Error::msg(reason)
    }

    fn journal(&self, entry: JournalEntry) {
        self.env.journal.record(entry);
    }
}

impl WasiView for GuestCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

type HostResult<T> = wasmtime::Result<T>;

impl types::Host for GuestCtx {}

/// Converts a host bar to its WIT form.
pub(crate) fn wit_bar(bar: &crate::model::Bar) -> types::Bar {
    types::Bar {
        symbol: bar.symbol,
        interval_ms: bar.interval_ms,
        open_time: bar.open_time,
        open: bar.open,
        high: bar.high,
        low: bar.low,
        close: bar.close,
        volume: bar.volume,
    }
}

impl market::Host for GuestCtx {
    fn find_symbol(&mut self, name: String) -> HostResult<Option<u32>> {
        Ok(self.env.market().symbols.id(&name))
    }

    fn symbol_name(&mut self, symbol: u32) -> HostResult<Option<String>> {
        Ok(self
            .env
            .market()
            .symbols
            .name(symbol)
            .map(|n| n.to_string()))
    }

    fn recent_bars(&mut self, symbol: u32, count: u32) -> HostResult<Vec<types::Bar>> {
        let count = (count as usize).min(HISTORY);
        Ok(self
            .env
            .market()
            .recent_bars(symbol, count)
            .map(wit_bar)
            .collect())
    }

    fn best_bid_ask(&mut self, symbol: u32) -> HostResult<Option<types::TopOfBook>> {
        let market = self.env.market();
        let level = |&(price, quantity): &(f64, f64)| types::BookLevel { price, quantity };
        if let Some(book) = market.book(symbol)
            && let (Some(bid), Some(ask)) = (book.bids.first(), book.asks.first())
        {
            return Ok(Some(types::TopOfBook {
                symbol,
                time: book.time,
                bid: level(bid),
                ask: level(ask),
            }));
        }
        // Without a live book, the last close stands for both sides, with unknown size.
        Ok(market.last_bar(symbol).map(|bar| {
            let level = types::BookLevel {
                price: bar.close,
                quantity: 0.0,
            };
            types::TopOfBook {
                symbol,
                time: bar.close_time(),
                bid: level,
                ask: level,
            }
        }))
    }

    fn book(&mut self, symbol: u32, depth: u32) -> HostResult<Option<types::BookLevels>> {
        let market = self.env.market();
        let levels = |side: &[(f64, f64)]| {
            side.iter()
                .take(depth as usize)
                .map(|&(price, quantity)| types::BookLevel { price, quantity })
                .collect()
        };
        Ok(market.book(symbol).map(|b| types::BookLevels {
            symbol,
            time: b.time,
            bids: levels(&b.bids),
            asks: levels(&b.asks),
        }))
    }

    fn feature(&mut self, symbol: u32, name: String) -> HostResult<Result<Option<f64>, String>> {
        if let Some(value) = self.env.market().started_feature(symbol, &name) {
            return Ok(value);
        }
        // A feature read for the first time is started for the symbol: that writes.
        let mut market = self.env.market.write().unwrap_or_else(|p| p.into_inner());
        Ok(market.feature(symbol, &name))
    }

    fn predict(&mut self, symbol: u32) -> HostResult<Option<types::Prediction>> {
        let market = self.env.market();
        Ok(market.prediction(symbol).map(|p| types::Prediction {
            symbol,
            time: p.as_of,
            model: format!("ensemble v{}", p.version),
            probabilities: p.probabilities.clone(),
            expected_return: p.expected_return,
            confidence: p.confidence,
        }))
    }
}

impl clock::Host for GuestCtx {
    fn now(&mut self) -> HostResult<i64> {
        Ok(self.now)
    }

    fn set_timer(&mut self, due: i64) -> HostResult<u64> {
        let mut data = lock(&self.deployment);
        if data.timers.len() >= 10_000 {
            drop(data);
            return Err(self.trap("more than 10000 pending timers".into()));
        }
        let id = data.next_timer;
        data.next_timer += 1;
        data.timers.insert((due, id));
        Ok(id)
    }

    fn cancel_timer(&mut self, id: u64) -> HostResult<bool> {
        let mut data = lock(&self.deployment);
        let found = data.timers.iter().find(|(_, i)| *i == id).copied();
        Ok(found.is_some_and(|t| data.timers.remove(&t)))
    }
}

fn reject(code: RejectCode, message: String) -> types::OrderRejected {
    let code = match code {
        RejectCode::InvalidOrder => types::RejectCode::InvalidOrder,
        RejectCode::UnknownSymbol => types::RejectCode::UnknownSymbol,
        RejectCode::MaxOrderNotional => types::RejectCode::MaxOrderNotional,
        RejectCode::MaxPosition => types::RejectCode::MaxPosition,
        RejectCode::MaxGrossExposure => types::RejectCode::MaxGrossExposure,
        RejectCode::MaxOrdersPerSecond => types::RejectCode::MaxOrdersPerSecond,
        RejectCode::MaxDailyLoss => types::RejectCode::MaxDailyLoss,
        RejectCode::ReduceOnly => types::RejectCode::ReduceOnly,
        RejectCode::TooManyOrdersInCallback => types::RejectCode::TooManyOrdersInCallback,
        RejectCode::StrategyHalted => types::RejectCode::StrategyHalted,
    };
    types::OrderRejected { code, message }
}

/// Converts a guest's order to exact values, or says what is wrong with it.
fn validate(order: &types::OrderRequest, market: &MarketData) -> Result<OrderRequest, Rejection> {
    let invalid = |m: String| Rejection::new(RejectCode::InvalidOrder, m);
    let positive = |what: &str, x: f64| -> Result<Fixed, Rejection> {
        let v = Fixed::from_f64(x).map_err(|e| invalid(format!("{what}: {e}")))?;
        if !v.is_positive() {
            return Err(invalid(format!("{what} must be positive, got {x}")));
        }
        Ok(v)
    };
    if market.symbols.name(order.symbol).is_none() {
        return Err(Rejection::new(
            RejectCode::UnknownSymbol,
            format!("unknown symbol id {}", order.symbol),
        ));
    }
    let kind = match order.kind {
        types::OrderKind::Market => OrderKind::Market,
        types::OrderKind::Limit(p) => OrderKind::Limit(positive("limit price", p)?),
        types::OrderKind::Stop(p) => OrderKind::Stop(positive("stop price", p)?),
        types::OrderKind::StopLimit(p) => OrderKind::StopLimit {
            stop: positive("stop price", p.stop)?,
            limit: positive("limit price", p.limit)?,
        },
    };
    Ok(OrderRequest {
        client_id: order.client_id,
        symbol: order.symbol,
        side: match order.side {
            types::Side::Buy => Side::Buy,
            types::Side::Sell => Side::Sell,
        },
        quantity: positive("quantity", order.quantity)?,
        kind,
        time_in_force: match order.time_in_force {
            types::TimeInForce::Gtc => TimeInForce::Gtc,
            types::TimeInForce::Ioc => TimeInForce::Ioc,
            types::TimeInForce::Fok => TimeInForce::Fok,
        },
        reduce_only: order.reduce_only,
    })
}

/// Converts a host order status to its WIT form.
pub(crate) fn wit_status(status: OrderStatus) -> types::OrderStatus {
    match status {
        OrderStatus::Accepted => types::OrderStatus::Accepted,
        OrderStatus::PartiallyFilled => types::OrderStatus::PartiallyFilled,
        OrderStatus::Filled => types::OrderStatus::Filled,
        OrderStatus::Cancelled => types::OrderStatus::Cancelled,
        OrderStatus::Rejected => types::OrderStatus::Rejected,
        OrderStatus::Expired => types::OrderStatus::Expired,
    }
}

/// Converts a host side to its WIT form.
pub(crate) fn wit_side(side: Side) -> types::Side {
    match side {
        Side::Buy => types::Side::Buy,
        Side::Sell => types::Side::Sell,
    }
}

impl orders::Host for GuestCtx {
    fn submit(
        &mut self,
        order: types::OrderRequest,
    ) -> HostResult<Result<u64, types::OrderRejected>> {
        self.counters.orders += 1;
        if self.counters.orders > self.limits.orders_per_callback {
            let limit = self.limits.orders_per_callback;
            return Err(self.trap(format!(
                "submitted more than {limit} orders in one callback"
            )));
        }
        let market = self.env.market();
        let request = match validate(&order, &market) {
            Ok(r) => r,
            Err(r) => return Ok(Err(reject(r.code, r.message))),
        };
        let id = self.env.order_ids.fetch_add(1, Ordering::Relaxed);
        let mut data = lock(&self.deployment);
        match data
            .account
            .pre_trade_check(request, id, &self.name, self.now, &market.marks)
        {
            Ok(()) => Ok(Ok(id)),
            Err(r) => Ok(Err(reject(r.code, r.message))),
        }
    }

    fn cancel(&mut self, order_id: u64) -> HostResult<Result<(), String>> {
        Ok(lock(&self.deployment).account.cancel(order_id).map(|_| ()))
    }

    fn open_orders(&mut self) -> HostResult<Vec<types::OrderUpdate>> {
        let data = lock(&self.deployment);
        Ok(data
            .account
            .open_orders()
            .map(|o| types::OrderUpdate {
                order_id: o.id,
                client_id: o.request.client_id,
                symbol: o.request.symbol,
                side: wit_side(o.request.side),
                status: wit_status(o.status),
                quantity: o.request.quantity.to_f64(),
                filled_quantity: o.filled.to_f64(),
                time: o.time,
            })
            .collect())
    }

    fn positions(&mut self) -> HostResult<Vec<types::Position>> {
        let market = self.env.market();
        let data = lock(&self.deployment);
        Ok(data
            .account
            .positions()
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
        let market = self.env.market();
        let data = lock(&self.deployment);
        let a = &data.account;
        let b = a.budget();
        let gross = a.gross_exposure(&market.marks).to_f64();
        let daily = a.daily_pnl(&market.marks).to_f64();
        Ok(types::Account {
            equity: a.equity(&market.marks).to_f64(),
            cash: a.cash().to_f64(),
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

impl signals::Host for GuestCtx {
    fn emit(&mut self, mut signal: Signal) -> HostResult<()> {
        self.counters.signals += 1;
        if self.counters.signals > self.limits.signals_per_callback {
            let limit = self.limits.signals_per_callback;
            return Err(self.trap(format!("emitted more than {limit} signals in one callback")));
        }
        if !(signal.strength.is_finite() && signal.confidence.is_finite()) {
            return Err(
                self.trap("emitted a signal with a non-finite strength or confidence".into())
            );
        }
        signal.strength = signal.strength.clamp(0.0, 1.0);
        signal.confidence = signal.confidence.clamp(0.0, 1.0);
        signal.source = self.name.to_string(); // a guest speaks only for itself
        signal.time = self.now;
        self.emitted.push(signal);
        Ok(())
    }
}

impl state::Host for GuestCtx {
    fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        Ok(lock(&self.deployment).state.get(&key).map(<[u8]>::to_vec))
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<Result<(), String>> {
        let result = lock(&self.deployment).state.set(&key, &value);
        if result.is_ok() {
            self.journal(JournalEntry::StateSet {
                deployment: self.name.clone(),
                key,
                value,
            });
        }
        Ok(result)
    }

    fn delete(&mut self, key: String) -> HostResult<bool> {
        let existed = lock(&self.deployment).state.delete(&key);
        if existed {
            self.journal(JournalEntry::StateDelete {
                deployment: self.name.clone(),
                key,
            });
        }
        Ok(existed)
    }

    fn keys(&mut self) -> HostResult<Vec<String>> {
        Ok(lock(&self.deployment).state.keys().cloned().collect())
    }
}

impl log::Host for GuestCtx {
    fn log(&mut self, level: types::Level, message: String) -> HostResult<()> {
        self.counters.logs += 1;
        if self.counters.logs > self.limits.logs_per_callback {
            return Ok(());
        }
        let mut message = message;
        if message.len() > 1024 {
            let mut cut = 1024;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let name = &*self.name;
        match level {
            types::Level::Trace => tracing::trace!(target: "guest", deployment = name, "{message}"),
            types::Level::Debug => tracing::debug!(target: "guest", deployment = name, "{message}"),
            types::Level::Info => tracing::info!(target: "guest", deployment = name, "{message}"),
            types::Level::Warn => tracing::warn!(target: "guest", deployment = name, "{message}"),
            types::Level::Error => tracing::error!(target: "guest", deployment = name, "{message}"),
        }
        Ok(())
    }
}
