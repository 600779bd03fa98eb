//! A progress bar on stderr (indicatif), only when stderr is a terminal and not `--quiet`:
//! conversations done of those to fetch, messages, rate and ETA.

use std::io::IsTerminal;

use inbox::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar of one command.
pub(crate) struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    pub(crate) fn new(quiet: bool) -> Self {
        let shown = !quiet && std::io::stderr().is_terminal();
        let bar = shown.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} conversations, {msg} ({per_sec}, ETA {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("#>.");
            bar.set_style(style);
            bar.set_message("listing…");
            bar
        });
        Self { bar }
    }

    /// Shows what `p` counts.
    pub(crate) fn update(&self, p: Progress) {
        let Some(bar) = &self.bar else { return };
        bar.set_length(p.conversations_total as u64);
        bar.set_position(p.conversations_done as u64);
        bar.set_message(format!("{} messages", p.messages));
    }

    /// Says what the command is doing before there is anything to count.
    pub(crate) fn phase(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what.to_owned());
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
