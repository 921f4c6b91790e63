//! Counts bars in state: `count` (all versions), `v<N>` (this version, from config
//! `{"version": N}`), `last` (open time of the last bar) and `anomalies` (bars that were not
//! exactly one interval after the previous one: a lost or repeated event). With
//! `{"timer_ms": T}` it also sets a timer every T ms of event time and counts them in `timers`;
//! it counts the signals it receives in `signals`, trades in `trades`, and book updates in `books` (storing the
//! best bid and ask it reads back through `market::best_bid_ask` in `bid` and `ask`). When the
//! host has a model prediction for the bar's symbol it counts it in `predictions` and keeps its
//! `time` in `prediction_time` and the last class's probability in `prediction_up`.

use stratbox_guest::prelude::*;

struct Counter {
    version: u64,
    timer_ms: Option<i64>,
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
        let timer_ms = config::number(cfg, "timer_ms").map(|t| t as i64);
        if let Some(t) = timer_ms {
            clock::set_timer(clock::now() + t);
        }
        Ok(Counter { version, timer_ms })
    }

    fn on_bar(&mut self, bar: &Bar) {
        if let Some(last) = state::get_u64("last") {
            if bar.open_time as u64 != last + u64::from(bar.interval_ms) {
                bump("anomalies");
            }
        }
        let _ = state::set_u64("last", bar.open_time as u64);
        if let Some(p) = market::predict(bar.symbol) {
            bump("predictions");
            let _ = state::set_u64("prediction_time", p.time as u64);
            let _ = state::set_f64(
                "prediction_up",
                p.probabilities.last().copied().unwrap_or(0.0),
            );
        }
        bump("count");
        bump(&format!("v{}", self.version));
    }

    fn on_timer(&mut self, timer: &Timer) {
        bump("timers");
        if let Some(t) = self.timer_ms {
            clock::set_timer(timer.due + t);
        }
    }

    fn on_trade(&mut self, _trade: &Trade) {
        bump("trades");
    }

    fn on_book(&mut self, book: &TopOfBook) {
        bump("books");
        if let Some(top) = market::best_bid_ask(book.symbol) {
            let _ = state::set_f64("bid", top.bid.price);
            let _ = state::set_f64("ask", top.ask.price);
        }
    }

    fn on_signal(&mut self, signals: &[Signal]) {
        let _ = state::set_u64(
            "signals",
            state::get_u64("signals").unwrap_or(0) + signals.len() as u64,
        );
    }
}

export_strategy!(Counter);
