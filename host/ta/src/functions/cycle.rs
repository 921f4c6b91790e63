//! Cycle Indicators: the Hilbert-transform family.

use crate::registry::Function;

pub(crate) static FUNCTIONS: &[Function] = &[];
