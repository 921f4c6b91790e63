//! TA-Lib's true range: a bar's range widened to reach the previous close.

/// The true range of a bar given the previous close, compared in TA-Lib's order: `high - low`,
/// then `|prev_close - high|`, then `|prev_close - low|`, each replacing the greatest so far only
/// when strictly greater.
#[inline]
pub fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut greatest = high - low;
    let to_high = (prev_close - high).abs();
    if to_high > greatest {
        greatest = to_high;
    }
    let to_low = (prev_close - low).abs();
    if to_low > greatest {
        greatest = to_low;
    }
    greatest
}

/// The true range of each bar after the first, remembering the previous close.
#[derive(Clone, Debug, Default)]
pub struct TrueRange {
    prev_close: Option<f64>,
}

impl TrueRange {
    /// A true range that has seen no bar.
    pub fn new() -> Self {
        Self::default()
    }

    /// A true range whose previous bar closed at `close`.
    pub fn after(close: f64) -> Self {
        Self {
            prev_close: Some(close),
        }
    }

    /// Consumes one bar; `None` for the first one, which has no previous close.
    #[inline(always)]
    pub fn next(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let prev = self.prev_close.replace(close)?;
        Some(true_range(high, low, prev))
    }
}
