//! The named checks an order passes, in order: its own consistency, the symbol's exchange
//! filters (as Binance applies them), then the deployment's budget. Each is a function of a
//! [`Check`](super::Check) that returns the refusal naming its rule.

mod budget;
mod filters;
mod order;

use super::CheckFn;

/// Every check, by name, in the order they run.
pub const PIPELINE: &[(&str, CheckFn)] = &[
    ("order-type", order::order_type),
    ("price-filter", filters::price_filter),
    ("percent-price", filters::percent_price),
    ("lot-size", filters::lot_size),
    ("market-lot-size", filters::market_lot_size),
    ("notional", filters::notional),
    ("iceberg-parts", filters::iceberg_parts),
    ("max-num-orders", filters::max_num_orders),
    ("max-num-algo-orders", filters::max_num_algo_orders),
    ("max-num-iceberg-orders", filters::max_num_iceberg_orders),
    ("max-position-filter", filters::max_position),
    ("trailing-delta", filters::trailing_delta),
    ("reduce-only", budget::reduce_only),
    ("max-order-notional", budget::max_order_notional),
    ("max-orders-per-second", budget::max_orders_per_second),
    ("max-daily-loss", budget::max_daily_loss),
    ("max-position", budget::max_position),
    ("max-gross-exposure", budget::max_gross_exposure),
];
