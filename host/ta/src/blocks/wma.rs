//! Linearly weighted moving average with TA-Lib's two running sums.

use super::Stream;
use super::through_next;
use super::window::Window;

/// TA-Lib's WMA: weights 1..=period, newest heaviest, kept as a running weighted sum and a
/// running plain sum (`sum += x * period; out = sum / divider; sum -= plain`). As TA-Lib 0.8 does,
/// both sums are rebuilt from the window every `8 * period` outputs so rounding does not pile up.
#[derive(Clone, Debug)]
pub struct Wma {
    period: usize,
    divider: f64,
    window: Window,
    weighted: f64,
    plain: f64,
    trailing: f64,
    /// Outputs left until the sums are rebuilt.
    until_rebuild: usize,
}

impl Wma {
    /// A WMA over `period` values (at least 1; a period of 1 passes values through).
    pub fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            divider: (period * (period + 1) / 2) as f64,
            window: Window::new(period),
            weighted: 0.0,
            plain: 0.0,
            trailing: 0.0,
            until_rebuild: 8 * period,
        }
    }
}

impl Stream for Wma {
    fn lookback(&self) -> usize {
        self.period - 1
    }

    #[inline(always)]
    fn next(&mut self, x: f64) -> Option<f64> {
        if self.period == 1 {
            return Some(x);
        }
        self.window.push(x);
        if !self.window.is_full() {
            self.plain += x;
            self.weighted += x * self.window.len() as f64;
            return None;
        }
        self.plain += x;
        self.plain -= self.trailing;
        self.weighted += x * self.period as f64;
        self.until_rebuild -= 1;
        if self.until_rebuild == 0 {
            self.until_rebuild = 8 * self.period;
            self.plain = 0.0;
            self.weighted = 0.0;
            for (i, v) in self.window.iter().enumerate() {
                self.plain += v;
                self.weighted += v * (i + 1) as f64;
            }
        }
        self.trailing = self.window.get(0);
        let out = self.weighted / self.divider;
        self.weighted -= self.plain;
        Some(out)
    }

    /// Past the first window, each window (for the periodic rebuild and the value that leaves)
    /// is read from `xs` itself, and the sums stay in locals.
    fn next_many(&mut self, xs: &[f64], out: &mut Vec<f64>) -> bool {
        let p = self.period;
        if p == 1 {
            out.extend_from_slice(xs);
            return true;
        }
        let head = (p - 1).min(xs.len());
        through_next(self, &xs[..head], out);
        if head == xs.len() {
            return true;
        }
        let period = p as f64;
        let (divider, mut trailing) = (self.divider, self.trailing);
        let (mut plain, mut weighted) = (self.plain, self.weighted);
        let mut until_rebuild = self.until_rebuild;
        // From `head` on, bar `j`'s window is `xs[j + 1 - p..=j]`: full, as `next` would see it.
        // A plain loop, not `extend` over a closure: the sums must stay in registers.
        out.reserve(xs.len() - head);
        for j in head..xs.len() {
            let x = xs[j];
            plain += x;
            plain -= trailing;
            weighted += x * period;
            until_rebuild -= 1;
            let window = &xs[j + 1 - p..=j];
            if until_rebuild == 0 {
                until_rebuild = 8 * p;
                plain = 0.0;
                weighted = 0.0;
                for (i, v) in window.iter().enumerate() {
                    plain += v;
                    weighted += v * (i + 1) as f64;
                }
            }
            trailing = window[0];
            out.push(weighted / divider);
            weighted -= plain;
        }
        (self.trailing, self.plain, self.weighted) = (trailing, plain, weighted);
        self.until_rebuild = until_rebuild;
        // The ring holds the last window again, for the next call.
        self.window.push_all(xs);
        true
    }
}
