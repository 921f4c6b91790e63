//! Momentum functions built on moving averages, differences and ranges.

use crate::registry::Function;

pub(crate) static FUNCTIONS: &[Function] = &[];
