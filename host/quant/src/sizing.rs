//! Position sizing: how much to hold given volatility, an edge, or a stop, as a fraction of
//! equity (or a quantity), scaled by a signal's strength and always clipped to a cap the
//! caller takes from the budget.

/// Sizes refuse inputs that are not finite or not positive where a size must be: they return
/// zero rather than a guess.
fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// Volatility targeting: the fraction of equity whose volatility is `target_vol` when the
/// asset's is `asset_vol` (both over the same period), times `strength` in [0, 1], at most
/// `max_fraction`.
pub fn volatility_target(target_vol: f64, asset_vol: f64, strength: f64, max_fraction: f64) -> f64 {
    if !positive(target_vol) || !positive(asset_vol) {
        return 0.0;
    }
    clip(target_vol / asset_vol * strength, max_fraction)
}

/// Fractional Kelly for a bet won with probability `win_prob` paying `payoff` times the amount
/// risked (loss of the whole amount otherwise): `fraction * (p - (1 - p) / b)`, zero without
/// an edge, times `strength`, at most `max_fraction`.
pub fn kelly(win_prob: f64, payoff: f64, fraction: f64, strength: f64, max_fraction: f64) -> f64 {
    if !(0.0..=1.0).contains(&win_prob) || !positive(payoff) || !positive(fraction) {
        return 0.0;
    }
    let full = win_prob - (1.0 - win_prob) / payoff;
    clip(full * fraction * strength, max_fraction)
}

/// Fixed fraction risked: the quantity whose loss at the stop is `risk_fraction` of `equity`
/// (`equity * risk_fraction / |entry - stop|`), times `strength`, at most `max_quantity`.
pub fn fixed_risk(
    equity: f64,
    risk_fraction: f64,
    entry: f64,
    stop: f64,
    strength: f64,
    max_quantity: f64,
) -> f64 {
    let distance = (entry - stop).abs();
    if !positive(equity) || !positive(risk_fraction) || !positive(distance) {
        return 0.0;
    }
    clip(equity * risk_fraction / distance * strength, max_quantity)
}

/// `x` within `[0, cap]`; zero for anything not finite, and for a strength outside [0, 1]
/// (which callers pass through `x`).
fn clip(x: f64, cap: f64) -> f64 {
    if !x.is_finite() || !cap.is_finite() {
        return 0.0;
    }
    x.clamp(0.0, cap.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_scaled_and_clipped() {
        assert!((volatility_target(0.1, 0.4, 1.0, 1.0) - 0.25).abs() < 1e-15);
        assert!((volatility_target(0.1, 0.4, 0.5, 1.0) - 0.125).abs() < 1e-15);
        assert_eq!(volatility_target(0.1, 0.01, 1.0, 1.0), 1.0);
        assert_eq!(volatility_target(0.1, 0.0, 1.0, 1.0), 0.0);
        // p = 0.6, b = 1: full Kelly 0.2; half Kelly 0.1.
        assert!((kelly(0.6, 1.0, 0.5, 1.0, 1.0) - 0.1).abs() < 1e-15);
        assert_eq!(kelly(0.4, 1.0, 0.5, 1.0, 1.0), 0.0);
        assert_eq!(kelly(0.9, 3.0, 1.0, 1.0, 0.25), 0.25);
        // 1 % of 10,000 risked over a 50 stop distance: 2 units.
        assert!((fixed_risk(10_000.0, 0.01, 1_000.0, 950.0, 1.0, 10.0) - 2.0).abs() < 1e-12);
        assert_eq!(fixed_risk(10_000.0, 0.01, 1_000.0, 1_000.0, 1.0, 10.0), 0.0);
        assert_eq!(fixed_risk(10_000.0, 0.01, 1_000.0, 999.0, 1.0, 10.0), 10.0);
        assert_eq!(fixed_risk(f64::NAN, 0.01, 1_000.0, 950.0, 1.0, 10.0), 0.0);
    }
}
