//! The symbol's exchange filters, one function each, as Binance spot applies them. A filter the
//! symbol does not carry passes. Refusals read "Filter failure: NAME" as Binance's do.

use crate::model::instrument::{LotSize, NotionalFilter, PercentPriceBySide};
use crate::model::{Amount, ExchangeFilter, Fixed, OrderType, Rejection, Side, Trigger};
use crate::risk::Check;

/// A multiple of `step` above `base` (a zero step allows anything).
fn on_grid(value: Fixed, base: Fixed, step: Fixed) -> bool {
    step.raw() <= 0 || (value.raw() - base.raw()).rem_euclid(step.raw()) == 0
}

/// The order's prices PRICE_FILTER applies to: its limit price and its stop (or activation) price.
fn prices(c: &Check<'_>) -> impl Iterator<Item = (&'static str, Fixed)> {
    let stop = match c.request.order_type.trigger() {
        Some(Trigger::Price(p)) => Some(("stop price", p)),
        Some(Trigger::Trailing {
            activation: Some(p),
            ..
        }) => Some(("activation price", p)),
        _ => None,
    };
    c.request
        .order_type
        .limit_price()
        .map(|p| ("price", p))
        .into_iter()
        .chain(stop)
}

/// PRICE_FILTER: every price at least `minPrice`, at most `maxPrice` and on the tick grid
/// (each part off when zero).
pub fn price_filter(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(f) = c.instrument.filters.price else {
        return Ok(());
    };
    for (what, p) in prices(c) {
        if f.min_price.is_positive() && p < f.min_price {
            return Err(Rejection::filter(
                ExchangeFilter::PriceFilter,
                format!("{what} {p} is below minPrice {}", f.min_price),
            ));
        }
        if f.max_price.is_positive() && p > f.max_price {
            return Err(Rejection::filter(
                ExchangeFilter::PriceFilter,
                format!("{what} {p} is above maxPrice {}", f.max_price),
            ));
        }
        if !on_grid(p, f.min_price, f.tick_size) {
            return Err(Rejection::filter(
                ExchangeFilter::PriceFilter,
                format!("{what} {p} is not a multiple of tickSize {}", f.tick_size),
            ));
        }
    }
    Ok(())
}

fn percent_band(
    c: &Check<'_>,
    f: &PercentPriceBySide,
    filter: ExchangeFilter,
) -> Result<(), Rejection> {
    let Some(price) = c.request.order_type.limit_price() else {
        return Ok(());
    };
    let Some(average) = c
        .market
        .average_price(c.request.symbol, f.avg_price_mins, c.now)
    else {
        return Ok(());
    };
    let (up, down) = match c.request.side {
        Side::Buy => (f.bid_multiplier_up, f.bid_multiplier_down),
        Side::Sell => (f.ask_multiplier_up, f.ask_multiplier_down),
    };
    let (high, low) = (average.saturating_mul(up), average.saturating_mul(down));
    if price > high || price < low {
        return Err(Rejection::filter(
            filter,
            format!(
                "price {price} is outside [{low}, {high}] around the {}-minute average price {average}",
                f.avg_price_mins
            ),
        ));
    }
    Ok(())
}

/// PERCENT_PRICE and PERCENT_PRICE_BY_SIDE: a limit price within multipliers of the average
/// price of the last `avgPriceMins` minutes (of the last price for 0).
pub fn percent_price(c: &Check<'_>) -> Result<(), Rejection> {
    if let Some(f) = &c.instrument.filters.percent_price {
        percent_band(c, f, ExchangeFilter::PercentPrice)?;
    }
    if let Some(f) = &c.instrument.filters.percent_price_by_side {
        percent_band(c, f, ExchangeFilter::PercentPriceBySide)?;
    }
    Ok(())
}

fn lot(what: &str, quantity: Fixed, f: &LotSize, filter: ExchangeFilter) -> Result<(), Rejection> {
    if quantity < f.min_qty {
        return Err(Rejection::filter(
            filter,
            format!("{what} {quantity} is below minQty {}", f.min_qty),
        ));
    }
    if f.max_qty.is_positive() && quantity > f.max_qty {
        return Err(Rejection::filter(
            filter,
            format!("{what} {quantity} is above maxQty {}", f.max_qty),
        ));
    }
    if !on_grid(quantity, f.min_qty, f.step_size) {
        return Err(Rejection::filter(
            filter,
            format!(
                "{what} {quantity} is not a multiple of stepSize {}",
                f.step_size
            ),
        ));
    }
    Ok(())
}

/// LOT_SIZE: the quantity (and an iceberg's visible quantity) between `minQty` and `maxQty`,
/// on the step grid. A market order for a quote amount has no quantity to check.
pub fn lot_size(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(f) = &c.instrument.filters.lot_size else {
        return Ok(());
    };
    if let Some(q) = c.request.base_quantity() {
        lot("quantity", q, f, ExchangeFilter::LotSize)?;
    }
    if let Some(iceberg) = c.request.iceberg {
        lot("iceberg quantity", iceberg, f, ExchangeFilter::LotSize)?;
    }
    Ok(())
}

/// MARKET_LOT_SIZE: as LOT_SIZE, for market orders (and stop orders that become market orders).
pub fn market_lot_size(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(f) = &c.instrument.filters.market_lot_size else {
        return Ok(());
    };
    if c.request.order_type.triggered() != OrderType::Market {
        return Ok(());
    }
    match c.request.base_quantity() {
        Some(q) => lot("quantity", q, f, ExchangeFilter::MarketLotSize),
        None => Ok(()),
    }
}

fn notional_bounds(
    c: &Check<'_>,
    f: &NotionalFilter,
    filter: ExchangeFilter,
) -> Result<(), Rejection> {
    let market = c.request.order_type.triggered() == OrderType::Market;
    let notional = match (c.request.amount, market) {
        (Amount::Quote(q), _) => q,
        (Amount::Base(q), true) => {
            let Some(average) = c
                .market
                .average_price(c.request.symbol, f.avg_price_mins, c.now)
            else {
                return Ok(());
            };
            q.saturating_mul(average)
        }
        (Amount::Base(q), false) => q.saturating_mul(c.price),
    };
    if (!market || f.apply_min_to_market) && notional < f.min_notional {
        return Err(Rejection::filter(
            filter,
            format!(
                "notional {notional} is below minNotional {}",
                f.min_notional
            ),
        ));
    }
    if let Some(max) = f.max_notional
        && (!market || f.apply_max_to_market)
        && notional > max
    {
        return Err(Rejection::filter(
            filter,
            format!("notional {notional} is above maxNotional {max}"),
        ));
    }
    Ok(())
}

/// NOTIONAL and MIN_NOTIONAL: `price * quantity` within bounds; market orders are valued at the
/// average price of the last `avgPriceMins` minutes, and checked only where the filter says so.
pub fn notional(c: &Check<'_>) -> Result<(), Rejection> {
    if let Some(f) = &c.instrument.filters.min_notional {
        notional_bounds(c, f, ExchangeFilter::MinNotional)?;
    }
    if let Some(f) = &c.instrument.filters.notional {
        notional_bounds(c, f, ExchangeFilter::Notional)?;
    }
    Ok(())
}

/// ICEBERG_PARTS: an iceberg splits into at most `limit` parts (`ceil(quantity / icebergQty)`).
pub fn iceberg_parts(c: &Check<'_>) -> Result<(), Rejection> {
    let (Some(limit), Some(iceberg), Some(q)) = (
        c.instrument.filters.iceberg_parts,
        c.request.iceberg,
        c.request.base_quantity(),
    ) else {
        return Ok(());
    };
    let parts = (q.raw() as u64).div_ceil(iceberg.raw().max(1) as u64);
    if parts > u64::from(limit) {
        return Err(Rejection::filter(
            ExchangeFilter::IcebergParts,
            format!("{q} in parts of {iceberg} makes {parts} parts, more than {limit}"),
        ));
    }
    Ok(())
}

/// MAX_NUM_ORDERS: open orders on the symbol, this one included.
pub fn max_num_orders(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(max) = c.instrument.filters.max_num_orders else {
        return Ok(());
    };
    let open = c.account.open_counts(c.request.symbol).orders;
    if open >= max {
        return Err(Rejection::filter(
            ExchangeFilter::MaxNumOrders,
            format!(
                "{open} orders already open on {}, at most {max}",
                c.instrument.symbol
            ),
        ));
    }
    Ok(())
}

/// MAX_NUM_ALGO_ORDERS: open stop and take-profit orders on the symbol, this one included.
pub fn max_num_algo_orders(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(max) = c.instrument.filters.max_num_algo_orders else {
        return Ok(());
    };
    if !c.request.order_type.is_algo() {
        return Ok(());
    }
    let open = c.account.open_counts(c.request.symbol).algo;
    if open >= max {
        return Err(Rejection::filter(
            ExchangeFilter::MaxNumAlgoOrders,
            format!(
                "{open} stop or take-profit orders already open on {}, at most {max}",
                c.instrument.symbol
            ),
        ));
    }
    Ok(())
}

/// MAX_NUM_ICEBERG_ORDERS: open iceberg orders on the symbol, this one included.
pub fn max_num_iceberg_orders(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(max) = c.instrument.filters.max_num_iceberg_orders else {
        return Ok(());
    };
    if c.request.iceberg.is_none() {
        return Ok(());
    }
    let open = c.account.open_counts(c.request.symbol).iceberg;
    if open >= max {
        return Err(Rejection::filter(
            ExchangeFilter::MaxNumIcebergOrders,
            format!(
                "{open} iceberg orders already open on {}, at most {max}",
                c.instrument.symbol
            ),
        ));
    }
    Ok(())
}

/// MAX_POSITION: for a buy, the base asset held plus open buys plus this order at most
/// `maxPosition`.
pub fn max_position(c: &Check<'_>) -> Result<(), Rejection> {
    let Some(max) = c.instrument.filters.max_position else {
        return Ok(());
    };
    if c.request.side != Side::Buy {
        return Ok(());
    }
    let position = c
        .account
        .holding(c.instrument.base)
        .saturating_add(c.account.open_buy_quantity(c.request.symbol))
        .saturating_add(c.quantity);
    if position > max {
        return Err(Rejection::filter(
            ExchangeFilter::MaxPosition,
            format!("position would be {position}, above maxPosition {max}"),
        ));
    }
    Ok(())
}

/// TRAILING_DELTA: a trailing delta within the bounds for its direction. Orders that trigger
/// above the market (stop-loss buys, take-profit sells) use the "above" bounds; those that
/// trigger below it (stop-loss sells, take-profit buys) the "below" bounds.
pub fn trailing_delta(c: &Check<'_>) -> Result<(), Rejection> {
    let (Some(f), Some(Trigger::Trailing { delta_bps, .. })) = (
        c.instrument.filters.trailing_delta,
        c.request.order_type.trigger(),
    ) else {
        return Ok(());
    };
    let above = c.request.order_type.is_stop_loss() == (c.request.side == Side::Buy);
    let (min, max, which) = if above {
        (f.min_above, f.max_above, "above")
    } else {
        (f.min_below, f.max_below, "below")
    };
    if delta_bps < min || delta_bps > max {
        return Err(Rejection::filter(
            ExchangeFilter::TrailingDelta,
            format!(
                "trailing delta {delta_bps} is outside [{min}, {max}] for orders that trigger {which} the market"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::market::MarketData;
    use crate::model::{
        Amount, AssetId, Bar, DeploymentId, ExchangeFilter, Fixed, OrderRequest, OrderType,
        RejectCode, Side, SymbolId, TimeInForce, Trigger,
    };
    use crate::risk::{AccountView, Budget, OpenCounts, RiskEngine};

    /// An account with `open` orders on every symbol and `held` of every asset.
    struct Stub {
        open: OpenCounts,
        held: Fixed,
    }

    impl AccountView for Stub {
        fn position(&self, _: SymbolId) -> Fixed {
            Fixed::ZERO
        }
        fn committed(&self, _: SymbolId) -> Fixed {
            Fixed::ZERO
        }
        fn open_counts(&self, _: SymbolId) -> OpenCounts {
            self.open
        }
        fn open_buy_quantity(&self, _: SymbolId) -> Fixed {
            Fixed::ZERO
        }
        fn holding(&self, _: AssetId) -> Fixed {
            self.held
        }
        fn equity(&self, _: &MarketData) -> Option<Fixed> {
            Some(Fixed::from_int(1_000_000))
        }
        fn gross_exposure(&self, _: &MarketData) -> Fixed {
            Fixed::ZERO
        }
        fn committed_exposure(&self, _: &MarketData, _: Option<SymbolId>) -> Fixed {
            Fixed::ZERO
        }
        fn committed_net_exposure(&self, _: &MarketData, _: Option<SymbolId>) -> Fixed {
            Fixed::ZERO
        }
    }

    impl crate::risk::AccountsView for Stub {
        fn totals(
            &self,
            _: &MarketData,
            _: crate::model::AssetId,
            _: SymbolId,
        ) -> crate::risk::AccountTotals {
            crate::risk::AccountTotals::default()
        }
    }

    const INFO: &str = r#"{"symbols": [{
        "symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT", "icebergAllowed": true,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0", "maxQty": "80", "stepSize": "0"},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
            {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2", "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
            {"filterType": "NOTIONAL", "minNotional": "5", "applyMinToMarket": true, "maxNotional": "9000000", "applyMaxToMarket": false, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
            {"filterType": "MAX_POSITION", "maxPosition": "10"}
        ]}]}"#;

    fn fx(s: &str) -> Fixed {
        s.parse().unwrap()
    }

    fn market() -> MarketData {
        let mut m = MarketData::default();
        m.instruments.describe(INFO).unwrap();
        let s = m.add_symbol("BTCUSDT");
        // Average price of the last five minutes: 100.
        for i in 0..5 {
            m.push_bar(Bar {
                symbol: s,
                interval_ms: 60_000,
                open_time: i * 60_000,
                open: 100.0,
                high: 100.0,
                low: 100.0,
                close: 100.0,
                volume: 1.0,
            });
        }
        m
    }

    fn limit(side: Side, qty: &str, price: &str) -> OrderRequest {
        OrderRequest {
            client_id: 0,
            symbol: 0,
            side,
            amount: Amount::Base(fx(qty)),
            order_type: OrderType::Limit {
                price: fx(price),
                time_in_force: TimeInForce::Gtc,
            },
            iceberg: None,
            reduce_only: false,
            venue: 0,
        }
    }

    fn check_with(request: &OrderRequest, account: &Stub) -> Option<RejectCode> {
        let m = market();
        let mut risk = RiskEngine::default();
        risk.open(DeploymentId(0), Budget::unlimited(1e9), 1);
        risk.check(
            DeploymentId(0),
            request,
            account,
            account,
            &m,
            300_000,
            false,
        )
        .err()
        .map(|r| {
            if let RejectCode::Filter(f) = r.code {
                assert!(
                    r.message
                        .starts_with(&format!("Filter failure: {}", f.name())),
                    "{}",
                    r.message
                );
            }
            r.code
        })
    }

    fn check(request: &OrderRequest) -> Option<RejectCode> {
        check_with(
            request,
            &Stub {
                open: OpenCounts::default(),
                held: Fixed::ZERO,
            },
        )
    }

    fn filter(f: ExchangeFilter) -> Option<RejectCode> {
        Some(RejectCode::Filter(f))
    }

    #[test]
    fn each_filter_refuses_only_what_breaks_it() {
        assert_eq!(check(&limit(Side::Buy, "0.1", "100")), None);
        // PRICE_FILTER: tick and bounds, limit and stop prices alike.
        assert_eq!(
            check(&limit(Side::Buy, "0.1", "100.001")),
            filter(ExchangeFilter::PriceFilter)
        );
        let stop = OrderRequest {
            order_type: OrderType::StopLossLimit {
                trigger: Trigger::Price(fx("99.999")),
                price: fx("99"),
                time_in_force: TimeInForce::Gtc,
            },
            ..limit(Side::Sell, "0.1", "99")
        };
        assert_eq!(check(&stop), filter(ExchangeFilter::PriceFilter));
        // PERCENT_PRICE_BY_SIDE: a buy between 20 and 500 around the average of 100.
        assert_eq!(
            check(&limit(Side::Buy, "0.1", "19.99")),
            filter(ExchangeFilter::PercentPriceBySide)
        );
        assert_eq!(check(&limit(Side::Buy, "1", "20")), None);
        // LOT_SIZE: step and minimum; MARKET_LOT_SIZE for market orders only.
        assert_eq!(
            check(&limit(Side::Buy, "0.000015", "100")),
            filter(ExchangeFilter::LotSize)
        );
        let market = |qty: &str| OrderRequest {
            order_type: OrderType::Market,
            ..limit(Side::Buy, qty, "1")
        };
        assert_eq!(check(&market("81")), filter(ExchangeFilter::MarketLotSize));
        assert_eq!(check(&limit(Side::Buy, "8.1", "100")), None);
        // NOTIONAL: 5 at least, market orders at the average price.
        assert_eq!(
            check(&limit(Side::Buy, "0.04", "100")),
            filter(ExchangeFilter::Notional)
        );
        assert_eq!(check(&market("0.04")), filter(ExchangeFilter::Notional));
        assert_eq!(check(&market("0.05")), None);
        // ICEBERG_PARTS: at most 10 parts.
        let iceberg = |part: &str| OrderRequest {
            iceberg: Some(fx(part)),
            ..limit(Side::Buy, "1", "100")
        };
        assert_eq!(check(&iceberg("0.1")), None);
        assert_eq!(
            check(&iceberg("0.09")),
            filter(ExchangeFilter::IcebergParts)
        );
        // TRAILING_DELTA: 10 to 2000 basis points.
        let trailing = |delta| OrderRequest {
            order_type: OrderType::StopLoss {
                trigger: Trigger::Trailing {
                    delta_bps: delta,
                    activation: None,
                },
            },
            ..limit(Side::Sell, "0.1", "1")
        };
        assert_eq!(check(&trailing(10)), None);
        assert_eq!(check(&trailing(9)), filter(ExchangeFilter::TrailingDelta));
        assert_eq!(
            check(&trailing(2001)),
            filter(ExchangeFilter::TrailingDelta)
        );
        // MAX_POSITION: 10 BTC held plus what is bought.
        let holding = |held: &str| Stub {
            open: OpenCounts::default(),
            held: fx(held),
        };
        assert_eq!(
            check_with(&limit(Side::Buy, "1", "100"), &holding("9")),
            None
        );
        assert_eq!(
            check_with(&limit(Side::Buy, "1.1", "100"), &holding("9")),
            filter(ExchangeFilter::MaxPosition)
        );
    }

    #[test]
    fn open_order_counts_are_bounded() {
        let open = |orders, algo| Stub {
            open: OpenCounts {
                orders,
                algo,
                iceberg: 0,
            },
            held: Fixed::ZERO,
        };
        assert_eq!(
            check_with(&limit(Side::Buy, "0.1", "100"), &open(199, 0)),
            None
        );
        assert_eq!(
            check_with(&limit(Side::Buy, "0.1", "100"), &open(200, 0)),
            filter(ExchangeFilter::MaxNumOrders)
        );
        let stop = OrderRequest {
            order_type: OrderType::StopLoss {
                trigger: Trigger::Price(fx("90")),
            },
            ..limit(Side::Sell, "0.1", "1")
        };
        assert_eq!(check_with(&stop, &open(10, 4)), None);
        assert_eq!(
            check_with(&stop, &open(10, 5)),
            filter(ExchangeFilter::MaxNumAlgoOrders)
        );
        assert_eq!(
            check_with(&limit(Side::Buy, "0.1", "100"), &open(10, 5)),
            None,
            "algo orders count only for algo orders"
        );
    }

    #[test]
    fn order_types_take_only_their_parameters() {
        let quote_limit = OrderRequest {
            amount: Amount::Quote(fx("10")),
            ..limit(Side::Buy, "1", "100")
        };
        assert_eq!(check(&quote_limit), Some(RejectCode::InvalidOrder));
        let ioc_iceberg = OrderRequest {
            order_type: OrderType::Limit {
                price: fx("100"),
                time_in_force: TimeInForce::Ioc,
            },
            iceberg: Some(fx("0.1")),
            ..limit(Side::Buy, "1", "100")
        };
        assert_eq!(check(&ioc_iceberg), Some(RejectCode::InvalidOrder));
    }
}
