//! Directional movement, range and oscillator functions (Momentum and Volatility groups).

use super::period;
use crate::bar::{Bar, Series};
use crate::blocks::dm::DirectionalMovement;
use crate::blocks::extreme::{Highest, Lowest};
use crate::blocks::high_low::HighLow;
use crate::blocks::ma::{MaType, MovingAverage};
use crate::blocks::rsi::{GainLoss, Rsi};
use crate::blocks::sma::Sma;
use crate::blocks::true_range::{TrueRange, true_range};
use crate::blocks::wilder::{WilderAverage, WilderSum};
use crate::blocks::window::Window;
use crate::blocks::{self, Stream};
use crate::indicator::{Indicator, Warmup, prepare, stage_starts};
use crate::registry::{Field, Function, Group, Param};
use crate::windowed::{self, MAX_BLOCK, Windowed, window_extremes_in_blocks};

const CLOSE: &[Field] = &[Field::Close];
const HL: &[Field] = &[Field::High, Field::Low];
const HLC: &[Field] = &[Field::High, Field::Low, Field::Close];
const REAL: &[&str] = &["real"];
const MOMENTUM: Group = Group::MomentumIndicators;
const VOLATILITY: Group = Group::VolatilityIndicators;

/// Which side of the directional movement a function reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Plus,
    Minus,
}

impl Side {
    fn pick(self, plus: f64, minus: f64) -> f64 {
        match self {
            Side::Plus => plus,
            Side::Minus => minus,
        }
    }
}

/// Wilder-smoothed +DM, -DM and true range, shared by the DI, DX and ADX functions.
struct DirectionalSums {
    dm: DirectionalMovement,
    tr: TrueRange,
    plus: WilderSum,
    minus: WilderSum,
    range: WilderSum,
}

impl DirectionalSums {
    fn new(period: usize) -> Self {
        Self {
            dm: DirectionalMovement::new(),
            tr: TrueRange::new(),
            plus: WilderSum::new(period),
            minus: WilderSum::new(period),
            range: WilderSum::new(period),
        }
    }

    /// `(+DM, -DM, TR)` smoothed, from bar `period - 1` on.
    #[inline(always)]
    fn next(&mut self, bar: &Bar) -> Option<(f64, f64, f64)> {
        let moves = self.dm.next(bar.high, bar.low);
        let tr = self.tr.next(bar.high, bar.low, bar.close);
        let ((up, down), tr) = (moves?, tr?);
        let plus = self.plus.next(up);
        let minus = self.minus.next(down);
        let range = self.range.next(tr);
        Some((plus?, minus?, range?))
    }
}

/// A directional indicator: `100 * DM / TR`, 0 when the true range is zero.
#[inline]
fn di(dm: f64, tr: f64) -> f64 {
    if tr > 0.0 { 100.0 * (dm / tr) } else { 0.0 }
}

/// The directional index of smoothed DMs and TR; `None` when TA-Lib cannot compute it: no true
/// range, or the two DIs (percentages) summing to within 1e-14 of zero.
#[inline]
fn dx(plus: f64, minus: f64, tr: f64) -> Option<f64> {
    if tr <= 0.0 {
        return None;
    }
    let minus_di = 100.0 * (minus / tr);
    let plus_di = 100.0 * (plus / tr);
    let total = minus_di + plus_di;
    if total.abs() < 1e-14 {
        return None;
    }
    Some(100.0 * ((minus_di - plus_di).abs() / total))
}

/// PLUS_DM and MINUS_DM: Wilder's running sum of one side's DM (the raw DM for period 1).
struct Dm {
    side: Side,
    dm: DirectionalMovement,
    sum: Option<WilderSum>,
}

impl Dm {
    fn new(side: Side, period: usize) -> Self {
        Self {
            side,
            dm: DirectionalMovement::new(),
            sum: (period > 1).then(|| WilderSum::new(period)),
        }
    }
}

impl Indicator for Dm {
    fn lookback(&self) -> usize {
        self.sum.as_ref().map_or(1, |s| s.lookback() + 1)
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let value = self.dm.next(bar.high, bar.low).and_then(|(up, down)| {
            let x = self.side.pick(up, down);
            match &mut self.sum {
                Some(sum) => sum.next(x),
                None => Some(x),
            }
        });
        out[0] = value.unwrap_or(f64::NAN);
    }
}

/// PLUS_DI and MINUS_DI.
enum Di {
    /// Period 1: the bar's own DM over its true range (TA-Lib leaves out the factor 100 here).
    Raw {
        side: Side,
        dm: DirectionalMovement,
        tr: TrueRange,
    },
    /// Longer periods: smoothed DM over smoothed TR, from bar `period`.
    Smoothed {
        side: Side,
        warmup: Warmup,
        sums: DirectionalSums,
    },
}

impl Di {
    fn new(side: Side, period: usize) -> Self {
        if period > 1 {
            Di::Smoothed {
                side,
                warmup: Warmup::new(period),
                sums: DirectionalSums::new(period),
            }
        } else {
            Di::Raw {
                side,
                dm: DirectionalMovement::new(),
                tr: TrueRange::new(),
            }
        }
    }
}

impl Indicator for Di {
    fn lookback(&self) -> usize {
        match self {
            Di::Raw { .. } => 1,
            Di::Smoothed { warmup, .. } => warmup.lookback(),
        }
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = match self {
            Di::Raw { side, dm, tr } => {
                let moves = dm.next(bar.high, bar.low);
                let range = tr.next(bar.high, bar.low, bar.close);
                match (moves, range) {
                    (Some((up, down)), Some(range)) => {
                        let x = side.pick(up, down);
                        if x > 0.0 && range != 0.0 {
                            x / range
                        } else {
                            0.0
                        }
                    }
                    _ => f64::NAN,
                }
            }
            Di::Smoothed { side, warmup, sums } => {
                let sums = sums.next(bar);
                match (warmup.tick(), sums) {
                    (true, Some((plus, minus, tr))) => di(side.pick(plus, minus), tr),
                    _ => f64::NAN,
                }
            }
        };
    }
}

/// DX: the directional index, repeating the previous value where it cannot be computed.
struct Dx {
    warmup: Warmup,
    sums: DirectionalSums,
    last: f64,
}

impl Indicator for Dx {
    fn lookback(&self) -> usize {
        self.warmup.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let sums = self.sums.next(bar);
        out[0] = match (self.warmup.tick(), sums) {
            (true, Some((plus, minus, tr))) => {
                self.last = dx(plus, minus, tr).unwrap_or(self.last);
                self.last
            }
            _ => f64::NAN,
        };
    }
}

/// ADX: Wilder's average of DX over `period`, seeded by the mean of the first `period` DX (an
/// uncomputable DX counting as 0) and left unchanged by later uncomputable ones.
struct Adx {
    period: usize,
    dx_warmup: Warmup,
    sums: DirectionalSums,
    dx_seen: usize,
    average: WilderAverage,
}

impl Adx {
    fn new(period: usize) -> Self {
        Self {
            period,
            dx_warmup: Warmup::new(period),
            sums: DirectionalSums::new(period),
            dx_seen: 0,
            average: WilderAverage::new(period),
        }
    }

    fn lookback(&self) -> usize {
        2 * self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar) -> Option<f64> {
        let sums = self.sums.next(bar);
        if !self.dx_warmup.tick() {
            return None;
        }
        let (plus, minus, tr) = sums?;
        let dx = dx(plus, minus, tr);
        if self.dx_seen < self.period {
            self.dx_seen += 1;
            return self.average.next(dx.unwrap_or(0.0));
        }
        match dx {
            Some(dx) => self.average.next(dx),
            None => Some(self.average.value()),
        }
    }
}

impl Indicator for Adx {
    fn lookback(&self) -> usize {
        Adx::lookback(self)
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = Adx::next(self, bar).unwrap_or(f64::NAN);
    }
}

/// ADXR: the mean of today's ADX and the ADX `period - 1` bars ago.
struct Adxr {
    adx: Adx,
    history: Window,
}

impl Indicator for Adxr {
    fn lookback(&self) -> usize {
        self.adx.lookback() + self.history.capacity() - 1
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = f64::NAN;
        if let Some(adx) = self.adx.next(bar) {
            self.history.push(adx);
            if self.history.is_full() {
                out[0] = (adx + self.history.get(0)) / 2.0;
            }
        }
    }
}

/// ATR and NATR: Wilder's average of the true range, NATR dividing it by the close.
struct Atr {
    atr: blocks::atr::Atr,
    normalized: bool,
}

impl Indicator for Atr {
    fn lookback(&self) -> usize {
        self.atr.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let atr = self.atr.next(bar.high, bar.low, bar.close);
        out[0] = match atr {
            Some(atr) if self.normalized => {
                if bar.close != 0.0 {
                    (atr / bar.close) * 100.0
                } else {
                    0.0
                }
            }
            Some(atr) => atr,
            None => f64::NAN,
        };
    }
}

/// TRANGE.
struct Trange(TrueRange);

impl Indicator for Trange {
    fn lookback(&self) -> usize {
        1
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self
            .0
            .next(bar.high, bar.low, bar.close)
            .unwrap_or(f64::NAN);
    }

    /// The first bar by `next`, then each bar's range against the close before it read from
    /// the series (no chain between bars: the loop vectorises).
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let [column] = out else { panic!("one output") };
        let n = series.len();
        crate::indicator::prepare(column, n);
        if n == 0 {
            return;
        }
        let mut first = [0.0];
        self.next(&series.bar(0), &mut first);
        column.push(first[0]);
        let (high, low, before) = (
            &series.high[1..n],
            &series.low[1..n],
            &series.close[..n - 1],
        );
        column.extend(
            high.iter()
                .zip(low)
                .zip(before)
                .map(|((&h, &l), &c)| true_range(h, l, c)),
        );
        self.0 = TrueRange::after(series.close[n - 1]);
    }
}

/// ADR: the simple mean of `high - low`.
struct Adr(Sma);

impl Indicator for Adr {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = self.0.next(bar.high - bar.low).unwrap_or(f64::NAN);
    }
}

/// AROON and AROONOSC: how recent the highest high and lowest low of `period + 1` bars are.
struct Aroon {
    period: usize,
    factor: f64,
    highest: Highest,
    lowest: Lowest,
    oscillator: bool,
}

impl Aroon {
    fn new(period: usize, oscillator: bool) -> Self {
        Self {
            period,
            factor: 100.0 / period as f64,
            highest: Highest::new(period + 1, true),
            lowest: Lowest::new(period + 1, true),
            oscillator,
        }
    }
}

impl Indicator for Aroon {
    fn lookback(&self) -> usize {
        self.period
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let low = self.lowest.next(bar.low);
        let high = self.highest.next(bar.high);
        let (Some((_, low_age)), Some((_, high_age))) = (low, high) else {
            out.fill(f64::NAN);
            return;
        };
        if self.oscillator {
            out[0] = self.factor * (low_age as f64 - high_age as f64);
        } else {
            out[0] = self.factor * (self.period - low_age) as f64;
            out[1] = self.factor * (self.period - high_age) as f64;
        }
    }

    /// One pass over the lows, then one over the highs, each reading its windows from the
    /// column itself ([`Highest::many`]); both extremes span the same bars, so they
    /// start giving ages at the same bar.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let n = series.len();
        for column in out.iter_mut() {
            prepare(column, n);
        }
        let (period, factor) = (self.period, self.factor);
        let age = |extreme: Option<(f64, usize)>| extreme.map(|(_, age)| age);
        if let [oscillator] = out {
            // The low's age first, then the difference of the two ages in its place.
            self.lowest.many(&series.low[..n], |_, low| {
                oscillator.push(age(low).map_or(f64::NAN, |a| a as f64));
            });
            self.highest.many(&series.high[..n], |i, high| {
                if let Some(high_age) = age(high) {
                    oscillator[i] = factor * (oscillator[i] - high_age as f64);
                }
            });
        } else if let [down, up] = out {
            self.lowest.many(&series.low[..n], |_, low| {
                down.push(age(low).map_or(f64::NAN, |a| factor * (period - a) as f64));
            });
            self.highest.many(&series.high[..n], |_, high| {
                up.push(age(high).map_or(f64::NAN, |a| factor * (period - a) as f64));
            });
        }
    }
}

/// CCI: the typical price's distance from its mean over 0.015 times the mean deviation, both
/// summed afresh over the window in the order of TA-Lib's circular buffer; 0 when the distance
/// or the deviation is negligible against the mean.
struct Cci {
    buffer: Vec<f64>,
    slot: usize,
    seen: usize,
}

impl Indicator for Cci {
    fn lookback(&self) -> usize {
        self.buffer.len() - 1
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let n = self.buffer.len();
        let last = ((bar.high + bar.low) + bar.close) / 3.0;
        self.buffer[self.slot] = last;
        self.slot = (self.slot + 1) % n;
        self.seen += 1;
        if self.seen < n {
            out[0] = f64::NAN;
            return;
        }
        let mut average = 0.0;
        for x in &self.buffer {
            average += x;
        }
        average /= n as f64;
        let mut deviation = 0.0;
        for x in &self.buffer {
            deviation += (x - average).abs();
        }
        deviation /= n as f64;
        let distance = last - average;
        // Zero within 1e-14 of the mean's magnitude, then an exact guard on the divisor.
        let tiny = average.abs() * 1e-14;
        let divisor = deviation * 0.015;
        out[0] = if distance.abs() <= tiny || deviation.abs() <= tiny || divisor == 0.0 {
            0.0
        } else {
            distance / divisor
        };
    }
}

/// CMO: `100 * (gain - loss) / (gain + loss)` of Wilder-averaged gains and losses.
struct Cmo(GainLoss);

impl Indicator for Cmo {
    fn lookback(&self) -> usize {
        self.0.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = match self.0.next(bar.close) {
            Some((gain, loss)) => {
                let total = gain + loss;
                if total > 0.0 {
                    ((gain - loss) / total) * 100.0
                } else {
                    0.0
                }
            }
            None => f64::NAN,
        };
    }
}

/// CMOU: CMO over plain moving sums of the last `period` up and down moves.
struct Cmou {
    period: usize,
    closes: Window,
    up: f64,
    down: f64,
}

impl Cmou {
    /// Adds one change to the sums, or removes it when `adding` is false.
    #[inline]
    fn apply(&mut self, change: f64, adding: bool) {
        match (change > 0.0, change < 0.0, adding) {
            (true, _, true) => self.up += change,
            (true, _, false) => self.up -= change,
            (_, true, true) => self.down -= change,
            (_, true, false) => self.down += change,
            _ => {}
        }
    }
}

impl Indicator for Cmou {
    fn lookback(&self) -> usize {
        self.period
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = f64::NAN;
        let full = self.closes.is_full();
        if full {
            let leaving = self.closes.get(1) - self.closes.get(0);
            self.apply(leaving, false);
        }
        let prev = (!self.closes.is_empty()).then(|| self.closes.back(0));
        self.closes.push(bar.close);
        let Some(prev) = prev else {
            return;
        };
        self.apply(bar.close - prev, true);
        if self.closes.is_full() {
            let total = self.up + self.down;
            out[0] = if total != 0.0 {
                100.0 * (self.up - self.down) / total
            } else {
                0.0
            };
        }
    }
}

/// STOCHRSI: the fast stochastic of the RSI, its %D smoothed by any moving average.
struct StochRsi {
    rsi: Rsi,
    /// The RSI's highest and lowest (both columns the RSI).
    range: HighLow,
    fast_d: MovingAverage,
}

impl Indicator for StochRsi {
    fn lookback(&self) -> usize {
        self.rsi.lookback() + self.range.lookback() + self.fast_d.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out.fill(f64::NAN);
        let Some(rsi) = self.rsi.next(bar.close) else {
            return;
        };
        let Some((highest, lowest)) = self.range.next(rsi, rsi) else {
            return;
        };
        let k = stoch_rsi_k(rsi, highest, lowest);
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

impl StochRsi {
    /// `next` until the RSI gives values, then array passes: the RSI of every later bar into
    /// %D's column for now, %K from its extremes ([`HighLow::many`]), %D over %K's column.
    #[inline(always)]
    fn columns(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let n = series.len();
        let [k, d] = out else { panic!("two outputs") };
        for column in [&mut *k, &mut *d] {
            prepare(column, n);
        }
        let mut head = 0;
        let mut values = [f64::NAN; 2];
        while head < n && !self.rsi.is_seeded() {
            self.next(&series.bar(head), &mut values);
            k.push(values[0]);
            d.push(values[1]);
            head += 1;
        }
        // From here on every bar gives an RSI: stage starts count RSI values, from `head`.
        let seen = self.range.seen();
        let lookbacks = [self.range.lookback(), self.fast_d.lookback()];
        let [ranged, valid] = stage_starts(lookbacks, seen, n - head).map(|s| head + s);
        let fed = self.rsi.next_many(&series.close[head..n], d);
        debug_assert!(fed, "the RSI has an array path");
        k.extend(std::iter::repeat_n(f64::NAN, ranged - head));
        let rsi = &d[head..];
        self.range.many(rsi, rsi, |i, range| {
            if let Some((highest, lowest)) = range {
                k.push(stoch_rsi_k(rsi[i], highest, lowest));
            }
        });
        debug_assert_eq!(k.len(), n);
        d.truncate(head);
        d.extend(std::iter::repeat_n(f64::NAN, ranged - head));
        blocks::feed(&mut self.fast_d, &k[ranged..], d);
        k[head..valid].fill(f64::NAN);
    }
}

/// STOCHRSI's %K: TA-Lib's STOCHF of the RSI, 0 for a [`negligible_range`].
#[inline(always)]
fn stoch_rsi_k(rsi: f64, highest: f64, lowest: f64) -> f64 {
    if negligible_range(highest, lowest) {
        0.0
    } else {
        ((rsi - lowest) / (highest - lowest)) * 100.0
    }
}

/// Whether the range from `lowest` to `highest` is within 1e-14 of the extremes' magnitude,
/// which TA-Lib's STOCHF and WILLR count as no range.
#[inline(always)]
fn negligible_range(highest: f64, lowest: f64) -> bool {
    (highest - lowest).abs() <= (highest.abs() + lowest.abs()) * 1e-14
}

/// MFI: positive money flow's share of all money flow over `period` bars. A typical price that
/// moved by at most 1e-14 of its magnitude carries no flow; after `period` bars without flow the
/// running sums restart from exactly zero, as TA-Lib 0.8 does.
struct Mfi {
    period: usize,
    prev: Option<f64>,
    positive: Window,
    negative: Window,
    positive_sum: f64,
    negative_sum: f64,
    null_run: usize,
}

impl Indicator for Mfi {
    fn lookback(&self) -> usize {
        self.period
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = f64::NAN;
        let typical = (bar.high + bar.low + bar.close) / 3.0;
        let Some(prev) = self.prev.replace(typical) else {
            return;
        };
        if self.positive.is_full() {
            self.positive_sum -= self.positive.get(0);
            self.negative_sum -= self.negative.get(0);
        }
        let change = typical - prev;
        let scale = typical.abs() + prev.abs();
        let flow = if change.abs() <= 1e-14 * scale {
            0.0
        } else {
            typical * bar.volume
        };
        let (up, down) = if change < 0.0 {
            (0.0, flow)
        } else {
            (flow, 0.0)
        };
        self.positive.push(up);
        self.negative.push(down);
        self.positive_sum += up;
        self.negative_sum += down;
        self.null_run = if flow == 0.0 { self.null_run + 1 } else { 0 };
        if self.null_run >= self.period {
            self.null_run = self.period;
            self.positive_sum = 0.0;
            self.negative_sum = 0.0;
        }
        if !self.positive.is_full() {
            return;
        }
        let total = self.positive_sum + self.negative_sum;
        let positive = self.positive_sum.max(0.0).min(total);
        out[0] = if total <= 0.0 {
            0.0
        } else {
            100.0 * (positive / total)
        };
    }
}

/// ULTOSC: buying pressure over true range on three windows, weighted 4:2:1 shortest first.
/// A window whose bars all had no range restarts its sums from exactly zero (TA-Lib 0.8).
struct UltOsc {
    /// The three periods, shortest first.
    periods: [usize; 3],
    prev_close: Option<f64>,
    today: usize,
    pressure: Window,
    ranges: Window,
    pressure_totals: [f64; 3],
    range_totals: [f64; 3],
    null_run: usize,
}

impl UltOsc {
    fn new(p1: usize, p2: usize, p3: usize) -> Self {
        let mut periods = [p1, p2, p3];
        periods.sort_unstable();
        Self {
            periods,
            prev_close: None,
            today: 0,
            pressure: Window::new(periods[2]),
            ranges: Window::new(periods[2]),
            pressure_totals: [0.0; 3],
            range_totals: [0.0; 3],
            null_run: 0,
        }
    }
}

impl Indicator for UltOsc {
    fn lookback(&self) -> usize {
        self.periods[2]
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out[0] = f64::NAN;
        let today = self.today;
        self.today += 1;
        let Some(prev_close) = self.prev_close.replace(bar.close) else {
            return;
        };
        let (pressure, range) = ultosc_terms(bar.high, bar.low, bar.close, prev_close);
        self.pressure.push(pressure);
        self.ranges.push(range);
        self.null_run = if range == 0.0 && pressure == 0.0 {
            self.null_run + 1
        } else {
            0
        };
        let longest = self.periods[2];
        if today < longest {
            for (k, &p) in self.periods.iter().enumerate() {
                if today > longest - p {
                    self.pressure_totals[k] += pressure;
                    self.range_totals[k] += range;
                }
            }
            return;
        }
        for k in 0..3 {
            self.pressure_totals[k] += pressure;
            self.range_totals[k] += range;
        }
        for (k, &p) in self.periods.iter().enumerate() {
            if self.null_run >= p {
                self.pressure_totals[k] = 0.0;
                self.range_totals[k] = 0.0;
            }
        }
        self.null_run = self.null_run.min(longest);
        let mut output = 0.0;
        for (k, weight) in [4.0, 2.0, 1.0].into_iter().enumerate() {
            if self.range_totals[k] > 0.0 {
                output += weight * (self.pressure_totals[k] / self.range_totals[k]);
            }
        }
        for (k, &p) in self.periods.iter().enumerate() {
            self.pressure_totals[k] -= self.pressure.back(p - 1);
            self.range_totals[k] -= self.ranges.back(p - 1);
        }
        out[0] = 100.0 * (output / 7.0);
    }

    /// `next` for the first `longest` bars (while a window may reach back before the series),
    /// then [`ultosc_chunk`] a chunk of bars at a time; the rings are refilled from the last
    /// bars.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let n = series.len();
        let column = &mut out[0];
        prepare(column, n);
        let head = self.periods[2].min(n);
        let mut value = [f64::NAN];
        for i in 0..head {
            self.next(&series.bar(i), &mut value);
            column.push(value[0]);
        }
        if head == n {
            return;
        }
        let (high, low, close) = (&series.high[..n], &series.low[..n], &series.close[..n]);
        let mut scratch = UltOscScratch::default();
        crate::indicator::with_avx(|| {
            for from in (head..n).step_by(ULTOSC_CHUNK) {
                let to = (from + ULTOSC_CHUNK).min(n);
                ultosc_chunk(self, [high, low, close], from..to, &mut scratch, column);
            }
        });
        self.today += n - head;
        self.prev_close = Some(close[n - 1]);
        for j in n - self.periods[2]..n {
            let (pressure, range) = ultosc_terms(high[j], low[j], close[j], close[j - 1]);
            self.pressure.push(pressure);
            self.ranges.push(range);
        }
    }
}

/// Bars an ULTOSC batch takes at a time (its scratch stays in the first-level cache).
const ULTOSC_CHUNK: usize = 256;

/// An ULTOSC chunk's columns: each bar's terms, those leaving each window, and the six sums
/// each bar's output is made of.
struct UltOscScratch {
    /// Pressure and range of each bar.
    terms: [[f64; ULTOSC_CHUNK]; 2],
    /// Pressure and range of the bar leaving each window (shortest first) after each bar.
    leaving: [[[f64; ULTOSC_CHUNK]; 2]; 3],
    /// Each window's pressure and range sums as each bar's output reads them.
    sums: [[[f64; ULTOSC_CHUNK]; 2]; 3],
}

impl Default for UltOscScratch {
    fn default() -> Self {
        UltOscScratch {
            terms: [[0.0; ULTOSC_CHUNK]; 2],
            leaving: [[[0.0; ULTOSC_CHUNK]; 2]; 3],
            sums: [[[0.0; ULTOSC_CHUNK]; 2]; 3],
        }
    }
}

/// ULTOSC's steady branch of `next` for bars `bars` (each past the state's first `longest`
/// bars, and past this series' first `longest`), bit for bit, in three passes: the terms of
/// each bar and of those leaving the windows (independent per bar: vectorised), the six sums
/// (the only chain from bar to bar, in registers), then the outputs from the sums (their
/// divisions independent per bar: vectorised).
#[inline(always)]
fn ultosc_chunk(
    state: &mut UltOsc,
    [high, low, close]: [&[f64]; 3],
    bars: std::ops::Range<usize>,
    scratch: &mut UltOscScratch,
    column: &mut Vec<f64>,
) {
    let count = bars.len();
    let columns = [high, low, close];
    ultosc_terms_into(columns, bars.start, count, &mut scratch.terms);
    for (leaving, &period) in scratch.leaving.iter_mut().zip(&state.periods) {
        ultosc_terms_into(columns, bars.start + 1 - period, count, leaving);
    }
    let [p1, p2, p3] = state.periods;
    let [mut pressure1, mut pressure2, mut pressure3] = state.pressure_totals;
    let [mut range1, mut range2, mut range3] = state.range_totals;
    let mut null_run = state.null_run;
    let [
        [leaving_p1, leaving_r1],
        [leaving_p2, leaving_r2],
        [leaving_p3, leaving_r3],
    ] = &scratch.leaving;
    let [[sum_p1, sum_r1], [sum_p2, sum_r2], [sum_p3, sum_r3]] = &mut scratch.sums;
    for k in 0..count {
        let (pressure, range) = (scratch.terms[0][k], scratch.terms[1][k]);
        null_run = if range == 0.0 && pressure == 0.0 {
            null_run + 1
        } else {
            0
        };
        pressure1 += pressure;
        range1 += range;
        pressure2 += pressure;
        range2 += range;
        pressure3 += pressure;
        range3 += range;
        if null_run >= p1 {
            // Rare (a whole window without range): out of the common path.
            [pressure1, range1, pressure2, range2, pressure3, range3] = restart_null_windows(
                null_run,
                [p1, p2, p3],
                [pressure1, range1, pressure2, range2, pressure3, range3],
            );
        }
        null_run = null_run.min(p3);
        (sum_p1[k], sum_r1[k]) = (pressure1, range1);
        (sum_p2[k], sum_r2[k]) = (pressure2, range2);
        (sum_p3[k], sum_r3[k]) = (pressure3, range3);
        pressure1 -= leaving_p1[k];
        range1 -= leaving_r1[k];
        pressure2 -= leaving_p2[k];
        range2 -= leaving_r2[k];
        pressure3 -= leaving_p3[k];
        range3 -= leaving_r3[k];
    }
    state.pressure_totals = [pressure1, pressure2, pressure3];
    state.range_totals = [range1, range2, range3];
    state.null_run = null_run;
    // `next` skips a window without range; adding 0 instead gives the same bits, as the
    // output, started at +0, is never -0. Computed always and then chosen, so that the loop
    // has no branch and vectorises.
    let part = |weight: f64, pressure: f64, range: f64| {
        let value = weight * (pressure / range);
        if range > 0.0 { value } else { 0.0 }
    };
    let start = column.len();
    let room = &mut column.spare_capacity_mut()[..count];
    for (k, slot) in room.iter_mut().enumerate() {
        let mut output = 0.0;
        output += part(4.0, sum_p1[k], sum_r1[k]);
        output += part(2.0, sum_p2[k], sum_r2[k]);
        output += part(1.0, sum_p3[k], sum_r3[k]);
        slot.write(100.0 * (output / 7.0));
    }
    // SAFETY: the `count` values after the first `start` were all written just above (the
    // caller's `prepare` gave the column room for the whole series).
    unsafe { column.set_len(start + count) };
}

/// The pressure and range of `count` bars from bar `from` (at least 1), into `pressure` and
/// `range`.
#[inline(always)]
fn ultosc_terms_into(
    [high, low, close]: [&[f64]; 3],
    from: usize,
    count: usize,
    [pressure, range]: &mut [[f64; ULTOSC_CHUNK]; 2],
) {
    let rows = high[from..from + count]
        .iter()
        .zip(&low[from..from + count])
        .zip(&close[from..from + count])
        .zip(&close[from - 1..from - 1 + count]);
    for (k, (((&h, &l), &c), &prev)) in rows.enumerate() {
        (pressure[k], range[k]) = ultosc_terms(h, l, c, prev);
    }
}

/// The six sums after a bar that ended a run of `null_run` bars without range: each window
/// the run covers restarts from exactly zero (TA-Lib 0.8).
#[cold]
#[inline(never)]
fn restart_null_windows(null_run: usize, periods: [usize; 3], mut sums: [f64; 6]) -> [f64; 6] {
    for (k, &period) in periods.iter().enumerate() {
        if null_run >= period {
            (sums[2 * k], sums[2 * k + 1]) = (0.0, 0.0);
        }
    }
    sums
}

/// A bar's buying pressure (close over the true low) and true range, after `prev_close`.
#[inline(always)]
fn ultosc_terms(high: f64, low: f64, close: f64, prev_close: f64) -> (f64, f64) {
    let true_low = if low < prev_close { low } else { prev_close };
    (close - true_low, true_range(high, low, prev_close))
}

/// VORTEX: moving sums of `|high - previous low|` and `|low - previous high|` over the moving
/// sum of true range, which restarts from exactly zero once a whole window had no range.
struct Vortex {
    period: usize,
    prev: Option<(f64, f64, f64)>,
    today: usize,
    /// Per bar: true range, +VM, -VM.
    terms: [Window; 3],
    sums: [f64; 3],
    null_run: usize,
}

impl Indicator for Vortex {
    fn lookback(&self) -> usize {
        self.period
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        out.fill(f64::NAN);
        let today = self.today;
        self.today += 1;
        let Some((prev_high, prev_low, prev_close)) =
            self.prev.replace((bar.high, bar.low, bar.close))
        else {
            return;
        };
        let terms = [
            true_range(bar.high, bar.low, prev_close),
            (bar.high - prev_low).abs(),
            (bar.low - prev_high).abs(),
        ];
        for ((window, sum), term) in self.terms.iter_mut().zip(&mut self.sums).zip(terms) {
            window.push(term);
            *sum += term;
        }
        self.null_run = if terms[0] == 0.0 {
            self.null_run + 1
        } else {
            0
        };
        if today < self.period {
            return;
        }
        if self.null_run >= self.period {
            self.null_run = self.period;
            self.sums[0] = 0.0;
        }
        let current = self.sums;
        for k in 0..3 {
            self.sums[k] -= self.terms[k].back(self.period - 1);
        }
        (out[0], out[1]) = vortex(current[0], current[1], current[2]);
    }

    /// `next` for the first `period` bars (while a window may reach back before the series),
    /// then [`vortex_chunks`], the terms leaving the window computed afresh from the columns
    /// rather than kept in the rings, which are refilled from the last bars.
    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        let n = series.len();
        for column in out.iter_mut() {
            prepare(column, n);
        }
        let [plus, minus] = out else {
            unreachable!("VORTEX has two outputs")
        };
        let head = self.period.min(n);
        let mut values = [f64::NAN; 2];
        for i in 0..head {
            self.next(&series.bar(i), &mut values);
            plus.push(values[0]);
            minus.push(values[1]);
        }
        if head == n {
            return;
        }
        let (high, low, close) = (&series.high[..n], &series.low[..n], &series.close[..n]);
        let period = self.period;
        // After `period` bars through `next`, every bar from here on has its outputs.
        let (sums, null_run) = crate::indicator::with_avx(|| {
            vortex_chunks(
                (high, low, close),
                head,
                period,
                (self.sums, self.null_run),
                plus,
                minus,
            )
        });
        (self.sums, self.null_run) = (sums, null_run);
        self.today += n - head;
        self.prev = Some((high[n - 1], low[n - 1], close[n - 1]));
        for i in n - period..n {
            let (r, u, d) = vortex_terms(high, low, close, i);
            self.terms[0].push(r);
            self.terms[1].push(u);
            self.terms[2].push(d);
        }
    }
}

/// VORTEX's outputs for bars `from..` of the columns, each ready and with its whole window
/// inside them, 256 at a time: the terms entering and leaving the window side by side
/// (vectorised), then the three sums alone in a loop (the chain), then the ratios side by side.
/// Returns the sums and the flat run.
#[inline(always)]
fn vortex_chunks(
    (high, low, close): (&[f64], &[f64], &[f64]),
    from: usize,
    period: usize,
    (mut sums, mut null_run): ([f64; 3], usize),
    plus: &mut Vec<f64>,
    minus: &mut Vec<f64>,
) -> ([f64; 3], usize) {
    const CHUNK: usize = 256;
    let n = high.len();
    let (mut entering, mut leaving) = ([[0.0; CHUNK]; 3], [[0.0; CHUNK]; 3]);
    let mut at = from;
    while at < n {
        let len = CHUNK.min(n - at);
        for k in 0..len {
            let (r, u, d) = vortex_terms(high, low, close, at + k);
            (entering[0][k], entering[1][k], entering[2][k]) = (r, u, d);
            let (r, u, d) = vortex_terms(high, low, close, at + k + 1 - period);
            (leaving[0][k], leaving[1][k], leaving[2][k]) = (r, u, d);
        }
        // The sums each bar's outputs read, stored over that bar's entering terms.
        let [mut range, mut up, mut down] = sums;
        for k in 0..len {
            let r = entering[0][k];
            range += r;
            up += entering[1][k];
            down += entering[2][k];
            null_run = if r == 0.0 { null_run + 1 } else { 0 };
            if null_run >= period {
                null_run = period;
                range = 0.0;
            }
            (entering[0][k], entering[1][k], entering[2][k]) = (range, up, down);
            range -= leaving[0][k];
            up -= leaving[1][k];
            down -= leaving[2][k];
        }
        sums = [range, up, down];
        let [ranges, ups, downs] = &entering;
        let rows = ranges[..len].iter().zip(&ups[..len]).zip(&downs[..len]);
        plus.extend(rows.clone().map(|((&r, &u), &d)| vortex(r, u, d).0));
        minus.extend(rows.map(|((&r, &u), &d)| vortex(r, u, d).1));
        at += len;
    }
    (sums, null_run)
}

/// Bar `i`'s true range, +VM and -VM (`i` at least 1).
#[inline(always)]
fn vortex_terms(high: &[f64], low: &[f64], close: &[f64], i: usize) -> (f64, f64, f64) {
    (
        true_range(high[i], low[i], close[i - 1]),
        (high[i] - low[i - 1]).abs(),
        (low[i] - high[i - 1]).abs(),
    )
}

/// +VI and -VI from a window's sums of true range, +VM and -VM; 0 for a window without range.
#[inline(always)]
fn vortex(range: f64, plus: f64, minus: f64) -> (f64, f64) {
    if range > 0.0 {
        (plus / range, minus / range)
    } else {
        (0.0, 0.0)
    }
}

/// WILLR: where the close sits below the highest high of the range, as a percentage from 0 to
/// -100; 0 for a range within 1e-14 of the extremes' magnitude.
struct WillR {
    highest: Highest,
    lowest: Lowest,
}

impl Indicator for WillR {
    fn lookback(&self) -> usize {
        self.highest.lookback()
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let low = self.lowest.next(bar.low);
        let high = self.highest.next(bar.high);
        out[0] = match (low, high) {
            (Some((lowest, _)), Some((highest, _))) => willr(highest, lowest, bar.close),
            _ => f64::NAN,
        };
    }

    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        windowed::batch(self, series, out);
    }
}

impl Windowed for WillR {
    fn window(&self) -> usize {
        self.highest.lookback() + 1
    }

    fn fresh(&self) -> Self {
        WillR::new(self.window())
    }

    fn kernel(&self, series: &Series, from: usize, out: &mut [Vec<f64>]) -> bool {
        let column = &mut out[0];
        let close = &series.close;
        // A block's values side by side (their divisions in one register where it fits).
        window_extremes_in_blocks(
            &series.high,
            &series.low,
            self.window(),
            from,
            |i, highs, lows| {
                let mut values = [0.0; MAX_BLOCK];
                let values = &mut values[..highs.len()];
                let closes = &close[i..i + highs.len()];
                for (((v, &h), &l), &c) in values.iter_mut().zip(highs).zip(lows).zip(closes) {
                    *v = willr(h, l, c);
                }
                column.extend_from_slice(values);
            },
        )
    }
}

impl WillR {
    /// WILLR over `period` bars.
    fn new(period: usize) -> Self {
        WillR {
            highest: Highest::new(period, false),
            lowest: Lowest::new(period, false),
        }
    }
}

/// %R of `close` in the range from `lowest` to `highest`: 0 for a range too narrow to divide
/// by, else clamped to -100..0.
#[inline(always)]
fn willr(highest: f64, lowest: f64, close: f64) -> f64 {
    if negligible_range(highest, lowest) {
        0.0
    } else {
        let r = ((highest - close) / (highest - lowest)) * -100.0;
        if r > 0.0 { 0.0 } else { r.max(-100.0) }
    }
}

/// BOP: `(close - open) / (high - low)`, 0 for a bar without range.
struct Bop;

impl Indicator for Bop {
    fn lookback(&self) -> usize {
        0
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let range = bar.high - bar.low;
        out[0] = if range > 0.0 {
            (bar.close - bar.open) / range
        } else {
            0.0
        };
    }
}

/// IMI: the share of up-bar bodies in all bodies of the last `period` bars, summed afresh
/// each bar as TA-Lib does; 50 when every body is empty.
struct Imi {
    opens: Window,
    closes: Window,
}

impl Indicator for Imi {
    fn lookback(&self) -> usize {
        self.opens.capacity() - 1
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        self.opens.push(bar.open);
        self.closes.push(bar.close);
        if !self.opens.is_full() {
            out[0] = f64::NAN;
            return;
        }
        let mut up = 0.0;
        let mut down = 0.0;
        for (open, close) in self.opens.iter().zip(self.closes.iter()) {
            if close > open {
                up += close - open;
            } else {
                down += open - close;
            }
        }
        let total = up + down;
        out[0] = if total != 0.0 {
            (up / total) * 100.0
        } else {
            50.0
        };
    }
}

/// ERI: high and low minus an EMA of the close, stepped as TA-Lib 0.8 does:
/// `ema = fma(k, close - ema, ema)` with `k = 2 / (period + 1)`, seeded by the simple mean.
struct Eri {
    period: usize,
    seen: usize,
    seed_total: f64,
    ema: f64,
    k: f64,
}

impl Eri {
    fn new(period: usize) -> Self {
        Self {
            period,
            seen: 0,
            seed_total: 0.0,
            ema: 0.0,
            k: 2.0 / (period as f64 + 1.0),
        }
    }
}

impl Indicator for Eri {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        if self.period == 1 {
            out[0] = bar.high - bar.close;
            out[1] = bar.low - bar.close;
            return;
        }
        if self.seen < self.period {
            self.seen += 1;
            self.seed_total += bar.close;
            if self.seen < self.period {
                out.fill(f64::NAN);
                return;
            }
            self.ema = self.seed_total / self.period as f64;
        } else {
            self.ema = self.k.mul_add(bar.close - self.ema, self.ema);
        }
        out[0] = bar.high - self.ema;
        out[1] = bar.low - self.ema;
    }
}

/// FRACTAL: 100 where the bar `right` bars ago has a high (low) strictly beyond every other
/// bar of the `left + 1 + right` window, else 0. Like TA-Lib's other integer outputs it reads 0,
/// not NaN, during the lookback.
struct Fractal {
    right: usize,
    highs: Window,
    lows: Window,
}

impl Indicator for Fractal {
    fn lookback(&self) -> usize {
        self.highs.capacity() - 1
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        self.highs.push(bar.high);
        self.lows.push(bar.low);
        if !self.highs.is_full() {
            out.fill(0.0);
            return;
        }
        let pivot = self.highs.capacity() - 1 - self.right;
        let mut other_high = self.highs.get(0);
        let mut other_low = self.lows.get(0);
        for i in 1..self.highs.capacity() {
            if i == pivot {
                continue;
            }
            let (high, low) = (self.highs.get(i), self.lows.get(i));
            if high > other_high {
                other_high = high;
            }
            if low < other_low {
                other_low = low;
            }
        }
        out[0] = if self.highs.get(pivot) > other_high {
            100.0
        } else {
            0.0
        };
        out[1] = if self.lows.get(pivot) < other_low {
            100.0
        } else {
            0.0
        };
    }

    fn batch(&mut self, series: &Series, out: &mut [Vec<f64>]) {
        windowed::batch(self, series, out);
    }
}

impl Fractal {
    /// Swing points with `left` bars before the pivot and `right` after it.
    fn new(left: usize, right: usize) -> Self {
        let len = left + right + 1;
        Fractal {
            right,
            highs: Window::new(len),
            lows: Window::new(len),
        }
    }
}

impl Windowed for Fractal {
    fn window(&self) -> usize {
        self.highs.capacity()
    }

    fn fresh(&self) -> Self {
        Fractal::new(self.window() - 1 - self.right, self.right)
    }

    /// The same comparisons as `next`, in the same order, on the columns themselves.
    fn kernel(&self, series: &Series, from: usize, out: &mut [Vec<f64>]) -> bool {
        let [swing_high, swing_low] = out else {
            return false;
        };
        let len = self.window();
        let pivot = len - 1 - self.right;
        let n = series.len();
        let (highs, lows) = (&series.high[..n], &series.low[..n]);
        for i in from..n {
            let (h, l) = (&highs[i + 1 - len..=i], &lows[i + 1 - len..=i]);
            let (mut other_high, mut other_low) = (h[0], l[0]);
            for k in 1..len {
                if k == pivot {
                    continue;
                }
                if h[k] > other_high {
                    other_high = h[k];
                }
                if l[k] < other_low {
                    other_low = l[k];
                }
            }
            swing_high.push(if h[pivot] > other_high { 100.0 } else { 0.0 });
            swing_low.push(if l[pivot] < other_low { 100.0 } else { 0.0 });
        }
        true
    }
}

/// WAD: the running sum of each close's move from the true-range extreme on the far side.
struct Wad {
    prev_close: Option<f64>,
    sum: f64,
}

impl Indicator for Wad {
    fn lookback(&self) -> usize {
        0
    }

    #[inline(always)]
    fn next(&mut self, bar: &Bar, out: &mut [f64]) {
        let close = bar.close;
        let prev = self.prev_close.replace(close).unwrap_or(close);
        if close > prev {
            let true_low = if prev < bar.low { prev } else { bar.low };
            self.sum += close - true_low;
        } else if close < prev {
            let true_high = if prev > bar.high { prev } else { bar.high };
            self.sum += close - true_high;
        }
        out[0] = self.sum;
    }
}

pub(crate) static FUNCTIONS: &[Function] = &[
    Function {
        name: "ADX",
        group: MOMENTUM,
        description: "Average directional movement index (Wilder)",
        inputs: HLC,
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| Box::new(Adx::new(period(p[0]))),
    },
    Function {
        name: "ADXR",
        group: MOMENTUM,
        description: "Average directional movement index rating: mean of ADX now and period-1 bars ago",
        inputs: HLC,
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| {
            Box::new(Adxr {
                adx: Adx::new(period(p[0])),
                history: Window::new(period(p[0])),
            })
        },
    },
    Function {
        name: "DX",
        group: MOMENTUM,
        description: "Directional movement index",
        inputs: HLC,
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| {
            Box::new(Dx {
                warmup: Warmup::new(period(p[0])),
                sums: DirectionalSums::new(period(p[0])),
                last: 0.0,
            })
        },
    },
    Function {
        name: "MINUS_DI",
        group: MOMENTUM,
        description: "Minus directional indicator: smoothed -DM over smoothed true range",
        inputs: HLC,
        params: &[Param::period("timeperiod", 14, 1)],
        outputs: REAL,
        build: |p| Box::new(Di::new(Side::Minus, period(p[0]))),
    },
    Function {
        name: "MINUS_DM",
        group: MOMENTUM,
        description: "Minus directional movement, Wilder-smoothed",
        inputs: HL,
        params: &[Param::period("timeperiod", 14, 1)],
        outputs: REAL,
        build: |p| Box::new(Dm::new(Side::Minus, period(p[0]))),
    },
    Function {
        name: "PLUS_DI",
        group: MOMENTUM,
        description: "Plus directional indicator: smoothed +DM over smoothed true range",
        inputs: HLC,
        params: &[Param::period("timeperiod", 14, 1)],
        outputs: REAL,
        build: |p| Box::new(Di::new(Side::Plus, period(p[0]))),
    },
    Function {
        name: "PLUS_DM",
        group: MOMENTUM,
        description: "Plus directional movement, Wilder-smoothed",
        inputs: HL,
        params: &[Param::period("timeperiod", 14, 1)],
        outputs: REAL,
        build: |p| Box::new(Dm::new(Side::Plus, period(p[0]))),
    },
    Function {
        name: "ATR",
        group: VOLATILITY,
        description: "Average true range (Wilder)",
        inputs: HLC,
        params: &[Param::period("timeperiod", 14, 1)],
        outputs: REAL,
        build: |p| {
            Box::new(Atr {
                atr: blocks::atr::Atr::new(period(p[0])),
                normalized: false,
            })
        },
    },
    Function {
        name: "NATR",
        group: VOLATILITY,
        description: "Normalized average true range: ATR as a percentage of the close",
        inputs: HLC,
        params: &[Param::period("timeperiod", 14, 1)],
        outputs: REAL,
        build: |p| {
            Box::new(Atr {
                atr: blocks::atr::Atr::new(period(p[0])),
                // TA-Lib returns the plain true range for period 1.
                normalized: period(p[0]) > 1,
            })
        },
    },
    Function {
        name: "TRANGE",
        group: VOLATILITY,
        description: "True range: the bar's range widened to the previous close",
        inputs: HLC,
        params: &[],
        outputs: REAL,
        build: |_| Box::new(Trange(TrueRange::new())),
    },
    Function {
        name: "ADR",
        group: VOLATILITY,
        description: "Average day range: simple mean of high minus low",
        inputs: HL,
        params: &[Param::period("timeperiod", 14, 1)],
        outputs: REAL,
        build: |p| Box::new(Adr(Sma::new(period(p[0])))),
    },
    Function {
        name: "AROON",
        group: MOMENTUM,
        description: "Aroon down and up: how recent the lowest low and highest high are",
        inputs: HL,
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: &["aroondown", "aroonup"],
        build: |p| Box::new(Aroon::new(period(p[0]), false)),
    },
    Function {
        name: "AROONOSC",
        group: MOMENTUM,
        description: "Aroon oscillator: Aroon up minus Aroon down",
        inputs: HL,
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| Box::new(Aroon::new(period(p[0]), true)),
    },
    Function {
        name: "CCI",
        group: MOMENTUM,
        description: "Commodity channel index",
        inputs: HLC,
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| {
            Box::new(Cci {
                buffer: vec![0.0; period(p[0])],
                slot: 0,
                seen: 0,
            })
        },
    },
    Function {
        name: "CMO",
        group: MOMENTUM,
        description: "Chande momentum oscillator on Wilder-smoothed gains and losses",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| Box::new(Cmo(GainLoss::new(period(p[0])))),
    },
    Function {
        name: "CMOU",
        group: MOMENTUM,
        description: "Chande momentum oscillator on plain moving sums of gains and losses",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| {
            Box::new(Cmou {
                period: period(p[0]),
                closes: Window::new(period(p[0]) + 1),
                up: 0.0,
                down: 0.0,
            })
        },
    },
    Function {
        name: "RSI",
        group: MOMENTUM,
        description: "Relative strength index (Wilder)",
        inputs: CLOSE,
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| Box::new(super::OnClose(Rsi::new(period(p[0])))),
    },
    Function {
        name: "STOCHRSI",
        group: MOMENTUM,
        description: "Stochastic RSI: fast %K and %D of the RSI",
        inputs: CLOSE,
        params: &[
            Param::period("timeperiod", 14, 2),
            Param::period("fastk_period", 5, 1),
            Param::period("fastd_period", 3, 1),
            Param::ma_type("fastd_matype", 0),
        ],
        outputs: &["fastk", "fastd"],
        build: |p| {
            let kind = MaType::from_number(p[3]).expect("checked matype");
            Box::new(StochRsi {
                rsi: Rsi::new(period(p[0])),
                range: HighLow::new(period(p[1])),
                fast_d: MovingAverage::new(kind, period(p[2]), MaType::Sma),
            })
        },
    },
    Function {
        name: "MFI",
        group: MOMENTUM,
        description: "Money flow index",
        inputs: &[Field::High, Field::Low, Field::Close, Field::Volume],
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| {
            Box::new(Mfi {
                period: period(p[0]),
                prev: None,
                positive: Window::new(period(p[0])),
                negative: Window::new(period(p[0])),
                positive_sum: 0.0,
                negative_sum: 0.0,
                null_run: 0,
            })
        },
    },
    Function {
        name: "ULTOSC",
        group: MOMENTUM,
        description: "Ultimate oscillator",
        inputs: HLC,
        params: &[
            Param::period("timeperiod1", 7, 1),
            Param::period("timeperiod2", 14, 1),
            Param::period("timeperiod3", 28, 1),
        ],
        outputs: REAL,
        build: |p| Box::new(UltOsc::new(period(p[0]), period(p[1]), period(p[2]))),
    },
    Function {
        name: "VORTEX",
        group: MOMENTUM,
        description: "Vortex indicator: +VI and -VI",
        inputs: HLC,
        params: &[Param::period("timeperiod", 14, 1)],
        outputs: &["plusvi", "minusvi"],
        build: |p| {
            let n = period(p[0]);
            Box::new(Vortex {
                period: n,
                prev: None,
                today: 0,
                terms: [Window::new(n), Window::new(n), Window::new(n)],
                sums: [0.0; 3],
                null_run: 0,
            })
        },
    },
    Function {
        name: "WILLR",
        group: MOMENTUM,
        description: "Williams' %R",
        inputs: HLC,
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| Box::new(WillR::new(period(p[0]))),
    },
    Function {
        name: "BOP",
        group: MOMENTUM,
        description: "Balance of power: (close - open) / (high - low)",
        inputs: &[Field::Open, Field::High, Field::Low, Field::Close],
        params: &[],
        outputs: REAL,
        build: |_| Box::new(Bop),
    },
    Function {
        name: "IMI",
        group: MOMENTUM,
        description: "Intraday momentum index",
        inputs: &[Field::Open, Field::Close],
        params: &[Param::period("timeperiod", 14, 2)],
        outputs: REAL,
        build: |p| {
            Box::new(Imi {
                opens: Window::new(period(p[0])),
                closes: Window::new(period(p[0])),
            })
        },
    },
    Function {
        name: "ERI",
        group: MOMENTUM,
        description: "Elder ray index: high and low minus an EMA of the close",
        inputs: HLC,
        params: &[Param::period("timeperiod", 13, 1)],
        outputs: &["bullpower", "bearpower"],
        build: |p| Box::new(Eri::new(period(p[0]))),
    },
    Function {
        name: "FRACTAL",
        group: MOMENTUM,
        description: "Williams fractal: swing highs and lows",
        inputs: HL,
        params: &[
            Param::period("leftbars", 2, 1),
            Param::period("rightbars", 2, 1),
        ],
        outputs: &["swinghigh", "swinglow"],
        build: |p| Box::new(Fractal::new(period(p[0]), period(p[1]))),
    },
    Function {
        name: "WAD",
        group: MOMENTUM,
        description: "Williams' accumulation/distribution (no volume)",
        inputs: HLC,
        params: &[],
        outputs: REAL,
        build: |_| {
            Box::new(Wad {
                prev_close: None,
                sum: 0.0,
            })
        },
    },
];
