//! Binance's ORDERS rate limits per account: new orders per ten seconds and per day, counted as
//! the `X-MBX-ORDER-COUNT-10S` and `X-MBX-ORDER-COUNT-1D` headers report them. The simulator
//! enforces them with this counter; the trading client keeps one to stay under them before
//! the exchange has to say so.

use std::collections::VecDeque;

/// Binance spot's REQUEST_WEIGHT limit per minute.
pub const REQUEST_WEIGHT_PER_MINUTE: u64 = 6000;

/// How many new orders an account may place: Binance's limits by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderLimits {
    /// In any ten seconds.
    pub per_10s: usize,
    /// In a day (UTC).
    pub per_day: u64,
}

impl Default for OrderLimits {
    fn default() -> Self {
        OrderLimits {
            per_10s: 100,
            per_day: 200_000,
        }
    }
}

const DAY_MS: i64 = 86_400_000;

/// One account's recent new orders.
#[derive(Clone, Debug, Default)]
pub struct OrderCounter {
    /// Times of the orders of the last ten seconds.
    recent: VecDeque<i64>,
    /// The day and its count.
    day: (i64, u64),
}

/// The counts after a new order, for the headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderCounts {
    /// Orders in the last ten seconds.
    pub ten_seconds: usize,
    /// Orders today.
    pub day: u64,
}

impl OrderCounter {
    fn roll(&mut self, now: i64) {
        while self.recent.front().is_some_and(|&t| t <= now - 10_000) {
            self.recent.pop_front();
        }
        if self.day.0 != now.div_euclid(DAY_MS) {
            self.day = (now.div_euclid(DAY_MS), 0);
        }
    }

    /// Counts a new order at `now` within `limits`, or names the limit it would break (and
    /// counts nothing).
    pub fn take(&mut self, now: i64, limits: OrderLimits) -> Result<OrderCounts, String> {
        self.roll(now);
        if self.recent.len() >= limits.per_10s {
            return Err(format!(
                "Too many new orders; current limit is {} orders per TEN_SECOND.",
                limits.per_10s
            ));
        }
        if self.day.1 >= limits.per_day {
            return Err(format!(
                "Too many new orders; current limit is {} orders per DAY.",
                limits.per_day
            ));
        }
        self.recent.push_back(now);
        self.day.1 += 1;
        Ok(self.counts(now))
    }

    /// The counts at `now`.
    pub fn counts(&mut self, now: i64) -> OrderCounts {
        self.roll(now);
        OrderCounts {
            ten_seconds: self.recent.len(),
            day: self.day.1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_second_window_slides_and_day_resets() {
        let mut c = OrderCounter::default();
        let limits = OrderLimits::default();
        for i in 0..limits.per_10s as i64 {
            c.take(1_000 + i, limits).unwrap();
        }
        let refused = c.take(5_000, limits).unwrap_err();
        assert!(refused.contains("100 orders per TEN_SECOND"), "{refused}");
        assert_eq!(c.counts(5_000).ten_seconds, 100);
        // Ten seconds after the first, it has left the window.
        assert_eq!(c.take(11_000, limits).unwrap().ten_seconds, 100);
        assert_eq!(c.counts(11_000).day, 101);
        assert_eq!(
            c.take(DAY_MS + 1, limits).unwrap(),
            OrderCounts {
                ten_seconds: 1,
                day: 1
            }
        );
    }
}
