//! Bollinger mean reversion: buy `quantity` when the close falls below the lower band, sell it
//! back when the close returns to the middle band. Emits a reversal signal on each entry.
//! Config: `{"period": 20, "width": 2.0, "quantity": 0.01}`.

use stratbox_guest::prelude::*;

struct BollingerReversion {
    bands: Bollinger,
    quantity: f64,
    long: bool,
}

impl Strategy for BollingerReversion {
    fn init(cfg: &str) -> Result<Self, String> {
        let period = config::number(cfg, "period").unwrap_or(20.0);
        let width = config::number(cfg, "width").unwrap_or(2.0);
        let quantity = config::number(cfg, "quantity").unwrap_or(0.01);
        if !(2.0..=1000.0).contains(&period) || !(width > 0.0) || !(quantity > 0.0) {
            return Err(format!(
                "need 2 <= period <= 1000, width > 0, quantity > 0; got {period}, {width}, {quantity}"
            ));
        }
        Ok(BollingerReversion {
            bands: Bollinger::new(period as usize, width),
            quantity,
            long: state::get_u64("long") == Some(1),
        })
    }

    fn on_bar(&mut self, bar: &Bar) {
        let Some(b) = self.bands.update(bar.close) else {
            return;
        };
        if !self.long && bar.close < b.lower {
            if Order::market(bar.symbol, Side::Buy, self.quantity)
                .submit()
                .is_ok()
            {
                self.long = true;
                let _ = state::set_u64("long", 1);
                let depth =
                    ((b.lower - bar.close) / (b.upper - b.lower).max(f64::MIN_POSITIVE)).min(1.0);
                signals::emit(&Signal {
                    symbol: bar.symbol,
                    time: bar.open_time,
                    direction: Direction::Long,
                    strength: depth,
                    confidence: 0.5,
                    kind: SignalKind::Reversal,
                    horizon_ms: u64::from(bar.interval_ms) * 20,
                    source: String::new(),
                });
            }
        } else if self.long && bar.close >= b.middle {
            if Order::market(bar.symbol, Side::Sell, self.quantity)
                .reduce_only()
                .submit()
                .is_ok()
            {
                self.long = false;
                let _ = state::set_u64("long", 0);
            }
        }
    }
}

export_strategy!(BollingerReversion);
