//! The signal stage's own detectors, between the features and the strategies, configured by
//! `[signals]` ([`config`]): on one symbol's features [`trend`], [`reversal`], [`breakout`] and
//! [`squeeze`]; across symbols the arbitrage detectors [`pair`] (cointegrated spreads) and
//! [`triangle`] (cross rates against their legs); and [`model`], from the ensemble's
//! predictions. After each closed bar they read the market as of that bar (nothing later exists
//! yet) and emit signals marked with their source (`host:trend`, `host:pair:A/B`,
//! `model:v3`, ...) into the per-bar path the strategies' own signals take: the signal
//! optimizers, then the strategies.
//! Every signal on that path, whoever made it, is followed to its [`outcome`], and each
//! source's [`quality`] measured from the outcomes. Beside them, [`regime`] keeps each symbol's
//! volatility, trend and liquidity regimes.

pub mod breakout;
pub mod config;
pub mod model;
pub mod outcome;
pub mod pair;
pub mod per_symbol;
pub mod prefetch;
pub mod quality;
pub mod rank_window;
pub mod regime;
pub mod reversal;
pub mod shared;
pub mod squeeze;
pub mod trend;
pub mod triangle;

use crate::features::{FeatureConfig, FeatureEngine, WindowInput};
use crate::inference::PredictionEvent;
use crate::market::MarketData;
use crate::model::{Bar, Direction, Signal, SignalKind, SymbolId, TimestampMs};
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
    /// Requests `symbol`'s state from memory ahead of its bar (a hint: see [`prefetch`]).
    fn prefetch(&self, symbol: SymbolId);
    /// Requests what `symbol`'s state points to, its state itself requested before.
    fn prefetch_heap(&self, symbol: SymbolId);
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

/// The arbitrage signals of a cross-symbol detector: one per leg, each in its direction, all
/// of one strength, confidence, time, horizon and source.
pub(crate) fn leg_signals(
    legs: impl IntoIterator<Item = (SymbolId, Direction)>,
    time: TimestampMs,
    (strength, confidence): (f64, f64),
    horizon_ms: u64,
    source: &Arc<str>,
) -> Vec<Signal> {
    legs.into_iter()
        .map(|(symbol, direction)| Signal {
            symbol,
            time,
            direction,
            strength,
            confidence,
            kind: SignalKind::Arbitrage,
            horizon_ms,
            source: source.clone(),
        })
        .collect()
}

/// A cross-symbol detector, by its place in [`Detectors`].
#[derive(Clone, Copy, PartialEq)]
enum CrossSymbol {
    Pair(usize),
    Triangle(usize),
}

/// The detectors `[signals]` runs.
#[derive(Default)]
pub struct Detectors {
    detectors: Vec<(Arc<str>, Box<dyn Detector>)>,
    pairs: Vec<pair::Pair>,
    triangles: Vec<triangle::Triangle>,
    /// The cross-symbol detectors each symbol's bars go to (a bar touches only its own).
    routes: per_symbol::PerSymbol<Vec<CrossSymbol>>,
    /// Those with a symbol the market does not know yet.
    unrouted: Vec<CrossSymbol>,
    model: Option<model::ModelSignals>,
    regimes: Option<regime::Regimes>,
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
        if let Some(c) = &config.squeeze {
            let d = squeeze::Squeeze::new(c.clone(), &mut inputs)?;
            detectors.push(("host:squeeze".into(), Box::new(d)));
        }
        let regimes = match &config.regimes {
            Some(c) => Some(regime::Regimes::new(c.clone(), &mut inputs)?),
            None => None,
        };
        let resolved = inputs.resolved;
        market.require_everywhere(&resolved);
        let unrouted = (0..config.pair.len())
            .map(CrossSymbol::Pair)
            .chain((0..config.triangle.len()).map(CrossSymbol::Triangle))
            .collect();
        Ok(Detectors {
            regimes,
            detectors,
            routes: per_symbol::PerSymbol::default(),
            unrouted,
            pairs: config.pair.iter().cloned().map(pair::Pair::new).collect(),
            triangles: config
                .triangle
                .iter()
                .cloned()
                .map(triangle::Triangle::new)
                .collect(),
            model: config.model.clone().map(model::ModelSignals::new),
        })
    }

    /// Whether no detector runs.
    pub fn is_empty(&self) -> bool {
        self.detectors.is_empty()
            && self.pairs.is_empty()
            && self.triangles.is_empty()
            && self.model.is_none()
            && self.regimes.is_none()
    }

    /// The market regimes, when `[signals.regimes]` tracks them.
    pub fn regimes(&self) -> Option<&regime::Regimes> {
        self.regimes.as_ref()
    }

    /// The model detector's signal from `prediction`, made on bars of its symbol in `market`.
    pub fn on_prediction(
        &self,
        prediction: &PredictionEvent,
        market: &MarketData,
    ) -> Option<Signal> {
        let interval_ms = market.last_bar(prediction.symbol)?.interval_ms;
        self.model.as_ref()?.on_prediction(prediction, interval_ms)
    }

    /// Routes the bars of each cross-symbol detector whose symbols `market` now knows.
    fn route(&mut self, market: &MarketData) {
        let known = market.symbols();
        let (pairs, triangles) = (&mut self.pairs, &mut self.triangles);
        let routes = &mut self.routes;
        self.unrouted.retain(|detector| {
            let ids = match *detector {
                CrossSymbol::Pair(i) => pairs[i].bind(known),
                CrossSymbol::Triangle(i) => triangles[i].bind(known),
            };
            let Some(ids) = ids else {
                return true;
            };
            for id in ids {
                let to = routes.get_or_default(id);
                if !to.contains(detector) {
                    to.push(*detector);
                }
            }
            false
        });
    }

    /// Requests the state of `symbol`'s detectors from memory: called as its bar arrives,
    /// before the market takes it in, so that it is near when [`Detectors::on_bar`] runs.
    pub fn prefetch(&self, symbol: SymbolId) {
        for (_, detector) in &self.detectors {
            detector.prefetch(symbol);
        }
        if let Some(regimes) = &self.regimes {
            regimes.prefetch(symbol);
        }
    }

    /// The signals of every detector at `bar`, which `market` has just taken in.
    pub fn on_bar(&mut self, bar: &Bar, market: &MarketData) -> Vec<Signal> {
        // What the states point to, all requested at once before any is read.
        for (_, detector) in &self.detectors {
            detector.prefetch_heap(bar.symbol);
        }
        if let Some(regimes) = &self.regimes {
            regimes.prefetch_heap(bar.symbol);
        }
        if let Some(regimes) = &mut self.regimes {
            regimes.on_bar(bar, market);
        }
        if !self.unrouted.is_empty() {
            self.route(market);
        }
        let features = &market.features;
        let mut out = Vec::new();
        for route in self.routes.get(bar.symbol).into_iter().flatten() {
            out.extend(match *route {
                CrossSymbol::Pair(i) => self.pairs[i].on_bar(bar),
                CrossSymbol::Triangle(i) => self.triangles[i].on_bar(bar, market),
            });
        }
        for (source, detector) in &mut self.detectors {
            let Some((direction, strength, confidence)) = detector.on_bar(bar, features) else {
                continue;
            };
            out.push(Signal {
                symbol: bar.symbol,
                time: bar.close_time(),
                direction,
                strength,
                confidence,
                kind: detector.kind(),
                horizon_ms: u64::from(detector.horizon_bars()) * u64::from(bar.interval_ms),
                source: source.clone(),
            });
        }
        // A non-finite value makes no signal, as a guest's is refused.
        out.retain(|s| s.strength.is_finite() && s.confidence.is_finite());
        for s in &mut out {
            s.strength = s.strength.clamp(0.0, 1.0);
            s.confidence = s.confidence.clamp(0.0, 1.0);
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
