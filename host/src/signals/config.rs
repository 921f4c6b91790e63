//! The `[signals]` section: which host detectors run, each with its parameters. A detector
//! runs when its table is present (`[signals.trend]`, even empty, runs the trend detector with
//! the defaults below).

use serde::Deserialize;

/// The host's detectors.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalsConfig {
    /// Moving-average crossovers confirmed by a trend-strength regime.
    pub trend: Option<TrendConfig>,
    /// Oscillator and band extremes, with price/oscillator divergence.
    pub reversal: Option<ReversalConfig>,
    /// Channel breaks confirmed by volume.
    pub breakout: Option<BreakoutConfig>,
}

/// `[signals.trend]`: the fast average crossing the slow one, while the ADX says the market
/// trends and the slow average's slope agrees.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrendConfig {
    /// The fast moving average (a feature name).
    pub fast: String,
    /// The slow moving average.
    pub slow: String,
    /// The trend-strength feature (ADX).
    pub adx: String,
    /// The volatility the slow average's move is measured in (ATR).
    pub atr: String,
    /// No signal while the ADX is below this (a ranging market).
    pub adx_min: f64,
    /// Bars over which the slow average's slope must point the signal's way.
    pub slope_bars: usize,
    /// Bars the signal is expected to hold.
    pub horizon_bars: u32,
}

impl Default for TrendConfig {
    fn default() -> Self {
        TrendConfig {
            fast: "EMA_10".into(),
            slow: "EMA_30".into(),
            adx: "ADX_14".into(),
            atr: "ATR_14".into(),
            adx_min: 20.0,
            slope_bars: 5,
            horizon_bars: 20,
        }
    }
}

/// `[signals.reversal]`: the close beyond a Bollinger band while the RSI is at an extreme;
/// more confident with a divergence (a new price extreme the RSI does not confirm).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReversalConfig {
    /// The oscillator (RSI).
    pub rsi: String,
    /// Long below this RSI (with the close under the lower band).
    pub oversold: f64,
    /// Short above this RSI (with the close over the upper band).
    pub overbought: f64,
    /// The upper band.
    pub upper: String,
    /// The lower band.
    pub lower: String,
    /// Bars a divergence is looked for over.
    pub divergence_bars: usize,
    /// Bars the signal is expected to hold.
    pub horizon_bars: u32,
}

impl Default for ReversalConfig {
    fn default() -> Self {
        ReversalConfig {
            rsi: "RSI_14".into(),
            oversold: 30.0,
            overbought: 70.0,
            upper: "BBANDS_20_2_2_0.upperband".into(),
            lower: "BBANDS_20_2_2_0.lowerband".into(),
            divergence_bars: 14,
            horizon_bars: 10,
        }
    }
}

/// `[signals.breakout]`: the close through the previous bar's channel on volume well above
/// its recent mean.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakoutConfig {
    /// The channel's upper line (Donchian).
    pub upper: String,
    /// Its lower line.
    pub lower: String,
    /// Bars of the volume mean the bar's volume is set against (before the bar).
    pub volume_bars: usize,
    /// The bar's volume must be at least this multiple of that mean.
    pub volume_ratio: f64,
    /// Bars the signal is expected to hold.
    pub horizon_bars: u32,
}

impl Default for BreakoutConfig {
    fn default() -> Self {
        BreakoutConfig {
            upper: "DONCHIAN_20.upperband".into(),
            lower: "DONCHIAN_20.lowerband".into(),
            volume_bars: 20,
            volume_ratio: 1.5,
            horizon_bars: 20,
        }
    }
}

impl SignalsConfig {
    /// Why the parameters cannot work, if they cannot.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(t) = &self.trend {
            if !(t.adx_min.is_finite() && t.adx_min >= 0.0) {
                return Err(format!("trend.adx_min = {}: give 0 or more", t.adx_min));
            }
            if t.slope_bars == 0 || t.horizon_bars == 0 {
                return Err("trend: slope_bars and horizon_bars must be at least 1".into());
            }
        }
        if let Some(r) = &self.reversal {
            if !(0.0..=100.0).contains(&r.oversold)
                || !(0.0..=100.0).contains(&r.overbought)
                || r.oversold >= r.overbought
            {
                return Err(format!(
                    "reversal: oversold {} and overbought {} must lie in 0..100, oversold below",
                    r.oversold, r.overbought
                ));
            }
            if r.divergence_bars < 2 || r.horizon_bars == 0 {
                return Err(
                    "reversal: divergence_bars must be at least 2 and horizon_bars at least 1"
                        .into(),
                );
            }
        }
        if let Some(b) = &self.breakout {
            if b.volume_bars == 0 || b.horizon_bars == 0 {
                return Err("breakout: volume_bars and horizon_bars must be at least 1".into());
            }
            if !(b.volume_ratio.is_finite() && b.volume_ratio >= 0.0) {
                return Err(format!(
                    "breakout.volume_ratio = {}: give 0 or more",
                    b.volume_ratio
                ));
            }
        }
        Ok(())
    }

    /// Every feature the detectors read.
    pub fn features(&self) -> Vec<&str> {
        let mut names = Vec::new();
        if let Some(t) = &self.trend {
            names.extend([
                t.fast.as_str(),
                t.slow.as_str(),
                t.adx.as_str(),
                t.atr.as_str(),
            ]);
        }
        if let Some(r) = &self.reversal {
            names.extend([r.rsi.as_str(), r.upper.as_str(), r.lower.as_str()]);
        }
        if let Some(b) = &self.breakout {
            names.extend([b.upper.as_str(), b.lower.as_str()]);
        }
        names
    }
}
