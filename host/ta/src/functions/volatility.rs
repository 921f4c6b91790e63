//! Volatility Indicators: ranges and volatility.

use super::{OnClose, period};
use crate::bar::Bar;
use crate::blocks::Stream;
use crate::blocks::window::Window;
use crate::indicator::Indicator;
use crate::registry::{Field, Function, Group, Param};

const HIGH_LOW: &[Field] = &[Field::High, Field::Low];
const REAL: &[&str] = &["real"];

/// The EMA these functions fuse in: seeded by the mean of the first `period` values, then
/// `beta * prev + k * x` as one fused multiply-add.
#[derive(Clone, Debug)]
struct FusedEma {
    period: usize,
    beta: f64,
    k: f64,
    seen: usize,
    value: f64,
}

impl FusedEma {
    /// `k = 1 - beta` with `beta = (period - 1) / (period + 1)`; beta is re-derived as `1 - k`
    /// when `rederive` holds (MASSI always, CVI below one half) so that the two sum to one.
    fn new(period: usize, rederive: impl Fn(f64) -> bool) -> Self {
        let mut beta = (period - 1) as f64 / (period + 1) as f64;
        let k = 1.0 - beta;
        if rederive(beta) {
            beta = 1.0 - k;
        }
        Self {
            period,
            beta,
            k,
            seen: 0,
            value: 0.0,
        }
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.seen < self.period {
            self.seen += 1;
            self.value += x;
            if self.seen < self.period {
                return None;
            }
            self.value /= self.period as f64;
        } else {
            self.value = self.beta.mul_add(self.value, self.k * x);
        }
        Some(self.value)
    }
}

/// CVI: Chaikin's volatility, the percent change over `roc` bars of an EMA of the high-low range.
struct ChaikinVolatility {
    ema: FusedEma,
    lagged: Window,
}

impl Indicator for ChaikinVolatility {
    fn lookback(&self) -> usize {
        self.ema.period - 1 + self.lagged.capacity()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = f64::NAN;
        let Some(ema) = self.ema.next(bar.high - bar.low) else {
            return;
        };
        if let Some(lag) = self.lagged.push(ema) {
            out[0] = if lag != 0.0 {
                100.0 * ((ema - lag) / lag)
            } else {
                0.0
            };
        }
    }
}

/// MASSI: Dorsey's mass index, the sum over `slow` bars of EMA(range) / EMA(EMA(range)).
struct MassIndex {
    single: FusedEma,
    double: FusedEma,
    ratios: Window,
    total: f64,
}

impl Indicator for MassIndex {
    fn lookback(&self) -> usize {
        2 * (self.single.period - 1) + self.ratios.capacity() - 1
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = f64::NAN;
        let Some(single) = self.single.next(bar.high - bar.low) else {
            return;
        };
        let Some(double) = self.double.next(single) else {
            return;
        };
        let ratio = if double == 0.0 { 1.0 } else { single / double };
        self.ratios.push(ratio);
        self.total += ratio;
        if self.ratios.is_full() {
            out[0] = self.total;
            self.total -= self.ratios.get(0);
        }
    }
}

/// The standard deviation RVI smooths: TA-Lib's shifted running sums, re-anchored when the
/// variance falls below a millionth of the largest sum of squares seen since the last anchor, or
/// every `32 * period` values.
struct RviSigma {
    period: usize,
    inv_period: f64,
    window: Window,
    shift: f64,
    total1: f64,
    total2: f64,
    peak2: f64,
    since_reseed: i64,
}

impl RviSigma {
    fn new(period: usize) -> Self {
        Self {
            period,
            inv_period: 1.0 / period as f64,
            window: Window::new(period),
            shift: 0.0,
            total1: 0.0,
            total2: 0.0,
            peak2: 0.0,
            since_reseed: 32 * period as i64,
        }
    }

    /// Sums the window's deviations from `shift`; returns the variance they give.
    fn sums_about(&mut self, shift: f64) -> f64 {
        self.shift = shift;
        self.total1 = 0.0;
        self.total2 = 0.0;
        for v in self.window.iter() {
            let d = v - shift;
            self.total1 += d;
            self.total2 += d * d;
        }
        let mean = self.total1 * self.inv_period;
        self.total2 * self.inv_period - mean * mean
    }

    fn reseed(&mut self, newest: f64) -> f64 {
        let inv = self.inv_period;
        let mut sum = 0.0;
        for v in self.window.iter() {
            sum += v;
        }
        let mut variance = self.sums_about(sum * inv);
        if variance < 1e-6 * (self.total2 * inv) {
            variance = self.sums_about(newest);
        }
        self.peak2 = self.total2;
        if variance < 1e-12 * (self.total2 * inv) {
            variance = 0.0;
        }
        let d = self.window.get(0) - self.shift;
        self.total1 -= d;
        self.total2 -= d * d;
        variance
    }

    /// Consumes the next value; the standard deviation of the last `period` once full.
    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        let inv = self.inv_period;
        if self.window.is_empty() {
            self.shift = x;
        }
        self.window.push(x);
        let d = x - self.shift;
        self.total1 += d;
        self.total2 += d * d;
        if !self.window.is_full() {
            self.peak2 = self.total2;
            return None;
        }
        if self.total2 > self.peak2 {
            self.peak2 = self.total2;
        }
        let mean = self.total1 * inv;
        let mut variance = self.total2 * inv - mean * mean;
        let d = self.window.get(0) - self.shift;
        self.total1 -= d;
        self.total2 -= d * d;
        self.since_reseed -= 1;
        if variance < 1e-6 * (self.peak2 * inv) || self.since_reseed <= 0 {
            self.since_reseed = 32 * self.period as i64;
            variance = self.reseed(x);
        }
        Some(variance.sqrt())
    }
}

/// RVI: Dorsey's relative volatility index, the Wilder-smoothed standard deviation of up closes
/// over that of all moving closes, in percent (50 when both are 0).
struct RelativeVolatility {
    sigma: RviSigma,
    period: usize,
    beta: f64,
    alpha: f64,
    prev: Option<f64>,
    seeded: usize,
    up: f64,
    down: f64,
}

impl Stream for RelativeVolatility {
    fn lookback(&self) -> usize {
        self.sigma.period - 1 + self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        let prev = self.prev.replace(x);
        let sigma = self.sigma.next(x)?;
        let delta = x - prev.expect("the deviation window holds two values or more");
        let (up, down) = if delta > 0.0 {
            (sigma, 0.0)
        } else if delta < 0.0 {
            (0.0, sigma)
        } else {
            (0.0, 0.0)
        };
        if self.seeded < self.period {
            self.seeded += 1;
            self.up += up;
            self.down += down;
            if self.seeded < self.period {
                return None;
            }
            self.up /= self.period as f64;
            self.down /= self.period as f64;
        } else {
            self.up = self.beta.mul_add(self.up, self.alpha * up);
            self.down = self.beta.mul_add(self.down, self.alpha * down);
        }
        let total = self.up + self.down;
        Some(if total == 0.0 {
            50.0
        } else {
            100.0 * (self.up / total)
        })
    }
}

pub(crate) static FUNCTIONS: &[Function] = &[
    Function {
        name: "CVI",
        group: Group::VolatilityIndicators,
        description: "Chaikin volatility: rate of change of the EMA of the high-low range, %",
        inputs: HIGH_LOW,
        params: &[
            Param::period("timeperiod", 10, 2),
            Param::period("rocperiod", 10, 1),
        ],
        outputs: REAL,
        build: |p| {
            Box::new(ChaikinVolatility {
                ema: FusedEma::new(period(p[0]), |beta| beta < 0.5),
                lagged: Window::new(period(p[1])),
            })
        },
    },
    Function {
        name: "MASSI",
        group: Group::VolatilityIndicators,
        description: "Mass index: summed ratio of single to double EMA of the high-low range",
        inputs: HIGH_LOW,
        params: &[
            Param::period("fastperiod", 9, 2),
            Param::period("slowperiod", 25, 2),
        ],
        outputs: REAL,
        build: |p| {
            Box::new(MassIndex {
                single: FusedEma::new(period(p[0]), |_| true),
                double: FusedEma::new(period(p[0]), |_| true),
                ratios: Window::new(period(p[1])),
                total: 0.0,
            })
        },
    },
    Function {
        name: "RVI",
        group: Group::VolatilityIndicators,
        description: "Relative volatility index: share of up-close volatility, Wilder-smoothed, %",
        inputs: &[Field::Close],
        params: &[
            Param::period("timeperiod", 14, 1),
            Param::period("stddevperiod", 10, 2),
        ],
        outputs: REAL,
        build: |p| {
            let period = period(p[0]);
            let beta = (period - 1) as f64 / period as f64;
            Box::new(OnClose(RelativeVolatility {
                sigma: RviSigma::new(super::period(p[1])),
                period,
                beta,
                alpha: 1.0 - beta,
                prev: None,
                seeded: 0,
                up: 0.0,
                down: 0.0,
            }))
        },
    },
];
