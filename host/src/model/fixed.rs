//! [`Fixed`]: an exact decimal with eight fractional digits, stored as an `i64` count of 1e-8.

use std::fmt;
use std::str::FromStr;

/// Why a value could not become a [`Fixed`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FixedError {
    /// NaN or infinite.
    #[error("{0} is not a finite number")]
    NotFinite(f64),
    /// Beyond about ±92 billion.
    #[error("{0} is out of range (at most ±92,233,720,368)")]
    OutOfRange(String),
    /// Not a decimal number, or more than eight fractional digits.
    #[error("{0:?} is not a decimal number with at most 8 fractional digits")]
    Malformed(String),
}

/// An exact decimal: `raw / 10^8`.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fixed(i64);

impl Fixed {
    /// Units per 1.0.
    pub const SCALE: i64 = 100_000_000;
    /// Zero.
    pub const ZERO: Fixed = Fixed(0);

    /// From a raw count of 1e-8 units.
    pub const fn from_raw(raw: i64) -> Self {
        Fixed(raw)
    }

    /// The raw count of 1e-8 units.
    pub const fn raw(self) -> i64 {
        self.0
    }

    /// From a whole number.
    pub const fn from_int(n: i64) -> Self {
        Fixed(n * Self::SCALE)
    }

    /// Rounds an f64 to the nearest 1e-8.
    pub fn from_f64(x: f64) -> Result<Self, FixedError> {
        if !x.is_finite() {
            return Err(FixedError::NotFinite(x));
        }
        let scaled = (x * Self::SCALE as f64).round();
        if scaled.abs() >= i64::MAX as f64 {
            return Err(FixedError::OutOfRange(x.to_string()));
        }
        Ok(Fixed(scaled as i64))
    }

    /// The nearest f64.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / Self::SCALE as f64
    }

    /// `self * other`, rounded to 1e-8 half away from zero; `None` on overflow.
    pub fn checked_mul(self, other: Fixed) -> Option<Fixed> {
        let wide = i128::from(self.0) * i128::from(other.0);
        let half = i128::from(Self::SCALE / 2) * wide.signum();
        i64::try_from((wide + half) / i128::from(Self::SCALE))
            .ok()
            .map(Fixed)
    }

    /// `self / other`, rounded to 1e-8 half away from zero; `None` when `other` is zero or the
    /// result overflows.
    pub fn checked_div(self, other: Fixed) -> Option<Fixed> {
        if other.0 == 0 {
            return None;
        }
        let num = i128::from(self.0) * i128::from(Self::SCALE);
        let den = i128::from(other.0);
        let q = num / den;
        let r = num % den;
        let q = if 2 * r.abs() >= den.abs() {
            q + if (num < 0) ^ (den < 0) { -1 } else { 1 }
        } else {
            q
        };
        i64::try_from(q).ok().map(Fixed)
    }

    /// `self / other` rounded toward negative infinity (how many whole units of 1e-8 fit);
    /// `None` when `other` is zero or the result overflows.
    pub fn checked_div_floor(self, other: Fixed) -> Option<Fixed> {
        if other.0 == 0 {
            return None;
        }
        let num = i128::from(self.0) * i128::from(Self::SCALE);
        i64::try_from(num.div_euclid(i128::from(other.0)))
            .ok()
            .map(Fixed)
    }

    /// `self * other`, saturating on overflow (for notional checks, where saturation means "too big").
    pub fn saturating_mul(self, other: Fixed) -> Fixed {
        self.checked_mul(other)
            .unwrap_or(if (self.0 < 0) ^ (other.0 < 0) {
                Fixed(i64::MIN)
            } else {
                Fixed(i64::MAX)
            })
    }

    /// Saturating addition.
    pub fn saturating_add(self, other: Fixed) -> Fixed {
        Fixed(self.0.saturating_add(other.0))
    }

    /// Saturating subtraction.
    pub fn saturating_sub(self, other: Fixed) -> Fixed {
        Fixed(self.0.saturating_sub(other.0))
    }

    /// Absolute value.
    pub fn abs(self) -> Fixed {
        Fixed(self.0.saturating_abs())
    }

    /// Whether strictly positive.
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Rounds down to a multiple of `step` (a tick or lot size); `step` must be positive.
    pub fn floor_to(self, step: Fixed) -> Fixed {
        Fixed(self.0.div_euclid(step.0) * step.0)
    }
}

impl std::ops::Neg for Fixed {
    type Output = Fixed;
    fn neg(self) -> Fixed {
        Fixed(self.0.saturating_neg())
    }
}

impl FromStr for Fixed {
    type Err = FixedError;

    /// Parses a decimal string exactly, e.g. Binance's `"0.00100000"`.
    fn from_str(s: &str) -> Result<Self, FixedError> {
        let malformed = || FixedError::Malformed(s.to_string());
        let t = s.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if (int_part.is_empty() && frac_part.is_empty())
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(malformed());
        }
        let frac_trimmed = frac_part.trim_end_matches('0');
        if frac_trimmed.len() > 8 {
            return Err(malformed());
        }
        let int: i64 = if int_part.is_empty() {
            0
        } else {
            int_part
                .parse()
                .map_err(|_| FixedError::OutOfRange(s.to_string()))?
        };
        let frac: i64 = format!("{frac_trimmed:0<8}")
            .parse()
            .map_err(|_| malformed())?;
        let raw = int
            .checked_mul(Self::SCALE)
            .and_then(|v| v.checked_add(frac))
            .ok_or_else(|| FixedError::OutOfRange(s.to_string()))?;
        Ok(Fixed(if negative { -raw } else { raw }))
    }
}

impl fmt::Display for Fixed {
    /// The shortest exact decimal form: `0.001`, `42`, `-1.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let int = abs / Self::SCALE as u64;
        let frac = abs % Self::SCALE as u64;
        if frac == 0 {
            write!(f, "{sign}{int}")
        } else {
            let digits = format!("{frac:08}");
            write!(f, "{sign}{int}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl fmt::Debug for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Fixed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// In the API's schema: exact decimal text (a JSON number is accepted too, rounded to 1e-8).
impl utoipa::PartialSchema for Fixed {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^-?[0-9]{1,11}(\.[0-9]{1,8})?$"))
                    .examples(["0.01"]),
            )
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .description(Some("An exact decimal, up to 8 places"))
            .into()
    }
}

impl utoipa::ToSchema for Fixed {}

impl<'de> serde::Deserialize<'de> for Fixed {
    /// From the exact decimal text [`Fixed`] serialises to (or a JSON number, rounded to 1e-8).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Text<'a> {
            Str(std::borrow::Cow<'a, str>),
            Number(f64),
        }
        match Text::deserialize(d)? {
            Text::Str(s) => s.parse().map_err(serde::de::Error::custom),
            Text::Number(x) => Fixed::from_f64(x).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binance_decimal_strings_exactly() {
        assert_eq!("0.00100000".parse::<Fixed>().unwrap().raw(), 100_000);
        assert_eq!("42".parse::<Fixed>().unwrap(), Fixed::from_int(42));
        assert_eq!("-1.5".parse::<Fixed>().unwrap().raw(), -150_000_000);
        assert_eq!(".5".parse::<Fixed>().unwrap().raw(), 50_000_000);
        assert!("1.000000001".parse::<Fixed>().is_err());
        assert!("abc".parse::<Fixed>().is_err());
        assert!("".parse::<Fixed>().is_err());
        assert!("1e5".parse::<Fixed>().is_err());
    }

    #[test]
    fn displays_shortest_form_and_round_trips() {
        for s in ["0.001", "42", "-1.5", "123456.12345678", "0"] {
            assert_eq!(s.parse::<Fixed>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn multiplies_with_rounding_and_detects_overflow() {
        let p: Fixed = "0.1".parse().unwrap();
        let q: Fixed = "0.3".parse().unwrap();
        assert_eq!(p.checked_mul(q).unwrap().to_string(), "0.03");
        assert!(
            Fixed::from_int(1_000_000)
                .checked_mul(Fixed::from_int(1_000_000))
                .is_none()
        );
        assert_eq!(
            "12.34567891"
                .parse::<Fixed>()
                .unwrap()
                .floor_to("0.01".parse().unwrap())
                .to_string(),
            "12.34"
        );
    }

    #[test]
    fn divides_with_rounding() {
        let f = |s: &str| s.parse::<Fixed>().unwrap();
        assert_eq!(
            f("1").checked_div(f("3")).unwrap().to_string(),
            "0.33333333"
        );
        assert_eq!(
            f("2").checked_div(f("3")).unwrap().to_string(),
            "0.66666667"
        );
        assert_eq!(
            f("-2").checked_div(f("3")).unwrap().to_string(),
            "-0.66666667"
        );
        assert_eq!(f("100").checked_div(f("0.25")).unwrap().to_string(), "400");
        assert!(f("1").checked_div(Fixed::ZERO).is_none());
        assert_eq!(
            f("2").checked_div_floor(f("3")).unwrap().to_string(),
            "0.66666666"
        );
        assert_eq!(
            f("250")
                .checked_div_floor(f("100.00000003"))
                .unwrap()
                .to_string(),
            "2.49999999"
        );
    }

    #[test]
    fn serialises_as_exact_text_and_back() {
        let f: Fixed = "123.45678901".parse().unwrap();
        let text = serde_json::to_string(&f).unwrap();
        assert_eq!(text, "\"123.45678901\"");
        assert_eq!(serde_json::from_str::<Fixed>(&text).unwrap(), f);
        assert_eq!(
            serde_json::from_str::<Fixed>("0.5").unwrap().to_string(),
            "0.5"
        );
        assert!(serde_json::from_str::<Fixed>("\"1e3\"").is_err());
    }

    #[test]
    fn rejects_non_finite_floats() {
        assert!(Fixed::from_f64(f64::NAN).is_err());
        assert!(Fixed::from_f64(f64::INFINITY).is_err());
        assert!(Fixed::from_f64(1e300).is_err());
        assert_eq!(Fixed::from_f64(0.1).unwrap().raw(), 10_000_000);
    }
}
