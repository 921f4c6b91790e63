//! Hull moving average.

use super::Stream;
use super::through_next;
use super::wma::Wma;

/// TA-Lib's HMA: `WMA(2 * WMA(x, n/2) - WMA(x, n), floor(sqrt(n)))`, each WMA with TA-Lib's
/// running sums. The half-period WMA starts where TA-Lib starts it (so that it ends its warm-up
/// with the full one); periods 2 and 3 reduce to `2 * x - WMA(x, n)`, period 1 passes through.
#[derive(Clone, Debug)]
pub struct Hma {
    period: usize,
    half_start: usize,
    seen: usize,
    full: Wma,
    half: Wma,
    outer: Wma,
}

impl Hma {
    /// An HMA over `period` (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        let half = period / 2;
        Self {
            period,
            half_start: period - half,
            seen: 0,
            full: Wma::new(period),
            half: Wma::new(half),
            outer: Wma::new(sqrt_period(period)),
        }
    }
}

/// `floor(sqrt(n))` as TA-Lib takes it.
fn sqrt_period(n: usize) -> usize {
    (n as f64).sqrt() as usize
}

impl Stream for Hma {
    fn lookback(&self) -> usize {
        if self.period == 1 {
            return 0;
        }
        self.period - 1 + sqrt_period(self.period) - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        match self.period {
            1 => Some(x),
            2 | 3 => {
                let full = self.full.next(x)?;
                Some(2.0 * x - full)
            }
            _ => {
                let index = self.seen;
                self.seen += 1;
                let full = self.full.next(x);
                if index < self.half_start {
                    return None;
                }
                let half = self.half.next(x);
                let (Some(full), Some(half)) = (full, half) else {
                    return None;
                };
                self.outer.next(2.0 * half - full)
            }
        }
    }

    /// From the bar where both inner WMAs give values (periods of 4 and more), the three
    /// WMAs' array paths one after the other, a piece of the input at a time.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        if self.period < 4 {
            return false;
        }
        // Both inner WMAs give a value from the bar of index `period - 1` on.
        let head = (self.period - 1).saturating_sub(self.seen).min(xs.len());
        through_next(self, &xs[..head], out);
        let rest = &xs[head..];
        if rest.is_empty() {
            return true;
        }
        self.seen += rest.len();
        // 4,096 bars at a time, so that the inner averages take no more memory than that
        // however long the series (a WMA's array path always runs).
        const CHUNK: usize = 4096;
        let room = CHUNK.min(rest.len());
        let (mut full, mut half) = (Vec::with_capacity(room), Vec::with_capacity(room));
        for piece in rest.chunks(CHUNK) {
            full.clear();
            half.clear();
            self.full.next_many(piece, &mut full);
            self.half.next_many(piece, &mut half);
            for (f, h) in full.iter_mut().zip(&half) {
                *f = 2.0 * h - *f;
            }
            self.outer.next_many(&full, out);
        }
        true
    }
}
