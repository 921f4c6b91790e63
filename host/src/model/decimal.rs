//! [`Decimal`]: an exact decimal number of any size kept as its canonical text, for values
//! that must round-trip unchanged (candle prices and volumes in the history store) but may
//! exceed [`Fixed`](super::Fixed)'s range (base volumes of low-priced coins do).

use std::fmt;
use std::str::FromStr;

/// A non-negative or negative decimal in canonical form: no leading zeros, no trailing
/// fractional zeros, no `+`, `-0` written `0`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Decimal(String);

/// Text that is not a plain decimal number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0:?} is not a decimal number")]
pub struct DecimalError(pub String);

impl Decimal {
    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The nearest f64.
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;

    /// Accepts plain decimals and scientific notation (`9.417e-05`, as some exports write
    /// small volumes); the value is kept exactly either way.
    fn from_str(s: &str) -> Result<Self, DecimalError> {
        let bad = || DecimalError(s.to_string());
        let t = s.trim();
        let (mantissa, exponent) = match t.split_once(['e', 'E']) {
            Some((m, e)) => (
                m,
                e.parse::<i32>()
                    .ok()
                    .filter(|e| e.abs() <= 1000)
                    .ok_or_else(bad)?,
            ),
            None => (t, 0),
        };
        let (negative, body) = match mantissa.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        // All digits, and where the decimal point falls among them.
        let digits: String = format!("{int}{frac}");
        let point = int.len() as i64 + i64::from(exponent);
        let (int, frac) = if point <= 0 {
            (
                String::new(),
                format!("{}{digits}", "0".repeat((-point) as usize)),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_string(),
                digits[point as usize..].to_string(),
            )
        };
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        let mut out = String::with_capacity(int.len() + frac.len() + 2);
        if negative && !(int.is_empty() && frac.is_empty()) {
            out.push('-');
        }
        out.push_str(if int.is_empty() { "0" } else { int });
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        Ok(Decimal(out))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalises_and_rejects() {
        for (input, canonical) in [
            ("0.00100000", "0.001"),
            ("00012.50", "12.5"),
            ("-0.000", "0"),
            ("+7", "7"),
            (".5", "0.5"),
            (
                "12345678901234567890.123456789",
                "12345678901234567890.123456789",
            ),
            ("9.417e-05", "0.00009417"),
            ("5.33E-5", "0.0000533"),
            ("1.5e3", "1500"),
            ("-2e0", "-2"),
        ] {
            assert_eq!(
                input.parse::<Decimal>().unwrap().as_str(),
                canonical,
                "{input}"
            );
        }
        for bad in [
            "", ".", "e5", "1e", "1e99999", "1.2.3", "abc", "--1", "NaN", "inf",
        ] {
            assert!(bad.parse::<Decimal>().is_err(), "{bad}");
        }
    }
}
