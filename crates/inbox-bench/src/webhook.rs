//! webhook: `inbox serve` receiving signed Partoo message events over loopback, each
//! verified, normalized and committed to SQLite before its 2xx; events per second and the
//! latency of each.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;

const EVENTS: usize = 20_000;
/// Requests in flight at once (a provider delivers concurrently).
const CONCURRENCY: usize = 16;
const RATE_TARGET: f64 = 10_000.0;
const P99_TARGET_MS: f64 = 10.0;

/// `inbox serve`, stopped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn body(n: usize) -> Vec<u8> {
    let conversation = 1_000 + (n % 200) as i64;
    let event = json!({
        "type": "message_created",
        "payload": {
            "message": {
                "id": 5_000_000 + n as i64,
                "conversation_id": conversation,
                "content": format!("Bonjour, ma commande n°{n} est-elle prête ?"),
                "content_type": "Text",
                "custom_channel": null,
                "date": format!("2024-05-01 10:{:02}:{:02}.000000+00:00", (n / 60) % 60, n % 60),
                "is_automated": false,
                "is_deleted": false,
                "sender_label": "Camille Martin",
                "sender_type": "Consumer",
                "status": "Success",
                "user_id": null,
            },
            "conversation": {"id": conversation, "consumer_name": "Camille Martin", "consumer_img": null, "custom_channel": null, "messaging_partner": "Whatsapp", "business": {"id": "b1"}},
            "org_id": 4242,
        },
    });
    serde_json::to_vec(&event).unwrap_or_default()
}

/// The `inbox` binary beside this one (`cargo xtask bench` builds both).
fn inbox_exe() -> Result<std::path::PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let exe = me.with_file_name("inbox");
    if exe.exists() {
        Ok(exe)
    } else {
        Err(format!(
            "{} is missing: build it with `cargo build --release -p inbox-cli`",
            exe.display()
        ))
    }
}

/// The webhook benchmark; returns whether its targets were met.
pub(crate) async fn run() -> bool {
    match measure().await {
        Ok(met) => met,
        Err(e) => {
            println!("webhook: failed: {e}");
            false
        }
    }
}

async fn measure() -> Result<bool, String> {
    let dir = std::env::temp_dir().join(format!("inbox-bench-webhook-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let key = SigningKey::from_bytes(&[5; 32]);
    let public = base64_encode(&key.verifying_key().to_bytes());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = Command::new(inbox_exe()?)
        .args(["serve", "--db"])
        .arg(dir.join("inbox.db"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--partoo-public-key", &public])
        .env("INBOX_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = inbox::partoo::reqwest::Client::new();
    let started = Instant::now();
    loop {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        if started.elapsed() > Duration::from_secs(20) {
            return Err("inbox serve did not start".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Bodies and signatures are made before the clock starts: the sender's cost is not ours.
    let events: Arc<Vec<(Vec<u8>, String)>> = Arc::new(
        (0..EVENTS)
            .map(|n| {
                let body = body(n);
                let signature = base64_encode(&key.sign(&body).to_bytes());
                (body, signature)
            })
            .collect(),
    );
    let url = format!("{base}/webhooks/partoo");
    let client_cpu_before = cpu_seconds(std::process::id());
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..CONCURRENCY {
        let (http, url, events) = (http.clone(), url.clone(), events.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0usize;
            for (body, signature) in events.iter().skip(worker).step_by(CONCURRENCY) {
                let sent = Instant::now();
                let answer = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-partoo-signature-v1", signature)
                    .body(body.clone())
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status().is_success() => latencies.push(sent.elapsed()),
                    _ => failed += 1,
                }
            }
            (latencies, failed)
        });
    }
    let mut latencies = Vec::with_capacity(EVENTS);
    let mut failed = 0;
    while let Some(done) = tasks.join_next().await {
        let (l, f) = done.map_err(|e| e.to_string())?;
        latencies.extend(l);
        failed += f;
    }
    let wall = started.elapsed();
    let client_cpu = cpu_seconds(std::process::id()) - client_cpu_before;
    let server_cpu = cpu_seconds(server.0.id());
    drop(server);
    let stored = stored_count(&dir).await?;
    let _ = std::fs::remove_dir_all(&dir);
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let rate = latencies.len() as f64 / wall.as_secs_f64();
    let (p50, p99) = (at(0.50), at(0.99));
    println!(
        "webhook: events/s={rate:.0} (target {RATE_TARGET:.0}) p50={p50:.2} ms p99={p99:.2} ms (target {P99_TARGET_MS:.0} ms)"
    );
    println!(
        "  {EVENTS} signed Partoo message events, {CONCURRENCY} in flight over loopback, each verified (Ed25519), normalized and committed to SQLite before its 200: {:.3} s; {failed} failed; {stored} messages stored; the server used {:.2} s of CPU ({:.0} µs an event), the senders {:.2} s ({:.0} µs an event), of the 2 cores' {:.2} s",
        wall.as_secs_f64(),
        server_cpu,
        server_cpu * 1e6 / EVENTS as f64,
        client_cpu,
        client_cpu * 1e6 / EVENTS as f64,
        2.0 * wall.as_secs_f64(),
    );
    Ok(failed == 0 && stored == EVENTS as u64 && rate >= RATE_TARGET && p99 <= P99_TARGET_MS)
}

/// `ingest-probe BATCH`: what `inbox serve`'s writer does with the benchmark's events, and
/// nothing else (no HTTP, no verification): the events decoded and normalized, then stored
/// BATCH to a commit, as one writer task does under load. Prints the cost of each, per event.
pub(crate) async fn ingest_probe(batch: usize) -> bool {
    match ingest(batch.max(1)).await {
        Ok(()) => true,
        Err(e) => {
            println!("ingest-probe: failed: {e}");
            false
        }
    }
}

async fn ingest(batch: usize) -> Result<(), String> {
    use inbox::store::{Ingest, OpenOptions, Store};
    use inbox::webhook::PartooEvent;
    let dir = std::env::temp_dir().join(format!("inbox-bench-ingest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let options = OpenOptions::default().checkpoint_every(Some(Duration::from_millis(250)));
    let store = Store::open_with(&dir.join("inbox.db").display().to_string(), options)
        .await
        .map_err(|e| e.to_string())?;
    let bodies: Vec<Vec<u8>> = (0..EVENTS).map(body).collect();
    let started = Instant::now();
    let mut messages = Vec::with_capacity(EVENTS);
    for body in &bodies {
        match inbox::webhook::decode_partoo(body) {
            Ok(PartooEvent::Message {
                org_id, message, ..
            }) => messages.push((org_id, *message)),
            other => return Err(format!("an event did not decode as a message: {other:?}")),
        }
    }
    let decoded = started.elapsed();
    // The writes made before the clock starts: the server hands its messages over, it does
    // not copy them.
    let batches: Vec<Vec<Ingest>> = messages
        .chunks(batch)
        .map(|chunk| {
            chunk
                .iter()
                .map(|(org, message)| Ingest::Messages {
                    account: inbox::Account::new(inbox::model::Provider::Partoo, org.clone()),
                    messages: vec![message.clone()],
                    only_new: true,
                    delivery: None,
                })
                .collect()
        })
        .collect();
    let started = Instant::now();
    // The connection held, as the server's committer holds it while events keep coming.
    let mut writer = store.writer().await.map_err(|e| e.to_string())?;
    for writes in &batches {
        writer.ingest(writes).await.map_err(|e| e.to_string())?;
    }
    let stored = started.elapsed();
    drop(writer);
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    let each = |d: Duration| d.as_secs_f64() * 1e6 / EVENTS as f64;
    println!(
        "ingest-probe: {EVENTS} events, {batch} a commit: decode and normalize {:.1} µs an event, store {:.1} µs an event",
        each(decoded),
        each(stored)
    );
    Ok(())
}

async fn stored_count(dir: &std::path::Path) -> Result<u64, String> {
    let store = inbox::Store::open(&dir.join("inbox.db").display().to_string())
        .await
        .map_err(|e| e.to_string())?;
    let n = store.messages_count().await.map_err(|e| e.to_string())?;
    store.close().await;
    Ok(n)
}

/// User and system CPU time of process `pid`, in seconds (0 when it cannot be read).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The fields after the command name (which may hold spaces) close with ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
