//! Indicator specs: TA-Lib's function name followed by its parameters, joined by `_`.
//!
//! `SMA_20`, `BBANDS_20_2_2_0`, `MACD_12_26_9`: parameters in TA-Lib's order, trailing ones
//! optional (they take TA-Lib's defaults), numbers in their shortest form. An output column is
//! named by the spec, with `.` and the output's name appended when the function has several.

use thiserror::Error;

use crate::indicator::Indicator;
use crate::registry::{self, Function};

/// Why a spec was refused.
#[derive(Debug, Error, PartialEq)]
pub enum SpecError {
    /// No function has this name.
    #[error("unknown indicator {name:?}; accepted: {accepted}")]
    Unknown {
        /// The name given.
        name: String,
        /// Every accepted name.
        accepted: String,
    },
    /// A parameter is not a number.
    #[error("{name}: parameter {position} is {text:?}, not a number")]
    NotANumber {
        /// The function.
        name: String,
        /// 1-based position of the parameter.
        position: usize,
        /// The text given.
        text: String,
    },
    /// Too many or too few parameters.
    #[error("{name} takes parameters ({expected}), got {got}")]
    Arity {
        /// The function.
        name: String,
        /// The parameters it takes, in order.
        expected: String,
        /// How many were given.
        got: usize,
    },
    /// A parameter is outside its range or of the wrong kind.
    #[error("{name}: {reason}")]
    Param {
        /// The function.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// A parsed spec: a function and one value for each of its parameters.
#[derive(Clone)]
pub struct Spec {
    /// The function.
    pub function: &'static Function,
    /// One value per parameter: those given, then TA-Lib's defaults.
    pub values: Vec<f64>,
    /// How many parameters the spec gave explicitly.
    pub given: usize,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl Spec {
    /// Parses `NAME[_p1[_p2...]]`, checking the name and every parameter.
    pub fn parse(text: &str) -> Result<Spec, SpecError> {
        let text = text.trim();
        let function = registry::find_prefix(text).ok_or_else(|| SpecError::Unknown {
            name: text.to_string(),
            accepted: registry::all()
                .iter()
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        let rest = &text[function.name.len()..];
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest[1..].split('_').collect()
        };
        if parts.len() > function.params.len() {
            return Err(SpecError::Arity {
                name: function.name.to_string(),
                expected: function
                    .params
                    .iter()
                    .map(|p| p.name)
                    .collect::<Vec<_>>()
                    .join(", "),
                got: parts.len(),
            });
        }
        let mut values = function.defaults();
        for (i, part) in parts.iter().enumerate() {
            values[i] = part.parse::<f64>().map_err(|_| SpecError::NotANumber {
                name: function.name.to_string(),
                position: i + 1,
                text: part.to_string(),
            })?;
        }
        function.build(&values)?;
        Ok(Spec {
            function,
            values,
            given: parts.len(),
        })
    }

    /// The spec with every parameter written out, TA-Lib's defaults included.
    pub fn with_defaults(function: &'static Function) -> Spec {
        Spec {
            function,
            values: function.defaults(),
            given: function.params.len(),
        }
    }

    /// The canonical name: the function and the given parameters in their shortest form.
    pub fn name(&self) -> String {
        let mut name = self.function.name.to_string();
        for value in &self.values[..self.given] {
            name.push('_');
            name.push_str(&shortest(*value));
        }
        name
    }

    /// One column name per output: the spec's name, plus `.output` when there are several.
    pub fn column_names(&self) -> Vec<String> {
        let name = self.name();
        if self.function.outputs.len() == 1 {
            vec![name]
        } else {
            self.function
                .outputs
                .iter()
                .map(|o| format!("{name}.{o}"))
                .collect()
        }
    }

    /// A fresh indicator for this spec.
    pub fn build(&self) -> Box<dyn Indicator> {
        (self.function.build)(&self.values)
    }
}

/// A number in its shortest form: `20`, `2`, `0.5`.
pub fn shortest(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_underscores_and_fills_defaults() {
        let spec = Spec::parse("SMA_20").unwrap();
        assert_eq!(spec.function.name, "SMA");
        assert_eq!(spec.values, vec![20.0]);
        assert_eq!(spec.name(), "SMA_20");
        assert_eq!(Spec::parse("sma").unwrap().values, vec![30.0]);
    }

    #[test]
    fn refuses_unknown_names_and_bad_parameters_clearly() {
        let err = Spec::parse("NOPE_3").unwrap_err().to_string();
        assert!(
            err.contains("unknown indicator \"NOPE_3\"") && err.contains("SMA"),
            "{err}"
        );
        // Text that is not ASCII is refused, not cut inside a character.
        for text in ["éé", "SMé", "Sé_3", "ÉMA_5", "MINUS_é"] {
            assert!(Spec::parse(text).is_err(), "{text}");
        }
        let err = Spec::parse("SMA_x").unwrap_err().to_string();
        assert!(err.contains("not a number"), "{err}");
        let err = Spec::parse("SMA_0").unwrap_err().to_string();
        assert!(
            err.contains("timeperiod must be within 1..=100000"),
            "{err}"
        );
        let err = Spec::parse("SMA_2.5").unwrap_err().to_string();
        assert!(err.contains("whole number"), "{err}");
        let err = Spec::parse("SMA_2_3").unwrap_err().to_string();
        assert!(
            err.contains("takes parameters (timeperiod), got 2"),
            "{err}"
        );
    }

    #[test]
    fn shortest_numbers() {
        assert_eq!(shortest(20.0), "20");
        assert_eq!(shortest(0.5), "0.5");
        assert_eq!(shortest(-2.0), "-2");
    }
}
