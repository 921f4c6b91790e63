//! The named checks an order passes, in order: the trading state, its own consistency, the
//! symbol's exchange filters (as Binance applies them), the deployment's budget, then the
//! account-wide limits. Each is a function of a [`Check`](super::Check) that returns the
//! refusal naming its rule.

mod account;
mod budget;
mod filters;
mod order;
mod state;

use super::CheckFn;

/// Every check, by name, in the order they run.
pub const PIPELINE: &[(&str, CheckFn)] = &[
    ("trading-state", state::trading_state),
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
    ("max-net-exposure", budget::max_net_exposure),
    ("max-leverage", budget::max_leverage),
    ("account-order-rate", account::order_rate),
    ("account-price-band", account::price_band),
    ("account-order-notional", account::order_notional),
    ("account-open-orders", account::open_orders),
    ("account-gross-exposure", account::gross_exposure),
    ("account-net-exposure", account::net_exposure),
    ("account-concentration", account::concentration),
];
