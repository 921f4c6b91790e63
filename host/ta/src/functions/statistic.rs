//! Statistic Functions: regression, correlation, variance and order statistics (and FOSC, a
//! Momentum function built on the time series forecast).

use super::{OnClose, period};
use crate::bar::Bar;
use crate::blocks::beta::Beta;
use crate::blocks::correlation::Correlation;
use crate::blocks::linreg::{Fit, LinearRegression};
use crate::blocks::variance::Variance;
use crate::blocks::window::Window;
use crate::blocks::{PairStream, Stream};
use crate::indicator::Indicator;
use crate::registry::{self, Field, Function, Group, Param};

const CLOSE: &[Field] = &[Field::Close];
const HIGH_LOW: &[Field] = &[Field::High, Field::Low];
const REAL: &[&str] = &["real"];
const TIMEPERIOD_14: &[Param] = &[Param::period("timeperiod", 14, 2)];

/// TA-Lib caps the windows of its order statistics at 10000 values.
const fn order_window(default: u32) -> Param {
    Param {
        max: 10_000.0,
        ..Param::period("timeperiod", default, 2)
    }
}

/// A two-input statistic of the high (first series) and the low (second series).
struct OnHighLow<P>(P);

impl<P: PairStream> Indicator for OnHighLow<P> {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.0.next(bar.high, bar.low).unwrap_or(f64::NAN);
    }
}

/// Which value of the regression line a LINEARREG-family function reports.
#[derive(Clone, Copy)]
enum LineValue {
    /// The fitted value at the newest bar (LINEARREG).
    Last,
    /// The slope (LINEARREG_SLOPE).
    Slope,
    /// The slope as an angle in degrees (LINEARREG_ANGLE).
    Angle,
    /// The fitted value at the oldest bar (LINEARREG_INTERCEPT).
    Intercept,
    /// The value forecast for the next bar (TSF).
    Forecast,
}

/// One value of the regression line through the last `period` closes.
struct Line {
    regression: LinearRegression,
    value: LineValue,
}

impl Line {
    fn build(p: &[f64], value: LineValue) -> Box<dyn Indicator> {
        Box::new(OnClose(Line {
            regression: LinearRegression::new(period(p[0])),
            value,
        }))
    }
}

impl Stream for Line {
    fn lookback(&self) -> usize {
        self.regression.lookback()
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        let fit = self.regression.next(x)?;
        Some(self.value.of(fit, self.regression.period() as f64))
    }

    /// [`LinearRegression::next_many`], with the value chosen once for the whole array.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let n = self.regression.period() as f64;
        let regression = &mut self.regression;
        match self.value {
            LineValue::Last => regression.next_many(xs, out, move |fit| LineValue::Last.of(fit, n)),
            LineValue::Slope => {
                regression.next_many(xs, out, move |fit| LineValue::Slope.of(fit, n))
            }
            LineValue::Angle => {
                regression.next_many(xs, out, move |fit| LineValue::Angle.of(fit, n))
            }
            LineValue::Intercept => {
                regression.next_many(xs, out, move |fit| LineValue::Intercept.of(fit, n))
            }
            LineValue::Forecast => {
                regression.next_many(xs, out, move |fit| LineValue::Forecast.of(fit, n))
            }
        }
        true
    }
}

impl LineValue {
    /// This value of the line `fit` through a window of `n` values.
    #[inline(always)]
    fn of(self, fit: Fit, n: f64) -> f64 {
        match self {
            LineValue::Last => fit.intercept + fit.slope * (n - 1.0),
            LineValue::Slope => fit.slope,
            LineValue::Angle => fit.slope.atan() * (180.0 / std::f64::consts::PI),
            LineValue::Intercept => fit.intercept,
            LineValue::Forecast => fit.slope.mul_add(n, fit.intercept),
        }
    }
}

/// FOSC: how far the close is from the forecast made for it one bar earlier, in percent.
struct ForecastOscillator {
    regression: LinearRegression,
    forecast: Option<f64>,
}

impl Stream for ForecastOscillator {
    fn lookback(&self) -> usize {
        self.regression.period()
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        let out = self.forecast.map(|f| oscillator(x, f));
        let n = self.regression.period() as f64;
        self.forecast = self
            .regression
            .next(x)
            .map(|fit| fit.slope.mul_add(n, fit.intercept));
        out
    }

    /// The forecasts by [`LinearRegression::next_many`] a chunk at a time, then each value's
    /// distance from the forecast before it (independent per value: vectorised).
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        const CHUNK: usize = 4096;
        let n = self.regression.period() as f64;
        let mut forecasts = Vec::with_capacity(CHUNK);
        for chunk in xs.chunks(CHUNK) {
            forecasts.clear();
            let unfitted = self.regression.unfitted();
            self.regression
                .next_many(chunk, &mut forecasts, move |fit| {
                    fit.slope.mul_add(n, fit.intercept)
                });
            // Until a forecast stands before a value, as `next` does one value at a time.
            let first = (unfitted + 1).min(chunk.len());
            for (k, &x) in chunk[..first].iter().enumerate() {
                let before = match k {
                    0 => self.forecast,
                    _ => (k > unfitted).then(|| forecasts[k - 1]),
                };
                out.push(before.map_or(f64::NAN, |f| oscillator(x, f)));
            }
            let (rest, before) = (&chunk[first..], &forecasts[first.max(1) - 1..]);
            crate::indicator::with_avx(|| {
                out.extend(rest.iter().zip(before).map(|(&x, &f)| oscillator(x, f)))
            });
            self.forecast = (chunk.len() > unfitted).then(|| forecasts[chunk.len() - 1]);
        }
        true
    }
}

/// FOSC of `x` against the forecast `f` made for it: 0 for a zero value.
#[inline(always)]
fn oscillator(x: f64, f: f64) -> f64 {
    if x != 0.0 { 100.0 * (x - f) / x } else { 0.0 }
}

/// STDDEV: the square root of TA-Lib's variance, times `nbdev`.
struct StdDev {
    variance: Variance,
    nbdev: f64,
}

impl Stream for StdDev {
    fn lookback(&self) -> usize {
        self.variance.lookback()
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        let variance = self.variance.next(x)?;
        Some(self.deviation(variance))
    }

    /// The variances' array path, each made a deviation where `next` makes one.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let start = out.len() + self.variance.pending().min(xs.len());
        if !self.variance.next_many(xs, out) {
            return false;
        }
        for v in &mut out[start..] {
            *v = self.deviation(*v);
        }
        true
    }
}

impl StdDev {
    /// The deviation of `variance`.
    #[inline(always)]
    fn deviation(&self, variance: f64) -> f64 {
        let v = variance.sqrt();
        if self.nbdev != 1.0 { v * self.nbdev } else { v }
    }
}

/// PERCENTILE: the nearest-rank percentile of the last `period` values.
struct Percentile {
    window: Window,
    sorted: Vec<f64>,
    rank: usize,
}

impl Percentile {
    fn new(period: usize, percentile: f64) -> Self {
        let rank = (percentile * period as f64 / 100.0).ceil() as usize;
        Self {
            window: Window::new(period),
            sorted: Vec::with_capacity(period),
            rank: rank.clamp(1, period),
        }
    }
}

impl Stream for Percentile {
    fn lookback(&self) -> usize {
        self.window.capacity() - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if let Some(old) = self.window.push(x) {
            let at = self.sorted.partition_point(|v| *v < old);
            self.sorted.remove(at);
        }
        let at = self.sorted.partition_point(|v| *v <= x);
        self.sorted.insert(at, x);
        self.window.is_full().then(|| self.sorted[self.rank - 1])
    }
}

/// PERCENTRANK: the share of the previous `period` values strictly below the current one.
struct PercentRank {
    window: Window,
}

impl Stream for PercentRank {
    fn lookback(&self) -> usize {
        self.window.capacity() - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        self.window.push(x);
        if !self.window.is_full() {
            return None;
        }
        let n = self.window.capacity() - 1;
        // The newest value is `x` itself, never below `x`: count over the whole window.
        let (older, newer) = self.window.as_slices();
        let below = older.iter().chain(newer).filter(|&&v| v < x).count();
        Some(below as f64 / n as f64 * 100.0)
    }
}

pub(crate) static FUNCTIONS: &[Function] = &[
    Function {
        name: "BETA",
        group: Group::StatisticFunctions,
        description: "Beta: regression slope of the low's one-bar returns on the high's",
        inputs: HIGH_LOW,
        params: &[Param::period("timeperiod", 5, 1)],
        outputs: REAL,
        build: |p| Box::new(OnHighLow(Beta::new(period(p[0])))),
    },
    Function {
        name: "CORREL",
        group: Group::StatisticFunctions,
        description: "Pearson's correlation coefficient of the high and the low",
        inputs: HIGH_LOW,
        params: &[Param::period("timeperiod", 30, 1)],
        outputs: REAL,
        build: |p| Box::new(OnHighLow(Correlation::new(period(p[0])))),
    },
    Function {
        name: "FOSC",
        group: Group::MomentumIndicators,
        description: "Forecast oscillator: close versus the previous bar's time series forecast, %",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 5, 2)],
        outputs: REAL,
        build: |p| {
            Box::new(OnClose(ForecastOscillator {
                regression: LinearRegression::new(period(p[0])),
                forecast: None,
            }))
        },
    },
    Function {
        name: "LINEARREG",
        group: Group::StatisticFunctions,
        description: "Linear regression: the fitted value at the newest bar",
        inputs: CLOSE,
        params: TIMEPERIOD_14,
        outputs: REAL,
        build: |p| Line::build(p, LineValue::Last),
    },
    Function {
        name: "LINEARREG_ANGLE",
        group: Group::StatisticFunctions,
        description: "Linear regression slope as an angle in degrees",
        inputs: CLOSE,
        params: TIMEPERIOD_14,
        outputs: REAL,
        build: |p| Line::build(p, LineValue::Angle),
    },
    Function {
        name: "LINEARREG_INTERCEPT",
        group: Group::StatisticFunctions,
        description: "Linear regression intercept: the fitted value at the oldest bar",
        inputs: CLOSE,
        params: TIMEPERIOD_14,
        outputs: REAL,
        build: |p| Line::build(p, LineValue::Intercept),
    },
    Function {
        name: "LINEARREG_SLOPE",
        group: Group::StatisticFunctions,
        description: "Linear regression slope per bar",
        inputs: CLOSE,
        params: TIMEPERIOD_14,
        outputs: REAL,
        build: |p| Line::build(p, LineValue::Slope),
    },
    Function {
        name: "PERCENTILE",
        group: Group::StatisticFunctions,
        description: "Nearest-rank percentile of the window",
        inputs: CLOSE,
        params: &[
            order_window(30),
            Param::real("percentile", 50.0, 0.0, 100.0),
        ],
        outputs: REAL,
        build: |p| Box::new(OnClose(Percentile::new(period(p[0]), p[1]))),
    },
    Function {
        name: "PERCENTRANK",
        group: Group::StatisticFunctions,
        description: "Percent of the previous period's values below the current one",
        inputs: CLOSE,
        params: &[order_window(100)],
        outputs: REAL,
        build: |p| {
            Box::new(OnClose(PercentRank {
                window: Window::new(period(p[0]) + 1),
            }))
        },
    },
    Function {
        name: "STDDEV",
        group: Group::StatisticFunctions,
        description: "Standard deviation times nbdev",
        inputs: CLOSE,
        params: &[
            Param::period("timeperiod", 5, 2),
            Param::real("nbdev", 1.0, -registry::MAX_REAL, registry::MAX_REAL),
        ],
        outputs: REAL,
        build: |p| {
            Box::new(OnClose(StdDev {
                variance: Variance::new(period(p[0])),
                nbdev: p[1],
            }))
        },
    },
    Function {
        name: "TSF",
        group: Group::StatisticFunctions,
        description: "Time series forecast: the regression line extended one bar ahead",
        inputs: CLOSE,
        params: TIMEPERIOD_14,
        outputs: REAL,
        build: |p| Line::build(p, LineValue::Forecast),
    },
    Function {
        name: "VAR",
        group: Group::StatisticFunctions,
        description: "Population variance (nbdev is accepted and ignored, as in TA-Lib)",
        inputs: CLOSE,
        params: &[
            Param::period("timeperiod", 5, 1),
            Param::real("nbdev", 1.0, -registry::MAX_REAL, registry::MAX_REAL),
        ],
        outputs: REAL,
        build: |p| Box::new(OnClose(Variance::new(period(p[0])))),
    },
];
