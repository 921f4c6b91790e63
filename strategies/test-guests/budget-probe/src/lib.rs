//! On its first bar submits the market orders its config lists, as `{"orders": "buy:1,sell:0.5,..."}`,
//! and records each outcome in state under `order<i>`: `ok` or the reject code. Counts the
//! fills it is told of in `fills`.

use stratbox_guest::prelude::*;

struct Probe {
    orders: Vec<(Side, f64)>,
    done: bool,
}

impl Strategy for Probe {
    fn init(cfg: &str) -> Result<Self, String> {
        let list = config::string(cfg, "orders").ok_or("config needs \"orders\"")?;
        let orders = list
            .split(',')
            .map(|item| {
                let (side, qty) = item.split_once(':').ok_or(format!("bad order {item:?}"))?;
                let side = if side == "buy" { Side::Buy } else { Side::Sell };
                Ok((side, qty.parse::<f64>().map_err(|e| e.to_string())?))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Probe {
            orders,
            done: false,
        })
    }

    fn on_bar(&mut self, bar: &Bar) {
        if self.done {
            return;
        }
        self.done = true;
        for (i, &(side, qty)) in self.orders.iter().enumerate() {
            let outcome = match Order::market(bar.symbol, side, qty).submit() {
                Ok(_) => "ok".to_string(),
                Err(r) => format!("{:?}", r.code),
            };
            let _ = state::set(&format!("order{i}"), outcome.as_bytes());
        }
    }

    fn on_fill(&mut self, _update: &OrderUpdate, _fill: &Execution) {
        let _ = state::set_u64("fills", state::get_u64("fills").unwrap_or(0) + 1);
    }
}

export_strategy!(Probe);
