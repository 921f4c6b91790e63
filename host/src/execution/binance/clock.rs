//! The exchange's clock as seen from here: the offset of `serverTime` from the local clock,
//! measured at the midpoint of the request, so signed requests carry timestamps the exchange
//! accepts even when the two clocks drift apart.

use std::sync::atomic::{AtomicI64, Ordering};

/// The offset of the exchange's clock from ours, in milliseconds.
#[derive(Debug, Default)]
pub struct ServerClock {
    offset_ms: AtomicI64,
}

impl ServerClock {
    /// Records a `server_time` answered to a request sent at `sent` and answered at `received`
    /// (local milliseconds); the offset assumes the answer was made halfway.
    pub fn observe(&self, sent: i64, server_time: i64, received: i64) {
        let midpoint = sent + (received - sent) / 2;
        self.offset_ms
            .store(server_time - midpoint, Ordering::Relaxed);
    }

    /// The offset now held.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// The exchange's time now, by the local clock and the offset.
    pub fn now(&self) -> i64 {
        crate::model::time::wall_clock_ms() + self.offset_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_is_taken_at_the_midpoint() {
        let c = ServerClock::default();
        c.observe(1_000, 31_050, 1_100);
        assert_eq!(c.offset_ms(), 30_000);
        c.observe(1_000, 900, 1_200);
        assert_eq!(c.offset_ms(), -200);
    }
}
