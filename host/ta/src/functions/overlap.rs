//! Overlap Studies: moving averages, bands and price overlays.

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
use crate::registry::{Field, Function, Group, Param};

const CLOSE: &[Field] = &[Field::Close];
const REAL: &[&str] = &["real"];

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
];
