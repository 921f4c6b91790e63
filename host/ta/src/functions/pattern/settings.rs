//! TA-Lib's candle settings with the defaults TA-Lib 0.8 installs: what "long", "short", "doji",
//! "near" and so on mean, each as a factor of an average range over the preceding candles.

use super::candle::Candle;

/// Which range of a candle a setting measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RangeType {
    /// `|close - open|`.
    RealBody,
    /// `high - low`.
    HighLow,
    /// Upper plus lower shadow; averages of it are halved (one shadow's worth).
    Shadows,
}

/// One candle setting: the range it averages, over how many preceding candles, times what.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Setting {
    /// The range measured.
    pub range: RangeType,
    /// Number of preceding candles averaged; 0 means "the candle's own range".
    pub period: usize,
    /// Multiplier of the average.
    pub factor: f64,
}

impl Setting {
    /// This setting's range of `candle` (TA-Lib's `TA_CANDLERANGE`).
    #[inline]
    pub fn range_of(&self, candle: &Candle) -> f64 {
        match self.range {
            RangeType::RealBody => candle.body(),
            RangeType::HighLow => candle.high_low(),
            RangeType::Shadows => candle.upper_shadow() + candle.lower_shadow(),
        }
    }

    /// The threshold for `candle` given the running `total` of the preceding ranges
    /// (TA-Lib's `TA_CANDLEAVERAGE`, same operations in the same order).
    #[inline]
    pub fn average(&self, total: f64, candle: &Candle) -> f64 {
        let mean = if self.period != 0 {
            total / self.period as f64
        } else {
            self.range_of(candle)
        };
        let halve = if self.range == RangeType::Shadows {
            2.0
        } else {
            1.0
        };
        self.factor * mean / halve
    }
}

const fn setting(range: RangeType, period: usize, factor: f64) -> Setting {
    Setting {
        range,
        period,
        factor,
    }
}

/// A long real body: longer than the average body of the last 10 candles.
pub(crate) const BODY_LONG: Setting = setting(RangeType::RealBody, 10, 1.0);
/// A short real body: shorter than the average body of the last 10 candles.
pub(crate) const BODY_SHORT: Setting = setting(RangeType::RealBody, 10, 1.0);
/// A doji body: at most a tenth of the average high-low range of the last 10 candles.
pub(crate) const BODY_DOJI: Setting = setting(RangeType::HighLow, 10, 0.1);
/// A long shadow: longer than the candle's own real body.
pub(crate) const SHADOW_LONG: Setting = setting(RangeType::RealBody, 0, 1.0);
/// A very long shadow: twice the candle's own real body.
pub(crate) const SHADOW_VERY_LONG: Setting = setting(RangeType::RealBody, 0, 2.0);
/// A short shadow: shorter than the average shadow of the last 10 candles.
pub(crate) const SHADOW_SHORT: Setting = setting(RangeType::Shadows, 10, 1.0);
/// A very short shadow: a tenth of the average high-low range of the last 10 candles.
pub(crate) const SHADOW_VERY_SHORT: Setting = setting(RangeType::HighLow, 10, 0.1);
/// "Near": a fifth of the average high-low range of the last 5 candles.
pub(crate) const NEAR: Setting = setting(RangeType::HighLow, 5, 0.2);
/// "Far": six tenths of the average high-low range of the last 5 candles.
pub(crate) const FAR: Setting = setting(RangeType::HighLow, 5, 0.6);
/// "Equal": five hundredths of the average high-low range of the last 5 candles.
pub(crate) const EQUAL: Setting = setting(RangeType::HighLow, 5, 0.05);
