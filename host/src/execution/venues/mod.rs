//! The simulated venues: the book matcher for symbols with an order book, the candle fill
//! model for those without, and [`SimExchange`], which sends each order to the one its symbol
//! allows.

mod bars;
mod book;
mod exchange;

pub use bars::{BarFillConfig, BarVenue};
pub use book::{BookFillConfig, BookVenue};
pub use exchange::SimExchange;
