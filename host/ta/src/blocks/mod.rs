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

/// Feeds `xs` to `stream`, by its array path where it has one, else value by value: either way
/// one output pushed onto `out` per value (NaN before the lookback).
#[inline(always)]
pub(crate) fn feed<S: Stream + ?Sized>(stream: &mut S, xs: &[f64], out: &mut Vec<f64>) {
    if !stream.next_many(xs, out) {
        through_next(stream, xs, out);
    }
}

/// A stream whose output at a bar is computed afresh from the last values its `ring` holds
/// (VHF, AVGDEV), with an array kernel computing several bars side by side.
pub(crate) trait FreshWindow: Stream {
    /// The ring of the last values.
    fn ring(&mut self) -> &mut window::Window;

    /// Pushes onto `out` the outputs of bars `from..` of `xs`, each over the `len` values
    /// ending there, four bars side by side.
    fn lanes(xs: &[f64], len: usize, from: usize, out: &mut Vec<f64>);

    /// The same eight bars side by side, built for AVX2.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[cfg(target_arch = "x86_64")]
    unsafe fn lanes_avx2(xs: &[f64], len: usize, from: usize, out: &mut Vec<f64>);
}

/// The array path of a [`FreshWindow`] stream: `next` for the first values (whose windows reach
/// back before `xs`), then its kernel over `xs` (the AVX2 build where the CPU has it), then the
/// ring refilled with the last values for the next call.
pub(crate) fn fresh_windows<S: FreshWindow>(stream: &mut S, xs: &[f64], out: &mut Vec<f64>) {
    let len = stream.ring().capacity();
    let head = (len - 1).min(xs.len());
    through_next(stream, &xs[..head], out);
    if head == xs.len() {
        return;
    }
    out.reserve(xs.len() - head);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, just checked.
        unsafe { S::lanes_avx2(xs, len, head, out) };
        stream.ring().push_all(xs);
        return;
    }
    S::lanes(xs, len, head, out);
    stream.ring().push_all(xs);
}

/// A computation over two aligned streams of values, one pair per step (correlation or beta
/// between two series).
pub trait PairStream: Send + Sync {
    /// Number of pairs consumed before the first output.
    fn lookback(&self) -> usize;
    /// Consumes the next pair; `None` until the lookback has passed.
    fn next(&mut self, x: f64, y: f64) -> Option<f64>;
}
