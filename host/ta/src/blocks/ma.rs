//! TA-Lib's moving-average types, selectable by number as `matype` parameters select them.

use super::Stream;
use super::dema::Dema;
use super::ema::Ema;
use super::hma::Hma;
use super::kama::Kama;
use super::mama::Mama;
use super::rma::Rma;
use super::sma::Sma;
use super::t3::T3;
use super::tema::Tema;
use super::trima::Trima;
use super::wma::Wma;
use super::zlema::Zlema;

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
    /// No averaging: every type with a period of 1, and [`MaType::Identity`].
    Identity,
    /// Simple.
    Sma(Sma),
    /// Exponential.
    Ema(Ema),
    /// Weighted.
    Wma(Wma),
    /// Double exponential.
    Dema(Dema),
    /// Triple exponential.
    Tema(Tema),
    /// Triangular.
    Trima(Trima),
    /// Kaufman adaptive.
    Kama(Kama),
    /// Tillson T3 with TA-Lib's volume factor 0.7.
    T3(T3),
    /// Hull.
    Hma(Hma),
    /// Zero-lag exponential.
    Zlema(Zlema),
    /// Wilder's smoothing.
    Rma(Rma),
    /// MESA adaptive (the MAMA line, TA-Lib's limits 0.5 and 0.05; the period is ignored).
    Mama(Box<Mama>),
}

impl MovingAverage {
    /// A moving average of `kind` over `period`; `own_default` stands for
    /// [`MaType::FunctionDefault`]. As in `TA_MA`, a period of 1 copies its input whatever the
    /// type.
    pub fn new(kind: MaType, period: usize, own_default: MaType) -> Self {
        let kind = if kind == MaType::FunctionDefault {
            own_default
        } else {
            kind
        };
        if period <= 1 {
            return MovingAverage::Identity;
        }
        match kind {
            MaType::Sma => MovingAverage::Sma(Sma::new(period)),
            MaType::Ema => MovingAverage::Ema(Ema::new(period)),
            MaType::Wma => MovingAverage::Wma(Wma::new(period)),
            MaType::Dema => MovingAverage::Dema(Dema::new(period)),
            MaType::Tema => MovingAverage::Tema(Tema::new(period)),
            MaType::Trima => MovingAverage::Trima(Trima::new(period)),
            MaType::Kama => MovingAverage::Kama(Kama::new(period)),
            MaType::T3 => MovingAverage::T3(T3::new(period, 0.7)),
            MaType::Hma => MovingAverage::Hma(Hma::new(period)),
            MaType::Identity => MovingAverage::Identity,
            MaType::Zlema => MovingAverage::Zlema(Zlema::new(period)),
            MaType::Rma => MovingAverage::Rma(Rma::new(period)),
            MaType::Mama => MovingAverage::Mama(Box::new(Mama::new(0.5, 0.05))),
            // A caller whose own default is "the function's default" means TA_MA's: simple.
            MaType::FunctionDefault => MovingAverage::Sma(Sma::new(period)),
        }
    }
}

impl Stream for MovingAverage {
    fn lookback(&self) -> usize {
        match self {
            MovingAverage::Identity => 0,
            MovingAverage::Sma(s) => s.lookback(),
            MovingAverage::Ema(s) => s.lookback(),
            MovingAverage::Wma(s) => s.lookback(),
            MovingAverage::Dema(s) => s.lookback(),
            MovingAverage::Tema(s) => s.lookback(),
            MovingAverage::Trima(s) => s.lookback(),
            MovingAverage::Kama(s) => s.lookback(),
            MovingAverage::T3(s) => s.lookback(),
            MovingAverage::Hma(s) => s.lookback(),
            MovingAverage::Zlema(s) => s.lookback(),
            MovingAverage::Rma(s) => s.lookback(),
            MovingAverage::Mama(s) => s.lookback(),
        }
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        match self {
            MovingAverage::Identity => Some(x),
            MovingAverage::Sma(s) => s.next(x),
            MovingAverage::Ema(s) => s.next(x),
            MovingAverage::Wma(s) => s.next(x),
            MovingAverage::Dema(s) => s.next(x),
            MovingAverage::Tema(s) => s.next(x),
            MovingAverage::Trima(s) => s.next(x),
            MovingAverage::Kama(s) => s.next(x),
            MovingAverage::T3(s) => s.next(x),
            MovingAverage::Hma(s) => s.next(x),
            MovingAverage::Zlema(s) => s.next(x),
            MovingAverage::Rma(s) => s.next(x),
            MovingAverage::Mama(s) => s.next(x),
        }
    }

    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        match self {
            MovingAverage::Sma(s) => s.next_many(xs, out),
            MovingAverage::Wma(s) => s.next_many(xs, out),
            MovingAverage::Ema(s) => s.next_many(xs, out),
            MovingAverage::Trima(s) => s.next_many(xs, out),
            MovingAverage::Hma(s) => s.next_many(xs, out),
            MovingAverage::Dema(s) => s.next_many(xs, out),
            MovingAverage::Tema(s) => s.next_many(xs, out),
            MovingAverage::Rma(s) => s.next_many(xs, out),
            _ => false,
        }
    }
}
