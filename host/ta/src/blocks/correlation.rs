//! Rolling Pearson correlation of two aligned series.

use super::PairStream;
use super::window::Window;

/// TA-Lib's CORREL over the last `period` pairs: running sums of deviations from shifts near the
/// window, rebuilt around the window means when a sum of squares loses its digits, when a
/// departing value dwarfs what remains, and at least every `32 * period` pairs. Windows where
/// either series is flat give 0.
#[derive(Clone, Debug)]
pub struct Correlation {
    period: usize,
    inv_period: f64,
    xs: Window,
    ys: Window,
    shift_x: f64,
    shift_y: f64,
    sum_x: f64,
    sum_y: f64,
    sum_x2: f64,
    sum_y2: f64,
    sum_xy: f64,
    leaving_x: f64,
    leaving_y: f64,
    since_reseed: i64,
}

impl Correlation {
    /// The correlation of the last `period` pairs (at least 1).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            inv_period: 1.0 / period as f64,
            xs: Window::new(period),
            ys: Window::new(period),
            shift_x: 0.0,
            shift_y: 0.0,
            sum_x: 0.0,
            sum_y: 0.0,
            sum_x2: 0.0,
            sum_y2: 0.0,
            sum_xy: 0.0,
            leaving_x: 0.0,
            leaving_y: 0.0,
            since_reseed: 32 * period as i64,
        }
    }

    fn add(&mut self, x: f64, y: f64) {
        let dx = x - self.shift_x;
        self.sum_x += dx;
        self.sum_x2 += dx * dx;
        let dy = y - self.shift_y;
        self.sum_xy += dx * dy;
        self.sum_y += dy;
        self.sum_y2 += dy * dy;
    }

    /// The window's sums of squares and of products about its mean.
    fn extract(&self) -> (f64, f64, f64) {
        let inv = self.inv_period;
        (
            self.sum_x2 - ((self.sum_x * self.sum_x) * inv),
            self.sum_y2 - ((self.sum_y * self.sum_y) * inv),
            self.sum_xy - ((self.sum_x * self.sum_y) * inv),
        )
    }

    /// Rebuilds the sums around the window means.
    fn reseed(&mut self) -> (f64, f64, f64) {
        let (mut mean_x, mut mean_y) = (0.0, 0.0);
        for (x, y) in self.xs.iter().zip(self.ys.iter()) {
            mean_x += x;
            mean_y += y;
        }
        self.shift_x = mean_x * self.inv_period;
        self.shift_y = mean_y * self.inv_period;
        (
            self.sum_x,
            self.sum_y,
            self.sum_x2,
            self.sum_y2,
            self.sum_xy,
        ) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..self.period {
            self.add(self.xs.get(i), self.ys.get(i));
        }
        let (ss_x, ss_y, sp) = self.extract();
        (ss_x.max(0.0), ss_y.max(0.0), sp)
    }
}

impl PairStream for Correlation {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64, y: f64) -> Option<f64> {
        if self.xs.is_empty() {
            self.shift_x = x;
            self.shift_y = y;
        }
        self.xs.push(x);
        self.ys.push(y);
        self.add(x, y);
        if !self.xs.is_full() {
            return None;
        }
        let (mut ss_x, mut ss_y, mut sp) = self.extract();
        self.since_reseed -= 1;
        if ss_x < 1e-6 * self.sum_x2
            || ss_y < 1e-6 * self.sum_y2
            || self.leaving_x > 1e6 * self.sum_x2
            || self.leaving_y > 1e6 * self.sum_y2
            || self.since_reseed <= 0
        {
            self.since_reseed = 32 * self.period as i64;
            (ss_x, ss_y, sp) = self.reseed();
        }
        let trailing_x = self.xs.get(0) - self.shift_x;
        let trailing_y = self.ys.get(0) - self.shift_y;
        let out = if ss_x > 1e-14 * self.sum_x2 && ss_y > 1e-14 * self.sum_y2 {
            (sp / (ss_x * ss_y).sqrt()).clamp(-1.0, 1.0)
        } else {
            0.0
        };
        self.leaving_x = trailing_x * trailing_x;
        self.leaving_y = trailing_y * trailing_y;
        self.sum_x -= trailing_x;
        self.sum_x2 -= self.leaving_x;
        self.sum_xy -= trailing_x * trailing_y;
        self.sum_y -= trailing_y;
        self.sum_y2 -= self.leaving_y;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_relations_correlate_fully() {
        let mut up = Correlation::new(4);
        let mut down = Correlation::new(4);
        let mut last = (None, None);
        for i in 0..20 {
            let x = 100.0 + (i as f64 * 0.7).sin() * 5.0;
            last = (up.next(x, 3.0 * x + 1.0), down.next(x, 50.0 - 2.0 * x));
        }
        assert!((last.0.unwrap() - 1.0).abs() < 1e-12, "{last:?}");
        assert!((last.1.unwrap() + 1.0).abs() < 1e-12, "{last:?}");
    }
}
