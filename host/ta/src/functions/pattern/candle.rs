//! One candle's open, high, low and close, and the measures TA-Lib's patterns take of it.

use crate::bar::Bar;

/// A candle as the patterns see it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Candle {
    /// Opening price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Closing price.
    pub close: f64,
}

impl From<&Bar> for Candle {
    fn from(bar: &Bar) -> Self {
        Self {
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
        }
    }
}

impl Candle {
    /// Length of the real body, `|close - open|`.
    #[inline]
    pub fn body(&self) -> f64 {
        (self.close - self.open).abs()
    }

    /// `high - low`.
    #[inline]
    pub fn high_low(&self) -> f64 {
        self.high - self.low
    }

    /// True for a white (rising or unchanged) candle: `close >= open`.
    #[inline]
    pub fn white(&self) -> bool {
        self.close >= self.open
    }

    /// True for a black candle: `close < open`.
    #[inline]
    pub fn black(&self) -> bool {
        !self.white()
    }

    /// TA-Lib's candle colour: 1 when white, -1 when black.
    #[inline]
    pub fn color(&self) -> i32 {
        if self.white() { 1 } else { -1 }
    }

    /// Top of the real body.
    #[inline]
    pub fn body_top(&self) -> f64 {
        if self.white() { self.close } else { self.open }
    }

    /// Bottom of the real body.
    #[inline]
    pub fn body_bottom(&self) -> f64 {
        if self.white() { self.open } else { self.close }
    }

    /// `high` minus the top of the real body.
    #[inline]
    pub fn upper_shadow(&self) -> f64 {
        self.high - self.body_top()
    }

    /// The bottom of the real body minus `low`.
    #[inline]
    pub fn lower_shadow(&self) -> f64 {
        self.body_bottom() - self.low
    }

    /// True when this candle's real body lies wholly above `prior`'s (`TA_REALBODYGAPUP`).
    #[inline]
    pub fn body_gap_up(&self, prior: &Candle) -> bool {
        self.open.min(self.close) > prior.open.max(prior.close)
    }

    /// True when this candle's real body lies wholly below `prior`'s (`TA_REALBODYGAPDOWN`).
    #[inline]
    pub fn body_gap_down(&self, prior: &Candle) -> bool {
        self.open.max(self.close) < prior.open.min(prior.close)
    }

    /// True when this candle's low is above `prior`'s high (`TA_CANDLEGAPUP`).
    #[inline]
    pub fn gap_up(&self, prior: &Candle) -> bool {
        self.low > prior.high
    }

    /// True when this candle's high is below `prior`'s low (`TA_CANDLEGAPDOWN`).
    #[inline]
    pub fn gap_down(&self, prior: &Candle) -> bool {
        self.high < prior.low
    }
}
