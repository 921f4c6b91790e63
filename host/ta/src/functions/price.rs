//! Price Transform: per-bar transforms of OHLC.

use crate::registry::Function;

pub(crate) static FUNCTIONS: &[Function] = &[];
