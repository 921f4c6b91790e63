//! Sample statistics and the distributions the risk measures use, with numpy's and scipy's
//! conventions (named at each function).

use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF, Normal};

/// The arithmetic mean (NaN for no values).
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// The standard deviation with `ddof` degrees of freedom removed (numpy's `std(ddof=...)`).
pub fn std(x: &[f64], ddof: usize) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - ddof) as f64).sqrt()
}

/// Central moments 2, 3 and 4 (divided by n).
fn moments(x: &[f64]) -> (f64, f64, f64) {
    let m = mean(x);
    let n = x.len() as f64;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for v in x {
        let d = v - m;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    (m2 / n, m3 / n, m4 / n)
}

/// Skewness, biased (scipy's `stats.skew` default).
pub fn skewness(x: &[f64]) -> f64 {
    let (m2, m3, _) = moments(x);
    m3 / m2.powf(1.5)
}

/// Excess kurtosis, biased (scipy's `stats.kurtosis` default: Fisher's definition).
pub fn excess_kurtosis(x: &[f64]) -> f64 {
    let (m2, _, m4) = moments(x);
    m4 / (m2 * m2) - 3.0
}

/// The `q` quantile of sorted values by linear interpolation between order statistics
/// (numpy's default method, "linear": position `q (n - 1)`).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = pos - lo as f64;
    // numpy's `_lerp`: from the nearer end, so the result is exact at both.
    let (a, b) = (sorted[lo], sorted[hi]);
    if frac >= 0.5 {
        b - (b - a) * (1.0 - frac)
    } else {
        a + (b - a) * frac
    }
}

fn standard_normal() -> Normal {
    Normal::standard()
}

/// The standard normal density.
pub fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// The standard normal distribution function.
pub fn normal_cdf(z: f64) -> f64 {
    standard_normal().cdf(z)
}

/// The standard normal quantile function (scipy's `norm.ppf`).
pub fn normal_ppf(p: f64) -> f64 {
    standard_normal().inverse_cdf(p)
}

/// The chi-square survival function with `dof` degrees of freedom (scipy's `chi2.sf`).
pub fn chi2_sf(x: f64, dof: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    ChiSquared::new(dof).expect("a positive dof").sf(x)
}

/// `P(X <= k)` for `X ~ Binomial(n, p)`.
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    Binomial::new(p, n).expect("p in [0, 1]").cdf(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_and_scipy() {
        let x = [0.3, -1.2, 2.5, 0.0, 0.7, -0.4];
        let mut s = x;
        s.sort_by(f64::total_cmp);
        // numpy.quantile(x, [0.05, 0.5, 0.99]); scipy.stats.skew / kurtosis; numpy.std(ddof=1).
        assert!((quantile_sorted(&s, 0.05) - -1.0).abs() < 1e-15);
        assert!((quantile_sorted(&s, 0.5) - 0.15).abs() < 1e-15);
        assert!((quantile_sorted(&s, 0.99) - 2.41).abs() < 1e-14);
        assert!((std(&x, 1) - 1.2512660255384012).abs() < 1e-15);
        assert!((skewness(&x) - 0.7353669578587823).abs() < 1e-14);
        assert!((excess_kurtosis(&x) - -0.2282127453827556).abs() < 1e-14);
        // scipy.stats.norm.ppf(0.05), chi2.sf(3.84, 1), chi2.sf(5.99, 2)
        assert!((normal_ppf(0.05) - -1.6448536269514729).abs() < 1e-14);
        assert!((chi2_sf(3.84, 1.0) - 0.05004352124870519).abs() < 1e-12);
        assert!((chi2_sf(5.99, 2.0) - 0.05003662708658629).abs() < 1e-12);
        assert!((binomial_cdf(4, 250, 0.01) - 0.8921876269036251).abs() < 1e-12);
    }
}
