//! Patterns of two candles, and one-candle patterns judged against the candle before.

use super::settings::{
    BODY_DOJI, BODY_LONG, BODY_SHORT, EQUAL, NEAR, SHADOW_LONG, SHADOW_VERY_SHORT, Setting,
};
use super::stream::{Bars, Rule, flag};

/// Hammer: small body, long lower shadow, very short upper shadow, body near the prior low.
pub(crate) struct Hammer;

impl Rule for Hammer {
    const TOTALS: &'static [(Setting, usize)] = &[
        (BODY_SHORT, 0),
        (SHADOW_LONG, 0),
        (SHADOW_VERY_SHORT, 0),
        (NEAR, 1),
    ];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, prior) = (b.c(0), b.c(1));
        flag(
            c.body() < b.avg(0)
                && c.lower_shadow() > b.avg(1)
                && c.upper_shadow() < b.avg(2)
                && c.close.min(c.open) <= prior.low + b.avg(3),
            100,
        )
    }
}

/// Hanging man: a hammer's shape with its body near or above the prior high.
pub(crate) struct HangingMan;

impl Rule for HangingMan {
    const TOTALS: &'static [(Setting, usize)] = &[
        (BODY_SHORT, 0),
        (SHADOW_LONG, 0),
        (SHADOW_VERY_SHORT, 0),
        (NEAR, 1),
    ];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, prior) = (b.c(0), b.c(1));
        flag(
            c.body() < b.avg(0)
                && c.lower_shadow() > b.avg(1)
                && c.upper_shadow() < b.avg(2)
                && c.close.min(c.open) >= prior.high - b.avg(3),
            -100,
        )
    }
}

/// Inverted hammer: small body gapping down, long upper shadow, very short lower shadow.
pub(crate) struct InvertedHammer;

impl Rule for InvertedHammer {
    const TOTALS: &'static [(Setting, usize)] =
        &[(BODY_SHORT, 0), (SHADOW_LONG, 0), (SHADOW_VERY_SHORT, 0)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body() < b.avg(0)
                && c.upper_shadow() > b.avg(1)
                && c.lower_shadow() < b.avg(2)
                && c.body_gap_down(b.c(1)),
            100,
        )
    }
}

/// Shooting star: small body gapping up, long upper shadow, very short lower shadow.
pub(crate) struct ShootingStar;

impl Rule for ShootingStar {
    const TOTALS: &'static [(Setting, usize)] =
        &[(BODY_SHORT, 0), (SHADOW_LONG, 0), (SHADOW_VERY_SHORT, 0)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let c = b.c(0);
        flag(
            c.body_gap_up(b.c(1))
                && c.body() < b.avg(0)
                && c.upper_shadow() > b.avg(1)
                && c.lower_shadow() < b.avg(2),
            -100,
        )
    }
}

/// Engulfing: a body of the other colour engulfing the prior body (80 when an end matches).
pub(crate) struct Engulfing;

impl Rule for Engulfing {
    const TOTALS: &'static [(Setting, usize)] = &[];
    const SPAN: usize = 2;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        let bullish = c.white()
            && p.black()
            && ((c.close >= p.open && c.open < p.close) || (c.close > p.open && c.open <= p.close));
        let bearish = c.black()
            && p.white()
            && ((c.open >= p.close && c.close < p.open) || (c.open > p.close && c.close <= p.open));
        if !(bullish || bearish) {
            0
        } else if c.open != p.close && c.close != p.open {
            c.color() * 100
        } else {
            c.color() * 80
        }
    }
}

/// Whether `inner`'s body lies inside `outer`'s: 100 strictly, 80 touching an end, else 0.
#[inline]
fn inside(inner: &super::candle::Candle, outer: &super::candle::Candle) -> i32 {
    let (top, bottom) = (inner.close.max(inner.open), inner.close.min(inner.open));
    let (outer_top, outer_bottom) = (outer.close.max(outer.open), outer.close.min(outer.open));
    if top < outer_top && bottom > outer_bottom {
        100
    } else if top <= outer_top && bottom >= outer_bottom {
        80
    } else {
        0
    }
}

/// Harami: a long body, then a short one inside it.
pub(crate) struct Harami;

impl Rule for Harami {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 1), (BODY_SHORT, 0)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        if p.body() > b.avg(0) && c.body() <= b.avg(1) {
            -p.color() * inside(c, p)
        } else {
            0
        }
    }
}

/// Harami cross: a long body, then a doji inside it.
pub(crate) struct HaramiCross;

impl Rule for HaramiCross {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 1), (BODY_DOJI, 0)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        if p.body() > b.avg(0) && c.body() <= b.avg(1) {
            -p.color() * inside(c, p)
        } else {
            0
        }
    }
}

/// Piercing: a long black candle, then a long white one opening below its low and closing
/// above its midpoint.
pub(crate) struct Piercing;

impl Rule for Piercing {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 1), (BODY_LONG, 0)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        flag(
            p.black()
                && p.body() > b.avg(0)
                && c.white()
                && c.body() > b.avg(1)
                && c.open < p.low
                && c.close < p.open
                && c.close > p.close + p.body() * 0.5,
            100,
        )
    }
}

/// Dark cloud cover: a long white candle, then a black one opening above its high and closing
/// below `penetration` of its body.
pub(crate) struct DarkCloudCover {
    /// Fraction of the first body the close must reach into.
    pub penetration: f64,
}

impl Rule for DarkCloudCover {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 1)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        flag(
            p.white()
                && p.body() > b.avg(0)
                && c.black()
                && c.open > p.high
                && c.close > p.open
                && c.close < p.close - p.body() * self.penetration,
            -100,
        )
    }
}

/// Doji star: a long body, then a doji gapping away in its direction.
pub(crate) struct DojiStar;

impl Rule for DojiStar {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 1), (BODY_DOJI, 0)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        flag(
            p.body() > b.avg(0)
                && c.body() <= b.avg(1)
                && ((p.white() && c.body_gap_up(p)) || (p.black() && c.body_gap_down(p))),
            -p.color() * 100,
        )
    }
}

/// Counterattack: two long bodies of opposite colours closing at the same level.
pub(crate) struct Counterattack;

impl Rule for Counterattack {
    const TOTALS: &'static [(Setting, usize)] = &[(EQUAL, 1), (BODY_LONG, 1), (BODY_LONG, 0)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        flag(
            p.color() == -c.color()
                && p.body() > b.avg(1)
                && c.body() > b.avg(2)
                && c.close <= p.close + b.avg(0)
                && c.close >= p.close - b.avg(0),
            c.color() * 100,
        )
    }
}

/// Homing pigeon: a long black body, then a short black body inside it.
pub(crate) struct HomingPigeon;

impl Rule for HomingPigeon {
    const TOTALS: &'static [(Setting, usize)] = &[(BODY_LONG, 1), (BODY_SHORT, 0)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        flag(
            p.black()
                && c.black()
                && p.body() > b.avg(0)
                && c.body() <= b.avg(1)
                && c.open < p.open
                && c.close > p.close,
            100,
        )
    }
}

/// In-neck: a long black candle, then a white one opening below its low and closing just into
/// its body.
pub(crate) struct InNeck;

impl Rule for InNeck {
    const TOTALS: &'static [(Setting, usize)] = &[(EQUAL, 1), (BODY_LONG, 1)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        flag(
            p.black()
                && p.body() > b.avg(1)
                && c.white()
                && c.open < p.low
                && c.close <= p.close + b.avg(0)
                && c.close >= p.close,
            -100,
        )
    }
}

/// On-neck: a long black candle, then a white one opening below its low and closing at it.
pub(crate) struct OnNeck;

impl Rule for OnNeck {
    const TOTALS: &'static [(Setting, usize)] = &[(EQUAL, 1), (BODY_LONG, 1)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        flag(
            p.black()
                && p.body() > b.avg(1)
                && c.white()
                && c.open < p.low
                && c.close <= p.low + b.avg(0)
                && c.close >= p.low - b.avg(0),
            -100,
        )
    }
}

/// Thrusting: a long black candle, then a white one opening below its low and closing into
/// its body but below the middle.
pub(crate) struct Thrusting;

impl Rule for Thrusting {
    const TOTALS: &'static [(Setting, usize)] = &[(EQUAL, 1), (BODY_LONG, 1)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        flag(
            p.black()
                && p.body() > b.avg(1)
                && c.white()
                && c.open < p.low
                && c.close > p.close + b.avg(0)
                && c.close <= p.close + p.body() * 0.5,
            -100,
        )
    }
}

/// Whether `c` and `p` are marubozu-like: long bodies with very short shadows (slots 0 and 2
/// hold the very-short-shadow totals of `p` and `c`, 1 and 3 their long-body totals).
#[inline]
fn two_marubozu(b: &Bars<'_>) -> bool {
    let (c, p) = (b.c(0), b.c(1));
    p.color() == -c.color()
        && p.body() > b.avg(1)
        && p.upper_shadow() < b.avg(0)
        && p.lower_shadow() < b.avg(0)
        && c.body() > b.avg(3)
        && c.upper_shadow() < b.avg(2)
        && c.lower_shadow() < b.avg(2)
        && ((p.black() && c.gap_up(p)) || (p.white() && c.gap_down(p)))
}

/// Kicking: two marubozu of opposite colours with a gap between them.
pub(crate) struct Kicking;

impl Rule for Kicking {
    const TOTALS: &'static [(Setting, usize)] = &[
        (SHADOW_VERY_SHORT, 1),
        (BODY_LONG, 1),
        (SHADOW_VERY_SHORT, 0),
        (BODY_LONG, 0),
    ];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        flag(two_marubozu(b), b.c(0).color() * 100)
    }
}

/// Kicking by length: a kicking whose direction is that of the longer marubozu.
pub(crate) struct KickingByLength;

impl Rule for KickingByLength {
    const TOTALS: &'static [(Setting, usize)] = Kicking::TOTALS;
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        let longer = if c.body() > p.body() { c } else { p };
        flag(two_marubozu(b), longer.color() * 100)
    }
}

/// Matching low: two black candles closing at the same level.
pub(crate) struct MatchingLow;

impl Rule for MatchingLow {
    const TOTALS: &'static [(Setting, usize)] = &[(EQUAL, 1)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        flag(
            p.black()
                && c.black()
                && c.close <= p.close + b.avg(0)
                && c.close >= p.close - b.avg(0),
            100,
        )
    }
}

/// Separating lines: opposite colours opening at the same level, the second a long belt hold.
pub(crate) struct SeparatingLines;

impl Rule for SeparatingLines {
    const TOTALS: &'static [(Setting, usize)] =
        &[(SHADOW_VERY_SHORT, 0), (BODY_LONG, 0), (EQUAL, 1)];
    const SPAN: usize = 1;

    fn eval(&mut self, b: &Bars<'_>) -> i32 {
        let (c, p) = (b.c(0), b.c(1));
        flag(
            p.color() == -c.color()
                && c.open <= p.open + b.avg(2)
                && c.open >= p.open - b.avg(2)
                && c.body() > b.avg(1)
                && ((c.white() && c.lower_shadow() < b.avg(0))
                    || (c.black() && c.upper_shadow() < b.avg(0))),
            c.color() * 100,
        )
    }
}
