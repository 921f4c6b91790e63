//! Conversions of contract 0.2 (`stratbox:strategy@0.2.x`; 0.2.4 is current), the current one.

use super::positive;
use crate::execution::ReplaceMode;
use crate::execution::oms::Order;
use crate::market::MarketData;
use crate::model::{
    AccountLimit, Amount, ExchangeFilter, ExecutionType, FeeRates, Fixed, Instrument, Liquidity,
    OrderRequest, OrderStatus, OrderType, OrderUpdate, RejectCode, Rejection, TimeInForce, Trigger,
};

super::shared_conversions!(crate::sandbox::bindings::v0_2::strategy::stratbox::strategy::types);

fn time_in_force_in(tif: wit::TimeInForce) -> TimeInForce {
    match tif {
        wit::TimeInForce::Gtc => TimeInForce::Gtc,
        wit::TimeInForce::Ioc => TimeInForce::Ioc,
        wit::TimeInForce::Fok => TimeInForce::Fok,
    }
}

fn time_in_force(tif: TimeInForce) -> wit::TimeInForce {
    match tif {
        TimeInForce::Gtc => wit::TimeInForce::Gtc,
        TimeInForce::Ioc => wit::TimeInForce::Ioc,
        TimeInForce::Fok => wit::TimeInForce::Fok,
    }
}

fn trigger_in(trigger: &wit::Trigger) -> Result<Trigger, Rejection> {
    Ok(match *trigger {
        wit::Trigger::Price(p) => Trigger::Price(positive("stop price", p)?),
        wit::Trigger::Trailing(t) => Trigger::Trailing {
            delta_bps: t.delta_bps,
            activation: t
                .activation_price
                .map(|p| positive("activation price", p))
                .transpose()?,
        },
    })
}

fn trigger(trigger: Trigger) -> wit::Trigger {
    match trigger {
        Trigger::Price(p) => wit::Trigger::Price(p.to_f64()),
        Trigger::Trailing {
            delta_bps,
            activation,
        } => wit::Trigger::Trailing(wit::TrailingStop {
            delta_bps,
            activation_price: activation.map(Fixed::to_f64),
        }),
    }
}

/// A guest's order, checked and made exact.
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
    let triggered_limit = |t: &wit::TriggeredLimit| -> Result<_, Rejection> {
        Ok((
            trigger_in(&t.trigger)?,
            positive("limit price", t.price)?,
            time_in_force_in(t.time_in_force),
        ))
    };
    let order_type = match &order.order_type {
        wit::OrderType::Market => OrderType::Market,
        wit::OrderType::Limit(l) => OrderType::Limit {
            price: positive("limit price", l.price)?,
            time_in_force: time_in_force_in(l.time_in_force),
        },
        wit::OrderType::LimitMaker(p) => OrderType::LimitMaker {
            price: positive("limit price", *p)?,
        },
        wit::OrderType::StopLoss(t) => OrderType::StopLoss {
            trigger: trigger_in(t)?,
        },
        wit::OrderType::TakeProfit(t) => OrderType::TakeProfit {
            trigger: trigger_in(t)?,
        },
        wit::OrderType::StopLossLimit(t) => {
            let (trigger, price, time_in_force) = triggered_limit(t)?;
            OrderType::StopLossLimit {
                trigger,
                price,
                time_in_force,
            }
        }
        wit::OrderType::TakeProfitLimit(t) => {
            let (trigger, price, time_in_force) = triggered_limit(t)?;
            OrderType::TakeProfitLimit {
                trigger,
                price,
                time_in_force,
            }
        }
    };
    Ok(OrderRequest {
        client_id: order.client_id,
        symbol: order.symbol,
        side: side_in(order.side),
        amount: match order.amount {
            wit::Amount::Base(q) => Amount::Base(positive("quantity", q)?),
            wit::Amount::Quote(q) => Amount::Quote(positive("quote quantity", q)?),
        },
        order_type,
        iceberg: order
            .iceberg_quantity
            .map(|q| positive("iceberg quantity", q))
            .transpose()?,
        reduce_only: order.reduce_only,
        venue: 0,
    })
}

/// An amount.
pub fn amount(amount: Amount) -> wit::Amount {
    match amount {
        Amount::Base(q) => wit::Amount::Base(q.to_f64()),
        Amount::Quote(q) => wit::Amount::Quote(q.to_f64()),
    }
}

/// An order type.
pub fn order_type(t: &OrderType) -> wit::OrderType {
    let triggered_limit = |t: Trigger, price: Fixed, tif: TimeInForce| wit::TriggeredLimit {
        trigger: trigger(t),
        price: price.to_f64(),
        time_in_force: time_in_force(tif),
    };
    match *t {
        OrderType::Market => wit::OrderType::Market,
        OrderType::Limit {
            price,
            time_in_force: tif,
        } => wit::OrderType::Limit(wit::LimitOrder {
            price: price.to_f64(),
            time_in_force: time_in_force(tif),
        }),
        OrderType::LimitMaker { price } => wit::OrderType::LimitMaker(price.to_f64()),
        OrderType::StopLoss { trigger: t } => wit::OrderType::StopLoss(trigger(t)),
        OrderType::TakeProfit { trigger: t } => wit::OrderType::TakeProfit(trigger(t)),
        OrderType::StopLossLimit {
            trigger: t,
            price,
            time_in_force: tif,
        } => wit::OrderType::StopLossLimit(triggered_limit(t, price, tif)),
        OrderType::TakeProfitLimit {
            trigger: t,
            price,
            time_in_force: tif,
        } => wit::OrderType::TakeProfitLimit(triggered_limit(t, price, tif)),
    }
}

/// An order status.
pub fn order_status(status: OrderStatus) -> wit::OrderStatus {
    match status {
        OrderStatus::PendingNew => wit::OrderStatus::PendingNew,
        OrderStatus::New => wit::OrderStatus::New,
        OrderStatus::PartiallyFilled => wit::OrderStatus::PartiallyFilled,
        OrderStatus::Filled => wit::OrderStatus::Filled,
        OrderStatus::Cancelled => wit::OrderStatus::Cancelled,
        OrderStatus::Rejected => wit::OrderStatus::Rejected,
        OrderStatus::Expired => wit::OrderStatus::Expired,
    }
}

fn filter(f: ExchangeFilter) -> wit::ExchangeFilter {
    match f {
        ExchangeFilter::PriceFilter => wit::ExchangeFilter::PriceFilter,
        ExchangeFilter::PercentPrice => wit::ExchangeFilter::PercentPrice,
        ExchangeFilter::PercentPriceBySide => wit::ExchangeFilter::PercentPriceBySide,
        ExchangeFilter::LotSize => wit::ExchangeFilter::LotSize,
        ExchangeFilter::MarketLotSize => wit::ExchangeFilter::MarketLotSize,
        ExchangeFilter::MinNotional => wit::ExchangeFilter::MinNotional,
        ExchangeFilter::Notional => wit::ExchangeFilter::Notional,
        ExchangeFilter::IcebergParts => wit::ExchangeFilter::IcebergParts,
        ExchangeFilter::MaxNumOrders => wit::ExchangeFilter::MaxNumOrders,
        ExchangeFilter::MaxNumAlgoOrders => wit::ExchangeFilter::MaxNumAlgoOrders,
        ExchangeFilter::MaxNumIcebergOrders => wit::ExchangeFilter::MaxNumIcebergOrders,
        ExchangeFilter::MaxPosition => wit::ExchangeFilter::MaxPosition,
        ExchangeFilter::TrailingDelta => wit::ExchangeFilter::TrailingDelta,
    }
}

/// A refusal, naming its filter or rule.
pub fn rejection(r: &Rejection) -> wit::OrderRejected {
    let code = match r.code {
        RejectCode::InvalidOrder => wit::RejectCode::InvalidOrder,
        RejectCode::UnknownSymbol => wit::RejectCode::UnknownSymbol,
        RejectCode::Filter(f) => wit::RejectCode::Filter(filter(f)),
        RejectCode::InsufficientBalance => wit::RejectCode::InsufficientBalance,
        RejectCode::WouldTakeLiquidity => wit::RejectCode::WouldTakeLiquidity,
        RejectCode::WouldTriggerImmediately => wit::RejectCode::WouldTriggerImmediately,
        RejectCode::UnknownOrder => wit::RejectCode::UnknownOrder,
        RejectCode::MaxOrderNotional => wit::RejectCode::MaxOrderNotional,
        RejectCode::MaxPosition => wit::RejectCode::MaxPosition,
        RejectCode::MaxGrossExposure => wit::RejectCode::MaxGrossExposure,
        RejectCode::MaxOrdersPerSecond => wit::RejectCode::MaxOrdersPerSecond,
        RejectCode::MaxDailyLoss => wit::RejectCode::MaxDailyLoss,
        RejectCode::ReduceOnly => wit::RejectCode::ReduceOnly,
        RejectCode::TooManyOrdersInCallback => wit::RejectCode::TooManyOrdersInCallback,
        RejectCode::StrategyHalted | RejectCode::TradingHalted => wit::RejectCode::StrategyHalted,
        // Rules 0.2.0 has no code for come as the nearest one, their message naming the rule.
        RejectCode::Reducing => wit::RejectCode::ReduceOnly,
        RejectCode::MaxNetExposure | RejectCode::MaxLeverage => wit::RejectCode::MaxGrossExposure,
        RejectCode::Account(limit) => match limit {
            AccountLimit::OrderRate => wit::RejectCode::MaxOrdersPerSecond,
            AccountLimit::OrderNotional => wit::RejectCode::MaxOrderNotional,
            AccountLimit::GrossExposure
            | AccountLimit::NetExposure
            | AccountLimit::Concentration => wit::RejectCode::MaxGrossExposure,
            AccountLimit::OpenOrders | AccountLimit::PriceBand => wit::RejectCode::InvalidOrder,
        },
    };
    wit::OrderRejected {
        code,
        message: r.message.clone(),
    }
}

/// A change of an order.
pub fn order_update(u: &OrderUpdate) -> wit::OrderUpdate {
    wit::OrderUpdate {
        order_id: u.order_id,
        client_id: u.client_id,
        symbol: u.request.symbol,
        side: side(u.request.side),
        amount: amount(u.request.amount),
        order_type: order_type(&u.request.order_type),
        execution_type: match u.execution {
            ExecutionType::New => wit::ExecutionType::New,
            ExecutionType::Trade => wit::ExecutionType::Trade,
            ExecutionType::Cancelled => wit::ExecutionType::Cancelled,
            ExecutionType::Rejected => wit::ExecutionType::Rejected,
            ExecutionType::Expired => wit::ExecutionType::Expired,
            ExecutionType::Triggered => wit::ExecutionType::Triggered,
            ExecutionType::CancelRejected => wit::ExecutionType::CancelRejected,
        },
        status: order_status(u.status),
        filled_quantity: u.filled.to_f64(),
        filled_quote: u.filled_quote.to_f64(),
        execution: u.fill.as_ref().map(|f| wit::Execution {
            trade_id: f.trade_id,
            price: f.price.to_f64(),
            quantity: f.quantity.to_f64(),
            quote_quantity: f.quote_quantity.to_f64(),
            fee: f.fee.to_f64(),
            liquidity: match f.liquidity {
                Liquidity::Maker => wit::Liquidity::Maker,
                Liquidity::Taker => wit::Liquidity::Taker,
            },
        }),
        reject: u.reject.as_ref().map(rejection),
        time: u.time,
    }
}

/// An open order.
pub fn open_order(o: &Order) -> wit::OpenOrder {
    wit::OpenOrder {
        order_id: o.id,
        client_id: o.request.client_id,
        symbol: o.request.symbol,
        side: side(o.request.side),
        amount: amount(o.request.amount),
        order_type: order_type(&o.request.order_type),
        iceberg_quantity: o.request.iceberg.map(Fixed::to_f64),
        status: order_status(o.status),
        filled_quantity: o.filled.to_f64(),
        filled_quote: o.filled_quote.to_f64(),
        time: o.time,
    }
}

/// A symbol's instrument, with its assets' names and the fee rates the venue charges.
pub fn instrument(
    symbol: u32,
    i: &Instrument,
    base: &str,
    quote: &str,
    fees: FeeRates,
) -> wit::Instrument {
    let lot = i.filters.lot_size.unwrap_or_default();
    wit::Instrument {
        symbol,
        name: i.symbol.to_string(),
        base_asset: base.to_string(),
        quote_asset: quote.to_string(),
        tick_size: i.filters.price.map_or(0.0, |p| p.tick_size.to_f64()),
        step_size: lot.step_size.to_f64(),
        min_quantity: lot.min_qty.to_f64(),
        max_quantity: lot.max_qty.to_f64(),
        min_notional: i.min_notional().to_f64(),
        maker_fee: fees.maker.to_f64(),
        taker_fee: fees.taker.to_f64(),
    }
}

/// A cancel-replace mode.
pub fn replace_mode(mode: wit::CancelReplaceMode) -> ReplaceMode {
    match mode {
        wit::CancelReplaceMode::StopOnFailure => ReplaceMode::StopOnFailure,
        wit::CancelReplaceMode::AllowFailure => ReplaceMode::AllowFailure,
    }
}
