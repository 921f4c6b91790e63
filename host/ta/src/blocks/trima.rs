//! Triangular moving average with TA-Lib's running numerator.

use super::Stream;
use super::window::Window;

/// TA-Lib's TRIMA: weights rising 1, 2, .. to the middle of the window and falling again, kept
/// as TA-Lib keeps them: a numerator adjusted by a trailing half-sum and a leading half-sum.
#[derive(Clone, Debug)]
pub struct Trima {
    period: usize,
    half: usize,
    factor: f64,
    window: Window,
    numerator: f64,
    sub: f64,
    add: f64,
    seeded: bool,
}

impl Trima {
    /// A TRIMA over `period` values (at least 1; a period of 1 passes values through).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        let half = period >> 1;
        let weights = if period % 2 == 1 {
            (half + 1) * (half + 1)
        } else {
            half * (half + 1)
        };
        Self {
            period,
            half,
            factor: 1.0 / weights as f64,
            window: Window::new(period),
            numerator: 0.0,
            sub: 0.0,
            add: 0.0,
            seeded: false,
        }
    }

    /// Builds the numerator over the first full window, in TA-Lib's order.
    fn seed(&mut self) -> f64 {
        let middle = if self.period % 2 == 1 {
            self.half
        } else {
            self.half - 1
        };
        for j in (0..=middle).rev() {
            self.sub += self.window.get(j);
            self.numerator += self.sub;
        }
        for j in middle + 1..self.period {
            self.add += self.window.get(j);
            self.numerator += self.add;
        }
        self.seeded = true;
        self.numerator * self.factor
    }
}

impl Stream for Trima {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.period == 1 {
            return Some(x);
        }
        let leaving = self.window.push(x);
        if !self.seeded {
            return self.window.is_full().then(|| self.seed());
        }
        let leaving = leaving.unwrap_or_default();
        let middle = self.window.back(self.half);
        self.numerator -= self.sub;
        self.sub -= leaving;
        self.sub += middle;
        if self.period % 2 == 1 {
            self.numerator += self.add;
            self.add -= middle;
        } else {
            self.add -= middle;
            self.numerator += self.add;
        }
        self.add += x;
        self.numerator += x;
        Some(self.numerator * self.factor)
    }

    /// Once seeded, with a window and the value leaving it inside `xs`, each step reads them
    /// from `xs` itself, its sums in locals.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let p = self.period;
        if p == 1 {
            out.extend_from_slice(xs);
            return true;
        }
        let mut head = 0;
        while head < xs.len() && (!self.seeded || head < p) {
            out.push(self.next(xs[head]).unwrap_or(f64::NAN));
            head += 1;
        }
        if head == xs.len() {
            return true;
        }
        let (half, factor, odd) = (self.half, self.factor, p % 2 == 1);
        let (mut numerator, mut sub, mut add) = (self.numerator, self.sub, self.add);
        // A plain loop, not `extend` over a closure: the sums stay in registers.
        out.reserve(xs.len() - head);
        for j in head..xs.len() {
            let (x, leaving, middle) = (xs[j], xs[j - p], xs[j - half]);
            numerator -= sub;
            sub -= leaving;
            sub += middle;
            if odd {
                numerator += add;
                add -= middle;
            } else {
                add -= middle;
                numerator += add;
            }
            add += x;
            numerator += x;
            out.push(numerator * factor);
        }
        (self.numerator, self.sub, self.add) = (numerator, sub, add);
        // The ring holds the last window again, for the next call.
        self.window.push_all(xs);
        true
    }
}
