//! The hikkake patterns: an inside bar, a false breakout, and a confirmation within three bars.

use super::candle::Candle;
use super::settings::{NEAR, Setting};
use super::stream::{Bars, Rule};

/// The last breakout still awaiting confirmation, as TA-Lib tracks it across bars.
#[derive(Clone, Copy, Debug, Default)]
struct Pending {
    /// +100 bullish, -100 bearish; 0 before any breakout.
    result: i32,
    /// Bars since the breakout, while confirmation is still possible.
    age: Option<usize>,
    /// High and low of the inside bar before the breakout.
    high: f64,
    low: f64,
}

impl Pending {
    /// Runs one bar: `breakout` tells whether the current bar completes a pattern (`c` is the
    /// breakout bar, `inside` the bar before it). Returns TA-Lib's output for the bar.
    fn step(&mut self, breakout: bool, c: &Candle, inside: &Candle) -> i32 {
        self.age = self.age.map(|a| a + 1);
        if breakout {
            self.result = if c.high < inside.high { 100 } else { -100 };
            self.age = Some(0);
            self.high = inside.high;
            self.low = inside.low;
            self.result
        } else if self.age.is_some_and(|a| a <= 3)
            && ((self.result > 0 && c.close > self.high) || (self.result < 0 && c.close < self.low))
        {
            self.age = None;
            self.result + 100 * self.result.signum()
        } else {
            0
        }
    }
}

/// Whether `c` breaks out of the range of `inside` (lower high and lower low, or higher high
/// and higher low).
#[inline]
fn breaks_out(c: &Candle, inside: &Candle) -> bool {
    (c.high < inside.high && c.low < inside.low) || (c.high > inside.high && c.low > inside.low)
}

/// Whether `inner`'s range lies strictly inside `outer`'s.
#[inline]
fn inside_bar(inner: &Candle, outer: &Candle) -> bool {
    inner.high < outer.high && inner.low > outer.low
}

/// Hikkake: an inside bar followed by a breakout (±100), confirmed within three bars (±200).
#[derive(Default)]
pub(crate) struct Hikkake {
    pending: Pending,
}

impl Hikkake {
    fn run(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        let found = inside_bar(c1, c2) && breaks_out(c0, c1);
        self.pending.step(found, c0, c1)
    }
}

impl Rule for Hikkake {
    const TOTALS: &'static [(Setting, usize)] = &[];
    const SPAN: usize = 5;
    const EARLY: usize = 3;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        self.run(b)
    }

    fn prime(&mut self, b: &Bars<'_>) {
        self.run(b);
    }
}

/// Modified hikkake: two nested inside bars, the first closing near its low (high), then a
/// breakout downwards (upwards); confirmed within three bars (±200).
#[derive(Default)]
pub(crate) struct HikkakeMod {
    pending: Pending,
}

impl HikkakeMod {
    fn run(&mut self, b: &Bars<'_>) -> i32 {
        let (c3, c2, c1, c0) = (b.c(3), b.c(2), b.c(1), b.c(0));
        let near = b.avg(0);
        let found = inside_bar(c2, c3)
            && inside_bar(c1, c2)
            && ((c0.high < c1.high && c0.low < c1.low && c2.close <= c2.low + near)
                || (c0.high > c1.high && c0.low > c1.low && c2.close >= c2.high - near));
        self.pending.step(found, c0, c1)
    }
}

impl Rule for HikkakeMod {
    const TOTALS: &'static [(Setting, usize)] = &[(NEAR, 2)];
    const SPAN: usize = 5;
    const EARLY: usize = 3;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        self.run(b)
    }

    fn prime(&mut self, b: &Bars<'_>) {
        self.run(b);
    }
}
