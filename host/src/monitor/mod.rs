//! Performance measurement: the summary of a run (PnL, return, drawdown, Sharpe, win rate).

mod summary;

pub use summary::{Summary, summarize};
