//! [`Inbox`]: many conversations from many sources, fetched concurrently, merged.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::{Stream, StreamExt};
use inbox_normalize::{ConversationId, Message, MessageId, Timestamp};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::Rejected;
use crate::limiter::Limiter;
use crate::source::{
    Attempts, Body, MessageSource, Retry, RetryRule, SourceError, SourceErrorKind,
};

/// What to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// One conversation of the source named `source`.
    Conversation {
        /// The source's name.
        source: String,
        /// The conversation.
        id: ConversationId,
    },
    /// Every conversation of the source named `source` (as the source filters them).
    All {
        /// The source's name.
        source: String,
    },
}

impl Target {
    /// One conversation of a source.
    pub fn conversation(source: impl Into<String>, id: ConversationId) -> Self {
        Target::Conversation {
            source: source.into(),
            id,
        }
    }

    /// Every conversation of a source.
    pub fn all(source: impl Into<String>) -> Self {
        Target::All {
            source: source.into(),
        }
    }
}

/// How far a fetch has got; passed to the progress callback after every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Conversations to fetch (known once every `Target::All` is listed).
    pub conversations_total: usize,
    /// Conversations finished, failed ones included.
    pub conversations_done: usize,
    /// Conversations that failed.
    pub conversations_failed: usize,
    /// Messages delivered so far.
    pub messages: usize,
    /// Requests sent so far, retries included.
    pub requests: usize,
    /// Of those, requests that were retries (after a 429 or a transient failure).
    pub retries: usize,
}

/// Something that was not delivered, and why. Everything else was.
#[derive(Debug)]
pub struct Failure {
    /// The source's name.
    pub source: String,
    /// The conversation, when the failure concerns one.
    pub conversation: Option<ConversationId>,
    /// What failed.
    pub kind: FailureKind,
}

/// What failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum FailureKind {
    /// Listing the source's conversations failed; conversations listed before the error are
    /// fetched.
    Discovery(SourceError),
    /// A conversation stopped with an error; its messages delivered before it stand.
    Conversation(SourceError),
    /// One message did not decode: it is kept here raw; the conversation went on.
    InvalidMessage(Rejected),
    /// The target named a source this inbox does not have.
    UnknownSource,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(id) = &self.conversation {
            write!(f, " conversation {id}")?;
        }
        match &self.kind {
            FailureKind::Discovery(e) => write!(f, ": listing conversations failed: {e}"),
            FailureKind::Conversation(e) => write!(f, ": {e}"),
            FailureKind::InvalidMessage(r) => write!(f, ": message kept raw, {r}"),
            FailureKind::UnknownSource => f.write_str(": no such source in this inbox"),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            FailureKind::Discovery(e) | FailureKind::Conversation(e) => Some(e),
            _ => None,
        }
    }
}

/// A collected timeline: every message fetched, deduplicated and sorted by time, beside
/// everything that failed.
#[derive(Debug, Default)]
pub struct Timeline {
    /// The messages, oldest first (ties broken by provider, then id).
    pub messages: Vec<Message>,
    /// What was not delivered, and why.
    pub failures: Vec<Failure>,
    /// Messages dropped because an identical (provider, id) was already there.
    pub duplicates: usize,
    /// The progress counters at the end.
    pub progress: Progress,
}

type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// What the stream yields.
type Item = Result<Message, Failure>;

/// What fetchers send: the items of one page, or one failure.
type Batch = Vec<Item>;

struct Source {
    source: Arc<dyn MessageSource>,
    limiter: Limiter,
}

struct Shared {
    sources: HashMap<String, Source>,
    global: Arc<Semaphore>,
    /// Pages decoded at once: one per core. More would only add threads (and their memory)
    /// to the blocking pool without decoding any faster.
    decoders: Arc<Semaphore>,
    since: Option<Timestamp>,
    progress: Option<ProgressFn>,
    max_pages: Option<usize>,
    retry: RetryRule,
    buffer: usize,
}

/// Configures an [`Inbox`].
pub struct InboxBuilder {
    sources: Vec<Arc<dyn MessageSource>>,
    concurrency: usize,
    since: Option<Timestamp>,
    progress: Option<ProgressFn>,
    max_pages: Option<usize>,
    retry: RetryRule,
    buffer: usize,
}

impl InboxBuilder {
    /// Adds a source. Names must be unique; a later source with the same name replaces an
    /// earlier one.
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

    /// Fetches only messages created at or after `since`.
    pub fn since(mut self, since: Timestamp) -> Self {
        self.since = Some(since);
        self
    }

    /// Calls `f` with the counters after every page and every finished conversation.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Fails a conversation after this many pages if more remain (default 10 000).
    pub fn max_pages(mut self, pages: Option<usize>) -> Self {
        self.max_pages = pages;
        self
    }

    /// How many times in a row one request may be rate limited before its conversation
    /// fails (default 10). Each time, its whole source pauses for the `Retry-After`.
    pub fn max_rate_limited(mut self, times: u32) -> Self {
        self.retry.max_rate_limited = times;
        self
    }

    /// How many times in a row one request may fail transiently (5xx, timeout, cut
    /// connection) before its conversation fails (default 5).
    /// Each time the request waits a backoff and resumes from the same cursor, so a fault
    /// costs time, not messages.
    pub fn max_transient(mut self, times: u32) -> Self {
        self.retry.max_transient = times;
        self
    }

    /// Pages of messages buffered between the fetchers and the consumer of
    /// [`Inbox::stream`] (default 8). With the pages in flight, this bounds memory.
    pub fn buffer(mut self, pages: usize) -> Self {
        self.buffer = pages.max(1);
        self
    }

    /// The inbox.
    pub fn build(self) -> Inbox {
        let sources = self
            .sources
            .into_iter()
            .map(|source| {
                let limiter = Limiter::new(source.limits());
                (source.name().to_owned(), Source { source, limiter })
            })
            .collect();
        Inbox {
            shared: Arc::new(Shared {
                sources,
                global: Arc::new(Semaphore::new(self.concurrency)),
                decoders: Arc::new(Semaphore::new(
                    std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
                )),
                since: self.since,
                progress: self.progress,
                max_pages: self.max_pages,
                retry: self.retry,
                buffer: self.buffer,
            }),
        }
    }
}

/// Many conversations from many sources, fetched concurrently within bounds, merged into one
/// timeline. Cheap to clone.
///
/// Bounds: at most `concurrency` requests in flight overall, at most
/// [`crate::SourceLimits::max_in_flight`] per source, and each source's request rate. A
/// conversation is paged one request at a time, and a slot is held for one attempt only:
/// retrying is done here, between attempts. When a source answers 429, that whole source
/// pauses for the `Retry-After` (or a backoff) and the request is tried again: a rate limit
/// slows a source down instead of failing it. A transient failure (5xx, timeout, cut
/// connection) is tried again after a backoff, from the same cursor.
///
/// One conversation's failure does not stop the others: it is reported as a [`Failure`]
/// beside everything fetched.
#[derive(Clone)]
pub struct Inbox {
    shared: Arc<Shared>,
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&String> = self.shared.sources.keys().collect();
        f.debug_struct("Inbox")
            .field("sources", &names)
            .finish_non_exhaustive()
    }
}

impl Inbox {
    /// A builder with no source, 16 requests in flight, no `since`.
    pub fn builder() -> InboxBuilder {
        InboxBuilder {
            sources: Vec::new(),
            concurrency: 16,
            since: None,
            progress: None,
            max_pages: Some(10_000),
            retry: RetryRule::default(),
            buffer: 8,
        }
    }

    /// The names of the sources.
    pub fn source_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.shared.sources.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Every conversation of one source, within the source's bounds.
    pub async fn conversations(&self, source: &str) -> Result<Vec<ConversationId>, Failure> {
        let (ids, failure) = discover(&self.shared, source, &Counters::default()).await;
        match failure {
            Some(failure) => Err(failure),
            None => Ok(ids),
        }
    }

    /// The messages of `targets` as they arrive: not sorted across conversations, and each
    /// message of a conversation once (a message seen again on a later page of its
    /// conversation, as pages shift under new messages, is dropped). A message id listed in
    /// two conversations comes twice; [`Inbox::timeline`] deduplicates across everything.
    /// Failures come in between as `Err` and the stream goes on; it ends when every
    /// conversation is done.
    ///
    /// Memory is bounded by the pages in flight and the buffer, not by the total fetched.
    /// Nothing starts before the first poll, and dropping the stream stops the fetchers. Must
    /// be polled within a Tokio runtime.
    pub fn stream(
        &self,
        targets: Vec<Target>,
    ) -> impl Stream<Item = Result<Message, Failure>> + Send + 'static {
        self.stream_counted(targets, Arc::new(Counters::default()))
    }

    fn stream_counted(
        &self,
        targets: Vec<Target>,
        counters: Arc<Counters>,
    ) -> impl Stream<Item = Result<Message, Failure>> + Send + 'static {
        let start = Some((self.shared.clone(), targets, counters));
        // Fetchers send a page's worth at a time: one channel operation per page, not per
        // message. The stream hands the items out one by one.
        let state: (
            Option<_>,
            Option<mpsc::Receiver<Batch>>,
            std::vec::IntoIter<Item>,
        ) = (start, None, Vec::new().into_iter());
        futures_util::stream::unfold(state, |(start, rx, mut batch)| async move {
            let mut rx = match rx {
                Some(rx) => rx,
                None => {
                    let (shared, targets, counters) = start?;
                    let (tx, rx) = mpsc::channel(shared.buffer);
                    tokio::spawn(drive(shared, targets, counters, tx));
                    rx
                }
            };
            loop {
                if let Some(item) = batch.next() {
                    return Some((item, (None, Some(rx), batch)));
                }
                batch = rx.recv().await?.into_iter();
            }
        })
    }

    /// Every message of `targets`, deduplicated and sorted by time, beside every failure.
    pub async fn timeline(&self, targets: Vec<Target>) -> Timeline {
        let counters = Arc::new(Counters::default());
        let mut timeline = Timeline::default();
        let mut seen: HashSet<MessageId> = HashSet::new();
        let stream = self.stream_counted(targets, counters.clone());
        futures_util::pin_mut!(stream);
        while let Some(item) = stream.next().await {
            match item {
                Ok(message) if seen.insert(message.id.clone()) => timeline.messages.push(message),
                Ok(_) => timeline.duplicates += 1,
                Err(failure) => timeline.failures.push(failure),
            }
        }
        timeline.messages.sort_by(|a, b| {
            (a.timestamp, a.provider, &a.id).cmp(&(b.timestamp, b.provider, &b.id))
        });
        timeline.progress = counters.snapshot();
        timeline
    }
}

/// Counters of one run.
#[derive(Default)]
struct Counters {
    total: AtomicUsize,
    done: AtomicUsize,
    failed: AtomicUsize,
    messages: AtomicUsize,
    requests: AtomicUsize,
    retries: AtomicUsize,
}

impl Counters {
    fn snapshot(&self) -> Progress {
        Progress {
            conversations_total: self.total.load(Ordering::Relaxed),
            conversations_done: self.done.load(Ordering::Relaxed),
            conversations_failed: self.failed.load(Ordering::Relaxed),
            messages: self.messages.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
}

fn report(shared: &Shared, counters: &Counters) {
    if let Some(f) = &shared.progress {
        f(counters.snapshot());
    }
}

async fn drive(
    shared: Arc<Shared>,
    targets: Vec<Target>,
    counters: Arc<Counters>,
    tx: mpsc::Sender<Batch>,
) {
    let mut wanted: Vec<(String, ConversationId)> = Vec::new();
    let mut seen = HashSet::new();
    let mut listing = JoinSet::new();
    // Which source each listing task lists, to name it if the task dies.
    let mut listing_sources: HashMap<tokio::task::Id, String> = HashMap::new();
    for target in targets {
        match target {
            Target::Conversation { source, id } if shared.sources.contains_key(&source) => {
                if seen.insert((source.clone(), id.clone())) {
                    wanted.push((source, id));
                }
            }
            Target::All { source } if shared.sources.contains_key(&source) => {
                let (shared, counters) = (shared.clone(), counters.clone());
                let name = source.clone();
                let task = listing.spawn(async move {
                    let (ids, failure) = discover(&shared, &source, &counters).await;
                    (source, ids, failure)
                });
                listing_sources.insert(task.id(), name);
            }
            Target::Conversation { source, id } => {
                let failure = Failure {
                    source,
                    conversation: Some(id),
                    kind: FailureKind::UnknownSource,
                };
                if tx.send(vec![Err(failure)]).await.is_err() {
                    return;
                }
            }
            Target::All { source } => {
                let failure = Failure {
                    source,
                    conversation: None,
                    kind: FailureKind::UnknownSource,
                };
                if tx.send(vec![Err(failure)]).await.is_err() {
                    return;
                }
            }
        }
    }
    while let Some(listed) = listing.join_next_with_id().await {
        let (source, ids, failure) = match listed {
            Ok((_, listed)) => listed,
            Err(e) => {
                let source = listing_sources.get(&e.id()).cloned().unwrap_or_default();
                let error =
                    SourceError::new(SourceErrorKind::Other, format!("listing stopped: {e}"));
                (
                    source.clone(),
                    Vec::new(),
                    Some(Failure {
                        source,
                        conversation: None,
                        kind: FailureKind::Discovery(error),
                    }),
                )
            }
        };
        for id in ids {
            if seen.insert((source.clone(), id.clone())) {
                wanted.push((source.clone(), id));
            }
        }
        if let Some(failure) = failure {
            if tx.send(vec![Err(failure)]).await.is_err() {
                return;
            }
        }
    }
    counters.total.store(wanted.len(), Ordering::Relaxed);
    report(&shared, &counters);

    // One dispatcher per source starts its conversations as slots free up, so the tasks
    // alive at once are bounded by the sources' limits, not by how many conversations there
    // are.
    let mut per_source: HashMap<String, Vec<ConversationId>> = HashMap::new();
    for (source, id) in wanted {
        per_source.entry(source).or_default().push(id);
    }
    let mut dispatchers = JoinSet::new();
    for (source, ids) in per_source {
        dispatchers.spawn(dispatch(
            shared.clone(),
            counters.clone(),
            source,
            ids,
            tx.clone(),
        ));
    }
    drop(tx);
    while dispatchers.join_next().await.is_some() {}
}

/// Fetches `ids` of one source, as many at once as the source's slots allow.
async fn dispatch(
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    name: String,
    ids: Vec<ConversationId>,
    tx: mpsc::Sender<Batch>,
) {
    let Some(source) = shared.sources.get(&name) else {
        return;
    };
    let mut running = JoinSet::new();
    for id in ids {
        let Some(slot) = source.limiter.slot().await else {
            break;
        };
        if tx.is_closed() {
            break;
        }
        let conversation = fetch_conversation(
            shared.clone(),
            counters.clone(),
            name.clone(),
            id,
            tx.clone(),
        );
        running.spawn(async move {
            conversation.await;
            drop(slot);
        });
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
}

/// Lists every conversation of `source`; on error, those listed so far and the failure.
async fn discover(
    shared: &Shared,
    name: &str,
    counters: &Counters,
) -> (Vec<ConversationId>, Option<Failure>) {
    let Some(source) = shared.sources.get(name) else {
        return (
            Vec::new(),
            Some(Failure {
                source: name.into(),
                conversation: None,
                kind: FailureKind::UnknownSource,
            }),
        );
    };
    let pages = inbox_http::pages(shared.max_pages, |cursor: Option<String>| async move {
        let page = request(shared, source, counters, || {
            source.source.conversations_page(cursor.clone())
        })
        .await?;
        let next = page.next.clone();
        Ok::<_, SourceError>((page, next))
    });
    futures_util::pin_mut!(pages);
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => ids.extend(page.items),
            Err(e) => {
                let kind = FailureKind::Discovery(e);
                return (
                    ids,
                    Some(Failure {
                        source: name.into(),
                        conversation: None,
                        kind,
                    }),
                );
            }
        }
    }
    (ids, None)
}

async fn fetch_conversation(
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    name: String,
    id: ConversationId,
    tx: mpsc::Sender<Batch>,
) {
    let Some(source) = shared.sources.get(&name) else {
        return;
    };
    if tx.is_closed() {
        return;
    }
    let since = shared.since;
    // The fetcher pages on its own task and hands over each body the moment the next request
    // is sent, so decoding never delays a request; the one-slot channel keeps at most one
    // page waiting here besides the one being decoded and the one in flight.
    let (bodies, mut received) = mpsc::channel(1);
    let mut fetcher = AbortOnDrop(tokio::spawn(fetch_pages(
        shared.clone(),
        counters.clone(),
        name.clone(),
        id.clone(),
        bodies,
    )));
    // Duplicates come from pages shifting while a conversation receives messages: remember
    // this conversation's ids only, and only while it is being fetched.
    let mut delivered: HashSet<MessageId> = HashSet::new();
    let mut failure: Option<SourceError> = None;
    while let Some(body) = received.recv().await {
        // Decoding is CPU work in one piece (a few hundred microseconds a page): on the
        // blocking pool it cannot hold up the I/O tasks that send the next requests.
        let (decoder, conversation) = (source.source.clone(), id.clone());
        let decoded = match body {
            Ok(body) => match shared.decoders.clone().acquire_owned().await {
                Ok(permit) => tokio::task::spawn_blocking(move || {
                    let page = decoder.decode_messages(&conversation, body, since.as_ref());
                    drop(permit);
                    page
                })
                .await
                .unwrap_or_else(|e| {
                    Err(SourceError::new(
                        SourceErrorKind::Other,
                        format!("decoding stopped: {e}"),
                    ))
                }),
                Err(_) => Err(SourceError::new(
                    SourceErrorKind::Other,
                    "the inbox is shutting down",
                )),
            },
            Err(e) => Err(e),
        };
        let page = match decoded {
            Ok(page) => page,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let mut batch: Batch = Vec::with_capacity(page.items.len() + page.rejected.len());
        for message in page.items {
            if delivered.insert(message.id.clone()) {
                batch.push(Ok(message));
            }
        }
        counters.messages.fetch_add(batch.len(), Ordering::Relaxed);
        for rejected in page.rejected {
            let kind = FailureKind::InvalidMessage(rejected);
            batch.push(Err(Failure {
                source: name.clone(),
                conversation: Some(id.clone()),
                kind,
            }));
        }
        if !batch.is_empty() && tx.send(batch).await.is_err() {
            return;
        }
        report(&shared, &counters);
    }
    if failure.is_none() {
        // The channel closed: the fetcher is done. If it died (a panic in a source), say so
        // rather than count the conversation complete.
        if let Err(e) = (&mut fetcher.0).await {
            failure = Some(SourceError::new(
                SourceErrorKind::Other,
                format!("the page fetcher stopped: {e}"),
            ));
        }
    }
    if let Some(error) = failure {
        counters.failed.fetch_add(1, Ordering::Relaxed);
        let kind = FailureKind::Conversation(error);
        let failure = Failure {
            source: name.clone(),
            conversation: Some(id.clone()),
            kind,
        };
        if tx.send(vec![Err(failure)]).await.is_err() {
            return;
        }
    }
    counters.done.fetch_add(1, Ordering::Relaxed);
    report(&shared, &counters);
}

/// Pages one conversation: fetch, read the next cursor from the envelope, hand the body over,
/// fetch the next. Ends after the last page or the first error, which it hands over last.
async fn fetch_pages(
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    name: String,
    id: ConversationId,
    bodies: mpsc::Sender<Result<Body, SourceError>>,
) {
    let Some(source) = shared.sources.get(&name) else {
        return;
    };
    let since = shared.since;
    let mut guard = inbox_http::CursorGuard::new(shared.max_pages);
    let mut cursor = None;
    loop {
        let call = || {
            source
                .source
                .fetch_messages(&id, since.as_ref(), cursor.clone())
        };
        let body = match request(&shared, source, &counters, call).await {
            Ok(body) => body,
            Err(e) => {
                let _ = bodies.send(Err(e)).await;
                return;
            }
        };
        guard.fetched();
        let next = source.source.next_cursor(&id, &body, since.as_ref());
        // This page is delivered whatever comes next, so nothing already fetched is lost.
        if bodies.send(Ok(body)).await.is_err() {
            return;
        }
        match next.and_then(|next| match next {
            Some(c) => guard
                .follow(&c)
                .map(|()| Some(c))
                .map_err(SourceError::from),
            None => Ok(None),
        }) {
            Ok(Some(next)) => cursor = Some(next),
            Ok(None) => return,
            Err(e) => {
                let _ = bodies.send(Err(e)).await;
                return;
            }
        }
    }
}

/// A task that is cancelled when this is dropped (a consumer gone, a conversation failed).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends one request within the bounds; a 429 pauses the source and tries again, a transient
/// failure waits a backoff and tries again, each a bounded number of times in a row.
async fn request<T, F, Fut>(
    shared: &Shared,
    source: &Source,
    counters: &Counters,
    mut call: F,
) -> Result<T, SourceError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SourceError>>,
{
    let mut attempts = Attempts::default();
    loop {
        source.limiter.ready().await;
        let result = {
            let _permit = shared.global.acquire().await;
            counters.requests.fetch_add(1, Ordering::Relaxed);
            call().await
        };
        let error = match result {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let name = source.source.name();
        match shared.retry.next(&error, &mut attempts) {
            Some(Retry::RateLimited(wait)) => {
                let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                tracing::warn!(source = name, wait_ms, %error, "rate limited: pausing the source");
                source.limiter.pause(wait).await;
            }
            Some(Retry::Transient(wait)) => {
                let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                tracing::warn!(source = name, wait_ms, %error, "transient failure: trying the page again");
                tokio::time::sleep(wait).await;
            }
            None => return Err(error),
        }
        counters.retries.fetch_add(1, Ordering::Relaxed);
    }
}
