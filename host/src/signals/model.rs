//! The model detector (`[signals.model]`): a signal from each ensemble prediction whose
//! calibrated probability of a move up (or down) reaches `min_probability` and whose expected
//! return points the same way by at least `min_expected_return`. Its source is the model
//! version (`model:v3`), so each version's signals are scored apart.
//!
//! A prediction of the bar's close made on the event loop (backtests) gives its signal with
//! the bar's other signals; one from the inference thread (the service) gives it when the
//! prediction is published. Either way the signal's time is when the prediction became known.
//!
//! Kind: `trend` (a directional forecast over the horizon; the contract's kinds have no other
//! fit). Strength: the winning class's probability minus the losing one's. Confidence: the
//! winning class's probability.

use super::config::ModelConfig;
use crate::inference::PredictionEvent;
use crate::model::{Direction, Signal, SignalKind};
use stratbox_learn::labels::{DOWN, UP};

/// The model detector.
pub struct ModelSignals {
    config: ModelConfig,
}

impl ModelSignals {
    /// The detector `config` describes.
    pub fn new(config: ModelConfig) -> Self {
        ModelSignals { config }
    }

    /// The signal `prediction` gives, on bars of `interval_ms`, if any.
    pub fn on_prediction(&self, p: &PredictionEvent, interval_ms: u32) -> Option<Signal> {
        let c = &self.config;
        let (up, down) = (*p.probabilities.get(UP)?, *p.probabilities.get(DOWN)?);
        if !(up.is_finite() && down.is_finite() && p.expected_return.is_finite()) {
            return None;
        }
        let (direction, win, lose) =
            if up >= c.min_probability && up > down && p.expected_return >= c.min_expected_return {
                (Direction::Long, up, down)
            } else if down >= c.min_probability
                && down > up
                && -p.expected_return >= c.min_expected_return
            {
                (Direction::Short, down, up)
            } else {
                return None;
            };
        Some(Signal {
            symbol: p.symbol,
            time: p.known_at.max(p.as_of),
            direction,
            strength: (win - lose).clamp(0.0, 1.0),
            confidence: win.clamp(0.0, 1.0),
            kind: SignalKind::Trend,
            horizon_ms: u64::from(c.horizon_bars) * u64::from(interval_ms),
            source: format!("model:v{}", p.version).into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prediction(probabilities: [f64; 3], expected_return: f64) -> PredictionEvent {
        PredictionEvent {
            symbol: 0,
            as_of: 60_000,
            known_at: 60_000,
            version: 3,
            probabilities: probabilities.to_vec(),
            expected_return,
            confidence: 0.5,
            members: Vec::new(),
        }
    }

    #[test]
    fn a_confident_prediction_is_a_signal_of_its_version() {
        let d = ModelSignals::new(ModelConfig::default());
        let s = d
            .on_prediction(&prediction([0.1, 0.3, 0.6], 0.002), 60_000)
            .unwrap();
        assert_eq!(s.direction, Direction::Long);
        assert!((s.strength - 0.5).abs() < 1e-12 && (s.confidence - 0.6).abs() < 1e-12);
        assert_eq!(&*s.source, "model:v3");
        assert_eq!(s.horizon_ms, 10 * 60_000);
        let short = d
            .on_prediction(&prediction([0.7, 0.2, 0.1], -0.003), 60_000)
            .unwrap();
        assert_eq!(short.direction, Direction::Short);
        // Not sure enough, or the expected return disagrees.
        assert!(
            d.on_prediction(&prediction([0.3, 0.3, 0.4], 0.001), 60_000)
                .is_none()
        );
        assert!(
            d.on_prediction(&prediction([0.1, 0.3, 0.6], -0.001), 60_000)
                .is_none()
        );
        assert!(
            d.on_prediction(&prediction([0.1, 0.3, f64::NAN], 0.1), 60_000)
                .is_none()
        );
    }
}
