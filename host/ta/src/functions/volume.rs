//! Volume Indicators: functions of volume.

use crate::registry::Function;

pub(crate) static FUNCTIONS: &[Function] = &[];
