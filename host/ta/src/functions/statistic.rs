//! Statistic Functions: regression, correlation, variance and order statistics.

use crate::registry::Function;

pub(crate) static FUNCTIONS: &[Function] = &[];
