//! Orders as Binance spot has them, their life cycle, and the updates and fills the order path
//! reports. Every value is exact ([`Fixed`]); the guest's f64 become these at the boundary.

use super::{Fixed, Side, SymbolId, TimestampMs};
use super::{Rejection, reject::RejectCode};
use std::sync::Arc;

/// A deployment's number in the engine: stable for its life, never reused while it lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DeploymentId(pub u32);

/// How much an order is for.
#[derive(
    utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    /// A quantity of the base asset (every order type).
    Base(Fixed),
    /// An amount of the quote asset to spend (buy) or to receive (sell): market orders only,
    /// Binance's `quoteOrderQty`.
    Quote(Fixed),
}

/// When a stop or take-profit order triggers.
#[derive(
    utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// When the last price reaches this stop price.
    Price(Fixed),
    /// A trailing stop: once active, triggers when the price has moved `delta_bps` basis points
    /// against the order from the best price seen since activation. Active at once, or when the
    /// price first reaches `activation` (Binance's `stopPrice` sent with a `trailingDelta`).
    Trailing {
        /// Binance's `trailingDelta`, in basis points.
        delta_bps: u32,
        /// Binance's `stopPrice` of a trailing order: the activation price.
        activation: Option<Fixed>,
    },
}

/// How long a limit order works.
#[derive(
    utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel: what does not fill at once expires.
    Ioc,
    /// Fill or kill: fills entirely at once or expires.
    Fok,
}

impl TimeInForce {
    /// Binance's name: `GTC`, `IOC` or `FOK`.
    pub fn name(self) -> &'static str {
        match self {
            TimeInForce::Gtc => "GTC",
            TimeInForce::Ioc => "IOC",
            TimeInForce::Fok => "FOK",
        }
    }
}

/// The order types of Binance spot.
#[derive(
    utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    /// At the best prices available.
    Market,
    /// At `price` or better.
    Limit {
        /// The limit price.
        price: Fixed,
        /// How long it works.
        time_in_force: TimeInForce,
    },
    /// A limit order that only makes liquidity: refused if it would take (post-only).
    LimitMaker {
        /// The limit price.
        price: Fixed,
    },
    /// A market order once triggered: a buy when the price rises to the stop, a sell when it
    /// falls to it.
    StopLoss {
        /// When it triggers.
        trigger: Trigger,
    },
    /// A limit order at `price` once triggered, in the stop-loss direction.
    StopLossLimit {
        /// When it triggers.
        trigger: Trigger,
        /// The limit price after the trigger.
        price: Fixed,
        /// How long the limit order works.
        time_in_force: TimeInForce,
    },
    /// A market order once triggered: a sell when the price rises to the stop, a buy when it
    /// falls to it.
    TakeProfit {
        /// When it triggers.
        trigger: Trigger,
    },
    /// A limit order at `price` once triggered, in the take-profit direction.
    TakeProfitLimit {
        /// When it triggers.
        trigger: Trigger,
        /// The limit price after the trigger.
        price: Fixed,
        /// How long the limit order works.
        time_in_force: TimeInForce,
    },
}

impl OrderType {
    /// Binance's name of the type (`STOP_LOSS_LIMIT`).
    pub fn name(&self) -> &'static str {
        match self {
            OrderType::Market => "MARKET",
            OrderType::Limit { .. } => "LIMIT",
            OrderType::LimitMaker { .. } => "LIMIT_MAKER",
            OrderType::StopLoss { .. } => "STOP_LOSS",
            OrderType::StopLossLimit { .. } => "STOP_LOSS_LIMIT",
            OrderType::TakeProfit { .. } => "TAKE_PROFIT",
            OrderType::TakeProfitLimit { .. } => "TAKE_PROFIT_LIMIT",
        }
    }

    /// The limit price, for the types that have one.
    pub fn limit_price(&self) -> Option<Fixed> {
        match *self {
            OrderType::Limit { price, .. }
            | OrderType::LimitMaker { price }
            | OrderType::StopLossLimit { price, .. }
            | OrderType::TakeProfitLimit { price, .. } => Some(price),
            OrderType::Market | OrderType::StopLoss { .. } | OrderType::TakeProfit { .. } => None,
        }
    }

    /// The trigger of a stop or take-profit type.
    pub fn trigger(&self) -> Option<Trigger> {
        match *self {
            OrderType::StopLoss { trigger }
            | OrderType::StopLossLimit { trigger, .. }
            | OrderType::TakeProfit { trigger }
            | OrderType::TakeProfitLimit { trigger, .. } => Some(trigger),
            _ => None,
        }
    }

    /// The time in force of a type that takes one (limit types); market orders act as IOC.
    pub fn time_in_force(&self) -> Option<TimeInForce> {
        match *self {
            OrderType::Limit { time_in_force, .. }
            | OrderType::StopLossLimit { time_in_force, .. }
            | OrderType::TakeProfitLimit { time_in_force, .. } => Some(time_in_force),
            _ => None,
        }
    }

    /// Whether it is a stop-loss type (the trigger follows the stop-loss direction).
    pub fn is_stop_loss(&self) -> bool {
        matches!(
            self,
            OrderType::StopLoss { .. } | OrderType::StopLossLimit { .. }
        )
    }

    /// A stop or take-profit type: what Binance counts against MAX_NUM_ALGO_ORDERS.
    pub fn is_algo(&self) -> bool {
        self.trigger().is_some()
    }

    /// What the order becomes once its trigger fires: a market or a limit order.
    pub fn triggered(&self) -> OrderType {
        match *self {
            OrderType::StopLoss { .. } | OrderType::TakeProfit { .. } => OrderType::Market,
            OrderType::StopLossLimit {
                price,
                time_in_force,
                ..
            }
            | OrderType::TakeProfitLimit {
                price,
                time_in_force,
                ..
            } => OrderType::Limit {
                price,
                time_in_force,
            },
            other => other,
        }
    }
}

/// An order as the strategy asked for it, in exact values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct OrderRequest {
    /// The strategy's own id, echoed in every update.
    pub client_id: u64,
    /// The instrument.
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// How much.
    pub amount: Amount,
    /// The type and its prices.
    pub order_type: OrderType,
    /// The visible part of an iceberg order (Binance's `icebergQty`).
    pub iceberg: Option<Fixed>,
    /// Only reduce the strategy's position in the symbol, never open or grow it.
    pub reduce_only: bool,
    /// The tag of the venue it goes to when the host trades on several
    /// ([`crate::execution::route::venue_tag`] of its name); 0 until the order path assigns the
    /// default one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub venue: u32,
}

fn is_zero(tag: &u32) -> bool {
    *tag == 0
}

impl OrderRequest {
    /// The base quantity, unless the order is for a quote amount.
    pub fn base_quantity(&self) -> Option<Fixed> {
        match self.amount {
            Amount::Base(q) => Some(q),
            Amount::Quote(_) => None,
        }
    }
}

/// Where an order is in its life.
#[derive(
    utoipa::ToSchema, Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum OrderStatus {
    /// Accepted by the risk checks, on its way to the venue.
    PendingNew,
    /// Working at the venue (a stop order waiting for its trigger included).
    New,
    /// Working, part filled.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled by the strategy, the operator or a halt.
    Cancelled,
    /// Refused by a risk check, an exchange filter or the venue.
    Rejected,
    /// Ended by its time in force, or a market order the book could not fill.
    Expired,
}

impl OrderStatus {
    /// Whether the order can still fill.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OrderStatus::PendingNew | OrderStatus::New | OrderStatus::PartiallyFilled
        )
    }
}

/// What happened to an order, as Binance's `executionReport` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecutionType {
    /// The venue accepted it.
    New,
    /// (Part of) it executed.
    Trade,
    /// It was cancelled.
    Cancelled,
    /// It was refused.
    Rejected,
    /// Its time in force ended it.
    Expired,
    /// A stop or take-profit order's trigger fired; it now works as a market or limit order.
    Triggered,
    /// A cancel request for it failed (it had filled or ended first).
    CancelRejected,
}

/// Which side of a trade an execution was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Liquidity {
    /// The order rested in the book and was hit.
    Maker,
    /// The order took liquidity resting in the book.
    Taker,
}

/// An execution of (part of) an order.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Fill {
    /// The order it belongs to.
    pub order_id: u64,
    /// The strategy's id for the order.
    pub client_id: u64,
    /// The deployment that owns the order.
    pub owner: Arc<str>,
    /// The instrument.
    pub symbol: SymbolId,
    /// Direction.
    pub side: Side,
    /// The host's id of the trade, unique across deployments.
    pub trade_id: u64,
    /// The venue's own id of the trade, when it has one (an exchange's, per symbol).
    pub venue_trade_id: Option<i64>,
    /// Execution price.
    pub price: Fixed,
    /// Executed base quantity.
    pub quantity: Fixed,
    /// `price * quantity`, exactly as the account moved it.
    pub quote_quantity: Fixed,
    /// Fee valued in the quote asset (negative for a rebate).
    pub fee: Fixed,
    /// The commission as charged: this much of `commission_asset` (the quote asset; the base
    /// a buy received, kept out of it; or the asset the account pays fees in, e.g. BNB).
    pub commission: Fixed,
    /// The asset the commission was charged in.
    pub commission_asset: Arc<str>,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Event time of the execution.
    pub time: TimestampMs,
    /// The order's status after this fill.
    pub status: OrderStatus,
}

/// One change of an order's state, reported to its owner, the journal and the monitor.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderUpdate {
    /// Host-assigned order id.
    pub order_id: u64,
    /// The strategy's id for the order.
    pub client_id: u64,
    /// The deployment that owns it.
    pub deployment: DeploymentId,
    /// Its name.
    pub owner: Arc<str>,
    /// What was asked.
    pub request: OrderRequest,
    /// What happened.
    pub execution: ExecutionType,
    /// The status after it.
    pub status: OrderStatus,
    /// Base quantity filled so far.
    pub filled: Fixed,
    /// Quote quantity filled so far.
    pub filled_quote: Fixed,
    /// The execution, for [`ExecutionType::Trade`].
    pub fill: Option<Fill>,
    /// Why, for rejections and failed cancels.
    pub reject: Option<Rejection>,
    /// Event time.
    pub time: TimestampMs,
}

impl OrderUpdate {
    /// Whether this update is a refusal at submission (nothing reached a venue).
    pub fn is_rejection(&self) -> bool {
        self.execution == ExecutionType::Rejected
    }

    /// The rejection code, if any.
    pub fn reject_code(&self) -> Option<RejectCode> {
        self.reject.as_ref().map(|r| r.code)
    }
}
