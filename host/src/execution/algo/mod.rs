//! Execution algorithms: a parent order worked through child orders over time, so that a
//! large order costs less than taking the book at once. TWAP and VWAP follow a schedule
//! ([`schedule`]), POV a share of the market's traded volume, an iceberg shows a part at a
//! time (Binance's native `icebergQty`, or sliced by the host), a peg keeps a limit at the
//! touch. Every child is an ordinary order of the parent's deployment: it meets the same risk
//! checks and balance locks. Each parent keeps its [`tca::Tca`].
//!
//! Child prices never pass the parent's cap: its limit price and its slippage cap from the mid
//! when it started. Whether a child takes (an immediate-or-cancel limit at the cap) or rests (a
//! limit-maker at its own side's touch, re-pegged when the touch moves away) follows the
//! urgency: `passive` always rests, `aggressive` always takes, `neutral` rests while on
//! schedule and takes when more than one slice behind or in the last slice.
//!
//! With several venues, a child that takes is split across them for the best price after
//! fees and one that rests goes to the cheapest maker ([`venues`]).

pub mod order;
pub mod schedule;
pub mod tca;
pub mod venues;

use super::OrderPath;
use crate::market::MarketData;
use crate::model::{
    Amount, DeploymentId, ExecutionType, Fixed, Liquidity, OrderRequest, OrderType, OrderUpdate,
    RejectCode, Side, SymbolId, TimeInForce, TimestampMs,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use tca::{Executions, Tca};

/// The slippage cap of a parent that sets neither a limit nor a cap, in basis points.
pub const DEFAULT_SLIPPAGE_BPS: f64 = 50.0;
/// Least time between two re-pegs of a resting child, in milliseconds.
const REPEG_MS: i64 = 250;
/// Pause after a refused child before the next try, in milliseconds.
const RETRY_MS: i64 = 1_000;
/// The client id of a child order is this bit with its parent's id: an update about a child
/// refused at submission (whose order id the parent never learnt) is recognised by it.
const CHILD_CLIENT_ID: u64 = 1 << 63;

/// How a parent is worked.
#[derive(Clone, Debug, PartialEq)]
pub enum Style {
    /// Evenly over its slices.
    Twap,
    /// By a volume profile: one weight per slice.
    Vwap {
        /// The weights.
        weights: Vec<f64>,
    },
    /// A share of the market's traded volume since the start.
    Pov {
        /// The share, in (0, 1).
        rate: f64,
    },
    /// A part at a time at the limit price.
    Iceberg {
        /// The part shown.
        visible: Fixed,
        /// Binance's own iceberg order (one child with `icebergQty`) instead of host slices.
        native: bool,
    },
    /// One resting child at its side's touch (plus `offset_ticks` towards the other side),
    /// following it.
    Peg {
        /// Ticks inside the touch.
        offset_ticks: u32,
    },
}

impl Style {
    /// Its name.
    pub fn name(&self) -> &'static str {
        match self {
            Style::Twap => "twap",
            Style::Vwap { .. } => "vwap",
            Style::Pov { .. } => "pov",
            Style::Iceberg { .. } => "iceberg",
            Style::Peg { .. } => "peg",
        }
    }
}

/// Taking or resting.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    /// Always rest (maker fees, may not finish).
    Passive,
    /// Rest while on schedule, take when behind.
    #[default]
    Neutral,
    /// Always take (within the cap).
    Aggressive,
}

/// A parent order.
#[derive(Clone, Debug, PartialEq)]
pub struct AlgoSpec {
    /// The symbol.
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// Base quantity in all.
    pub quantity: Fixed,
    /// How it is worked.
    pub style: Style,
    /// When it starts (event time).
    pub start: TimestampMs,
    /// When it must be done; what is left then expires.
    pub end: TimestampMs,
    /// Slices of a TWAP (VWAP: its weights' count).
    pub slices: u32,
    /// Never buy above (sell below) this price.
    pub limit: Option<Fixed>,
    /// Never pay more than this many basis points through the mid at the start.
    pub max_slippage_bps: Option<f64>,
    /// Taking or resting.
    pub urgency: Urgency,
    /// The venue its children all go to (by name); every venue when absent.
    pub venue: Option<Arc<str>>,
    /// Whether it was asked to start now: its window then opens when it first has a price
    /// (a service that has not yet seen the market would otherwise spend it waiting).
    pub floating: bool,
}

/// Where a parent is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlgoState {
    /// Before its start, or waiting for a price.
    Waiting,
    /// Sending children.
    Working,
    /// Filled.
    Done,
    /// Its end came first; what was left is not done.
    Expired,
    /// Stopped by the operator, a halt or the removal of its deployment.
    Cancelled,
}

/// A child order in the market.
#[derive(Clone, Debug, PartialEq)]
struct Child {
    price: Fixed,
    quantity: Fixed,
    filled: Fixed,
    resting: bool,
    since: TimestampMs,
    cancelling: bool,
    /// The venue's name (empty with a single venue).
    venue: Arc<str>,
}

/// A parent order as it works.
#[derive(Clone, Debug, PartialEq)]
struct Parent {
    owner: DeploymentId,
    spec: AlgoSpec,
    state: AlgoState,
    arrival_mid: Option<f64>,
    executions: Executions,
    children: BTreeMap<u64, Child>,
    sent: u64,
    refused: u64,
    last_refusal: Option<String>,
    pause_until: TimestampMs,
    /// What it executed on each venue, by name (only with several venues).
    venues: BTreeMap<Arc<str>, venues::VenueExecution>,
    /// A TWAP's or VWAP's share due by the end of each slice (empty for the other styles).
    due: Vec<f64>,
}

/// What operators see of a parent order.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AlgoView {
    /// Its id.
    pub id: u64,
    /// The deployment whose orders its children are.
    pub deployment: String,
    /// The symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// `twap`, `vwap`, `pov`, `iceberg` or `peg`.
    pub style: String,
    /// Base quantity in all.
    pub quantity: f64,
    /// Where it is.
    pub state: AlgoState,
    /// Start and end (ms since the epoch, event time).
    pub start_ms: i64,
    /// End.
    pub end_ms: i64,
    /// The price its children may not pass, once known.
    pub cap: Option<f64>,
    /// Base quantity in open children.
    pub working: f64,
    /// Children not yet ended at the venue, those being cancelled included.
    pub open_children: usize,
    /// Children the checks or the venue refused.
    pub refused: u64,
    /// The last refusal.
    pub last_refusal: Option<String>,
    /// Its cost analysis so far.
    pub tca: Tca,
    /// What it executed on each venue (empty with a single venue).
    pub venues: Vec<venues::VenueExecution>,
}

/// Every parent order of the engine.
#[derive(Debug, Default)]
pub struct Algos {
    parents: BTreeMap<u64, Parent>,
    /// Parents not yet finished (working, or with children still open): the only ones the
    /// engine steps on every event; finished ones stay in `parents` for their history.
    live: std::collections::BTreeSet<u64>,
    /// Parent id by child order id.
    by_child: BTreeMap<u64, u64>,
    next_id: u64,
}

/// The mid of `symbol`: the book's, or the last price.
fn mid(market: &MarketData, symbol: SymbolId) -> Option<f64> {
    let bid = market.touch(symbol, Side::Sell)?;
    let ask = market.touch(symbol, Side::Buy)?;
    Some((bid.to_f64() + ask.to_f64()) / 2.0)
}

impl Parent {
    /// The price children may not pass: the limit, and the slippage cap from the arrival mid.
    fn cap(&self, tick: Fixed) -> Option<Fixed> {
        let bps = self.spec.max_slippage_bps.or(if self.spec.limit.is_none() {
            Some(DEFAULT_SLIPPAGE_BPS)
        } else {
            None
        });
        let from_mid = self.arrival_mid.zip(bps).and_then(|(m, bps)| {
            let x = match self.spec.side {
                Side::Buy => m * (1.0 + bps / 1e4),
                Side::Sell => m * (1.0 - bps / 1e4),
            };
            let p = Fixed::from_f64(x).ok()?;
            // On the tick grid, inside the cap.
            Some(match self.spec.side {
                Side::Buy => p.floor_to(tick),
                Side::Sell => Fixed::from_raw(p.raw() + tick.raw() - 1).floor_to(tick),
            })
        });
        match (self.spec.limit, from_mid) {
            (Some(l), Some(m)) => Some(match self.spec.side {
                Side::Buy => l.min(m),
                Side::Sell => l.max(m),
            }),
            (l, m) => l.or(m),
        }
    }

    fn open_quantity(&self) -> Fixed {
        self.children
            .values()
            .filter(|c| !c.cancelling)
            .fold(Fixed::ZERO, |s, c| {
                s.saturating_add(c.quantity.saturating_sub(c.filled))
            })
    }

    /// How much should be filled or working by now.
    fn target(&self, now: TimestampMs) -> Fixed {
        let q = self.spec.quantity;
        let x = match &self.spec.style {
            Style::Twap | Style::Vwap { .. } => {
                schedule::due_share(now, self.spec.start, self.spec.end, &self.due)
            }
            Style::Pov { rate } => {
                let due = rate * self.executions.market_volume / q.to_f64().max(f64::MIN_POSITIVE);
                due.clamp(0.0, 1.0)
            }
            Style::Iceberg { .. } | Style::Peg { .. } => 1.0,
        };
        Fixed::from_f64(q.to_f64() * x).unwrap_or(q).min(q)
    }

    /// Whether children should take now.
    fn take(&self, now: TimestampMs, target: Fixed) -> bool {
        match self.spec.urgency {
            Urgency::Aggressive => true,
            Urgency::Passive => false,
            Urgency::Neutral => {
                let slices = match self.due.len() {
                    0 => self.spec.slices.max(1),
                    n => n as u32,
                };
                let slice = self.spec.quantity.to_f64() / f64::from(slices);
                let behind = target.saturating_sub(self.executions.filled).to_f64();
                let last =
                    schedule::slice_at(now, self.spec.start, self.spec.end, slices) + 1 >= slices;
                matches!(
                    self.spec.style,
                    Style::Twap | Style::Vwap { .. } | Style::Pov { .. }
                ) && (behind > slice * 1.000_001 || last)
            }
        }
    }
}

impl Algos {
    /// Starts `spec` for deployment `owner`: its id.
    pub fn start(&mut self, owner: DeploymentId, spec: AlgoSpec) -> u64 {
        self.next_id += 1;
        let due = match &spec.style {
            Style::Twap => schedule::cumulative(&schedule::even(spec.slices)),
            Style::Vwap { weights } => schedule::cumulative(weights),
            _ => Vec::new(),
        };
        self.parents.insert(
            self.next_id,
            Parent {
                owner,
                spec,
                state: AlgoState::Waiting,
                arrival_mid: None,
                executions: Executions::default(),
                children: BTreeMap::new(),
                sent: 0,
                refused: 0,
                last_refusal: None,
                pause_until: i64::MIN,
                venues: BTreeMap::new(),
                due,
            },
        );
        self.live.insert(self.next_id);
        self.next_id
    }

    /// Whether any parent is still working (the engine steps them on every event).
    pub fn active(&self) -> bool {
        !self.live.is_empty()
    }

    /// Forgets parent `id` as live once it has finished and its children have ended.
    fn retire(&mut self, id: u64) {
        let finished = self.parents.get(&id).is_none_or(|p| {
            !matches!(p.state, AlgoState::Waiting | AlgoState::Working) && p.children.is_empty()
        });
        if finished {
            self.live.remove(&id);
        }
    }

    /// Stops parent `id` (its open children are cancelled); false for no such working parent.
    pub fn cancel(&mut self, id: u64, now: TimestampMs, orders: &mut OrderPath) -> bool {
        let Some(p) = self.parents.get_mut(&id) else {
            return false;
        };
        if !matches!(p.state, AlgoState::Waiting | AlgoState::Working) {
            return false;
        }
        p.state = AlgoState::Cancelled;
        cancel_children(p, now, orders);
        true
    }

    /// Stops parent `id` if deployment `owner` started it (a guest stops only its own).
    pub fn cancel_own(
        &mut self,
        owner: DeploymentId,
        id: u64,
        now: TimestampMs,
        orders: &mut OrderPath,
    ) -> bool {
        self.parents.get(&id).is_some_and(|p| p.owner == owner) && self.cancel(id, now, orders)
    }

    /// Parent `id` of deployment `owner`: its state, open quantity and cost analysis.
    pub fn status(&self, owner: DeploymentId, id: u64) -> Option<(AlgoState, Fixed, Tca)> {
        let p = self.parents.get(&id).filter(|p| p.owner == owner)?;
        let tca = p
            .executions
            .analyse(p.spec.side, p.spec.quantity, p.arrival_mid, p.sent);
        Some((p.state, p.open_quantity(), tca))
    }

    /// Stops every parent of deployment `owner`.
    pub fn cancel_owner(&mut self, owner: DeploymentId, now: TimestampMs, orders: &mut OrderPath) {
        let ids: Vec<u64> = self
            .parents
            .iter()
            .filter(|(_, p)| p.owner == owner)
            .map(|(&id, _)| id)
            .collect();
        for id in ids {
            self.cancel(id, now, orders);
        }
    }

    /// Counts a market trade on `symbol` for the parents working on it.
    pub fn on_trade(&mut self, symbol: SymbolId, price: f64, quantity: f64) {
        for id in &self.live {
            let Some(p) = self.parents.get_mut(id) else {
                continue;
            };
            if p.spec.symbol == symbol && p.state == AlgoState::Working {
                p.executions.market_volume += quantity;
                p.executions.market_notional += price * quantity;
            }
        }
    }

    /// Takes `update` if it is about a child order: true when it was one (its owner's strategy
    /// does not hear of it).
    pub fn on_update(&mut self, update: &OrderUpdate) -> bool {
        let Some(&id) = self.by_child.get(&update.order_id) else {
            // A child refused at submission: the parent counted the refusal already.
            let parent = update.client_id & !CHILD_CLIENT_ID;
            return update.client_id & CHILD_CLIENT_ID != 0
                && self
                    .parents
                    .get(&parent)
                    .is_some_and(|p| p.owner == update.deployment);
        };
        let Some(p) = self.parents.get_mut(&id) else {
            return true;
        };
        if let Some(fill) = &update.fill {
            let e = &mut p.executions;
            e.filled = e.filled.saturating_add(fill.quantity);
            e.notional = e.notional.saturating_add(fill.quote_quantity);
            e.fees = e.fees.saturating_add(fill.fee);
            if fill.liquidity == Liquidity::Maker {
                e.maker = e.maker.saturating_add(fill.quantity);
            }
            if let Some(c) = p.children.get_mut(&update.order_id) {
                c.filled = c.filled.saturating_add(fill.quantity);
                if let Some(v) = p.venues.get_mut(&c.venue) {
                    v.filled += fill.quantity.to_f64();
                    v.notional += fill.quote_quantity.to_f64();
                    v.fees += fill.fee.to_f64();
                }
            }
        }
        if update.execution == ExecutionType::Rejected {
            p.refused += 1;
            p.last_refusal = update.reject.as_ref().map(|r| r.message.clone());
            p.pause_until = update.time + RETRY_MS;
        }
        if !update.status.is_open() {
            p.children.remove(&update.order_id);
            self.by_child.remove(&update.order_id);
            self.retire(id);
        }
        true
    }

    /// Works every parent at `now`: sends, re-pegs and cancels children, ends parents.
    pub fn step(&mut self, now: TimestampMs, market: &MarketData, orders: &mut OrderPath) {
        let ids: Vec<u64> = self.live.iter().copied().collect();
        for id in ids {
            let Some(p) = self.parents.get_mut(&id) else {
                continue;
            };
            for child in step_parent(id, p, now, market, orders) {
                self.by_child.insert(child, id);
            }
            self.retire(id);
        }
    }

    /// Every parent, newest first.
    pub fn views(
        &self,
        market: &MarketData,
        name_of: impl Fn(DeploymentId) -> String,
    ) -> Vec<AlgoView> {
        self.parents
            .iter()
            .rev()
            .map(|(&id, p)| {
                let tick = market
                    .instrument(p.spec.symbol)
                    .map_or(Fixed::from_raw(1), |i| i.tick());
                AlgoView {
                    id,
                    deployment: name_of(p.owner),
                    symbol: market.symbols().label(p.spec.symbol).to_string(),
                    side: p.spec.side,
                    style: p.spec.style.name().into(),
                    quantity: p.spec.quantity.to_f64(),
                    state: p.state,
                    start_ms: p.spec.start,
                    end_ms: p.spec.end,
                    cap: p.arrival_mid.and(p.cap(tick)).map(Fixed::to_f64),
                    working: p.open_quantity().to_f64(),
                    open_children: p.children.len(),
                    refused: p.refused,
                    last_refusal: p.last_refusal.clone(),
                    tca: p
                        .executions
                        .analyse(p.spec.side, p.spec.quantity, p.arrival_mid, p.sent),
                    venues: p.venues.values().cloned().collect(),
                }
            })
            .collect()
    }
}

fn cancel_children(p: &mut Parent, now: TimestampMs, orders: &mut OrderPath) {
    for (&order_id, c) in p.children.iter_mut() {
        if !c.cancelling {
            c.cancelling = true;
            let _ = orders.cancel(p.owner, order_id, now);
        }
    }
}

/// One step of parent `id`: the children it sent.
fn step_parent(
    id: u64,
    p: &mut Parent,
    now: TimestampMs,
    market: &MarketData,
    orders: &mut OrderPath,
) -> Vec<u64> {
    let mut sent = Vec::new();
    if !matches!(p.state, AlgoState::Waiting | AlgoState::Working) || now < p.spec.start {
        return sent;
    }
    let symbol = p.spec.symbol;
    let Some(instrument) = market.instrument(symbol) else {
        return sent;
    };
    let (tick, step) = (instrument.tick(), instrument.step());
    if p.arrival_mid.is_none() {
        let Some(m) = mid(market, symbol) else {
            return sent;
        };
        p.arrival_mid = Some(m);
        p.state = AlgoState::Working;
        if std::mem::take(&mut p.spec.floating) {
            p.spec.end = now + (p.spec.end - p.spec.start);
            p.spec.start = now;
        }
    }
    let remaining = p.spec.quantity.saturating_sub(p.executions.filled);
    if remaining < step || now >= p.spec.end {
        cancel_children(p, now, orders);
        if p.children.is_empty() {
            p.state = if remaining < step {
                AlgoState::Done
            } else {
                AlgoState::Expired
            };
        }
        return sent;
    }
    let side = p.spec.side;
    let mut legs = orders.venue_legs(symbol, market);
    if let Some(pinned) = &p.spec.venue {
        legs.retain(|l| l.name == *pinned);
    }
    // The best price on the parent's own side and on the other of the venue named: the bid
    // and the ask for a buy.
    let touches = |venue: &str| {
        let (bid, ask) = venues::touch(&legs, venue, market, symbol);
        match side {
            Side::Buy => (bid, ask),
            Side::Sell => (ask, bid),
        }
    };
    let cap = p.cap(tick);
    // Resting children left behind by their venue's touch are cancelled, to be sent again at
    // it (not those already at the cap: they would be sent again where they are).
    for (&order_id, c) in p.children.iter_mut() {
        let (own_touch, _) = touches(&c.venue);
        let behind = own_touch.is_some_and(|t| match side {
            Side::Buy => t.min(cap.unwrap_or(t)) > c.price,
            Side::Sell => t.max(cap.unwrap_or(t)) < c.price,
        });
        if c.resting
            && !c.cancelling
            && behind
            && now - c.since >= REPEG_MS
            && !matches!(p.spec.style, Style::Iceberg { .. })
        {
            c.cancelling = true;
            let _ = orders.cancel(p.owner, order_id, now);
        }
    }
    if now < p.pause_until {
        return sent;
    }
    let outstanding = p.open_quantity();
    let one_at_a_time = matches!(p.spec.style, Style::Iceberg { .. } | Style::Peg { .. });
    if one_at_a_time && !p.children.is_empty() {
        return sent;
    }
    let target = p.target(now);
    let mut quantity = target
        .saturating_sub(p.executions.filled)
        .saturating_sub(outstanding)
        .min(remaining)
        .floor_to(step);
    let take = p.take(now, target);
    let (order_type, iceberg) = match &p.spec.style {
        Style::Iceberg { visible, native } => {
            let Some(limit) = p.spec.limit else {
                p.state = AlgoState::Cancelled;
                p.last_refusal = Some("an iceberg needs a limit price".into());
                return sent;
            };
            let limit_order = OrderType::Limit {
                price: limit,
                time_in_force: TimeInForce::Gtc,
            };
            if *native {
                (limit_order, Some(*visible))
            } else {
                quantity = quantity.min(*visible);
                (limit_order, None)
            }
        }
        _ if take => {
            let Some(price) = cap else { return sent };
            (
                OrderType::Limit {
                    price,
                    time_in_force: TimeInForce::Ioc,
                },
                None,
            )
        }
        style => {
            let offset = match style {
                Style::Peg { offset_ticks } => {
                    Fixed::from_raw(tick.raw().saturating_mul(i64::from(*offset_ticks)))
                }
                _ => Fixed::ZERO,
            };
            // At the touch of the venue it will rest on.
            let (own_touch, other) = touches(venues::maker(&legs).map_or("", |l| &l.name));
            let Some(touch) = own_touch else { return sent };
            let at = match side {
                Side::Buy => touch.saturating_add(offset),
                Side::Sell => touch.saturating_sub(offset),
            };
            // Inside the spread at most: a resting child must not take.
            let at = match (side, other) {
                (Side::Buy, Some(ask)) if at >= ask => touch,
                (Side::Sell, Some(bid)) if at <= bid => touch,
                _ => at,
            };
            let price = match (side, cap) {
                (Side::Buy, Some(c)) => at.min(c),
                (Side::Sell, Some(c)) => at.max(c),
                (_, None) => at,
            };
            (OrderType::LimitMaker { price }, None)
        }
    };
    if quantity < step || !quantity.is_positive() {
        return sent;
    }
    let takes = matches!(
        order_type,
        OrderType::Limit {
            time_in_force: TimeInForce::Ioc,
            ..
        }
    );
    let shares = venues::shares(&legs, instrument, side, quantity, takes, cap);
    for share in shares {
        let request = OrderRequest {
            client_id: CHILD_CLIENT_ID | id,
            symbol,
            side,
            amount: Amount::Base(share.quantity),
            order_type,
            iceberg,
            reduce_only: false,
            venue: share.tag,
        };
        match orders.submit(p.owner, request, now, market) {
            Ok(order_id) => {
                p.sent += 1;
                if !share.name.is_empty() {
                    let v = p.venues.entry(share.name.clone()).or_default();
                    v.venue = share.name.to_string();
                    v.children += 1;
                }
                p.children.insert(
                    order_id,
                    Child {
                        price: order_type.limit_price().unwrap_or(Fixed::ZERO),
                        quantity: share.quantity,
                        filled: Fixed::ZERO,
                        resting: matches!(order_type, OrderType::LimitMaker { .. }),
                        since: now,
                        cancelling: false,
                        venue: share.name,
                    },
                );
                sent.push(order_id);
            }
            Err(reason) => {
                p.refused += 1;
                p.pause_until = now + RETRY_MS;
                if matches!(
                    reason.code,
                    RejectCode::StrategyHalted | RejectCode::TradingHalted
                ) {
                    p.state = AlgoState::Cancelled;
                }
                p.last_refusal = Some(reason.message);
                break;
            }
        }
    }
    sent
}

#[cfg(test)]
mod tests;
