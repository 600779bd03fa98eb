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

/// The databases one test body runs on: an SQLite file, then a PostgreSQL database of the
/// test process's own server.
pub(crate) enum Db {
    Sqlite(TempDir),
    Postgres {
        test: String,
        made: std::sync::Mutex<std::collections::HashMap<String, String>>,
    },
}

impl Db {
    pub(crate) fn sqlite(test: &str) -> Db {
        Db::Sqlite(TempDir::new(test))
    }

    pub(crate) fn postgres(test: &str) -> Db {
        Db::Postgres {
            test: test.to_owned(),
            made: Default::default(),
        }
    }

    /// Where the store called `name` of this test is: the same name, the same database.
    pub(crate) fn location(&self, name: &str) -> String {
        match self {
            Db::Sqlite(dir) => dir.db(name),
            Db::Postgres { test, made } => {
                let mut made = made.lock().unwrap();
                made.entry(name.to_owned())
                    .or_insert_with(|| {
                        inbox_testkit::postgres::Postgres::shared()
                            .database(&format!("{test}_{name}"))
                    })
                    .clone()
            }
        }
    }
}

/// A test written once, run on SQLite and on PostgreSQL: `async fn name(db: Db) { … }`
/// becomes the tests `name::sqlite` and `name::postgres`.
macro_rules! on_both {
    ($(#[$meta:meta])* async fn $name:ident($db:ident: Db) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            async fn body($db: $crate::support::Db) $body

            #[tokio::test]
            async fn sqlite() {
                body($crate::support::Db::sqlite(stringify!($name))).await
            }

            #[tokio::test]
            async fn postgres() {
                body($crate::support::Db::postgres(stringify!($name))).await
            }
        }
    };
}
pub(crate) use on_both;
