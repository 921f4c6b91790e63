//! Bands around a moving average: Bollinger, acceleration and Keltner.

use crate::bar::{Bar, Series};
use crate::blocks::Stream;
use crate::blocks::atr::Atr;
use crate::blocks::ema::Ema;
use crate::blocks::ma::{MaType, MovingAverage};
use crate::blocks::sma::Sma;
use crate::blocks::variance::Variance;
use crate::indicator::Indicator;

/// TA-Lib's BBANDS: a moving average of the close with the population standard deviation over
/// the same period added (times `up`) and subtracted (times `down`). The deviation starts where
/// TA-Lib starts it: `period - 1` bars before the average's first value.
pub(crate) struct Bbands {
    ma: MovingAverage,
    variance: Variance,
    variance_start: usize,
    seen: usize,
    up: f64,
    down: f64,
    lookback: usize,
}

impl Bbands {
    /// Bands over `period` with deviation multipliers `up` and `down` around a `kind` average.
    pub(crate) fn new(period: usize, up: f64, down: f64, kind: MaType) -> Self {
        let ma = MovingAverage::new(kind, period, MaType::Sma);
        let variance = Variance::new(period);
        let lookback = ma.lookback().max(variance.lookback());
        Self {
            variance_start: lookback - variance.lookback(),
            ma,
            variance,
            seen: 0,
            up,
            down,
            lookback,
        }
    }
}

impl Indicator for Bbands {
    fn lookback(&self) -> usize {
        self.lookback
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let x = bar.close;
        let middle = self.ma.next(x);
        let variance = if self.seen >= self.variance_start {
            self.variance.next(x)
        } else {
            None
        };
        self.seen += 1;
        let (Some(middle), Some(variance)) = (middle, variance) else {
            out[..3].fill(f64::NAN);
            return;
        };
        let deviation = deviation_of(variance);
        (out[0], out[2]) = bands(middle, deviation, self.up, self.down);
        out[1] = middle;
    }

    /// The average's and the variance's array paths over the closes (the variance into the
    /// upper column, turned into the bands in place); the default loop for an average type
    /// without one.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let [upper, middle, lower] = out else {
            panic!("three outputs")
        };
        let n = series.len();
        for column in [&mut *upper, &mut *middle, &mut *lower] {
            crate::indicator::prepare(column, n);
        }
        let close = &series.close[..n];
        if !self.ma.next_many(close, middle) {
            crate::indicator::run_fastest(self, series, [upper, middle, lower]);
            return;
        }
        let skip = self.variance_start.saturating_sub(self.seen).min(n);
        upper.extend(std::iter::repeat_n(f64::NAN, skip));
        let fed = self.variance.next_many(&close[skip..], upper);
        debug_assert!(fed, "a variance has an array path");
        // Before the lookback `next` gives no band, whatever the average already gives.
        let warm = self.lookback.saturating_sub(self.seen).min(n);
        self.seen += n;
        middle[..warm].fill(f64::NAN);
        lower.extend(std::iter::repeat_n(f64::NAN, warm));
        upper[..warm].fill(f64::NAN);
        let (up, down) = (self.up, self.down);
        crate::indicator::with_fma(|| {
            bands_of(&middle[warm..], &mut upper[warm..], lower, up, down);
        });
    }
}

/// The deviation of `variance` as BBANDS takes it (a zero variance's is zero).
#[inline(always)]
fn deviation_of(variance: f64) -> f64 {
    if variance != 0.0 {
        variance.sqrt()
    } else {
        0.0
    }
}

/// The upper and lower band around `middle` at `deviation` times `up` and `down`.
#[inline(always)]
fn bands(middle: f64, deviation: f64, up: f64, down: f64) -> (f64, f64) {
    if up == down {
        let width = deviation * up;
        (middle + width, middle - width)
    } else {
        (deviation.mul_add(up, middle), middle - deviation * down)
    }
}

/// Turns the variances in `upper` into the upper band and pushes the lower band onto `lower`.
#[inline(always)]
fn bands_of(middle: &[f64], upper: &mut [f64], lower: &mut Vec<f64>, up: f64, down: f64) {
    lower.extend(middle.iter().zip(upper.iter_mut()).map(|(&m, u)| {
        let (high, low) = bands(m, deviation_of(*u), up, down);
        *u = high;
        low
    }));
}

/// Below this magnitude TA-Lib treats `high + low` as zero (`TA_IS_ZERO`).
const EPSILON: f64 = 1e-14;

/// TA-Lib's ACCBANDS: simple averages of `high * (1 + 4 (high - low) / (high + low))`, of the
/// close, and of `low * (1 - 4 (high - low) / (high + low))`.
pub(crate) struct Accbands {
    upper: Sma,
    middle: Sma,
    lower: Sma,
}

impl Accbands {
    /// Bands over `period`.
    pub(crate) fn new(period: usize) -> Self {
        Self {
            upper: Sma::new(period),
            middle: Sma::new(period),
            lower: Sma::new(period),
        }
    }
}

impl Indicator for Accbands {
    fn lookback(&self) -> usize {
        self.middle.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let (high, low) = widened(bar.high, bar.low);
        let upper = self.upper.next(high);
        let middle = self.middle.next(bar.close);
        let lower = self.lower.next(low);
        out[0] = upper.unwrap_or(f64::NAN);
        out[1] = middle.unwrap_or(f64::NAN);
        out[2] = lower.unwrap_or(f64::NAN);
    }

    /// The middle band by the SMA's array path over the closes; the outer ones 4,096 bars at
    /// a time: the widened highs and lows side by side (vectorised), then the SMAs' array
    /// paths over them.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        const CHUNK: usize = 4096;
        let [upper, middle, lower] = out else {
            panic!("three outputs")
        };
        let n = series.len();
        for column in [&mut *upper, &mut *middle, &mut *lower] {
            crate::indicator::prepare(column, n);
        }
        crate::blocks::feed(&mut self.middle, &series.close[..n], middle);
        let (mut highs, mut lows) = (vec![0.0; CHUNK.min(n)], vec![0.0; CHUNK.min(n)]);
        let mut at = 0;
        while at < n {
            let len = CHUNK.min(n - at);
            let bars = series.high[at..at + len]
                .iter()
                .zip(&series.low[at..at + len]);
            for ((h, l), (&high, &low)) in highs.iter_mut().zip(lows.iter_mut()).zip(bars) {
                (*h, *l) = widened(high, low);
            }
            crate::blocks::feed(&mut self.upper, &highs[..len], upper);
            crate::blocks::feed(&mut self.lower, &lows[..len], lower);
            at += len;
        }
    }
}

/// A bar's high and low widened by four times its range over `high + low` (kept as they are
/// where that sum is zero to TA-Lib).
#[inline(always)]
fn widened(high: f64, low: f64) -> (f64, f64) {
    let sum = high + low;
    if -EPSILON < sum && sum < EPSILON {
        (high, low)
    } else {
        let width = 4.0 * (high - low) / sum;
        (high * (1.0 + width), low * (1.0 - width))
    }
}

/// TA-Lib's KC: an EMA of the typical price `(high + low + close) / 3` with `nbdev` ATRs added
/// and subtracted. Each starts late enough to end its warm-up on the first output bar, as in TA-Lib
/// (so the ATR is seeded by the mean of the true ranges just before it).
pub(crate) struct Kc {
    ema: Ema,
    atr: Atr,
    ema_start: usize,
    atr_start: usize,
    seen: usize,
    nbdev: f64,
    lookback: usize,
}

impl Kc {
    /// Channels from an EMA over `period` and an ATR over `atr_period`.
    pub(crate) fn new(period: usize, atr_period: usize, nbdev: f64) -> Self {
        let ema = Ema::new(period);
        let atr = Atr::new(atr_period);
        let lookback = ema.lookback().max(atr.lookback());
        Self {
            ema_start: lookback - ema.lookback(),
            atr_start: lookback - atr.lookback(),
            ema,
            atr,
            seen: 0,
            nbdev,
            lookback,
        }
    }
}

impl Indicator for Kc {
    fn lookback(&self) -> usize {
        self.lookback
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let atr = if self.seen >= self.atr_start {
            self.atr.next(bar.high, bar.low, bar.close)
        } else {
            None
        };
        let middle = if self.seen >= self.ema_start {
            self.ema.next((bar.high + bar.low + bar.close) / 3.0)
        } else {
            None
        };
        self.seen += 1;
        let (Some(middle), Some(atr)) = (middle, atr) else {
            out[..3].fill(f64::NAN);
            return;
        };
        let width = atr * self.nbdev;
        out[0] = middle + width;
        out[1] = middle;
        out[2] = middle - width;
    }
}
