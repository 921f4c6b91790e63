//! Price Transform: per-bar transforms of OHLC, Heikin-Ashi candles and the average deviation.

use super::{OnClose, period};
use crate::bar::{Bar, Series};
use crate::blocks::window::Window;
use crate::blocks::{FreshWindow, Stream, fresh_windows};
use crate::indicator::Indicator;
use crate::registry::{Field, Function, Group, Param};

const OHLC: &[Field] = &[Field::Open, Field::High, Field::Low, Field::Close];
const HLC: &[Field] = &[Field::High, Field::Low, Field::Close];
const REAL: &[&str] = &["real"];

/// A single-output function of one bar alone (its own type per closure, so batch loops inline it).
struct PerBar<F>(F);

impl<F: Fn(&Bar) -> f64 + Send + Sync> Indicator for PerBar<F> {
    fn lookback(&self) -> usize {
        0
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = (self.0)(bar);
    }

    /// One value per bar, written without a capacity check each (the loop vectorises).
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let [column] = out else { panic!("one output") };
        let n = series.len();
        crate::indicator::prepare(column, n);
        let (open, high, low) = (&series.open[..n], &series.high[..n], &series.low[..n]);
        let (close, volume) = (&series.close[..n], &series.volume[..n]);
        column.extend((0..n).map(|i| {
            (self.0)(&Bar {
                open: open[i],
                high: high[i],
                low: low[i],
                close: close[i],
                volume: volume[i],
            })
        }));
    }
}

/// AVGDEV: mean absolute deviation from the window mean, rescanned each bar as TA-Lib does.
struct AverageDeviation {
    window: Window,
}

impl Stream for AverageDeviation {
    fn lookback(&self) -> usize {
        self.window.capacity() - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        self.window.push(x);
        if !self.window.is_full() {
            return None;
        }
        let n = self.window.capacity();
        let mut sum = 0.0;
        for ago in 0..n {
            sum += self.window.back(ago);
        }
        let mut deviation = 0.0;
        for ago in 0..n {
            deviation += (self.window.back(ago) - sum / n as f64).abs();
        }
        Some(deviation / n as f64)
    }

    /// Past the first window, each bar's window is read from `xs` ([`average_deviations`]).
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        fresh_windows(self, xs, out);
        true
    }
}

impl FreshWindow for AverageDeviation {
    fn ring(&mut self) -> &mut Window {
        &mut self.window
    }

    fn lanes(xs: &[f64], len: usize, from: usize, out: &mut Vec<f64>) {
        average_deviations::<4>(xs, len, from, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn lanes_avx2(xs: &[f64], len: usize, from: usize, out: &mut Vec<f64>) {
        average_deviations::<8>(xs, len, from, out);
    }
}

/// The average deviation of each bar from `from` on (each window, `n` values, within `xs`),
/// pushed onto `out`, `L` bars side by side: each bar's sums are chains of additions in
/// `next`'s order (newest value first), so bars in separate lanes overlap their chains.
#[inline(always)]
fn average_deviations<const L: usize>(xs: &[f64], n: usize, from: usize, out: &mut Vec<f64>) {
    let mut i = from;
    while i + L <= xs.len() {
        let mut sum = [0.0; L];
        for ago in 0..n {
            let values: &[f64; L] = xs[i - ago..i - ago + L].try_into().expect("a lane per bar");
            for k in 0..L {
                sum[k] += values[k];
            }
        }
        let mean: [f64; L] = std::array::from_fn(|k| sum[k] / n as f64);
        let mut deviation = [0.0; L];
        for ago in 0..n {
            let values: &[f64; L] = xs[i - ago..i - ago + L].try_into().expect("a lane per bar");
            for k in 0..L {
                deviation[k] += (values[k] - mean[k]).abs();
            }
        }
        out.extend(deviation.iter().map(|d| d / n as f64));
        i += L;
    }
    // The last bars one at a time, in the same order.
    for i in i..xs.len() {
        let window = &xs[i + 1 - n..=i];
        let sum = window.iter().rev().fold(0.0, |s, x| s + x);
        let deviation = window
            .iter()
            .rev()
            .fold(0.0, |d, x| d + (x - sum / n as f64).abs());
        out.push(deviation / n as f64);
    }
}

/// HA: Heikin-Ashi candles; the first open is the midpoint of the first bar's open and close.
#[derive(Default)]
struct HeikinAshi {
    open_close: Option<(f64, f64)>,
}

impl Indicator for HeikinAshi {
    fn lookback(&self) -> usize {
        0
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let candle = heikin_ashi(bar, self.open_close.unwrap_or((bar.open, bar.close)));
        self.open_close = Some((candle[0], candle[3]));
        out[..4].copy_from_slice(&candle);
    }

    /// `next`'s arithmetic in one loop over the columns, the previous candle in registers
    /// and the four outputs written straight into the columns' room.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let [o, h, l, c] = out else {
            panic!("four outputs")
        };
        let n = series.len();
        for column in [&mut *o, &mut *h, &mut *l, &mut *c] {
            crate::indicator::prepare(column, n);
        }
        let (open, high, low, close) = (
            &series.open[..n],
            &series.high[..n],
            &series.low[..n],
            &series.close[..n],
        );
        let Some(&first) = open.first() else {
            return;
        };
        let (mut last_open, mut last_close) = self.open_close.unwrap_or((first, close[0]));
        let rows = o.spare_capacity_mut()[..n]
            .iter_mut()
            .zip(&mut h.spare_capacity_mut()[..n])
            .zip(&mut l.spare_capacity_mut()[..n])
            .zip(&mut c.spare_capacity_mut()[..n]);
        for (i, (((ho, hh), hl), hc)) in rows.enumerate() {
            let bar = Bar {
                open: open[i],
                high: high[i],
                low: low[i],
                close: close[i],
                volume: 0.0,
            };
            let [ha_open, ha_high, ha_low, ha_close] = heikin_ashi(&bar, (last_open, last_close));
            ho.write(ha_open);
            hh.write(ha_high);
            hl.write(ha_low);
            hc.write(ha_close);
            (last_open, last_close) = (ha_open, ha_close);
        }
        // SAFETY: the first `n` spare values of each column were all written just above.
        unsafe {
            for column in [o, h, l, c] {
                column.set_len(n);
            }
        }
        self.open_close = Some((last_open, last_close));
    }
}

/// The Heikin-Ashi candle (open, high, low, close) of `bar` after the candle whose open and
/// close were `previous` (the first bar's own open and close for the first).
#[inline(always)]
fn heikin_ashi(bar: &Bar, (previous_open, previous_close): (f64, f64)) -> [f64; 4] {
    let open = (previous_open + previous_close) / 2.0;
    let close = (bar.open + bar.high + bar.low + bar.close) / 4.0;
    let mut high = bar.high;
    if open > high {
        high = open;
    }
    if close > high {
        high = close;
    }
    let mut low = bar.low;
    if open < low {
        low = open;
    }
    if close < low {
        low = close;
    }
    [open, high, low, close]
}

pub(crate) static FUNCTIONS: &[Function] = &[
    Function {
        name: "AVGDEV",
        group: Group::PriceTransform,
        description: "Average absolute deviation from the mean over the period",
        inputs: &[Field::Close],
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| {
            Box::new(OnClose(AverageDeviation {
                window: Window::new(period(p[0])),
            }))
        },
    },
    Function {
        name: "AVGPRICE",
        group: Group::PriceTransform,
        description: "Average of open, high, low and close",
        inputs: OHLC,
        params: &[],
        outputs: REAL,
        build: |_| Box::new(PerBar(|b: &Bar| (b.high + b.low + b.close + b.open) / 4.0)),
    },
    Function {
        name: "HA",
        group: Group::PriceTransform,
        description: "Heikin-Ashi candles",
        inputs: OHLC,
        params: &[],
        outputs: &["haopen", "hahigh", "halow", "haclose"],
        build: |_| Box::new(HeikinAshi::default()),
    },
    Function {
        name: "MEDPRICE",
        group: Group::PriceTransform,
        description: "Midpoint of high and low",
        inputs: &[Field::High, Field::Low],
        params: &[],
        outputs: REAL,
        build: |_| Box::new(PerBar(|b: &Bar| (b.high + b.low) / 2.0)),
    },
    Function {
        name: "TYPPRICE",
        group: Group::PriceTransform,
        description: "Typical price: mean of high, low and close",
        inputs: HLC,
        params: &[],
        outputs: REAL,
        build: |_| Box::new(PerBar(|b: &Bar| (b.high + b.low + b.close) / 3.0)),
    },
    Function {
        name: "WCLPRICE",
        group: Group::PriceTransform,
        description: "Weighted close: high, low and twice the close, over four",
        inputs: HLC,
        params: &[],
        outputs: REAL,
        build: |_| Box::new(PerBar(|b: &Bar| (b.high + b.low + b.close * 2.0) / 4.0)),
    },
];
