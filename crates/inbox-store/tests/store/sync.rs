//! Syncing: full, incremental, exactly once.

use inbox_emulator::{Config, Dataset, Emulator};
use inbox_store::{Store, SyncOptions};

use crate::support::{everything, inbox, messages, on_both};

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

on_both! {
async fn a_first_sync_stores_everything_once_and_a_second_skips_everything(db: Db) {
    let emulator = Emulator::start(small()).await.unwrap();
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
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
}

on_both! {
async fn after_activity_only_the_changed_conversations_are_read_and_the_store_equals_a_full_sync(db: Db) {
    let emulator = Emulator::start(small()).await.unwrap();
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let inbox = inbox(&emulator);
    store
        .sync(&inbox, everything(), &SyncOptions::default())
        .await
        .unwrap();

    let activity = emulator.simulate_activity(11, 2);
    assert!(!activity.partoo_changed.is_empty() && !activity.bird_changed.is_empty());
    let before = emulator.message_requests();
    let report = store
        .sync(&inbox, everything(), &SyncOptions::default())
        .await
        .unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let read = emulator.message_requests().since(&before);
    let read_partoo: Vec<i64> = read.partoo.keys().copied().collect();
    let read_bird: Vec<String> = read.bird.keys().cloned().collect();
    let mut want_partoo = activity.partoo_conversations.clone();
    want_partoo.sort_unstable();
    let mut want_bird = activity.bird_conversations.clone();
    want_bird.sort();
    assert_eq!(
        read_partoo, want_partoo,
        "only the changed Partoo conversations"
    );
    assert_eq!(read_bird, want_bird, "only the changed Bird conversations");
    let total = report.total();
    let changed = (activity.partoo_conversations.len() + activity.bird_conversations.len()) as u64;
    assert_eq!((total.changed, total.skipped), (changed, 12 - changed));
    let added = (activity.partoo_added.len() + activity.bird_added.len()) as u64;
    let moved = (activity.partoo_changed.len() + activity.bird_changed.len()) as u64;
    assert_eq!((total.new, total.updated), (added, moved));

    let fresh = Store::open(&db.location("full.db")).await.unwrap();
    fresh
        .sync(&inbox, everything(), &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(messages(&store).await, messages(&fresh).await);
}
}

on_both! {
async fn under_injected_faults_the_store_ends_as_a_fault_free_sync(db: Db) {
    use inbox_emulator::Faults;
    let faults = Faults {
        server_error: 0.10,
        rate_limited: 0.05,
        retry_after_secs: 0,
        cut_body: 0.02,
        drop_connection: 0.02,
        ..Faults::default()
    };
    let faulty = Emulator::start(Config { faults, ..small() }).await.unwrap();
    let clean = Emulator::start(small()).await.unwrap();
    let store = Store::open(&db.location("faulty.db")).await.unwrap();
    let patient = crate::support::builder(&faulty)
        .retry(inbox_aggregator::RetryPolicy {
            max_attempts: 12,
            ..inbox_aggregator::RetryPolicy::default()
        })
        .build()
        .unwrap();
    let report = store
        .sync(&patient, everything(), &SyncOptions::default())
        .await
        .unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(faulty.stats().faults > 0, "{:?}", faulty.stats());
    let reference = Store::open(&db.location("clean.db")).await.unwrap();
    reference
        .sync(&inbox(&clean), everything(), &SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(messages(&store).await, messages(&reference).await);
}
}

on_both! {
async fn a_sync_stopped_by_an_outage_is_reported_and_the_next_one_completes(db: Db) {
    use inbox_emulator::Faults;
    let emulator = Emulator::start(small()).await.unwrap();
    let down = Emulator::start(Config {
        faults: Faults {
            server_error: 1.0,
            ..Faults::default()
        },
        ..small()
    })
    .await
    .unwrap();
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let impatient = crate::support::builder(&down)
        .retry(inbox_aggregator::RetryPolicy::none())
        .build()
        .unwrap();
    let report = store
        .sync(&impatient, everything(), &SyncOptions::default())
        .await
        .unwrap();
    assert!(!report.failures.is_empty());
    assert_eq!(store.messages_count().await.unwrap(), 0);
    let report = store
        .sync(&inbox(&emulator), everything(), &SyncOptions::default())
        .await
        .unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(
        store.messages_count().await.unwrap() as usize,
        emulator.message_count()
    );
    let runs = store.runs(10).await.unwrap();
    assert!(runs.iter().all(|r| r.finished_at.is_some()));
}
}
