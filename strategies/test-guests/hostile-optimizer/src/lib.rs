//! Returns `{"returns": N}` copies of the first signal it is given, however few it was given.

use stratbox_guest::prelude::*;

struct Flood {
    returns: usize,
}

impl SignalOptimizer for Flood {
    fn init(cfg: &str) -> Result<Self, String> {
        Ok(Flood {
            returns: config::number(cfg, "returns").unwrap_or(10_000_000.0) as usize,
        })
    }

    fn optimize(&mut self, signals: Vec<Signal>, _conditions: &[MarketConditions]) -> Vec<Signal> {
        let Some(first) = signals.into_iter().next() else {
            return Vec::new();
        };
        vec![first; self.returns]
    }

    fn score(&mut self, signals: &[Signal]) -> Vec<f64> {
        vec![0.5; signals.len()]
    }
}

export_optimizer!(Flood);
