//! One-bar directional movement (+DM1 and -DM1) as TA-Lib classifies it.

/// The part of each bar's range outside the previous bar's range, upwards and downwards.
#[derive(Clone, Debug, Default)]
pub struct DirectionalMovement {
    prev: Option<(f64, f64)>,
}

impl DirectionalMovement {
    /// A directional movement that has seen no bar.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes one bar's high and low; `(plus, minus)` from the second bar on. At most one of
    /// them is non-zero: the larger of the two moves, when it is positive (a tie gives neither).
    #[inline(always)]
    pub fn next(&mut self, high: f64, low: f64) -> Option<(f64, f64)> {
        let (prev_high, prev_low) = self.prev.replace((high, low))?;
        let up = high - prev_high;
        let down = prev_low - low;
        // The two conditions exclude each other; each side is picked on its own, without a
        // branch, since which side wins is as good as random from bar to bar.
        let minus = if (down > 0.0) & (up < down) {
            down
        } else {
            0.0
        };
        let plus = if (up > 0.0) & (up > down) { up } else { 0.0 };
        Some((plus, minus))
    }
}
