//! `inbox send`, `inbox outbox`, `inbox retry`: replies through the outbox, and 200 sends
//! under faults of every kind with the sender killed twice, each delivered exactly once.

use std::collections::HashMap;
use std::fs::File;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use inbox::model::ConversationId;
use inbox::store::{Outbox, OutboxStatus, Store};
use inbox::{BirdSource, Draft, Inbox, PartooSource, SourceLimits};
use inbox_emulator::{Config, Dataset, Emulator, Faults, SendFaults};
use serde_json::Value;

use crate::mirror::TempDir;
use crate::{connection, inbox, text};

fn config(faults: Faults, send_faults: SendFaults) -> Config {
    Config {
        dataset: Dataset::Synthetic {
            partoo_conversations: 30,
            bird_conversations: 12,
            messages_per_conversation: 3..=20,
        },
        faults,
        send_faults,
        ..Config::default()
    }
}

/// Partoo conversations not on SMS, and Bird conversations not closed.
fn open_conversations(emulator: &Emulator) -> (Vec<i64>, Vec<String>) {
    let sms = emulator.sms_partoo_conversations(0);
    let closed = emulator.closed_bird_conversations(0);
    (
        emulator
            .partoo_conversation_ids()
            .into_iter()
            .filter(|id| !sms.contains(id))
            .collect(),
        emulator
            .bird_conversation_ids()
            .into_iter()
            .filter(|id| !closed.contains(id))
            .collect(),
    )
}

/// `inbox ARGS… --db DB` with the emulator's keys and URLs.
async fn run(emulator: &Emulator, args: &[&str]) -> std::process::Output {
    let (env, flags) = connection(emulator);
    let mut all: Vec<&str> = args.to_vec();
    all.extend(flags.iter().map(String::as_str));
    inbox(&all, &env, None).await
}

#[tokio::test(flavor = "multi_thread")]
async fn send_outbox_and_retry_from_the_command_line() {
    let emulator = Emulator::start(config(
        Faults::default(),
        SendFaults {
            timeout_after_accept: 0.0,
            delivery_failure: 1.0,
        },
    ))
    .await
    .unwrap();
    let dir = TempDir::new("send");
    let db = dir.db();
    let (partoo, bird) = open_conversations(&emulator);
    let p = partoo[0].to_string();

    // A text: sent, its id printed.
    let out = run(
        &emulator,
        &[
            "send",
            "--db",
            &db,
            "--partoo-conversation",
            &p,
            "--text",
            "Bonjour !",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let sent = emulator.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        printed.starts_with(&format!("sent {} (outbox ", sent[0].message_id)),
        "{printed}"
    );
    assert_eq!(sent[0].content, "Bonjour !");

    // A file into Bird, its type guessed from its name.
    let out = run(
        &emulator,
        &[
            "send",
            "--db",
            &db,
            "--bird-conversation",
            &bird[0],
            "--file",
            "https://cdn.example/invoice.pdf",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(emulator.sent()[1].content_type, "file");

    // Refused before anything is written: exit 2.
    let out = run(
        &emulator,
        &[
            "send",
            "--db",
            &db,
            "--partoo-conversation",
            &p,
            "--image",
            "https://cdn.example/big.jpg",
            "--size",
            "6000000",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("limit"), "{}", text(&out.stderr));
    // Refused by the provider: exit 4, the reason said, and kept in the outbox.
    let closed = emulator.closed_bird_conversations(0)[0].clone();
    let out = run(
        &emulator,
        &[
            "send",
            "--db",
            &db,
            "--bird-conversation",
            &closed,
            "--text",
            "anyone?",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("closed"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(emulator.sent().len(), 2, "nothing more was sent");

    // Written only, then sent by `inbox outbox --send`.
    let out = run(
        &emulator,
        &[
            "send",
            "--db",
            &db,
            "--partoo-conversation",
            &p,
            "--text",
            "later",
            "--no-wait",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("queued "),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(emulator.sent().len(), 2);
    let out = run(
        &emulator,
        &["outbox", "--db", &db, "--send", "--format", "json"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(emulator.sent().len(), 3);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "pending and failed only: {listed:#?}");
    assert_eq!(listed[0]["status"], "failed");
    assert_eq!(listed[0]["refusal"], "closed");
    let out = run(&emulator, &["outbox", "--db", &db, "--all"]).await;
    let table = text(&out.stdout);
    assert_eq!(
        table.lines().filter(|l| l.contains(" sent ")).count(),
        3,
        "{table}"
    );

    // Every Partoo send of this emulator fails delivery: retry one.
    let failed = emulator
        .sent()
        .into_iter()
        .find(|s| s.provider == "partoo" && s.failed)
        .unwrap();
    let out = run(
        &emulator,
        &["retry", "--partoo-message", &failed.message_id],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !emulator
            .sent()
            .iter()
            .find(|s| s.message_id == failed.message_id)
            .unwrap()
            .failed
    );
    // A message that has not failed: Partoo refuses the retry (exit 4).
    let out = run(
        &emulator,
        &["retry", "--partoo-message", &failed.message_id],
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    emulator.shutdown().await;
}

/// An inbox on the emulator's account 0 (what the sender processes use through flags).
fn library_inbox(emulator: &Emulator) -> Inbox {
    let c = emulator.config();
    let partoo = inbox::partoo::Client::builder(c.partoo_key.as_str())
        .base_url(&emulator.partoo_base_url())
        .build()
        .unwrap();
    let bird = inbox::bird::Client::builder(c.bird_key.as_str(), c.bird_workspace.as_str())
        .base_url(&emulator.bird_base_url())
        .build()
        .unwrap();
    Inbox::builder()
        .source(PartooSource::new(partoo).limits(SourceLimits::new(4, None)))
        .source(BirdSource::new(bird).limits(SourceLimits::new(4, None)))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_sends_under_faults_with_the_sender_killed_twice_each_arrive_once() {
    // About a fifth of requests meet a fault, of every kind the emulator has; and some
    // accepted sends never get their answer.
    let faults: Faults = "5xx=0.05,429=0.03,retry-after=1,cut=0.04,drop=0.04,hang=0.02,slow=0.02"
        .parse()
        .unwrap();
    let emulator = Emulator::start(Config {
        latency: Duration::from_millis(5),
        ..config(
            Faults {
                slow_delay: Duration::from_millis(300),
                ..faults
            },
            SendFaults {
                timeout_after_accept: 0.03,
                delivery_failure: 0.0,
            },
        )
    })
    .await
    .unwrap();
    let dir = TempDir::new("send-kill");
    let db = dir.db();
    let (partoo, bird) = open_conversations(&emulator);
    // 200 drafts, written before any sender runs, over 8 conversations of each provider.
    {
        let store = Store::open(&db).await.unwrap();
        let outbox = Outbox::new(store.clone(), library_inbox(&emulator));
        for n in 0..200 {
            let (source, conversation) = if n % 2 == 0 {
                ("partoo", ConversationId::Partoo(partoo[n / 2 % 8]))
            } else {
                (
                    "bird",
                    ConversationId::Bird(bird[n / 2 % 8].as_str().into()),
                )
            };
            outbox
                .send(source, &conversation, Draft::text(format!("draft {n:03}")))
                .await
                .unwrap();
        }
        store.close().await;
    }
    let (env, flags) = connection(&emulator);
    let sender = |n: usize| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inbox"));
        cmd.args([
            "outbox",
            "--send",
            "--db",
            &db,
            "--lease",
            "2s",
            "--backoff",
            "50ms",
            "--lookup-delay",
            "100ms",
        ])
        .args(&flags)
        .env_remove("PARTOO_API_KEY")
        .env_remove("BIRD_ACCESS_KEY")
        .env_remove("BIRD_WORKSPACE_ID")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(dir.0.join(format!("sender-{n}.log"))).unwrap());
        for (k, v) in &env {
            cmd.env(k, v);
        }
        cmd.spawn().unwrap()
    };
    // Killed twice mid-way: once 40 sends were accepted, then once 110 were.
    for (n, after) in [(0, 40), (1, 110)] {
        let mut child = sender(n);
        let deadline = Instant::now() + Duration::from_secs(120);
        while emulator.sent().len() < after {
            assert!(
                Instant::now() < deadline,
                "the sender stalled at {}",
                emulator.sent().len()
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "the sender ended early"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let mut last = sender(2);
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = last.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the last sender did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let log = std::fs::read_to_string(dir.0.join("sender-2.log")).unwrap_or_default();
    assert!(status.success(), "{log}");

    // Each draft reached the emulator exactly once.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for sent in emulator.sent() {
        *seen.entry(sent.content).or_default() += 1;
    }
    for n in 0..200 {
        let draft = format!("draft {n:03}");
        assert_eq!(seen.get(&draft), Some(&1), "{draft}: {seen:?}");
    }
    assert_eq!(seen.len(), 200);
    let stats = emulator.stats();
    assert!(
        stats.faults > 20 && stats.send_timeouts > 0,
        "faults were met: {stats:?}"
    );
    let store = Store::open(&db).await.unwrap();
    let entries = store.outbox_entries(&[], 1000).await.unwrap();
    assert_eq!(entries.len(), 200);
    assert!(
        entries.iter().all(|e| e.status == OutboxStatus::Sent),
        "every one sent"
    );
    assert!(
        entries.iter().any(|e| e.attempts > 1),
        "some were sent again or looked for after a fault"
    );
    store.close().await;
    emulator.shutdown().await;
}
