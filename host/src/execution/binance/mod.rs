//! Binance spot as a live venue: an account's credentials ([`credentials`]), the exchange's
//! clock ([`clock`]), the trading client over the WebSocket API with REST as fallback
//! ([`client`]), our orders in Binance's words ([`orders`]), the tracking that turns the
//! exchange's messages into reports once each ([`tracker`]), and the venue itself ([`venue`])
//! with its task ([`worker`]) and what operators see of it ([`status`]). Tested against
//! `stratbox exchange-sim`.

pub mod client;
pub mod clock;
pub mod credentials;
pub mod limits;
pub mod orders;
pub mod status;
pub mod tracker;
pub mod venue;
pub mod worker;

pub use client::{Endpoints, TradingClient, TradingError, Usage, ws_payload};
pub use clock::ServerClock;
pub use credentials::{Credentials, CredentialsError};
pub use limits::{OrderCounter, OrderCounts, OrderLimits, REQUEST_WEIGHT_PER_MINUTE};
pub use status::VenueStatus;
pub use venue::{LiveSettings, LiveVenue, Shared};
pub use worker::UnknownPolicy;
