//! [`Inbox`]: many conversations from many sources, fetched concurrently, merged.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use futures_util::{Stream, StreamExt};
use inbox_http::RetryPolicy;
use inbox_normalize::{ConversationId, Message, MessageId, Timestamp};
use inbox_wire::Rejected;
use tokio::sync::{Semaphore, mpsc};

use crate::builder::InboxBuilder;
use crate::limiter::Limiter;
use crate::report::{
    Account, Failure, FailureKind, Listing, PageEvent, Progress, Target, Timeline,
};
use crate::scheduler::{self, AbortOnDrop, Counters};
use crate::send::{Draft, Lookup, SendError, Sent};
use crate::source::MessageSource;

pub(crate) type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// A source and its bounds.
pub(crate) struct Source {
    pub(crate) name: Arc<str>,
    pub(crate) source: Arc<dyn MessageSource>,
    pub(crate) limiter: Limiter,
    /// Requests sent to it, over the inbox's life.
    pub(crate) requests: std::sync::atomic::AtomicUsize,
    /// The account it reads, once known: asked once per inbox.
    pub(crate) account: tokio::sync::OnceCell<Account>,
}

/// What every task of an inbox shares.
pub(crate) struct Shared {
    pub(crate) sources: HashMap<Arc<str>, Source>,
    /// Requests in flight across sources.
    pub(crate) global: Arc<Semaphore>,
    /// Pages decoded at once.
    pub(crate) decoders: Arc<Semaphore>,
    pub(crate) since: Option<Timestamp>,
    pub(crate) progress: Option<ProgressFn>,
    pub(crate) max_pages: Option<usize>,
    pub(crate) retry: RetryPolicy,
    pub(crate) buffer: usize,
}

/// A target named a source the inbox does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no source named `{name}` in this inbox (its sources: {known})")]
pub struct UnknownSource {
    /// The name asked for.
    pub name: String,
    /// The inbox's sources, comma-separated.
    pub known: String,
}

/// Many conversations from many sources, fetched concurrently within bounds, merged into one
/// timeline. Cheap to clone.
///
/// Bounds: at most `concurrency` requests in flight overall, at most
/// [`crate::SourceLimits::max_conversations`] conversations per source at once (each pages one
/// request at a time), and each source's request rate (a sliding window). A request slot is
/// held for one attempt only: retrying is done here, between attempts, with the inbox's
/// [`RetryPolicy`] ([`InboxBuilder::retry`]). When a source answers 429, that whole source
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
        f.debug_struct("Inbox")
            .field("sources", &self.source_names())
            .finish_non_exhaustive()
    }
}

impl Inbox {
    /// A builder with no source, 16 requests in flight, no `since`, the default retry
    /// policy.
    pub fn builder() -> InboxBuilder {
        InboxBuilder::default()
    }

    pub(crate) fn from_shared(shared: Shared) -> Self {
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Requests sent to `source` so far, retries included, over this inbox's life (every
    /// call and stream of it, and its clones, together); 0 for a source it does not have.
    pub fn requests(&self, source: &str) -> usize {
        self.shared
            .sources
            .get(source)
            .map_or(0, |s| s.requests.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// The names of the sources, sorted.
    pub fn source_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.shared.sources.keys().map(|n| &**n).collect();
        names.sort_unstable();
        names
    }

    fn check(&self, targets: &[Target]) -> Result<(), UnknownSource> {
        match targets
            .iter()
            .find(|t| !self.shared.sources.contains_key(t.source()))
        {
            Some(target) => Err(UnknownSource {
                name: target.source().to_owned(),
                known: self.source_names().join(", "),
            }),
            None => Ok(()),
        }
    }

    /// The account `source` reads (within the source's bounds and the inbox's retry policy):
    /// what names it in a mirror. Asked of the source once per inbox (and its clones); a
    /// failure is not remembered.
    pub async fn account(&self, source: &str) -> Result<Account, Failure> {
        let Some(found) = self.shared.sources.get(source) else {
            let unknown = UnknownSource {
                name: source.to_owned(),
                known: self.source_names().join(", "),
            };
            let error = crate::SourceError::permanent(unknown);
            return Err(Failure::new(source, None, FailureKind::Account(error)));
        };
        let account = found
            .account
            .get_or_try_init(|| async {
                let counters = Counters::default();
                let identity = scheduler::request_with(&self.shared, found, &counters, || {
                    found.source.account()
                })
                .await?;
                Ok::<_, crate::SourceError>(Account {
                    provider: found.source.provider(),
                    identity,
                })
            })
            .await
            .map_err(|e| Failure::new(source, None, FailureKind::Account(e)))?;
        Ok(account.clone())
    }

    /// Sends `draft` into `conversation` through `source`, within the source's bounds (its
    /// rate limit counts sends too). Tried again, with the inbox's retry policy, only while
    /// it cannot have gone out ([`SendError::NotSent`]: a 429 pauses the source for its
    /// `Retry-After`, a 5xx or a refused connection waits a backoff); returned at once when
    /// refused ([`SendError::Refused`], [`SendError::Invalid`]) or when it may have gone out
    /// ([`SendError::Uncertain`]): then [`Inbox::find_sent`] tells, before anything sends
    /// it again. `reference` is the caller's id of the send (Bird keeps it).
    pub async fn send(
        &self,
        source: &str,
        conversation: &ConversationId,
        draft: &Draft,
        reference: &str,
    ) -> Result<Sent, SendError> {
        self.send_before(source, conversation, draft, reference, None)
            .await
    }

    /// [`Inbox::send`] within a deadline: no attempt starts after it (that is
    /// [`SendError::NotSent`]: nothing went out), and an attempt still out at the deadline
    /// is given up on as [`SendError::Uncertain`]. Waits (a 429's pause, a backoff) count
    /// against it. A sender that holds a lease on the send passes the lease's end, so that
    /// no attempt of it is ever in flight once another sender may take the send over.
    pub async fn send_before(
        &self,
        source: &str,
        conversation: &ConversationId,
        draft: &Draft,
        reference: &str,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Sent, SendError> {
        let found = self.find(source)?;
        let late = |budget: std::time::Duration| {
            SendError::Uncertain(format!("no answer within {budget:?}"))
        };
        self.single(found, deadline, late, || {
            found.source.send(conversation, draft, reference)
        })
        .await
    }

    /// Checks `draft` for `source`, with no request (see [`MessageSource::check_draft`]);
    /// also the provider `source` reads.
    pub fn check_draft(
        &self,
        source: &str,
        draft: &Draft,
    ) -> Result<inbox_normalize::Provider, SendError> {
        let found = self.find(source)?;
        found.source.check_draft(draft)?;
        Ok(found.source.provider())
    }

    /// Looks at the provider for the message of a send that may have gone out (see
    /// [`MessageSource::find_sent`]), retried like a read; within `deadline` when given.
    pub async fn find_sent(
        &self,
        source: &str,
        lookup: Lookup<'_>,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Option<Sent>, SendError> {
        let found = self.find(source)?;
        let late = |budget: std::time::Duration| SendError::NotSent {
            class: inbox_http::ErrorClass::Timeout,
            message: format!("the lookup took over {budget:?}"),
        };
        self.single(found, deadline, late, || found.source.find_sent(lookup))
            .await
    }

    /// Asks the provider to send a failed message again (Partoo), retried like a send.
    pub async fn retry_failed(&self, source: &str, message_id: &str) -> Result<(), SendError> {
        let found = self.find(source)?;
        let late = |budget: std::time::Duration| {
            SendError::Uncertain(format!("no answer within {budget:?}"))
        };
        self.single(found, None, late, || found.source.retry_failed(message_id))
            .await
    }

    fn find(&self, source: &str) -> Result<&Source, SendError> {
        self.shared.sources.get(source).ok_or_else(|| {
            SendError::Invalid(
                UnknownSource {
                    name: source.to_owned(),
                    known: self.source_names().join(", "),
                }
                .to_string(),
            )
        })
    }

    /// One call of a source that sends or looks, through the source's limiter and the
    /// inbox's retry policy: only [`SendError::NotSent`] is tried again.
    async fn single<T, F, Fut>(
        &self,
        found: &Source,
        deadline: Option<tokio::time::Instant>,
        late: impl Fn(std::time::Duration) -> SendError,
        mut call: F,
    ) -> Result<T, SendError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SendError>>,
    {
        let counters = Counters::default();
        let late = &late;
        let outcome = scheduler::request_with(&self.shared, found, &counters, || {
            let attempt = call();
            async move {
                let attempt = async {
                    let Some(deadline) = deadline else {
                        return attempt.await;
                    };
                    let now = tokio::time::Instant::now();
                    if now >= deadline {
                        // Nothing went out, and nothing will within this deadline: not
                        // retried here (permanent), tried later by whoever holds it then.
                        return Err(SendError::NotSent {
                            class: inbox_http::ErrorClass::Permanent,
                            message: "out of time before the attempt started".into(),
                        });
                    }
                    let budget = deadline - now;
                    match tokio::time::timeout(budget, attempt).await {
                        Ok(result) => result,
                        Err(_) => Err(late(budget)),
                    }
                };
                match attempt.await {
                    Ok(value) => Ok(Ok(value)),
                    Err(SendError::NotSent { class, message }) => {
                        Err(crate::SourceError::new(class, message))
                    }
                    Err(other) => Ok(Err(other)),
                }
            }
        })
        .await;
        match outcome {
            Ok(result) => result,
            Err(error) => Err(SendError::NotSent {
                class: error.class(),
                message: error.to_string(),
            }),
        }
    }

    /// Every conversation of one source, within the source's bounds, as unified summaries:
    /// the ones that decoded, each once, and beside them every conversation that did not
    /// (kept raw) and the error that stopped the listing, if one did.
    pub async fn conversations(&self, source: &str) -> Result<Listing, UnknownSource> {
        self.check(&[Target::all(source)])?;
        let Some(source) = self.shared.sources.get(source) else {
            return Ok(Listing::default());
        };
        Ok(scheduler::list(&self.shared, source, &Counters::default()).await)
    }

    /// The pages of `targets` as they are fetched, each conversation's in order (pages of
    /// different conversations interleave), with failures in between; it ends when every
    /// conversation is done. A page is what a store commits at once: its messages, its
    /// rejected items, and whether it ends its conversation.
    ///
    /// Memory is bounded by the pages in flight and the buffer, not by the total fetched.
    /// Nothing starts before the first poll, and dropping the stream stops every request and
    /// task at once. Must be polled within a Tokio runtime.
    pub fn pages(
        &self,
        targets: Vec<Target>,
    ) -> Result<impl Stream<Item = PageEvent> + Send + 'static, UnknownSource> {
        self.check(&targets)?;
        Ok(self.pages_counted(targets, Arc::new(Counters::default())))
    }

    fn pages_counted(
        &self,
        targets: Vec<Target>,
        counters: Arc<Counters>,
    ) -> impl Stream<Item = PageEvent> + Send + 'static {
        struct Running {
            events: mpsc::Receiver<PageEvent>,
            /// The driver: dropping the stream drops it, which aborts every task it owns.
            _driver: AbortOnDrop,
        }
        let start = Some((self.shared.clone(), targets, counters));
        futures_util::stream::unfold((start, None::<Running>), |(start, running)| async move {
            let mut running = match running {
                Some(running) => running,
                None => {
                    let (shared, targets, counters) = start?;
                    let (tx, events) = mpsc::channel(shared.buffer);
                    let driver = tokio::spawn(scheduler::drive(shared, targets, counters, tx));
                    Running {
                        events,
                        _driver: AbortOnDrop(driver),
                    }
                }
            };
            let event = running.events.recv().await?;
            Some((event, (None, Some(running))))
        })
    }

    /// The messages of `targets` as they arrive: not sorted across conversations, and each
    /// message of a conversation once (a message seen again on a later page of its
    /// conversation, as pages shift under new messages, is dropped). A message id listed in
    /// two conversations comes twice; [`Inbox::timeline`] deduplicates across everything.
    /// Failures come in between as `Err` (a message that did not decode, with its raw JSON,
    /// in its page's place) and the stream goes on; it ends when every conversation is done.
    ///
    /// Memory, laziness and cancellation as [`Inbox::pages`].
    pub fn stream(
        &self,
        targets: Vec<Target>,
    ) -> Result<impl Stream<Item = Result<Message, Failure>> + Send + 'static, UnknownSource> {
        self.check(&targets)?;
        Ok(Self::flatten(
            self.pages_counted(targets, Arc::new(Counters::default())),
        ))
    }

    /// The messages of each page one by one, then its rejected messages as failures; the
    /// page's vectors are drained in place, never copied into a new one.
    fn flatten(
        pages: impl Stream<Item = PageEvent> + Send + 'static,
    ) -> impl Stream<Item = Result<Message, Failure>> + Send + 'static {
        struct Draining {
            source: Arc<str>,
            conversation: Option<ConversationId>,
            messages: std::vec::IntoIter<Message>,
            rejected: std::vec::IntoIter<Rejected>,
        }
        let empty = Draining {
            source: "".into(),
            conversation: None,
            messages: Vec::new().into_iter(),
            rejected: Vec::new().into_iter(),
        };
        futures_util::stream::unfold(
            (Box::pin(pages), empty),
            |(mut pages, mut page)| async move {
                loop {
                    if let Some(message) = page.messages.next() {
                        return Some((Ok(message), (pages, page)));
                    }
                    if let Some(raw) = page.rejected.next() {
                        let kind = FailureKind::InvalidMessage(Box::new(raw));
                        let failure = Failure::new(&*page.source, page.conversation.clone(), kind);
                        return Some((Err(failure), (pages, page)));
                    }
                    match pages.next().await? {
                        PageEvent::Page(next) => {
                            page = Draining {
                                source: next.source,
                                conversation: Some(next.conversation),
                                messages: next.messages.into_iter(),
                                rejected: next.rejected.into_iter(),
                            };
                        }
                        PageEvent::Failure(failure) => {
                            return Some((Err(failure), (pages, page)));
                        }
                    }
                }
            },
        )
    }

    /// Every message of `targets`, deduplicated by (provider, id) and sorted by time, beside
    /// every failure.
    pub async fn timeline(&self, targets: Vec<Target>) -> Result<Timeline, UnknownSource> {
        self.check(&targets)?;
        let counters = Arc::new(Counters::default());
        let mut timeline = Timeline::default();
        let mut seen: HashSet<MessageId> = HashSet::new();
        let stream = Self::flatten(self.pages_counted(targets, counters.clone()));
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
        Ok(timeline)
    }
}
