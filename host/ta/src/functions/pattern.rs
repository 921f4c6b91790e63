//! Pattern Recognition: TA-Lib candlestick patterns.
//!
//! Each pattern is a [`stream::Rule`] run by [`stream::Candlestick`], which keeps the candles
//! and TA-Lib's running averages of their ranges ([`settings`]). Outputs are TA-Lib's integers
//! as reals: 0 when the pattern is absent, ±100 (some ±80 or ±200) when found.

mod candle;
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
];
