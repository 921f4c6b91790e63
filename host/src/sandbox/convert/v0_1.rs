//! Conversions of contract 0.1 (`stratbox:strategy@0.1.0`).

use super::positive;
use crate::feeds::{BookTop, TradePrint};
use crate::inference::PredictionEvent;
use crate::market::{Conditions, MarketData};
use crate::model::{
    Amount, Bar, Direction, Fill, OrderRequest, OrderStatus, OrderType, RejectCode, Rejection,
    Side, Signal, SignalKind, TimeInForce, Trigger,
};
use crate::sandbox::bindings::strategy::stratbox::strategy::types as wit;
use std::sync::Arc;

/// A bar.
pub fn bar(bar: &Bar) -> wit::Bar {
    wit::Bar {
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

/// A side.
pub fn side(side: Side) -> wit::Side {
    match side {
        Side::Buy => wit::Side::Buy,
        Side::Sell => wit::Side::Sell,
    }
}

/// A public trade.
pub fn trade(trade: &TradePrint) -> wit::Trade {
    wit::Trade {
        symbol: trade.symbol,
        time: trade.time,
        trade_id: trade.trade_id,
        price: trade.price,
        quantity: trade.quantity,
        aggressor: side(trade.aggressor),
    }
}

/// A book level.
pub fn level(&(price, quantity): &(f64, f64)) -> wit::BookLevel {
    wit::BookLevel { price, quantity }
}

/// The best `depth` levels of a book.
pub fn book_levels(book: &BookTop, depth: usize) -> wit::BookLevels {
    wit::BookLevels {
        symbol: book.symbol,
        time: book.time,
        bids: book.bids.iter().take(depth).map(level).collect(),
        asks: book.asks.iter().take(depth).map(level).collect(),
    }
}

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
        side: match order.side {
            wit::Side::Buy => Side::Buy,
            wit::Side::Sell => Side::Sell,
        },
        amount: Amount::Base(positive("quantity", order.quantity)?),
        order_type,
        iceberg: None,
        reduce_only: order.reduce_only,
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
        RejectCode::StrategyHalted => wit::RejectCode::StrategyHalted,
        RejectCode::InvalidOrder
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

/// A signal the guest emitted, as the host keeps it (the source is the deployment's name).
pub fn signal_in(signal: &wit::Signal, source: &Arc<str>) -> Signal {
    Signal {
        symbol: signal.symbol,
        time: signal.time,
        direction: match signal.direction {
            wit::Direction::Long => Direction::Long,
            wit::Direction::Short => Direction::Short,
            wit::Direction::Neutral => Direction::Neutral,
        },
        strength: signal.strength,
        confidence: signal.confidence,
        kind: match signal.kind {
            wit::SignalKind::Trend => SignalKind::Trend,
            wit::SignalKind::Reversal => SignalKind::Reversal,
            wit::SignalKind::Breakout => SignalKind::Breakout,
            wit::SignalKind::Arbitrage => SignalKind::Arbitrage,
        },
        horizon_ms: signal.horizon_ms,
        source: source.clone(),
    }
}

/// A signal for a guest.
pub fn signal_out(signal: &Signal) -> wit::Signal {
    wit::Signal {
        symbol: signal.symbol,
        time: signal.time,
        direction: match signal.direction {
            Direction::Long => wit::Direction::Long,
            Direction::Short => wit::Direction::Short,
            Direction::Neutral => wit::Direction::Neutral,
        },
        strength: signal.strength,
        confidence: signal.confidence,
        kind: match signal.kind {
            SignalKind::Trend => wit::SignalKind::Trend,
            SignalKind::Reversal => wit::SignalKind::Reversal,
            SignalKind::Breakout => wit::SignalKind::Breakout,
            SignalKind::Arbitrage => wit::SignalKind::Arbitrage,
        },
        horizon_ms: signal.horizon_ms,
        source: signal.source.to_string(),
    }
}

/// Market conditions for an optimizer.
pub fn conditions(c: &Conditions) -> wit::MarketConditions {
    wit::MarketConditions {
        symbol: c.symbol,
        time: c.time,
        volatility: c.volatility,
        trend: c.trend,
        volume_ratio: c.volume_ratio,
    }
}

/// The ensemble's latest prediction.
pub fn prediction(p: &PredictionEvent) -> wit::Prediction {
    wit::Prediction {
        symbol: p.symbol,
        time: p.as_of,
        model: format!("ensemble v{}", p.version),
        probabilities: p.probabilities.clone(),
        expected_return: p.expected_return,
        confidence: p.confidence,
    }
}
