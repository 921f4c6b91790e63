//! Patterns of four and five candles.

use super::settings::{BODY_LONG, BODY_SHORT, NEAR, SHADOW_VERY_SHORT, Setting};
use super::stream::{Bars, Rule, flag};

/// Three-line strike: three candles of one colour in a row, then one of the other colour
/// opening beyond the third and closing beyond the first's open.
pub(crate) struct ThreeLineStrike;

impl Rule for ThreeLineStrike {
    const TOTALS: &'static [(Setting, usize)] = &[(NEAR, 3), (NEAR, 2)];
    const SPAN: usize = 3;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c3, c2, c1, c0) = (b.c(3), b.c(2), b.c(1), b.c(0));
        flag(
            c3.color() == c2.color()
                && c2.color() == c1.color()
                && c0.color() == -c1.color()
                && c2.open >= c3.open.min(c3.close) - b.avg(0)
                && c2.open <= c3.open.max(c3.close) + b.avg(0)
                && c1.open >= c2.open.min(c2.close) - b.avg(1)
                && c1.open <= c2.open.max(c2.close) + b.avg(1)
                && ((c1.white()
                    && c1.close > c2.close
                    && c2.close > c3.close
                    && c0.open > c1.close
                    && c0.close < c3.open)
                    || (c1.black()
                        && c1.close < c2.close
                        && c2.close < c3.close
                        && c0.open < c1.close
                        && c0.close > c3.open)),
            c1.color() * 100,
        )
    }
}

/// Breakaway: a long candle, a gap, three candles moving on, then one of the other colour
/// closing inside the gap.
pub(crate) struct Breakaway;

impl Rule for Breakaway {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 4)];
    const SPAN: usize = 4;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c4, c3, c2, c1, c0) = (b.c(4), b.c(3), b.c(2), b.c(1), b.c(0));
        flag(
            c4.body() > b.avg(0)
                && c4.color() == c3.color()
                && c3.color() == c1.color()
                && c1.color() == -c0.color()
                && ((c4.black()
                    && c3.body_gap_down(c4)
                    && c2.high < c3.high
                    && c2.low < c3.low
                    && c1.high < c2.high
                    && c1.low < c2.low
                    && c0.close > c3.open
                    && c0.close < c4.close)
                    || (c4.white()
                        && c3.body_gap_up(c4)
                        && c2.high > c3.high
                        && c2.low > c3.low
                        && c1.high > c2.high
                        && c1.low > c2.low
                        && c0.close < c3.open
                        && c0.close > c4.close)),
            c0.color() * 100,
        )
    }
}

/// Concealing baby swallow: two black marubozu, a black candle gapping down with an upper
/// shadow into the prior body, then a black candle engulfing it.
pub(crate) struct ConcealBabySwallow;

impl Rule for ConcealBabySwallow {
    const TOTALS: &'static [(Setting, usize)] = &[
        (SHADOW_VERY_SHORT, 3),
        (SHADOW_VERY_SHORT, 2),
        (SHADOW_VERY_SHORT, 1),
    ];
    const SPAN: usize = 3;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c3, c2, c1, c0) = (b.c(3), b.c(2), b.c(1), b.c(0));
        flag(
            c3.black()
                && c2.black()
                && c1.black()
                && c0.black()
                && c3.lower_shadow() < b.avg(0)
                && c3.upper_shadow() < b.avg(0)
                && c2.lower_shadow() < b.avg(1)
                && c2.upper_shadow() < b.avg(1)
                && c1.body_gap_down(c2)
                && c1.upper_shadow() > b.avg(2)
                && c1.high > c2.close
                && c0.high > c1.high
                && c0.low < c1.low,
            100,
        )
    }
}

/// Ladder bottom: three falling black candles, a black one with an upper shadow, then a white
/// one opening above its open and closing above its high.
pub(crate) struct LadderBottom;

impl Rule for LadderBottom {
    const TOTALS: &'static [(Setting, usize)] = &[(SHADOW_VERY_SHORT, 1)];
    const SPAN: usize = 4;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c4, c3, c2, c1, c0) = (b.c(4), b.c(3), b.c(2), b.c(1), b.c(0));
        flag(
            c4.black()
                && c3.black()
                && c2.black()
                && c4.open > c3.open
                && c3.open > c2.open
                && c4.close > c3.close
                && c3.close > c2.close
                && c1.black()
                && c1.upper_shadow() > b.avg(0)
                && c0.white()
                && c0.open > c1.open
                && c0.close > c1.high,
            100,
        )
    }
}

/// Mat hold: a long white candle, three small candles holding within `penetration` of its
/// body after a gap up, then a white candle closing above them all.
pub(crate) struct MatHold {
    /// Fraction of the first body the small candles may fall into.
    pub penetration: f64,
}

impl Rule for MatHold {
    const TOTALS: &'static [(Setting, usize)] = &[
        (BODY_LONG, 4),
        (BODY_SHORT, 3),
        (BODY_SHORT, 2),
        (BODY_SHORT, 1),
    ];
    const SPAN: usize = 4;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c4, c3, c2, c1, c0) = (b.c(4), b.c(3), b.c(2), b.c(1), b.c(0));
        let floor = c4.close - c4.body() * self.penetration;
        flag(
            c4.body() > b.avg(0)
                && c3.body() < b.avg(1)
                && c2.body() < b.avg(2)
                && c1.body() < b.avg(3)
                && c4.white()
                && c3.black()
                && c0.white()
                && c3.body_gap_up(c4)
                && c2.open.min(c2.close) < c4.close
                && c1.open.min(c1.close) < c4.close
                && c2.open.min(c2.close) > floor
                && c1.open.min(c1.close) > floor
                && c2.close.max(c2.open) < c3.open
                && c1.close.max(c1.open) < c2.close.max(c2.open)
                && c0.open > c1.close
                && c0.close > c3.high.max(c2.high).max(c1.high),
            100,
        )
    }
}

/// Rising/falling three methods: a long candle, three small ones against it within its range,
/// then a long one of its colour closing beyond it.
pub(crate) struct RiseFallThreeMethods;

impl Rule for RiseFallThreeMethods {
    const TOTALS: &'static [(Setting, usize)] = &[
        (BODY_LONG, 4),
        (BODY_SHORT, 3),
        (BODY_SHORT, 2),
        (BODY_SHORT, 1),
        (BODY_LONG, 0),
    ];
    const SPAN: usize = 4;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c4, c3, c2, c1, c0) = (b.c(4), b.c(3), b.c(2), b.c(1), b.c(0));
        let color = f64::from(c4.color());
        flag(
            c4.body() > b.avg(0)
                && c3.body() < b.avg(1)
                && c2.body() < b.avg(2)
                && c1.body() < b.avg(3)
                && c0.body() > b.avg(4)
                && c4.color() == -c3.color()
                && c3.color() == c2.color()
                && c2.color() == c1.color()
                && c1.color() == -c0.color()
                && c3.open.min(c3.close) < c4.high
                && c3.open.max(c3.close) > c4.low
                && c2.open.min(c2.close) < c4.high
                && c2.open.max(c2.close) > c4.low
                && c1.open.min(c1.close) < c4.high
                && c1.open.max(c1.close) > c4.low
                && c2.close * color < c3.close * color
                && c1.close * color < c2.close * color
                && c0.open * color > c1.close * color
                && c0.close * color > c4.close * color,
            c4.color() * 100,
        )
    }
}
