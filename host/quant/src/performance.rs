//! How much a strategy's Sharpe ratio can be trusted: a block-bootstrap confidence interval,
//! and Bailey and López de Prado's probabilistic and deflated Sharpe ratios ("The Deflated
//! Sharpe Ratio", 2014), which discount a ratio for short, skewed, fat-tailed samples and for
//! the number of configurations tried before it was found. Ratios here are per period (not
//! annualised): mean over sample standard deviation (ddof 1) of simple returns.

use crate::rng::Rng;
use crate::stats::{excess_kurtosis, mean, normal_cdf, normal_ppf, quantile_sorted, skewness, std};

/// The Euler–Mascheroni constant.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Mean over sample standard deviation (ddof 1); NaN with fewer than two returns or none
/// varying.
pub fn sharpe(returns: &[f64]) -> f64 {
    if returns.len() < 2 {
        return f64::NAN;
    }
    let sd = std(returns, 1);
    if sd > 0.0 {
        mean(returns) / sd
    } else {
        f64::NAN
    }
}

/// The `confidence` interval (e.g. 0.95) of the per-period Sharpe ratio by a moving-block
/// bootstrap: `resamples` series of the same length drawn as blocks of `block` consecutive
/// returns (which keeps their autocorrelation), seeded; the interval's ends are the
/// percentiles of the resampled ratios (numpy's linear quantile). NaN ends with fewer than two
/// returns.
pub fn bootstrap_sharpe_interval(
    returns: &[f64],
    block: usize,
    resamples: usize,
    confidence: f64,
    seed: u64,
) -> (f64, f64) {
    let n = returns.len();
    if n < 2 || resamples == 0 {
        return (f64::NAN, f64::NAN);
    }
    let block = block.clamp(1, n);
    let starts = (n - block + 1) as u64;
    let mut rng = Rng(seed);
    let mut sample = Vec::with_capacity(n);
    let mut ratios: Vec<f64> = (0..resamples)
        .map(|_| {
            sample.clear();
            while sample.len() < n {
                let from = (rng.next_u64() % starts) as usize;
                let take = block.min(n - sample.len());
                sample.extend_from_slice(&returns[from..from + take]);
            }
            sharpe(&sample)
        })
        .filter(|r| r.is_finite())
        .collect();
    if ratios.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    ratios.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    (
        quantile_sorted(&ratios, tail),
        quantile_sorted(&ratios, 1.0 - tail),
    )
}

/// The probability that the true per-period Sharpe ratio exceeds `benchmark`, given an
/// estimate `sr` from `n` returns of skewness `skew` and excess kurtosis `excess_kurt`:
/// `Φ((SR − SR*)·√(n − 1) / √(1 − γ₃·SR + (γ₄ − 1)/4·SR²))`.
pub fn probabilistic_sharpe(sr: f64, benchmark: f64, n: usize, skew: f64, excess_kurt: f64) -> f64 {
    let kurt = excess_kurt + 3.0;
    let spread = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr;
    normal_cdf((sr - benchmark) * ((n as f64) - 1.0).sqrt() / spread.max(f64::MIN_POSITIVE).sqrt())
}

/// The Sharpe ratio the best of `trials` unskilled configurations would show by luck, when
/// their estimated ratios vary with variance `variance`:
/// `√V·((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)))`; 0 for one trial.
pub fn expected_maximum_sharpe(trials: usize, variance: f64) -> f64 {
    if trials < 2 {
        return 0.0;
    }
    let n = trials as f64;
    variance.max(0.0).sqrt()
        * ((1.0 - EULER_GAMMA) * normal_ppf(1.0 - 1.0 / n)
            + EULER_GAMMA * normal_ppf(1.0 - 1.0 / (n * std::f64::consts::E)))
}

/// The deflated Sharpe ratio of `returns`: the probabilistic Sharpe ratio against the best
/// ratio `trials` configurations whose ratios vary by `variance` would show by luck. NaN with
/// fewer than three returns.
pub fn deflated_sharpe(returns: &[f64], trials: usize, variance: f64) -> f64 {
    if returns.len() < 3 {
        return f64::NAN;
    }
    let sr = sharpe(returns);
    let benchmark = expected_maximum_sharpe(trials, variance);
    probabilistic_sharpe(
        sr,
        benchmark,
        returns.len(),
        skewness(returns),
        excess_kurtosis(returns),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deflated_sharpe_ratio_matches_the_papers_example() {
        // Bailey & López de Prado (2014), section 4: an annualised SR of 2.5 over 1250 daily
        // returns, skewness −3, kurtosis 10, 100 trials whose annualised ratios have variance
        // 0.5. Values from scipy.stats.norm with the formulas above (the paper: DSR ≈ 0.9004).
        let sr = 2.5 / 250f64.sqrt();
        let benchmark = expected_maximum_sharpe(100, 0.5 / 250.0);
        assert!(
            (benchmark - 0.113_172_001_865_132_14).abs() < 1e-12,
            "{benchmark}"
        );
        let dsr = probabilistic_sharpe(sr, benchmark, 1250, -3.0, 7.0);
        assert!((dsr - 0.900_396_834_449_390_3).abs() < 1e-9, "{dsr}");
        let psr = probabilistic_sharpe(sr, 0.0, 1250, -3.0, 7.0);
        assert!((psr - 0.999_996_859_507_897_6).abs() < 1e-9, "{psr}");
        assert_eq!(expected_maximum_sharpe(1, 0.3), 0.0);
    }

    #[test]
    fn the_bootstrap_interval_holds_the_estimate_and_narrows_with_more_data() {
        let mut rng = Rng(3);
        let returns: Vec<f64> = (0..4000).map(|_| 0.001 + 0.01 * rng.normal()).collect();
        let sr = sharpe(&returns);
        let (lo, hi) = bootstrap_sharpe_interval(&returns, 10, 500, 0.95, 1);
        assert!(lo < sr && sr < hi, "{lo} {sr} {hi}");
        // The standard error of a Sharpe ratio is about 1/√n: 0.0158 here, so ±0.031.
        assert!(
            (hi - lo - 2.0 * 1.96 / 4000f64.sqrt()).abs() < 0.012,
            "{lo} {hi}"
        );
        let (lo2, hi2) = bootstrap_sharpe_interval(&returns[..400], 10, 500, 0.95, 1);
        assert!(hi2 - lo2 > 2.5 * (hi - lo));
        assert_eq!(
            bootstrap_sharpe_interval(&returns, 10, 500, 0.95, 1),
            (lo, hi),
            "seeded"
        );
        assert!(bootstrap_sharpe_interval(&[0.1], 1, 10, 0.95, 1).0.is_nan());
    }
}
