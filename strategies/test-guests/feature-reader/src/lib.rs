//! Reads RSI_14, both outer Bollinger bands and ATR_14 of the bar's symbol from the host on every
//! bar and keeps their sum, so the reads cannot be skipped: what strategies that use the host's
//! feature engine cost per event. By default it reads by handle, resolved once in `init`; with
//! `{"read": "name"}` it passes each feature's name on every read, with `{"read": "batch"}` it
//! reads all four in one call. With `{"report": true}` it stores the running sum in state under
//! `total` after every bar (for tests; the benchmark leaves it off).

use stratbox_guest::prelude::*;
use stratbox_guest::read_features;

const FEATURES: [&str; 4] = [
    "RSI_14",
    "BBANDS_20_2_2_0.upperband",
    "BBANDS_20_2_2_0.lowerband",
    "ATR_14",
];

enum Read {
    Name,
    Handle([Feature; 4]),
    Batch([Feature; 4]),
}

struct FeatureReader {
    read: Read,
    report: bool,
    total: f64,
}

impl Strategy for FeatureReader {
    fn init(cfg: &str) -> Result<Self, String> {
        let handles = || -> Result<[Feature; 4], String> {
            Ok([
                Feature::new(FEATURES[0])?,
                Feature::new(FEATURES[1])?,
                Feature::new(FEATURES[2])?,
                Feature::new(FEATURES[3])?,
            ])
        };
        let read = match config::string(cfg, "read").as_deref() {
            None | Some("handle") => Read::Handle(handles()?),
            Some("batch") => Read::Batch(handles()?),
            Some("name") => Read::Name,
            Some(other) => return Err(format!("read must be handle, batch or name, not {other}")),
        };
        let report = config::flag(cfg, "report").unwrap_or(false);
        Ok(FeatureReader {
            read,
            report,
            total: 0.0,
        })
    }

    fn on_bar(&mut self, bar: &Bar) {
        match &self.read {
            Read::Name => {
                for name in FEATURES {
                    match market::feature(bar.symbol, name) {
                        Ok(value) => self.total += value.unwrap_or(0.0),
                        Err(e) => log::error(&e),
                    }
                }
            }
            Read::Handle(features) => {
                for f in features {
                    self.total += f.read(bar.symbol).unwrap_or(0.0);
                }
            }
            Read::Batch(features) => {
                for value in read_features(bar.symbol, features) {
                    self.total += value.unwrap_or(0.0);
                }
            }
        }
        if self.report {
            let _ = state::set_f64("total", self.total);
        }
    }
}

export_strategy!(FeatureReader);
