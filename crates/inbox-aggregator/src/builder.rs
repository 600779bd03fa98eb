//! Configuring an [`Inbox`].

use std::collections::HashMap;
use std::sync::Arc;

use inbox_http::RetryPolicy;
use inbox_normalize::Timestamp;
use tokio::sync::Semaphore;

use crate::inbox::{Inbox, ProgressFn, Shared, Source};
use crate::limiter::Limiter;
use crate::report::Progress;
use crate::source::MessageSource;

/// Why an [`Inbox`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Two sources have the same name: targets could not tell them apart. Rename one
    /// (`PartooSource::named`, `BirdSource::named`).
    #[error("two sources are named `{name}`: give each a name of its own")]
    DuplicateSource {
        /// The name.
        name: String,
    },
}

/// Configures an [`Inbox`]. Start with [`Inbox::builder`].
pub struct InboxBuilder {
    sources: Vec<Arc<dyn MessageSource>>,
    concurrency: usize,
    since: Option<Timestamp>,
    progress: Option<ProgressFn>,
    max_pages: Option<usize>,
    retry: RetryPolicy,
    buffer: usize,
}

impl Default for InboxBuilder {
    fn default() -> Self {
        Self {
            sources: Vec::new(),
            concurrency: 16,
            since: None,
            progress: None,
            max_pages: Some(10_000),
            retry: RetryPolicy::default(),
            buffer: 8,
        }
    }
}

impl InboxBuilder {
    /// Adds a source. Names must be unique ([`InboxBuilder::build`] says otherwise).
    pub fn source(mut self, source: impl MessageSource + 'static) -> Self {
        self.sources.push(Arc::new(source));
        self
    }

    /// Adds a shared source.
    pub fn shared_source(mut self, source: Arc<dyn MessageSource>) -> Self {
        self.sources.push(source);
        self
    }

    /// Requests in flight across all sources (default 16). Each source also keeps to its own
    /// [`crate::SourceLimits`].
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.concurrency = requests.max(1);
        self
    }

    /// Fetches only messages created at or after `since` (a conversation target may set its
    /// own with [`crate::Target::since`]).
    pub fn since(mut self, since: Timestamp) -> Self {
        self.since = Some(since);
        self
    }

    /// Calls `f` with the counters after every page and every finished conversation.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Fails a conversation (or a listing) after this many pages if more remain (default
    /// 10 000; `None` for no cap).
    pub fn max_pages(mut self, pages: Option<usize>) -> Self {
        self.max_pages = pages;
        self
    }

    /// The retry policy of every request (default [`RetryPolicy::default`]). Each attempt
    /// holds a request slot and nothing more: the waits are spent outside, and a 429 pauses
    /// its whole source for the wait. Sources send single attempts, so a client's own
    /// policy does not apply inside an inbox: this one does.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Pages of messages buffered between the fetchers and the consumer of
    /// [`Inbox::stream`] (default 8). With the pages in flight, this bounds memory.
    pub fn buffer(mut self, pages: usize) -> Self {
        self.buffer = pages.max(1);
        self
    }

    /// The inbox; fails when two sources have the same name.
    pub fn build(self) -> Result<Inbox, BuildError> {
        let mut sources = HashMap::with_capacity(self.sources.len());
        for source in self.sources {
            let name: Arc<str> = source.name().into();
            if sources.contains_key(&name) {
                return Err(BuildError::DuplicateSource {
                    name: name.to_string(),
                });
            }
            let limiter = Limiter::new(source.limits());
            sources.insert(
                name.clone(),
                Source {
                    name,
                    source,
                    limiter,
                    requests: std::sync::atomic::AtomicUsize::new(0),
                    account: tokio::sync::OnceCell::new(),
                },
            );
        }
        Ok(Inbox::from_shared(Shared {
            sources,
            global: Arc::new(Semaphore::new(self.concurrency)),
            // Pages decoded at once: one per core. More would only add threads (and their
            // memory) to the blocking pool without decoding any faster.
            decoders: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            )),
            since: self.since,
            progress: self.progress,
            max_pages: self.max_pages,
            retry: self.retry,
            buffer: self.buffer,
        }))
    }
}
