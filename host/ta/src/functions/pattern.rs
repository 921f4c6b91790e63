//! Pattern Recognition: TA-Lib candlestick patterns.

use crate::registry::Function;

pub(crate) static FUNCTIONS: &[Function] = &[];
