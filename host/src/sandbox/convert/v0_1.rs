//! Conversions of contract 0.1 (`stratbox:strategy@0.1.0`).

use super::positive;
use crate::execution::oms::Order;
use crate::market::MarketData;
use crate::model::{
    AccountLimit, Amount, Fill, OrderRequest, OrderStatus, OrderType, RejectCode, Rejection,
    TimeInForce, Trigger,
};

super::shared_conversions!(crate::sandbox::bindings::v0_1::strategy::stratbox::strategy::types);

/// A guest's order, checked and made exact. 0.1 orders are for a base quantity; `stop` is a
/// stop-loss market order, `stop-limit` a stop-loss limit order.
pub fn order_request(
    order: &wit::OrderRequest,
    market: &MarketData,
) -> Result<OrderRequest, Rejection> {
    if market.symbols().name(order.symbol).is_none() {
        return Err(Rejection::new(
            RejectCode::UnknownSymbol,
            format!("unknown symbol id {}", order.symbol),
        ));
    }
    let time_in_force = match order.time_in_force {
        wit::TimeInForce::Gtc => TimeInForce::Gtc,
        wit::TimeInForce::Ioc => TimeInForce::Ioc,
        wit::TimeInForce::Fok => TimeInForce::Fok,
    };
    let order_type = match order.kind {
        wit::OrderKind::Market => OrderType::Market,
        wit::OrderKind::Limit(p) => OrderType::Limit {
            price: positive("limit price", p)?,
            time_in_force,
        },
        wit::OrderKind::Stop(p) => OrderType::StopLoss {
            trigger: Trigger::Price(positive("stop price", p)?),
        },
        wit::OrderKind::StopLimit(p) => OrderType::StopLossLimit {
            trigger: Trigger::Price(positive("stop price", p.stop)?),
            price: positive("limit price", p.limit)?,
            time_in_force,
        },
    };
    Ok(OrderRequest {
        client_id: order.client_id,
        symbol: order.symbol,
        side: side_in(order.side),
        amount: Amount::Base(positive("quantity", order.quantity)?),
        order_type,
        iceberg: None,
        reduce_only: order.reduce_only,
        venue: 0,
    })
}

/// An order status; 0.1 calls pending and working orders accepted.
pub fn order_status(status: OrderStatus) -> wit::OrderStatus {
    match status {
        OrderStatus::PendingNew | OrderStatus::New => wit::OrderStatus::Accepted,
        OrderStatus::PartiallyFilled => wit::OrderStatus::PartiallyFilled,
        OrderStatus::Filled => wit::OrderStatus::Filled,
        OrderStatus::Cancelled => wit::OrderStatus::Cancelled,
        OrderStatus::Rejected => wit::OrderStatus::Rejected,
        OrderStatus::Expired => wit::OrderStatus::Expired,
    }
}

/// A refusal. Rules 0.1 has no code for (exchange filters, balances, venue refusals) come as
/// `invalid-order`, their message naming the rule.
pub fn rejection(r: &Rejection) -> wit::OrderRejected {
    let code = match r.code {
        RejectCode::UnknownSymbol => wit::RejectCode::UnknownSymbol,
        RejectCode::MaxOrderNotional => wit::RejectCode::MaxOrderNotional,
        RejectCode::MaxPosition => wit::RejectCode::MaxPosition,
        RejectCode::MaxGrossExposure => wit::RejectCode::MaxGrossExposure,
        RejectCode::MaxOrdersPerSecond => wit::RejectCode::MaxOrdersPerSecond,
        RejectCode::MaxDailyLoss => wit::RejectCode::MaxDailyLoss,
        RejectCode::ReduceOnly => wit::RejectCode::ReduceOnly,
        RejectCode::TooManyOrdersInCallback => wit::RejectCode::TooManyOrdersInCallback,
        RejectCode::StrategyHalted | RejectCode::TradingHalted => wit::RejectCode::StrategyHalted,
        RejectCode::Reducing => wit::RejectCode::ReduceOnly,
        RejectCode::MaxNetExposure
        | RejectCode::MaxLeverage
        | RejectCode::Account(
            AccountLimit::GrossExposure | AccountLimit::NetExposure | AccountLimit::Concentration,
        ) => wit::RejectCode::MaxGrossExposure,
        RejectCode::Account(AccountLimit::OrderRate) => wit::RejectCode::MaxOrdersPerSecond,
        RejectCode::Account(AccountLimit::OrderNotional) => wit::RejectCode::MaxOrderNotional,
        RejectCode::Account(AccountLimit::OpenOrders | AccountLimit::PriceBand)
        | RejectCode::InvalidOrder
        | RejectCode::Filter(_)
        | RejectCode::InsufficientBalance
        | RejectCode::WouldTakeLiquidity
        | RejectCode::WouldTriggerImmediately
        | RejectCode::UnknownOrder => wit::RejectCode::InvalidOrder,
    };
    wit::OrderRejected {
        code,
        message: r.message.clone(),
    }
}

/// A fill.
pub fn fill(fill: &Fill) -> wit::Fill {
    wit::Fill {
        order_id: fill.order_id,
        client_id: fill.client_id,
        symbol: fill.symbol,
        side: side(fill.side),
        price: fill.price.to_f64(),
        quantity: fill.quantity.to_f64(),
        fee: fill.fee.to_f64(),
        time: fill.time,
        status: order_status(fill.status),
    }
}

/// An open order, as 0.1 lists them.
pub fn open_order(o: &Order) -> wit::OrderUpdate {
    wit::OrderUpdate {
        order_id: o.id,
        client_id: o.request.client_id,
        symbol: o.request.symbol,
        side: side(o.request.side),
        status: order_status(o.status),
        quantity: o.request.base_quantity().unwrap_or(o.remaining()).to_f64(),
        filled_quantity: o.filled.to_f64(),
        time: o.time,
    }
}
