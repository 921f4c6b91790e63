//! Why an order was refused: a typed code that names the exchange filter or risk rule, and a
//! sentence with the numbers behind it.

use serde::Serialize;

/// An exchange filter of Binance spot, as `exchangeInfo` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExchangeFilter {
    /// Price range and tick size.
    PriceFilter,
    /// Price within a band around the average price.
    PercentPrice,
    /// Price within a band around the average price, by side.
    PercentPriceBySide,
    /// Quantity range and step.
    LotSize,
    /// Quantity range and step of market orders.
    MarketLotSize,
    /// Minimum notional (legacy).
    MinNotional,
    /// Minimum and maximum notional.
    Notional,
    /// Most parts an iceberg order may be split into.
    IcebergParts,
    /// Most open orders on the symbol.
    MaxNumOrders,
    /// Most open stop and take-profit orders on the symbol.
    MaxNumAlgoOrders,
    /// Most open iceberg orders on the symbol.
    MaxNumIcebergOrders,
    /// Largest position (base balance plus open buys).
    MaxPosition,
    /// Range of a trailing stop's delta.
    TrailingDelta,
}

impl ExchangeFilter {
    /// The filter's name in `exchangeInfo` and in Binance's error messages.
    pub fn name(self) -> &'static str {
        match self {
            ExchangeFilter::PriceFilter => "PRICE_FILTER",
            ExchangeFilter::PercentPrice => "PERCENT_PRICE",
            ExchangeFilter::PercentPriceBySide => "PERCENT_PRICE_BY_SIDE",
            ExchangeFilter::LotSize => "LOT_SIZE",
            ExchangeFilter::MarketLotSize => "MARKET_LOT_SIZE",
            ExchangeFilter::MinNotional => "MIN_NOTIONAL",
            ExchangeFilter::Notional => "NOTIONAL",
            ExchangeFilter::IcebergParts => "ICEBERG_PARTS",
            ExchangeFilter::MaxNumOrders => "MAX_NUM_ORDERS",
            ExchangeFilter::MaxNumAlgoOrders => "MAX_NUM_ALGO_ORDERS",
            ExchangeFilter::MaxNumIcebergOrders => "MAX_NUM_ICEBERG_ORDERS",
            ExchangeFilter::MaxPosition => "MAX_POSITION",
            ExchangeFilter::TrailingDelta => "TRAILING_DELTA",
        }
    }
}

/// Why an order (or a cancel) was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectCode {
    /// Malformed: a non-finite, non-positive or out-of-range value, or a combination of
    /// parameters the order type does not allow.
    InvalidOrder,
    /// The symbol is unknown, or has no price yet for an order that needs one.
    UnknownSymbol,
    /// An exchange filter of the symbol.
    Filter(ExchangeFilter),
    /// The account's free balance does not cover what the order must lock.
    InsufficientBalance,
    /// A limit-maker order that would take liquidity at once.
    WouldTakeLiquidity,
    /// A stop or take-profit order whose trigger the current price has already reached.
    WouldTriggerImmediately,
    /// A cancel or modify of an order that is not open.
    UnknownOrder,
    /// Larger than the budget's `max_order_notional`.
    MaxOrderNotional,
    /// Would take the symbol's position past `max_position_notional`.
    MaxPosition,
    /// Would take gross exposure past `max_gross_exposure`.
    MaxGrossExposure,
    /// More than `max_orders_per_second` in the last second.
    MaxOrdersPerSecond,
    /// The day's loss reached `max_daily_loss` and the order adds exposure.
    MaxDailyLoss,
    /// A reduce-only order that would open or grow a position.
    ReduceOnly,
    /// The callback submitted more orders than one callback may.
    TooManyOrdersInCallback,
    /// The deployment is halted, or not yet installed (orders are refused during `init`).
    StrategyHalted,
    /// The deployment's or the account's trading state is HALTED: cancels only.
    TradingHalted,
    /// The trading state is REDUCING and the order would not reduce a position.
    Reducing,
    /// Would take net exposure past the budget's `max_net_exposure`.
    MaxNetExposure,
    /// Would take gross exposure past `max_leverage` times equity.
    MaxLeverage,
    /// An account-wide limit, over every deployment.
    Account(AccountLimit),
}

/// The account-wide limits (over every deployment), by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountLimit {
    /// Orders accepted in the last second, all deployments together.
    OrderRate,
    /// Open orders, all deployments together.
    OpenOrders,
    /// Largest notional of one order.
    OrderNotional,
    /// Gross exposure, all deployments together.
    GrossExposure,
    /// Net exposure, all deployments together.
    NetExposure,
    /// One symbol's share of the account's gross exposure.
    Concentration,
    /// A limit price too far from the mark (fat finger).
    PriceBand,
}

impl AccountLimit {
    /// The limit's name (`order-rate`, `price-band`).
    pub fn name(self) -> &'static str {
        match self {
            AccountLimit::OrderRate => "order-rate",
            AccountLimit::OpenOrders => "open-orders",
            AccountLimit::OrderNotional => "order-notional",
            AccountLimit::GrossExposure => "gross-exposure",
            AccountLimit::NetExposure => "net-exposure",
            AccountLimit::Concentration => "concentration",
            AccountLimit::PriceBand => "price-band",
        }
    }
}

impl RejectCode {
    /// The rule's name, as reports and metrics label it (`filter:LOT_SIZE`, `max-position`).
    pub fn rule(self) -> String {
        match self {
            RejectCode::Filter(f) => format!("filter:{}", f.name()),
            RejectCode::Account(l) => format!("account:{}", l.name()),
            other => serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
        }
    }
}

/// A refused order: the code and a sentence with the numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Why.
    pub code: RejectCode,
    /// The numbers behind it.
    pub message: String,
}

impl Rejection {
    /// A rejection with a message.
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
        }
    }

    /// A filter failure, worded as Binance words it ("Filter failure: LOT_SIZE"), with detail.
    pub fn filter(filter: ExchangeFilter, detail: impl std::fmt::Display) -> Self {
        Rejection {
            code: RejectCode::Filter(filter),
            message: format!("Filter failure: {} ({detail})", filter.name()),
        }
    }

    /// An invalid order.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(RejectCode::InvalidOrder, message)
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_failures_read_as_binance_writes_them() {
        let r = Rejection::filter(
            ExchangeFilter::LotSize,
            "quantity 0.0001 below minQty 0.001",
        );
        assert!(r.message.starts_with("Filter failure: LOT_SIZE"), "{r}");
        assert_eq!(r.code.rule(), "filter:LOT_SIZE");
        assert_eq!(RejectCode::MaxDailyLoss.rule(), "max-daily-loss");
    }
}
