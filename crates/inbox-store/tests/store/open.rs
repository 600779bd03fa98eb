//! Opening: creating, migrating, refusing what cannot be used.

use std::time::Duration;

use inbox_store::{OpenOptions, Store, StoreError};

use crate::support::TempDir;

#[tokio::test]
async fn a_new_file_is_created_in_wal_mode_and_opens_again() {
    let dir = TempDir::new("create");
    let path = dir.db("inbox.db");
    let store = Store::open(&path).await.unwrap();
    assert!(store.messages_count().await.unwrap() == 0);
    store.close().await;
    assert!(std::path::Path::new(&path).exists());
    let again = Store::open(&format!("sqlite:{path}")).await.unwrap();
    assert_eq!(again.journal_mode().await.unwrap(), "wal");
}
