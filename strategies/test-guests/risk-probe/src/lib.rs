//! Reads its risk through the `risk` interface on every bar and records it in state: `state`
//! (0 active, 1 reducing, 2 halted), `reason_len`, `equity` and `drawdown_ppm` (parts per
//! million), `has_var`, and the host's sizes for the bar's close in units of 1e-8: `fixed_risk`
//! (1 % of equity risked on a stop 5 % below the close), `kelly` (p 0.6, payoff 1, half Kelly)
//! and `vol_target` (10 % target over 40 % asset volatility). With `{"buy_on_bar": N}` it buys
//! `quantity` (default 1) on bar N, so tests can see drawdown move.

use stratbox_guest::prelude::*;

struct RiskProbe {
    seen: u64,
    buy_on_bar: u64,
    quantity: f64,
}

fn record(key: &str, value: f64) {
    let _ = state::set_u64(key, value.max(0.0).round() as u64);
}

impl Strategy for RiskProbe {
    fn init(cfg: &str) -> Result<Self, String> {
        Ok(RiskProbe {
            seen: 0,
            buy_on_bar: config::number(cfg, "buy_on_bar").unwrap_or(0.0) as u64,
            quantity: config::number(cfg, "quantity").unwrap_or(1.0),
        })
    }

    fn on_bar(&mut self, bar: &Bar) {
        self.seen += 1;
        if self.seen == self.buy_on_bar {
            let _ = Order::market(bar.symbol, Side::Buy, self.quantity).submit();
        }
        let status = risk::status();
        let state_code = match status.state {
            risk::TradingState::Active => 0.0,
            risk::TradingState::Reducing => 1.0,
            risk::TradingState::Halted => 2.0,
        };
        record("state", state_code);
        record("reason_len", status.reason.len() as f64);
        record("equity", status.equity);
        record("drawdown_ppm", status.drawdown * 1e6);
        record("has_var", if status.var.is_some() { 1.0 } else { 0.0 });
        let close = bar.close;
        record(
            "fixed_risk",
            risk::fixed_risk(0.01, close, close * 0.95, 1.0, 1e9) * 1e8,
        );
        record("kelly", risk::kelly(0.6, 1.0, 0.5, 1.0, 1.0) * 1e8);
        record(
            "vol_target",
            risk::volatility_target(0.1, 0.4, 1.0, 1.0) * 1e8,
        );
    }
}

export_strategy!(RiskProbe);
