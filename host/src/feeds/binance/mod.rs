//! Binance spot: the REST client with its request-weight limiter, and the payload shapes of
//! Binance's public API documentation (decimal strings parsed exactly).

mod rest;
mod types;
mod weight;
pub mod ws;

pub use rest::{RestClient, RestError};
pub use types::{BookTicker, DepthSnapshot, ExchangeInfo, SymbolFilters, TradeTick, kline_row};
pub use weight::WeightLimiter;

/// Largest `limit` of one klines request.
pub const KLINES_LIMIT: u32 = 1000;

/// The request weight of `GET /api/v3/depth` with `limit` levels, as Binance documents it.
pub fn depth_weight(limit: u32) -> u32 {
    match limit {
        0..=100 => 5,
        101..=500 => 25,
        501..=1000 => 50,
        _ => 250,
    }
}
