//! Patterns of three candles.

use super::settings::{BODY_DOJI, BODY_LONG, BODY_SHORT, FAR, NEAR, SHADOW_VERY_SHORT, Setting};
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
