//! `inbox serve`: what it accepts, what it refuses (storing nothing), and the emulator's
//! webhooks end to end.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::EncodePublicKey;
use ed25519_dalek::{Signer, SigningKey};
use futures_util::TryStreamExt;
use inbox::store::{MessageQuery, Store};
use inbox_emulator::{Config, Dataset, Emulator, WebhookConfig, WebhookFaults};
use serde_json::{Value, json};

use crate::{connection, text};

const PUBLIC_URL: &str = "https://hooks.example.com/webhooks/bird";
const BIRD_KEY: &str = "bird-signing-secret";

/// A running `inbox serve`, stopped with SIGTERM.
struct Served {
    child: Child,
    base: String,
}

impl Served {
    fn start(args: &[String], env: &[(&str, String)]) -> Served {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inbox"));
        cmd.arg("serve")
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .env_remove("PARTOO_API_KEY")
            .env_remove("BIRD_ACCESS_KEY")
            .env_remove("BIRD_WORKSPACE_ID")
            .env("INBOX_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("no address: {line:?}"))
            .to_owned();
        Served { child, base }
    }

    /// SIGTERM, then what it printed on stderr and whether it exited 0.
    fn stop(self) -> (bool, String) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let out = self.child.wait_with_output().unwrap();
        (out.status.success(), text(&out.stderr))
    }
}

fn partoo_key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

fn partoo_pem() -> String {
    partoo_key()
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn post(client: &reqwest::Client, url: &str, body: &[u8], headers: &[(&str, String)]) -> u16 {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        request = request.header(*k, v);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Announces a 2 MiB body, sends a little over the 1 MiB cap of it, and reads the answer: it
/// comes before the body is sent whole (the server reads no more than the cap). A client
/// sending all of it may meet a closed connection instead.
async fn oversized(base: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /webhooks/partoo HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         x-partoo-signature-v1: AAAA\r\ncontent-length: {}\r\n\r\n",
        2 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&vec![b' '; (1 << 20) + (64 << 10)])
        .await
        .unwrap();
    let mut answer = vec![0; 256];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("an answer before the body is sent whole")
        .unwrap();
    let line = String::from_utf8_lossy(&answer[..n]);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {line:?}"))
}

fn partoo_signature(body: &[u8]) -> String {
    STANDARD.encode(partoo_key().sign(body).to_bytes())
}

fn bird_headers(body: &[u8], id: &str, at: u64, url: &str) -> Vec<(&'static str, String)> {
    let timestamp = at.to_string();
    vec![
        (
            "messagebird-signature",
            inbox::webhook::bird_signature(BIRD_KEY, &timestamp, url, body),
        ),
        ("messagebird-request-timestamp", timestamp),
        ("messagebird-request-id", id.to_owned()),
    ]
}

/// The emulator's first page of a Partoo conversation, as served.
async fn partoo_messages(emulator: &Emulator, id: i64) -> Vec<Value> {
    let url = format!(
        "{}/messages?conversation_id={id}",
        emulator.partoo_base_url()
    );
    let page: Value = reqwest::Client::new()
        .get(url)
        .header("x-apikey", &emulator.config().partoo_key)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    page["messages"].as_array().unwrap().clone()
}

/// The emulator's Bird conversations, as listed.
async fn bird_conversations(emulator: &Emulator) -> Vec<Value> {
    let c = emulator.config();
    let url = format!(
        "{}/workspaces/{}/conversations?limit=100",
        emulator.bird_base_url(),
        c.bird_workspace
    );
    let page: Value = reqwest::Client::new()
        .get(url)
        .header("authorization", format!("AccessKey {}", c.bird_key))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    page["results"].as_array().unwrap().clone()
}

async fn stored(db: &str) -> Vec<(String, String, String)> {
    let store = Store::open(db).await.unwrap();
    let rows = store
        .messages(MessageQuery::new())
        .map_ok(|m| (m.provider, m.conversation_id, m.id))
        .try_collect()
        .await
        .unwrap();
    store.close().await;
    rows
}

/// `inbox sync --all` of `emulator` into `db`.
async fn sync(emulator: &Emulator, db: &str, env: &[(&str, String)]) -> std::process::Output {
    let flags = connection(emulator).1;
    let mut args = vec!["sync", "--all", "--quiet", "--db", db];
    args.extend(flags.iter().map(String::as_str));
    crate::inbox(&args, env, None).await
}

fn small() -> Config {
    Config {
        dataset: Dataset::Synthetic {
            partoo_conversations: 4,
            bird_conversations: 4,
            messages_per_conversation: 3..=30,
        },
        ..Config::default()
    }
}

#[tokio::test]
async fn serve_stores_what_is_authentic_and_refuses_the_rest_storing_nothing() {
    let emulator = Emulator::start(small()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("inbox-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("inbox.db").display().to_string();
    let pem_file = dir.join("partoo.pem");
    std::fs::write(&pem_file, partoo_pem()).unwrap();
    let (env, flags) = connection(&emulator);
    let mut args: Vec<String> = flags;
    args.extend([
        "--db".into(),
        db.clone(),
        "--partoo-public-key".into(),
        format!("@{}", pem_file.display()),
        "--bird-signing-key".into(),
        BIRD_KEY.into(),
        "--bird-public-url".into(),
        PUBLIC_URL.into(),
        "--debounce".into(),
        "100ms".into(),
    ]);
    let served = Served::start(&args, &env);
    let client = reqwest::Client::new();
    let partoo_url = format!("{}/webhooks/partoo", served.base);
    let bird_url = format!("{}/webhooks/bird", served.base);

    let health = client
        .get(format!("{}/healthz", served.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);

    // Partoo: the emulator's own message, as a message_created event.
    let conversation = emulator.partoo_conversation_ids()[0];
    let message = partoo_messages(&emulator, conversation).await[0].clone();
    let event = json!({
        "type": "message_created",
        "payload": {
            "message": message,
            "conversation": {"id": conversation, "consumer_name": "Camille", "consumer_img": null, "custom_channel": null},
            "org_id": emulator.config().partoo_org_id,
        },
    });
    let body = serde_json::to_vec(&event).unwrap();
    let signed = [("x-partoo-signature-v1", partoo_signature(&body))];
    assert_eq!(post(&client, &partoo_url, &body, &signed).await, 200);
    assert_eq!(
        post(&client, &partoo_url, &body, &signed).await,
        200,
        "a retry"
    );

    // Refused, each with 401: another key, a flipped body byte, a flipped signature byte,
    // no signature.
    let other = STANDARD.encode(SigningKey::from_bytes(&[3; 32]).sign(&body).to_bytes());
    let mut flipped_body = body.clone();
    let last = flipped_body.len() - 2;
    flipped_body[last] ^= 1;
    let mut signature = STANDARD.decode(&signed[0].1).unwrap();
    signature[7] ^= 0x10;
    let flipped_signature = STANDARD.encode(&signature);
    let mut other_message = event.clone();
    other_message["payload"]["message"]["id"] = json!(999_999);
    let forged = serde_json::to_vec(&other_message).unwrap();
    for (what, body, headers) in [
        (
            "another key",
            forged.clone(),
            vec![("x-partoo-signature-v1", other)],
        ),
        ("a flipped body byte", flipped_body, signed.to_vec()),
        (
            "a flipped signature byte",
            forged.clone(),
            vec![("x-partoo-signature-v1", flipped_signature)],
        ),
        ("no signature", forged.clone(), vec![]),
    ] {
        assert_eq!(
            post(&client, &partoo_url, &body, &headers).await,
            401,
            "{what}"
        );
    }
    // Over the 1 MiB cap: 413, before it is read whole.
    assert_eq!(oversized(&served.base).await, 413);
    // Authentic but undecodable: kept raw, acknowledged.
    let odd = br#"{"type": "message_created", "payload": {"message": {"id": "x"}}}"#;
    let odd_signed = [("x-partoo-signature-v1", partoo_signature(odd))];
    assert_eq!(post(&client, &partoo_url, odd, &odd_signed).await, 200);
    // Another event type: acknowledged, nothing stored.
    let lead = br#"{"type": "lead_created", "payload": {"id": 1}}"#;
    let lead_signed = [("x-partoo-signature-v1", partoo_signature(lead))];
    assert_eq!(post(&client, &partoo_url, lead, &lead_signed).await, 200);

    // Bird: a conversation.updated event triggers a read of that conversation.
    let listed = bird_conversations(&emulator).await;
    let bird_conversation = listed[0]["id"].as_str().unwrap().to_owned();
    let event =
        json!({"service": "conversations", "event": "conversation.updated", "payload": listed[0]});
    let body = serde_json::to_vec(&event).unwrap();
    let ok = bird_headers(&body, "evt-1", now(), PUBLIC_URL);
    assert_eq!(post(&client, &bird_url, &body, &ok).await, 200);
    assert_eq!(
        post(&client, &bird_url, &body, &ok).await,
        200,
        "a duplicate"
    );
    for (what, headers) in [
        (
            "stale",
            bird_headers(&body, "evt-2", now() - 600, PUBLIC_URL),
        ),
        (
            "from the future",
            bird_headers(&body, "evt-3", now() + 600, PUBLIC_URL),
        ),
        (
            "signed for the listening URL, not the public one",
            bird_headers(&body, "evt-4", now(), &bird_url),
        ),
        ("no headers", vec![]),
    ] {
        assert_eq!(
            post(&client, &bird_url, &body, &headers).await,
            401,
            "{what}"
        );
    }
    // Wait for the triggered read to land.
    let bird_messages = {
        let started = Instant::now();
        loop {
            let rows = stored(&db).await;
            let n = rows
                .iter()
                .filter(|(p, c, _)| p == "bird" && *c == bird_conversation)
                .count();
            if n > 0 || started.elapsed() > Duration::from_secs(20) {
                break n;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };

    let (ok, stderr) = served.stop();
    assert!(ok, "SIGTERM ends it with 0: {stderr}");
    assert!(
        stderr.contains("refused (signature)") && stderr.contains("webhook answered"),
        "{stderr}"
    );
    assert!(!stderr.contains(BIRD_KEY), "{stderr}");
    let rows = stored(&db).await;
    let partoo: Vec<_> = rows.iter().filter(|(p, ..)| p == "partoo").collect();
    assert_eq!(
        partoo.len(),
        1,
        "the message once, nothing forged: {partoo:?}"
    );
    assert_eq!(partoo[0].2, message["id"].to_string());
    assert!(
        bird_messages > 0,
        "the triggered read stored the conversation"
    );
    assert!(
        rows.iter()
            .all(|(p, c, _)| p == "partoo" || *c == bird_conversation)
    );
    let store = Store::open(&db).await.unwrap();
    let rejected = store.webhook_rejected(10).await.unwrap();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0].path.starts_with("payload"), "{:?}", rejected[0]);

    // The same message arriving by sync is the same row.
    store.close().await;
    let out = sync(&emulator, &db, &env).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = stored(&db).await;
    assert_eq!(rows.len(), emulator.message_count());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_provider_left_out_answers_404() {
    let dir = std::env::temp_dir().join(format!("inbox-serve-404-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("inbox.db").display().to_string();
    let args: Vec<String> = vec![
        "--db".into(),
        db,
        "--partoo-public-key".into(),
        STANDARD.encode(partoo_key().verifying_key().to_bytes()),
    ];
    let served = Served::start(&args, &[]);
    let client = reqwest::Client::new();
    let status = post(
        &client,
        &format!("{}/webhooks/bird", served.base),
        b"{}",
        &[],
    )
    .await;
    assert_eq!(status, 404);
    let (ok, stderr) = served.stop();
    assert!(ok, "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn emulator_webhooks_with_drops_duplicates_and_reordering_end_as_a_full_sync() {
    // The emulator's webhook URLs are set when it starts, so the server's port is chosen
    // first.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let faults = WebhookFaults {
        drop: 0.3,
        duplicate: 0.1,
        reorder: 0.1,
        ..WebhookFaults::default()
    };
    let emulator = Emulator::start(Config {
        webhooks: WebhookConfig {
            partoo_url: Some(format!("{base}/webhooks/partoo")),
            bird_url: Some(format!("{base}/webhooks/bird")),
            faults,
        },
        ..small()
    })
    .await
    .unwrap();
    let keys = emulator.webhook_keys();
    let dir = std::env::temp_dir().join(format!("inbox-serve-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("inbox.db").display().to_string();
    let (env, flags) = connection(&emulator);
    let mut args = flags;
    args.extend([
        "--db".into(),
        db.clone(),
        "--partoo-public-key".into(),
        keys.partoo_public_key_base64.clone(),
        "--bird-signing-key".into(),
        keys.bird_signing_key.clone(),
        "--bird-public-url".into(),
        format!("{base}/webhooks/bird"),
        "--sync-every".into(),
        "4s".into(),
        "--debounce".into(),
        "50ms".into(),
    ]);
    // Not `Served::start`, which listens on any port: this one listens where the emulator
    // posts.
    let mut cmd_args = args;
    cmd_args.extend(["--listen".into(), format!("127.0.0.1:{port}")]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_inbox"));
    cmd.arg("serve")
        .args(&cmd_args)
        .env_remove("PARTOO_API_KEY")
        .env_remove("BIRD_ACCESS_KEY")
        .env_remove("BIRD_WORKSPACE_ID")
        .env("INBOX_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    if !line.starts_with("listening on") {
        let out = child.wait_with_output().unwrap();
        panic!("serve did not start: {line} {}", text(&out.stderr));
    }
    let served = Served {
        child,
        base: base.clone(),
    };
    // Let the first scheduled sync fill the store, then make activity the webhooks carry.
    let store = Store::open(&db).await.unwrap();
    wait_for_runs(&store, 0, 2).await;
    let before = store.messages_count().await.unwrap();
    for round in 0..3 {
        emulator.simulate_activity(100 + round, 3);
    }
    emulator.flush_webhooks().await;
    let stats = emulator.webhook_stats();
    assert!(stats.dropped > 0 && stats.accepted > 0, "{stats:?}");
    // What the webhooks carried is stored already (the next scheduled sync is seconds away):
    // a 2xx comes only after the commit.
    assert!(store.messages_count().await.unwrap() > before);
    // One scheduled sync started after the events catches what was dropped.
    let after = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap();
    wait_for_runs(&store, after, 2).await;
    store.close().await;
    let (ok, stderr) = served.stop();
    assert!(ok, "{stderr}");

    let reference = dir.join("full.db").display().to_string();
    let out = sync(&emulator, &reference, &env).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = |db: String| async move {
        let store = Store::open(&db).await.unwrap();
        let rows: Vec<String> = store
            .messages(MessageQuery::new())
            .map_ok(|m| m.json)
            .try_collect()
            .await
            .unwrap();
        store.close().await;
        rows
    };
    let mirrored = json(db).await;
    assert_eq!(
        mirrored.len(),
        emulator.message_count(),
        "every message once"
    );
    assert_eq!(mirrored, json(reference).await);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Waits until `store` holds at least `n` sync runs started after `after` (nanoseconds since
/// the epoch) and finished (one per account each).
async fn wait_for_runs(store: &Store, after: i64, n: usize) {
    let started = Instant::now();
    loop {
        let runs = store.runs(1000).await.unwrap();
        let done = runs
            .iter()
            .filter(|r| r.started_at > after && r.finished_at.is_some())
            .count();
        if done >= n {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no sync run after 60 s: {runs:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_store_that_refuses_the_write_answers_503_and_the_retry_is_stored() {
    let dir = std::env::temp_dir().join(format!("inbox-serve-503-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("inbox.db").display().to_string();
    let args: Vec<String> = vec![
        "--db".into(),
        db.clone(),
        "--lock-timeout".into(),
        "200ms".into(),
        "--partoo-public-key".into(),
        STANDARD.encode(partoo_key().verifying_key().to_bytes()),
    ];
    let served = Served::start(&args, &[]);
    // Another process holds the database's write lock for a while (python3's sqlite3: the
    // machine has it for the schema validator).
    let mut holder = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN IMMEDIATE')\n\
             print('locked', flush=True)\n\
             time.sleep(2)\n\
             c.execute('ROLLBACK')",
            &db,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");
    let body = serde_json::to_vec(&json!({
        "type": "message_created",
        "payload": {
            "message": {
                "id": 77, "conversation_id": 7, "content": "Bonjour", "content_type": "Text",
                "custom_channel": null, "date": "2024-05-01 10:00:00.000000+00:00",
                "is_automated": false, "is_deleted": false, "sender_label": "Camille",
                "sender_type": "Consumer", "status": "Success", "user_id": null,
            },
            "conversation": {"id": 7},
            "org_id": 4242,
        },
    }))
    .unwrap();
    let signed = [("x-partoo-signature-v1", partoo_signature(&body))];
    let client = reqwest::Client::new();
    let url = format!("{}/webhooks/partoo", served.base);
    assert_eq!(
        post(&client, &url, &body, &signed).await,
        503,
        "the provider retries"
    );
    assert!(holder.wait().unwrap().success());
    assert_eq!(post(&client, &url, &body, &signed).await, 200, "the retry");
    let (ok, stderr) = served.stop();
    assert!(ok, "{stderr}");
    assert!(stderr.contains("1 answered 503"), "{stderr}");
    assert_eq!(stored(&db).await.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
