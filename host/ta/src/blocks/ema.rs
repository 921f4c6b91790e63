//! Exponential moving average seeded by the simple mean of its first `period` values.

use super::Stream;

/// TA-Lib's EMA: the first output is the mean of the first `period` inputs, then
/// `prev = fma(x - prev, k, prev)` with `k = 2 / (period + 1)` unless given. A period of 1 passes
/// values through, as in TA-Lib.
#[derive(Clone, Debug)]
pub struct Ema {
    period: usize,
    k: f64,
    seen: usize,
    seed_total: f64,
    prev: f64,
}

impl Ema {
    /// An EMA over `period` with TA-Lib's smoothing factor `2 / (period + 1)`.
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self::with_k(period, 2.0 / ((period + 1) as f64))
    }

    /// An EMA seeded over `period` values with smoothing factor `k` (MACDFIX uses fixed ones).
    pub fn with_k(period: usize, k: f64) -> Self {
        Self {
            period: period.max(1),
            k,
            seen: 0,
            seed_total: 0.0,
            prev: 0.0,
        }
    }
}

impl Ema {
    /// Its smoothing factor, once seeded (a period of 1 passes values through instead).
    pub(crate) fn smoothing(&self) -> Option<f64> {
        (self.period > 1 && self.seen >= self.period).then_some(self.k)
    }

    /// Its last value (meaningful once seeded).
    pub(crate) fn value(&self) -> f64 {
        self.prev
    }

    /// Sets its last value, after steps taken outside it (once seeded).
    pub(crate) fn set_value(&mut self, value: f64) {
        self.prev = value;
    }
}

impl Stream for Ema {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.period == 1 {
            return Some(x);
        }
        if self.seen >= self.period {
            self.prev = (x - self.prev).mul_add(self.k, self.prev);
            return Some(self.prev);
        }
        self.seen += 1;
        self.seed_total += x;
        if self.seen < self.period {
            return None;
        }
        self.prev = self.seed_total / self.period as f64;
        Some(self.prev)
    }

    /// Past the seed, the smoothing over `xs` in one loop, compiled for FMA where the CPU has
    /// it (`mul_add` is otherwise a call into libm; both give the same correctly rounded value).
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        if self.period == 1 {
            out.extend_from_slice(xs);
            return true;
        }
        let mut head = 0;
        while head < xs.len() && self.seen < self.period {
            out.push(self.next(xs[head]).unwrap_or(f64::NAN));
            head += 1;
        }
        self.prev = smooth(&xs[head..], self.prev, self.k, out);
        true
    }
}

/// Pushes `prev = (x - prev) * k + prev` (fused) for each `x` of `xs` onto `out`, and returns
/// the last `prev`.
fn smooth(xs: &[f64], prev: f64, k: f64, out: &mut Vec<f64>) -> f64 {
    crate::indicator::with_fma(|| smooth_steps(xs, prev, k, out))
}

/// The loop of [`smooth`]: a plain loop, so that `prev` stays in a register.
#[inline(always)]
fn smooth_steps(xs: &[f64], mut prev: f64, k: f64, out: &mut Vec<f64>) -> f64 {
    out.reserve(xs.len());
    for &x in xs {
        prev = (x - prev).mul_add(k, prev);
        out.push(prev);
    }
    prev
}

/// The array path of a chain of `N` EMAs of one smoothing factor, each fed the one before
/// (DEMA, TEMA): `next` (`step`, value by value) until the last is seeded, then the chain in
/// one loop with its values in registers, each output from the chain's values by `combine`
/// (the same arithmetic `next` does), compiled for FMA where the CPU has it.
pub(crate) fn chained<const N: usize>(
    chain: &mut [Ema; N],
    xs: &[f64],
    out: &mut Vec<f64>,
    mut step: impl FnMut(&mut [Ema; N], f64) -> Option<f64>,
    combine: impl Fn([f64; N]) -> f64,
) {
    let mut head = 0;
    while head < xs.len() && chain[N - 1].smoothing().is_none() {
        out.push(step(chain, xs[head]).unwrap_or(f64::NAN));
        head += 1;
    }
    let Some(k) = chain[N - 1].smoothing() else {
        return;
    };
    let mut values = chain.each_ref().map(Ema::value);
    crate::indicator::with_fma(|| chain_steps(&xs[head..], &mut values, k, out, &combine));
    for (ema, value) in chain.iter_mut().zip(values) {
        ema.set_value(value);
    }
}

/// The loop of [`chained`]: each value enters the first EMA, each EMA's new value the next.
#[inline(always)]
fn chain_steps<const N: usize>(
    xs: &[f64],
    values: &mut [f64; N],
    k: f64,
    out: &mut Vec<f64>,
    combine: &impl Fn([f64; N]) -> f64,
) {
    out.reserve(xs.len());
    let mut v = *values;
    for &x in xs {
        let mut input = x;
        for prev in v.iter_mut() {
            *prev = (input - *prev).mul_add(k, *prev);
            input = *prev;
        }
        out.push(combine(v));
    }
    *values = v;
}
