//! The scheduler behind [`crate::Inbox`]: listing, dispatching conversations within each
//! source's slots, paging each conversation, retrying between request slots, and decoding on
//! the blocking pool.
//!
//! Every task is owned: the driver owns the listings and the dispatchers (in `JoinSet`s),
//! a dispatcher owns its conversations, a conversation owns its page fetcher. Aborting the
//! driver (dropping the stream) drops all of them, so nothing goes on in the background.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use inbox_http::{Backoff, CursorGuard, ErrorClass};
use inbox_normalize::{ConversationId, ConversationSummary, MessageId, Timestamp};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::inbox::{Shared, Source};
use crate::report::{Failure, FailureKind, Listing, MessagePage, PageEvent, Progress, Target};
use crate::source::{Body, Fetched, PageRequest, SourceError};

/// Counters of one run.
#[derive(Default)]
pub(crate) struct Counters {
    total: AtomicUsize,
    done: AtomicUsize,
    failed: AtomicUsize,
    messages: AtomicUsize,
    requests: AtomicUsize,
    retries: AtomicUsize,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> Progress {
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

/// A task that is aborted when this is dropped (a consumer gone, a conversation failed).
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One conversation to fetch.
struct Wanted {
    id: ConversationId,
    since: Option<Timestamp>,
}

/// Runs `targets` to the end, sending every page and failure to `tx`. The targets name
/// sources of the inbox (checked before).
pub(crate) async fn drive(
    shared: Arc<Shared>,
    targets: Vec<Target>,
    counters: Arc<Counters>,
    tx: mpsc::Sender<PageEvent>,
) {
    let mut wanted: HashMap<Arc<str>, Vec<Wanted>> = HashMap::new();
    let mut seen: HashSet<(Arc<str>, ConversationId)> = HashSet::new();
    let mut listings = JoinSet::new();
    // Which source each listing task lists, to name it if the task dies.
    let mut listing_sources: HashMap<tokio::task::Id, Arc<str>> = HashMap::new();
    for target in targets {
        match target {
            Target::Conversation { source, id, since } => {
                let Some(source) = shared.sources.get(source.as_str()) else {
                    continue;
                };
                if seen.insert((source.name.clone(), id.clone())) {
                    let since = since.or(shared.since);
                    wanted
                        .entry(source.name.clone())
                        .or_default()
                        .push(Wanted { id, since });
                }
            }
            Target::All { source } => {
                let Some(name) = shared.sources.get(source.as_str()).map(|s| s.name.clone()) else {
                    continue;
                };
                let (task_shared, counters) = (shared.clone(), counters.clone());
                let task_name = name.clone();
                let task = listings.spawn(async move {
                    let listed = match task_shared.sources.get(&task_name) {
                        Some(source) => list_with(&task_shared, source, &counters, |s| s.id).await,
                        None => Listed {
                            items: Vec::new(),
                            failures: Vec::new(),
                            complete: true,
                        },
                    };
                    (task_name, listed)
                });
                listing_sources.insert(task.id(), name);
            }
        }
    }
    while let Some(listed) = listings.join_next_with_id().await {
        let (name, listed) = match listed {
            Ok((_, listed)) => listed,
            // A listing task dies only of a panic in its source: say so, and go on with the
            // others.
            Err(e) => {
                let name = listing_sources
                    .get(&e.id())
                    .cloned()
                    .unwrap_or_else(|| "".into());
                let error = SourceError::permanent(format!("listing stopped: {e}"));
                let failure = Failure::new(&*name, None, FailureKind::Listing(error));
                let listed = Listed {
                    items: Vec::new(),
                    failures: vec![failure],
                    complete: false,
                };
                (name, listed)
            }
        };
        for id in listed.items {
            if seen.insert((name.clone(), id.clone())) {
                wanted.entry(name.clone()).or_default().push(Wanted {
                    id,
                    since: shared.since,
                });
            }
        }
        for failure in listed.failures {
            if tx.send(PageEvent::Failure(failure)).await.is_err() {
                return;
            }
        }
    }
    let total = wanted.values().map(Vec::len).sum();
    counters.total.store(total, Ordering::Relaxed);
    report(&shared, &counters);

    // One dispatcher per source starts its conversations as slots free up, so the tasks
    // alive at once are bounded by the sources' limits, not by how many conversations there
    // are.
    let mut dispatchers = JoinSet::new();
    for (name, conversations) in wanted {
        dispatchers.spawn(dispatch(
            shared.clone(),
            counters.clone(),
            name,
            conversations,
            tx.clone(),
        ));
    }
    drop(tx);
    while dispatchers.join_next().await.is_some() {}
}

/// Fetches `conversations` of one source, as many at once as the source's slots allow.
async fn dispatch(
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    name: Arc<str>,
    conversations: Vec<Wanted>,
    tx: mpsc::Sender<PageEvent>,
) {
    let Some(source) = shared.sources.get(&name) else {
        return;
    };
    let mut running = JoinSet::new();
    for wanted in conversations {
        let Some(slot) = source.limiter.conversation_slot().await else {
            break;
        };
        if tx.is_closed() {
            break;
        }
        let task = conversation(
            shared.clone(),
            counters.clone(),
            name.clone(),
            wanted,
            tx.clone(),
        );
        running.spawn(async move {
            task.await;
            drop(slot);
        });
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
}

/// Lists every conversation of `source`: the summaries that decoded (each once), the
/// entries that did not, and the error that stopped the listing, if any.
pub(crate) async fn list(shared: &Shared, source: &Source, counters: &Counters) -> Listing {
    let listed = list_with(shared, source, counters, |summary| summary).await;
    Listing {
        conversations: listed.items,
        failures: listed.failures,
        complete: listed.complete,
    }
}

/// A listing keeping of each conversation what `keep` makes of it.
pub(crate) struct Listed<T> {
    items: Vec<T>,
    failures: Vec<Failure>,
    complete: bool,
}

/// Lists every conversation of `source`, keeping of each (once) what `keep` makes of it
/// page by page: a driver that only needs the ids does not hold every summary.
async fn list_with<T>(
    shared: &Shared,
    source: &Source,
    counters: &Counters,
    keep: impl Fn(ConversationSummary) -> T,
) -> Listed<T> {
    let mut listing = Listed {
        items: Vec::new(),
        failures: Vec::new(),
        complete: false,
    };
    let mut seen = HashSet::new();
    let mut guard = CursorGuard::new(shared.max_pages);
    let mut cursor: Option<String> = None;
    let failure = loop {
        let page = PageRequest::Conversations {
            cursor: cursor.as_deref(),
        };
        let fetched = match request(shared, source, counters, page).await {
            Ok(fetched) => fetched,
            Err(e) => break Some(e),
        };
        guard.fetched();
        let decoder = source.source.clone();
        let body = fetched.body;
        let decoded = match decode(shared, move || decoder.decode_conversations(body)).await {
            Ok(decoded) => decoded,
            Err(e) => break Some(e),
        };
        for summary in decoded.items {
            if seen.insert(summary.id.clone()) {
                listing.items.push(keep(summary));
            }
        }
        listing
            .failures
            .extend(decoded.rejected.into_iter().map(|r| {
                Failure::new(
                    &*source.name,
                    None,
                    FailureKind::InvalidConversation(Box::new(r)),
                )
            }));
        match fetched.next {
            None => break None,
            Some(next) => match guard.follow(&next) {
                Ok(()) => cursor = Some(next),
                Err(e) => break Some(e.into()),
            },
        }
    };
    listing.complete = failure.is_none();
    if let Some(e) = failure {
        listing
            .failures
            .push(Failure::new(&*source.name, None, FailureKind::Listing(e)));
    }
    listing
}

/// What the page fetcher hands over: a page's body, and whether it is the last.
type Handed = Result<(Body, bool), SourceError>;

/// Fetches one conversation, page after page, decoding each page while the next request
/// is in flight; sends its pages, then its failure if it failed.
async fn conversation(
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    name: Arc<str>,
    wanted: Wanted,
    tx: mpsc::Sender<PageEvent>,
) {
    if tx.is_closed() {
        return;
    }
    let Wanted { id, since } = wanted;
    // The fetcher pages on its own task and hands over each body the moment the next request
    // is sent, so decoding never delays a request; the one-slot channel keeps at most one
    // page waiting here besides the one being decoded and the one in flight.
    let (bodies, mut received) = mpsc::channel::<Handed>(1);
    let mut fetcher = AbortOnDrop(tokio::spawn(fetch_pages(
        shared.clone(),
        counters.clone(),
        name.clone(),
        id.clone(),
        since,
        bodies,
    )));
    let Some(source) = shared.sources.get(&name) else {
        return;
    };
    // Duplicates come from pages shifting while a conversation receives messages: remember
    // this conversation's ids only, and only while it is being fetched.
    let mut delivered: HashSet<MessageId> = HashSet::new();
    let mut failure: Option<SourceError> = None;
    let mut index = 0;
    while let Some(handed) = received.recv().await {
        let decoded = match handed {
            Ok((body, last)) => {
                let (decoder, conversation) = (source.source.clone(), id.clone());
                decode(&shared, move || {
                    decoder.decode_messages(&conversation, body, since.as_ref())
                })
                .await
                .map(|decoded| (decoded, last))
            }
            Err(e) => Err(e),
        };
        let (decoded, last) = match decoded {
            Ok(decoded) => decoded,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let mut messages = decoded.items;
        messages.retain(|m| delivered.insert(m.id.clone()));
        counters
            .messages
            .fetch_add(messages.len(), Ordering::Relaxed);
        let page = MessagePage {
            source: name.clone(),
            conversation: id.clone(),
            index,
            messages,
            rejected: decoded.rejected,
            last,
        };
        index += 1;
        if tx.send(PageEvent::Page(page)).await.is_err() {
            return;
        }
        report(&shared, &counters);
    }
    if failure.is_none() {
        // The channel closed: the fetcher is done. If it died (a panic in a source), say so
        // rather than count the conversation complete.
        if let Err(e) = (&mut fetcher.0).await {
            failure = Some(SourceError::permanent(format!(
                "the page fetcher stopped: {e}"
            )));
        }
    }
    if let Some(error) = failure {
        counters.failed.fetch_add(1, Ordering::Relaxed);
        let failure = Failure::new(&*name, Some(id), FailureKind::Conversation(error));
        if tx.send(PageEvent::Failure(failure)).await.is_err() {
            return;
        }
    }
    counters.done.fetch_add(1, Ordering::Relaxed);
    report(&shared, &counters);
}

/// Pages one conversation: fetch, hand the body over with whether it is the last, follow
/// the next cursor. Ends after the last page or the first error, which it hands over last.
async fn fetch_pages(
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    name: Arc<str>,
    id: ConversationId,
    since: Option<Timestamp>,
    bodies: mpsc::Sender<Handed>,
) {
    let Some(source) = shared.sources.get(&name) else {
        return;
    };
    let mut guard = CursorGuard::new(shared.max_pages);
    let mut cursor: Option<String> = None;
    loop {
        let page = PageRequest::Messages {
            conversation: &id,
            since: since.as_ref(),
            cursor: cursor.as_deref(),
        };
        let Fetched { body, next } = match request(&shared, source, &counters, page).await {
            Ok(fetched) => fetched,
            Err(e) => {
                let _ = bodies.send(Err(e)).await;
                return;
            }
        };
        guard.fetched();
        // This page is delivered whatever comes next, so nothing already fetched is lost.
        if bodies.send(Ok((body, next.is_none()))).await.is_err() {
            return;
        }
        let Some(next) = next else { return };
        if let Err(e) = guard.follow(&next) {
            let _ = bodies.send(Err(e.into())).await;
            return;
        }
        cursor = Some(next);
    }
}

/// Decodes on the blocking pool, at most one page per core at once: CPU work in one piece (a
/// few hundred microseconds a page) that must not hold up the tasks sending requests.
async fn decode<T, F>(shared: &Shared, f: F) -> Result<T, SourceError>
where
    F: FnOnce() -> Result<T, SourceError> + Send + 'static,
    T: Send + 'static,
{
    let Ok(permit) = shared.decoders.clone().acquire_owned().await else {
        return Err(SourceError::permanent("the inbox is shutting down"));
    };
    tokio::task::spawn_blocking(move || {
        let decoded = f();
        drop(permit);
        decoded
    })
    .await
    .unwrap_or_else(|e| Err(SourceError::permanent(format!("decoding stopped: {e}"))))
}

/// Sends one request within the bounds, retrying as the inbox's policy allows. Each attempt
/// waits for the source's window (and any pause), then holds one global slot for the
/// attempt alone; a 429 pauses the whole source for the wait, any other retryable failure
/// waits a backoff outside every slot.
async fn request(
    shared: &Shared,
    source: &Source,
    counters: &Counters,
    page: PageRequest<'_>,
) -> Result<Fetched, SourceError> {
    request_with(shared, source, counters, || source.source.fetch(page)).await
}

/// [`request`] for any single-attempt call of a source.
pub(crate) async fn request_with<T, F, Fut>(
    shared: &Shared,
    source: &Source,
    counters: &Counters,
    mut call: F,
) -> Result<T, SourceError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SourceError>>,
{
    let mut backoff = Backoff::new(shared.retry);
    loop {
        source.limiter.ready().await;
        let (result, took) = {
            let _permit = shared.global.acquire().await;
            counters.requests.fetch_add(1, Ordering::Relaxed);
            source.requests.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let result = call().await;
            (result, started.elapsed())
        };
        let error = match result {
            Ok(fetched) => return Ok(fetched),
            Err(error) => error,
        };
        let class = error.class();
        let Some(wait) = backoff.next(class, took) else {
            return Err(error.after(backoff.attempts(), backoff.spent()));
        };
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        let name = &*source.name;
        if let ErrorClass::RateLimited { .. } = class {
            tracing::warn!(source = name, wait_ms, %error, "rate limited: pausing the source");
            source.limiter.pause(wait);
        } else {
            tracing::warn!(source = name, wait_ms, %error, "trying the page again");
            tokio::time::sleep(wait).await;
        }
        counters.retries.fetch_add(1, Ordering::Relaxed);
    }
}
