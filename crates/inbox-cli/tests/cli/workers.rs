//! `inbox worker` and `inbox status`: fifty accounts on three worker processes sharing one
//! PostgreSQL, one killed with SIGKILL mid-sync and one stopped with SIGTERM; and the
//! embedded worker on SQLite, which keeps a second one off its file.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use inbox::store::{MessageQuery, Store};
use inbox_emulator::{Config, Dataset, Emulator};
use serde_json::Value;

use crate::mirror::{TempDir, postgres};
use crate::{inbox, text};

/// An accounts file naming both sides of every emulator account (`p<i>` and `b<i>`), with
/// keys by environment variable (`P<i>`, `B<i>`) and one request at a time each; and the
/// environment that holds the keys.
fn accounts_file(emulator: &Emulator, dir: &Path) -> (String, Vec<(String, String)>) {
    let mut file = String::new();
    let mut env = Vec::new();
    for i in 0..emulator.account_count() {
        let account = emulator.account(i).unwrap();
        file.push_str(&format!(
            "[[account]]\nname = \"p{i}\"\nprovider = \"partoo\"\nkey_env = \"P{i}\"\n\
             base_url = \"{}\"\nconcurrency = 1\n\n\
             [[account]]\nname = \"b{i}\"\nprovider = \"bird\"\nkey_env = \"B{i}\"\n\
             workspace = \"{}\"\nbase_url = \"{}\"\nconcurrency = 1\n\n",
            emulator.partoo_base_url(),
            account.bird_workspace,
            emulator.bird_base_url(),
        ));
        env.push((format!("P{i}"), account.partoo_key.clone()));
        env.push((format!("B{i}"), account.bird_key.clone()));
    }
    let path = dir.join("accounts.toml");
    std::fs::write(&path, file).unwrap();
    (path.display().to_string(), env)
}

/// A running `inbox worker`, its stderr in a file (so that no pipe fills up).
struct Worker {
    child: Child,
    log: std::path::PathBuf,
}

impl Worker {
    fn start(n: usize, dir: &Path, args: &[&str], env: &[(String, String)]) -> Worker {
        let log = dir.join(format!("worker-{n}.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inbox"));
        cmd.arg("worker")
            .args(args)
            .env_remove("PARTOO_API_KEY")
            .env_remove("BIRD_ACCESS_KEY")
            .env_remove("BIRD_WORKSPACE_ID")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Worker {
            child: cmd.spawn().unwrap(),
            log,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then its exit code once it exits (within `within`) and its log.
    async fn terminate(self, within: Duration) -> (Option<i32>, String) {
        let pid = self.pid().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        self.wait(within).await
    }

    /// Its exit code once it exits (within `within`), and its log.
    async fn wait(mut self, within: Duration) -> (Option<i32>, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.code(), self.log());
            }
            if Instant::now() > deadline {
                self.child.kill().unwrap();
                panic!("the worker did not stop within {within:?}: {}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, and reaped.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// The id of the worker with process id `pid`, once it registered.
async fn worker_id(store: &Store, pid: u32) -> Option<String> {
    store
        .workers()
        .await
        .unwrap()
        .into_iter()
        .find(|w| w.info.pid == pid)
        .map(|w| w.info.id)
}

/// Waits until `check` holds of the schedule, polling; panics after `within`.
async fn wait_for(
    store: &Store,
    within: Duration,
    what: &str,
    logs: &dyn Fn() -> String,
    mut check: impl FnMut(&[inbox::store::ScheduledAccount]) -> bool,
) {
    let deadline = Instant::now() + within;
    loop {
        let accounts = store.scheduled_accounts().await.unwrap();
        if check(&accounts) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {within:?}; schedule {accounts:#?}\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

/// Every account of `emulator` is stored whole and once: its messages' ids, per account
/// and provider, are the ones the emulator serves.
async fn every_message_once(emulator: &Emulator, store: &Store) {
    let identities: HashMap<String, String> = store
        .scheduled_accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| {
            (
                a.name,
                a.identity.expect("a synced account knows its identity"),
            )
        })
        .collect();
    let mut stored: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    let messages = store.messages(MessageQuery::new());
    futures_util::pin_mut!(messages);
    while let Some(m) = messages.try_next().await.unwrap() {
        stored
            .entry((m.provider, m.account))
            .or_default()
            .push(m.id);
    }
    let mut total = 0;
    for i in 0..emulator.account_count() {
        let ids = emulator.message_ids(i).unwrap();
        for (provider, name, mut want) in [
            (
                "partoo",
                format!("p{i}"),
                ids.partoo.into_values().flatten().collect::<Vec<_>>(),
            ),
            (
                "bird",
                format!("b{i}"),
                ids.bird.into_values().flatten().collect(),
            ),
        ] {
            want.sort();
            total += want.len();
            let key = (provider.to_owned(), identities[&name].clone());
            let mut have = stored.remove(&key).unwrap_or_default();
            have.sort();
            assert_eq!(have.len(), want.len(), "{name}: how many messages");
            assert_eq!(have, want, "{name}: its messages, each once");
        }
    }
    assert!(
        stored.is_empty(),
        "nothing else is stored: {:?}",
        stored.keys()
    );
    assert_eq!(store.messages_count().await.unwrap() as usize, total);
}

async fn status_json(db: &str, heartbeat_timeout: &str) -> Value {
    let args = [
        "status",
        "--db",
        db,
        "--format",
        "json",
        "--heartbeat-timeout",
        heartbeat_timeout,
    ];
    let out = inbox(&args, &[], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_accounts_on_three_workers_one_killed_one_stopped_every_message_once() {
    let emulator = Emulator::start(Config {
        seed: 31,
        accounts: 25,
        dataset: Dataset::Synthetic {
            partoo_conversations: 4,
            bird_conversations: 4,
            messages_per_conversation: 10..=90,
        },
        latency: Duration::from_millis(40),
        ..Config::default()
    })
    .await
    .unwrap();
    let dir = TempDir::new("workers-pg");
    let (accounts, env) = accounts_file(&emulator, &dir.0);
    let db = postgres("workers");
    let args = [
        "--db",
        &db,
        "--accounts",
        &accounts,
        "--every",
        "1h",
        "--concurrency",
        "3",
        "--requests",
        "1",
        "--heartbeat-timeout",
        "3s",
        "--grace-period",
        "60s",
    ];
    let first = Worker::start(0, &dir.0, &args, &env);
    let second = Worker::start(1, &dir.0, &args, &env);
    let third = Worker::start(2, &dir.0, &args, &env);
    let logs = || format!("{}\n{}", first_log(&dir.0, 0), first_log(&dir.0, 1));
    fn first_log(dir: &Path, n: usize) -> String {
        std::fs::read_to_string(dir.join(format!("worker-{n}.log"))).unwrap_or_default()
    }
    let store = Store::open(&db).await.unwrap();

    // SIGKILL the first worker once it is syncing an account.
    let mut killed_id = None;
    let mut killed_account = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while killed_account.is_none() {
        assert!(
            Instant::now() < deadline,
            "the first worker never ran a job: {}",
            logs()
        );
        if killed_id.is_none() {
            killed_id = worker_id(&store, first.pid()).await;
        }
        if let Some(id) = &killed_id {
            killed_account = store
                .scheduled_accounts()
                .await
                .unwrap()
                .into_iter()
                .find(|a| {
                    a.running_on.as_deref() == Some(id.as_str()) && a.last_success_at.is_none()
                })
                .map(|a| a.name);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed_id = killed_id.unwrap();
    let killed_account = killed_account.unwrap();
    first.kill();
    let killed_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;

    // SIGTERM the second once it is syncing too: it finishes its jobs and exits 0.
    let second_id = loop {
        if let Some(id) = worker_id(&store, second.pid()).await {
            break id;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    wait_for(
        &store,
        Duration::from_secs(60),
        "the second worker runs a job",
        &logs,
        |a| {
            a.iter()
                .any(|a| a.running_on.as_deref() == Some(second_id.as_str()))
        },
    )
    .await;
    let (code, log) = second.terminate(Duration::from_secs(60)).await;
    assert_eq!(code, Some(0), "SIGTERM ends a worker with 0: {log}");
    assert!(log.contains("stopped"), "{log}");

    // The third finishes everything, the killed worker's account too once its heartbeat
    // is overdue.
    wait_for(
        &store,
        Duration::from_secs(120),
        "every account synced",
        &logs,
        |a| a.len() == 50 && a.iter().all(|a| a.last_success_at.is_some()),
    )
    .await;
    let status = status_json(&db, "3s").await;
    let (code, log) = third.terminate(Duration::from_secs(60)).await;
    assert_eq!(code, Some(0), "{log}");

    every_message_once(&emulator, &store).await;
    // No account was ever served by two workers at once: one request of its key at a time.
    for i in 0..emulator.account_count() {
        let stats = emulator.account_stats(i).unwrap();
        assert!(
            stats.partoo_requests > 0 && stats.bird_requests > 0,
            "account {i}: {stats:?}"
        );
        assert_eq!(
            (stats.partoo_peak_in_flight, stats.bird_peak_in_flight),
            (1, 1),
            "account {i} was served by one worker at a time"
        );
    }
    let killed = store
        .scheduled_accounts()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.name == killed_account)
        .unwrap();
    assert!(
        killed.last_started_at.unwrap() > killed_at
            && killed.last_success_at.is_some()
            && killed.running_on.is_none(),
        "the killed worker's account was started again elsewhere and finished: {killed:?}"
    );

    // inbox status: every account, and the killed worker silent, the others stopped.
    let listed = status["accounts"].as_array().unwrap();
    assert_eq!(listed.len(), 50);
    assert!(
        listed
            .iter()
            .all(|a| a["last_success_at"].is_string() && a["failures"] == 0)
    );
    let workers = status["workers"].as_array().unwrap();
    let state = |id: &str| {
        workers
            .iter()
            .find(|w| w["id"] == id)
            .map(|w| w["state"].as_str().unwrap().to_owned())
    };
    assert_eq!(state(&killed_id).as_deref(), Some("silent"), "{status:#}");
    assert_eq!(state(&second_id).as_deref(), Some("stopped"), "{status:#}");
    assert_eq!(workers.len(), 3);
    store.close().await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_worker_syncs_on_sqlite_keeps_a_second_off_and_stops_on_sigterm() {
    let emulator = Emulator::start(Config {
        accounts: 2,
        dataset: Dataset::Synthetic {
            partoo_conversations: 3,
            bird_conversations: 3,
            messages_per_conversation: 5..=60,
        },
        ..Config::default()
    })
    .await
    .unwrap();
    let dir = TempDir::new("workers-sqlite");
    let (accounts, env) = accounts_file(&emulator, &dir.0);
    let db = dir.db();
    let args = ["--db", &db, "--accounts", &accounts, "--every", "1h"];
    let worker = Worker::start(0, &dir.0, &args, &env);
    // The worker creates the database, then says it started.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !worker.log().contains("on the in-process scheduler") {
        assert!(Instant::now() < deadline, "{}", worker.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let store = Store::open(&db).await.unwrap();
    let logs = || worker.log();
    wait_for(
        &store,
        Duration::from_secs(60),
        "every account synced",
        &logs,
        |a| a.len() == 4 && a.iter().all(|a| a.last_success_at.is_some()),
    )
    .await;

    // A second worker on the same file: a usage error, exit 2, and the first goes on.
    let second = Worker::start(1, &dir.0, &args, &env);
    let (code, log) = second.wait(Duration::from_secs(30)).await;
    assert_eq!(code, Some(2), "{log}");
    assert!(
        log.contains("another `inbox worker` runs on this database"),
        "{log}"
    );

    let status = status_json(&db, "60s").await;
    let listed = status["accounts"].as_array().unwrap();
    assert_eq!(listed.len(), 4, "{status:#}");
    for a in listed {
        assert!(a["last_run_new_messages"].as_u64().unwrap() > 0, "{a}");
        assert!(
            a["next_due_at"].is_string() && a["running_on"].is_null(),
            "{a}"
        );
    }
    let workers = status["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 1, "{status:#}");
    assert_eq!(workers[0]["state"], "running");
    assert_eq!(workers[0]["queue"], "local");

    let (code, log) = worker.terminate(Duration::from_secs(30)).await;
    assert_eq!(code, Some(0), "{log}");
    let out = inbox(&["status", "--db", &db], &[], None).await;
    let table = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(table.contains("accounts: 4 (0 failing)"), "{table}");
    assert!(table.contains("stopped"), "{table}");
    every_message_once(&emulator, &store).await;
    store.close().await;
    emulator.shutdown().await;
}
