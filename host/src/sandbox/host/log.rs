//! `log`: levelled logging, bounded per callback and per line.

use super::{GuestCtx, HostResult};
use crate::sandbox::bindings::strategy::stratbox::strategy::{log, types};

/// Longest line kept, in bytes.
const MAX_LINE: usize = 1024;

impl log::Host for GuestCtx {
    fn log(&mut self, level: types::Level, message: String) -> HostResult<()> {
        self.counters.logs += 1;
        if self.counters.logs > self.limits.logs_per_callback {
            return Ok(());
        }
        let mut message = message;
        if message.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let name = &*self.name;
        match level {
            types::Level::Trace => tracing::trace!(target: "guest", deployment = name, "{message}"),
            types::Level::Debug => tracing::debug!(target: "guest", deployment = name, "{message}"),
            types::Level::Info => tracing::info!(target: "guest", deployment = name, "{message}"),
            types::Level::Warn => tracing::warn!(target: "guest", deployment = name, "{message}"),
            types::Level::Error => tracing::error!(target: "guest", deployment = name, "{message}"),
        }
        Ok(())
    }
}
