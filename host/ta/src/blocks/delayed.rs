//! A stream that starts late: it ignores its first inputs.

use super::Stream;

/// Feeds `inner` only from the `skip`-th input on. TA-Lib's composites start a shorter inner
/// average that much later so that every part ends its warm-up on the same bar (MACD's fast EMA,
/// AO's fast SMA, MACDEXT's averages); the running sums and seeds then match TA-Lib's.
#[derive(Clone, Debug)]
pub struct Delayed<S> {
    skip: usize,
    remaining: usize,
    inner: S,
}

impl<S: Stream> Delayed<S> {
    /// `inner`, started after `skip` inputs.
    pub fn new(skip: usize, inner: S) -> Self {
        Self {
            skip,
            remaining: skip,
            inner,
        }
    }

    /// The stream it feeds, once its first `skip` inputs have passed.
    pub fn started(&mut self) -> Option<&mut S> {
        (self.remaining == 0).then_some(&mut self.inner)
    }

    /// `inner`, started late enough that its warm-up ends after `lookback` inputs.
    pub fn ending_at(lookback: usize, inner: S) -> Self {
        Self::new(lookback.saturating_sub(inner.lookback()), inner)
    }
}

impl<S: Stream> Stream for Delayed<S> {
    fn lookback(&self) -> usize {
        self.skip + self.inner.lookback()
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.remaining > 0 {
            self.remaining -= 1;
            return None;
        }
        self.inner.next(x)
    }

    /// NaN for the inputs still skipped, then the inner stream's array path (or its `next`).
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let skipped = self.remaining.min(xs.len());
        out.extend(std::iter::repeat_n(f64::NAN, skipped));
        self.remaining -= skipped;
        super::feed(&mut self.inner, &xs[skipped..], out);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::sma::Sma;

    #[test]
    fn starts_the_inner_stream_late() {
        let mut d = Delayed::ending_at(3, Sma::new(2));
        assert_eq!(d.lookback(), 3);
        let out: Vec<_> = [1.0, 100.0, 3.0, 5.0].iter().map(|&x| d.next(x)).collect();
        assert_eq!(out, vec![None, None, None, Some(4.0)]);
    }
}
