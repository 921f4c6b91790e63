//! The connection to Binance spot the live venue trades through: an account's credentials
//! ([`credentials`]), the exchange's clock ([`clock`]) and the trading client over the
//! WebSocket API with REST as fallback ([`client`]). Tested against `stratbox exchange-sim`.

pub mod client;
pub mod clock;
pub mod credentials;
pub mod limits;

pub use client::{Endpoints, TradingClient, TradingError, ws_payload};
pub use clock::ServerClock;
pub use credentials::{Credentials, CredentialsError};
pub use limits::{OrderCounter, OrderCounts, OrderLimits, REQUEST_WEIGHT_PER_MINUTE};
