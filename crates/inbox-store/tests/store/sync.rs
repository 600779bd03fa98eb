//! Syncing: full, incremental, exactly once.

use inbox_emulator::{Config, Dataset, Emulator};
use inbox_store::{Store, SyncOptions};

use crate::support::{TempDir, everything, inbox, messages};

fn small() -> Config {
    Config {
        dataset: Dataset::Synthetic {
            partoo_conversations: 6,
            bird_conversations: 6,
            messages_per_conversation: 3..=150,
        },
        ..Config::default()
    }
}

#[tokio::test]
async fn a_first_sync_stores_everything_once_and_a_second_skips_everything() {
    let emulator = Emulator::start(small()).await.unwrap();
    let dir = TempDir::new("first");
    let store = Store::open(&dir.db("inbox.db")).await.unwrap();
    let inbox = inbox(&emulator);
    let first = store
        .sync(&inbox, everything(), &SyncOptions::default())
        .await
        .unwrap();
    assert!(first.failures.is_empty(), "{:?}", first.failures);
    let total = first.total();
    assert_eq!(total.new as usize, emulator.message_count());
    assert_eq!(total.listed, 12);
    assert_eq!(total.changed, 12);
    assert_eq!(messages(&store).await.len(), emulator.message_count());

    let before = emulator.stats();
    let second = store
        .sync(&inbox, everything(), &SyncOptions::default())
        .await
        .unwrap();
    let total = second.total();
    assert_eq!((total.skipped, total.changed, total.new), (12, 0, 0));
    let after = emulator.stats();
    // One listing page per provider, nothing else (the account is known to this inbox).
    assert_eq!(after.bird_requests - before.bird_requests, 1);
    assert_eq!(
        after.partoo_requests - before.partoo_requests,
        1,
        "{:?}",
        emulator.message_requests()
    );
    assert_eq!(second.total().requests, 2);
}
