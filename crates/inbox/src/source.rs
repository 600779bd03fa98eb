//! Where messages come from: the [`MessageSource`] trait.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use inbox_normalize::{ConversationId, Message, Timestamp};

use crate::Rejected;

/// A response body fetched by a source, not yet decoded.
pub use inbox_http::Body;

/// One page of a source's listing: the items that decoded, the ones that did not (kept raw),
/// and the cursor of the next page (`None` on the last).
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in the order the source returned them.
    pub items: Vec<T>,
    /// Items that did not decode, with their raw JSON.
    pub rejected: Vec<Rejected>,
    /// The next page's cursor.
    pub next: Option<String>,
}

/// How hard a source may be pushed. The aggregator never exceeds either bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceLimits {
    /// Requests in flight to this source at once.
    pub max_in_flight: usize,
    /// At most `requests` requests every `per` (a token bucket: bursts up to `requests`).
    pub rate: Option<Rate>,
}

/// A request rate: `requests` every `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// How many requests.
    pub requests: u32,
    /// In what window.
    pub per: Duration,
}

/// A source of conversations and their messages, in the unified model.
///
/// Implemented by [`crate::PartooSource`] and [`crate::BirdSource`]; a third provider plugs
/// into [`crate::Inbox`] by implementing it. Methods fetch one page; the aggregator does the
/// paging, the concurrency and the rate limiting, so a source stays simple.
#[async_trait]
pub trait MessageSource: Send + Sync {
    /// A short name, unique among the sources of one [`crate::Inbox`] (`"partoo"`, `"bird"`).
    fn name(&self) -> &str;

    /// The bounds the aggregator keeps to for this source.
    fn limits(&self) -> SourceLimits;

    /// One page of the source's conversations (filtered as the source was configured).
    async fn conversations_page(
        &self,
        cursor: Option<String>,
    ) -> Result<Page<ConversationId>, SourceError>;

    /// Fetches one page of a conversation's messages, without decoding it: only what needs
    /// the network. Only messages created at or after `since` are wanted (a source may ask
    /// its server to filter).
    ///
    /// The aggregator holds one of its request slots while this runs, and decodes with
    /// [`MessageSource::decode_messages`] after giving the slot back, so decoding never keeps
    /// a request from starting.
    async fn fetch_messages(
        &self,
        conversation: &ConversationId,
        since: Option<&Timestamp>,
        cursor: Option<String>,
    ) -> Result<Body, SourceError>;

    /// Decodes and normalizes a page fetched by [`MessageSource::fetch_messages`], keeping
    /// only messages created at or after `since`. A source that can tell no later page holds
    /// a message that recent returns no next cursor. `conversation` is the one fetched, for a
    /// message that does not name its own. CPU only: no I/O.
    fn decode_messages(
        &self,
        conversation: &ConversationId,
        body: Body,
        since: Option<&Timestamp>,
    ) -> Result<Page<Message>, SourceError>;

    /// The next page's cursor of a page fetched by [`MessageSource::fetch_messages`] (`None`
    /// on the last page), as [`MessageSource::decode_messages`] would give it.
    ///
    /// The aggregator asks for it first, sends the next request, and decodes this page while
    /// that request is in flight, so decoding stays off the critical path. The default
    /// decodes the whole page; override it with a cheap scan of the envelope.
    fn next_cursor(
        &self,
        conversation: &ConversationId,
        body: &Body,
        since: Option<&Timestamp>,
    ) -> Result<Option<String>, SourceError> {
        Ok(self
            .decode_messages(conversation, body.clone(), since)?
            .next)
    }

    /// Every conversation of the source, page after page (a repeated cursor or more than
    /// 10 000 pages is an error).
    async fn conversations(&self) -> Result<Vec<ConversationId>, SourceError> {
        let mut ids = Vec::new();
        let stream = inbox_http::pages(Some(10_000), |cursor| async move {
            let page = retrying(|| self.conversations_page(cursor.clone())).await?;
            let next = page.next.clone();
            Ok::<_, SourceError>((page.items, next))
        });
        futures_util::pin_mut!(stream);
        while let Some(items) = stream.try_next().await? {
            ids.extend(items);
        }
        Ok(ids)
    }

    /// Every message of one conversation created at or after `since`, as a lazy stream, one
    /// request at a time (a repeated cursor or more than 10 000 pages ends it with an error).
    /// A message that does not decode comes as an error after the page's other messages,
    /// and the stream goes on. [`crate::Inbox`] does the same for many conversations at once,
    /// within bounds.
    fn messages<'a>(
        &'a self,
        conversation: &'a ConversationId,
        since: Option<Timestamp>,
    ) -> BoxStream<'a, Result<Message, SourceError>> {
        let pages = inbox_http::pages(Some(10_000), move |cursor| async move {
            let page =
                retrying(|| self.messages_page(conversation, since.as_ref(), cursor.clone()))
                    .await?;
            let next = page.next.clone();
            Ok::<_, SourceError>((page, next))
        });
        pages
            .map_ok(|page| {
                let invalid = page.rejected.into_iter().map(|r| {
                    Err(SourceError::new(
                        SourceErrorKind::Other,
                        format!("a message kept raw, {r}"),
                    ))
                });
                futures_util::stream::iter(page.items.into_iter().map(Ok).chain(invalid))
            })
            .try_flatten()
            .boxed()
    }

    /// One page of a conversation's messages: fetched, then decoded.
    async fn messages_page(
        &self,
        conversation: &ConversationId,
        since: Option<&Timestamp>,
        cursor: Option<String>,
    ) -> Result<Page<Message>, SourceError> {
        let body = self.fetch_messages(conversation, since, cursor).await?;
        self.decode_messages(conversation, body, since)
    }
}

/// Calls `call` until it succeeds or fails for good: after a 429 it waits the `Retry-After`
/// (at most 60 s; 1 s when none), up to 10 times in a row; after a transient failure it backs
/// off (250 ms, doubling), up to 5 times. The same rule as [`crate::Inbox`]'s, without slots.
async fn retrying<T, F, Fut>(mut call: F) -> Result<T, SourceError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SourceError>>,
{
    let (mut limited, mut transient) = (0u32, 0u32);
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let wait = match error.kind() {
            SourceErrorKind::RateLimited { retry_after } if limited < 10 => {
                limited += 1;
                retry_after
                    .unwrap_or(Duration::from_secs(1))
                    .min(Duration::from_secs(60))
            }
            SourceErrorKind::Transient if transient < 5 => {
                transient += 1;
                Duration::from_millis(250 << transient)
            }
            _ => return Err(error),
        };
        tokio::time::sleep(wait).await;
    }
}

/// Whether a source error is worth waiting out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceErrorKind {
    /// The source asked us to slow down (429).
    RateLimited {
        /// How long it asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// A failure that may pass (a 5xx other than 501, a timeout, a cut connection).
    Transient,
    /// Anything else.
    Other,
}

/// An error from a [`MessageSource`]: the provider client's error, classified.
pub struct SourceError {
    kind: SourceErrorKind,
    inner: Box<dyn StdError + Send + Sync>,
}

impl SourceError {
    /// Wraps an error of kind `kind`.
    pub fn new(kind: SourceErrorKind, inner: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            kind,
            inner: inner.into(),
        }
    }

    /// What kind of error it is.
    pub fn kind(&self) -> SourceErrorKind {
        self.kind
    }

    /// The provider client's error, to downcast (e.g. to `inbox::partoo::Error`).
    pub fn inner(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.inner
    }
}

impl fmt::Debug for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceError")
            .field("kind", &self.kind)
            .field("inner", &self.inner)
            .finish()
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl StdError for SourceError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.source()
    }
}

impl From<inbox_http::PagingError> for SourceError {
    fn from(e: inbox_http::PagingError) -> Self {
        let message = match e {
            inbox_http::PagingError::Loop { cursor, pages } => {
                format!("pagination loop: cursor `{cursor}` came back after {pages} pages")
            }
            inbox_http::PagingError::Cap { pages } => {
                format!("stopped at the cap of {pages} pages with more pages left")
            }
        };
        SourceError::new(SourceErrorKind::Other, message)
    }
}

impl<B> From<inbox_http::Error<B>> for SourceError
where
    B: fmt::Display + fmt::Debug + Send + Sync + 'static,
{
    fn from(e: inbox_http::Error<B>) -> Self {
        let kind = match &e {
            inbox_http::Error::RateLimited { retry_after, .. } => SourceErrorKind::RateLimited {
                retry_after: *retry_after,
            },
            e if e.is_transient() => SourceErrorKind::Transient,
            _ => SourceErrorKind::Other,
        };
        SourceError::new(kind, e)
    }
}
