//! What an [`crate::Inbox`] hands back: targets, pages, failures, progress, timelines and
//! listings.

use std::fmt;
use std::sync::Arc;

use inbox_normalize::{ConversationId, ConversationSummary, Message, Provider, Timestamp};
use inbox_wire::Rejected;

use crate::source::SourceError;

/// What to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// One conversation of the source named `source`.
    Conversation {
        /// The source's name.
        source: String,
        /// The conversation.
        id: ConversationId,
        /// Only its messages created at or after this instant (overrides
        /// [`crate::InboxBuilder::since`] for this conversation).
        since: Option<Timestamp>,
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
            since: None,
        }
    }

    /// Every conversation of a source.
    pub fn all(source: impl Into<String>) -> Self {
        Target::All {
            source: source.into(),
        }
    }

    /// The same target, wanting only messages created at or after `since` (a conversation
    /// target only; `All` targets keep the inbox's default).
    pub fn since(mut self, instant: Timestamp) -> Self {
        if let Target::Conversation { since, .. } = &mut self {
            *since = Some(instant);
        }
        self
    }

    /// The source the target names.
    pub fn source(&self) -> &str {
        match self {
            Target::Conversation { source, .. } | Target::All { source } => source,
        }
    }
}

/// How far a fetch has got; passed to the progress callback after every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct Failure {
    /// The source's name.
    pub source: String,
    /// The conversation, when the failure concerns one.
    pub conversation: Option<ConversationId>,
    /// What failed.
    pub kind: FailureKind,
}

impl Failure {
    pub(crate) fn new(
        source: impl Into<String>,
        conversation: Option<ConversationId>,
        kind: FailureKind,
    ) -> Self {
        Self {
            source: source.into(),
            conversation,
            kind,
        }
    }

    /// The source error behind a failed listing or conversation, if it is one.
    pub fn error(&self) -> Option<&SourceError> {
        match &self.kind {
            FailureKind::Listing(e) | FailureKind::Conversation(e) | FailureKind::Account(e) => {
                Some(e)
            }
            _ => None,
        }
    }
}

/// What failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum FailureKind {
    /// Listing the source's conversations stopped with an error; the conversations listed
    /// before it are fetched.
    Listing(SourceError),
    /// A conversation stopped with an error; its messages delivered before it stand.
    Conversation(SourceError),
    /// One message did not decode: it is kept here raw, with the JSON path of the problem;
    /// the conversation went on.
    InvalidMessage(Box<Rejected>),
    /// One conversation of a listing did not decode: it is kept here raw, with the JSON
    /// path of the problem; the listing went on.
    InvalidConversation(Box<Rejected>),
    /// The source could not say which account it reads.
    Account(SourceError),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        if let Some(id) = &self.conversation {
            write!(f, " conversation {id}")?;
        }
        match &self.kind {
            FailureKind::Listing(e) => write!(f, ": listing conversations failed: {e}"),
            FailureKind::Conversation(e) => write!(f, ": {e}"),
            FailureKind::InvalidMessage(r) => write!(f, ": message kept raw, {r}"),
            FailureKind::InvalidConversation(r) => {
                write!(f, ": conversation of the listing kept raw, {r}")
            }
            FailureKind::Account(e) => write!(f, ": cannot tell which account it reads: {e}"),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error().map(|e| e as _)
    }
}

/// One page of one conversation's messages, as [`crate::Inbox::pages`] hands it out: what a
/// store commits in one transaction.
#[derive(Debug)]
#[non_exhaustive]
pub struct MessagePage {
    /// The source's name.
    pub source: Arc<str>,
    /// The conversation.
    pub conversation: ConversationId,
    /// The page's position in the conversation's walk, from 0.
    pub index: usize,
    /// The messages that decoded (each message of a conversation once per walk: one seen
    /// again on a later page, as pages shift under new messages, is left out).
    pub messages: Vec<Message>,
    /// The messages that did not decode, kept raw with the JSON path of the problem.
    pub rejected: Vec<Rejected>,
    /// Whether this is the conversation's last page: the walk is complete (a later failure
    /// of the conversation cannot follow).
    pub last: bool,
}

/// What [`crate::Inbox::pages`] yields.
#[derive(Debug)]
#[non_exhaustive]
pub enum PageEvent {
    /// A page of messages.
    Page(MessagePage),
    /// Something that was not delivered.
    Failure(Failure),
}

/// A collected timeline: every message fetched, deduplicated and sorted by time, beside
/// everything that failed.
#[derive(Debug, Default)]
#[non_exhaustive]
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

/// Every conversation of a source, as [`crate::Inbox::conversations`] lists them.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Listing {
    /// The conversations that decoded, in listing order, each once.
    pub conversations: Vec<ConversationSummary>,
    /// Conversations that did not decode (kept raw), and the error that stopped the listing
    /// early, if one did.
    pub failures: Vec<Failure>,
    /// Whether every page was listed: no error stopped the listing early.
    pub complete: bool,
}

/// The account a source reads: what names it in a mirror.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Account {
    /// The provider.
    pub provider: Provider,
    /// The provider's own id of the account (a Bird workspace id, a Partoo organisation id).
    pub identity: String,
}

impl Account {
    /// The account `identity` of `provider` (e.g. the organisation of a Partoo webhook).
    pub fn new(provider: Provider, identity: impl Into<String>) -> Self {
        Self {
            provider,
            identity: identity.into(),
        }
    }
}
