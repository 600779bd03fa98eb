//! What the store's tests share: temporary databases, inboxes on the emulator, snapshots
//! of what a store holds.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::TryStreamExt;
use inbox_aggregator::{BirdSource, Inbox, InboxBuilder, PartooSource, SourceLimits, Target};
use inbox_emulator::Emulator;
use inbox_store::{MessageQuery, Store};

/// A folder of its own for one test, removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("inbox-store-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// A database path in it.
    pub(crate) fn db(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An inbox builder on `emulator`, without rate limits. (The store's tests run on a real
/// clock: the database's pool and SQLite's threads do not keep to a paused one.)
pub(crate) fn builder(emulator: &Emulator) -> InboxBuilder {
    let c = emulator.config();
    let partoo = inbox_aggregator::partoo::Client::builder(c.partoo_key.as_str())
        .base_url(&emulator.partoo_base_url())
        .build()
        .unwrap();
    let bird =
        inbox_aggregator::bird::Client::builder(c.bird_key.as_str(), c.bird_workspace.as_str())
            .base_url(&emulator.bird_base_url())
            .build()
            .unwrap();
    Inbox::builder()
        .source(PartooSource::new(partoo).limits(SourceLimits::new(8, None)))
        .source(BirdSource::new(bird).limits(SourceLimits::new(8, None)))
}

pub(crate) fn inbox(emulator: &Emulator) -> Inbox {
    builder(emulator).build().unwrap()
}

pub(crate) fn everything() -> Vec<Target> {
    vec![Target::all("partoo"), Target::all("bird")]
}

/// Every stored message as its unified JSON, in the store's order.
pub(crate) async fn messages(store: &Store) -> Vec<String> {
    store
        .messages(MessageQuery::new())
        .map_ok(|m| m.json)
        .try_collect()
        .await
        .unwrap()
}
