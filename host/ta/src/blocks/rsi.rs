//! Wilder's relative strength index and the smoothed gains and losses behind it.

use super::Stream;
use super::wilder::WilderAverage;

/// Wilder-averaged gains and losses of a value's changes, as RSI and CMO smooth them: the first
/// output averages the first `period` changes, later ones update Wilder-style.
#[derive(Clone, Debug)]
pub struct GainLoss {
    prev: Option<f64>,
    gain: WilderAverage,
    loss: WilderAverage,
}

impl GainLoss {
    /// Gains and losses averaged over `period` changes, dividing by the period (CMO).
    pub fn new(period: usize) -> Self {
        Self {
            prev: None,
            gain: WilderAverage::new(period),
            loss: WilderAverage::new(period),
        }
    }

    /// Gains and losses averaged over `period` changes, multiplying by `1 / period` (RSI).
    pub fn reciprocal(period: usize) -> Self {
        Self {
            prev: None,
            gain: WilderAverage::reciprocal(period),
            loss: WilderAverage::reciprocal(period),
        }
    }

    /// Number of values consumed before the first output.
    pub fn lookback(&self) -> usize {
        self.gain.lookback() + 1
    }

    /// Consumes one value; `(average gain, average loss)` once `lookback()` values have passed.
    #[inline(always)]
    pub fn next(&mut self, x: f64) -> Option<(f64, f64)> {
        let prev = self.prev.replace(x)?;
        let (up, down) = split(x - prev);
        let gain = self.gain.next(up);
        let loss = self.loss.next(down);
        Some((gain?, loss?))
    }
}

/// TA-Lib's RSI: `gain / (gain + loss) * 100` of the Wilder-averaged gains and losses (averaged
/// by multiplying with `1 / period`), 0 when both are zero.
#[derive(Clone, Debug)]
pub struct Rsi(GainLoss);

impl Rsi {
    /// An RSI over `period` changes.
    pub fn new(period: usize) -> Self {
        Self(GainLoss::reciprocal(period))
    }

    /// Whether both averages are seeded: every later value gives an RSI.
    pub(crate) fn is_seeded(&self) -> bool {
        let g = &self.0;
        g.prev.is_some()
            && g.gain.reciprocal_steps().is_some()
            && g.loss.reciprocal_steps().is_some()
    }
}

impl Stream for Rsi {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        let (gain, loss) = self.0.next(x)?;
        Some(rsi(gain, loss))
    }

    /// `next` until both averages are seeded, then one loop with the previous value and both
    /// averages in registers ([`rsi_steps`]).
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let mut head = 0;
        let seeded = loop {
            let g = &self.0;
            if let (Some(prev), Some((n, r)), Some(_)) =
                (g.prev, g.gain.reciprocal_steps(), g.loss.reciprocal_steps())
            {
                break Some((prev, n, r));
            }
            let Some(&x) = xs.get(head) else {
                break None;
            };
            out.push(self.next(x).unwrap_or(f64::NAN));
            head += 1;
        };
        let Some((prev, n, r)) = seeded else {
            return true;
        };
        let mut state = [prev, self.0.gain.value(), self.0.loss.value()];
        rsi_steps(&xs[head..], &mut state, (n, r), out);
        let [prev, gain, loss] = state;
        self.0.prev = Some(prev);
        self.0.gain.set_value(gain);
        self.0.loss.set_value(loss);
        true
    }
}

/// A change as (gain, loss): `(0, -change)` when it is negative, else `(change, 0)`; selected
/// by mask, not branched on (a change's sign is a coin toss, a branch mispredicts half the
/// time).
#[inline(always)]
fn split(change: f64) -> (f64, f64) {
    let falls = u64::from(change < 0.0).wrapping_neg();
    let up = f64::from_bits(change.to_bits() & !falls);
    let down = f64::from_bits((-change).to_bits() & falls);
    (up, down)
}

/// RSI of the averages: `gain / (gain + loss) * 100`, 0 when both are zero.
#[inline(always)]
fn rsi(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    if total > 0.0 {
        (gain / total) * 100.0
    } else {
        0.0
    }
}

/// Steps `[previous value, average gain, average loss]` over `xs` as [`Rsi::next`] does (each
/// average `(avg * (n - 1) + x) * r`), pushing each RSI.
fn rsi_steps(xs: &[f64], state: &mut [f64; 3], (n, r): (f64, f64), out: &mut Vec<f64>) {
    out.reserve(xs.len());
    let [mut prev, mut gain, mut loss] = *state;
    for &x in xs {
        let (up, down) = split(x - prev);
        prev = x;
        gain = (gain * (n - 1.0) + up) * r;
        loss = (loss * (n - 1.0) + down) * r;
        out.push(rsi(gain, loss));
    }
    *state = [prev, gain, loss];
}
