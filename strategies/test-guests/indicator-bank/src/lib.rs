//! Updates twenty streaming indicators on every bar and submits nothing: the "real work" guest
//! of the dispatch benchmark. The same `Bank` runs natively in the benchmark for comparison.

use stratbox_guest::prelude::*;

/// Twenty indicators over closes, highs and lows.
pub struct Bank {
    smas: [Sma; 6],
    emas: [Ema; 6],
    stds: [RollingStd; 4],
    channels: [Donchian; 4],
    /// Sum of every output, so no update can be optimised away.
    pub checksum: f64,
}

impl Bank {
    /// The twenty indicators at periods 5 to 200.
    pub fn new() -> Self {
        Bank {
            smas: [5, 10, 20, 50, 100, 200].map(Sma::new),
            emas: [5, 10, 20, 50, 100, 200].map(Ema::new),
            stds: [10, 20, 50, 100].map(RollingStd::new),
            channels: [10, 20, 55, 100].map(Donchian::new),
            checksum: 0.0,
        }
    }

    /// Feeds one bar to all twenty.
    pub fn update(&mut self, high: f64, low: f64, close: f64) {
        let mut sum = 0.0;
        for s in &mut self.smas {
            sum += s.update(close).unwrap_or(0.0);
        }
        for e in &mut self.emas {
            sum += e.update(close).unwrap_or(0.0);
        }
        for d in &mut self.stds {
            sum += d.update(close).map_or(0.0, |(_, sd)| sd);
        }
        for c in &mut self.channels {
            sum += c.update(high, low).map_or(0.0, |(h, l)| h - l);
        }
        self.checksum += sum;
    }
}

impl Default for Bank {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(target_arch = "wasm32")]
struct BankStrategy(Bank);

#[cfg(target_arch = "wasm32")]
impl Strategy for BankStrategy {
    fn init(_config: &str) -> Result<Self, String> {
        Ok(BankStrategy(Bank::new()))
    }

    fn on_bar(&mut self, bar: &Bar) {
        self.0.update(bar.high, bar.low, bar.close);
    }
}

#[cfg(target_arch = "wasm32")]
export_strategy!(BankStrategy);
