//! The signal stage's own detectors, between the features and the strategies: [`trend`],
//! [`reversal`] and [`breakout`], configured by `[signals]` ([`config`]). After each closed bar
//! they read the feature engine (its values as of that bar: nothing later exists yet) and emit
//! signals marked with their source (`host:trend`, `host:reversal`, `host:breakout`) into the
//! per-bar path the strategies' own signals take: the signal optimizers, then the strategies.

pub mod breakout;
pub mod config;
pub mod reversal;
pub mod trend;

use crate::features::{FeatureConfig, FeatureEngine, WindowInput};
use crate::market::MarketData;
use crate::model::{Bar, Direction, Signal, SignalKind};
use config::SignalsConfig;
use std::sync::Arc;

/// A detector: given a closed bar and the features as of it, a signal or none.
pub trait Detector: Send {
    /// What kind of move its signals expect.
    fn kind(&self) -> SignalKind;
    /// Bars its signals are expected to hold.
    fn horizon_bars(&self) -> u32;
    /// The direction, strength (0..1) and confidence (0..1) of a signal at `bar`, if any.
    fn on_bar(&mut self, bar: &Bar, features: &FeatureEngine) -> Option<(Direction, f64, f64)>;
}

/// Resolves the detectors' feature names, remembering them so that every symbol computes them.
pub struct Inputs<'a> {
    features: &'a FeatureEngine,
    resolved: Vec<WindowInput>,
}

impl Inputs<'_> {
    /// `name`, the feature setting `key` names, or an error naming both.
    pub fn resolve(&mut self, key: &str, name: &str) -> Result<WindowInput, String> {
        let input = self
            .features
            .input(name)
            .map_err(|e| format!("signals.{key} = {name:?}: {e}"))?;
        self.resolved.push(input);
        Ok(input)
    }
}

/// `features` with the TA-Lib specs the detectors read that it does not compute added to its
/// `extra`: for `EMA_10`, `zscore_32:EMA_10` or `DONCHIAN_55.upperband`, the spec among the
/// name and its prefixes before a `.` whose outputs hold the name (`EMA_10`, `DONCHIAN_55`;
/// `BBANDS_20_2.5_2.5_0.upperband` keeps its decimals). A name no spec gives is left for
/// [`Detectors::new`] to refuse, naming its setting.
pub fn with_detector_features(
    features: &FeatureConfig,
    signals: &SignalsConfig,
) -> Result<FeatureConfig, String> {
    let probe = FeatureEngine::new(features.clone())?;
    let mut out = features.clone();
    for name in signals.features() {
        if probe.input(name).is_ok() {
            continue;
        }
        if let Some(spec) = spec_of(name)
            && !out.extra.contains(&spec)
        {
            out.extra.push(spec);
        }
    }
    Ok(out)
}

/// The TA-Lib spec whose outputs hold feature `name` (a `transform:` prefix left aside).
fn spec_of(name: &str) -> Option<String> {
    let feature = name.split_once(':').map_or(name, |(_, f)| f);
    let cuts = feature
        .match_indices('.')
        .map(|(i, _)| i)
        .chain([feature.len()]);
    cuts.filter_map(|end| stratbox_ta::Spec::parse(&feature[..end]).ok())
        .find(|spec| spec.column_names().iter().any(|c| c == feature))
        .map(|spec| spec.name())
}

/// The detectors `[signals]` runs.
#[derive(Default)]
pub struct Detectors {
    detectors: Vec<(Arc<str>, Box<dyn Detector>)>,
}

impl Detectors {
    /// The detectors `config` names, reading `market`'s features (which every symbol computes
    /// from now on); an unknown feature is an error naming the setting.
    pub fn new(config: &SignalsConfig, market: &mut MarketData) -> Result<Self, String> {
        config.validate()?;
        let mut inputs = Inputs {
            features: &market.features,
            resolved: Vec::new(),
        };
        let mut detectors: Vec<(Arc<str>, Box<dyn Detector>)> = Vec::new();
        if let Some(c) = &config.trend {
            let d = trend::Trend::new(c.clone(), &mut inputs)?;
            detectors.push(("host:trend".into(), Box::new(d)));
        }
        if let Some(c) = &config.reversal {
            let d = reversal::Reversal::new(c.clone(), &mut inputs)?;
            detectors.push(("host:reversal".into(), Box::new(d)));
        }
        if let Some(c) = &config.breakout {
            let d = breakout::Breakout::new(c.clone(), &mut inputs)?;
            detectors.push(("host:breakout".into(), Box::new(d)));
        }
        let resolved = inputs.resolved;
        market.require_everywhere(&resolved);
        Ok(Detectors { detectors })
    }

    /// Whether no detector runs.
    pub fn is_empty(&self) -> bool {
        self.detectors.is_empty()
    }

    /// The signals of every detector at `bar`, whose features `features` has just computed.
    pub fn on_bar(&mut self, bar: &Bar, features: &FeatureEngine) -> Vec<Signal> {
        let mut out = Vec::new();
        for (source, detector) in &mut self.detectors {
            let Some((direction, strength, confidence)) = detector.on_bar(bar, features) else {
                continue;
            };
            // A bar's non-finite value makes no signal, as a guest's is refused.
            if !(strength.is_finite() && confidence.is_finite()) {
                continue;
            }
            out.push(Signal {
                symbol: bar.symbol,
                time: bar.close_time(),
                direction,
                strength: strength.clamp(0.0, 1.0),
                confidence: confidence.clamp(0.0, 1.0),
                kind: detector.kind(),
                horizon_ms: u64::from(detector.horizon_bars()) * u64::from(bar.interval_ms),
                source: source.clone(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feature_names_the_spec_whose_outputs_hold_it() {
        assert_eq!(spec_of("EMA_10").as_deref(), Some("EMA_10"));
        assert_eq!(spec_of("zscore_32:EMA_10").as_deref(), Some("EMA_10"));
        assert_eq!(
            spec_of("DONCHIAN_55.upperband").as_deref(),
            Some("DONCHIAN_55")
        );
        let bands = spec_of("BBANDS_20_2.5_2.5_0.upperband").expect("a spec");
        assert!(bands.starts_with("BBANDS_20_2.5"), "{bands}");
        assert_eq!(spec_of("NOPE_10"), None);
        assert_eq!(spec_of("micro.spred"), None);
    }
}
