//! A durable mirror of Partoo and Bird conversations, on SQLite (embedded) or PostgreSQL
//! (at scale): one sync fills it, the next ones keep it current by fetching only what
//! changed, and no message is ever lost or doubled, even when the process is killed.
//!
//! - [`Store::open`] opens (or creates) a database at a path or a `sqlite:` URL, in WAL
//!   mode, or a PostgreSQL database at a `postgres://` URL, with its schema brought up to
//!   date by embedded migrations (one folder per dialect, the same tables); a database
//!   written by a newer version is refused. The same API and the same SQL serve both.
//! - [`Store::sync`] reads through an [`inbox_aggregator::Inbox`]: it lists each account's
//!   conversations, skips those whose last activity is what the store has, reads the others
//!   from their checkpoint (less an overlap), and commits each page of messages with the
//!   checkpoint it earns in one transaction.
//! - A message is one row per (provider, account, id): seen again, it is an upsert; a change
//!   (a status moving on, a deletion) updates it in place and bumps its revision, and an
//!   older state never overwrites a newer one.
//! - [`Store::messages`] streams the mirror back in the unified JSON shape, oldest first;
//!   [`Store::search`] is a full-text search (SQLite FTS5 kept in step by triggers;
//!   PostgreSQL a generated `tsvector` column with a GIN index; accents ignored on both);
//!   [`Store::conversations`] and [`Store::runs`] say what is there and what each sync did.
//! - Workers (the `inbox-worker` crate) record here the accounts they keep synced, how each
//!   job ended and when the next is due ([`Store::scheduled_accounts`]), and their own
//!   heartbeats ([`Store::workers`]).
//! - The [`Outbox`]: [`Outbox::send`] writes a draft and returns; a sender
//!   ([`Outbox::send_due`], [`Outbox::run`]) sends each once, looks for a send that may
//!   have gone out before sending it again, and mirrors what it sent; nothing is lost or
//!   doubled across crashes ([`Store::outbox_entries`] lists it).
//!
//! # Example
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use inbox_aggregator::{BirdSource, Inbox, PartooSource, Target};
//! use inbox_store::{MessageQuery, Store, SyncOptions};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let var = |name: &str| std::env::var(name).unwrap_or_default();
//! let partoo = inbox_aggregator::partoo::Client::builder(var("PARTOO_API_KEY")).build()?;
//! let bird = inbox_aggregator::bird::Client::builder(var("BIRD_ACCESS_KEY"), var("BIRD_WORKSPACE_ID")).build()?;
//! let inbox = Inbox::builder()
//!     .source(PartooSource::new(partoo))
//!     .source(BirdSource::new(bird))
//!     .build()?;
//!
//! let store = Store::open("inbox.db").await?;
//! let report = store
//!     .sync(&inbox, vec![Target::all("partoo"), Target::all("bird")], &SyncOptions::default())
//!     .await?;
//! let total = report.total();
//! println!(
//!     "{} conversations changed, {} skipped; {} new messages, {} updated",
//!     total.changed, total.skipped, total.new, total.updated
//! );
//! for failure in &report.failures {
//!     eprintln!("not synced (the next sync tries again): {failure}");
//! }
//! let mut messages = std::pin::pin!(store.messages(MessageQuery::new()));
//! while let Some(message) = messages.try_next().await? {
//!     println!("{}", message.json);
//! }
//! # Ok(()) }
//! ```

mod error;
mod ingest;
mod open;
mod outbox;
mod read;
mod schedule;
mod sync;
mod write;

pub use error::StoreError;
pub use ingest::{Delivery, Ingest, Ingested, StoredWebhookRejected, WebhookRejection, Writer};
pub use open::{Backend, OpenOptions, Store};
pub use outbox::{Outbox, OutboxEntry, OutboxError, OutboxOptions, OutboxStatus, SendRound};
pub use read::{
    MessageQuery, SearchHit, StoredCheckpoint, StoredConversation, StoredMessage, StoredRejected,
    SyncRun,
};
pub use schedule::{JobEnd, ScheduledAccount, WorkerInfo, WorkerRecord};
pub use sync::{AccountSync, Counts, SyncOptions, SyncReport};
