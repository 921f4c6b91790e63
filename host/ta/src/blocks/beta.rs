//! Rolling beta: the regression slope of one series' returns on another's.

use super::PairStream;
use super::window::Window;

/// The one-bar return from `prev` to `price`, or `None` when `prev` is exactly zero.
fn ret(prev: f64, price: f64) -> Option<f64> {
    (prev != 0.0).then(|| (price - prev) / prev)
}

/// TA-Lib's BETA over the last `period` returns: the least-squares slope of the second series'
/// one-bar returns (y) on the first's (x), fed with prices. The return sums are kept against
/// shifts near the window and rebuilt around the window means when the denominator loses its
/// digits, when a departing x or y return dwarfs what remains of its sum of squares, and at least
/// every `32 * period` bars. A window where x does not vary gives 0.
#[derive(Clone, Debug)]
pub struct Beta {
    period: usize,
    n: f64,
    xs: Window,
    ys: Window,
    shift_x: f64,
    shift_y: f64,
    s_xx: f64,
    s_yy: f64,
    s_xy: f64,
    s_x: f64,
    s_y: f64,
    leaving_xx: f64,
    leaving_yy: f64,
    since_reseed: i64,
}

impl Beta {
    /// The beta over the last `period` returns (at least 1), so `period + 1` prices.
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            n: period as f64,
            xs: Window::new(period + 1),
            ys: Window::new(period + 1),
            shift_x: 0.0,
            shift_y: 0.0,
            s_xx: 0.0,
            s_yy: 0.0,
            s_xy: 0.0,
            s_x: 0.0,
            s_y: 0.0,
            leaving_xx: 0.0,
            leaving_yy: 0.0,
            since_reseed: 32 * period as i64,
        }
    }

    /// The shifted returns from `(prev_x, prev_y)` to `(x, y)`.
    fn deviations(&self, prev_x: f64, x: f64, prev_y: f64, y: f64) -> (f64, f64) {
        (
            ret(prev_x, x).map_or(-self.shift_x, |r| r - self.shift_x),
            ret(prev_y, y).map_or(-self.shift_y, |r| r - self.shift_y),
        )
    }

    /// Rebuilds the sums around the mean returns of the window.
    fn reseed(&mut self) {
        let (mut total_x, mut total_y) = (0.0, 0.0);
        for i in 1..=self.period {
            if let Some(r) = ret(self.xs.get(i - 1), self.xs.get(i)) {
                total_x += r;
            }
            if let Some(r) = ret(self.ys.get(i - 1), self.ys.get(i)) {
                total_y += r;
            }
        }
        self.shift_x = total_x / self.n;
        self.shift_y = total_y / self.n;
        (self.s_xx, self.s_yy, self.s_xy, self.s_x, self.s_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 1..=self.period {
            let (x, y) = self.deviations(
                self.xs.get(i - 1),
                self.xs.get(i),
                self.ys.get(i - 1),
                self.ys.get(i),
            );
            self.s_xx += x * x;
            self.s_yy += y * y;
            self.s_xy += x * y;
            self.s_x += x;
            self.s_y += y;
        }
    }
}

impl PairStream for Beta {
    fn lookback(&self) -> usize {
        self.period
    }

    #[inline(always)]
    fn next(&mut self, x: f64, y: f64) -> Option<f64> {
        self.xs.push(x);
        self.ys.push(y);
        let seen = self.xs.len();
        if seen == 1 {
            return None;
        }
        let (prev_x, prev_y) = (self.xs.back(1), self.ys.back(1));
        if seen == 2 {
            self.shift_x = ret(prev_x, x).unwrap_or(0.0);
            self.shift_y = ret(prev_y, y).unwrap_or(0.0);
        }
        let (dx, dy) = self.deviations(prev_x, x, prev_y, y);
        self.s_xx += dx * dx;
        self.s_yy += dy * dy;
        self.s_xy += dx * dy;
        self.s_x += dx;
        self.s_y += dy;
        if !self.xs.is_full() {
            return None;
        }
        let mut denom_scale = self.n * self.s_xx;
        let mut denom = denom_scale - (self.s_x * self.s_x);
        self.since_reseed -= 1;
        if denom < 1e-6 * denom_scale
            || self.leaving_xx > 1000.0 * self.s_xx
            || self.leaving_yy > 1000.0 * self.s_yy
            || self.since_reseed <= 0
        {
            self.since_reseed = 32 * self.period as i64;
            self.reseed();
            denom_scale = self.n * self.s_xx;
            denom = denom_scale - (self.s_x * self.s_x);
            if denom < 0.0 {
                denom = 0.0;
            }
        }
        let (tx, ty) = self.deviations(
            self.xs.get(0),
            self.xs.get(1),
            self.ys.get(0),
            self.ys.get(1),
        );
        let out = if denom > 1e-14 * denom_scale {
            ((self.n * self.s_xy) - (self.s_x * self.s_y)) / denom
        } else {
            0.0
        };
        self.leaving_xx = tx * tx;
        self.leaving_yy = ty * ty;
        self.s_xx -= tx * tx;
        self.s_yy -= ty * ty;
        self.s_xy -= tx * ty;
        self.s_x -= tx;
        self.s_y -= ty;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_the_second_series_returns_on_the_first() {
        // y moves by exactly twice x's return each bar, so beta is 2.
        let mut beta = Beta::new(5);
        let (mut x, mut y) = (100.0, 40.0);
        let mut out = beta.next(x, y);
        for i in 0..30 {
            let r = 0.01 * ((i as f64) * 1.3).sin();
            x *= 1.0 + r;
            y *= 1.0 + 2.0 * r;
            out = beta.next(x, y);
        }
        assert!((out.unwrap() - 2.0).abs() < 1e-9, "{out:?}");
    }
}
