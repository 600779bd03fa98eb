//! One dependency for customer conversations from Partoo and Bird.
//!
//! Everything of [`inbox_aggregator`] is here: the layers re-exported ([`partoo`], [`bird`],
//! [`model`]), and [`Inbox`], which fetches many conversations from many sources
//! concurrently and merges them. With the `store` feature (on by default), [`store`] is the
//! durable mirror: [`Store`] syncs through an `Inbox` into SQLite, incrementally, exactly
//! once, and [`store::Outbox`] sends replies exactly once. With the `worker` feature, [`worker`] keeps many accounts synced from worker
//! processes sharing a PostgreSQL job queue.
//!
//! # Example
//!
//! ```no_run
//! use inbox::{BirdSource, Inbox, PartooSource, Store, SyncOptions, Target};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let var = |name: &str| std::env::var(name).unwrap_or_default();
//! let partoo = inbox::partoo::Client::builder(var("PARTOO_API_KEY")).build()?;
//! let bird = inbox::bird::Client::builder(var("BIRD_ACCESS_KEY"), var("BIRD_WORKSPACE_ID")).build()?;
//! let inbox = Inbox::builder()
//!     .source(PartooSource::new(partoo))
//!     .source(BirdSource::new(bird))
//!     .build()?;
//!
//! // One merged timeline, fetched now…
//! let timeline = inbox.timeline(vec![Target::all("partoo"), Target::all("bird")]).await?;
//! for message in &timeline.messages {
//!     println!("{} {:>8} {}", message.timestamp.to_rfc3339_utc(), message.provider, message.text);
//! }
//!
//! // …or a mirror kept current: the next sync fetches only what changed.
//! let store = Store::open("inbox.db").await?;
//! let report = store
//!     .sync(&inbox, vec![Target::all("partoo"), Target::all("bird")], &SyncOptions::default())
//!     .await?;
//! println!("{} new messages", report.total().new);
//! # Ok(()) }
//! ```

pub use inbox_aggregator::*;

/// The durable mirror (the `inbox-store` crate).
#[cfg(feature = "store")]
pub mod store {
    pub use inbox_store::*;
}

/// Webhooks: verification on the raw bytes and decoding into the unified model (the
/// `inbox-webhook` crate).
#[cfg(feature = "webhook")]
pub mod webhook {
    pub use inbox_webhook::*;
}

/// Workers that keep many accounts synced, on a PostgreSQL job queue or an in-process
/// scheduler (the `inbox-worker` crate).
#[cfg(feature = "worker")]
pub mod worker {
    pub use inbox_worker::*;
}

#[cfg(feature = "store")]
pub use inbox_store::{MessageQuery, Store, StoreError, SyncOptions, SyncReport};
