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

/// When to try a failed request again, and after how long: the one rule both the
/// aggregator and the trait's own methods follow.
///
/// After a 429 the wait is the `Retry-After` (at most 60 s), or 1 s doubling when there is
/// none, up to `max_rate_limited` times in a row; after a transient failure (5xx, timeout,
/// cut connection) it is 250 ms doubling (at most 16 s), up to `max_transient` times.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryRule {
    pub(crate) max_rate_limited: u32,
    pub(crate) max_transient: u32,
}

impl Default for RetryRule {
    fn default() -> Self {
        Self {
            max_rate_limited: 10,
            max_transient: 5,
        }
    }
}

/// What [`RetryRule::next`] decided.
pub(crate) enum Retry {
    /// The source asked to slow down: pause it for this long, then try again.
    RateLimited(Duration),
    /// Back off this long, then try again.
    Transient(Duration),
}

/// Retries so far of one request.
#[derive(Default)]
pub(crate) struct Attempts {
    limited: u32,
    transient: u32,
}

impl RetryRule {
    /// Whether to try again after `error`, and how long to wait; `None` to give up.
    pub(crate) fn next(&self, error: &SourceError, attempts: &mut Attempts) -> Option<Retry> {
        match error.kind() {
            SourceErrorKind::RateLimited { retry_after }
                if attempts.limited < self.max_rate_limited =>
            {
                attempts.limited += 1;
                let backoff = Duration::from_secs(1 << (attempts.limited - 1).min(6));
                Some(Retry::RateLimited(
                    retry_after.unwrap_or(backoff).min(Duration::from_secs(60)),
                ))
            }
            SourceErrorKind::Transient if attempts.transient < self.max_transient => {
                attempts.transient += 1;
                Some(Retry::Transient(Duration::from_millis(
                    250 << attempts.transient.min(6),
                )))
            }
            _ => None,
        }
    }
}

/// Calls `call` until it succeeds or fails for good, waiting as [`RetryRule::default`] says.
async fn retrying<T, F, Fut>(mut call: F) -> Result<T, SourceError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SourceError>>,
{
    let (rule, mut attempts) = (RetryRule::default(), Attempts::default());
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        match rule.next(&error, &mut attempts) {
            Some(Retry::RateLimited(wait) | Retry::Transient(wait)) => {
                tokio::time::sleep(wait).await
            }
            None => return Err(error),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn error(kind: SourceErrorKind) -> SourceError {
        SourceError::new(kind, "boom")
    }

    fn wait(retry: Option<Retry>) -> Option<(bool, Duration)> {
        retry.map(|r| match r {
            Retry::RateLimited(d) => (true, d),
            Retry::Transient(d) => (false, d),
        })
    }

    #[test]
    fn rate_limits_honour_retry_after_up_to_a_minute_then_give_up() {
        let rule = RetryRule {
            max_rate_limited: 3,
            max_transient: 0,
        };
        let mut attempts = Attempts::default();
        let day = error(SourceErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(86_400)),
        });
        assert_eq!(
            wait(rule.next(&day, &mut attempts)),
            Some((true, Duration::from_secs(60)))
        );
        let unsaid = error(SourceErrorKind::RateLimited { retry_after: None });
        assert_eq!(
            wait(rule.next(&unsaid, &mut attempts)),
            Some((true, Duration::from_secs(2)))
        );
        assert_eq!(
            wait(rule.next(&unsaid, &mut attempts)),
            Some((true, Duration::from_secs(4)))
        );
        assert!(
            rule.next(&unsaid, &mut attempts).is_none(),
            "a fourth 429 in a row fails"
        );
    }

    #[test]
    fn transient_failures_back_off_doubling_and_other_errors_never_retry() {
        let rule = RetryRule::default();
        let mut attempts = Attempts::default();
        let transient = error(SourceErrorKind::Transient);
        let waits: Vec<_> =
            std::iter::from_fn(|| wait(rule.next(&transient, &mut attempts))).collect();
        let millis: Vec<u128> = waits.iter().map(|(_, d)| d.as_millis()).collect();
        assert_eq!(millis, [500, 1000, 2000, 4000, 8000]);
        assert!(
            rule.next(&error(SourceErrorKind::Other), &mut Attempts::default())
                .is_none()
        );
    }
}
