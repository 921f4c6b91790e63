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

    /// Once the three EMAs are seeded, the chain in one loop ([`super::ema::chained`]).
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        if self.period == 1 {
            out.extend_from_slice(xs);
            return true;
        }
        let mut chain = [self.e1.clone(), self.e2.clone(), self.e3.clone()];
        super::ema::chained(
            &mut chain,
            xs,
            out,
            |[e1, e2, e3], x| {
                let v1 = e1.next(x)?;
                let v2 = e2.next(v1)?;
                let v3 = e3.next(v2)?;
                Some(v3 + (3.0 * v1 - 3.0 * v2))
            },
            |[e1, e2, e3]| e3 + (3.0 * e1 - 3.0 * e2),
        );
        [self.e1, self.e2, self.e3] = chain;
        true
    }
}
