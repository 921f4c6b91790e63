//! Building blocks over one or two value streams, shared by the functions and usable on their own.
//!
//! Each block follows TA-Lib's arithmetic step by step (the order of additions in running sums,
//! the seeding), so that composites built from them keep TA-Lib's numbers.

pub mod atr;
pub mod beta;
pub mod correlation;
pub mod delayed;
pub mod dema;
pub mod dm;
pub mod ema;
pub mod extreme;
pub mod high_low;
pub mod hilbert;
pub mod hma;
pub mod kama;
pub mod linreg;
pub mod ma;
pub mod mama;
pub mod rma;
pub mod rsi;
pub mod sma;
pub mod t3;
pub mod tema;
pub mod trima;
pub mod true_range;
pub mod variance;
pub mod wilder;
pub mod window;
pub mod wma;
pub mod zlema;

/// A computation over one stream of values.
pub trait Stream: Send + Sync {
    /// Number of inputs consumed before the first output (TA-Lib's lookback).
    fn lookback(&self) -> usize;
    /// Consumes the next value; `None` until the lookback has passed.
    fn next(&mut self, x: f64) -> Option<f64>;

    /// Consumes `xs` in order, pushing each output (NaN before the lookback) onto `out`, the
    /// same numbers as [`Stream::next`] value by value, where the block has a faster path over
    /// a whole array (reading its window from `xs` rather than its ring); false, consuming
    /// nothing, where it has none.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let _ = (xs, out);
        false
    }
}

/// Feeds `xs` to `stream.next` value by value, pushing each output (NaN before the lookback):
/// the start of an array path, whose windows there still reach back before `xs`.
pub(crate) fn through_next<S: Stream + ?Sized>(stream: &mut S, xs: &[f64], out: &mut Vec<f64>) {
    for &x in xs {
        out.push(stream.next(x).unwrap_or(f64::NAN));
    }
}

/// A computation over two aligned streams of values, one pair per step (correlation or beta
/// between two series).
pub trait PairStream: Send + Sync {
    /// Number of pairs consumed before the first output.
    fn lookback(&self) -> usize;
    /// Consumes the next pair; `None` until the lookback has passed.
    fn next(&mut self, x: f64, y: f64) -> Option<f64>;
}
