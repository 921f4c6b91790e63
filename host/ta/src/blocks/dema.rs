//! Double exponential moving average (Mulloy).

use super::Stream;
use super::ema::Ema;

/// TA-Lib's DEMA: `2 * e1 - e2` where `e1 = EMA(x)` and `e2 = EMA(e1)`, each EMA seeded by the
/// mean of its first `period` inputs. A period of 1 passes values through.
#[derive(Clone, Debug)]
pub struct Dema {
    period: usize,
    e1: Ema,
    e2: Ema,
}

impl Dema {
    /// A DEMA over `period` (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            e1: Ema::new(period),
            e2: Ema::new(period),
        }
    }
}

impl Stream for Dema {
    fn lookback(&self) -> usize {
        2 * (self.period - 1)
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.period == 1 {
            return Some(x);
        }
        let e1 = self.e1.next(x)?;
        let e2 = self.e2.next(e1)?;
        Some(2.0 * e1 - e2)
    }

    /// Once both EMAs are seeded, the chain in one loop ([`super::ema::chained`]).
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        if self.period == 1 {
            out.extend_from_slice(xs);
            return true;
        }
        let mut chain = [self.e1.clone(), self.e2.clone()];
        super::ema::chained(
            &mut chain,
            xs,
            out,
            |[e1, e2], x| {
                let v1 = e1.next(x)?;
                let v2 = e2.next(v1)?;
                Some(2.0 * v1 - v2)
            },
            |[e1, e2]| 2.0 * e1 - e2,
        );
        [self.e1, self.e2] = chain;
        true
    }
}
