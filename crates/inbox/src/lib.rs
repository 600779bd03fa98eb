//! One dependency for customer conversations from Partoo and Bird.
//!
//! - The layers, re-exported: [`partoo`] (the Partoo client and wire types), [`bird`] (the
//!   Bird client and wire types), [`model`] (the unified message model, also at the root:
//!   [`Message`], [`Content`], ...).
//! - [`Inbox`]: fetches many conversations from many [`MessageSource`]s concurrently, within
//!   a global bound and each source's own bounds, and merges them into one timeline: as a
//!   stream ([`Inbox::stream`], each conversation's messages once) or collected, sorted and
//!   deduplicated by (provider, message id) ([`Inbox::timeline`]). One conversation's
//!   failure never stops the others.
//!
//! # Example
//!
//! ```no_run
//! use inbox::{BirdSource, Inbox, PartooSource, Target};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let var = |name: &str| std::env::var(name).unwrap_or_default();
//! let partoo = inbox::partoo::Client::builder(var("PARTOO_API_KEY")).build()?;
//! let bird = inbox::bird::Client::builder(var("BIRD_ACCESS_KEY"), var("BIRD_WORKSPACE_ID")).build()?;
//!
//! let inbox = Inbox::builder()
//!     .source(PartooSource::new(partoo))
//!     .source(BirdSource::new(bird))
//!     .concurrency(16)
//!     .on_progress(|p| eprintln!("{}/{} conversations", p.conversations_done, p.conversations_total))
//!     .build();
//!
//! let timeline = inbox.timeline(vec![Target::all("partoo"), Target::all("bird")]).await;
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

mod aggregator;
mod bird_source;
mod limiter;
mod partoo_source;
mod source;

pub use aggregator::{Failure, FailureKind, Inbox, InboxBuilder, Progress, Target, Timeline};
pub use bird_source::{BIRD_RATE, BirdSource};
pub use partoo_source::{PARTOO_RATE, PartooSource};
pub use source::{Body, MessageSource, Page, Rate, SourceError, SourceErrorKind, SourceLimits};

pub use inbox_http::{RetryPolicy, Secret};
pub use inbox_normalize as model;
pub use inbox_normalize::{
    Content, ConversationId, Direction, Message, MessageId, Provider, Role, Sender, Status,
    Timestamp,
};
pub use partoo_types::Rejected;

/// The Partoo client and wire types.
pub mod partoo {
    pub use partoo_client::*;
}

/// The Bird client and wire types.
pub mod bird {
    pub use bird_client::*;
}
