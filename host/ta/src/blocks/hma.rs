//! Hull moving average.

use super::Stream;
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
}
