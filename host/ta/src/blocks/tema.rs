//! Triple exponential moving average (Mulloy).

use super::Stream;
use super::ema::Ema;

/// TA-Lib's TEMA: `e3 + (3 * e1 - 3 * e2)` over three chained EMAs, each seeded by the mean of its
/// first `period` inputs. A period of 1 passes values through.
#[derive(Clone, Debug)]
pub struct Tema {
    period: usize,
    e1: Ema,
    e2: Ema,
    e3: Ema,
}

impl Tema {
    /// A TEMA over `period` (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            e1: Ema::new(period),
            e2: Ema::new(period),
            e3: Ema::new(period),
        }
    }
}

impl Stream for Tema {
    fn lookback(&self) -> usize {
        3 * (self.period - 1)
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.period == 1 {
            return Some(x);
        }
        let e1 = self.e1.next(x)?;
        let e2 = self.e2.next(e1)?;
        let e3 = self.e3.next(e2)?;
        Some(e3 + (3.0 * e1 - 3.0 * e2))
    }
}
