//! A progress line on stderr, only when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use inbox::Progress;

const BAR: usize = 30;

/// Draws `[#####.....] 12/24 conversations, 340 messages` in place.
pub(crate) struct Bar {
    enabled: bool,
    last: Mutex<Option<(usize, usize)>>,
}

impl Bar {
    pub(crate) fn new(quiet: bool) -> Self {
        Self {
            enabled: !quiet && std::io::stderr().is_terminal(),
            last: Mutex::new(None),
        }
    }

    pub(crate) fn update(&self, p: Progress) {
        if !self.enabled {
            return;
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        let now = (p.conversations_done, p.messages);
        if *last == Some(now) {
            return;
        }
        *last = Some(now);
        let filled = (BAR * p.conversations_done)
            .checked_div(p.conversations_total)
            .unwrap_or(0)
            .min(BAR);
        let bar: String = "#".repeat(filled) + &".".repeat(BAR - filled);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{bar}] {}/{} conversations, {} messages",
            p.conversations_done, p.conversations_total, p.messages
        );
        let _ = err.flush();
    }

    pub(crate) fn finish(&self) {
        if self.enabled {
            let _ = writeln!(std::io::stderr());
        }
    }
}
