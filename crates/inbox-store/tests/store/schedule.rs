//! What workers record: the accounts they keep synced and their own heartbeats.

use inbox_emulator::{Config, Dataset, Emulator};
use inbox_store::{JobEnd, Store, SyncOptions, WorkerInfo};

use crate::support::{everything, inbox, on_both};

fn worker(id: &str) -> WorkerInfo {
    WorkerInfo {
        id: id.to_owned(),
        host: "test-host".to_owned(),
        pid: 4242,
        queue: "local".to_owned(),
        concurrency: 3,
    }
}

on_both! {
async fn jobs_and_heartbeats_are_recorded_and_a_clean_stop_frees_its_accounts(db: Db) {
    let emulator = Emulator::start(Config {
        dataset: Dataset::Synthetic {
            partoo_conversations: 2,
            bird_conversations: 2,
            messages_per_conversation: 3..=5,
        },
        ..Config::default()
    })
    .await
    .unwrap();
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    store.register_worker(&worker("w1")).await.unwrap();
    store
        .schedule_accounts(&[("acme", "partoo"), ("birdy", "bird")])
        .await
        .unwrap();
    let planned = store.scheduled_accounts().await.unwrap();
    assert_eq!(planned.len(), 2);
    let due = planned[0].next_due_at.expect("a new account is due at once");
    assert_eq!((planned[0].jobs, planned[0].failures), (0, 0));

    // A success: the account is resolved, its run linked, its next job planned.
    store.job_started("acme", "w1").await.unwrap();
    assert_eq!(
        store.scheduled_accounts().await.unwrap()[0].running_on.as_deref(),
        Some("w1")
    );
    let report = store
        .sync(&inbox(&emulator), everything(), &SyncOptions::default())
        .await
        .unwrap();
    let synced = &report.accounts[0];
    let end = JobEnd {
        account: Some((synced.account.provider.to_string(), synced.account.identity.clone())),
        run: Some(synced.run),
        error: None,
        next_due_at: due + 1_000,
    };
    store.job_finished("acme", "w1", &end).await.unwrap();

    // Two failures in a row on the other, then a success: the count starts again, the
    // last error stays for the record.
    for n in 0..2 {
        store.job_started("birdy", "w1").await.unwrap();
        let failed = JobEnd {
            account: None,
            run: None,
            error: Some(format!("boom {n}")),
            next_due_at: due + 2_000,
        };
        store.job_finished("birdy", "w1", &failed).await.unwrap();
    }
    let accounts = store.scheduled_accounts().await.unwrap();
    let (acme, birdy) = (&accounts[0], &accounts[1]);
    assert_eq!(acme.name, "acme");
    assert_eq!(acme.identity.as_deref(), Some(synced.account.identity.as_str()));
    assert_eq!(acme.last_run, Some(synced.run));
    assert_eq!((acme.jobs, acme.failures, acme.next_due_at), (1, 0, Some(due + 1_000)));
    assert!(acme.last_success_at.is_some() && acme.running_on.is_none());
    assert_eq!((birdy.jobs, birdy.failures), (2, 2));
    assert_eq!(birdy.last_error.as_deref(), Some("boom 1"));
    assert_eq!(birdy.last_success_at, None);

    store.job_started("birdy", "w1").await.unwrap();
    let ok = JobEnd { account: None, run: None, error: None, next_due_at: due + 3_000 };
    store.job_finished("birdy", "w1", &ok).await.unwrap();
    let birdy = store.scheduled_accounts().await.unwrap().remove(1);
    assert_eq!((birdy.jobs, birdy.failures), (3, 0));
    assert_eq!(birdy.last_error.as_deref(), Some("boom 1"));

    // Scheduling the same accounts again keeps their plan.
    store.schedule_accounts(&[("acme", "partoo")]).await.unwrap();
    assert_eq!(store.scheduled_accounts().await.unwrap()[0].next_due_at, Some(due + 1_000));

    // A worker that stops cleanly frees what it was running; its counts are kept.
    store.job_started("acme", "w1").await.unwrap();
    store.worker_heartbeat("w1").await.unwrap();
    store.worker_stopped("w1").await.unwrap();
    assert!(store.scheduled_accounts().await.unwrap()[0].running_on.is_none());
    let workers = store.workers().await.unwrap();
    assert_eq!(workers.len(), 1);
    let w = &workers[0];
    assert_eq!(w.info, worker("w1"));
    assert_eq!((w.jobs_done, w.jobs_failed), (2, 2));
    assert!(w.stopped_at.is_some() && w.heartbeat_at >= w.started_at);

    // Registering again (a restart under the same id) clears the stop.
    store.register_worker(&worker("w1")).await.unwrap();
    assert_eq!(store.workers().await.unwrap()[0].stopped_at, None);
}
}
