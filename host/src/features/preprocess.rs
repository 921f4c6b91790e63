//! Transforms models and strategies apply to a feature's history: winsorising, clipping,
//! missing-value flags and filling, rolling z-score and min-max scaling. Every statistic uses the
//! values up to and including the current bar, never later ones.

/// A transform of a feature, parsed from `transform:feature` names.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Transform {
    /// `zscore_N:f`: (x - mean) / std over the last N values.
    ZScore(usize),
    /// `minmax_N:f`: (x - min) / (max - min) over the last N values, in 0..=1.
    MinMax(usize),
    /// `winsor_N_P:f`: x clipped to the P-th and (100-P)-th percentiles of the last N values.
    Winsor(usize, f64),
    /// `missing:f`: 1 when the feature has no value, else 0.
    Missing,
    /// `ffill:f`: the last value the feature had (NaN before its first).
    ForwardFill,
}

impl Transform {
    /// Splits `transform:feature`; `None` when the name has no transform prefix.
    pub fn parse(name: &str) -> Option<Result<(Transform, &str), String>> {
        let (head, feature) = name.split_once(':')?;
        let bad = || {
            format!(
                "bad transform {head:?} in {name:?}: use zscore_N, minmax_N, winsor_N_P (0 <= P < 50), missing or ffill"
            )
        };
        let parts: Vec<&str> = head.split('_').collect();
        let n = |i: usize| {
            parts
                .get(i)
                .and_then(|p| p.parse::<usize>().ok())
                .filter(|n| *n >= 2)
        };
        let t = match parts.as_slice() {
            ["zscore", _] => n(1).map(Transform::ZScore),
            ["minmax", _] => n(1).map(Transform::MinMax),
            ["winsor", _, p] => match (n(1), p.parse::<f64>()) {
                (Some(n), Ok(p)) if (0.0..50.0).contains(&p) => Some(Transform::Winsor(n, p)),
                _ => None,
            },
            ["missing"] => Some(Transform::Missing),
            ["ffill"] => Some(Transform::ForwardFill),
            _ => None,
        };
        Some(t.map(|t| (t, feature)).ok_or_else(bad))
    }

    /// How many past values (the current one included) the transform reads.
    pub fn depth(&self) -> Option<usize> {
        match self {
            Transform::ZScore(n) | Transform::MinMax(n) | Transform::Winsor(n, _) => Some(*n),
            Transform::Missing => Some(1),
            Transform::ForwardFill => None,
        }
    }

    /// Applies the transform to a feature's history, oldest first and ending at the current
    /// value. `None` while the history is shorter than the transform needs.
    pub fn apply(&self, history: &[f64]) -> Option<f64> {
        let current = *history.last()?;
        match *self {
            Transform::Missing => Some(if current.is_nan() { 1.0 } else { 0.0 }),
            Transform::ForwardFill => history.iter().rev().copied().find(|v| !v.is_nan()),
            Transform::ZScore(n) | Transform::MinMax(n) | Transform::Winsor(n, _) => {
                if history.len() < n || current.is_nan() {
                    return None;
                }
                let window: Vec<f64> = history[history.len() - n..]
                    .iter()
                    .copied()
                    .filter(|v| !v.is_nan())
                    .collect();
                if window.len() < 2 {
                    return None;
                }
                let len = window.len() as f64;
                Some(match *self {
                    Transform::ZScore(_) => {
                        let mean = window.iter().sum::<f64>() / len;
                        let var = window.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / len;
                        if var > 0.0 {
                            (current - mean) / var.sqrt()
                        } else {
                            0.0
                        }
                    }
                    Transform::MinMax(_) => {
                        let (lo, hi) = window
                            .iter()
                            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                                (a.min(*v), b.max(*v))
                            });
                        if hi > lo {
                            (current - lo) / (hi - lo)
                        } else {
                            0.5
                        }
                    }
                    Transform::Winsor(_, p) => {
                        let mut sorted = window;
                        sorted.sort_by(f64::total_cmp);
                        current.clamp(percentile(&sorted, p), percentile(&sorted, 100.0 - p))
                    }
                    _ => unreachable!("handled above"),
                })
            }
        }
    }
}

/// Linear-interpolated percentile `p` (0..=100) of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_transforms_and_refuses_bad_ones() {
        assert_eq!(
            Transform::parse("zscore_20:RSI_14"),
            Some(Ok((Transform::ZScore(20), "RSI_14")))
        );
        assert_eq!(
            Transform::parse("winsor_100_1:ret_1"),
            Some(Ok((Transform::Winsor(100, 1.0), "ret_1")))
        );
        assert_eq!(Transform::parse("RSI_14"), None);
        assert!(Transform::parse("zscore_1:x").unwrap().is_err());
        assert!(
            Transform::parse("winsor_10_60:x")
                .unwrap()
                .unwrap_err()
                .contains("winsor_N_P")
        );
    }

    #[test]
    fn statistics_use_the_window_up_to_now() {
        let h = [1.0, 2.0, 3.0, 4.0, 100.0];
        assert_eq!(Transform::MinMax(3).apply(&h), Some(1.0));
        assert_eq!(Transform::MinMax(3).apply(&h[..3]), Some(1.0));
        let z = Transform::ZScore(4).apply(&[1.0, 1.0, 1.0, 3.0]).unwrap();
        assert!((z - (3.0 - 1.5) / 0.75f64.sqrt()).abs() < 1e-12);
        assert_eq!(Transform::Winsor(5, 25.0).apply(&h), Some(4.0));
        assert_eq!(Transform::ZScore(10).apply(&h), None, "short history");
        assert_eq!(Transform::Missing.apply(&[1.0, f64::NAN]), Some(1.0));
        assert_eq!(
            Transform::ForwardFill.apply(&[1.0, 2.0, f64::NAN]),
            Some(2.0)
        );
    }
}
