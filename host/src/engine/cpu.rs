//! Each deployment's CPU use: wall time inside its callbacks (host calls included), kept in a
//! rolling window of buckets so its share of the window is known after every call.

use std::time::{Duration, Instant};

/// Buckets a window is split into.
const BUCKETS: usize = 100;

/// A deployment's CPU time, in total and over a rolling window.
#[derive(Clone, Debug)]
pub struct CpuMeter {
    /// The window's length.
    window: Duration,
    /// Time spent per bucket of `window / BUCKETS`, ring-indexed by bucket number.
    buckets: [Duration; BUCKETS],
    /// The bucket number (since `origin`) of the newest bucket written.
    newest: u64,
    /// Sum of the buckets.
    in_window: Duration,
    /// All time spent since deployment.
    total: Duration,
    origin: Instant,
}

impl CpuMeter {
    /// A meter with a window of `window` (at least 100 ms), starting now.
    pub fn new(window: Duration) -> Self {
        CpuMeter {
            window: window.max(Duration::from_millis(100)),
            buckets: [Duration::ZERO; BUCKETS],
            newest: 0,
            in_window: Duration::ZERO,
            total: Duration::ZERO,
            origin: Instant::now(),
        }
    }

    fn bucket_of(&self, at: Instant) -> u64 {
        let width = self.window.as_nanos() / BUCKETS as u128;
        (at.saturating_duration_since(self.origin).as_nanos() / width.max(1)) as u64
    }

    /// Moves the window to `at`, dropping buckets that left it.
    fn advance(&mut self, at: Instant) {
        let bucket = self.bucket_of(at);
        if bucket <= self.newest {
            return;
        }
        let stale = (bucket - self.newest).min(BUCKETS as u64);
        for k in 1..=stale {
            let slot = ((self.newest + k) % BUCKETS as u64) as usize;
            self.in_window = self.in_window.saturating_sub(self.buckets[slot]);
            self.buckets[slot] = Duration::ZERO;
        }
        self.newest = bucket;
    }

    /// Records `spent` ending at `at`.
    pub fn record(&mut self, at: Instant, spent: Duration) {
        self.advance(at);
        let slot = (self.newest % BUCKETS as u64) as usize;
        self.buckets[slot] += spent;
        self.in_window += spent;
        self.total += spent;
    }

    /// The share of the window ending at the latest record spent in callbacks.
    pub fn recent_share(&self) -> f64 {
        self.in_window.as_secs_f64() / self.window.as_secs_f64()
    }

    /// The share of the window ending at `at` spent in callbacks.
    pub fn share(&self, at: Instant) -> f64 {
        let now = self.bucket_of(at);
        let spent: Duration = (0..BUCKETS as u64)
            .filter(|&k| k <= self.newest && self.newest - k + BUCKETS as u64 > now)
            .map(|k| self.buckets[((self.newest - k) % BUCKETS as u64) as usize])
            .sum();
        spent.as_secs_f64() / self.window.as_secs_f64()
    }

    /// All time spent since deployment.
    pub fn total(&self) -> Duration {
        self.total
    }

    /// The window's length.
    pub fn window(&self) -> Duration {
        self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_counts_only_the_window() {
        let mut m = CpuMeter::new(Duration::from_secs(1));
        let t0 = m.origin;
        m.record(t0 + Duration::from_millis(5), Duration::from_millis(100));
        m.record(t0 + Duration::from_millis(500), Duration::from_millis(100));
        assert!((m.recent_share() - 0.2).abs() < 1e-9);
        assert!((m.share(t0 + Duration::from_millis(600)) - 0.2).abs() < 1e-9);
        // 1.2 s later the first 100 ms has left the window, the second not yet.
        assert!((m.share(t0 + Duration::from_millis(1_200)) - 0.1).abs() < 1e-9);
        assert!(m.share(t0 + Duration::from_secs(30)) < 1e-12);
        assert_eq!(m.total(), Duration::from_millis(200));
    }
}
