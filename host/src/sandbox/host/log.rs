//! `log`: levelled logging, bounded per callback and per line.

use super::{GuestCtx, HostResult};
use crate::sandbox::bindings::v0_2::strategy::stratbox::strategy::{log, types};
use crate::sandbox::convert::v0_2 as convert;
use tracing::Level;

/// Longest line kept, in bytes.
const MAX_LINE: usize = 1024;

impl GuestCtx {
    /// Logs a guest's line at `level`, dropping lines past the callback's bound and cutting long
    /// ones.
    pub(crate) fn log_line(&mut self, level: Level, mut message: String) {
        self.counters.logs += 1;
        if self.counters.logs > self.limits.logs_per_callback {
            return;
        }
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
            Level::TRACE => tracing::trace!(target: "guest", deployment = name, "{message}"),
            Level::DEBUG => tracing::debug!(target: "guest", deployment = name, "{message}"),
            Level::INFO => tracing::info!(target: "guest", deployment = name, "{message}"),
            Level::WARN => tracing::warn!(target: "guest", deployment = name, "{message}"),
            Level::ERROR => tracing::error!(target: "guest", deployment = name, "{message}"),
        }
    }
}

impl log::Host for GuestCtx {
    fn log(&mut self, level: types::Level, message: String) -> HostResult<()> {
        self.log_line(convert::level_in(level), message);
        Ok(())
    }
}
