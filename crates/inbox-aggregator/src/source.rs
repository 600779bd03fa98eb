//! Where conversations and messages come from: the [`MessageSource`] trait.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use inbox_http::ErrorClass;
use inbox_normalize::{ConversationId, ConversationSummary, Message, Provider, Timestamp};
use inbox_wire::Rejected;

use crate::send::{Draft, Lookup, SendError, Sent};

/// A response body fetched by a source, not yet decoded.
pub use inbox_http::Body;

/// Which page a source is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageRequest<'a> {
    /// A page of the source's conversations (as the source filters them).
    Conversations {
        /// The page's cursor; `None` for the first page.
        cursor: Option<&'a str>,
    },
    /// A page of one conversation's messages.
    Messages {
        /// The conversation.
        conversation: &'a ConversationId,
        /// Only messages created at or after this instant are wanted: a source may ask its
        /// server to filter, or stop paging once no later page can hold one.
        since: Option<&'a Timestamp>,
        /// The page's cursor; `None` for the first page.
        cursor: Option<&'a str>,
    },
}

/// A page fetched by [`MessageSource::fetch`]: its body, not yet decoded, and the cursor of
/// the next page (`None` on the last), read from the body by a cheap scan.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Fetched {
    /// The body.
    pub body: Body,
    /// The next page's cursor.
    pub next: Option<String>,
}

impl Fetched {
    /// A fetched page.
    pub fn new(body: Body, next: Option<String>) -> Self {
        Self { body, next }
    }
}

/// A decoded page: the items that decoded, in the order the source sent them, and the ones
/// that did not, kept raw with the JSON path of the problem.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Decoded<T> {
    /// The items.
    pub items: Vec<T>,
    /// The items that did not decode.
    pub rejected: Vec<Rejected>,
}

impl<T> Decoded<T> {
    /// A decoded page.
    pub fn new(items: Vec<T>, rejected: Vec<Rejected>) -> Self {
        Self { items, rejected }
    }
}

/// How hard a source may be pushed. The aggregator never exceeds either bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SourceLimits {
    /// Conversations of this source fetched at once (each has at most one request in
    /// flight; the inbox's `concurrency` bounds requests across sources).
    pub max_conversations: usize,
    /// At most `requests` requests in any window of `per` (a sliding window).
    pub rate: Option<Rate>,
}

impl SourceLimits {
    /// `max_conversations` at once, within `rate`.
    pub fn new(max_conversations: usize, rate: Option<Rate>) -> Self {
        Self {
            max_conversations,
            rate,
        }
    }
}

/// A request rate: at most `requests` requests in any window of `per`.
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
/// into [`crate::Inbox`] by implementing it. A source does one thing at a time and nothing
/// more: [`MessageSource::fetch`] makes one attempt at one page (I/O only: no retry, no
/// decoding beyond a cheap scan for the next cursor), and the `decode_*` methods turn a
/// fetched body into unified items (CPU only: no I/O). The aggregator does the paging, the
/// retrying (with its [`inbox_http::RetryPolicy`]), the concurrency and the rate limiting,
/// and runs the decoding on the blocking pool so it never holds up a request.
#[async_trait]
pub trait MessageSource: Send + Sync {
    /// A short name, unique among the sources of one [`crate::Inbox`] (`"partoo"`, `"bird"`).
    fn name(&self) -> &str;

    /// The bounds the aggregator keeps to for this source.
    fn limits(&self) -> SourceLimits;

    /// The provider the source reads.
    fn provider(&self) -> Provider;

    /// The account the source reads, as the provider identifies it (a Bird workspace id, a
    /// Partoo organisation id), in one attempt: what names the account in a mirror. Never
    /// the key, nor anything derived from it.
    async fn account(&self) -> Result<String, SourceError>;

    /// Fetches one page in one attempt: the body, and the next page's cursor read from it
    /// by a cheap scan of the envelope. An error is classified ([`SourceError::class`]) so
    /// the aggregator can tell what to retry.
    async fn fetch(&self, page: PageRequest<'_>) -> Result<Fetched, SourceError>;

    /// Decodes a page of conversations fetched with [`PageRequest::Conversations`].
    fn decode_conversations(&self, body: Body)
    -> Result<Decoded<ConversationSummary>, SourceError>;

    /// Decodes a page of `conversation`'s messages fetched with [`PageRequest::Messages`],
    /// keeping only messages created at or after `since`. `conversation` is the one
    /// fetched, for a message that does not name its own.
    fn decode_messages(
        &self,
        conversation: &ConversationId,
        body: Body,
        since: Option<&Timestamp>,
    ) -> Result<Decoded<Message>, SourceError>;

    /// Checks `draft` against what the provider documents, with no request: what
    /// [`MessageSource::send`] would refuse before sending (the checks that need the
    /// conversation, such as Partoo's SMS rule, wait for the send). The default: this
    /// source cannot send.
    fn check_draft(&self, draft: &Draft) -> Result<(), SendError> {
        let _ = draft;
        Err(SendError::Invalid(format!(
            "the source `{}` cannot send",
            self.name()
        )))
    }

    /// Sends `draft` into `conversation` in one attempt (the inbox retries what cannot have
    /// gone out), checking the provider's documented limits first. `reference` is the
    /// caller's own id of the send (Bird keeps it on the message; [`MessageSource::find_sent`]
    /// looks for it). The default: this source cannot send.
    async fn send(
        &self,
        conversation: &ConversationId,
        draft: &Draft,
        reference: &str,
    ) -> Result<Sent, SendError> {
        let _ = (conversation, draft, reference);
        Err(SendError::Invalid(format!(
            "the source `{}` cannot send",
            self.name()
        )))
    }

    /// Looks, at the provider, for a message a send that may have gone out created: `None`
    /// when it is not there (so sending again cannot send it twice). The default: this
    /// source cannot look, which is an error (never `None`: that would send again blind).
    async fn find_sent(&self, lookup: Lookup<'_>) -> Result<Option<Sent>, SendError> {
        let _ = lookup;
        Err(SendError::Invalid(format!(
            "the source `{}` cannot look for a sent message",
            self.name()
        )))
    }

    /// Asks the provider to send a failed message again (Partoo's
    /// `POST /messages/{id}/retry`), in one attempt. The default: not supported.
    async fn retry_failed(&self, message_id: &str) -> Result<(), SendError> {
        let _ = message_id;
        Err(SendError::Invalid(format!(
            "the source `{}` cannot retry a failed message",
            self.name()
        )))
    }
}

/// An error from a [`MessageSource`]: the provider client's error, classified for retrying,
/// and (once the aggregator gave up on it) how many attempts it took.
pub struct SourceError {
    class: ErrorClass,
    inner: Box<dyn StdError + Send + Sync>,
    attempts: u32,
    spent: Duration,
}

impl SourceError {
    /// Wraps an error of class `class`.
    pub fn new(class: ErrorClass, inner: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            class,
            inner: inner.into(),
            attempts: 1,
            spent: Duration::ZERO,
        }
    }

    /// A permanent error: trying again would fail the same way.
    pub fn permanent(inner: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(ErrorClass::Permanent, inner)
    }

    /// What the error means for retrying.
    pub fn class(&self) -> ErrorClass {
        self.class
    }

    /// The attempts made before giving up (1 unless the aggregator retried).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The provider client's error, to downcast (e.g. to `inbox::partoo::Error`).
    pub fn inner(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.inner
    }

    /// Records that this is the last of `attempts` attempts, which took `spent` in all.
    pub(crate) fn after(mut self, attempts: u32, spent: Duration) -> Self {
        self.attempts = attempts;
        self.spent = spent;
        self
    }
}

impl fmt::Debug for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceError")
            .field("class", &self.class)
            .field("attempts", &self.attempts)
            .field("inner", &self.inner)
            .finish()
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)?;
        if self.attempts > 1 {
            write!(
                f,
                " (gave up after {} attempts in {:.1} s)",
                self.attempts,
                self.spent.as_secs_f64()
            )?;
        }
        Ok(())
    }
}

impl StdError for SourceError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.source()
    }
}

impl From<inbox_http::PagingError> for SourceError {
    fn from(e: inbox_http::PagingError) -> Self {
        SourceError::permanent(e)
    }
}

impl<B> From<inbox_http::Error<B>> for SourceError
where
    B: fmt::Display + fmt::Debug + Send + Sync + 'static,
{
    fn from(e: inbox_http::Error<B>) -> Self {
        SourceError::new(e.class(), e)
    }
}
