//! The simulated venues: the candle fill model for data with no book.

mod bars;

pub use bars::{BarFillConfig, BarVenue};
