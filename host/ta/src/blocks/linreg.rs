//! Least-squares line through the last `period` values, with TA-Lib's sliding sums.

use super::window::Window;

/// A fitted line `y = intercept + slope * k`, where `k` counts bars from the oldest value of the
/// window (0) to the newest (`period - 1`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// Change per bar.
    pub slope: f64,
    /// Fitted value at the oldest bar of the window.
    pub intercept: f64,
}

/// TA-Lib's linear regression (LINEARREG, TSF and relatives): the weighted sum and the sum of the
/// window slide in O(1), re-anchored by a full scan every `32 * period` values or when a
/// departing value dwarfs what remains.
#[derive(Clone, Debug)]
pub struct LinearRegression {
    period: usize,
    n: f64,
    sum_x: f64,
    divisor: f64,
    window: Window,
    sum_y: f64,
    sum_xy: f64,
    sum_abs: f64,
    since_reseed: i64,
}

impl LinearRegression {
    /// A regression over the last `period` values (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        let n = period as f64;
        let sum_x = n * (period - 1) as f64 * 0.5;
        let sum_x_sqr = n * (period - 1) as f64 * (2 * period - 1) as f64 / 6.0;
        Self {
            period,
            n,
            sum_x,
            divisor: sum_x * sum_x - n * sum_x_sqr,
            window: Window::new(period),
            sum_y: 0.0,
            sum_xy: 0.0,
            sum_abs: 0.0,
            since_reseed: 0,
        }
    }

    /// The period.
    pub fn period(&self) -> usize {
        self.period
    }

    /// Number of values consumed before the first fit.
    pub fn lookback(&self) -> usize {
        self.period - 1
    }

    /// Recomputes both sums from the window, weights `period - 1` (oldest) down to 0 (newest).
    fn rescan(&mut self) {
        (self.sum_y, self.sum_xy, self.sum_abs) = window_sums(self.window.iter(), self.period);
        self.since_reseed = 32 * self.period as i64;
    }

    /// How many of the next values give no fit yet (the window fills with the one after).
    pub fn unfitted(&self) -> usize {
        if self.window.is_full() {
            0
        } else {
            self.period - self.window.len() - 1
        }
    }

    /// Consumes the next value; the line through the last `period` values once there are that
    /// many.
    #[inline(always)]
    pub fn next(&mut self, x: f64) -> Option<Fit> {
        let leaving = self.window.push(x);
        match leaving {
            None if !self.window.is_full() => return None,
            None => self.rescan(),
            Some(trailing) => {
                let weighted = self.n * trailing;
                self.sum_xy = self.sum_xy + self.sum_y - weighted;
                self.sum_y = self.sum_y - trailing + x;
                self.sum_abs = self.sum_abs - trailing.abs() + x.abs();
                self.since_reseed -= 1;
                if self.since_reseed <= 0 || weighted.abs() > 100.0 * self.sum_abs {
                    self.rescan();
                }
            }
        }
        let slope = (self.n * self.sum_xy - self.sum_x * self.sum_y) / self.divisor;
        let intercept = (self.sum_y - slope * self.sum_x) / self.n;
        Some(Fit { slope, intercept })
    }

    /// `next` over `xs` in order, pushing `value` of each fit onto `out` (NaN before the first),
    /// the same numbers bit for bit: through `next` while a departing value may come from
    /// before `xs` (its first `period` values), then a chunk at a time in two passes, the
    /// sliding sums (the only chain from value to value; a rescan reads the window from `xs`)
    /// and the fits from them (independent per value: vectorised); the ring is refilled from
    /// the last values.
    pub fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>, value: impl Fn(Fit) -> f64 + Copy) {
        let head = self.period.min(xs.len());
        for &x in &xs[..head] {
            out.push(self.next(x).map_or(f64::NAN, value));
        }
        if head == xs.len() {
            return;
        }
        out.reserve(xs.len() - head);
        let mut sums = [[0.0; LINREG_CHUNK]; 2];
        for from in (head..xs.len()).step_by(LINREG_CHUNK) {
            let to = (from + LINREG_CHUNK).min(xs.len());
            let [sums_xy, sums_y] = &mut sums;
            self.slide(
                xs,
                from..to,
                &mut sums_xy[..to - from],
                &mut sums_y[..to - from],
            );
            let (n, sum_x, divisor) = (self.n, self.sum_x, self.divisor);
            let start = out.len();
            let room = &mut out.spare_capacity_mut()[..to - from];
            // Everything the loop reads moved in, so that nothing it writes could alias it and
            // it vectorises.
            crate::indicator::with_fma(move || {
                for ((slot, &sum_xy), &sum_y) in room.iter_mut().zip(&*sums_xy).zip(&*sums_y) {
                    let slope = (n * sum_xy - sum_x * sum_y) / divisor;
                    let intercept = (sum_y - slope * sum_x) / n;
                    slot.write(value(Fit { slope, intercept }));
                }
            });
            // SAFETY: the `to - from` values after the first `start` were all written just
            // above (`reserve` gave the room).
            unsafe { out.set_len(start + to - from) };
        }
        self.window.push_all(&xs[xs.len() - self.period..]);
    }

    /// `next`'s sliding sums for values `bars` of `xs` (each at least `period` into it, so
    /// that the value leaving is `xs`' own), into `sums_xy` and `sums_y` as each fit reads them.
    #[inline(always)]
    fn slide(
        &mut self,
        xs: &[f64],
        bars: std::ops::Range<usize>,
        sums_xy: &mut [f64],
        sums_y: &mut [f64],
    ) {
        let (mut sum_xy, mut sum_y, mut sum_abs) = (self.sum_xy, self.sum_y, self.sum_abs);
        let mut since_reseed = self.since_reseed;
        let count = bars.len();
        let (entering, leaving) = (
            &xs[bars.start..bars.end],
            &xs[bars.start - self.period..bars.end - self.period],
        );
        for k in 0..count.min(sums_xy.len()).min(sums_y.len()) {
            let (x, trailing) = (entering[k], leaving[k]);
            let weighted = self.n * trailing;
            sum_xy = sum_xy + sum_y - weighted;
            sum_y = sum_y - trailing + x;
            sum_abs = sum_abs - trailing.abs() + x.abs();
            since_reseed -= 1;
            if since_reseed <= 0 || weighted.abs() > 100.0 * sum_abs {
                let i = bars.start + k;
                let window = xs[i + 1 - self.period..=i].iter().copied();
                (sum_y, sum_xy, sum_abs) = window_sums(window, self.period);
                since_reseed = 32 * self.period as i64;
            }
            sums_xy[k] = sum_xy;
            sums_y[k] = sum_y;
        }
        (self.sum_xy, self.sum_y, self.sum_abs) = (sum_xy, sum_y, sum_abs);
        self.since_reseed = since_reseed;
    }
}

/// Values an array path of [`LinearRegression`] takes at a time.
const LINREG_CHUNK: usize = 512;

/// The sums a rescan gives over the `len` values of `window` (oldest first): of the values, of
/// each weighted by its distance from the newest, and of their magnitudes.
#[cold]
#[inline(never)]
fn window_sums(window: impl Iterator<Item = f64>, len: usize) -> (f64, f64, f64) {
    let (mut sum_y, mut sum_xy, mut sum_abs) = (0.0, 0.0, 0.0);
    let mut weight = (len - 1) as f64;
    for v in window {
        sum_y += v;
        sum_xy += weight * v;
        sum_abs += v.abs();
        weight -= 1.0;
    }
    (sum_y, sum_xy, sum_abs)
}
