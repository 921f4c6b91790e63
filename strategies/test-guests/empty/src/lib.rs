//! Does nothing: the cost of a call into a component and nothing else.

use stratbox_guest::prelude::*;

struct Empty;

impl Strategy for Empty {
    fn init(_config: &str) -> Result<Self, String> {
        Ok(Empty)
    }
}

export_strategy!(Empty);
