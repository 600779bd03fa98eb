//! fetch: the aggregator against the emulator with a fixed latency per request.

use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use inbox::{BirdSource, Inbox, PartooSource, SourceLimits, Target};
use inbox_emulator::{Config, Dataset, Emulator};

const K: usize = 200;
const P: usize = 5;
const L: Duration = Duration::from_millis(20);
const C: usize = 16;
const TARGET: f64 = 1.10;
const MEMORY_TARGET: f64 = 1.5;
/// The aggregator's wall time over the measured floor (plain loops, same run).
const MEASURED_TARGET: f64 = 1.03;
/// Runs of the timed fetch; the median is reported (one run's noise is about ±2%).
const RUNS: usize = 3;

/// What one fetch did.
pub(crate) struct Run {
    /// Listing every conversation of both providers (one round trip here).
    discovery: Duration,
    /// Fetching the K conversations, given by id: what the floor describes.
    wall: Duration,
    messages: usize,
    expected: usize,
    failures: usize,
    requests: usize,
    partoo_connections: usize,
    bird_connections: usize,
}

/// Lists the conversations of a `k`-conversation emulator (half per provider, `P` pages
/// each), then fetches them all with the stream form, counting and dropping the messages.
/// The two steps are timed apart: the floor describes the second.
pub(crate) async fn fetch(k: usize, latency: Duration) -> Result<Run, String> {
    let emulator = serve(k, latency).await?;
    let run = fetch_from(&Endpoints::of(&emulator), emulator.message_count()).await;
    let stats = emulator.stats();
    emulator.shutdown().await;
    let mut run = run?;
    run.requests = stats.partoo_requests + stats.bird_requests;
    run.partoo_connections = stats.partoo_connections;
    run.bird_connections = stats.bird_connections;
    Ok(run)
}

/// An emulator of `k` conversations, half per provider, `P` pages of 100 each.
pub(crate) async fn serve(k: usize, latency: Duration) -> Result<Emulator, String> {
    let config = Config {
        dataset: Dataset::Synthetic {
            partoo_conversations: k / 2,
            bird_conversations: k - k / 2,
            messages_per_conversation: P * 100..=P * 100,
        },
        latency,
        ..Config::default()
    };
    Emulator::start(config)
        .await
        .map_err(|e| format!("emulator: {e}"))
}

/// Where an emulator is, and how to get in: what a child process needs to fetch from it.
pub(crate) struct Endpoints {
    partoo_url: String,
    bird_url: String,
    partoo_key: String,
    bird_key: String,
    workspace: String,
}

impl Endpoints {
    pub(crate) fn of(emulator: &Emulator) -> Self {
        let c = emulator.config();
        Endpoints {
            partoo_url: emulator.partoo_base_url(),
            bird_url: emulator.bird_base_url(),
            partoo_key: c.partoo_key.clone(),
            bird_key: c.bird_key.clone(),
            workspace: c.bird_workspace.clone(),
        }
    }

    pub(crate) fn args(&self) -> [&str; 5] {
        [
            &self.partoo_url,
            &self.bird_url,
            &self.partoo_key,
            &self.bird_key,
            &self.workspace,
        ]
    }

    pub(crate) fn from_args(args: &[&str]) -> Option<Self> {
        let [partoo_url, bird_url, partoo_key, bird_key, workspace] = args else {
            return None;
        };
        Some(Endpoints {
            partoo_url: (*partoo_url).to_owned(),
            bird_url: (*bird_url).to_owned(),
            partoo_key: (*partoo_key).to_owned(),
            bird_key: (*bird_key).to_owned(),
            workspace: (*workspace).to_owned(),
        })
    }
}

/// An inbox of both providers behind `at`, `C` requests at once. The emulator has no rate
/// limit; the global bound is the one measured.
pub(crate) fn inbox_for(at: &Endpoints) -> Result<Inbox, String> {
    let partoo = inbox::partoo::Client::builder(at.partoo_key.as_str())
        .base_url(&at.partoo_url)
        .build()
        .map_err(|e| e.to_string())?;
    let bird = inbox::bird::Client::builder(at.bird_key.as_str(), at.workspace.as_str())
        .base_url(&at.bird_url)
        .build()
        .map_err(|e| e.to_string())?;
    let local = SourceLimits::new(C, None);
    Inbox::builder()
        .source(PartooSource::new(partoo).limits(local))
        .source(BirdSource::new(bird).limits(local))
        .concurrency(C)
        .build()
        .map_err(|e| e.to_string())
}

/// Lists the conversations behind `at`, then fetches them all with the stream form,
/// counting and dropping the messages. The two steps are timed apart: the floor describes
/// the second. Server-side figures are left at zero for the caller to fill.
async fn fetch_from(at: &Endpoints, expected: usize) -> Result<Run, String> {
    let inbox = inbox_for(at)?;
    let listed = Instant::now();
    let mut targets = Vec::new();
    for name in ["partoo", "bird"] {
        let listing = inbox.conversations(name).await.map_err(|e| e.to_string())?;
        if let Some(failure) = listing.failures.first() {
            return Err(failure.to_string());
        }
        targets.extend(
            listing
                .conversations
                .into_iter()
                .map(|c| Target::conversation(name, c.id)),
        );
    }
    let discovery = listed.elapsed();
    let started = Instant::now();
    let stream = inbox.stream(targets).map_err(|e| e.to_string())?;
    futures_util::pin_mut!(stream);
    let (mut messages, mut failures) = (0, 0);
    while let Some(item) = stream.next().await {
        match item {
            Ok(_) => messages += 1,
            Err(_) => failures += 1,
        }
    }
    let wall = started.elapsed();
    Ok(Run {
        discovery,
        wall,
        messages,
        expected,
        failures,
        requests: 0,
        partoo_connections: 0,
        bird_connections: 0,
    })
}

/// The same round trips as [`fetch`] (every page of every conversation, given by id) made
/// by `C` plain loops of reqwest requests, each reading only the next cursor: no
/// aggregator, no decoding. What the transport and the emulator cost on this machine, in
/// the same run: the floor the aggregator is measured against besides the theoretical one.
pub(crate) async fn plain(k: usize, latency: Duration) -> Result<Duration, String> {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    let emulator = serve(k, latency).await?;
    let c = emulator.config();
    enum Conversation {
        Partoo(i64),
        Bird(String),
    }
    let mut queue: VecDeque<Conversation> = emulator
        .partoo_conversation_ids()
        .into_iter()
        .map(Conversation::Partoo)
        .collect();
    queue.extend(
        emulator
            .bird_conversation_ids()
            .into_iter()
            .map(Conversation::Bird),
    );
    let queue = Arc::new(Mutex::new(queue));
    let http = inbox::partoo::reqwest::Client::new();
    let (partoo, bird) = (emulator.partoo_base_url(), emulator.bird_base_url());
    let (partoo_key, bird_key) = (c.partoo_key.clone(), format!("AccessKey {}", c.bird_key));
    let workspace = c.bird_workspace.clone();
    let started = Instant::now();
    let mut lanes = tokio::task::JoinSet::new();
    for _ in 0..C {
        let (queue, http) = (queue.clone(), http.clone());
        let (partoo, bird, partoo_key, bird_key, workspace) = (
            partoo.clone(),
            bird.clone(),
            partoo_key.clone(),
            bird_key.clone(),
            workspace.clone(),
        );
        lanes.spawn(async move {
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some(conversation) = next else {
                    return Ok::<_, String>(());
                };
                let mut cursor: Option<String> = None;
                loop {
                    let request = match &conversation {
                        Conversation::Partoo(id) => {
                            let mut query = vec![
                                ("conversation_id", id.to_string()),
                                ("per_page", "100".to_owned()),
                            ];
                            query.extend(cursor.take().map(|c| ("cursor", c)));
                            http.get(format!("{partoo}/messages"))
                                .header("x-apikey", &partoo_key)
                                .query(&query)
                        }
                        Conversation::Bird(id) => {
                            let mut query =
                                vec![("limit", "100".to_owned()), ("reverse", "true".to_owned())];
                            query.extend(cursor.take().map(|c| ("pageToken", c)));
                            http.get(format!(
                                "{bird}/workspaces/{workspace}/conversations/{id}/messages"
                            ))
                            .header("authorization", &bird_key)
                            .query(&query)
                        }
                    };
                    let body = request
                        .send()
                        .await
                        .and_then(|r| r.error_for_status())
                        .map_err(|e| e.to_string())?
                        .bytes()
                        .await
                        .map_err(|e| e.to_string())?;
                    let next = match &conversation {
                        Conversation::Partoo(_) => {
                            partoo_types::MessagesPage::peek_next_cursor(&body)
                        }
                        Conversation::Bird(_) => {
                            bird_types::MessagesPage::peek_next_page_token(&body)
                        }
                    }
                    .map_err(|e| e.to_string())?;
                    match next {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
            }
        });
    }
    while let Some(lane) = lanes.join_next().await {
        lane.map_err(|e| e.to_string())??;
    }
    let took = started.elapsed();
    emulator.shutdown().await;
    Ok(took)
}

/// Fetches every conversation behind `at` as `inbox fetch --all --format jsonl` does: the
/// stream form with `Target::all` of both providers (the listings are part of the run).
async fn fetch_all_from(at: &Endpoints, expected: usize) -> Result<Run, String> {
    let inbox = inbox_for(at)?;
    let started = Instant::now();
    let stream = inbox
        .stream(vec![Target::all("partoo"), Target::all("bird")])
        .map_err(|e| e.to_string())?;
    futures_util::pin_mut!(stream);
    let (mut messages, mut failures) = (0, 0);
    while let Some(item) = stream.next().await {
        match item {
            Ok(_) => messages += 1,
            Err(_) => failures += 1,
        }
    }
    Ok(Run {
        discovery: Duration::ZERO,
        wall: started.elapsed(),
        messages,
        expected,
        failures,
        requests: 0,
        partoo_connections: 0,
        bird_connections: 0,
    })
}

/// The fetch benchmark; returns whether every target was met.
pub(crate) async fn run() -> bool {
    let mut runs = Vec::with_capacity(RUNS);
    let mut plains = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        match fetch(K, L).await {
            Ok(run) => runs.push(run),
            Err(e) => {
                println!("fetch: failed: {e}");
                return false;
            }
        }
        match plain(K, L).await {
            Ok(took) => plains.push(took),
            Err(e) => {
                println!("fetch: the plain loops failed: {e}");
                return false;
            }
        }
    }
    plains.sort();
    let measured_floor = plains[RUNS / 2];
    runs.sort_by_key(|r| r.wall);
    let walls: Vec<String> = runs
        .iter()
        .map(|r| format!("{:.3}", r.wall.as_secs_f64()))
        .collect();
    let run = runs.swap_remove(RUNS / 2);
    let waves = K.div_ceil(C);
    let floor = L * u32::try_from(waves * P).unwrap_or(u32::MAX);
    let ratio = run.wall.as_secs_f64() / floor.as_secs_f64();
    println!("fetch: ratio={ratio:.2} (target {TARGET:.2})");
    println!(
        "  K={K} conversations (half per provider), P={P} pages of 100, L={} ms, C={C}: wall {:.3} s (median of {RUNS}: {} s), floor ceil(K/C)·P·L = {:.3} s",
        L.as_millis(),
        run.wall.as_secs_f64(),
        walls.join(", "),
        floor.as_secs_f64()
    );
    let over_measured = run.wall.as_secs_f64() / measured_floor.as_secs_f64();
    println!("fetch-measured: ratio={over_measured:.3} (target {MEASURED_TARGET:.2})");
    println!(
        "  measured floor: the same round trips by {C} plain reqwest loops (no aggregator, no decoding): {:.3} s (median of {RUNS}); the aggregator's wall over it",
        measured_floor.as_secs_f64(),
    );
    println!(
        "  {} of {} messages, {} failures, {} requests; listing the conversations first took {:.3} s more",
        run.messages,
        run.expected,
        run.failures,
        run.requests,
        run.discovery.as_secs_f64()
    );
    println!(
        "  TCP connections opened: partoo {}, bird {} (target ≤ C = {C} each)",
        run.partoo_connections, run.bird_connections
    );
    let complete = run.messages == run.expected && run.failures == 0;
    let connections_ok = run.partoo_connections <= C && run.bird_connections <= C;

    // Memory: the stream form at K and at 10·K, each fetched by a fresh process, from an
    // emulator in this one, so the figure is the client's alone.
    let small = peak_rss(K).await;
    let large = peak_rss(K * 10).await;
    let memory_ok = match (small, large) {
        (Ok(small), Ok(large)) => {
            let memory = large as f64 / small as f64;
            println!("fetch-memory: ratio={memory:.2} (target {MEMORY_TARGET:.1})");
            println!(
                "  peak RSS of the fetching process, stream form of every conversation (listings included): K={K}: {:.1} MiB, K={}: {:.1} MiB (L=2 ms)",
                small as f64 / 1024.0,
                K * 10,
                large as f64 / 1024.0
            );
            memory <= MEMORY_TARGET
        }
        (small, large) => {
            println!("fetch-memory: failed: {small:?} {large:?}");
            false
        }
    };
    ratio <= TARGET && over_measured <= MEASURED_TARGET && complete && connections_ok && memory_ok
}

/// Serves `k` conversations and has `inbox-bench fetch-child …` fetch them all; reads the
/// peak RSS (KiB) the child reports.
async fn peak_rss(k: usize) -> Result<u64, String> {
    child_peak_rss("fetch-child", k).await
}

/// Serves `k` conversations and has `inbox-bench VERB …` read them all; the peak RSS (KiB)
/// the child reports.
pub(crate) async fn child_peak_rss(verb: &str, k: usize) -> Result<u64, String> {
    let emulator = serve(k, Duration::from_millis(2)).await?;
    let at = Endpoints::of(&emulator);
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.arg(verb)
        .arg(emulator.message_count().to_string())
        .args(at.args());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    emulator.shutdown().await;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("peak_rss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            format!(
                "K={k}: no peak RSS reported: {text} {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// The child side of [`peak_rss`]: one fetch from the endpoints given, then the process's
/// peak RSS.
pub(crate) async fn child(args: &[&str]) -> bool {
    let Some((expected, at)) = args
        .split_first()
        .and_then(|(n, rest)| Some((n.parse().ok()?, Endpoints::from_args(rest)?)))
    else {
        eprintln!(
            "usage: inbox-bench fetch-child EXPECTED PARTOO_URL BIRD_URL PARTOO_KEY BIRD_KEY WORKSPACE"
        );
        return false;
    };
    match fetch_all_from(&at, expected).await {
        Ok(run) if run.messages == run.expected && run.failures == 0 => match vm_hwm_kib() {
            Some(kib) => {
                println!("peak_rss_kib={kib}");
                true
            }
            None => false,
        },
        Ok(run) => {
            eprintln!(
                "incomplete: {} of {} messages, {} failures",
                run.messages, run.expected, run.failures
            );
            false
        }
        Err(e) => {
            eprintln!("{e}");
            false
        }
    }
}

/// `VmHWM` (peak resident set) from `/proc/self/status`, in KiB.
pub(crate) fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// One fetch at `k` conversations and `ms` latency, with its figures: to see where time goes.
pub(crate) async fn probe(k: usize, ms: u64) -> bool {
    match fetch(k, Duration::from_millis(ms)).await {
        Ok(run) => {
            let floor =
                Duration::from_millis(ms) * u32::try_from(k.div_ceil(C) * P).unwrap_or(u32::MAX);
            println!(
                "K={k} L={ms}ms: wall {:.3} s, floor {:.3} s, {} messages, {} requests, connections {}+{}",
                run.wall.as_secs_f64(),
                floor.as_secs_f64(),
                run.messages,
                run.requests,
                run.partoo_connections,
                run.bird_connections
            );
            true
        }
        Err(e) => {
            println!("{e}");
            false
        }
    }
}
