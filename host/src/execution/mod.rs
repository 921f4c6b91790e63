//! Execution venues. For now the paper venue: orders fill against the next bar.

mod paper;

pub use paper::{Execution, PaperVenue};
