//! Directional movement, range and oscillator functions (Momentum and Volatility groups).

use crate::registry::Function;

pub(crate) static FUNCTIONS: &[Function] = &[];
