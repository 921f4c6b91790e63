//! Patterns of three candles.

use super::settings::{
    BODY_DOJI, BODY_LONG, BODY_SHORT, EQUAL, FAR, NEAR, SHADOW_LONG, SHADOW_SHORT,
    SHADOW_VERY_SHORT, Setting,
};
use super::stream::{Bars, Rule, flag};

/// Morning star: a long black body, a short body gapping down, then a white body closing
/// `penetration` into the first.
pub(crate) struct MorningStar {
    /// Fraction of the first body the third close must reach into.
    pub penetration: f64,
}

impl Rule for MorningStar {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 2), (BODY_SHORT, 1), (BODY_SHORT, 0)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.black()
                && c0.white()
                && c1.body_gap_down(c2)
                && c0.close > c2.close + c2.body() * self.penetration
                && c2.body() > b.avg(0)
                && c1.body() <= b.avg(1)
                && c0.body() > b.avg(2),
            100,
        )
    }
}

/// Evening star: a long white body, a short body gapping up, then a black body closing
/// `penetration` into the first.
pub(crate) struct EveningStar {
    /// Fraction of the first body the third close must reach into.
    pub penetration: f64,
}

impl Rule for EveningStar {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 2), (BODY_SHORT, 1), (BODY_SHORT, 0)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.white()
                && c0.black()
                && c1.body_gap_up(c2)
                && c0.close < c2.close - c2.body() * self.penetration
                && c2.body() > b.avg(0)
                && c1.body() <= b.avg(1)
                && c0.body() > b.avg(2),
            -100,
        )
    }
}

/// Morning doji star: a morning star whose star is a doji.
pub(crate) struct MorningDojiStar {
    /// Fraction of the first body the third close must reach into.
    pub penetration: f64,
}

impl Rule for MorningDojiStar {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 2), (BODY_DOJI, 1), (BODY_SHORT, 0)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.black()
                && c2.body() > b.avg(0)
                && c1.body() <= b.avg(1)
                && c1.body_gap_down(c2)
                && c0.white()
                && c0.body() > b.avg(2)
                && c0.close > c2.close + c2.body() * self.penetration,
            100,
        )
    }
}

/// Evening doji star: an evening star whose star is a doji.
pub(crate) struct EveningDojiStar {
    /// Fraction of the first body the third close must reach into.
    pub penetration: f64,
}

impl Rule for EveningDojiStar {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 2), (BODY_DOJI, 1), (BODY_SHORT, 0)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.white()
                && c2.body() > b.avg(0)
                && c1.body() <= b.avg(1)
                && c1.body_gap_up(c2)
                && c0.black()
                && c0.body() > b.avg(2)
                && c0.close < c2.close - c2.body() * self.penetration,
            -100,
        )
    }
}

/// Three white soldiers: three rising white candles with very short upper shadows, each opening
/// within or near the prior body, none much shorter than the one before.
pub(crate) struct ThreeWhiteSoldiers;

impl Rule for ThreeWhiteSoldiers {
    const TOTALS: &'static [(Setting, usize)] = &[
        (SHADOW_VERY_SHORT, 2),
        (SHADOW_VERY_SHORT, 1),
        (SHADOW_VERY_SHORT, 0),
        (NEAR, 2),
        (NEAR, 1),
        (FAR, 2),
        (FAR, 1),
        (BODY_SHORT, 0),
    ];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.white()
                && c2.upper_shadow() < b.avg(0)
                && c1.white()
                && c1.upper_shadow() < b.avg(1)
                && c0.white()
                && c0.upper_shadow() < b.avg(2)
                && c0.close > c1.close
                && c1.close > c2.close
                && c1.open > c2.open
                && c1.open <= c2.close + b.avg(3)
                && c0.open > c1.open
                && c0.open <= c1.close + b.avg(4)
                && c1.body() > c2.body() - b.avg(5)
                && c0.body() > c1.body() - b.avg(6)
                && c0.body() > b.avg(7),
            100,
        )
    }
}

/// Three black crows: after a white candle, three falling black candles with very short lower
/// shadows, each opening within the prior body.
pub(crate) struct ThreeBlackCrows;

impl Rule for ThreeBlackCrows {
    const TOTALS: &'static [(Setting, usize)] = &[
        (SHADOW_VERY_SHORT, 2),
        (SHADOW_VERY_SHORT, 1),
        (SHADOW_VERY_SHORT, 0),
    ];
    const SPAN: usize = 3;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c3, c2, c1, c0) = (b.c(3), b.c(2), b.c(1), b.c(0));
        flag(
            c3.white()
                && c2.black()
                && c2.lower_shadow() < b.avg(0)
                && c1.black()
                && c1.lower_shadow() < b.avg(1)
                && c0.black()
                && c0.lower_shadow() < b.avg(2)
                && c1.open < c2.open
                && c1.open > c2.close
                && c0.open < c1.open
                && c0.open > c1.close
                && c3.high > c2.close
                && c2.close > c1.close
                && c1.close > c0.close,
            -100,
        )
    }
}

/// Two crows: a long white body, a black body gapping up, then a black body opening inside the
/// second and closing inside the first.
pub(crate) struct TwoCrows;

impl Rule for TwoCrows {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 2)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.white()
                && c2.body() > b.avg(0)
                && c1.black()
                && c1.body_gap_up(c2)
                && c0.black()
                && c0.open < c1.open
                && c0.open > c1.close
                && c0.close > c2.open
                && c0.close < c2.close,
            -100,
        )
    }
}

/// Upside gap two crows: a long white body, a short black body gapping up, then a black body
/// engulfing the second and closing above the first.
pub(crate) struct UpsideGapTwoCrows;

impl Rule for UpsideGapTwoCrows {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 2), (BODY_SHORT, 1)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.white()
                && c2.body() > b.avg(0)
                && c1.black()
                && c1.body() <= b.avg(1)
                && c1.body_gap_up(c2)
                && c0.black()
                && c0.open > c1.open
                && c0.close < c1.close
                && c0.close > c2.close,
            -100,
        )
    }
}

/// Three inside up/down: a harami confirmed by a third candle closing beyond the first's open.
pub(crate) struct ThreeInside;

impl Rule for ThreeInside {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 2), (BODY_SHORT, 1)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.body() > b.avg(0)
                && c1.body() <= b.avg(1)
                && c1.close.max(c1.open) < c2.close.max(c2.open)
                && c1.close.min(c1.open) > c2.close.min(c2.open)
                && ((c2.white() && c0.black() && c0.close < c2.open)
                    || (c2.black() && c0.white() && c0.close > c2.open)),
            -c2.color() * 100,
        )
    }
}

/// Three outside up/down: an engulfing confirmed by a third candle closing beyond the second.
pub(crate) struct ThreeOutside;

impl Rule for ThreeOutside {
    const TOTALS: &'static [(Setting, usize)] = &[];
    const SPAN: usize = 3;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            (c1.white()
                && c2.black()
                && c1.close > c2.open
                && c1.open < c2.close
                && c0.close > c1.close)
                || (c1.black()
                    && c2.white()
                    && c1.open > c2.close
                    && c1.close < c2.open
                    && c0.close < c1.close),
            c1.color() * 100,
        )
    }
}

/// Three stars in the south: three shrinking black candles in a narrowing range.
pub(crate) struct ThreeStarsInSouth;

impl Rule for ThreeStarsInSouth {
    const TOTALS: &'static [(Setting, usize)] = &[
        (BODY_LONG, 2),
        (SHADOW_LONG, 2),
        (SHADOW_VERY_SHORT, 1),
        (SHADOW_VERY_SHORT, 0),
        (BODY_SHORT, 0),
    ];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.black()
                && c1.black()
                && c0.black()
                && c2.body() > b.avg(0)
                && c2.lower_shadow() > b.avg(1)
                && c1.body() < c2.body()
                && c1.open > c2.close
                && c1.open <= c2.high
                && c1.low < c2.close
                && c1.low >= c2.low
                && c1.lower_shadow() > b.avg(2)
                && c0.body() < b.avg(4)
                && c0.lower_shadow() < b.avg(3)
                && c0.upper_shadow() < b.avg(3)
                && c0.low > c1.low
                && c0.high < c1.high,
            100,
        )
    }
}

/// Abandoned baby: a long body, a doji gapping away from it, then a body gapping back and
/// closing `penetration` into the first.
pub(crate) struct AbandonedBaby {
    /// Fraction of the first body the third close must reach into.
    pub penetration: f64,
}

impl Rule for AbandonedBaby {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 2), (BODY_DOJI, 1), (BODY_SHORT, 0)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        let pen = c2.body() * self.penetration;
        flag(
            c2.body() > b.avg(0)
                && c1.body() <= b.avg(1)
                && c0.body() > b.avg(2)
                && ((c2.white()
                    && c0.black()
                    && c0.close < c2.close - pen
                    && c1.gap_up(c2)
                    && c0.gap_down(c1))
                    || (c2.black()
                        && c0.white()
                        && c0.close > c2.close + pen
                        && c1.gap_down(c2)
                        && c0.gap_up(c1))),
            c0.color() * 100,
        )
    }
}

/// Advance block: three white candles advancing with signs of weakening.
pub(crate) struct AdvanceBlock;

impl Rule for AdvanceBlock {
    const TOTALS: &'static [(Setting, usize)] = &[
        (SHADOW_SHORT, 2),
        (SHADOW_SHORT, 1),
        (SHADOW_SHORT, 0),
        (SHADOW_LONG, 1),
        (SHADOW_LONG, 0),
        (NEAR, 2),
        (NEAR, 1),
        (FAR, 2),
        (FAR, 1),
        (BODY_LONG, 2),
    ];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.white()
                && c1.white()
                && c0.white()
                && c0.close > c1.close
                && c1.close > c2.close
                && c1.open > c2.open
                && c1.open <= c2.close + b.avg(5)
                && c0.open > c1.open
                && c0.open <= c1.close + b.avg(6)
                && c2.body() > b.avg(9)
                && c2.upper_shadow() < b.avg(0)
                && ((c1.body() < c2.body() - b.avg(7) && c0.body() < c1.body() + b.avg(6))
                    || c0.body() < c1.body() - b.avg(8)
                    || (c0.body() < c1.body()
                        && c1.body() < c2.body()
                        && (c0.upper_shadow() > b.avg(2) || c1.upper_shadow() > b.avg(1)))
                    || (c0.body() < c1.body() && c0.upper_shadow() > b.avg(4))),
            -100,
        )
    }
}

/// Stalled pattern: two long white candles, then a small one near the second's close.
pub(crate) struct StalledPattern;

impl Rule for StalledPattern {
    const TOTALS: &'static [(Setting, usize)] = &[
        (BODY_LONG, 2),
        (BODY_LONG, 1),
        (BODY_SHORT, 0),
        (SHADOW_VERY_SHORT, 1),
        (NEAR, 2),
        (NEAR, 1),
    ];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.white()
                && c1.white()
                && c0.white()
                && c0.close > c1.close
                && c1.close > c2.close
                && c2.body() > b.avg(0)
                && c1.body() > b.avg(1)
                && c1.upper_shadow() < b.avg(3)
                && c1.open > c2.open
                && c1.open <= c2.close + b.avg(4)
                && c0.body() < b.avg(2)
                && c0.open >= c1.close - c0.body() - b.avg(5),
            -100,
        )
    }
}

/// Up/down-gap side-by-side white lines: two similar white candles after a gap.
pub(crate) struct GapSideSideWhite;

impl Rule for GapSideSideWhite {
    const TOTALS: &'static [(Setting, usize)] = &[(NEAR, 1), (EQUAL, 1)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        let up = c1.body_gap_up(c2) && c0.body_gap_up(c2);
        let down = c1.body_gap_down(c2) && c0.body_gap_down(c2);
        flag(
            (up || down)
                && c1.white()
                && c0.white()
                && c0.body() >= c1.body() - b.avg(0)
                && c0.body() <= c1.body() + b.avg(0)
                && c0.open >= c1.open - b.avg(1)
                && c0.open <= c1.open + b.avg(1),
            if c1.body_gap_up(c2) { 100 } else { -100 },
        )
    }
}

/// Identical three crows: three falling black candles, each opening at the prior close.
pub(crate) struct IdenticalThreeCrows;

impl Rule for IdenticalThreeCrows {
    const TOTALS: &'static [(Setting, usize)] = &[
        (SHADOW_VERY_SHORT, 2),
        (SHADOW_VERY_SHORT, 1),
        (SHADOW_VERY_SHORT, 0),
        (EQUAL, 2),
        (EQUAL, 1),
    ];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.black()
                && c2.lower_shadow() < b.avg(0)
                && c1.black()
                && c1.lower_shadow() < b.avg(1)
                && c0.black()
                && c0.lower_shadow() < b.avg(2)
                && c2.close > c1.close
                && c1.close > c0.close
                && c1.open <= c2.close + b.avg(3)
                && c1.open >= c2.close - b.avg(3)
                && c0.open <= c1.close + b.avg(4)
                && c0.open >= c1.close - b.avg(4),
            -100,
        )
    }
}

/// Stick sandwich: black, white above its close, then black closing where the first did.
pub(crate) struct StickSandwich;

impl Rule for StickSandwich {
    const TOTALS: &'static [(Setting, usize)] = &[(EQUAL, 2)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.black()
                && c1.white()
                && c0.black()
                && c1.low > c2.close
                && c0.close <= c2.close + b.avg(0)
                && c0.close >= c2.close - b.avg(0),
            100,
        )
    }
}

/// Tasuki gap: a gap, then two opposite candles of similar size, the second not closing it.
pub(crate) struct TasukiGap;

impl Rule for TasukiGap {
    const TOTALS: &'static [(Setting, usize)] = &[(NEAR, 1)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        let similar = (c1.body() - c0.body()).abs() < b.avg(0);
        flag(
            (c1.body_gap_up(c2)
                && c1.white()
                && c0.black()
                && c0.open < c1.close
                && c0.open > c1.open
                && c0.close < c1.open
                && c0.close > c2.close.max(c2.open)
                && similar)
                || (c1.body_gap_down(c2)
                    && c1.black()
                    && c0.white()
                    && c0.open < c1.open
                    && c0.open > c1.close
                    && c0.close > c1.open
                    && c0.close < c2.close.min(c2.open)
                    && similar),
            c1.color() * 100,
        )
    }
}

/// Tristar: three dojis, the middle one gapping away from both.
pub(crate) struct Tristar;

impl Rule for Tristar {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_DOJI, 2)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        let doji = b.avg(0);
        if !(c2.body() <= doji && c1.body() <= doji && c0.body() <= doji) {
            return 0;
        }
        if c1.body_gap_up(c2) && c0.open.max(c0.close) < c1.open.max(c1.close) {
            -100
        } else if c1.body_gap_down(c2) && c0.open.min(c0.close) > c1.open.min(c1.close) {
            100
        } else {
            0
        }
    }
}

/// Unique three river: a long black candle, a black harami with a lower low, then a small
/// white candle above that low.
pub(crate) struct UniqueThreeRiver;

impl Rule for UniqueThreeRiver {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 2), (BODY_SHORT, 0)];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.black()
                && c2.body() > b.avg(0)
                && c1.black()
                && c1.close > c2.close
                && c1.open <= c2.open
                && c1.low < c2.low
                && c0.body() < b.avg(1)
                && c0.white()
                && c0.open > c1.low,
            100,
        )
    }
}

/// Upside/downside gap three methods: two candles of one colour with a gap, then one of the
/// other colour closing the gap.
pub(crate) struct XSideGapThreeMethods;

impl Rule for XSideGapThreeMethods {
    const TOTALS: &'static [(Setting, usize)] = &[];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c2, c1, c0) = (b.c(2), b.c(1), b.c(0));
        flag(
            c2.color() == c1.color()
                && c1.color() == -c0.color()
                && c0.open < c1.close.max(c1.open)
                && c0.open > c1.close.min(c1.open)
                && c0.close < c2.close.max(c2.open)
                && c0.close > c2.close.min(c2.open)
                && ((c2.white() && c1.body_gap_up(c2)) || (c2.black() && c1.body_gap_down(c2))),
            c2.color() * 100,
        )
    }
}
