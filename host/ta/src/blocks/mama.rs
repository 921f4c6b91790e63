//! MESA adaptive moving average (MAMA) and its following average (FAMA), as TA-Lib computes them.

use super::Stream;
use super::hilbert::{Hilbert, rad_to_deg};
use crate::indicator::Warmup;

/// TA-Lib's lookback of MAMA with its default unstable period 0.
const LOOKBACK: usize = 32;
/// The bar at which TA-Lib starts MAMA's Hilbert filters.
const FIRST: usize = 12;

/// MAMA: an exponential average of price whose factor follows the rate of change of the Hilbert
/// phase, bounded by `fast_limit` and `slow_limit`. [`Stream::next`] yields MAMA;
/// [`Mama::fama`] gives FAMA of the same bar.
#[derive(Clone, Debug)]
pub struct Mama {
    hilbert: Hilbert,
    warmup: Warmup,
    ready: bool,
    fast_limit: f64,
    slow_limit: f64,
    rad_to_deg: f64,
    prev_phase: f64,
    mama: f64,
    fama: f64,
}

impl Mama {
    /// MAMA with TA-Lib's `optInFastLimit` and `optInSlowLimit` (defaults 0.5 and 0.05).
    pub fn new(fast_limit: f64, slow_limit: f64) -> Self {
        Self {
            hilbert: Hilbert::new(FIRST),
            warmup: Warmup::new(LOOKBACK),
            ready: false,
            fast_limit,
            slow_limit,
            rad_to_deg: rad_to_deg(),
            prev_phase: 0.0,
            mama: 0.0,
            fama: 0.0,
        }
    }

    /// FAMA after the last bar; NaN while [`Stream::next`] still yields `None`.
    pub fn fama(&self) -> f64 {
        if self.ready { self.fama } else { f64::NAN }
    }
}

impl Stream for Mama {
    fn lookback(&self) -> usize {
        LOOKBACK
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        self.ready = self.warmup.tick();
        let cycle = self.hilbert.next(x)?;
        let phase = if cycle.in_phase != 0.0 {
            (cycle.quadrature / cycle.in_phase).atan() * self.rad_to_deg
        } else {
            0.0
        };
        let mut delta = self.prev_phase - phase;
        self.prev_phase = phase;
        if delta < 1.0 {
            delta = 1.0;
        }
        let alpha = if delta > 1.0 {
            let alpha = self.fast_limit / delta;
            if alpha < self.slow_limit {
                self.slow_limit
            } else {
                alpha
            }
        } else {
            self.fast_limit
        };
        // Fused as TA-Lib's FMA build fuses them (see `hilbert`).
        self.mama = (1.0 - alpha).mul_add(self.mama, alpha * x);
        let half = alpha * 0.5;
        self.fama = (1.0 - half).mul_add(self.fama, half * self.mama);
        self.ready.then_some(self.mama)
    }
}
