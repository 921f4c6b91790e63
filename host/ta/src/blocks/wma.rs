//! Linearly weighted moving average with TA-Lib's two running sums.

use super::Stream;
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
}
