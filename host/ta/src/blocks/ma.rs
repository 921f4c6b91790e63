//! TA-Lib's moving-average types, selectable by number as `matype` parameters select them.

use super::Stream;
use super::ema::Ema;
use super::sma::Sma;

/// TA-Lib 0.8's `TA_MAType`, numbered as TA-Lib numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaType {
    /// 0: simple.
    Sma,
    /// 1: exponential.
    Ema,
    /// 2: weighted.
    Wma,
    /// 3: double exponential.
    Dema,
    /// 4: triple exponential.
    Tema,
    /// 5: triangular.
    Trima,
    /// 6: Kaufman adaptive.
    Kama,
    /// 7: MESA adaptive.
    Mama,
    /// 8: Tillson T3.
    T3,
    /// 9: Hull.
    Hma,
    /// 10: no averaging (identity).
    Identity,
    /// 11: the calling function's own default.
    FunctionDefault,
    /// 12: zero-lag exponential.
    Zlema,
    /// 13: Wilder's smoothing.
    Rma,
}

impl MaType {
    /// The type numbered `n` by TA-Lib.
    pub fn from_number(n: f64) -> Option<MaType> {
        use MaType::*;
        const ALL: [MaType; 14] = [
            Sma,
            Ema,
            Wma,
            Dema,
            Tema,
            Trima,
            Kama,
            Mama,
            T3,
            Hma,
            Identity,
            FunctionDefault,
            Zlema,
            Rma,
        ];
        if n.fract() != 0.0 || !(0.0..14.0).contains(&n) {
            return None;
        }
        Some(ALL[n as usize])
    }
}

/// A moving average of any [`MaType`], as TA-Lib's `TA_MA` computes it.
#[derive(Clone, Debug)]
pub enum MovingAverage {
    /// Simple.
    Sma(Sma),
    /// Exponential.
    Ema(Ema),
}

impl MovingAverage {
    /// A moving average of `kind` over `period`; `own_default` stands for
    /// [`MaType::FunctionDefault`].
    pub fn new(kind: MaType, period: usize, own_default: MaType) -> Self {
        let kind = if kind == MaType::FunctionDefault {
            own_default
        } else {
            kind
        };
        match kind {
            MaType::Sma => MovingAverage::Sma(Sma::new(period)),
            MaType::Ema => MovingAverage::Ema(Ema::new(period)),
            other => unimplemented!("moving average type {other:?}"),
        }
    }
}

impl Stream for MovingAverage {
    fn lookback(&self) -> usize {
        match self {
            MovingAverage::Sma(s) => s.lookback(),
            MovingAverage::Ema(s) => s.lookback(),
        }
    }

    #[inline]
    fn next(&mut self, x: f64) -> Option<f64> {
        match self {
            MovingAverage::Sma(s) => s.next(x),
            MovingAverage::Ema(s) => s.next(x),
        }
    }
}
