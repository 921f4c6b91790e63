//! Pattern Recognition: TA-Lib candlestick patterns.
//!
//! Each pattern is a [`stream::Rule`] run by [`stream::Candlestick`], which keeps the candles
//! and TA-Lib's running averages of their ranges ([`settings`]). Outputs are TA-Lib's integers
//! as reals: 0 when the pattern is absent, ±100 (some ±80 or ±200) when found.

mod candle;
mod hikkake;
mod more;
mod settings;
mod single;
mod stream;
mod three;
mod two;

use stream::Candlestick;

use crate::indicator::Indicator;
use crate::registry::{self, Field, Function, Group, Param};

const OHLC: &[Field] = &[Field::Open, Field::High, Field::Low, Field::Close];
const INTEGER: &[&str] = &["integer"];
const PENETRATION_03: &[Param] = &[Param::real("penetration", 0.3, 0.0, registry::MAX_REAL)];
const PENETRATION_05: &[Param] = &[Param::real("penetration", 0.5, 0.0, registry::MAX_REAL)];

/// A pattern without parameters.
const fn plain(
    name: &'static str,
    description: &'static str,
    build: fn(&[f64]) -> Box<dyn Indicator>,
) -> Function {
    with_params(name, description, &[], build)
}

/// A pattern taking `params`.
const fn with_params(
    name: &'static str,
    description: &'static str,
    params: &'static [Param],
    build: fn(&[f64]) -> Box<dyn Indicator>,
) -> Function {
    Function {
        name,
        group: Group::PatternRecognition,
        description,
        inputs: OHLC,
        params,
        outputs: INTEGER,
        build,
    }
}

pub(crate) static FUNCTIONS: &[Function] = &[
    plain(
        "CDL3BLACKCROWS",
        "Three black crows: three falling black candles after a white one",
        |_| Candlestick::boxed(three::ThreeBlackCrows),
    ),
    plain(
        "CDL3WHITESOLDIERS",
        "Three advancing white soldiers",
        |_| Candlestick::boxed(three::ThreeWhiteSoldiers),
    ),
    plain(
        "CDLBELTHOLD",
        "Belt hold: a long candle with no shadow at its opening end",
        |_| Candlestick::boxed(single::BeltHold),
    ),
    plain(
        "CDLCLOSINGMARUBOZU",
        "Closing marubozu: a long candle with no shadow at its closing end",
        |_| Candlestick::boxed(single::ClosingMarubozu),
    ),
    with_params(
        "CDLDARKCLOUDCOVER",
        "Dark cloud cover: a black candle closing deep into a long white one",
        PENETRATION_05,
        |p| Candlestick::boxed(two::DarkCloudCover { penetration: p[0] }),
    ),
    plain("CDLDOJI", "Doji: open and close almost equal", |_| {
        Candlestick::boxed(single::Doji)
    }),
    plain(
        "CDLDOJISTAR",
        "Doji star: a doji gapping away from a long candle",
        |_| Candlestick::boxed(two::DojiStar),
    ),
    plain(
        "CDLDRAGONFLYDOJI",
        "Dragonfly doji: a doji with a long lower shadow and no upper one",
        |_| Candlestick::boxed(single::DragonflyDoji),
    ),
    plain(
        "CDLENGULFING",
        "Engulfing: a body engulfing the prior body of the other colour",
        |_| Candlestick::boxed(two::Engulfing),
    ),
    with_params(
        "CDLEVENINGDOJISTAR",
        "Evening doji star: long white, doji gapping up, black closing into the first",
        PENETRATION_03,
        |p| Candlestick::boxed(three::EveningDojiStar { penetration: p[0] }),
    ),
    with_params(
        "CDLEVENINGSTAR",
        "Evening star: long white, short body gapping up, black closing into the first",
        PENETRATION_03,
        |p| Candlestick::boxed(three::EveningStar { penetration: p[0] }),
    ),
    plain(
        "CDLGRAVESTONEDOJI",
        "Gravestone doji: a doji with a long upper shadow and no lower one",
        |_| Candlestick::boxed(single::GravestoneDoji),
    ),
    plain(
        "CDLHAMMER",
        "Hammer: small body near the prior low with a long lower shadow",
        |_| Candlestick::boxed(two::Hammer),
    ),
    plain(
        "CDLHANGINGMAN",
        "Hanging man: small body near the prior high with a long lower shadow",
        |_| Candlestick::boxed(two::HangingMan),
    ),
    plain(
        "CDLHARAMI",
        "Harami: a short body inside the prior long body",
        |_| Candlestick::boxed(two::Harami),
    ),
    plain(
        "CDLHARAMICROSS",
        "Harami cross: a doji inside the prior long body",
        |_| Candlestick::boxed(two::HaramiCross),
    ),
    plain(
        "CDLHIGHWAVE",
        "High wave: a short body with very long shadows",
        |_| Candlestick::boxed(single::HighWave),
    ),
    plain(
        "CDLINVERTEDHAMMER",
        "Inverted hammer: small body gapping down with a long upper shadow",
        |_| Candlestick::boxed(two::InvertedHammer),
    ),
    plain(
        "CDLLONGLEGGEDDOJI",
        "Long-legged doji: a doji with a long shadow",
        |_| Candlestick::boxed(single::LongLeggedDoji),
    ),
    plain(
        "CDLLONGLINE",
        "Long line: a long body with short shadows",
        |_| Candlestick::boxed(single::LongLine),
    ),
    plain(
        "CDLMARUBOZU",
        "Marubozu: a long body with no shadows",
        |_| Candlestick::boxed(single::Marubozu),
    ),
    with_params(
        "CDLMORNINGDOJISTAR",
        "Morning doji star: long black, doji gapping down, white closing into the first",
        PENETRATION_03,
        |p| Candlestick::boxed(three::MorningDojiStar { penetration: p[0] }),
    ),
    with_params(
        "CDLMORNINGSTAR",
        "Morning star: long black, short body gapping down, white closing into the first",
        PENETRATION_03,
        |p| Candlestick::boxed(three::MorningStar { penetration: p[0] }),
    ),
    plain(
        "CDLPIERCING",
        "Piercing: a white candle closing above the middle of a long black one",
        |_| Candlestick::boxed(two::Piercing),
    ),
    plain(
        "CDLRICKSHAWMAN",
        "Rickshaw man: a long-legged doji with its body near the middle",
        |_| Candlestick::boxed(single::RickshawMan),
    ),
    plain(
        "CDLSHOOTINGSTAR",
        "Shooting star: small body gapping up with a long upper shadow",
        |_| Candlestick::boxed(two::ShootingStar),
    ),
    plain(
        "CDLSHORTLINE",
        "Short line: a short body with short shadows",
        |_| Candlestick::boxed(single::ShortLine),
    ),
    plain(
        "CDLSPINNINGTOP",
        "Spinning top: a short body with longer shadows",
        |_| Candlestick::boxed(single::SpinningTop),
    ),
    plain(
        "CDLTAKURI",
        "Takuri: a dragonfly doji with a very long lower shadow",
        |_| Candlestick::boxed(single::Takuri),
    ),
    plain(
        "CDL2CROWS",
        "Two crows: two black candles after a long white one, the first gapping up",
        |_| Candlestick::boxed(three::TwoCrows),
    ),
    plain(
        "CDL3INSIDE",
        "Three inside up/down: a harami confirmed by the third candle",
        |_| Candlestick::boxed(three::ThreeInside),
    ),
    plain(
        "CDL3LINESTRIKE",
        "Three-line strike: three candles in a row struck back by a fourth",
        |_| Candlestick::boxed(more::ThreeLineStrike),
    ),
    plain(
        "CDL3OUTSIDE",
        "Three outside up/down: an engulfing confirmed by the third candle",
        |_| Candlestick::boxed(three::ThreeOutside),
    ),
    plain(
        "CDL3STARSINSOUTH",
        "Three stars in the south: three shrinking black candles",
        |_| Candlestick::boxed(three::ThreeStarsInSouth),
    ),
    with_params(
        "CDLABANDONEDBABY",
        "Abandoned baby: a doji gapping away from two opposite long candles",
        PENETRATION_03,
        |p| Candlestick::boxed(three::AbandonedBaby { penetration: p[0] }),
    ),
    plain(
        "CDLADVANCEBLOCK",
        "Advance block: three advancing white candles losing strength",
        |_| Candlestick::boxed(three::AdvanceBlock),
    ),
    plain(
        "CDLBREAKAWAY",
        "Breakaway: a gap, three candles moving on, and a close back inside the gap",
        |_| Candlestick::boxed(more::Breakaway),
    ),
    plain(
        "CDLCONCEALBABYSWALL",
        "Concealing baby swallow: four black candles, the last engulfing the third",
        |_| Candlestick::boxed(more::ConcealBabySwallow),
    ),
    plain(
        "CDLCOUNTERATTACK",
        "Counterattack: two opposite long candles closing at the same level",
        |_| Candlestick::boxed(two::Counterattack),
    ),
    plain(
        "CDLGAPSIDESIDEWHITE",
        "Up/down-gap side-by-side white lines",
        |_| Candlestick::boxed(three::GapSideSideWhite),
    ),
    plain(
        "CDLHIKKAKE",
        "Hikkake: an inside bar and a false breakout, with its confirmation",
        |_| Candlestick::boxed(hikkake::Hikkake::default()),
    ),
    plain(
        "CDLHIKKAKEMOD",
        "Modified hikkake: two inside bars and a false breakout, with its confirmation",
        |_| Candlestick::boxed(hikkake::HikkakeMod::default()),
    ),
    plain(
        "CDLHOMINGPIGEON",
        "Homing pigeon: a short black body inside a long black one",
        |_| Candlestick::boxed(two::HomingPigeon),
    ),
    plain(
        "CDLIDENTICAL3CROWS",
        "Identical three crows: three black candles each opening at the prior close",
        |_| Candlestick::boxed(three::IdenticalThreeCrows),
    ),
    plain(
        "CDLINNECK",
        "In-neck: a white candle closing just into a long black one",
        |_| Candlestick::boxed(two::InNeck),
    ),
    plain(
        "CDLKICKING",
        "Kicking: two opposite marubozu with a gap between them",
        |_| Candlestick::boxed(two::Kicking),
    ),
    plain(
        "CDLKICKINGBYLENGTH",
        "Kicking, bullish or bearish as the longer marubozu",
        |_| Candlestick::boxed(two::KickingByLength),
    ),
    plain(
        "CDLLADDERBOTTOM",
        "Ladder bottom: four falling black candles, then a white one above",
        |_| Candlestick::boxed(more::LadderBottom),
    ),
    plain(
        "CDLMATCHINGLOW",
        "Matching low: two black candles closing at the same level",
        |_| Candlestick::boxed(two::MatchingLow),
    ),
    with_params(
        "CDLMATHOLD",
        "Mat hold: small candles holding above a long white one, then a white breakout",
        PENETRATION_05,
        |p| Candlestick::boxed(more::MatHold { penetration: p[0] }),
    ),
    plain(
        "CDLONNECK",
        "On-neck: a white candle closing at the low of a long black one",
        |_| Candlestick::boxed(two::OnNeck),
    ),
    plain(
        "CDLRISEFALL3METHODS",
        "Rising/falling three methods: a pause of three small candles in a trend",
        |_| Candlestick::boxed(more::RiseFallThreeMethods),
    ),
    plain(
        "CDLSEPARATINGLINES",
        "Separating lines: opposite candles opening at the same level",
        |_| Candlestick::boxed(two::SeparatingLines),
    ),
    plain(
        "CDLSTALLEDPATTERN",
        "Stalled pattern: two long white candles, then a small one",
        |_| Candlestick::boxed(three::StalledPattern),
    ),
    plain(
        "CDLSTICKSANDWICH",
        "Stick sandwich: two black candles closing alike around a white one",
        |_| Candlestick::boxed(three::StickSandwich),
    ),
    plain(
        "CDLTASUKIGAP",
        "Tasuki gap: a gap, then two opposite candles not closing it",
        |_| Candlestick::boxed(three::TasukiGap),
    ),
    plain(
        "CDLTHRUSTING",
        "Thrusting: a white candle closing into, but below the middle of, a long black one",
        |_| Candlestick::boxed(two::Thrusting),
    ),
    plain(
        "CDLTRISTAR",
        "Tristar: three dojis, the middle one gapping",
        |_| Candlestick::boxed(three::Tristar),
    ),
    plain("CDLUNIQUE3RIVER", "Unique three river bottom", |_| {
        Candlestick::boxed(three::UniqueThreeRiver)
    }),
    plain("CDLUPSIDEGAP2CROWS", "Upside gap two crows", |_| {
        Candlestick::boxed(three::UpsideGapTwoCrows)
    }),
    plain(
        "CDLXSIDEGAP3METHODS",
        "Upside/downside gap three methods",
        |_| Candlestick::boxed(three::XSideGapThreeMethods),
    ),
];
