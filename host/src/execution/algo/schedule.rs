//! How much of a parent order should be done by when: TWAP spreads it evenly over its slices,
//! VWAP by a volume profile (the share of a day's volume each slice's time of day usually
//! trades), POV as a share of what the market has traded since the start. Pure functions.

use crate::model::TimestampMs;

const DAY_MS: i64 = 86_400_000;

/// The slice of `[start, end)` that `now` is in (0-based; `slices` once past the end).
pub fn slice_at(now: TimestampMs, start: TimestampMs, end: TimestampMs, slices: u32) -> u32 {
    if now < start {
        return 0;
    }
    if now >= end || end <= start {
        return slices;
    }
    let length = (end - start) as f64 / f64::from(slices.max(1));
    (((now - start) as f64 / length) as u32).min(slices.saturating_sub(1))
}

/// The share of the parent due by the end of each slice of a schedule with `weights` (one per
/// slice, any positive scale): computed once, read at every step by [`due_share`].
pub fn cumulative(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    let mut running = 0.0;
    let mut shares: Vec<f64> = weights
        .iter()
        .map(|w| {
            running += w;
            if total > 0.0 {
                (running / total).clamp(0.0, 1.0)
            } else {
                1.0
            }
        })
        .collect();
    if let Some(last) = shares.last_mut() {
        *last = 1.0;
    }
    shares
}

/// The share of the parent due by the end of the current slice, from the schedule's
/// [`cumulative`] shares. Each slice's share is due from its first moment, so the order works
/// through the slice, not behind it.
pub fn due_share(
    now: TimestampMs,
    start: TimestampMs,
    end: TimestampMs,
    cumulative: &[f64],
) -> f64 {
    if now < start || cumulative.is_empty() {
        return 0.0;
    }
    let current = slice_at(now, start, end, cumulative.len() as u32);
    cumulative.get(current as usize).copied().unwrap_or(1.0)
}

/// Even weights for a TWAP of `slices` slices.
pub fn even(slices: u32) -> Vec<f64> {
    vec![1.0; slices.max(1) as usize]
}

/// A VWAP's weights for the `slices` slices of `[start, end)`: for each slice, the average
/// volume that its time of day traded over the days of `candles` (open time in ms, volume),
/// whichever days they cover. `None` when the candles cover no slice (no history).
pub fn volume_profile(
    candles: &[(TimestampMs, f64)],
    start: TimestampMs,
    end: TimestampMs,
    slices: u32,
) -> Option<Vec<f64>> {
    if end <= start || slices == 0 {
        return None;
    }
    let slices = slices as usize;
    let length = (end - start) as f64 / slices as f64;
    let mut weights = vec![0.0; slices];
    let mut seen = vec![false; slices];
    let window_start = start.rem_euclid(DAY_MS);
    for &(open_time, volume) in candles {
        if !(volume.is_finite() && volume >= 0.0) {
            continue;
        }
        // Where the candle's time of day falls in the window's (which may cross midnight).
        let offset = (open_time.rem_euclid(DAY_MS) - window_start).rem_euclid(DAY_MS);
        if offset as f64 >= (end - start) as f64 {
            continue;
        }
        let slice = ((offset as f64 / length) as usize).min(slices - 1);
        weights[slice] += volume;
        seen[slice] = true;
    }
    if !seen.iter().any(|&s| s) || weights.iter().sum::<f64>() <= 0.0 {
        return None;
    }
    // A slice no candle covered trades like the average of those that were.
    let covered: Vec<f64> = weights
        .iter()
        .zip(&seen)
        .filter(|(_, s)| **s)
        .map(|(w, _)| *w)
        .collect();
    let mean = covered.iter().sum::<f64>() / covered.len() as f64;
    Some(
        weights
            .iter()
            .zip(&seen)
            .map(|(w, s)| if *s { *w } else { mean })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_are_due_from_their_first_moment() {
        let w = cumulative(&even(4));
        assert_eq!(due_share(-1, 0, 400, &w), 0.0);
        assert_eq!(due_share(0, 0, 400, &w), 0.25);
        assert_eq!(due_share(99, 0, 400, &w), 0.25);
        assert_eq!(due_share(100, 0, 400, &w), 0.5);
        assert_eq!(due_share(399, 0, 400, &w), 1.0);
        assert_eq!(due_share(400, 0, 400, &w), 1.0);
        let front = cumulative(&[3.0, 1.0]);
        assert_eq!(due_share(10, 0, 100, &front), 0.75);
        assert_eq!(slice_at(1_000, 0, 400, 4), 4);
    }

    #[test]
    fn a_volume_profile_weighs_slices_by_their_time_of_day_over_days() {
        // Two days of one-hour candles: 09:00 trades 10 then 30, 10:00 trades 20 then 20.
        let h = 3_600_000;
        let candles = [
            (9 * h, 10.0),
            (10 * h, 20.0),
            (DAY_MS + 9 * h, 30.0),
            (DAY_MS + 10 * h, 20.0),
            // Outside the window: ignored.
            (DAY_MS + 15 * h, 1000.0),
        ];
        // Today 09:00 to 11:00, two slices.
        let start = 5 * DAY_MS + 9 * h;
        let w = volume_profile(&candles, start, start + 2 * h, 2).unwrap();
        assert_eq!(w, vec![40.0, 40.0]);
        // Four slices of 30 minutes: the half hours no candle opened in trade the average.
        let w = volume_profile(&candles, start, start + 2 * h, 4).unwrap();
        assert_eq!(w, vec![40.0, 40.0, 40.0, 40.0]);
        // A window crossing midnight.
        let late = [(23 * h, 5.0), (DAY_MS, 15.0)];
        let w = volume_profile(&late, 7 * DAY_MS + 23 * h, 8 * DAY_MS + h, 2).unwrap();
        assert_eq!(w, vec![5.0, 15.0]);
        assert_eq!(volume_profile(&[], 0, h, 2), None);
    }
}
