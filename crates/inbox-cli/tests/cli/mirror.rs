//! `inbox sync`, `export`, `search`: the mirror from the command line, and a sync killed with
//! SIGKILL at several points.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::TryStreamExt;
use inbox::store::{MessageQuery, Store};
use inbox_emulator::{Config, Dataset, Emulator, Faults};

use crate::{connection, inbox, jsonl, small, text};

/// A folder of its own, removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    /// Unique per call: tests running at once (a body run on two backends) never share one.
    pub(crate) fn new(name: &str) -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("inbox-cli-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub(crate) fn db(&self) -> String {
        self.0.join("inbox.db").display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `inbox sync --db DB --all` against `emulator`, with `extra` flags.
async fn sync(emulator: &Emulator, db: &str, extra: &[&str]) -> std::process::Output {
    let (env, flags) = connection(emulator);
    let mut args = vec!["sync", "--db", db, "--all"];
    args.extend(flags.iter().map(String::as_str));
    args.extend(extra);
    inbox(&args, &env, None).await
}

/// A new PostgreSQL database of the tests' own server.
pub(crate) fn postgres(name: &str) -> String {
    inbox_testkit::postgres::Postgres::shared().database(name)
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_then_export_and_search_the_mirror_on_sqlite() {
    let dir = TempDir::new("roundtrip");
    sync_then_export_and_search_the_mirror(dir.db()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_then_export_and_search_the_mirror_on_postgres() {
    sync_then_export_and_search_the_mirror(postgres("roundtrip")).await;
}

async fn sync_then_export_and_search_the_mirror(db: String) {
    let emulator = Emulator::start(small(Faults::default())).await.unwrap();
    let out = sync(&emulator, &db, &[]).await;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(out.stdout.is_empty(), "sync prints its summary on stderr");
    assert!(
        stderr.contains(&format!(
            "messages: {} new, 0 updated, 0 unchanged",
            emulator.message_count()
        )) && stderr.contains("conversations 10 listed, 10 read, 0 skipped"),
        "{stderr}"
    );
    let again = sync(&emulator, &db, &[]).await;
    let stderr = text(&again.stderr);
    assert!(
        stderr.contains("conversations 10 listed, 0 read, 10 skipped (unchanged)"),
        "{stderr}"
    );

    // Export, as the documented unified JSON, oldest first, each message once; by default
    // the database is $INBOX_DB.
    let out = inbox(&["export"], &[("INBOX_DB", db.clone())], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let messages = jsonl(&out.stdout);
    assert_eq!(messages.len(), emulator.message_count());
    let keys: HashSet<(String, String)> = messages
        .iter()
        .map(|m| (m["provider"].to_string(), m["id"].to_string()))
        .collect();
    assert_eq!(keys.len(), messages.len(), "each (provider, id) once");
    let stamps: Vec<&str> = messages
        .iter()
        .map(|m| m["timestamp"].as_str().unwrap())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]));
    assert!(messages.iter().all(|m| m["origin"].is_object()));

    let bird = inbox(
        &[
            "export",
            "--db",
            &db,
            "--provider",
            "bird",
            "--format",
            "json",
        ],
        &[],
        None,
    )
    .await;
    let bird: Vec<serde_json::Value> = serde_json::from_slice(&bird.stdout).unwrap();
    assert!(!bird.is_empty() && bird.iter().all(|m| m["provider"] == "bird"));
    let conversation = emulator.partoo_conversation_ids()[1].to_string();
    let one = inbox(
        &["export", "--db", &db, "--conversation", &conversation],
        &[],
        None,
    )
    .await;
    assert!(
        jsonl(&one.stdout)
            .iter()
            .all(|m| m["conversation_id"] == conversation.as_str())
    );
    let since = stamps[stamps.len() / 2];
    let late = inbox(&["export", "--db", &db, "--since", since], &[], None).await;
    assert!(
        jsonl(&late.stdout)
            .iter()
            .all(|m| m["timestamp"].as_str().unwrap() >= since)
    );

    let csv = inbox(&["export", "--db", &db, "--format", "csv"], &[], None).await;
    let csv = text(&csv.stdout);
    assert!(
        csv.starts_with("provider,account,id,conversation_id,timestamp,"),
        "{csv}"
    );
    let rows = csv::Reader::from_reader(csv.as_bytes()).records().count();
    assert_eq!(rows, emulator.message_count());

    // Search: every word, any case, best match first; punctuation is no syntax.
    let word = messages
        .iter()
        .filter_map(|m| m["text"].as_str())
        .flat_map(str::split_whitespace)
        .find(|w| w.len() > 5 && w.chars().all(char::is_alphabetic))
        .unwrap()
        .to_owned();
    let found = inbox(
        &["search", &word, "--db", &db, "--format", "jsonl"],
        &[],
        None,
    )
    .await;
    assert!(found.status.success(), "{}", text(&found.stderr));
    let hits = jsonl(&found.stdout);
    assert!(!hits.is_empty());
    let lower = word.to_lowercase();
    assert!(
        hits.iter()
            .all(|m| m["text"].as_str().unwrap().to_lowercase().contains(&lower))
    );
    let table = inbox(
        &["search", &word.to_uppercase(), "--db", &db, "--limit", "2"],
        &[],
        None,
    )
    .await;
    assert!(text(&table.stdout).starts_with("TIME (UTC)"));
    assert!(text(&table.stdout).lines().count() <= 3);
    let none = inbox(&["search", "zzqxj\"", "(", "--db", &db], &[], None).await;
    assert!(none.status.success(), "{}", text(&none.stderr));
    assert_eq!(text(&none.stdout).lines().count(), 1, "a header and no hit");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_that_cannot_be_used_is_one_line_and_exit_2_and_left_as_it_was() {
    let emulator = Emulator::start(small(Faults::default())).await.unwrap();
    let dir = TempDir::new("baddb");
    let notes = dir.0.join("notes.txt");
    std::fs::write(&notes, "not a database\n".repeat(100)).unwrap();
    let notes = notes.display().to_string();
    for (db, needle) in [
        (notes.clone(), "is not a database"),
        (dir.0.display().to_string(), "cannot open"),
        (
            format!("sqlite:{}?mode=ro", dir.0.join("missing.db").display()),
            "cannot open",
        ),
    ] {
        for out in [
            sync(&emulator, &db, &["--quiet"]).await,
            inbox(&["export", "--db", &db], &[], None).await,
            inbox(&["search", "hello", "--db", &db], &[], None).await,
        ] {
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{db}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(
                stderr.starts_with("inbox: ") && stderr.contains(needle),
                "{db}: {stderr}"
            );
            assert!(!stderr.contains("panicked"));
        }
    }
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "not a database\n".repeat(100)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conversation_that_fails_ends_the_sync_with_exit_1_and_the_next_run_completes() {
    let dir = TempDir::new("failing");
    let db = dir.db();
    let healthy = Emulator::start(small(Faults::default())).await.unwrap();
    let looping = healthy.bird_conversation_ids()[0].clone();
    let broken = Emulator::start(Config {
        looping_conversations: vec![looping.clone()],
        ..small(Faults::default())
    })
    .await
    .unwrap();
    let out = sync(&broken, &db, &[]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("bird conversation {looping}: pagination loop"))
            && stderr.contains("not read to the end: 1 (the next sync reads them again)"),
        "{stderr}"
    );
    // The same data served again without the fault: the next run completes, doubling nothing.
    let out = sync(&healthy, &db, &["--quiet"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = Store::open(&db).await.unwrap();
    assert_eq!(
        store.messages_count().await.unwrap() as usize,
        healthy.message_count()
    );
}

/// The messages' created times of each conversation of the emulator, as the store keys them.
async fn reference(emulator: &Emulator) -> BTreeMap<String, Vec<i64>> {
    let dir = TempDir::new("reference");
    let store = Store::open(&dir.db()).await.unwrap();
    let out = sync(emulator, &dir.db(), &["--quiet", "--concurrency", "32"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut times: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let messages = store.messages(MessageQuery::new());
    futures_util::pin_mut!(messages);
    while let Some(m) = messages.try_next().await.unwrap() {
        times
            .entry(format!("{}/{}", m.provider, m.conversation_id))
            .or_default()
            .push(m.timestamp_nanos);
    }
    times
}

/// No checkpoint is ahead of its messages: every message of a conversation created at or
/// before its checkpoint is stored.
async fn checkpoints_are_behind_their_messages(db: &str, reference: &BTreeMap<String, Vec<i64>>) {
    let store = Store::open(db).await.unwrap();
    let mut stored: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    {
        let messages = store.messages(MessageQuery::new());
        futures_util::pin_mut!(messages);
        while let Some(m) = messages.try_next().await.unwrap() {
            stored
                .entry(format!("{}/{}", m.provider, m.conversation_id))
                .or_default()
                .push(m.timestamp_nanos);
        }
    }
    for checkpoint in store.checkpoints().await.unwrap() {
        let Some((at, _)) = checkpoint.at else {
            continue;
        };
        let key = format!("{}/{}", checkpoint.provider, checkpoint.conversation_id);
        let want = reference[&key].iter().filter(|t| **t <= at).count();
        let have = stored
            .get(&key)
            .map_or(0, |s| s.iter().filter(|t| **t <= at).count());
        assert_eq!(
            have, want,
            "{key}: checkpoint at {at} is ahead of its messages"
        );
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_at_any_moment_loses_nothing_and_the_rerun_completes_exactly_once_on_sqlite()
{
    let dir = TempDir::new("kill");
    a_sync_killed_at_any_moment_loses_nothing_and_the_rerun_completes_exactly_once(dir.db()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_at_any_moment_loses_nothing_and_the_rerun_completes_exactly_once_on_postgres()
 {
    a_sync_killed_at_any_moment_loses_nothing_and_the_rerun_completes_exactly_once(postgres(
        "kill",
    ))
    .await;
}

async fn a_sync_killed_at_any_moment_loses_nothing_and_the_rerun_completes_exactly_once(
    db: String,
) {
    let emulator = Emulator::start(Config {
        seed: 21,
        dataset: Dataset::Synthetic {
            partoo_conversations: 30,
            bird_conversations: 30,
            messages_per_conversation: 50..=350,
        },
        latency: Duration::from_millis(15),
        ..Config::default()
    })
    .await
    .unwrap();
    let reference = reference(&emulator).await;
    assert_eq!(
        reference.values().map(Vec::len).sum::<usize>(),
        emulator.message_count(),
        "the reference sync holds every message"
    );
    let (env, flags) = connection(&emulator);
    let mut killed = 0;
    for after_ms in [150u64, 350, 600, 900, 1300] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inbox"));
        cmd.args([
            "sync",
            "--db",
            &db,
            "--all",
            "--quiet",
            "--concurrency",
            "4",
        ])
        .args(&flags)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .stdin(Stdio::null());
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        let _ = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap();
        checkpoints_are_behind_their_messages(&db, &reference).await;
    }
    assert!(killed >= 3, "the sync was killed mid-way {killed} times");
    let out = sync(&emulator, &db, &["--quiet"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    checkpoints_are_behind_their_messages(&db, &reference).await;
    let store = Store::open(&db).await.unwrap();
    let total: usize = reference.values().map(Vec::len).sum();
    assert_eq!(total, emulator.message_count());
    assert_eq!(
        store.messages_count().await.unwrap() as usize,
        total,
        "every message, once"
    );
    let runs = store.runs(100).await.unwrap();
    assert!(
        runs.iter().filter(|r| r.finished_at.is_none()).count() >= killed,
        "the killed runs are recorded unfinished"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_accounts_file_syncs_every_account_with_keys_by_reference_that_never_enter_the_store() {
    let emulator = Emulator::start(small(Faults::default())).await.unwrap();
    let c = emulator.config().clone();
    let dir = TempDir::new("accounts");
    std::fs::write(dir.0.join("bird.key"), format!("{}\n", c.bird_key)).unwrap();
    let file = dir.0.join("accounts.toml");
    std::fs::write(
        &file,
        format!(
            "[[account]]\nname = \"acme-partoo\"\nprovider = \"partoo\"\nkey_env = \"ACME_PARTOO_KEY\"\nbase_url = \"{}\"\n\n\
             [[account]]\nname = \"acme-bird\"\nprovider = \"bird\"\nworkspace = \"{}\"\nkey_file = \"bird.key\"\nbase_url = \"{}\"\nconcurrency = 4\n",
            emulator.partoo_base_url(),
            c.bird_workspace,
            emulator.bird_base_url(),
        ),
    )
    .unwrap();
    let db = dir.db();
    let file = file.display().to_string();
    let env = [("ACME_PARTOO_KEY", c.partoo_key.clone())];
    let out = inbox(&["sync", "--db", &db, "--accounts", &file], &env, None).await;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "messages: {} new, 0 updated, 0 unchanged",
            emulator.message_count()
        )),
        "{stderr}"
    );
    let again = inbox(&["sync", "--db", &db, "--accounts", &file], &env, None).await;
    assert!(
        text(&again.stderr).contains("conversations 10 listed, 0 read, 10 skipped (unchanged)"),
        "{}",
        text(&again.stderr)
    );
    // Nothing of either key in the database, its journal or its log.
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        let path = entry.unwrap().path();
        if !path.display().to_string().contains("inbox.db") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for key in [&c.partoo_key, &c.bird_key] {
            assert!(
                !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
                "a key is in {}",
                path.display()
            );
        }
    }
    // A key that cannot be found: a usage error naming the account and the variable.
    let out = inbox(&["sync", "--db", &db, "--accounts", &file], &[], None).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("account 1 (\"acme-partoo\")") && stderr.contains("ACME_PARTOO_KEY"),
        "{stderr}"
    );
    // The single-account selection flags do not mix with an accounts file.
    let out = inbox(&["sync", "--accounts", &file, "--all"], &env, None).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
