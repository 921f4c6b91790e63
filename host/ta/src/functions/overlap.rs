//! Overlap Studies: moving averages, bands and price overlays.

use super::{OnClose, period};
use crate::blocks::ema::Ema;
use crate::blocks::ma::{MaType, MovingAverage};
use crate::blocks::sma::Sma;
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
];
