//! Workers on both queues: the in-process scheduler next to an SQLite file, graphile_worker
//! on PostgreSQL. One body each, run on both.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use inbox_aggregator::{BirdSource, Inbox, PartooSource, Provider, SourceLimits};
use inbox_emulator::{Config, Dataset, Emulator};
use inbox_store::{ScheduledAccount, Store};
use inbox_worker::{AccountRef, Queue, Worker, WorkerError, WorkerOptions};
use tokio::sync::oneshot;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("inbox-worker-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A database and its queue, for one test.
struct Db {
    url: String,
    queue: Queue,
    _dir: TempDir,
}

fn sqlite(test: &str) -> Db {
    let dir = TempDir::new(test);
    let url = dir.0.join("inbox.db").display().to_string();
    let queue = Queue::Local {
        lock: dir.0.join("inbox.db.worker-lock"),
    };
    Db {
        url,
        queue,
        _dir: dir,
    }
}

fn postgres(test: &str) -> Db {
    let url = inbox_testkit::postgres::Postgres::shared().database(test);
    Db {
        queue: Queue::Postgres { url: url.clone() },
        url,
        _dir: TempDir::new(test),
    }
}

fn small() -> Config {
    Config {
        dataset: Dataset::Synthetic {
            partoo_conversations: 3,
            bird_conversations: 3,
            messages_per_conversation: 5..=40,
        },
        ..Config::default()
    }
}

/// The emulator's two accounts, and one Partoo account whose key is refused.
fn inbox(emulator: &Emulator) -> Inbox {
    let c = emulator.config();
    let partoo = |key: &str| {
        inbox_aggregator::partoo::Client::builder(key)
            .base_url(&emulator.partoo_base_url())
            .build()
            .unwrap()
    };
    let bird =
        inbox_aggregator::bird::Client::builder(c.bird_key.as_str(), c.bird_workspace.as_str())
            .base_url(&emulator.bird_base_url())
            .build()
            .unwrap();
    Inbox::builder()
        .source(
            PartooSource::new(partoo(&c.partoo_key))
                .named("acme")
                .limits(SourceLimits::new(2, None)),
        )
        .source(
            BirdSource::new(bird)
                .named("birdy")
                .limits(SourceLimits::new(2, None)),
        )
        .source(PartooSource::new(partoo("wrong-key")).named("refused"))
        .build()
        .unwrap()
}

fn accounts() -> Vec<AccountRef> {
    vec![
        AccountRef::new("acme", Provider::Partoo),
        AccountRef::new("birdy", Provider::Bird),
        AccountRef::new("refused", Provider::Partoo),
    ]
}

/// Waits (up to a minute) until `done` holds of the scheduled accounts.
async fn until(store: &Store, done: impl Fn(&[ScheduledAccount]) -> bool) -> Vec<ScheduledAccount> {
    let started = Instant::now();
    loop {
        let accounts = store.scheduled_accounts().await.unwrap();
        if done(&accounts) {
            return accounts;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "gave up waiting: {accounts:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn find<'a>(accounts: &'a [ScheduledAccount], name: &str) -> &'a ScheduledAccount {
    accounts.iter().find(|a| a.name == name).unwrap()
}

fn now_nanos() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_nanos()).unwrap()
}

async fn syncs_every_account_plans_the_next_and_retries_a_failure(db: Db) {
    let emulator = Emulator::start(small()).await.unwrap();
    let store = Store::open(&db.url).await.unwrap();
    let options = WorkerOptions::default()
        .every(Duration::from_secs(3600))
        .concurrency(2)
        .heartbeat_timeout(Duration::from_secs(5))
        .max_attempts(3);
    let worker = Worker::new(store.clone(), inbox(&emulator), accounts(), options);
    let id = worker.id().to_owned();
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(worker.run(db.queue.clone(), async {
        let _ = stopped.await;
    }));

    // Both good accounts synced once; the refused one failed twice (its retries come after
    // e^1 ≈ 2.7 s, then e^2 ≈ 7.4 s: wait for the first retry only).
    let planned = until(&store, |a| {
        let row = |name: &str| a.iter().find(|r| r.name == name);
        row("acme").is_some_and(|r| r.jobs >= 1)
            && row("birdy").is_some_and(|r| r.jobs >= 1)
            && row("refused").is_some_and(|r| r.failures >= 2)
    })
    .await;
    let now = now_nanos();
    for name in ["acme", "birdy"] {
        let a = find(&planned, name);
        assert_eq!((a.jobs, a.failures), (1, 0), "{a:#?}");
        assert!(a.identity.is_some() && a.last_run.is_some() && a.last_success_at.is_some());
        // The next job, an hour after this one finished.
        let due = a.next_due_at.unwrap() - a.last_finished_at.unwrap();
        assert!((due - 3_600_000_000_000).abs() < 2_000_000_000, "{due}");
    }
    let refused = find(&planned, "refused");
    assert!(refused.last_success_at.is_none());
    let error = refused.last_error.as_deref().unwrap();
    assert!(
        error.contains("refused") && !error.contains("wrong-key"),
        "{error}"
    );
    // Its next attempt after e^2 s.
    let wait = refused.next_due_at.unwrap() - refused.last_finished_at.unwrap();
    assert!((wait - 7_389_000_000).abs() < 1_000_000_000, "{wait}");
    assert!(refused.next_due_at.unwrap() > now);
    let stored: Vec<_> = futures_util_collect(&store).await;
    assert_eq!(stored.len(), emulator.message_count(), "every message once");

    let live = store.workers().await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].info.id, id);
    assert!(live[0].stopped_at.is_none());

    stop.send(()).unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the worker stops when asked")
        .unwrap()
        .unwrap();
    assert_eq!(summary.jobs_done, 2);
    assert!(summary.jobs_failed >= 2);
    let workers = store.workers().await.unwrap();
    assert!(workers[0].stopped_at.is_some());
    assert_eq!(workers[0].jobs_done, 2);

    // A second run keeps the plan: nothing is due for an hour but the refused account.
    let before = emulator.stats();
    let worker = Worker::new(
        store.clone(),
        inbox(&emulator),
        accounts(),
        WorkerOptions::default(),
    );
    let again =
        tokio::spawn(worker.run(db.queue.clone(), tokio::time::sleep(Duration::from_secs(1))));
    let summary = again.await.unwrap().unwrap();
    assert_eq!(summary.jobs_done, 0);
    let after = emulator.stats();
    assert_eq!(
        after.bird_requests, before.bird_requests,
        "the bird account is not due"
    );
}

/// Every stored message (its id), to count them.
async fn futures_util_collect(store: &Store) -> Vec<String> {
    use futures_util::TryStreamExt;
    store
        .messages(inbox_store::MessageQuery::new())
        .map_ok(|m| m.id)
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_queue_syncs_plans_and_retries() {
    syncs_every_account_plans_the_next_and_retries_a_failure(sqlite("plans")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_queue_syncs_plans_and_retries() {
    syncs_every_account_plans_the_next_and_retries_a_failure(postgres("plans")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_local_worker_on_the_same_database_is_refused() {
    let db = sqlite("busy");
    let emulator = Emulator::start(small()).await.unwrap();
    let store = Store::open(&db.url).await.unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let first = Worker::new(
        store.clone(),
        inbox(&emulator),
        accounts(),
        WorkerOptions::default(),
    );
    let running = tokio::spawn(first.run(db.queue.clone(), async {
        let _ = stopped.await;
    }));
    until(&store, |a| !a.is_empty()).await;
    let second = Worker::new(
        store.clone(),
        inbox(&emulator),
        accounts(),
        WorkerOptions::default(),
    );
    let refused = second.run(db.queue.clone(), std::future::ready(())).await;
    assert!(matches!(refused, Err(WorkerError::Busy(_))), "{refused:?}");
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    // Only the first ever registered.
    assert_eq!(store.workers().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_account_the_inbox_lacks_is_refused_before_anything_runs() {
    let db = sqlite("unknown");
    let emulator = Emulator::start(small()).await.unwrap();
    let store = Store::open(&db.url).await.unwrap();
    let mut wanted = accounts();
    wanted.push(AccountRef::new("nobody", Provider::Bird));
    let worker = Worker::new(
        store.clone(),
        inbox(&emulator),
        wanted,
        WorkerOptions::default(),
    );
    let refused = worker.run(db.queue.clone(), std::future::ready(())).await;
    assert!(
        matches!(refused, Err(WorkerError::UnknownAccount(ref n)) if n == "nobody"),
        "{refused:?}"
    );
    assert!(store.scheduled_accounts().await.unwrap().is_empty());
}
