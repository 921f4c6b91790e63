//! Host-managed protective stops: each position of a deployment whose budget names stop rules
//! gets a stop the host keeps, from the market alone, so it fires while the guest is halted or
//! being swapped. The rules (each optional, the tightest price wins):
//! - fixed: a fraction against the entry price;
//! - trailing: a fraction from the best price since entry;
//! - ATR trailing: a multiple of the ATR (Wilder, `atr_period` bars) from the best price;
//! - chandelier: a multiple of the ATR from the highest high (lowest low when short) of the last
//!   `atr_period` bars;
//! - break-even: once the position gained a fraction, the stop is at least the entry price;
//! - time: the position is closed after being held so long.
//!
//! A bar's stop level is computed from the bars before it and checked against the bar's low
//! (high when short), so a bar never both moves its stop and triggers it; trades check the
//! level as they come.

use crate::model::TimestampMs;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// The stop rules of a deployment's positions (the budget's `stops` table).
#[derive(utoipa::ToSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopConfig {
    /// Close when the price moves this fraction against the entry price (0.05: 5 %).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<f64>,
    /// Close when the price falls this fraction from the best price since entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trailing: Option<f64>,
    /// Close when the price falls this many ATRs from the best price since entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atr_multiple: Option<f64>,
    /// Close when the price falls this many ATRs from the period's highest high (chandelier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chandelier_multiple: Option<f64>,
    /// The ATR's and the chandelier's period, in bars.
    #[serde(default = "default_period")]
    pub atr_period: usize,
    /// Once the position gained this fraction, the stop is at least the entry price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_even: Option<f64>,
    /// Close the position after holding it this long (event time, milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<i64>,
}

fn default_period() -> usize {
    14
}

impl StopConfig {
    /// Checks every rule is in its range; the first that is not, named.
    pub fn validate(&self) -> Result<(), String> {
        let fractions = [
            ("fixed", self.fixed),
            ("trailing", self.trailing),
            ("break_even", self.break_even),
        ];
        for (name, value) in fractions {
            if let Some(v) = value
                && !(v > 0.0 && v < 1.0)
            {
                return Err(format!(
                    "stops.{name} = {v}: a fraction above 0 and below 1"
                ));
            }
        }
        for (name, value) in [
            ("atr_multiple", self.atr_multiple),
            ("chandelier_multiple", self.chandelier_multiple),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0)
            {
                return Err(format!("stops.{name} = {v}: must be positive"));
            }
        }
        if !(1..=10_000).contains(&self.atr_period) {
            return Err(format!(
                "stops.atr_period = {}: between 1 and 10000 bars",
                self.atr_period
            ));
        }
        if let Some(t) = self.time_ms
            && t <= 0
        {
            return Err(format!("stops.time_ms = {t}: must be positive"));
        }
        Ok(())
    }
}

/// Why a stop fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// The price reached the stop level.
    Price,
    /// The position was held for `time_ms`.
    Time,
}

/// One position's stop: what it remembers between bars (journaled, restored after a restart).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StopState {
    /// A long position (a short one's rules are mirrored).
    pub long: bool,
    /// The position's average entry price.
    pub entry: f64,
    /// When the position was opened (event time).
    pub opened_at: TimestampMs,
    /// The best price since entry: the highest for a long, the lowest for a short.
    pub best: f64,
    /// Whether the break-even move has happened.
    pub break_even: bool,
    /// Wilder's ATR, once `atr_period` bars were seen.
    pub atr: Option<f64>,
    /// True ranges collected until the ATR is seeded.
    pub seed: Vec<f64>,
    /// The previous bar's close.
    pub prev_close: Option<f64>,
    /// The last `atr_period` highs (long) or lows (short), for the chandelier.
    pub extremes: VecDeque<f64>,
    /// The stop price now, if a price rule applies.
    pub level: Option<f64>,
    /// The closing order sent when the stop fired, while it is open.
    pub order: Option<u64>,
}

impl StopState {
    /// The stop of a position opened at `entry` at `now`.
    pub fn new(long: bool, entry: f64, now: TimestampMs, config: &StopConfig) -> Self {
        let mut s = StopState {
            long,
            entry,
            opened_at: now,
            best: entry,
            break_even: false,
            atr: None,
            seed: Vec::new(),
            prev_close: None,
            extremes: VecDeque::new(),
            level: None,
            order: None,
        };
        s.level = s.compute_level(config);
        s
    }

    /// The position's average entry moved (a fill added to it): the rules that measure from
    /// the entry (fixed, break-even) follow it.
    pub fn set_entry(&mut self, entry: f64, config: &StopConfig) {
        self.entry = entry;
        self.level = self.compute_level(config);
    }

    /// `a` is further in the position's favour than `b`.
    fn better(&self, a: f64, b: f64) -> bool {
        if self.long { a > b } else { a < b }
    }

    /// The tightest level of the price rules that apply now.
    fn compute_level(&self, c: &StopConfig) -> Option<f64> {
        let sign = if self.long { 1.0 } else { -1.0 };
        let mut levels = Vec::with_capacity(5);
        if let Some(f) = c.fixed {
            levels.push(self.entry * (1.0 - sign * f));
        }
        if let Some(t) = c.trailing {
            levels.push(self.best * (1.0 - sign * t));
        }
        if let (Some(k), Some(atr)) = (c.atr_multiple, self.atr) {
            levels.push(self.best - sign * k * atr);
        }
        if let (Some(k), Some(atr)) = (c.chandelier_multiple, self.atr) {
            let extreme = if self.long {
                self.extremes.iter().copied().fold(f64::MIN, f64::max)
            } else {
                self.extremes.iter().copied().fold(f64::MAX, f64::min)
            };
            if !self.extremes.is_empty() {
                levels.push(extreme - sign * k * atr);
            }
        }
        if self.break_even {
            levels.push(self.entry);
        }
        levels
            .into_iter()
            .reduce(|a, b| if self.better(a, b) { a } else { b })
    }

    /// Whether `price` is at or through the stop level.
    fn reached(&self, price: f64) -> bool {
        self.level
            .is_some_and(|l| if self.long { price <= l } else { price >= l })
    }

    fn time_up(&self, now: TimestampMs, c: &StopConfig) -> bool {
        c.time_ms.is_some_and(|t| now - self.opened_at >= t)
    }

    /// A bar closed at `now`: checks it against the level set before it, then lets it move
    /// the level. Why the stop fired, if it did.
    pub fn on_bar(
        &mut self,
        high: f64,
        low: f64,
        close: f64,
        now: TimestampMs,
        c: &StopConfig,
    ) -> Option<StopReason> {
        let adverse = if self.long { low } else { high };
        let fired = if self.reached(adverse) {
            Some(StopReason::Price)
        } else if self.time_up(now, c) {
            Some(StopReason::Time)
        } else {
            None
        };
        let favourable = if self.long { high } else { low };
        if self.better(favourable, self.best) {
            self.best = favourable;
        }
        if let Some(be) = c.break_even {
            let gain = if self.long {
                self.best / self.entry - 1.0
            } else {
                1.0 - self.best / self.entry
            };
            self.break_even |= gain >= be;
        }
        let tr = match self.prev_close {
            Some(pc) => (high - low).max((high - pc).abs()).max((low - pc).abs()),
            None => high - low,
        };
        let n = c.atr_period as f64;
        self.atr = match self.atr {
            Some(atr) => Some((atr * (n - 1.0) + tr) / n),
            None => {
                self.seed.push(tr);
                (self.seed.len() >= c.atr_period).then(|| {
                    let seeded = self.seed.iter().sum::<f64>() / n;
                    self.seed.clear();
                    seeded
                })
            }
        };
        self.prev_close = Some(close);
        self.extremes.push_back(favourable);
        while self.extremes.len() > c.atr_period {
            self.extremes.pop_front();
        }
        self.level = self.compute_level(c);
        fired
    }

    /// A trade at `price` at `now`: whether it reaches the level, or the time is up.
    pub fn on_trade(&mut self, price: f64, now: TimestampMs, c: &StopConfig) -> Option<StopReason> {
        if self.reached(price) {
            return Some(StopReason::Price);
        }
        if self.better(price, self.best) {
            self.best = price;
            self.level = self.compute_level(c);
        }
        self.time_up(now, c).then_some(StopReason::Time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> StopConfig {
        StopConfig {
            fixed: None,
            trailing: None,
            atr_multiple: None,
            chandelier_multiple: None,
            atr_period: 3,
            break_even: None,
            time_ms: None,
        }
    }

    #[test]
    fn a_trailing_stop_follows_the_best_price_and_fires_on_the_next_bar() {
        let c = StopConfig {
            trailing: Some(0.1),
            fixed: Some(0.2),
            ..config()
        };
        let mut s = StopState::new(true, 100.0, 0, &c);
        assert_eq!(
            s.level,
            Some(90.0),
            "the tighter of 80 (fixed) and 90 (trailing)"
        );
        assert_eq!(s.on_bar(120.0, 101.0, 118.0, 1, &c), None);
        assert!((s.level.unwrap() - 108.0).abs() < 1e-9);
        // The bar that sets a new high does not trigger on its own low.
        assert_eq!(s.on_bar(130.0, 110.0, 112.0, 2, &c), None);
        assert!((s.level.unwrap() - 117.0).abs() < 1e-9);
        assert_eq!(
            s.on_bar(125.0, 116.9, 120.0, 3, &c),
            Some(StopReason::Price)
        );
        // A short mirrors it.
        let mut s = StopState::new(false, 100.0, 0, &c);
        assert!((s.level.unwrap() - 110.0).abs() < 1e-9);
        assert_eq!(s.on_trade(95.0, 1, &c), None);
        assert!((s.level.unwrap() - 104.5).abs() < 1e-9);
        assert_eq!(s.on_trade(104.6, 2, &c), Some(StopReason::Price));
    }

    #[test]
    fn a_new_entry_moves_the_fixed_and_break_even_levels_but_not_the_best_price() {
        let c = StopConfig {
            fixed: Some(0.1),
            break_even: Some(0.05),
            ..config()
        };
        let mut s = StopState::new(true, 100.0, 0, &c);
        assert!((s.level.unwrap() - 90.0).abs() < 1e-9);
        s.set_entry(110.0, &c);
        assert_eq!(s.entry, 110.0);
        assert!(
            (s.level.unwrap() - 99.0).abs() < 1e-9,
            "fixed 10 % under 110"
        );
        assert_eq!(
            s.best, 100.0,
            "the best price is what the market did, not the entry"
        );
        // A high of 116 is 5.45 % above the new entry 110: break-even arms at the entry, above
        // the fixed level.
        s.on_bar(116.0, 112.0, 115.0, 1, &c);
        assert!(s.break_even);
        assert!((s.level.unwrap() - 110.0).abs() < 1e-9);
    }

    #[test]
    fn atr_chandelier_break_even_and_time_rules() {
        let c = StopConfig {
            atr_multiple: Some(2.0),
            chandelier_multiple: Some(1.0),
            break_even: Some(0.05),
            time_ms: Some(10_000),
            ..config()
        };
        let mut s = StopState::new(true, 100.0, 0, &c);
        assert_eq!(s.level, None, "no rule applies before the ATR is seeded");
        // True ranges 4, 4, 4: the ATR is 4 after three bars.
        s.on_bar(102.0, 98.0, 100.0, 1_000, &c);
        s.on_bar(102.0, 98.0, 100.0, 2_000, &c);
        s.on_bar(102.0, 98.0, 100.0, 3_000, &c);
        assert_eq!(s.atr, Some(4.0));
        // best 102 - 2 ATR = 94; chandelier 102 - 4 = 98: the tighter is 98.
        assert!((s.level.unwrap() - 98.0).abs() < 1e-9);
        // Up 6 %: break-even arms (100), but the chandelier is tighter: true range 6 makes the
        // ATR (4 * 2 + 6) / 3, below the highest high 106.
        s.on_bar(106.0, 101.0, 105.0, 4_000, &c);
        assert!(s.break_even);
        assert!(
            (s.level.unwrap() - (106.0 - 14.0 / 3.0)).abs() < 1e-9,
            "{:?}",
            s.level
        );
        assert_eq!(s.on_bar(105.0, 103.0, 104.0, 5_000, &c), None);
        assert_eq!(
            s.on_bar(105.0, 103.0, 104.0, 10_000, &c),
            Some(StopReason::Time)
        );
        assert!(config().validate().is_ok());
        assert!(
            StopConfig {
                trailing: Some(1.5),
                ..config()
            }
            .validate()
            .is_err()
        );
    }
}
