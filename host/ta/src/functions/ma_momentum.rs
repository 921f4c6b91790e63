//! Momentum functions built on moving averages, differences and ranges.

use super::{OnClose, period};
use crate::bar::{Bar, Series};
use crate::blocks::Stream;
use crate::blocks::delayed::Delayed;
use crate::blocks::ema::{self, Ema};
use crate::blocks::high_low::HighLow;
use crate::blocks::ma::{MaType, MovingAverage};
use crate::blocks::sma::Sma;
use crate::blocks::window::Window;
use crate::blocks::wma::Wma;
use crate::blocks::{FreshWindow, feed, fresh_windows, through_next};
use crate::indicator::{Indicator, prepare, stage_starts};
use crate::registry::{Field, Function, Group, Param};

const CLOSE: &[Field] = &[Field::Close];
const HIGH_LOW: &[Field] = &[Field::High, Field::Low];
const HLC: &[Field] = &[Field::High, Field::Low, Field::Close];
const REAL: &[&str] = &["real"];
const MACD_OUTPUTS: &[&str] = &["macd", "macdsignal", "macdhist"];

/// A checked `matype` parameter.
fn ma_type(value: f64) -> MaType {
    MaType::from_number(value).expect("checked matype")
}

/// TA-Lib's `TA_IS_ZERO`: within 1e-8 of zero.
fn is_zero(x: f64) -> bool {
    -0.00000001 < x && x < 0.00000001
}

/// Bar `(high + low) / 2`.
fn median(bar: &Bar) -> f64 {
    (bar.high + bar.low) / 2.0
}

/// A single-output function of one derived value per bar (the input a function item or a
/// closure, so that it inlines into the loop).
struct Mapped<F, S> {
    input: F,
    stream: S,
}

impl<F: Fn(&Bar) -> f64 + Send + Sync, S: Stream> Indicator for Mapped<F, S> {
    fn lookback(&self) -> usize {
        self.stream.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.stream.next((self.input)(bar)).unwrap_or(f64::NAN);
    }

    /// The stream's array path over the derived values, a chunk at a time; without one, the
    /// default loop.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        const CHUNK: usize = 4096;
        let [column] = out else { panic!("one output") };
        let n = series.len();
        crate::indicator::prepare(column, n);
        let mut values = Vec::with_capacity(CHUNK.min(n));
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            let (open, high, low) = (
                &series.open[start..end],
                &series.high[start..end],
                &series.low[start..end],
            );
            let (close, volume) = (&series.close[start..end], &series.volume[start..end]);
            values.clear();
            values.extend((0..end - start).map(|i| {
                (self.input)(&Bar {
                    open: open[i],
                    high: high[i],
                    low: low[i],
                    close: close[i],
                    volume: volume[i],
                })
            }));
            if !self.stream.next_many(&values, column) {
                // No array path: nothing of this chunk was consumed. A stream has one or not,
                // so this is the first chunk and the default loop runs the whole series.
                if start == 0 {
                    crate::indicator::run_fastest(self, series, [column]);
                    return;
                }
                let mut value = [f64::NAN];
                for i in start..n {
                    self.next(&series.bar(i), &mut value);
                    column.push(value[0]);
                }
                return;
            }
        }
    }
}

/// Two streams over the same input, each fed every value.
#[derive(Clone, Debug)]
struct Pair<F, S> {
    fast: F,
    slow: S,
}

impl<F: Stream, S: Stream> Pair<F, S> {
    fn lookback(&self) -> usize {
        self.fast.lookback().max(self.slow.lookback())
    }

    /// Both values, once both streams have passed their warm-up.
    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<(f64, f64)> {
        let fast = self.fast.next(x);
        let slow = self.slow.next(x);
        Some((fast?, slow?))
    }
}

/// Fast minus slow (AO, APO, the MACD line).
struct Spread<F, S>(Pair<F, S>);

impl<F: Stream, S: Stream> Stream for Spread<F, S> {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        self.0.next(x).map(|(fast, slow)| fast - slow)
    }
}

/// `(fast - slow) / slow * 100`, 0 where the slow average is (nearly) zero (PPO, PVO).
struct PercentSpread<F, S>(Pair<F, S>);

impl<F: Stream, S: Stream> Stream for PercentSpread<F, S> {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        self.0.next(x).map(|(fast, slow)| {
            if is_zero(slow) {
                0.0
            } else {
                (fast - slow) / slow * 100.0
            }
        })
    }
}

/// AO's oscillator: the fast minus the slow SMA of the median price, both started so that
/// they end their warm-up on the same bar, with a fused array path.
struct MedianSpread(Pair<Delayed<Sma>, Delayed<Sma>>);

impl MedianSpread {
    fn new(fast: usize, slow: usize) -> Self {
        let lookback = fast.max(slow) - 1;
        MedianSpread(Pair {
            fast: Delayed::ending_at(lookback, Sma::new(fast)),
            slow: Delayed::ending_at(lookback, Sma::new(slow)),
        })
    }

    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar) -> Option<f64> {
        self.0.next(median(bar)).map(|(fast, slow)| fast - slow)
    }

    /// Pushes the oscillator at every bar of `high` and `low` onto `out` (NaN before its
    /// lookback): `next` until both SMAs are full and their windows lie within the arrays,
    /// then both running sums in one loop, in `next`'s order (the median price recomputed
    /// where a value leaves a window, the same number).
    fn fill(&mut self, high: &[f64], low: &[f64], out: &mut Vec<f64>) {
        let n = high.len().min(low.len());
        let at = |i: usize| (high[i] + low[i]) / 2.0;
        let mut head = 0;
        let running = loop {
            if let (Some(fast), Some(slow)) = (self.0.fast.started(), self.0.slow.started())
                && let (Some(tf), Some(ts)) = (fast.running_total(), slow.running_total())
                && head + 1 >= fast.period().max(slow.period())
            {
                break Some(([tf, ts], [fast.period(), slow.period()]));
            }
            if head == n {
                break None;
            }
            let bar = Bar {
                high: high[head],
                low: low[head],
                ..Bar::default()
            };
            out.push(self.next(&bar).unwrap_or(f64::NAN));
            head += 1;
        };
        let Some(([mut tf, mut ts], [pf, ps])) = running else {
            return;
        };
        out.reserve(n - head);
        let (df, ds) = (pf as f64, ps as f64);
        for i in head..n {
            let m = at(i);
            tf += m;
            let fast = tf / df;
            tf -= at(i + 1 - pf);
            ts += m;
            let slow = ts / ds;
            ts -= at(i + 1 - ps);
            out.push(fast - slow);
        }
        let recent: Vec<f64> = (n - pf.max(ps)..n).map(at).collect();
        for (sma, total) in [(&mut self.0.fast, tf), (&mut self.0.slow, ts)] {
            sma.started().expect("started").resume(total, &recent);
        }
    }
}

/// AO: [`MedianSpread`] as an indicator.
struct Awesome(MedianSpread);

impl Indicator for Awesome {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.0.next(bar).unwrap_or(f64::NAN);
    }

    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let [column] = out else { panic!("one output") };
        crate::indicator::prepare(column, series.len());
        let n = series.len();
        self.0.fill(&series.high[..n], &series.low[..n], column);
    }
}

/// AC: the Awesome Oscillator minus its SMA over `signal` bars.
struct Accelerator {
    oscillator: MedianSpread,
    signal: Sma,
    /// Bars taken in: the oscillator has a value from the one past its lookback.
    seen: usize,
}

impl Indicator for Accelerator {
    fn lookback(&self) -> usize {
        self.oscillator.lookback() + self.signal.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        self.seen += 1;
        out[0] = self
            .oscillator
            .next(bar)
            .and_then(|osc| self.signal.next(osc).map(|mean| osc - mean))
            .unwrap_or(f64::NAN);
    }

    /// The oscillator's array path a chunk at a time, then the signal SMA's over the
    /// oscillator's values (those past its lookback).
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        const CHUNK: usize = 4096;
        let [column] = out else { panic!("one output") };
        crate::indicator::prepare(column, series.len());
        let n = series.len();
        let (mut osc, mut means) = (Vec::with_capacity(CHUNK), Vec::with_capacity(CHUNK));
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            osc.clear();
            means.clear();
            self.oscillator
                .fill(&series.high[start..end], &series.low[start..end], &mut osc);
            let valued = self
                .oscillator
                .lookback()
                .saturating_sub(self.seen)
                .min(osc.len());
            self.seen += osc.len();
            column.extend(std::iter::repeat_n(f64::NAN, valued));
            let fed = self.signal.next_many(&osc[valued..], &mut means);
            debug_assert!(fed, "an SMA has an array path");
            column.extend(osc[valued..].iter().zip(&means).map(|(o, m)| o - m));
        }
    }
}

/// Two moving averages of one type, the periods swapped so that `slow` is the longer; both
/// start on the first bar (APO, PPO, PVO).
fn ma_pair(
    fast: usize,
    slow: usize,
    kind: MaType,
    own_default: MaType,
) -> Pair<MovingAverage, MovingAverage> {
    let (fast, slow) = (fast.min(slow), fast.max(slow));
    Pair {
        fast: MovingAverage::new(kind, fast, own_default),
        slow: MovingAverage::new(kind, slow, own_default),
    }
}

/// A MACD: the line from a pair of averages, a signal average of the line, their difference.
struct Macd<F, S, G> {
    line: Pair<F, S>,
    signal: G,
}

impl<F: Stream, S: Stream, G: Stream> Indicator for Macd<F, S, G> {
    fn lookback(&self) -> usize {
        self.line.lookback() + self.signal.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        if let Some((fast, slow)) = self.line.next(bar.close) {
            let macd = fast - slow;
            if let Some(signal) = self.signal.next(macd) {
                out[0] = macd;
                out[1] = signal;
                out[2] = macd - signal;
                return;
            }
        }
        out[..3].fill(f64::NAN);
    }
}

/// MACD over two EMAs: TA-Lib seeds the fast one over the last `fast` of the first `slow` bars.
fn ema_macd(fast: Ema, slow: Ema, signal: usize) -> Box<dyn Indicator> {
    let skip = slow.lookback() - fast.lookback();
    Box::new(EmaMacd(Macd {
        line: Pair {
            fast: Delayed::new(skip, fast),
            slow,
        },
        signal: Ema::new(signal),
    }))
}

/// MACD and MACDFIX: a [`Macd`] of three EMAs whose array path, once all three are seeded,
/// runs them in one loop with their values in registers (the three recurrences overlap).
struct EmaMacd(Macd<Delayed<Ema>, Ema, Ema>);

impl EmaMacd {
    /// The three EMAs' values and smoothing factors (fast, slow, signal), once all are seeded.
    fn seeded(&mut self) -> Option<([f64; 3], [f64; 3])> {
        let fast = self.0.line.fast.started()?;
        let (kf, ks, kg) = (
            fast.smoothing()?,
            self.0.line.slow.smoothing()?,
            self.0.signal.smoothing()?,
        );
        let values = [
            fast.value(),
            self.0.line.slow.value(),
            self.0.signal.value(),
        ];
        Some((values, [kf, ks, kg]))
    }
}

impl Indicator for EmaMacd {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        self.0.next(bar, out);
    }

    /// `next` until the three EMAs are seeded, then [`macd_steps`] over the rest.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let [line, signal, hist] = out else {
            panic!("three outputs")
        };
        let close = &series.close[..series.len()];
        for column in [&mut *line, &mut *signal, &mut *hist] {
            crate::indicator::prepare(column, close.len());
        }
        let mut head = 0;
        let mut values = [f64::NAN; 3];
        let seeded = loop {
            if let Some(seeded) = self.seeded() {
                break Some(seeded);
            }
            let Some(&x) = close.get(head) else {
                break None;
            };
            let bar = Bar {
                close: x,
                ..Bar::default()
            };
            self.0.next(&bar, &mut values);
            for (column, v) in [&mut *line, &mut *signal, &mut *hist]
                .into_iter()
                .zip(values)
            {
                column.push(v);
            }
            head += 1;
        };
        let Some((mut state, k)) = seeded else {
            return;
        };
        macd_steps(&close[head..], &mut state, k, [line, signal, hist]);
        self.0
            .line
            .fast
            .started()
            .expect("seeded")
            .set_value(state[0]);
        self.0.line.slow.set_value(state[1]);
        self.0.signal.set_value(state[2]);
    }
}

/// Steps the seeded fast, slow and signal EMAs (`state`, factors `k`) over `xs`, pushing the
/// line, the signal and their difference: `next`'s operations in `next`'s order, compiled for
/// FMA where the CPU has it (`mul_add` is otherwise a call into libm; both round alike).
fn macd_steps(xs: &[f64], state: &mut [f64; 3], k: [f64; 3], out: [&mut Vec<f64>; 3]) {
    crate::indicator::with_fma(|| macd_loop(xs, state, k, out))
}

/// The loop of [`macd_steps`], writing into the columns' spare room (reserved by the caller).
#[inline(always)]
fn macd_loop(xs: &[f64], state: &mut [f64; 3], k: [f64; 3], out: [&mut Vec<f64>; 3]) {
    let [line, signal, hist] = out;
    for column in [&mut *line, &mut *signal, &mut *hist] {
        column.reserve(xs.len());
    }
    let [mut fast, mut slow, mut average] = *state;
    let start = [line.len(), signal.len(), hist.len()];
    let rows = line.spare_capacity_mut()[..xs.len()]
        .iter_mut()
        .zip(&mut signal.spare_capacity_mut()[..xs.len()])
        .zip(&mut hist.spare_capacity_mut()[..xs.len()]);
    for (&x, ((l, s), h)) in xs.iter().zip(rows) {
        fast = (x - fast).mul_add(k[0], fast);
        slow = (x - slow).mul_add(k[1], slow);
        let macd = fast - slow;
        average = (macd - average).mul_add(k[2], average);
        l.write(macd);
        s.write(average);
        h.write(macd - average);
    }
    // SAFETY: the first `xs.len()` spare values of each column were all written just above.
    unsafe {
        line.set_len(start[0] + xs.len());
        signal.set_len(start[1] + xs.len());
        hist.set_len(start[2] + xs.len());
    }
    *state = [fast, slow, average];
}

fn build_macd(p: &[f64]) -> Box<dyn Indicator> {
    let (a, b) = (period(p[0]), period(p[1]));
    ema_macd(Ema::new(a.min(b)), Ema::new(a.max(b)), period(p[2]))
}

fn build_macdext(p: &[f64]) -> Box<dyn Indicator> {
    let mut fast = (period(p[0]), ma_type(p[1]));
    let mut slow = (period(p[2]), ma_type(p[3]));
    if slow.0 < fast.0 {
        std::mem::swap(&mut fast, &mut slow);
    }
    let fast = MovingAverage::new(fast.1, fast.0, MaType::Sma);
    let slow = MovingAverage::new(slow.1, slow.0, MaType::Sma);
    let largest = fast.lookback().max(slow.lookback());
    Box::new(Macd {
        line: Pair {
            fast: Delayed::ending_at(largest, fast),
            slow: Delayed::ending_at(largest, slow),
        },
        signal: MovingAverage::new(ma_type(p[5]), period(p[4]), MaType::Sma),
    })
}

/// A value against the one `period` bars earlier (MOM and the ROC family).
struct Change<F> {
    window: Window,
    formula: F,
}

impl<F> Change<F> {
    fn new(period: usize, formula: F) -> Self {
        Self {
            window: Window::new(period + 1),
            formula,
        }
    }
}

impl<F: Fn(f64, f64) -> f64 + Send + Sync> Stream for Change<F> {
    fn lookback(&self) -> usize {
        self.window.capacity() - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        self.window.push(x);
        self.window
            .is_full()
            .then(|| (self.formula)(x, self.window.get(0)))
    }

    /// Past the first window, the earlier value is read from `xs` itself.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let len = self.window.capacity();
        let head = (len - 1).min(xs.len());
        through_next(self, &xs[..head], out);
        if head == xs.len() {
            return true;
        }
        let formula = &self.formula;
        out.extend(
            xs[head..]
                .iter()
                .zip(&xs[head + 1 - len..])
                .map(|(&x, &earlier)| formula(x, earlier)),
        );
        // The ring holds the last window again, for the next call.
        self.window.push_all(xs);
        true
    }
}

/// TA-Lib's ROC: `(x / prev - 1) * 100`, 0 when `prev` is zero.
fn roc(x: f64, prev: f64) -> f64 {
    if prev != 0.0 {
        (x / prev - 1.0) * 100.0
    } else {
        0.0
    }
}

/// 1-bar ROC of a triple EMA.
struct Trix {
    emas: [Ema; 3],
    prev: Option<f64>,
}

impl Stream for Trix {
    fn lookback(&self) -> usize {
        self.emas.iter().map(|e| e.lookback()).sum::<usize>() + 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        let e3 = triple(&mut self.emas, x)?;
        self.prev.replace(e3).map(|prev| roc(e3, prev))
    }

    /// The triple EMA of every value by the chain's array path ([`ema::chained`]: its values
    /// in registers once seeded), then each one's rate of change from the one before, in
    /// place.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let start = out.len();
        let mut warming = 0;
        ema::chained(
            &mut self.emas,
            xs,
            out,
            |emas, x| {
                let e3 = triple(emas, x);
                warming += usize::from(e3.is_none());
                e3
            },
            |[_, _, e3]| e3,
        );
        let mut prev = self.prev;
        for value in &mut out[start + warming..] {
            let e3 = *value;
            *value = prev.map_or(f64::NAN, |prev| roc(e3, prev));
            prev = Some(e3);
        }
        self.prev = prev;
        true
    }
}

/// The third of three chained EMAs fed `x`, once all three give values.
#[inline(always)]
fn triple(emas: &mut [Ema; 3], x: f64) -> Option<f64> {
    let e1 = emas[0].next(x)?;
    let e2 = emas[1].next(e1)?;
    emas[2].next(e2)
}

/// A numerator and a denominator smoothed by the same two EMAs in turn (TSI, SMI).
struct DoubleSmoothed {
    first: (Ema, Ema),
    second: (Ema, Ema),
}

impl DoubleSmoothed {
    fn new(first: usize, second: usize) -> Self {
        Self {
            first: (Ema::new(first), Ema::new(first)),
            second: (Ema::new(second), Ema::new(second)),
        }
    }

    fn lookback(&self) -> usize {
        self.first.0.lookback() + self.second.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, num: f64, den: f64) -> Option<(f64, f64)> {
        let num = self.first.0.next(num);
        let den = self.first.1.next(den);
        let num = self.second.0.next(num?);
        let den = self.second.1.next(den?);
        Some((num?, den?))
    }

    /// Once all four EMAs are seeded (and none passes values through): the first pair's and
    /// the second pair's smoothing factors, and the four values, for [`double_step`].
    fn seeded(&self) -> Option<((f64, f64), [f64; 4])> {
        let (first, second) = (&self.first, &self.second);
        let k = (first.0.smoothing()?, second.0.smoothing()?);
        first.1.smoothing()?;
        second.1.smoothing()?;
        let values = [
            first.0.value(),
            first.1.value(),
            second.0.value(),
            second.1.value(),
        ];
        Some((k, values))
    }

    /// Sets the four values after [`double_step`]s taken outside.
    fn set_values(&mut self, [a, b, c, d]: [f64; 4]) {
        self.first.0.set_value(a);
        self.first.1.set_value(b);
        self.second.0.set_value(c);
        self.second.1.set_value(d);
    }
}

/// [`DoubleSmoothed::next`] of seeded EMAs, their values in `v` (in registers in a loop):
/// each `(x - prev) * k + prev` fused, as [`Ema`] steps.
#[inline(always)]
fn double_step(v: &mut [f64; 4], (k1, k2): (f64, f64), num: f64, den: f64) -> (f64, f64) {
    v[0] = (num - v[0]).mul_add(k1, v[0]);
    v[1] = (den - v[1]).mul_add(k1, v[1]);
    v[2] = (v[0] - v[2]).mul_add(k2, v[2]);
    v[3] = (v[1] - v[3]).mul_add(k2, v[3]);
    (v[2], v[3])
}

/// True Strength Index.
struct Tsi {
    prev: Option<f64>,
    smoothed: DoubleSmoothed,
}

impl Stream for Tsi {
    fn lookback(&self) -> usize {
        1 + self.smoothed.lookback()
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        let momentum = x - self.prev.replace(x)?;
        let (num, den) = self.smoothed.next(momentum, momentum.abs())?;
        Some(tsi(num, den))
    }

    /// `next` until the EMAs are seeded, then one loop with the previous value and the four
    /// EMAs in registers ([`double_step`]), compiled with FMA where the CPU has it.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let mut head = 0;
        while head < xs.len() && (self.prev.is_none() || self.smoothed.seeded().is_none()) {
            out.push(self.next(xs[head]).unwrap_or(f64::NAN));
            head += 1;
        }
        let (Some(mut prev), Some((k, mut values))) = (self.prev, self.smoothed.seeded()) else {
            return true;
        };
        // The state moved in and out: captured by reference, it would live in memory, each
        // bar's EMA steps waiting on the last bar's stores.
        let rest = &xs[head..];
        (prev, values) = crate::indicator::with_fma(move || {
            let (mut prev, mut v) = (prev, values);
            out.reserve(rest.len());
            for &x in rest {
                let momentum = x - prev;
                prev = x;
                let (num, den) = double_step(&mut v, k, momentum, momentum.abs());
                out.push(tsi(num, den));
            }
            (prev, v)
        });
        self.prev = Some(prev);
        self.smoothed.set_values(values);
        true
    }
}

/// TSI of the doubly smoothed momentum and its size.
#[inline(always)]
fn tsi(num: f64, den: f64) -> f64 {
    if den > 0.0 { 100.0 * num / den } else { 0.0 }
}

/// Stochastic Momentum Index and its EMA signal.
struct Smi {
    range: HighLow,
    smoothed: DoubleSmoothed,
    signal: Ema,
}

impl Indicator for Smi {
    fn lookback(&self) -> usize {
        self.range.lookback() + self.smoothed.lookback() + self.signal.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let (smi, signal) = match self.range.next(bar.high, bar.low) {
            Some((highest, lowest)) => smi_step(
                &mut self.smoothed,
                &mut self.signal,
                bar.close - (highest + lowest) * 0.5,
                highest - lowest,
            ),
            None => (f64::NAN, f64::NAN),
        };
        out[0] = smi;
        out[1] = signal;
    }

    /// [`Self::columns`], built with FMA where the CPU has it (the averages step with
    /// `mul_add`).
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        crate::indicator::with_fma(|| self.columns(series, out));
    }
}

impl Smi {
    /// The range's extremes from the high and low columns ([`HighLow::many`]) give each bar's
    /// distance from the range's middle and the range, in the output columns; then `next`'s
    /// steps until every EMA is seeded, and one loop with the five EMAs in registers
    /// ([`double_step`]), each bar's outputs written over its inputs.
    #[inline(always)]
    fn columns(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let n = series.len();
        let [smi, signal] = out else {
            panic!("two outputs")
        };
        for column in [&mut *smi, &mut *signal] {
            prepare(column, n);
        }
        let ranged = self
            .range
            .lookback()
            .saturating_sub(self.range.seen())
            .min(n);
        smi.extend(std::iter::repeat_n(f64::NAN, ranged));
        signal.extend(std::iter::repeat_n(f64::NAN, ranged));
        let close = &series.close[..n];
        let (distance, width) = (&mut *smi, &mut *signal);
        self.range
            .many(&series.high[..n], &series.low[..n], |i, range| {
                if let Some((highest, lowest)) = range {
                    distance.push(close[i] - (highest + lowest) * 0.5);
                    width.push(highest - lowest);
                }
            });
        let mut i = ranged;
        let seeded = loop {
            if let (Some(double), Some(k)) = (self.smoothed.seeded(), self.signal.smoothing()) {
                break Some((double, k));
            }
            if i == n {
                break None;
            }
            (smi[i], signal[i]) = smi_step(&mut self.smoothed, &mut self.signal, smi[i], signal[i]);
            i += 1;
        };
        let Some(((k, mut values), signal_k)) = seeded else {
            return;
        };
        let mut last = self.signal.value();
        for (num, den) in smi[i..].iter_mut().zip(&mut signal[i..]) {
            let (smoothed_num, smoothed_den) = double_step(&mut values, k, *num, *den);
            let value = smi_of(smoothed_num, smoothed_den);
            last = (value - last).mul_add(signal_k, last);
            (*num, *den) = (value, last);
        }
        self.smoothed.set_values(values);
        self.signal.set_value(last);
    }
}

/// SMI and its signal at a bar `distance` from its range's middle in a range `width` wide,
/// both NaN until the signal gives a value.
#[inline(always)]
fn smi_step(
    smoothed: &mut DoubleSmoothed,
    signal: &mut Ema,
    distance: f64,
    width: f64,
) -> (f64, f64) {
    let none = (f64::NAN, f64::NAN);
    let Some((num, den)) = smoothed.next(distance, width) else {
        return none;
    };
    let smi = smi_of(num, den);
    signal.next(smi).map_or(none, |signal| (smi, signal))
}

/// SMI of the doubly smoothed distance and range: the distance in % of half the range.
#[inline(always)]
fn smi_of(num: f64, den: f64) -> f64 {
    let half = 0.5 * den;
    if half > 0.0 { 100.0 * num / half } else { 0.0 }
}

/// TA-Lib's fast %K: where the close sits in the range, in %; 0 for an empty range.
fn fast_k(close: f64, highest: f64, lowest: f64) -> f64 {
    let range = highest - lowest;
    if range != 0.0 {
        (close - lowest) / range * 100.0
    } else {
        0.0
    }
}

/// Slow stochastic: %K smoothed, then %D smoothing %K; with `j`, KDJ's `3K - 2D` as well.
struct Stoch {
    range: HighLow,
    slow_k: MovingAverage,
    slow_d: MovingAverage,
    with_j: bool,
}

impl Stoch {
    fn build(p: &[f64], own_default: MaType, with_j: bool) -> Box<dyn Indicator> {
        Box::new(Stoch {
            range: HighLow::new(period(p[0])),
            slow_k: MovingAverage::new(ma_type(p[2]), period(p[1]), own_default),
            slow_d: MovingAverage::new(ma_type(p[4]), period(p[3]), own_default),
            with_j,
        })
    }

    /// Array passes: the fast %K of every bar (the range's extremes from the high and low
    /// columns, [`HighLow::many`]) into %D's column for now, then each average over the
    /// previous one's column (its array path where it has one).
    #[inline(always)]
    fn columns(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let n = series.len();
        let [k, d, rest @ ..] = out else {
            panic!("two or three outputs")
        };
        for column in [&mut *k, &mut *d] {
            prepare(column, n);
        }
        // Where each stage's first output falls: as `next` gives them, by bars seen before.
        let seen = self.range.seen();
        let lookbacks = [
            self.range.lookback(),
            self.slow_k.lookback(),
            self.slow_d.lookback(),
        ];
        let [ranged, smoothed, valid] = stage_starts(lookbacks, seen, n);
        let close = &series.close[..n];
        let fast = &mut *d;
        self.range
            .many(&series.high[..n], &series.low[..n], |i, range| {
                if let Some((highest, lowest)) = range {
                    fast.push(fast_k(close[i], highest, lowest));
                }
            });
        debug_assert_eq!(fast.len(), n - ranged);
        k.extend(std::iter::repeat_n(f64::NAN, ranged));
        feed(&mut self.slow_k, fast, k);
        d.clear();
        d.extend(std::iter::repeat_n(f64::NAN, smoothed));
        feed(&mut self.slow_d, &k[smoothed..], d);
        k[..valid].fill(f64::NAN);
        if let [j] = rest {
            prepare(j, n);
            j.extend(std::iter::repeat_n(f64::NAN, valid));
            j.extend(
                k[valid..]
                    .iter()
                    .zip(&d[valid..])
                    .map(|(k, d)| 3.0 * k - 2.0 * d),
            );
        }
    }
}

impl Indicator for Stoch {
    fn lookback(&self) -> usize {
        self.range.lookback() + self.slow_k.lookback() + self.slow_d.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let width = if self.with_j { 3 } else { 2 };
        out[..width].fill(f64::NAN);
        let Some((highest, lowest)) = self.range.next(bar.high, bar.low) else {
            return;
        };
        let Some(k) = self.slow_k.next(fast_k(bar.close, highest, lowest)) else {
            return;
        };
        if let Some(d) = self.slow_d.next(k) {
            out[0] = k;
            out[1] = d;
            if self.with_j {
                out[2] = 3.0 * k - 2.0 * d;
            }
        }
    }

    /// [`Self::columns`], built with FMA where the CPU has it (the averages step with
    /// `mul_add`).
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        crate::indicator::with_fma(|| self.columns(series, out));
    }
}

/// Fast stochastic: %K and its moving average %D.
struct StochF {
    range: HighLow,
    fast_d: MovingAverage,
}

impl Indicator for StochF {
    fn lookback(&self) -> usize {
        self.range.lookback() + self.fast_d.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[..2].fill(f64::NAN);
        let Some((highest, lowest)) = self.range.next(bar.high, bar.low) else {
            return;
        };
        let k = fast_k(bar.close, highest, lowest);
        if let Some(d) = self.fast_d.next(k) {
            out[0] = k;
            out[1] = d;
        }
    }

    /// [`Self::columns`], built with FMA where the CPU has it (the averages step with
    /// `mul_add`).
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        crate::indicator::with_fma(|| self.columns(series, out));
    }
}

impl StochF {
    /// Array passes: %K of every bar (the range's extremes from the high and low columns,
    /// [`HighLow::many`]), then %D over %K's column (its array path where it has one).
    #[inline(always)]
    fn columns(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let n = series.len();
        let [k, d] = out else { panic!("two outputs") };
        for column in [&mut *k, &mut *d] {
            prepare(column, n);
        }
        let seen = self.range.seen();
        let [ranged, valid] =
            stage_starts([self.range.lookback(), self.fast_d.lookback()], seen, n);
        k.extend(std::iter::repeat_n(f64::NAN, ranged));
        let close = &series.close[..n];
        self.range
            .many(&series.high[..n], &series.low[..n], |i, range| {
                if let Some((highest, lowest)) = range {
                    k.push(fast_k(close[i], highest, lowest));
                }
            });
        debug_assert_eq!(k.len(), n);
        d.extend(std::iter::repeat_n(f64::NAN, ranged));
        feed(&mut self.fast_d, &k[ranged..], d);
        k[..valid].fill(f64::NAN);
    }
}

/// Coppock curve: a WMA of the sum of two rates of change.
struct Coppock {
    closes: Window,
    roc1: usize,
    roc2: usize,
    wma: Wma,
}

impl Stream for Coppock {
    fn lookback(&self) -> usize {
        self.closes.capacity() - 1 + self.wma.lookback()
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        self.closes.push(x);
        if !self.closes.is_full() {
            return None;
        }
        let sum = roc(x, self.closes.back(self.roc1)) + roc(x, self.closes.back(self.roc2));
        self.wma.next(sum)
    }

    /// `next` until the window is full with a whole window inside `xs`, then 1,024 bars at a
    /// time: their rates of change read from `xs` side by side (vectorised), then the WMA's
    /// array path over them; the ring left as `next` would leave it.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        const CHUNK: usize = 1024;
        let reach = self.closes.capacity() - 1;
        let mut head = 0;
        while head < xs.len() && (!self.closes.is_full() || head < reach) {
            out.push(self.next(xs[head]).unwrap_or(f64::NAN));
            head += 1;
        }
        let (roc1, roc2) = (self.roc1, self.roc2);
        let mut sums = [0.0; CHUNK];
        let mut at = head;
        while at < xs.len() {
            let len = CHUNK.min(xs.len() - at);
            for (k, sum) in sums[..len].iter_mut().enumerate() {
                let (i, x) = (at + k, xs[at + k]);
                *sum = roc(x, xs[i - roc1]) + roc(x, xs[i - roc2]);
            }
            crate::blocks::feed(&mut self.wma, &sums[..len], out);
            at += len;
        }
        self.closes.push_all(&xs[head..]);
        true
    }
}

/// Detrended Price Oscillator: the close `period / 2 + 1` bars ago minus the current SMA.
struct Dpo {
    /// The closes from the one taken (`period / 2 + 1` bars back) to the current.
    closes: Window,
    sma: Delayed<Sma>,
}

impl Stream for Dpo {
    fn lookback(&self) -> usize {
        self.sma.lookback()
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        self.closes.push(x);
        let mean = self.sma.next(x)?;
        Some(self.closes.get(0) - mean)
    }

    /// `next` for as many values as the close is taken back, then the SMA's array path with the
    /// displaced closes read from `xs`.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let d = self.closes.capacity() - 1;
        let head = d.min(xs.len());
        for &x in &xs[..head] {
            out.push(self.next(x).unwrap_or(f64::NAN));
        }
        let start = out.len();
        crate::blocks::feed(&mut self.sma, &xs[head..], out);
        for (v, displaced) in out[start..].iter_mut().zip(xs) {
            *v = displaced - *v;
        }
        self.closes.push_all(&xs[head..]);
        true
    }
}

/// Kaufman's efficiency ratio, with TA-Lib's running path sum and its exact-flat reset.
struct Er {
    period: usize,
    closes: Window,
    path: f64,
    zero_run: usize,
    trailing: f64,
}

impl Stream for Er {
    fn lookback(&self) -> usize {
        self.period
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        let held = self.closes.len();
        self.closes.push(x);
        if held == 0 {
            return None;
        }
        let step = x - self.closes.back(1);
        if step == 0.0 {
            self.zero_run += 1;
        } else {
            self.zero_run = 0;
        }
        let start = self.closes.get(0);
        if held <= self.period {
            // Priming: the path sum of the first `period` one-bar changes.
            self.path += step.abs();
            if held < self.period {
                return None;
            }
        } else {
            self.path -= (self.trailing - start).abs();
            self.path += step.abs();
            if self.zero_run >= self.period {
                // A whole window of exactly flat bars: drop the sum's rounding residue.
                self.zero_run = self.period;
                self.path = 0.0;
            }
        }
        self.trailing = start;
        Some(efficiency(x - start, self.path))
    }

    /// `next` until the window is full with a whole window inside `xs`, then one loop with the
    /// path sum and the flat run in registers, each window read from `xs`; the ring and the
    /// trailing close left as `next` would leave them.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let period = self.period;
        let mut head = 0;
        while head < xs.len() && (self.closes.len() <= period || head <= period) {
            out.push(self.next(xs[head]).unwrap_or(f64::NAN));
            head += 1;
        }
        if head == xs.len() {
            return true;
        }
        let (mut path, mut zero_run) = (self.path, self.zero_run);
        out.reserve(xs.len() - head);
        for i in head..xs.len() {
            let (x, start) = (xs[i], xs[i - period]);
            let step = x - xs[i - 1];
            zero_run = if step == 0.0 { zero_run + 1 } else { 0 };
            path -= (xs[i - period - 1] - start).abs();
            path += step.abs();
            if zero_run >= period {
                zero_run = period;
                path = 0.0;
            }
            out.push(efficiency(x - start, path));
        }
        (self.path, self.zero_run) = (path, zero_run);
        self.closes.push_all(xs);
        self.trailing = xs[xs.len() - 1 - period];
        true
    }
}

/// The efficiency ratio of a `net` change along a `path`: 1 where the path is no longer.
#[inline(always)]
fn efficiency(net: f64, path: f64) -> f64 {
    if path <= 0.0 || path <= net {
        1.0
    } else {
        (net / path).abs()
    }
}

/// Vertical Horizontal Filter: the range of the last `period` closes over their path length.
struct Vhf {
    closes: Window,
}

/// The filter of a window of closes, oldest first, as TA-Lib computes it: the path summed from
/// the oldest change on, the extremes of all but the oldest close.
#[inline(always)]
fn vhf_of(window: impl Iterator<Item = f64>, newest: f64) -> f64 {
    let mut window = window;
    let (mut highest, mut lowest, mut path) = (newest, newest, 0.0);
    let Some(mut prev) = window.next() else {
        return 0.0;
    };
    for value in window {
        path += (value - prev).abs();
        highest = highest.max(value);
        lowest = lowest.min(value);
        prev = value;
    }
    vhf_ratio(highest, lowest, path)
}

/// Range over path, 0 on a flat window (TA-Lib guards on an exact zero).
#[inline(always)]
fn vhf_ratio(highest: f64, lowest: f64, path: f64) -> f64 {
    if path > 0.0 {
        (highest - lowest) / path
    } else {
        0.0
    }
}

/// The filter of each bar from `from` on (each window, `len` closes, within `xs`), pushed onto
/// `out`, `L` bars side by side: each bar's sum is a chain of additions in `next`'s order, so
/// bars in separate lanes overlap their chains instead of waiting. Windows holding a NaN or a
/// negative zero (whose extreme could take another sign of zero in a lane) take `next`'s own
/// loop.
#[inline(always)]
fn vhf_lanes<const L: usize>(xs: &[f64], len: usize, from: usize, out: &mut Vec<f64>) {
    let mut i = from;
    while i < xs.len() {
        let first = i + 1 - len;
        let lanes = L.min(xs.len() - i);
        let span = &xs[first..i + lanes];
        if lanes < L || !crate::windowed::ordered(span) {
            for k in i..i + lanes {
                out.push(vhf_of(xs[k + 1 - len..=k].iter().copied(), xs[k]));
            }
            i += lanes;
            continue;
        }
        let mut highest: [f64; L] = std::array::from_fn(|k| xs[i + k]);
        let mut lowest = highest;
        let mut prev: [f64; L] = std::array::from_fn(|k| span[k]);
        let mut path = [0.0; L];
        for j in 1..len {
            let values: &[f64; L] = span[j..j + L].try_into().expect("a lane per bar");
            for k in 0..L {
                let value = values[k];
                path[k] += (value - prev[k]).abs();
                // `max` and `min` without their NaN cases (there is none here): the same
                // numbers, in one instruction each.
                highest[k] = if value > highest[k] {
                    value
                } else {
                    highest[k]
                };
                lowest[k] = if value < lowest[k] { value } else { lowest[k] };
                prev[k] = value;
            }
        }
        for k in 0..L {
            out.push(vhf_ratio(highest[k], lowest[k], path[k]));
        }
        i += L;
    }
}

impl Stream for Vhf {
    fn lookback(&self) -> usize {
        self.closes.capacity() - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        self.closes.push(x);
        if !self.closes.is_full() {
            return None;
        }
        Some(vhf_of(self.closes.iter(), x))
    }

    /// Past the first window, each bar's window is read from `xs` ([`vhf_lanes`]).
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        fresh_windows(self, xs, out);
        true
    }
}

impl FreshWindow for Vhf {
    fn ring(&mut self) -> &mut Window {
        &mut self.closes
    }

    fn lanes(xs: &[f64], len: usize, from: usize, out: &mut Vec<f64>) {
        vhf_lanes::<4>(xs, len, from, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn lanes_avx2(xs: &[f64], len: usize, from: usize, out: &mut Vec<f64>) {
        vhf_lanes::<8>(xs, len, from, out);
    }
}

fn change(
    p: &[f64],
    formula: impl Fn(f64, f64) -> f64 + Send + Sync + 'static,
) -> Box<dyn Indicator> {
    Box::new(OnClose(Change::new(period(p[0]), formula)))
}

pub(crate) static FUNCTIONS: &[Function] = &[
    Function {
        name: "AC",
        group: Group::MomentumIndicators,
        description: "Accelerator/Decelerator Oscillator: AO minus its SMA",
        inputs: HIGH_LOW,
        params: &[
            Param::period("fastperiod", 5, 2),
            Param::period("slowperiod", 34, 2),
            Param::period("signalperiod", 5, 2),
        ],
        outputs: REAL,
        build: |p| {
            Box::new(Accelerator {
                oscillator: MedianSpread::new(period(p[0]), period(p[1])),
                signal: Sma::new(period(p[2])),
                seen: 0,
            })
        },
    },
    Function {
        name: "AO",
        group: Group::MomentumIndicators,
        description: "Awesome Oscillator: fast minus slow SMA of the median price",
        inputs: HIGH_LOW,
        params: &[
            Param::period("fastperiod", 5, 2),
            Param::period("slowperiod", 34, 2),
        ],
        outputs: REAL,
        build: |p| Box::new(Awesome(MedianSpread::new(period(p[0]), period(p[1])))),
    },
    Function {
        name: "APO",
        group: Group::MomentumIndicators,
        description: "Absolute Price Oscillator: fast minus slow moving average",
        inputs: CLOSE,
        params: &[
            Param::period("fastperiod", 12, 2),
            Param::period("slowperiod", 26, 2),
            Param::ma_type("matype", 1),
        ],
        outputs: REAL,
        build: |p| {
            let pair = ma_pair(period(p[0]), period(p[1]), ma_type(p[2]), MaType::Ema);
            Box::new(OnClose(Spread(pair)))
        },
    },
    Function {
        name: "COPPOCK",
        group: Group::MomentumIndicators,
        description: "Coppock Curve: WMA of the sum of two rates of change",
        inputs: CLOSE,
        params: &[
            Param::period("wmaperiod", 10, 1),
            Param::period("roc1period", 11, 1),
            Param::period("roc2period", 14, 1),
        ],
        outputs: REAL,
        build: |p| {
            let (roc1, roc2) = (period(p[1]), period(p[2]));
            Box::new(OnClose(Coppock {
                closes: Window::new(roc1.max(roc2) + 1),
                roc1,
                roc2,
                wma: Wma::new(period(p[0])),
            }))
        },
    },
    Function {
        name: "DPO",
        group: Group::MomentumIndicators,
        description: "Detrended Price Oscillator: a displaced close minus the SMA",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 20, 2)],
        outputs: REAL,
        build: |p| {
            let n = period(p[0]);
            let displacement = n / 2 + 1;
            Box::new(OnClose(Dpo {
                closes: Window::new(displacement + 1),
                sma: Delayed::ending_at((n - 1).max(displacement), Sma::new(n)),
            }))
        },
    },
    Function {
        name: "ER",
        group: Group::MomentumIndicators,
        description: "Kaufman Efficiency Ratio: net change over the path length",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 10, 2)],
        outputs: REAL,
        build: |p| {
            let n = period(p[0]);
            Box::new(OnClose(Er {
                period: n,
                closes: Window::new(n + 1),
                path: 0.0,
                zero_run: 0,
                trailing: 0.0,
            }))
        },
    },
    Function {
        name: "KDJ",
        group: Group::MomentumIndicators,
        description: "KDJ: slow stochastic K and D, and J = 3K - 2D",
        inputs: HLC,
        params: &[
            Param::period("fastk_period", 9, 1),
            Param::period("slowk_period", 3, 1),
            Param::ma_type("slowk_matype", 13),
            Param::period("slowd_period", 3, 1),
            Param::ma_type("slowd_matype", 13),
        ],
        outputs: &["k", "d", "j"],
        build: |p| Stoch::build(p, MaType::Rma, true),
    },
    Function {
        name: "MACD",
        group: Group::MomentumIndicators,
        description: "Moving Average Convergence/Divergence over EMAs",
        inputs: CLOSE,
        params: &[
            Param::period("fastperiod", 12, 2),
            Param::period("slowperiod", 26, 2),
            Param::period("signalperiod", 9, 1),
        ],
        outputs: MACD_OUTPUTS,
        build: build_macd,
    },
    Function {
        name: "MACDEXT",
        group: Group::MomentumIndicators,
        description: "MACD with a moving-average type for each line",
        inputs: CLOSE,
        params: &[
            Param::period("fastperiod", 12, 2),
            Param::ma_type("fastmatype", 0),
            Param::period("slowperiod", 26, 2),
            Param::ma_type("slowmatype", 0),
            Param::period("signalperiod", 9, 1),
            Param::ma_type("signalmatype", 0),
        ],
        outputs: MACD_OUTPUTS,
        build: build_macdext,
    },
    Function {
        name: "MACDFIX",
        group: Group::MomentumIndicators,
        description: "MACD 12/26 with TA-Lib's fixed smoothing factors 0.15 and 0.075",
        inputs: CLOSE,
        params: &[Param::period("signalperiod", 9, 1)],
        outputs: MACD_OUTPUTS,
        build: |p| ema_macd(Ema::with_k(12, 0.15), Ema::with_k(26, 0.075), period(p[0])),
    },
    Function {
        name: "MOM",
        group: Group::MomentumIndicators,
        description: "Momentum: close minus the close period bars ago",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 10, 1)],
        outputs: REAL,
        build: |p| change(p, |x, prev| x - prev),
    },
    Function {
        name: "PPO",
        group: Group::MomentumIndicators,
        description: "Percentage Price Oscillator: (fast - slow) / slow moving average, in %",
        inputs: CLOSE,
        params: &[
            Param::period("fastperiod", 12, 2),
            Param::period("slowperiod", 26, 2),
            Param::ma_type("matype", 1),
        ],
        outputs: REAL,
        build: |p| {
            let pair = ma_pair(period(p[0]), period(p[1]), ma_type(p[2]), MaType::Ema);
            Box::new(OnClose(PercentSpread(pair)))
        },
    },
    Function {
        name: "PVO",
        group: Group::VolumeIndicators,
        description: "Percentage Volume Oscillator: PPO of the volume",
        inputs: &[Field::Volume],
        params: &[
            Param::period("fastperiod", 12, 2),
            Param::period("slowperiod", 26, 2),
            Param::ma_type("matype", 1),
        ],
        outputs: REAL,
        build: |p| {
            let pair = ma_pair(period(p[0]), period(p[1]), ma_type(p[2]), MaType::Ema);
            Box::new(Mapped {
                input: |bar: &Bar| bar.volume,
                stream: PercentSpread(pair),
            })
        },
    },
    Function {
        name: "QSTICK",
        group: Group::MomentumIndicators,
        description: "Qstick: SMA of close minus open",
        inputs: &[Field::Open, Field::Close],
        params: &[Param::period("timeperiod", 10, 1)],
        outputs: REAL,
        build: |p| {
            Box::new(Mapped {
                input: |bar: &Bar| bar.close - bar.open,
                stream: Sma::new(period(p[0])),
            })
        },
    },
    Function {
        name: "ROC",
        group: Group::MomentumIndicators,
        description: "Rate of change: (close / previous - 1) * 100",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 10, 1)],
        outputs: REAL,
        build: |p| change(p, roc),
    },
    Function {
        name: "ROCP",
        group: Group::MomentumIndicators,
        description: "Rate of change percentage: (close - previous) / previous",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 10, 1)],
        outputs: REAL,
        build: |p| {
            change(
                p,
                |x, prev| {
                    if prev != 0.0 { (x - prev) / prev } else { 0.0 }
                },
            )
        },
    },
    Function {
        name: "ROCR",
        group: Group::MomentumIndicators,
        description: "Rate of change ratio: close / previous",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 10, 1)],
        outputs: REAL,
        build: |p| change(p, |x, prev| if prev != 0.0 { x / prev } else { 0.0 }),
    },
    Function {
        name: "ROCR100",
        group: Group::MomentumIndicators,
        description: "Rate of change ratio on a 100 scale: close / previous * 100",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 10, 1)],
        outputs: REAL,
        build: |p| {
            change(
                p,
                |x, prev| {
                    if prev != 0.0 { (x / prev) * 100.0 } else { 0.0 }
                },
            )
        },
    },
    Function {
        name: "SMI",
        group: Group::MomentumIndicators,
        description: "Stochastic Momentum Index and its EMA signal",
        inputs: HLC,
        params: &[
            Param::period("timeperiod", 13, 2),
            Param::period("fastperiod", 2, 2),
            Param::period("slowperiod", 25, 2),
            Param::period("signalperiod", 9, 2),
        ],
        outputs: &["smi", "smisignal"],
        build: |p| {
            Box::new(Smi {
                range: HighLow::new(period(p[0])),
                smoothed: DoubleSmoothed::new(period(p[2]), period(p[1])),
                signal: Ema::new(period(p[3])),
            })
        },
    },
    Function {
        name: "STOCH",
        group: Group::MomentumIndicators,
        description: "Slow stochastic: smoothed %K and its moving average %D",
        inputs: HLC,
        params: &[
            Param::period("fastk_period", 5, 1),
            Param::period("slowk_period", 3, 1),
            Param::ma_type("slowk_matype", 0),
            Param::period("slowd_period", 3, 1),
            Param::ma_type("slowd_matype", 0),
        ],
        outputs: &["slowk", "slowd"],
        build: |p| Stoch::build(p, MaType::Sma, false),
    },
    Function {
        name: "STOCHF",
        group: Group::MomentumIndicators,
        description: "Fast stochastic: %K and its moving average %D",
        inputs: HLC,
        params: &[
            Param::period("fastk_period", 5, 1),
            Param::period("fastd_period", 3, 1),
            Param::ma_type("fastd_matype", 0),
        ],
        outputs: &["fastk", "fastd"],
        build: |p| {
            Box::new(StochF {
                range: HighLow::new(period(p[0])),
                fast_d: MovingAverage::new(ma_type(p[2]), period(p[1]), MaType::Sma),
            })
        },
    },
    Function {
        name: "TRIX",
        group: Group::MomentumIndicators,
        description: "1-bar rate of change of a triple EMA",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 30, 1)],
        outputs: REAL,
        build: |p| {
            let n = period(p[0]);
            Box::new(OnClose(Trix {
                emas: [Ema::new(n), Ema::new(n), Ema::new(n)],
                prev: None,
            }))
        },
    },
    Function {
        name: "TSI",
        group: Group::MomentumIndicators,
        description: "True Strength Index: double-smoothed momentum over its magnitude",
        inputs: CLOSE,
        params: &[
            Param::period("firstperiod", 25, 2),
            Param::period("secondperiod", 13, 2),
        ],
        outputs: REAL,
        build: |p| {
            Box::new(OnClose(Tsi {
                prev: None,
                smoothed: DoubleSmoothed::new(period(p[0]), period(p[1])),
            }))
        },
    },
    Function {
        name: "VHF",
        group: Group::MomentumIndicators,
        description: "Vertical Horizontal Filter: range over path length of the closes",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 28, 2)],
        outputs: REAL,
        build: |p| {
            Box::new(OnClose(Vhf {
                closes: Window::new(period(p[0]) + 1),
            }))
        },
    },
];
