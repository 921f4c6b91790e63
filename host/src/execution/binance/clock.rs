//! The exchange's clock as seen from here: the offset of `serverTime` from the local clock,
//! measured at the midpoint of the request, so signed requests carry timestamps the exchange
//! accepts even when the two clocks drift apart.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// A round trip longer than this gives a midpoint too uncertain to replace a measured offset
/// (it may be off by half of it, and the exchange refuses timestamps more than a second ahead
/// of its clock): such a sample only bounds the offset.
const MAX_ROUND_TRIP_MS: i64 = 1_000;

/// The offset of the exchange's clock from ours, in milliseconds.
#[derive(Debug, Default)]
pub struct ServerClock {
    offset_ms: AtomicI64,
    measured: AtomicBool,
}

impl ServerClock {
    /// Records a `server_time` answered to a request sent at `sent` and answered at `received`
    /// (local milliseconds); the offset assumes the answer was made halfway. After a round
    /// trip over [`MAX_ROUND_TRIP_MS`] (a loaded machine or network) a measured offset is only
    /// brought within what the sample allows (the exchange's clock was read between `sent` and
    /// `received`), so one slow sample neither spoils a good offset nor keeps a bad one.
    pub fn observe(&self, sent: i64, server_time: i64, received: i64) {
        let offset = if received - sent > MAX_ROUND_TRIP_MS && self.measured.load(Ordering::Relaxed)
        {
            let (low, high) = (server_time - received, server_time - sent);
            self.offset_ms().clamp(low, high.max(low))
        } else {
            server_time - (sent + (received - sent) / 2)
        };
        self.offset_ms.store(offset, Ordering::Relaxed);
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
    fn a_slow_round_trip_only_bounds_a_measured_offset() {
        let c = ServerClock::default();
        // The first measurement is kept however slow: there is nothing better.
        c.observe(0, 10_000, 3_000);
        assert_eq!(c.offset_ms(), 8_500);
        c.observe(10_000, 30_100, 10_200);
        assert_eq!(c.offset_ms(), 20_000);
        c.observe(20_000, 40_500, 21_500);
        assert_eq!(
            c.offset_ms(),
            20_000,
            "within what a 1.5 s round trip allows: kept"
        );
        // One that rules the held offset out moves it only as far as it must.
        c.observe(30_000, 55_000, 31_500);
        assert_eq!(c.offset_ms(), 23_500);
        c.observe(40_000, 60_000, 42_000);
        assert_eq!(c.offset_ms(), 20_000);
    }
}
