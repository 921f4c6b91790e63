//! Wilder's parabolic stop and reverse, in TA-Lib's SAREXT form (SAR is its special case).

use crate::bar::{Bar, Series};
use crate::indicator::Indicator;

/// The acceleration settings of one direction.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Acceleration {
    /// Factor on entering the direction.
    pub(crate) init: f64,
    /// Added at each new extreme.
    pub(crate) step: f64,
    /// Largest factor.
    pub(crate) max: f64,
}

impl Acceleration {
    /// Clamps the initial factor and the step to the maximum, as TA-Lib does.
    fn coherent(self) -> Self {
        Self {
            init: if self.init > self.max {
                self.max
            } else {
                self.init
            },
            step: if self.step > self.max {
                self.max
            } else {
                self.step
            },
            max: self.max,
        }
    }
}

/// TA-Lib's SAREXT (and SAR): the first bar only sets the starting stop; the direction comes from
/// `start` (> 0 long, < 0 short at `|start|`) or, when 0, from the first two bars' directional
/// movement. When `signed`, stops of short positions are written negated (SAREXT); `offset` moves
/// the stop away from price on each reversal.
#[derive(Clone, Copy)]
pub(crate) struct Sar {
    start: f64,
    offset: f64,
    long: Acceleration,
    short: Acceleration,
    signed: bool,
    phase: Phase,
    is_long: bool,
    af_long: f64,
    af_short: f64,
    ep: f64,
    sar: f64,
    prev_high: f64,
    prev_low: f64,
}

impl Sar {
    /// A stop and reverse with these settings.
    pub(crate) fn new(
        start: f64,
        offset: f64,
        long: Acceleration,
        short: Acceleration,
        signed: bool,
    ) -> Self {
        let (long, short) = (long.coherent(), short.coherent());
        Self {
            start,
            offset,
            long,
            short,
            signed,
            phase: Phase::Empty,
            is_long: true,
            af_long: long.init,
            af_short: short.init,
            ep: 0.0,
            sar: 0.0,
            prev_high: 0.0,
            prev_low: 0.0,
        }
    }

    /// Sets direction, extreme point and stop on the second bar.
    fn begin(&mut self, (high0, low0): (f64, f64), bar: &Bar) {
        self.is_long = if self.start == 0.0 {
            let up = bar.high - high0;
            let down = low0 - bar.low;
            !(down > 0.0 && up < down)
        } else {
            self.start > 0.0
        };
        self.ep = if self.is_long { bar.high } else { bar.low };
        self.sar = if self.start == 0.0 {
            if self.is_long { low0 } else { high0 }
        } else {
            self.start.abs()
        };
        self.prev_high = bar.high;
        self.prev_low = bar.low;
    }

    /// One bar of the recursion; returns the stop for this bar.
    #[inline(always)]
    fn step(&mut self, bar: &Bar) -> f64 {
        let (prev_high, prev_low) = (self.prev_high, self.prev_low);
        let (high, low) = (bar.high, bar.low);
        self.prev_high = high;
        self.prev_low = low;
        let out;
        if self.is_long {
            if low <= self.sar {
                self.is_long = false;
                self.sar = self.ep.max_of(prev_high).max_of(high);
                if self.offset != 0.0 {
                    self.sar += self.sar * self.offset;
                }
                out = if self.signed { -self.sar } else { self.sar };
                self.af_short = self.short.init;
                self.ep = low;
                self.sar = self.af_short.mul_add(self.ep - self.sar, self.sar);
                self.sar = self.sar.max_of(prev_high).max_of(high);
            } else {
                out = self.sar;
                if high > self.ep {
                    self.ep = high;
                    self.af_long += self.long.step;
                    if self.af_long > self.long.max {
                        self.af_long = self.long.max;
                    }
                }
                self.sar = self.af_long.mul_add(self.ep - self.sar, self.sar);
                self.sar = self.sar.min_of(prev_low).min_of(low);
            }
        } else if high >= self.sar {
            self.is_long = true;
            self.sar = self.ep.min_of(prev_low).min_of(low);
            if self.offset != 0.0 {
                self.sar -= self.sar * self.offset;
            }
            out = self.sar;
            self.af_long = self.long.init;
            self.ep = high;
            self.sar = self.af_long.mul_add(self.ep - self.sar, self.sar);
            self.sar = self.sar.min_of(prev_low).min_of(low);
        } else {
            out = if self.signed { -self.sar } else { self.sar };
            if low < self.ep {
                self.ep = low;
                self.af_short += self.short.step;
                if self.af_short > self.short.max {
                    self.af_short = self.short.max;
                }
            }
            self.sar = self.af_short.mul_add(self.ep - self.sar, self.sar);
            self.sar = self.sar.max_of(prev_high).max_of(high);
        }
        out
    }
}

/// How far the recursion has started.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// No bar seen.
    Empty,
    /// The first bar's high and low.
    First(f64, f64),
    /// Stepping.
    Running,
}

/// TA-Lib's clamps: replace only when strictly beyond (so NaN and ties keep the current value).
trait Clamp {
    fn max_of(self, other: f64) -> f64;
    fn min_of(self, other: f64) -> f64;
}

impl Clamp for f64 {
    #[inline]
    fn max_of(self, other: f64) -> f64 {
        if self < other { other } else { self }
    }

    #[inline]
    fn min_of(self, other: f64) -> f64 {
        if self > other { other } else { self }
    }
}

impl Indicator for Sar {
    fn lookback(&self) -> usize {
        1
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        match self.phase {
            Phase::Empty => {
                self.phase = Phase::First(bar.high, bar.low);
                out[0] = f64::NAN;
                return;
            }
            Phase::First(high, low) => {
                self.begin((high, low), bar);
                self.phase = Phase::Running;
            }
            Phase::Running => {}
        }
        out[0] = self.step(bar);
    }

    /// `next` until the recursion runs, then [`sar_steps`] over the rest.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let [column] = out else { panic!("one output") };
        let n = series.len();
        crate::indicator::prepare(column, n);
        let mut head = 0;
        let mut value = [f64::NAN];
        while head < n && !matches!(self.phase, Phase::Running) {
            self.next(&series.bar(head), &mut value);
            column.push(value[0]);
            head += 1;
        }
        let (high, low) = (&series.high[head..n], &series.low[head..n]);
        crate::indicator::with_fma(|| sar_steps(self, high, low, column));
    }
}

/// Steps a running `sar` over the bars of `high` and `low`, pushing each stop: a local copy
/// steps, so that its state stays in registers.
#[inline(always)]
fn sar_steps(sar: &mut Sar, high: &[f64], low: &[f64], out: &mut Vec<f64>) {
    let mut local = *sar;
    out.reserve(high.len());
    for (&high, &low) in high.iter().zip(low) {
        out.push(local.step(&Bar {
            high,
            low,
            ..Bar::default()
        }));
    }
    *sar = local;
}
