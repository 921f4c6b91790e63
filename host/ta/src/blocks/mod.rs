//! Building blocks over one value stream, shared by the functions and usable on their own.
//!
//! Each block follows TA-Lib's arithmetic step by step (the order of additions in running sums,
//! the seeding), so that composites built from them keep TA-Lib's numbers.

pub mod delayed;
pub mod ema;
pub mod high_low;
pub mod ma;
pub mod sma;
pub mod window;

/// A computation over one stream of values.
pub trait Stream: Send {
    /// Number of inputs consumed before the first output (TA-Lib's lookback).
    fn lookback(&self) -> usize;
    /// Consumes the next value; `None` until the lookback has passed.
    fn next(&mut self, x: f64) -> Option<f64>;
}
