//! Binance's average price (`/api/v3/avgPrice`): the volume-weighted price of the trades of the
//! last minutes, which the NOTIONAL, MIN_NOTIONAL and PERCENT_PRICE filters value orders at.
//!
//! Trades are summed into one bucket per second and kept for an hour. Where a symbol has no
//! trades (a candle replay), the bars' closes weighted by their volumes stand in.

use crate::model::{Bar, TimestampMs};
use std::collections::VecDeque;

/// The longest window kept, in milliseconds.
const KEPT_MS: i64 = 3_600_000;

/// One second of trades.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    second: i64,
    notional: f64,
    quantity: f64,
}

/// Trades of one symbol, summed per second.
#[derive(Clone, Debug, Default)]
pub struct AveragePrice {
    trades: VecDeque<Bucket>,
}

impl AveragePrice {
    /// Adds a trade.
    pub fn record(&mut self, time: TimestampMs, price: f64, quantity: f64) {
        if !(price.is_finite() && quantity.is_finite() && quantity > 0.0) {
            return;
        }
        let second = time.div_euclid(1000);
        match self.trades.back_mut() {
            Some(last) if last.second == second => {
                last.notional += price * quantity;
                last.quantity += quantity;
            }
            _ => self.trades.push_back(Bucket {
                second,
                notional: price * quantity,
                quantity,
            }),
        }
        while self
            .trades
            .front()
            .is_some_and(|b| b.second * 1000 < time - KEPT_MS)
        {
            self.trades.pop_front();
        }
    }

    /// The volume-weighted price of the trades in the `minutes` before `now`, or, without
    /// trades there, of the closes of `bars` that closed in that window.
    pub fn over<'a>(
        &self,
        minutes: u32,
        now: TimestampMs,
        bars: impl DoubleEndedIterator<Item = &'a Bar>,
    ) -> Option<f64> {
        let from = now - i64::from(minutes) * 60_000;
        let (mut notional, mut quantity) = (0.0, 0.0);
        for b in self.trades.iter().rev() {
            if b.second * 1000 < from {
                break;
            }
            notional += b.notional;
            quantity += b.quantity;
        }
        if quantity == 0.0 {
            for bar in bars.rev() {
                if bar.close_time() <= from {
                    break;
                }
                notional += bar.close * bar.volume;
                quantity += bar.volume;
            }
        }
        (quantity > 0.0).then(|| notional / quantity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(open_time: i64, close: f64, volume: f64) -> Bar {
        Bar {
            symbol: 0,
            interval_ms: 60_000,
            open_time,
            open: close,
            high: close,
            low: close,
            close,
            volume,
        }
    }

    #[test]
    fn weights_trades_of_the_window_and_falls_back_to_bars() {
        let mut a = AveragePrice::default();
        let bars = [bar(0, 10.0, 1.0), bar(60_000, 20.0, 3.0)];
        assert_eq!(a.over(5, 120_000, bars.iter()), Some(17.5));
        assert_eq!(a.over(1, 120_000, bars.iter()), Some(20.0));
        a.record(100_000, 100.0, 1.0);
        a.record(100_500, 103.0, 2.0);
        a.record(170_000, 110.0, 1.0);
        assert_eq!(a.over(5, 180_000, bars.iter()), Some(104.0));
        assert_eq!(a.over(1, 180_000, bars.iter()), Some(110.0));
        assert_eq!(AveragePrice::default().over(5, 0, [].iter()), None);
    }
}
