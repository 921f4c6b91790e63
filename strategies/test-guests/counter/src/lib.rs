//! Counts bars in state: `count` (all versions), `v<N>` (this version, from config
//! `{"version": N}`), `last` (open time of the last bar) and `anomalies` (bars that were not
//! exactly one interval after the previous one: a lost or repeated event).

use stratbox_guest::prelude::*;

struct Counter {
    version: u64,
}

fn bump(key: &str) {
    let _ = state::set_u64(key, state::get_u64(key).unwrap_or(0) + 1);
}

impl Strategy for Counter {
    fn init(cfg: &str) -> Result<Self, String> {
        let version = config::number(cfg, "version").unwrap_or(1.0) as u64;
        if config::string(cfg, "fail").is_some() {
            return Err("init told to fail".into());
        }
        Ok(Counter { version })
    }

    fn on_bar(&mut self, bar: &Bar) {
        if let Some(last) = state::get_u64("last") {
            if bar.open_time as u64 != last + u64::from(bar.interval_ms) {
                bump("anomalies");
            }
        }
        let _ = state::set_u64("last", bar.open_time as u64);
        bump("count");
        bump(&format!("v{}", self.version));
    }
}

export_strategy!(Counter);
