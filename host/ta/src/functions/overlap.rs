//! Overlap Studies: moving averages, bands and price overlays.

mod bands;
mod channels;
mod sar;
mod supertrend;
mod vwma;

use self::bands::{Accbands, Bbands, Kc};
use self::channels::{Donchian, Midpoint};
use self::sar::{Acceleration, Sar};
use self::supertrend::Supertrend;
use self::vwma::Vwma;
use super::{OnClose, period};
use crate::blocks::dema::Dema;
use crate::blocks::ema::Ema;
use crate::blocks::hma::Hma;
use crate::blocks::kama::Kama;
use crate::blocks::ma::{MaType, MovingAverage};
use crate::blocks::rma::Rma;
use crate::blocks::sma::Sma;
use crate::blocks::t3::T3;
use crate::blocks::tema::Tema;
use crate::blocks::trima::Trima;
use crate::blocks::wma::Wma;
use crate::blocks::zlema::Zlema;
use crate::registry::{self, Field, Function, Group, Param};

const CLOSE: &[Field] = &[Field::Close];
const HIGH_LOW: &[Field] = &[Field::High, Field::Low];
const HLC: &[Field] = &[Field::High, Field::Low, Field::Close];
const REAL: &[&str] = &["real"];
const BANDS: &[&str] = &["upperband", "middleband", "lowerband"];

/// A real parameter from `min` up to TA-Lib's largest real.
const fn real(name: &'static str, default: f64, min: f64) -> Param {
    Param::real(name, default, min, registry::MAX_REAL)
}

/// A real parameter TA-Lib accepts from -3e37 to 3e37.
const fn any_real(name: &'static str, default: f64) -> Param {
    real(name, default, -registry::MAX_REAL)
}

pub(crate) static FUNCTIONS: &[Function] = &[
    Function {
        name: "EMA",
        group: Group::OverlapStudies,
        description: "Exponential moving average, seeded by the simple mean of the first period",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 30, 1)],
        outputs: REAL,
        build: |p| Box::new(OnClose(Ema::new(period(p[0])))),
    },
    Function {
        name: "MA",
        group: Group::OverlapStudies,
        description: "Moving average of any type (matype 0..13)",
        inputs: CLOSE,
        params: &[
            Param::period("timeperiod", 30, 1),
            Param::ma_type("matype", 0),
        ],
        outputs: REAL,
        build: |p| {
            let kind = MaType::from_number(p[1]).expect("checked matype");
            Box::new(OnClose(MovingAverage::new(kind, period(p[0]), MaType::Sma)))
        },
    },
    Function {
        name: "SMA",
        group: Group::OverlapStudies,
        description: "Simple moving average",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 30, 1)],
        outputs: REAL,
        build: |p| Box::new(OnClose(Sma::new(period(p[0])))),
    },
    Function {
        name: "DEMA",
        group: Group::OverlapStudies,
        description: "Double exponential moving average: 2 * EMA - EMA(EMA)",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 30, 1)],
        outputs: REAL,
        build: |p| Box::new(OnClose(Dema::new(period(p[0])))),
    },
    Function {
        name: "HMA",
        group: Group::OverlapStudies,
        description: "Hull moving average: WMA over sqrt(n) of 2 * WMA(n/2) - WMA(n)",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 20, 1)],
        outputs: REAL,
        build: |p| Box::new(OnClose(Hma::new(period(p[0])))),
    },
    Function {
        name: "KAMA",
        group: Group::OverlapStudies,
        description: "Kaufman adaptive moving average, its factor following the efficiency ratio",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 30, 1)],
        outputs: REAL,
        build: |p| Box::new(OnClose(Kama::new(period(p[0])))),
    },
    Function {
        name: "RMA",
        group: Group::OverlapStudies,
        description: "Wilder's smoothed moving average, seeded by the simple mean",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 30, 1)],
        outputs: REAL,
        build: |p| Box::new(OnClose(Rma::new(period(p[0])))),
    },
    Function {
        name: "T3",
        group: Group::OverlapStudies,
        description: "Tillson's T3: six chained EMAs weighted by a volume factor",
        inputs: CLOSE,
        params: &[
            Param::period("timeperiod", 5, 1),
            Param::real("vfactor", 0.7, 0.0, 1.0),
        ],
        outputs: REAL,
        build: |p| Box::new(OnClose(T3::new(period(p[0]), p[1]))),
    },
    Function {
        name: "TEMA",
        group: Group::OverlapStudies,
        description: "Triple exponential moving average: 3 * EMA - 3 * EMA2 + EMA3",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 30, 1)],
        outputs: REAL,
        build: |p| Box::new(OnClose(Tema::new(period(p[0])))),
    },
    Function {
        name: "TRIMA",
        group: Group::OverlapStudies,
        description: "Triangular moving average, weights rising to the middle of the window",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 30, 1)],
        outputs: REAL,
        build: |p| Box::new(OnClose(Trima::new(period(p[0])))),
    },
    Function {
        name: "WMA",
        group: Group::OverlapStudies,
        description: "Linearly weighted moving average",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 30, 1)],
        outputs: REAL,
        build: |p| Box::new(OnClose(Wma::new(period(p[0])))),
    },
    Function {
        name: "ZLEMA",
        group: Group::OverlapStudies,
        description: "Zero-lag EMA: an EMA of 2 * x - x[lag], lag = (period - 1) / 2",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 30, 1)],
        outputs: REAL,
        build: |p| Box::new(OnClose(Zlema::new(period(p[0])))),
    },
    Function {
        name: "ACCBANDS",
        group: Group::OverlapStudies,
        description: "Acceleration bands: SMAs of high and low widened by 4 (high - low) / (high + low)",
        inputs: HLC,
        params: &[Param::period("timeperiod", 20, 2)],
        outputs: BANDS,
        build: |p| Box::new(Accbands::new(period(p[0]))),
    },
    Function {
        name: "BBANDS",
        group: Group::OverlapStudies,
        description: "Bollinger bands: a moving average plus and minus multiples of the standard deviation",
        inputs: CLOSE,
        params: &[
            Param::period("timeperiod", 20, 2),
            any_real("nbdevup", 2.0),
            any_real("nbdevdn", 2.0),
            Param::ma_type("matype", 0),
        ],
        outputs: BANDS,
        build: |p| {
            let kind = MaType::from_number(p[3]).expect("checked matype");
            Box::new(Bbands::new(period(p[0]), p[1], p[2], kind))
        },
    },
    Function {
        name: "DONCHIAN",
        group: Group::OverlapStudies,
        description: "Donchian channels: highest high, lowest low and their midpoint",
        inputs: HIGH_LOW,
        params: &[Param::period("timeperiod", 20, 2)],
        outputs: BANDS,
        build: |p| Box::new(Donchian::new(period(p[0]))),
    },
    Function {
        name: "KC",
        group: Group::OverlapStudies,
        description: "Keltner channels: an EMA of the typical price plus and minus multiples of the ATR",
        inputs: HLC,
        params: &[
            Param::period("timeperiod", 20, 2),
            Param::period("atrperiod", 10, 1),
            any_real("nbdev", 2.0),
        ],
        outputs: BANDS,
        build: |p| Box::new(Kc::new(period(p[0]), period(p[1]), p[2])),
    },
    Function {
        name: "MIDPOINT",
        group: Group::OverlapStudies,
        description: "Midpoint of the highest and lowest close over the period",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| Box::new(Midpoint::new(period(p[0]), true)),
    },
    Function {
        name: "MIDPRICE",
        group: Group::OverlapStudies,
        description: "Midpoint of the highest high and lowest low over the period",
        inputs: HIGH_LOW,
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| Box::new(Midpoint::new(period(p[0]), false)),
    },
    Function {
        name: "SAR",
        group: Group::OverlapStudies,
        description: "Wilder's parabolic stop and reverse",
        inputs: HIGH_LOW,
        params: &[real("acceleration", 0.02, 0.0), real("maximum", 0.2, 0.0)],
        outputs: REAL,
        build: |p| {
            let acceleration = Acceleration {
                init: p[0],
                step: p[0],
                max: p[1],
            };
            Box::new(Sar::new(0.0, 0.0, acceleration, acceleration, false))
        },
    },
    Function {
        name: "SAREXT",
        group: Group::OverlapStudies,
        description: "Parabolic SAR with separate long and short accelerations; short stops negative",
        inputs: HIGH_LOW,
        params: &[
            any_real("startvalue", 0.0),
            real("offsetonreverse", 0.0, 0.0),
            real("accelerationinitlong", 0.02, 0.0),
            real("accelerationlong", 0.02, 0.0),
            real("accelerationmaxlong", 0.2, 0.0),
            real("accelerationinitshort", 0.02, 0.0),
            real("accelerationshort", 0.02, 0.0),
            real("accelerationmaxshort", 0.2, 0.0),
        ],
        outputs: REAL,
        build: |p| {
            let long = Acceleration {
                init: p[2],
                step: p[3],
                max: p[4],
            };
            let short = Acceleration {
                init: p[5],
                step: p[6],
                max: p[7],
            };
            Box::new(Sar::new(p[0], p[1], long, short, true))
        },
    },
    Function {
        name: "SUPERTREND",
        group: Group::OverlapStudies,
        description: "SuperTrend: a ratcheting band of ATR multiples that flips with the trend",
        inputs: HLC,
        params: &[
            Param::period("timeperiod", 10, 2),
            real("multiplier", 3.0, 0.0),
        ],
        outputs: &["supertrend", "trend"],
        build: |p| Box::new(Supertrend::new(period(p[0]), p[1])),
    },
    Function {
        name: "VWMA",
        group: Group::OverlapStudies,
        description: "Volume-weighted moving average of the close",
        inputs: &[Field::Close, Field::Volume],
        params: &[Param::period("timeperiod", 30, 1)],
        outputs: REAL,
        build: |p| Box::new(Vwma::new(period(p[0]))),
    },
];
