//! Tillson's T3: six chained EMAs combined with volume-factor weights.

use super::Stream;

/// TA-Lib's T3: EMAs `e1..e6` each seeded by the mean of its first `period` inputs (seeded one
/// after the other, as TA-Lib does), then `c1*e6 + c2*e5 + c3*e4 + c4*e3` with coefficients from
/// the volume factor, with TA-Lib 0.8's fused multiply-adds. A period of 1 passes values through.
#[derive(Clone, Debug)]
pub struct T3 {
    period: usize,
    k: f64,
    one_minus_k: f64,
    c: [f64; 4],
    e: [f64; 6],
    /// How many of `e` are seeded.
    ready: usize,
    /// Inputs counted towards the EMA being seeded.
    count: usize,
    total: f64,
}

impl T3 {
    /// A T3 over `period` (at least 1) with volume factor `v`.
    pub fn new(period: usize, v: f64) -> Self {
        let period = period.max(1);
        let k = 2.0 / (period as f64 + 1.0);
        let v2 = v * v;
        let c1 = 0.0 - v2 * v;
        let c2 = 3.0 * (v2 - c1);
        let c3 = (0.0 - 6.0) * v2 - 3.0 * (v - c1);
        let c4 = 3.0f64.mul_add(v2, 3.0f64.mul_add(v, 1.0) - c1);
        Self {
            period,
            k,
            one_minus_k: 1.0 - k,
            c: [c1, c2, c3, c4],
            e: [0.0; 6],
            ready: 0,
            count: 0,
            total: 0.0,
        }
    }

    /// Advances the first `n` EMAs by one input.
    #[inline(always)]
    fn advance(&mut self, x: f64, n: usize) {
        let mut input = x;
        for e in &mut self.e[..n] {
            *e = self.one_minus_k.mul_add(*e, self.k * input);
            input = *e;
        }
    }

    #[inline(always)]
    fn output(&self) -> f64 {
        let [c1, c2, c3, c4] = self.c;
        let [_, _, e3, e4, e5, e6] = self.e;
        c4.mul_add(e3, c3.mul_add(e4, c1.mul_add(e6, c2 * e5)))
    }
}

impl Stream for T3 {
    fn lookback(&self) -> usize {
        6 * (self.period - 1)
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.period == 1 {
            return Some(x);
        }
        if self.ready == 6 {
            self.advance(x, 6);
            return Some(self.output());
        }
        if self.ready == 0 {
            self.total += x;
            self.count += 1;
        } else {
            self.advance(x, self.ready);
            self.total += self.e[self.ready - 1];
            self.count += 1;
        }
        let needed = if self.ready == 0 {
            self.period
        } else {
            self.period - 1
        };
        if self.count < needed {
            return None;
        }
        let seed = self.total / self.period as f64;
        self.e[self.ready] = seed;
        self.ready += 1;
        self.total = seed;
        self.count = 0;
        (self.ready == 6).then(|| self.output())
    }
}
