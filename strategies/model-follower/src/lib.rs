//! Model follower: reads the host's ensemble prediction for the bar's symbol through
//! `market::predict` and goes long when the expected return is above `min_return` with at
//! least `min_confidence`, flat again (selling what it holds) when the expected return turns
//! negative; each symbol on its own. It buys `quantity`, or `notional` of the quote asset at
//! the bar's close when that is given instead. A prediction older than `max_age_ms` (event
//! time minus its `time`) is ignored, and so is every bar before `from_ms` (when given).
//! Config: `{"quantity": 100, "min_return": 0.0002, "min_confidence": 0.05, "max_age_ms": 120000}`
//! or `{"notional": 1000, ...}`.

use stratbox_guest::prelude::*;

struct ModelFollower {
    quantity: f64,
    notional: Option<f64>,
    min_return: f64,
    min_confidence: f64,
    max_age_ms: i64,
    from_ms: i64,
}

/// The state key of whether the strategy is long `symbol` (set when its buy is sent).
fn long_key(symbol: u32) -> String {
    format!("long.{symbol}")
}

/// What the account holds of `symbol`.
fn held(symbol: u32) -> f64 {
    orders::positions()
        .iter()
        .find(|p| p.symbol == symbol)
        .map_or(0.0, |p| p.quantity)
}

impl Strategy for ModelFollower {
    fn init(cfg: &str) -> Result<Self, String> {
        let quantity = config::number(cfg, "quantity").unwrap_or(0.01);
        if !(quantity > 0.0) {
            return Err(format!("quantity must be positive, got {quantity}"));
        }
        let notional = config::number(cfg, "notional");
        if let Some(n) = notional.filter(|n| !(*n > 0.0)) {
            return Err(format!("notional must be positive, got {n}"));
        }
        Ok(ModelFollower {
            quantity,
            notional,
            min_return: config::number(cfg, "min_return").unwrap_or(0.0002),
            min_confidence: config::number(cfg, "min_confidence").unwrap_or(0.05),
            max_age_ms: config::number(cfg, "max_age_ms").unwrap_or(120_000.0) as i64,
            from_ms: config::number(cfg, "from_ms").map_or(i64::MIN, |t| t as i64),
        })
    }

    fn on_bar(&mut self, bar: &Bar) {
        if clock::now() < self.from_ms {
            return;
        }
        let Some(p) = market::predict(bar.symbol) else {
            return;
        };
        if clock::now() - p.time > self.max_age_ms {
            return;
        }
        let key = long_key(bar.symbol);
        let long = match state::get_u64(&key) {
            Some(flag) => flag == 1,
            // State of a build before per-symbol keys (one `long` for the strategy): long
            // where it holds the symbol, so a hot swap keeps an open position's exit.
            None => state::get_u64("long") == Some(1) && held(bar.symbol) > 0.0,
        };
        let enter =
            !long && p.expected_return > self.min_return && p.confidence >= self.min_confidence;
        let exit = long && p.expected_return < 0.0;
        let order = if enter {
            let quantity = match self.notional {
                Some(n) if bar.close > 0.0 => n / bar.close,
                _ => self.quantity,
            };
            Order::market(bar.symbol, Side::Buy, quantity)
        } else if exit {
            // What the account holds: less than was bought where buyers pay fees in the base.
            let held = held(bar.symbol);
            if held <= 0.0 {
                // Flat already, unless the buy is still on its way.
                if !orders::open_orders().iter().any(|o| o.symbol == bar.symbol) {
                    let _ = state::set_u64(&key, 0);
                }
                return;
            }
            Order::market(bar.symbol, Side::Sell, held).reduce_only()
        } else {
            return;
        };
        match order.submit() {
            Ok(_) => {
                let _ = state::set_u64(&key, u64::from(enter));
            }
            Err(rejected) => log::warn(&format!("order refused: {}", rejected.message)),
        }
    }
}

export_strategy!(ModelFollower);
