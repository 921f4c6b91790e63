//! Donchian breakout (the turtle rule): buy when the close breaks above the highest high of the
//! last `entry` bars, exit when it breaks below the lowest low of the last `exit` bars. Once the
//! entry fills, places a protective stop-loss at the exit channel. Config:
//! `{"entry": 20, "exit": 10, "quantity": 0.01}`.

use stratbox_guest::prelude::*;

struct DonchianBreakout {
    entry: Donchian,
    exit: Donchian,
    /// Channels of the previous bar: a breakout is measured against bars before this one.
    previous: Option<((f64, f64), (f64, f64))>,
    quantity: f64,
    long: bool,
    /// The entry order, until it fills, and the exit channel to protect it at.
    entry_order: Option<(u64, f64)>,
    stop_order: Option<u64>,
}

impl Strategy for DonchianBreakout {
    fn init(cfg: &str) -> Result<Self, String> {
        let entry = config::number(cfg, "entry").unwrap_or(20.0);
        let exit = config::number(cfg, "exit").unwrap_or(10.0);
        let quantity = config::number(cfg, "quantity").unwrap_or(0.01);
        if !(entry >= 2.0 && exit >= 1.0 && quantity > 0.0) {
            return Err(format!(
                "need entry >= 2, exit >= 1, quantity > 0; got {entry}, {exit}, {quantity}"
            ));
        }
        Ok(DonchianBreakout {
            entry: Donchian::new(entry as usize),
            exit: Donchian::new(exit as usize),
            previous: None,
            quantity,
            long: state::get_u64("long") == Some(1),
            entry_order: None,
            stop_order: None,
        })
    }

    fn on_bar(&mut self, bar: &Bar) {
        let channels = self
            .entry
            .update(bar.high, bar.low)
            .zip(self.exit.update(bar.high, bar.low));
        if let Some(((entry_high, _), (_, exit_low))) = self.previous {
            if !self.long && bar.close > entry_high {
                if let Ok(id) = Order::market(bar.symbol, Side::Buy, self.quantity).submit() {
                    self.long = true;
                    let _ = state::set_u64("long", 1);
                    self.entry_order = Some((id, exit_low));
                    signals::emit(&Signal {
                        symbol: bar.symbol,
                        time: bar.open_time,
                        direction: Direction::Long,
                        strength: ((bar.close - entry_high) / entry_high.max(f64::MIN_POSITIVE)
                            * 100.0)
                            .min(1.0),
                        confidence: 0.6,
                        kind: SignalKind::Breakout,
                        horizon_ms: u64::from(bar.interval_ms) * 10,
                        source: String::new(),
                    });
                }
            } else if self.long && bar.close < exit_low {
                if let Some(id) = self.stop_order.take() {
                    let _ = orders::cancel(id);
                }
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
        self.previous = channels;
    }

    fn on_fill(&mut self, update: &OrderUpdate, _fill: &Execution) {
        if update.status != OrderStatus::Filled {
            return;
        }
        if let Some((id, exit_low)) = self.entry_order
            && id == update.order_id
        {
            self.entry_order = None;
            let stop = Order::stop_loss(update.symbol, Side::Sell, self.quantity, exit_low);
            match stop.reduce_only().submit() {
                Ok(id) => self.stop_order = Some(id),
                Err(rejected) => {
                    log::warn(&format!("protective stop refused: {}", rejected.message))
                }
            }
        } else if Some(update.order_id) == self.stop_order {
            self.stop_order = None;
            self.long = false;
            let _ = state::set_u64("long", 0);
            log::info("protective stop filled");
        }
    }
}

export_strategy!(DonchianBreakout);
