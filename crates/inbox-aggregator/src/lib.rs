//! The aggregator behind the `inbox` facade: many conversations from Partoo, Bird or any
//! [`MessageSource`], fetched concurrently and merged. Most users depend on `inbox`, which
//! re-exports all of this; depend on this crate to leave the mirror (`inbox-store`) out.
//!
//! - The layers a source is built from, re-exported: [`partoo`] (the Partoo client and wire
//!   types), [`bird`] (the Bird client and wire types), [`model`] (the unified model, also at
//!   the root: [`Message`], [`ConversationSummary`], ...).
//! - [`Inbox`]: fetches many conversations from many [`MessageSource`]s concurrently, within
//!   a global bound and each source's own bounds, retrying with one [`RetryPolicy`], and
//!   merges them: page by page ([`Inbox::pages`], what a store commits), as a stream of
//!   messages ([`Inbox::stream`], each conversation's messages once), or collected, sorted
//!   and deduplicated by (provider, message id) ([`Inbox::timeline`]). One conversation's
//!   failure never stops the others. [`Inbox::conversations`] lists a source's
//!   conversations as unified [`ConversationSummary`]s.
//! - Sending: [`Inbox::send`] sends a [`Draft`] (text, image, video, audio, document, or a
//!   Bird template) through a source, retrying only what cannot have gone out; a
//!   [`SendError`] says whether the message was refused, not sent, or may have been sent,
//!   and [`Inbox::find_sent`] looks for the latter at the provider. For sends that are never
//!   doubled nor lost, use the outbox of `inbox-store`.
//!
//! # Example
//!
//! ```no_run
//! use inbox_aggregator::{BirdSource, Inbox, PartooSource, Target};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let var = |name: &str| std::env::var(name).unwrap_or_default();
//! let partoo = inbox_aggregator::partoo::Client::builder(var("PARTOO_API_KEY")).build()?;
//! let bird = inbox_aggregator::bird::Client::builder(var("BIRD_ACCESS_KEY"), var("BIRD_WORKSPACE_ID")).build()?;
//!
//! let inbox = Inbox::builder()
//!     .source(PartooSource::new(partoo))
//!     .source(BirdSource::new(bird))
//!     .concurrency(16)
//!     .on_progress(|p| eprintln!("{}/{} conversations", p.conversations_done, p.conversations_total))
//!     .build()?;
//!
//! let timeline = inbox.timeline(vec![Target::all("partoo"), Target::all("bird")]).await?;
//! for message in &timeline.messages {
//!     println!("{} {:>8} {}", message.timestamp.to_rfc3339_utc(), message.provider, message.text);
//! }
//! for failure in &timeline.failures {
//!     eprintln!("not fetched: {failure}");
//! }
//! # Ok(()) }
//! ```
//!
//! # Fetching "since"
//!
//! [`InboxBuilder::since`] asks for messages created at or after an instant. Bird filters on
//! the server (`dateFrom`): only newer pages travel. Partoo has no such filter: older
//! messages are dropped on our side, and a conversation whose pages come newest first stops
//! paging at the first page that reaches past the instant; one that comes oldest first is read
//! whole, so `since` saves nothing there but output.

mod bird_source;
mod builder;
mod inbox;
mod limiter;
mod partoo_source;
mod report;
mod scheduler;
mod send;
mod source;

pub use bird_source::{BIRD_RATE, BirdSource};
pub use builder::{BuildError, InboxBuilder};
pub use inbox::{Inbox, UnknownSource};
pub use partoo_source::{PARTOO_RATE, PartooSource};
pub use report::{
    Account, Failure, FailureKind, Listing, MessagePage, PageEvent, Progress, Target, Timeline,
};
pub use send::{CLOCK_MARGIN, Draft, Lookup, MediaDraft, Refusal, SendError, Sent, TemplateDraft};
pub use source::{
    Body, Decoded, Fetched, MessageSource, PageRequest, Rate, SourceError, SourceLimits,
};

pub use inbox_http::{Backoff, ErrorClass, RetryPolicy, Secret};
pub use inbox_normalize as model;
pub use inbox_normalize::{
    Channel, Contact, Content, ConversationId, ConversationOrigin, ConversationStatus,
    ConversationSummary, Direction, LastActivity, Message, MessageId, Provider, Role, Sender,
    Status, Timestamp,
};
pub use inbox_wire::Rejected;

/// The Partoo client and wire types.
pub mod partoo {
    pub use partoo_client::*;
}

/// The Bird client and wire types.
pub mod bird {
    pub use bird_client::*;
}
