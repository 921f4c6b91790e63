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
    /// Breakouts from contracted Bollinger bands, confirmed by volume.
    pub squeeze: Option<SqueezeConfig>,
    /// The ensemble's confident predictions.
    pub model: Option<ModelConfig>,
    /// Cointegrated pairs whose spread has stretched (`[[signals.pair]]`, one per pair).
    pub pair: Vec<PairConfig>,
    /// Cross rates out of line with their legs net of fees (`[[signals.triangle]]`).
    pub triangle: Vec<TriangleConfig>,
    /// Each symbol's volatility, trend and liquidity regimes.
    pub regimes: Option<RegimeConfig>,
}

/// `[signals.regimes]`: volatility by quantiles of realised volatility, trend by ADX and
/// slope, liquidity from the book.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegimeConfig {
    /// Log returns the realised volatility is measured over.
    pub vol_window: usize,
    /// Realised volatilities it is ranked among.
    pub vol_history: usize,
    /// At or below this rank: low volatility.
    pub low_quantile: f64,
    /// Above this rank: high volatility.
    pub high_quantile: f64,
    /// A volatility regime is left only when the rank is this far back inside its line.
    pub hysteresis: f64,
    /// The trend-strength feature (ADX).
    pub adx: String,
    /// Trending at or above this ADX.
    pub trend_adx: f64,
    /// Ranging below this ADX (between the two, the regime stays).
    pub range_adx: f64,
    /// Bars the slope (log return) is measured over.
    pub slope_bars: usize,
    /// Depth counts the book within this many basis points of the mid.
    pub depth_bps: f64,
    /// Impact is that of taking this much of the quote asset.
    pub impact_quote: f64,
}

impl Default for RegimeConfig {
    fn default() -> Self {
        RegimeConfig {
            vol_window: 20,
            vol_history: 1_000,
            low_quantile: 1.0 / 3.0,
            high_quantile: 2.0 / 3.0,
            hysteresis: 0.05,
            adx: "ADX_14".into(),
            trend_adx: 25.0,
            range_adx: 20.0,
            slope_bars: 20,
            depth_bps: 10.0,
            impact_quote: 10_000.0,
        }
    }
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

/// `[signals.squeeze]`: after a bar whose Bollinger bandwidth ranks in the lowest `quantile`
/// of the last `lookback` bars', a close beyond that bar's band on volume.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqueezeConfig {
    /// The upper band.
    pub upper: String,
    /// The middle band (the average the width is measured against).
    pub middle: String,
    /// The lower band.
    pub lower: String,
    /// Bars of bandwidth history the contraction is ranked in.
    pub lookback: usize,
    /// Contracted when the bandwidth ranks in this lowest share of the lookback.
    pub quantile: f64,
    /// Bars of the volume mean the bar's volume is set against (before the bar).
    pub volume_bars: usize,
    /// The bar's volume must be at least this multiple of that mean.
    pub volume_ratio: f64,
    /// Bars the signal is expected to hold.
    pub horizon_bars: u32,
}

impl Default for SqueezeConfig {
    fn default() -> Self {
        SqueezeConfig {
            upper: "BBANDS_20_2_2_0.upperband".into(),
            middle: "BBANDS_20_2_2_0.middleband".into(),
            lower: "BBANDS_20_2_2_0.lowerband".into(),
            lookback: 120,
            quantile: 0.2,
            volume_bars: 20,
            volume_ratio: 1.2,
            horizon_bars: 20,
        }
    }
}

/// `[signals.model]`: a signal from each ensemble prediction sure enough of a move.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// The up (or down) class's probability must reach this.
    pub min_probability: f64,
    /// The expected return must point the same way by at least this (a fraction).
    pub min_expected_return: f64,
    /// Bars the signal is expected to hold (the models' label horizon).
    pub horizon_bars: u32,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            min_probability: 0.5,
            min_expected_return: 0.0,
            horizon_bars: 10,
        }
    }
}

/// `[[signals.pair]]`: two symbols whose log prices are cointegrated; a signal when their
/// spread's z-score crosses `entry_z` while the Engle-Granger p-value is at most
/// `max_p_value`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairConfig {
    /// The two symbols, `a` then `b` (`ln a = alpha + beta ln b`).
    pub symbols: [String; 2],
    /// Bars both closed that the regression and test read.
    #[serde(default = "PairConfig::default_window")]
    pub window: usize,
    /// Bars between re-estimates of the hedge ratio and test.
    #[serde(default = "PairConfig::default_refit_bars")]
    pub refit_bars: usize,
    /// Signals only while the test's p-value is at most this.
    #[serde(default = "PairConfig::default_max_p_value")]
    pub max_p_value: f64,
    /// The spread's z-score that makes a signal.
    #[serde(default = "PairConfig::default_entry_z")]
    pub entry_z: f64,
    /// Bars the signal is expected to hold.
    #[serde(default = "PairConfig::default_horizon_bars")]
    pub horizon_bars: u32,
}

impl PairConfig {
    fn default_window() -> usize {
        500
    }
    fn default_refit_bars() -> usize {
        50
    }
    fn default_max_p_value() -> f64 {
        0.05
    }
    fn default_entry_z() -> f64 {
        2.0
    }
    fn default_horizon_bars() -> u32 {
        20
    }
}

/// `[[signals.triangle]]`: a cross (ETHBTC) and its two legs against a third asset
/// (`base` = ETHUSDT, `quote` = BTCUSDT); a signal when a loop through the three returns
/// more than `min_edge` after `taker_fee` on each leg.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriangleConfig {
    /// The cross rate, base asset in quote asset (ETHBTC).
    pub cross: String,
    /// The cross's base asset against the third (ETHUSDT).
    pub base: String,
    /// The cross's quote asset against the third (BTCUSDT).
    pub quote: String,
    /// Taker fee of each leg, a fraction.
    #[serde(default = "TriangleConfig::default_taker_fee")]
    pub taker_fee: f64,
    /// A loop must return more than this after fees.
    #[serde(default)]
    pub min_edge: f64,
    /// The edge that counts as full strength.
    #[serde(default = "TriangleConfig::default_full_edge")]
    pub full_edge: f64,
    /// The three prices may be at most this far apart in time.
    #[serde(default = "TriangleConfig::default_max_age_ms")]
    pub max_age_ms: i64,
    /// Bars the signal is expected to hold.
    #[serde(default = "TriangleConfig::default_horizon_bars")]
    pub horizon_bars: u32,
}

impl TriangleConfig {
    fn default_taker_fee() -> f64 {
        0.001
    }
    fn default_full_edge() -> f64 {
        0.005
    }
    fn default_max_age_ms() -> i64 {
        60_000
    }
    fn default_horizon_bars() -> u32 {
        1
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
        if let Some(q) = &self.squeeze {
            if q.lookback < 2 || q.volume_bars == 0 || q.horizon_bars == 0 {
                return Err(
                    "squeeze: lookback must be at least 2, volume_bars and horizon_bars at least 1"
                        .into(),
                );
            }
            if !(q.quantile > 0.0 && q.quantile <= 1.0) {
                return Err(format!(
                    "squeeze.quantile = {}: give 0 < q <= 1",
                    q.quantile
                ));
            }
            if !(q.volume_ratio.is_finite() && q.volume_ratio >= 0.0) {
                return Err(format!(
                    "squeeze.volume_ratio = {}: give 0 or more",
                    q.volume_ratio
                ));
            }
        }
        if let Some(m) = &self.model {
            if !(0.0..=1.0).contains(&m.min_probability) {
                return Err(format!(
                    "model.min_probability = {}: give 0 to 1",
                    m.min_probability
                ));
            }
            if !(m.min_expected_return.is_finite() && m.min_expected_return >= 0.0) {
                return Err(format!(
                    "model.min_expected_return = {}: give 0 or more",
                    m.min_expected_return
                ));
            }
            if m.horizon_bars == 0 {
                return Err("model.horizon_bars must be at least 1".into());
            }
        }
        for p in &self.pair {
            let name = format!("pair {}/{}", p.symbols[0], p.symbols[1]);
            if p.symbols[0] == p.symbols[1] {
                return Err(format!("{name}: two different symbols are needed"));
            }
            if p.window < 30 || p.refit_bars == 0 || p.horizon_bars == 0 {
                return Err(format!(
                    "{name}: window must be at least 30, refit_bars and horizon_bars at least 1"
                ));
            }
            if !(p.max_p_value > 0.0 && p.max_p_value <= 1.0) {
                return Err(format!(
                    "{name}: max_p_value = {}: give 0 < p <= 1",
                    p.max_p_value
                ));
            }
            if !(p.entry_z.is_finite() && p.entry_z > 0.0) {
                return Err(format!("{name}: entry_z = {}: give more than 0", p.entry_z));
            }
        }
        if let Some(r) = &self.regimes {
            if r.vol_window < 2 || r.vol_history == 0 || r.slope_bars == 0 {
                return Err(
                    "regimes: vol_window must be at least 2, vol_history and slope_bars at least 1"
                        .into(),
                );
            }
            if !(0.0 <= r.low_quantile
                && r.low_quantile <= r.high_quantile
                && r.high_quantile <= 1.0)
            {
                return Err(format!(
                    "regimes: low_quantile {} and high_quantile {} must lie in 0..1, low first",
                    r.low_quantile, r.high_quantile
                ));
            }
            if !(0.0..0.5).contains(&r.hysteresis) {
                return Err(format!(
                    "regimes.hysteresis = {}: give 0 to below 0.5",
                    r.hysteresis
                ));
            }
            if !(r.range_adx.is_finite() && r.trend_adx.is_finite() && r.range_adx <= r.trend_adx) {
                return Err(format!(
                    "regimes: range_adx {} must be at most trend_adx {}",
                    r.range_adx, r.trend_adx
                ));
            }
            if !(r.depth_bps > 0.0 && r.impact_quote > 0.0 && r.impact_quote < 1e9) {
                return Err(
                    "regimes: depth_bps must be above 0, impact_quote above 0 and below 1e9".into(),
                );
            }
        }
        for t in &self.triangle {
            let name = format!("triangle {}/{}/{}", t.cross, t.base, t.quote);
            if t.cross == t.base || t.cross == t.quote || t.base == t.quote {
                return Err(format!("{name}: three different symbols are needed"));
            }
            if !(0.0..0.1).contains(&t.taker_fee) {
                return Err(format!(
                    "{name}: taker_fee = {}: give 0 to 0.1",
                    t.taker_fee
                ));
            }
            if !(t.min_edge.is_finite() && t.min_edge >= 0.0 && t.full_edge > 0.0) {
                return Err(format!(
                    "{name}: min_edge must be 0 or more and full_edge more than 0"
                ));
            }
            if t.max_age_ms < 0 || t.horizon_bars == 0 {
                return Err(format!(
                    "{name}: max_age_ms must be 0 or more and horizon_bars at least 1"
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
        if let Some(q) = &self.squeeze {
            names.extend([q.upper.as_str(), q.middle.as_str(), q.lower.as_str()]);
        }
        if let Some(r) = &self.regimes {
            names.push(r.adx.as_str());
        }
        names
    }
}
