//! Binance's ORDERS rate limits per account: new orders per ten seconds and per day, counted as
//! the `X-MBX-ORDER-COUNT-10S` and `X-MBX-ORDER-COUNT-1D` headers report them.

use std::collections::VecDeque;

/// New orders an account may place in ten seconds.
pub const ORDERS_PER_10S: usize = 100;
/// New orders an account may place in a day (UTC).
pub const ORDERS_PER_DAY: u64 = 200_000;

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

    /// Counts a new order at `now`, or names the limit it would break (and counts nothing).
    pub fn take(&mut self, now: i64) -> Result<OrderCounts, String> {
        self.roll(now);
        if self.recent.len() >= ORDERS_PER_10S {
            return Err(format!(
                "Too many new orders; current limit is {ORDERS_PER_10S} orders per TEN_SECOND."
            ));
        }
        if self.day.1 >= ORDERS_PER_DAY {
            return Err(format!(
                "Too many new orders; current limit is {ORDERS_PER_DAY} orders per DAY."
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
        for i in 0..ORDERS_PER_10S as i64 {
            c.take(1_000 + i).unwrap();
        }
        let refused = c.take(5_000).unwrap_err();
        assert!(refused.contains("100 orders per TEN_SECOND"), "{refused}");
        assert_eq!(c.counts(5_000).ten_seconds, 100);
        // Ten seconds after the first, it has left the window.
        assert_eq!(c.take(11_000).unwrap().ten_seconds, 100);
        assert_eq!(c.counts(11_000).day, 101);
        assert_eq!(
            c.take(DAY_MS + 1).unwrap(),
            OrderCounts {
                ten_seconds: 1,
                day: 1
            }
        );
    }
}
