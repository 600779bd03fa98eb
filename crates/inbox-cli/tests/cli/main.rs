//! The `inbox` binary end to end, against the emulator on loopback.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use inbox_emulator::{Config, Dataset, Emulator, Faults};
use serde_json::Value;

mod mirror;
mod sending;
mod serve;
mod workers;

/// Runs `inbox args…` with `env` (and nothing of the caller's provider variables).
pub(crate) async fn inbox(args: &[&str], env: &[(&str, String)], stdin: Option<Vec<u8>>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inbox"));
    cmd.args(args)
        .env_remove("PARTOO_API_KEY")
        .env_remove("BIRD_ACCESS_KEY")
        .env_remove("BIRD_WORKSPACE_ID")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(&input).unwrap();
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(crate) fn small(faults: Faults) -> Config {
    Config {
        dataset: Dataset::Synthetic {
            partoo_conversations: 5,
            bird_conversations: 5,
            messages_per_conversation: 3..=140,
        },
        faults,
        ..Config::default()
    }
}

/// The environment and flags that point `inbox` at an emulator.
pub(crate) fn connection(emulator: &Emulator) -> (Vec<(&'static str, String)>, Vec<String>) {
    let c = emulator.config();
    let env = vec![
        ("PARTOO_API_KEY", c.partoo_key.clone()),
        ("BIRD_ACCESS_KEY", c.bird_key.clone()),
        ("BIRD_WORKSPACE_ID", c.bird_workspace.clone()),
    ];
    let flags = vec![
        "--partoo-url".into(),
        emulator.partoo_base_url(),
        "--bird-url".into(),
        emulator.bird_base_url(),
    ];
    (env, flags)
}

pub(crate) fn jsonl(out: &[u8]) -> Vec<Value> {
    text(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_mirrors_prints_the_timeline_then_a_second_sync_of_only_what_changed() {
    // The demo's own emulator is the default dataset at seed 7 with 12 conversations each,
    // and its activity the emulator's `simulate_activity(7, 3)`.
    let reference = Emulator::start(Config::default()).await.unwrap();
    let total = reference.message_count();
    let activity = reference.simulate_activity(7, 3);
    let changed = activity.partoo_conversations.len() + activity.bird_conversations.len();
    let added = activity.partoo_added.len() + activity.bird_added.len();
    let moved = activity.partoo_changed.len() + activity.bird_changed.len();
    let after = reference.message_count();
    assert_eq!(after, total + added);
    reference.shutdown().await;

    let out = inbox(&["demo", "--latency-ms", "0"], &[], None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("TIME (UTC)"), "{stdout}");
    assert!(stdout.contains(&format!("messages: {total} (")), "{stdout}");
    assert!(stdout.contains("conversations: 24 (0 failed)"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "second sync: {changed} conversations read (the changed ones), {} skipped; {added} new messages, {moved} updated;",
            24 - changed
        )),
        "{stdout}"
    );
    let rows = stdout.lines().filter(|l| l.starts_with("20")).count();
    assert_eq!(
        rows,
        total + added + moved,
        "the timeline, then what the second sync brought"
    );

    let out = inbox(
        &["demo", "--latency-ms", "0", "--format", "jsonl", "--quiet"],
        &[],
        None,
    )
    .await;
    assert!(out.status.success());
    let messages = jsonl(&out.stdout);
    assert_eq!(messages.len(), after, "the mirror after both syncs");
    let stamps: Vec<&str> = messages
        .iter()
        .map(|m| m["timestamp"].as_str().unwrap())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "sorted by time");
    assert!(
        text(&out.stderr).is_empty(),
        "--quiet: {}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn conversations_lists_both_providers() {
    let emulator = Emulator::start(small(Faults::default())).await.unwrap();
    let (env, flags) = connection(&emulator);
    let mut args = vec!["conversations", "--format", "jsonl"];
    args.extend(flags.iter().map(String::as_str));
    let out = inbox(&args, &env, None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = jsonl(&out.stdout);
    let partoo: HashSet<String> = emulator
        .partoo_conversation_ids()
        .iter()
        .map(i64::to_string)
        .collect();
    let bird: HashSet<String> = emulator.bird_conversation_ids().into_iter().collect();
    let got = |p: &str| {
        rows.iter()
            .filter(|r| r["provider"] == p)
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect::<HashSet<_>>()
    };
    assert_eq!(got("partoo"), partoo);
    assert_eq!(got("bird"), bird);
    for row in &rows {
        // Unified summaries: the status and channel unified, the provider's own kept whole.
        assert!(
            row["status"] == "open" || row["status"] == "closed",
            "{row}"
        );
        assert!(row["channel"].is_string(), "{row}");
        assert!(row["last_activity"]["key"].is_string(), "{row}");
        assert_eq!(
            row["origin"]["id"].to_string().trim_matches('"'),
            row["id"],
            "{row}"
        );
    }
    let help = inbox(&["conversations", "--help"], &[], None).await;
    assert!(text(&help.stdout).contains("conversation summaries"));
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_one_conversation_of_each_in_jsonl() {
    let emulator = Emulator::start(small(Faults::default())).await.unwrap();
    let (env, flags) = connection(&emulator);
    let p = emulator.partoo_conversation_ids()[0].to_string();
    let b = emulator.bird_conversation_ids()[0].clone();
    let mut args = vec![
        "fetch",
        "--partoo-conversation",
        &p,
        "--bird-conversation",
        &b,
        "--format",
        "jsonl",
        "--quiet",
    ];
    args.extend(flags.iter().map(String::as_str));
    let out = inbox(&args, &env, None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let messages = jsonl(&out.stdout);
    assert!(!messages.is_empty());
    for m in &messages {
        let conversation = m["conversation_id"].as_str().unwrap();
        assert!(conversation == p || conversation == b, "{m}");
        assert!(m["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(!m["text"].as_str().unwrap().is_empty());
    }
    assert!(
        messages.iter().any(|m| m["provider"] == "partoo")
            && messages.iter().any(|m| m["provider"] == "bird")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_under_injected_faults_delivers_every_message_exactly_once() {
    let faults = Faults {
        rate_limited: 0.05,
        retry_after_secs: 0,
        server_error: 0.10,
        cut_body: 0.02,
        drop_connection: 0.02,
        ..Faults::default()
    };
    let emulator = Emulator::start(small(faults)).await.unwrap();
    let (env, flags) = connection(&emulator);
    let mut args = vec!["fetch", "--all", "--format", "jsonl", "--quiet"];
    args.extend(flags.iter().map(String::as_str));
    let out = inbox(&args, &env, None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let messages = jsonl(&out.stdout);
    let ids: HashSet<(String, String)> = messages
        .iter()
        .map(|m| {
            (
                m["provider"].as_str().unwrap().to_owned(),
                m["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(ids.len(), messages.len(), "no duplicates");
    assert_eq!(messages.len(), emulator.message_count(), "nothing lost");
    assert!(
        emulator.stats().faults > 0,
        "faults were injected: {:?}",
        emulator.stats()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conversation_whose_cursor_repeats_is_reported_and_the_rest_complete() {
    async fn fetch_all(emulator: &Emulator) -> Output {
        let (env, flags) = connection(emulator);
        let mut args = vec!["fetch", "--all", "--format", "jsonl", "--quiet"];
        args.extend(flags.iter().map(String::as_str));
        inbox(&args, &env, None).await
    }
    let ids_outside = |out: &Output, looping: &str| -> HashSet<String> {
        jsonl(&out.stdout)
            .iter()
            .filter(|m| m["conversation_id"] != looping)
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let baseline = Emulator::start(small(Faults::default())).await.unwrap();
    let looping = baseline.partoo_conversation_ids()[0].to_string();
    let before = fetch_all(&baseline).await;
    assert!(before.status.success(), "{}", text(&before.stderr));

    let config = Config {
        looping_conversations: vec![looping.clone()],
        ..small(Faults::default())
    };
    let emulator = Emulator::start(config).await.unwrap();
    let out = fetch_all(&emulator).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("partoo conversation {looping}: pagination loop")),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one failure, one line: {stderr}");
    let rest = ids_outside(&out, &looping);
    assert!(
        jsonl(&out.stdout)
            .iter()
            .any(|m| m["conversation_id"] == looping.as_str()),
        "the looping conversation's pages before the loop are printed"
    );
    assert!(!rest.is_empty());
    assert_eq!(
        rest,
        ids_outside(&before, &looping),
        "every other conversation complete"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn normalize_a_page_and_json_lines_with_a_bad_line() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let page = fixtures.join("partoo/messages-page-1.json");
    let want = serde_json::from_slice::<Value>(&std::fs::read(&page).unwrap()).unwrap()["messages"]
        .as_array()
        .unwrap()
        .len();
    let out = inbox(
        &["normalize", "--provider", "partoo", page.to_str().unwrap()],
        &[],
        None,
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = jsonl(&out.stdout);
    assert_eq!(lines.len(), want);
    assert!(lines.iter().all(|m| m["provider"] == "partoo"));

    let bird_page: Value =
        serde_json::from_slice(&std::fs::read(fixtures.join("bird/messages/page-1.json")).unwrap())
            .unwrap();
    let wire = bird_page["results"].as_array().unwrap();
    let mut input = String::new();
    for (i, m) in wire.iter().enumerate() {
        input.push_str(&m.to_string());
        input.push('\n');
        if i == 0 {
            input.push_str("{\"not\": \"a message\"}\n");
        }
    }
    let out = inbox(
        &["normalize", "--provider", "bird", "-"],
        &[],
        Some(input.into_bytes()),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("line 2: not a Bird message"), "{stderr}");
    let lines = jsonl(&out.stdout);
    let ids: Vec<&str> = lines.iter().map(|m| m["id"].as_str().unwrap()).collect();
    let want: Vec<&str> = wire.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, want, "every other message, in input order");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_command_lines_exit_2_with_one_line() {
    let cases: [(&[&str], &str); 10] = [
        (&["fetch", "--nope"], "--nope"),
        (
            &["fetch", "--partoo-convers", "1"],
            "tip: a similar argument exists: '--partoo-conversation'",
        ),
        (&["normalize"], "--provider"),
        (&["nope"], "unrecognized subcommand 'nope'"),
        (&[], "a command is required"),
        (&["fetch", "--partoo-conversation", "abc"], "abc"),
        (
            &["fetch", "--all", "--since", "yesterday"],
            "invalid timestamp",
        ),
        (
            &["fetch", "--partoo-conversation", "1"],
            "missing PARTOO_API_KEY",
        ),
        (
            &["fetch", "--bird-conversation", "x"],
            "missing BIRD_ACCESS_KEY",
        ),
        (&["fetch", "--all"], "no credentials"),
    ];
    for (args, needle) in cases {
        let out = inbox(args, &[], None).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line: {stderr}");
        assert!(lines[0].starts_with("inbox: "), "{args:?}: {stderr}");
        assert!(!lines[0].contains("error: "), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    }
    let out = inbox(
        &["fetch", "--bird-conversation", "x"],
        &[("BIRD_ACCESS_KEY", "k".into())],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "inbox: missing BIRD_WORKSPACE_ID: set it or pass --bird-workspace\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn help_on_every_command_and_no_key_ever_printed() {
    for command in [
        "demo",
        "conversations",
        "fetch",
        "normalize",
        "emulator",
        "sync",
        "export",
        "search",
    ] {
        let out = inbox(&[command, "--help"], &[], None).await;
        assert!(out.status.success(), "{command}");
        assert!(text(&out.stdout).contains("Usage: inbox"), "{command}");
        assert!(out.stderr.is_empty(), "{command}: {}", text(&out.stderr));
    }
    let out = inbox(&["--version"], &[], None).await;
    assert!(out.status.success());
    assert!(
        text(&out.stdout).starts_with("inbox "),
        "{}",
        text(&out.stdout)
    );
    let secret = "sk-live-DO-NOT-PRINT";
    let emulator = Emulator::start(small(Faults::default())).await.unwrap();
    let mut args = vec![
        "fetch",
        "--all",
        "--provider",
        "partoo",
        "--partoo-key",
        secret,
        "--partoo-url",
    ];
    let url = emulator.partoo_base_url();
    args.push(&url);
    let out = inbox(&args, &[], None).await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "a wrong key fails the listing, so nothing is fetched: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("unauthorized (401)"),
        "{}",
        text(&out.stderr)
    );
    for stream in [&out.stdout, &out.stderr] {
        assert!(!text(stream).contains(secret));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_fetched_is_one_line_with_each_url_and_exit_3() {
    // Nothing listens on port 9 of loopback: every connection is refused.
    let env = vec![
        ("PARTOO_API_KEY", "k".to_owned()),
        ("BIRD_ACCESS_KEY", "k".to_owned()),
        ("BIRD_WORKSPACE_ID", "ws".to_owned()),
    ];
    for format in ["table", "jsonl"] {
        let out = inbox(
            &[
                "fetch",
                "--all",
                "--format",
                format,
                "--partoo-url",
                "http://127.0.0.1:9/v2",
                "--bird-url",
                "http://127.0.0.1:9",
            ],
            &env,
            None,
        )
        .await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{format}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "no empty table: {}",
            text(&out.stdout)
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("inbox: nothing could be fetched: bird at http://127.0.0.1:9/")
                && stderr.contains("partoo at http://127.0.0.1:9/v2")
                && stderr.contains("could not connect"),
            "{stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn output_that_cannot_be_written_is_a_runtime_failure_not_a_usage_error() {
    let emulator = Emulator::start(small(Faults::default())).await.unwrap();
    let (env, flags) = connection(&emulator);
    let mut args = vec!["fetch", "--all", "--quiet"];
    args.extend(flags.iter().map(String::as_str));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inbox"));
    cmd.args(&args).env_remove("PARTOO_API_KEY");
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        cmd.stdout(full)
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.starts_with("inbox: cannot write the output:"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_jsonl_streams_every_message_once_unsorted() {
    let emulator = Emulator::start(small(Faults::default())).await.unwrap();
    let (env, flags) = connection(&emulator);
    let mut args = vec!["fetch", "--all", "--format", "jsonl"];
    args.extend(flags.iter().map(String::as_str));
    let out = inbox(&args, &env, None).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let messages = jsonl(&out.stdout);
    assert_eq!(messages.len(), emulator.message_count());
    // Streamed: each conversation's messages together, as they arrived, not one sorted list.
    let stamps: Vec<&str> = messages
        .iter()
        .map(|m| m["timestamp"].as_str().unwrap())
        .collect();
    assert!(
        !stamps.windows(2).all(|w| w[0] <= w[1]),
        "streamed in arrival order"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("messages: {} (", emulator.message_count())),
        "the summary on stderr: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn normalize_refuses_a_broken_document_in_one_line_and_the_other_providers_page() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    // A pretty-printed page with a trailing comma, as the Bird seed's example was printed.
    let mut broken = std::fs::read_to_string(fixtures.join("bird/messages/page-1.json")).unwrap();
    let at = broken.rfind('}').unwrap();
    broken.insert(at, ',');
    let out = inbox(
        &["normalize", "--provider", "bird", "-"],
        &[],
        Some(broken.into_bytes()),
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "one error, not one per line: {stderr}"
    );
    assert!(
        stderr.contains("not valid JSON") && stderr.contains("line ") && stderr.contains("column"),
        "{stderr}"
    );
    let page = fixtures.join("bird/messages/page-1.json");
    let out = inbox(
        &["normalize", "--provider", "partoo", page.to_str().unwrap()],
        &[],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "inbox: this looks like a Bird page (it has `results`, a Partoo page has `messages`): use --provider bird\n"
    );
    assert!(out.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_command_serves_both_apis_and_prints_how_to_reach_them() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_inbox"))
        .args(["emulator", "--conversations", "3", "--seed", "11"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let banner = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("Stop with");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    })
    .await
    .unwrap();
    let value = |label: &str| -> String {
        banner
            .iter()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("{label} in {banner:?}"))
    };
    let (partoo_url, bird_url) = (value("Partoo  base URL"), value("Bird    base URL"));
    let env = vec![
        ("PARTOO_API_KEY", value("API key")),
        ("BIRD_ACCESS_KEY", value("access key")),
        ("BIRD_WORKSPACE_ID", value("workspace")),
    ];
    let out = inbox(
        &[
            "fetch",
            "--all",
            "--format",
            "jsonl",
            "--quiet",
            "--partoo-url",
            &partoo_url,
            "--bird-url",
            &bird_url,
        ],
        &env,
        None,
    )
    .await;
    // Signal the emulator before asserting, so a failure does not leave it running.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reference = Emulator::start(Config {
        seed: 11,
        dataset: Dataset::Synthetic {
            partoo_conversations: 3,
            bird_conversations: 3,
            messages_per_conversation: 3..=40,
        },
        ..Config::default()
    })
    .await
    .unwrap();
    assert_eq!(jsonl(&out.stdout).len(), reference.message_count());
    assert!(status.success(), "Ctrl-C stops it cleanly: {status:?}");
}

/// Every line of the README's command block runs, as written, against an emulator: the
/// block's `$LOCAL` points at it, `messages.jsonl` is JSON Lines of Bird messages made from a
/// fixture, and only the line that needs Partoo's real sandbox is left out.
#[tokio::test(flavor = "multi_thread")]
async fn the_readme_examples_run_against_the_emulator() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme
        .split("## The `inbox` command")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|block| block.split("```").next())
        .unwrap();
    let commands: Vec<&str> = section
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("inbox ") && !l.starts_with("inbox emulator"))
        .filter(|l| !l.contains("--partoo-sandbox"))
        .collect();
    assert!(commands.len() >= 7, "{commands:?}");

    let emulator = Emulator::start(Config::default()).await.unwrap();
    let (env, _) = connection(&emulator);
    let dir = std::env::temp_dir().join(format!("inbox-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(root.join("fixtures"), dir.join("fixtures")).ok();
    let page: Value = serde_json::from_slice(
        &std::fs::read(root.join("fixtures/bird/messages/page-1.json")).unwrap(),
    )
    .unwrap();
    let jsonl: String = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{m}\n"))
        .collect();
    std::fs::write(dir.join("messages.jsonl"), jsonl).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_inbox"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let local = format!(
        "--partoo-url {} --bird-url {}",
        emulator.partoo_base_url(),
        emulator.bird_base_url()
    );
    for command in commands {
        // Every README id is one of the default emulator's: the examples are real.
        let line = command.split("  #").next().unwrap().trim().to_owned();
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(&line)
            .current_dir(&dir)
            .env("PATH", &path)
            .env("LOCAL", &local)
            .env_remove("PARTOO_API_KEY")
            .env_remove("BIRD_ACCESS_KEY")
            .env_remove("BIRD_WORKSPACE_ID");
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "`{line}`: {:?}\n{}",
            out.status,
            text(&out.stderr)
        );
        let produced = out.stdout.len()
            + std::fs::metadata(dir.join("timeline.jsonl")).map_or(0, |m| m.len() as usize);
        assert!(produced > 0, "`{line}` printed something");
    }
    std::fs::remove_dir_all(&dir).ok();
}
