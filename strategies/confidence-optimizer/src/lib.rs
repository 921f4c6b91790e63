//! A signal optimizer: drops signals below a minimum strength, lowers confidence when the
//! market is volatile, and keeps only the strongest signal per symbol and direction. With the
//! host's measurements (contract 0.2.3's `conditions`) it can also drop the signals of a
//! source whose measured hit rate on that kind and symbol is surely below `min_hit_rate` (the
//! upper end of its 95 % interval is, once it has `min_outcomes` outcomes), and every signal
//! on a symbol in the high-volatility regime.
//! Config: `{"min_strength": 0.1, "volatility_scale": 100.0, "min_hit_rate": 0.0,
//! "min_outcomes": 20, "skip_high_volatility": false}`.

use stratbox_guest::prelude::*;

struct ConfidenceOptimizer {
    min_strength: f64,
    volatility_scale: f64,
    min_hit_rate: f64,
    min_outcomes: u32,
    skip_high_volatility: bool,
}

impl ConfidenceOptimizer {
    fn quality(&self, s: &Signal) -> f64 {
        (s.strength * s.confidence).sqrt()
    }

    /// Whether the host's measurements let `s` through.
    fn measured_well(&self, s: &Signal) -> bool {
        if self.min_hit_rate > 0.0
            && let Some(q) = conditions::signal_quality(&s.source, s.kind, s.symbol)
            && q.signals >= self.min_outcomes
            && q.hit_rate_high < self.min_hit_rate
        {
            return false;
        }
        !(self.skip_high_volatility
            && conditions::regime(s.symbol)
                .is_some_and(|r| r.volatility == conditions::VolatilityRegime::High))
    }
}

impl SignalOptimizer for ConfidenceOptimizer {
    fn init(cfg: &str) -> Result<Self, String> {
        let min_strength = config::number(cfg, "min_strength").unwrap_or(0.1);
        let volatility_scale = config::number(cfg, "volatility_scale").unwrap_or(100.0);
        if !(0.0..=1.0).contains(&min_strength) || !(volatility_scale >= 0.0) {
            return Err(format!(
                "need 0 <= min_strength <= 1 and volatility_scale >= 0; got {min_strength}, {volatility_scale}"
            ));
        }
        let min_hit_rate = config::number(cfg, "min_hit_rate").unwrap_or(0.0);
        let min_outcomes = config::number(cfg, "min_outcomes").unwrap_or(20.0);
        if !(0.0..=1.0).contains(&min_hit_rate) || !(min_outcomes >= 0.0) {
            return Err(format!(
                "need 0 <= min_hit_rate <= 1 and min_outcomes >= 0; got {min_hit_rate}, {min_outcomes}"
            ));
        }
        Ok(ConfidenceOptimizer {
            min_strength,
            volatility_scale,
            min_hit_rate,
            min_outcomes: min_outcomes as u32,
            skip_high_volatility: config::flag(cfg, "skip_high_volatility").unwrap_or(false),
        })
    }

    fn optimize(&mut self, signals: Vec<Signal>, conditions: &[MarketConditions]) -> Vec<Signal> {
        let mut best: Vec<Signal> = Vec::new();
        for mut s in signals
            .into_iter()
            .filter(|s| s.strength >= self.min_strength && self.measured_well(s))
        {
            if let Some(c) = conditions.iter().find(|c| c.symbol == s.symbol) {
                s.confidence /= 1.0 + c.volatility * self.volatility_scale;
            }
            match best
                .iter_mut()
                .find(|b| b.symbol == s.symbol && b.direction == s.direction)
            {
                Some(b) if self.quality(b) >= self.quality(&s) => {}
                Some(b) => *b = s,
                None => best.push(s),
            }
        }
        best
    }

    fn score(&mut self, signals: &[Signal]) -> Vec<f64> {
        signals.iter().map(|s| self.quality(s)).collect()
    }
}

export_optimizer!(ConfidenceOptimizer);
