//! Reads RSI_14, both outer Bollinger bands and ATR_14 of the bar's symbol from the host on every
//! bar and keeps their sum, so the reads cannot be skipped: what strategies that use the host's
//! feature engine cost per event.

use stratbox_guest::prelude::*;

const FEATURES: [&str; 4] = [
    "RSI_14",
    "BBANDS_20_2_2_0.upperband",
    "BBANDS_20_2_2_0.lowerband",
    "ATR_14",
];

struct FeatureReader {
    total: f64,
}

impl Strategy for FeatureReader {
    fn init(_config: &str) -> Result<Self, String> {
        Ok(FeatureReader { total: 0.0 })
    }

    fn on_bar(&mut self, bar: &Bar) {
        for name in FEATURES {
            match market::feature(bar.symbol, name) {
                Ok(value) => self.total += value.unwrap_or(0.0),
                Err(e) => log::error(&e),
            }
        }
    }
}

export_strategy!(FeatureReader);
