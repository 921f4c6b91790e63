//! Building blocks over one or two value streams, shared by the functions and usable on their own.
//!
//! Each block follows TA-Lib's arithmetic step by step (the order of additions in running sums,
//! the seeding), so that composites built from them keep TA-Lib's numbers.

pub mod beta;
pub mod correlation;
pub mod ema;
pub mod linreg;
pub mod ma;
pub mod sma;
pub mod variance;
pub mod window;

/// A computation over one stream of values.
pub trait Stream: Send {
    /// Number of inputs consumed before the first output (TA-Lib's lookback).
    fn lookback(&self) -> usize;
    /// Consumes the next value; `None` until the lookback has passed.
    fn next(&mut self, x: f64) -> Option<f64>;
}

/// A computation over two aligned streams of values, one pair per step (correlation or beta
/// between two series).
pub trait PairStream: Send {
    /// Number of pairs consumed before the first output.
    fn lookback(&self) -> usize;
    /// Consumes the next pair; `None` until the lookback has passed.
    fn next(&mut self, x: f64, y: f64) -> Option<f64>;
}
