//! Binance's request-weight limit: every REST answer carries `X-MBX-USED-WEIGHT-1M`, the weight
//! used in the current minute; the limiter waits before a request that would pass the limit,
//! and after a 429 or 418 it waits as long as `Retry-After` says.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Shared weight accounting for one client.
#[derive(Debug)]
pub struct WeightLimiter {
    limit: AtomicU32,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    minute: u64,
    used: u32,
    blocked_until: Option<Instant>,
}

fn current_minute() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 60)
}

fn until_next_minute() -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_millis(60_000 - (now.as_millis() % 60_000) as u64)
}

impl WeightLimiter {
    /// A limiter for `limit` weight per minute (6000 on Binance spot today).
    pub fn new(limit: u32) -> Self {
        WeightLimiter {
            limit: AtomicU32::new(limit),
            state: Mutex::new(State::default()),
        }
    }

    /// How long to wait before spending `weight`; zero when it fits. Reserves it when it fits.
    pub fn delay_for(&self, weight: u32) -> Duration {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(until) = s.blocked_until {
            let now = Instant::now();
            if until > now {
                return until - now;
            }
            s.blocked_until = None;
        }
        let minute = current_minute();
        if minute != s.minute {
            s.minute = minute;
            s.used = 0;
        }
        if s.used.saturating_add(weight) > self.limit.load(Ordering::Relaxed) {
            return until_next_minute();
        }
        s.used += weight;
        Duration::ZERO
    }

    /// The weight used in the current minute, and the limit.
    pub fn used(&self) -> (u32, u32) {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let used = if s.minute == current_minute() {
            s.used
        } else {
            0
        };
        (used, self.limit.load(Ordering::Relaxed))
    }

    /// Sets the limit per minute (the exchange's own, from its `rateLimits`).
    pub fn set_limit(&self, limit: u32) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// Records the server's count of weight used this minute.
    pub fn observe_used(&self, used: u32) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.minute = current_minute();
        s.used = used;
    }

    /// Blocks every request for `wait` (after a 429 or 418).
    pub fn block_for(&self, wait: Duration) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + wait;
        s.blocked_until = Some(s.blocked_until.map_or(until, |u| u.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_when_the_limit_would_be_passed_or_blocked() {
        let l = WeightLimiter::new(10);
        assert_eq!(l.delay_for(6), Duration::ZERO);
        l.observe_used(8);
        assert!(l.delay_for(5) > Duration::ZERO);
        assert_eq!(l.delay_for(2), Duration::ZERO);
        l.block_for(Duration::from_secs(5));
        assert!(l.delay_for(1) > Duration::from_secs(4));
    }
}
