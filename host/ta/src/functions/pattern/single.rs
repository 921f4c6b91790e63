//! Patterns judged on the current candle alone (against the averages of the candles before it).

use super::settings::{
    BODY_DOJI, BODY_LONG, BODY_SHORT, NEAR, SHADOW_LONG, SHADOW_SHORT, SHADOW_VERY_LONG,
    SHADOW_VERY_SHORT, Setting,
};
use super::stream::{Bars, Rule, flag};

/// Doji: a real body no longer than a doji's.
pub(crate) struct Doji;

impl Rule for Doji {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_DOJI, 0)];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        flag(b.c(0).body() <= b.avg(0), 100)
    }
}

/// Dragonfly doji: a doji with a very short upper shadow and a long lower one.
pub(crate) struct DragonflyDoji;

impl Rule for DragonflyDoji {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_DOJI, 0), (SHADOW_VERY_SHORT, 0)];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body() <= b.avg(0) && c.upper_shadow() < b.avg(1) && c.lower_shadow() > b.avg(1),
            100,
        )
    }
}

/// Gravestone doji: a doji with a very short lower shadow and a long upper one.
pub(crate) struct GravestoneDoji;

impl Rule for GravestoneDoji {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_DOJI, 0), (SHADOW_VERY_SHORT, 0)];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body() <= b.avg(0) && c.lower_shadow() < b.avg(1) && c.upper_shadow() > b.avg(1),
            100,
        )
    }
}

/// Long-legged doji: a doji with one long shadow at least.
pub(crate) struct LongLeggedDoji;

impl Rule for LongLeggedDoji {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_DOJI, 0), (SHADOW_LONG, 0)];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body() <= b.avg(0) && (c.lower_shadow() > b.avg(1) || c.upper_shadow() > b.avg(1)),
            100,
        )
    }
}

/// Rickshaw man: a doji with two long shadows and its body near the middle of the range.
pub(crate) struct RickshawMan;

impl Rule for RickshawMan {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_DOJI, 0), (SHADOW_LONG, 0), (NEAR, 0)];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        let middle = c.low + c.high_low() / 2.0;
        flag(
            c.body() <= b.avg(0)
                && c.lower_shadow() > b.avg(1)
                && c.upper_shadow() > b.avg(1)
                && c.open.min(c.close) <= middle + b.avg(2)
                && c.open.max(c.close) >= middle - b.avg(2),
            100,
        )
    }
}

/// Takuri: a dragonfly doji with a very long lower shadow.
pub(crate) struct Takuri;

impl Rule for Takuri {
    const TOTALS: &'static [(Setting, usize)] = &[
        (BODY_DOJI, 0),
        (SHADOW_VERY_SHORT, 0),
        (SHADOW_VERY_LONG, 0),
    ];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body() <= b.avg(0) && c.upper_shadow() < b.avg(1) && c.lower_shadow() > b.avg(2),
            100,
        )
    }
}

/// Marubozu: a long body with very short shadows on both ends.
pub(crate) struct Marubozu;

impl Rule for Marubozu {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 0), (SHADOW_VERY_SHORT, 0)];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body() > b.avg(0) && c.upper_shadow() < b.avg(1) && c.lower_shadow() < b.avg(1),
            c.color() * 100,
        )
    }
}

/// Closing marubozu: a long body with a very short shadow at its closing end.
pub(crate) struct ClosingMarubozu;

impl Rule for ClosingMarubozu {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 0), (SHADOW_VERY_SHORT, 0)];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body() > b.avg(0)
                && ((c.white() && c.upper_shadow() < b.avg(1))
                    || (c.black() && c.lower_shadow() < b.avg(1))),
            c.color() * 100,
        )
    }
}

/// Belt hold: a long body with a very short shadow at its opening end.
pub(crate) struct BeltHold;

impl Rule for BeltHold {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 0), (SHADOW_VERY_SHORT, 0)];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body() > b.avg(0)
                && ((c.white() && c.lower_shadow() < b.avg(1))
                    || (c.black() && c.upper_shadow() < b.avg(1))),
            c.color() * 100,
        )
    }
}

/// Spinning top: a short body with shadows longer than it.
pub(crate) struct SpinningTop;

impl Rule for SpinningTop {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_SHORT, 0)];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body() < b.avg(0) && c.upper_shadow() > c.body() && c.lower_shadow() > c.body(),
            c.color() * 100,
        )
    }
}

/// Long line: a long body with short shadows.
pub(crate) struct LongLine;

impl Rule for LongLine {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 0), (SHADOW_SHORT, 0)];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body() > b.avg(0) && c.upper_shadow() < b.avg(1) && c.lower_shadow() < b.avg(1),
            c.color() * 100,
        )
    }
}

/// Short line: a short body with short shadows.
pub(crate) struct ShortLine;

impl Rule for ShortLine {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_SHORT, 0), (SHADOW_SHORT, 0)];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body() < b.avg(0) && c.upper_shadow() < b.avg(1) && c.lower_shadow() < b.avg(1),
            c.color() * 100,
        )
    }
}

/// High wave: a short body with very long shadows on both ends.
pub(crate) struct HighWave;

impl Rule for HighWave {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_SHORT, 0), (SHADOW_VERY_LONG, 0)];
    const SPAN: usize = 0;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body() < b.avg(0) && c.upper_shadow() > b.avg(1) && c.lower_shadow() > b.avg(1),
            c.color() * 100,
        )
    }
}
