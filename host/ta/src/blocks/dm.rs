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
    #[inline]
    pub fn next(&mut self, high: f64, low: f64) -> Option<(f64, f64)> {
        let (prev_high, prev_low) = self.prev.replace((high, low))?;
        let up = high - prev_high;
        let down = prev_low - low;
        Some(if down > 0.0 && up < down {
            (0.0, down)
        } else if up > 0.0 && up > down {
            (up, 0.0)
        } else {
            (0.0, 0.0)
        })
    }
}
