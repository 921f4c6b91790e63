//! The exchange's clock as seen from here: the offset of `serverTime` from the local clock,
//! measured at the midpoint of the request, so signed requests carry timestamps the exchange
//! accepts even when the two clocks drift apart.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// A round trip longer than this gives an offset too uncertain to replace a measured one: its
/// midpoint may be off by half of it, and the exchange refuses timestamps more than a second
/// ahead of its clock.
const MAX_ROUND_TRIP_MS: i64 = 1_000;

/// The offset of the exchange's clock from ours, in milliseconds.
#[derive(Debug, Default)]
pub struct ServerClock {
    offset_ms: AtomicI64,
    measured: AtomicBool,
}

impl ServerClock {
    /// Records a `server_time` answered to a request sent at `sent` and answered at `received`
    /// (local milliseconds); the offset assumes the answer was made halfway. A sample whose
    /// round trip took over [`MAX_ROUND_TRIP_MS`] (a loaded machine or network) is kept only
    /// when there is no measurement yet.
    pub fn observe(&self, sent: i64, server_time: i64, received: i64) {
        if received - sent > MAX_ROUND_TRIP_MS && self.measured.load(Ordering::Relaxed) {
            return;
        }
        let midpoint = sent + (received - sent) / 2;
        self.offset_ms
            .store(server_time - midpoint, Ordering::Relaxed);
        self.measured.store(true, Ordering::Relaxed);
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

    #[test]
    fn a_slow_round_trip_does_not_replace_a_measured_offset() {
        let c = ServerClock::default();
        // The first measurement is kept however slow: there is nothing better.
        c.observe(0, 10_000, 3_000);
        assert_eq!(c.offset_ms(), 8_500);
        c.observe(10_000, 30_100, 10_200);
        assert_eq!(c.offset_ms(), 20_000);
        c.observe(20_000, 60_000, 21_500);
        assert_eq!(c.offset_ms(), 20_000, "a 1.5 s round trip is ignored");
    }
}
