//! Rolling population variance with TA-Lib's shifted running sums.

use super::Stream;
use super::through_next;
use super::window::Window;

/// TA-Lib's VAR over the last `period` values: running sums of the deviations from a shift near
/// the window (first the window's first value, later the window mean), rebuilt by a two-pass
/// scan when cancellation or a departing outlier would cost digits, and at least every
/// `32 * period` values.
#[derive(Clone, Debug)]
pub struct Variance {
    period: usize,
    inv_period: f64,
    window: Window,
    shift: f64,
    total1: f64,
    total2: f64,
    since_reseed: i64,
}

impl Variance {
    /// The variance of the last `period` values (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            inv_period: 1.0 / period as f64,
            window: Window::new(period),
            shift: 0.0,
            total1: 0.0,
            total2: 0.0,
            since_reseed: 32 * period as i64,
        }
    }

    /// Values still to come before the first variance.
    pub fn pending(&self) -> usize {
        (self.period - self.window.len()).saturating_sub(1)
    }

    /// Rebuilds the sums around the window mean and returns the window's variance.
    fn reseed(&mut self) -> f64 {
        let (older, newer) = self.window.as_slices();
        let (sums, variance) = reseeded(older, newer, self.inv_period);
        (self.shift, self.total1, self.total2) = sums;
        variance
    }

    /// Adds `x` and removes `oldest`, the first value of `x`'s full window; the window's
    /// variance, or none when the sums must be rebuilt over it first (cancellation, a
    /// departing outlier, or their age).
    #[inline(always)]
    fn step(&mut self, x: f64, oldest: f64) -> Option<f64> {
        let d = x - self.shift;
        self.total1 += d;
        self.total2 += d * d;
        let inv = self.inv_period;
        let mean = self.total1 * inv;
        let variance = self.total2 * inv - mean * mean;
        let d = oldest - self.shift;
        self.total1 -= d;
        let leaving = d * d;
        self.total2 -= leaving;
        self.since_reseed -= 1;
        if (variance < 1e-6 * (self.total2 * inv))
            | (leaving > 1e6 * self.total2)
            | (self.since_reseed <= 0)
        {
            self.since_reseed = 32 * self.period as i64;
            return None;
        }
        Some(variance)
    }
}

/// The sums (shift, total1, total2) rebuilt around the mean of the window given as its older
/// then newer values, its oldest value already taken out, and the window's variance.
#[inline(always)]
fn reseeded(older: &[f64], newer: &[f64], inv: f64) -> ((f64, f64, f64), f64) {
    let mut sum = 0.0;
    for v in older.iter().chain(newer) {
        sum += v;
    }
    let shift = sum * inv;
    let (mut total1, mut total2) = (0.0, 0.0);
    for v in older.iter().chain(newer) {
        let d = v - shift;
        total1 += d;
        total2 += d * d;
    }
    let mean = total1 * inv;
    let mut variance = total2 * inv - mean * mean;
    if variance < 1e-12 * (total2 * inv) {
        variance = 0.0;
    }
    let oldest = older.first().or(newer.first()).copied().unwrap_or(shift);
    let d = oldest - shift;
    total1 -= d;
    total2 -= d * d;
    ((shift, total1, total2), variance)
}

impl Stream for Variance {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.window.is_empty() {
            self.shift = x;
        }
        self.window.push(x);
        if !self.window.is_full() {
            let d = x - self.shift;
            self.total1 += d;
            self.total2 += d * d;
            return None;
        }
        let oldest = self.window.get(0);
        Some(match self.step(x, oldest) {
            Some(variance) => variance,
            None => self.reseed(),
        })
    }

    /// Past the first window, each step reads its window from `xs` itself.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let p = self.period;
        // Until a window of `xs` is whole (and the first value ever, which seeds the shift).
        let head = (p - 1)
            .max(usize::from(self.window.is_empty()))
            .min(xs.len());
        through_next(self, &xs[..head], out);
        if head == xs.len() {
            return true;
        }
        // `step`'s arithmetic in `step`'s order, the sums in registers (a plain loop, not
        // `extend` over a closure, whose captured state is reloaded each step).
        out.reserve(xs.len() - head);
        let inv = self.inv_period;
        let reseed_every = 32 * p as i64;
        let (mut shift, mut total1, mut total2) = (self.shift, self.total1, self.total2);
        let mut age = self.since_reseed;
        for window in xs[head + 1 - p..].windows(p) {
            let d = window[p - 1] - shift;
            total1 += d;
            total2 += d * d;
            let mean = total1 * inv;
            let variance = total2 * inv - mean * mean;
            let d = window[0] - shift;
            total1 -= d;
            let leaving = d * d;
            total2 -= leaving;
            age -= 1;
            // One branch for the three reasons (each alone is rare).
            if (variance < 1e-6 * (total2 * inv)) | (leaving > 1e6 * total2) | (age <= 0) {
                age = reseed_every;
                let (sums, variance) = reseeded(window, &[], inv);
                (shift, total1, total2) = sums;
                out.push(variance);
            } else {
                out.push(variance);
            }
        }
        (self.shift, self.total1, self.total2) = (shift, total1, total2);
        self.since_reseed = age;
        // The ring holds the last window again, for the next call.
        self.window.push_all(xs);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_in_pieces_give_next_value_by_value_bit_for_bit() {
        // A walk with outliers and flat stretches, so that the sums are rebuilt now and then.
        let xs: Vec<f64> = (0..3_000)
            .map(|i| match i % 500 {
                100 => 1e9,
                200..=260 => 7.0,
                _ => 100.0 + ((i * 37 % 101) as f64 - 50.0) / 7.0 + i as f64 * 1e-3,
            })
            .collect();
        for period in [1, 2, 5, 30, 200] {
            let mut one = Variance::new(period);
            let want: Vec<f64> = xs
                .iter()
                .map(|&x| one.next(x).unwrap_or(f64::NAN))
                .collect();
            let mut pieces = Variance::new(period);
            let mut got = Vec::new();
            let mut start = 0;
            for len in [1, 3, 250, 700, 1_046] {
                assert!(pieces.next_many(&xs[start..start + len], &mut got));
                start += len;
            }
            for &x in &xs[start..] {
                got.push(pieces.next(x).unwrap_or(f64::NAN));
            }
            assert_eq!(got.len(), want.len());
            for (i, (a, b)) in want.iter().zip(&got).enumerate() {
                assert!(
                    a.to_bits() == b.to_bits(),
                    "period {period}, value {i}: {a} != {b}"
                );
            }
        }
    }
}
