//! A signal optimizer: drops signals below a minimum strength, lowers confidence when the
//! market is volatile, and keeps only the strongest signal per symbol and direction.
//! Config: `{"min_strength": 0.1, "volatility_scale": 100.0}`.

use stratbox_guest::prelude::*;

struct ConfidenceOptimizer {
    min_strength: f64,
    volatility_scale: f64,
}

impl ConfidenceOptimizer {
    fn quality(&self, s: &Signal) -> f64 {
        (s.strength * s.confidence).sqrt()
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
        Ok(ConfidenceOptimizer {
            min_strength,
            volatility_scale,
        })
    }

    fn optimize(&mut self, signals: Vec<Signal>, conditions: &[MarketConditions]) -> Vec<Signal> {
        let mut best: Vec<Signal> = Vec::new();
        for mut s in signals
            .into_iter()
            .filter(|s| s.strength >= self.min_strength)
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
