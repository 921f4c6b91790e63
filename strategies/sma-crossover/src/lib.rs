//! SMA crossover: long `quantity` when the fast average crosses above the slow one, flat again
//! when it crosses back below. Config: `{"fast": 10, "slow": 30, "quantity": 0.01}`.

use stratbox_guest::prelude::*;

struct SmaCrossover {
    fast: Sma,
    slow: Sma,
    quantity: f64,
    was_above: Option<bool>,
    long: bool,
}

impl Strategy for SmaCrossover {
    fn init(cfg: &str) -> Result<Self, String> {
        let fast = config::number(cfg, "fast").unwrap_or(10.0);
        let slow = config::number(cfg, "slow").unwrap_or(30.0);
        let quantity = config::number(cfg, "quantity").unwrap_or(0.01);
        if !(fast >= 1.0 && slow > fast) {
            return Err(format!(
                "need 1 <= fast < slow, got fast={fast} slow={slow}"
            ));
        }
        if !(quantity > 0.0) {
            return Err(format!("quantity must be positive, got {quantity}"));
        }
        Ok(SmaCrossover {
            fast: Sma::new(fast as usize),
            slow: Sma::new(slow as usize),
            quantity,
            was_above: None,
            long: state::get_u64("long") == Some(1),
        })
    }

    fn on_bar(&mut self, bar: &Bar) {
        let (Some(fast), Some(slow)) = (self.fast.update(bar.close), self.slow.update(bar.close))
        else {
            return;
        };
        let above = fast > slow;
        let crossed = self.was_above.is_some_and(|was| was != above);
        self.was_above = Some(above);
        if !crossed || above == self.long {
            return;
        }
        let side = if above { Side::Buy } else { Side::Sell };
        let order = Order::market(bar.symbol, side, self.quantity);
        let order = if above { order } else { order.reduce_only() };
        match order.submit() {
            Ok(_) => {
                self.long = above;
                let _ = state::set_u64("long", above as u64);
            }
            Err(rejected) => log::warn(&format!("order refused: {}", rejected.message)),
        }
    }
}

export_strategy!(SmaCrossover);
