//! Cross-market features of a symbol against a reference symbol: rolling correlation and beta of
//! bar log returns, the z-score of the log-price spread, and relative strength.
//!
//! Returns are paired by bar open time, never by arrival: a pair enters the statistics at the
//! first bar of the symbol that closes once both bars of that time are known, so nothing is
//! misaligned and nothing is used before it was known.

use std::collections::VecDeque;

/// One bar's contribution: open time, log return, log close.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BarPoint {
    /// Open time of the bar.
    pub open_time: i64,
    /// Log return from the previous close (NaN for the first bar).
    pub log_return: f64,
    /// Log of the close.
    pub log_price: f64,
}

/// How many recent bars of a symbol are kept for pairing.
pub const PAIRING_DEPTH: usize = 64;

/// Feature suffixes per reference, with descriptions.
pub const CROSS_FEATURES: [(&str, &str); 4] = [
    (
        "corr",
        "rolling correlation of bar log returns with the reference",
    ),
    ("beta", "rolling beta of bar log returns on the reference's"),
    (
        "spread_z",
        "z-score of the log-price spread to the reference",
    ),
    (
        "rel_strength",
        "log return minus the reference's over the window",
    ),
];

/// The state of one (symbol, reference) pair.
#[derive(Clone, Debug)]
pub struct CrossPair {
    window: usize,
    unpaired: VecDeque<BarPoint>,
    pairs: VecDeque<(f64, f64, f64)>,
}

impl CrossPair {
    /// A pair whose statistics cover the last `window` paired bars.
    pub fn new(window: usize) -> Self {
        Self {
            window: window.max(2),
            unpaired: VecDeque::new(),
            pairs: VecDeque::new(),
        }
    }

    /// Takes the symbol's newly closed bar and the reference's recent bars (oldest first); writes
    /// the [`CROSS_FEATURES`] into `out`.
    pub fn update(&mut self, own: BarPoint, reference: &VecDeque<BarPoint>, out: &mut [f64]) {
        self.unpaired.push_back(own);
        if self.unpaired.len() > PAIRING_DEPTH {
            self.unpaired.pop_front();
        }
        let latest_reference = reference.back().map_or(i64::MIN, |p| p.open_time);
        while let Some(front) = self.unpaired.front().copied() {
            if let Some(r) = reference.iter().find(|r| r.open_time == front.open_time) {
                if front.log_return.is_finite() && r.log_return.is_finite() {
                    self.pairs.push_back((
                        front.log_return,
                        r.log_return,
                        front.log_price - r.log_price,
                    ));
                    if self.pairs.len() > self.window {
                        self.pairs.pop_front();
                    }
                }
                self.unpaired.pop_front();
            } else if latest_reference > front.open_time {
                self.unpaired.pop_front(); // the reference has no bar of that time
            } else {
                break; // the reference's bar of that time is not known yet
            }
        }
        if self.pairs.len() < self.window {
            out[..CROSS_FEATURES.len()].fill(f64::NAN);
            return;
        }
        let n = self.pairs.len() as f64;
        let (sx, sy, ss) = self
            .pairs
            .iter()
            .fold((0.0, 0.0, 0.0), |(a, b, c), (x, y, s)| {
                (a + x, b + y, c + s)
            });
        let (mx, my, ms) = (sx / n, sy / n, ss / n);
        let (mut cxy, mut cxx, mut cyy, mut css) = (0.0, 0.0, 0.0, 0.0);
        for (x, y, s) in &self.pairs {
            cxy += (x - mx) * (y - my);
            cxx += (x - mx) * (x - mx);
            cyy += (y - my) * (y - my);
            css += (s - ms) * (s - ms);
        }
        let last_spread = self.pairs.back().expect("window is full").2;
        out[0] = if cxx > 0.0 && cyy > 0.0 {
            cxy / (cxx * cyy).sqrt()
        } else {
            f64::NAN
        };
        out[1] = if cyy > 0.0 { cxy / cyy } else { f64::NAN };
        out[2] = if css > 0.0 {
            (last_spread - ms) / (css / n).sqrt()
        } else {
            0.0
        };
        out[3] = sx - sy;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: i64, r: f64, p: f64) -> BarPoint {
        BarPoint {
            open_time: t,
            log_return: r,
            log_price: p,
        }
    }

    #[test]
    fn pairs_by_open_time_and_waits_for_the_reference() {
        let mut pair = CrossPair::new(2);
        let mut reference = VecDeque::new();
        let mut out = [0.0; 4];
        reference.push_back(point(0, 0.01, 0.0));
        pair.update(point(0, 0.02, 1.0), &reference, &mut out);
        assert!(out[0].is_nan(), "one pair is not a window");
        // The symbol's bar 1 closes before the reference's: it waits.
        pair.update(point(1, -0.02, 0.98), &reference, &mut out);
        assert!(out[0].is_nan());
        reference.push_back(point(1, -0.01, -0.01));
        reference.push_back(point(2, 0.03, 0.02));
        pair.update(point(2, 0.06, 1.04), &reference, &mut out);
        // Pairs now: (-0.02, -0.01) and (0.06, 0.03): perfectly correlated, beta 2.
        assert!((out[0] - 1.0).abs() < 1e-12, "{out:?}");
        assert!((out[1] - 2.0).abs() < 1e-12, "{out:?}");
        assert!((out[3] - (0.04 - 0.02)).abs() < 1e-12);
    }
}
