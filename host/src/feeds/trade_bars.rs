//! Candles built from trades, for replays that have trades but no klines (captures, trade
//! files): each symbol's trades of one interval make its bar, closed once event time passes
//! the interval's end; a bar opens at its interval's first trade, and an interval without
//! trades makes a bar at the previous close with no volume, as Binance's klines do.

use crate::model::{Bar, SymbolId, TimestampMs};
use std::collections::BTreeMap;

/// One symbol's bar being formed.
#[derive(Clone, Copy, Debug)]
struct Forming {
    open_time: TimestampMs,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

/// Bars of every symbol at one interval.
#[derive(Clone, Debug)]
pub struct TradeBars {
    interval_ms: u32,
    forming: BTreeMap<SymbolId, Forming>,
}

impl TradeBars {
    /// Bars of `interval_ms` (positive).
    pub fn new(interval_ms: u32) -> Self {
        TradeBars {
            interval_ms: interval_ms.max(1),
            forming: BTreeMap::new(),
        }
    }

    fn start(&self, time: TimestampMs) -> TimestampMs {
        time.div_euclid(i64::from(self.interval_ms)) * i64::from(self.interval_ms)
    }

    /// Closes, in time order, every bar whose interval ended at or before `time` (and the empty
    /// bars between it and the interval `time` falls in).
    pub fn advance(&mut self, time: TimestampMs, out: &mut Vec<Bar>) {
        let current = self.start(time);
        let interval = i64::from(self.interval_ms);
        let mut closed: Vec<Bar> = Vec::new();
        for (&symbol, f) in self.forming.iter_mut() {
            while f.open_time < current {
                closed.push(Bar {
                    symbol,
                    interval_ms: self.interval_ms,
                    open_time: f.open_time,
                    open: f.open,
                    high: f.high,
                    low: f.low,
                    close: f.close,
                    volume: f.volume,
                });
                *f = Forming {
                    open_time: f.open_time + interval,
                    open: f.close,
                    high: f.close,
                    low: f.close,
                    close: f.close,
                    volume: 0.0,
                };
            }
        }
        closed.sort_by_key(|b| (b.open_time, b.symbol));
        out.extend(closed);
    }

    /// Adds a trade of `symbol` at `time` (after [`TradeBars::advance`] to `time`).
    pub fn trade(&mut self, symbol: SymbolId, time: TimestampMs, price: f64, quantity: f64) {
        let open_time = self.start(time);
        let f = self.forming.entry(symbol).or_insert(Forming {
            open_time,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: 0.0,
        });
        if f.volume == 0.0 {
            // The interval's first trade opens it.
            *f = Forming {
                open_time: f.open_time,
                open: price,
                high: price,
                low: price,
                close: price,
                volume: 0.0,
            };
        }
        f.high = f.high.max(price);
        f.low = f.low.min(price);
        f.close = price;
        f.volume += quantity;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trades_make_bars_and_quiet_intervals_repeat_the_close() {
        let mut b = TradeBars::new(60_000);
        let mut out = Vec::new();
        for (t, p, q) in [(1_000, 10.0, 1.0), (30_000, 12.0, 2.0), (59_999, 11.0, 1.0)] {
            b.advance(t, &mut out);
            b.trade(0, t, p, q);
        }
        assert!(out.is_empty(), "the first minute is still open");
        b.advance(185_000, &mut out);
        b.trade(0, 185_000, 13.0, 1.0);
        let summary: Vec<_> = out
            .iter()
            .map(|b| (b.open_time, b.open, b.high, b.low, b.close, b.volume))
            .collect();
        assert_eq!(
            summary,
            [
                (0, 10.0, 12.0, 10.0, 11.0, 4.0),
                (60_000, 11.0, 11.0, 11.0, 11.0, 0.0),
                (120_000, 11.0, 11.0, 11.0, 11.0, 0.0),
            ]
        );
        out.clear();
        b.advance(240_000, &mut out);
        assert_eq!(
            (out[0].open_time, out[0].open, out[0].low, out[0].close),
            (180_000, 13.0, 13.0, 13.0),
            "an interval opens at its first trade"
        );
    }
}
