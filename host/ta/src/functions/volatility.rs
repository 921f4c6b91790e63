//! Volatility Indicators: ranges and volatility.

use crate::registry::Function;

pub(crate) static FUNCTIONS: &[Function] = &[];
