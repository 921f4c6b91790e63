//! Model follower: reads the host's ensemble prediction for the bar's symbol through
//! `market::predict` and goes long `quantity` when the expected return is above `min_return`
//! with at least `min_confidence`, flat again (selling what it holds) when the expected return
//! turns negative. A
//! prediction older than `max_age_ms` (event time minus its `time`) is ignored.
//! Config: `{"quantity": 100, "min_return": 0.0002, "min_confidence": 0.05, "max_age_ms": 120000}`.

use stratbox_guest::prelude::*;

struct ModelFollower {
    quantity: f64,
    min_return: f64,
    min_confidence: f64,
    max_age_ms: i64,
    long: bool,
}

impl Strategy for ModelFollower {
    fn init(cfg: &str) -> Result<Self, String> {
        let quantity = config::number(cfg, "quantity").unwrap_or(0.01);
        if !(quantity > 0.0) {
            return Err(format!("quantity must be positive, got {quantity}"));
        }
        Ok(ModelFollower {
            quantity,
            min_return: config::number(cfg, "min_return").unwrap_or(0.0002),
            min_confidence: config::number(cfg, "min_confidence").unwrap_or(0.05),
            max_age_ms: config::number(cfg, "max_age_ms").unwrap_or(120_000.0) as i64,
            long: state::get_u64("long") == Some(1),
        })
    }

    fn on_bar(&mut self, bar: &Bar) {
        let Some(p) = market::predict(bar.symbol) else {
            return;
        };
        if clock::now() - p.time > self.max_age_ms {
            return;
        }
        let enter = !self.long
            && p.expected_return > self.min_return
            && p.confidence >= self.min_confidence;
        let exit = self.long && p.expected_return < 0.0;
        if !enter && !exit {
            return;
        }
        let order = if enter {
            Order::market(bar.symbol, Side::Buy, self.quantity)
        } else {
            // What the account holds: less than was bought where buyers pay fees in the base.
            let held = orders::positions()
                .iter()
                .find(|p| p.symbol == bar.symbol)
                .map_or(0.0, |p| p.quantity);
            if held <= 0.0 {
                self.long = false;
                let _ = state::set_u64("long", 0);
                return;
            }
            Order::market(bar.symbol, Side::Sell, held.min(self.quantity)).reduce_only()
        };
        match order.submit() {
            Ok(_) => {
                self.long = enter;
                let _ = state::set_u64("long", enter as u64);
            }
            Err(rejected) => log::warn(&format!("order refused: {}", rejected.message)),
        }
    }
}

export_strategy!(ModelFollower);
