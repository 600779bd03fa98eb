//! workers: accounts synced per second by three workers sharing one PostgreSQL against one
//! worker, at L=20 ms; and the store's write rate on PostgreSQL against SQLite for the same
//! sync.
//!
//! The workers run in this process, each with its own store connection pool, inbox and
//! HTTP clients (as three processes would), on the same two cores. The rate is the
//! accounts over the span from the first job's start to the last one's end, as the store's
//! schedule records them: the workers' own startup (graphile_worker's schema, registering)
//! is outside it, and printed apart as the wall time.

use std::time::{Duration, Instant};

use inbox::store::{Store, SyncOptions};
use inbox::worker::{AccountRef, Queue, Worker, WorkerOptions};
use inbox::{BirdSource, Inbox, PartooSource, Provider, SourceLimits, Target};
use inbox_emulator::{Config, Dataset, Emulator};
use inbox_testkit::postgres::Postgres;
use tokio::sync::oneshot;

/// Emulator accounts (each a Partoo organisation and a Bird workspace: two worker accounts).
const ACCOUNTS: usize = 50;
const LATENCY: Duration = Duration::from_millis(20);
/// Accounts a worker syncs at once.
const PER_WORKER: usize = 4;
const RATIO_TARGET: f64 = 2.5;

/// The workers benchmark; returns whether its target was met.
pub(crate) async fn run() -> bool {
    match measure().await {
        Ok(met) => met,
        Err(e) => {
            println!("workers: failed: {e}");
            false
        }
    }
}

fn config(latency: Duration, conversations: usize, messages: usize) -> Config {
    Config {
        seed: 41,
        accounts: ACCOUNTS,
        dataset: Dataset::Synthetic {
            partoo_conversations: conversations,
            bird_conversations: conversations,
            messages_per_conversation: messages..=messages,
        },
        latency,
        ..Config::default()
    }
}

/// Both sides of every emulator account as named sources (`p<i>`, `b<i>`), one request at
/// a time each and no rate limit (the latency is what bounds them here).
fn inbox(emulator: &Emulator) -> Result<(Inbox, Vec<AccountRef>), String> {
    let mut builder = Inbox::builder().concurrency(64);
    let mut refs = Vec::new();
    for i in 0..emulator.account_count() {
        let Some(account) = emulator.account(i) else {
            break;
        };
        let partoo = inbox::partoo::Client::builder(account.partoo_key.as_str())
            .base_url(&emulator.partoo_base_url())
            .build()
            .map_err(|e| e.to_string())?;
        let bird = inbox::bird::Client::builder(
            account.bird_key.as_str(),
            account.bird_workspace.as_str(),
        )
        .base_url(&emulator.bird_base_url())
        .build()
        .map_err(|e| e.to_string())?;
        builder = builder
            .source(
                PartooSource::new(partoo)
                    .named(format!("p{i}"))
                    .limits(SourceLimits::new(1, None)),
            )
            .source(
                BirdSource::new(bird)
                    .named(format!("b{i}"))
                    .limits(SourceLimits::new(1, None)),
            );
        refs.push(AccountRef::new(format!("p{i}"), Provider::Partoo));
        refs.push(AccountRef::new(format!("b{i}"), Provider::Bird));
    }
    let inbox = builder.build().map_err(|e| e.to_string())?;
    Ok((inbox, refs))
}

/// What one round measured.
struct Round {
    /// Accounts per second over the jobs' span.
    rate: f64,
    /// From the first job's start to the last one's end.
    span: Duration,
    /// From the workers' start until every account was synced.
    wall: Duration,
    /// The mean time of one job.
    mean_job: Duration,
}

/// One round: `workers` workers on a new database until every account is synced once.
async fn round(emulator: &Emulator, workers: usize) -> Result<Round, String> {
    let url = Postgres::shared().database(&format!("bench_workers_{workers}"));
    let watch = Store::open(&url).await.map_err(|e| e.to_string())?;
    // Every worker made first, then all started at once.
    let mut ready = Vec::new();
    let mut accounts = 0;
    for _ in 0..workers {
        let store = Store::open(&url).await.map_err(|e| e.to_string())?;
        let (inbox, refs) = inbox(emulator)?;
        accounts = refs.len();
        let options = WorkerOptions::default()
            .every(Duration::from_secs(3600))
            .concurrency(PER_WORKER);
        ready.push((Worker::new(store.clone(), inbox, refs, options), store));
    }
    let started = Instant::now();
    let mut stops = Vec::new();
    let mut running = Vec::new();
    for (worker, store) in ready {
        let (stop, stopped) = oneshot::channel::<()>();
        stops.push(stop);
        let queue = Queue::Postgres { url: url.clone() };
        running.push(tokio::spawn(async move {
            let ran = worker
                .run(queue, async {
                    let _ = stopped.await;
                })
                .await;
            store.close().await;
            ran
        }));
    }
    let deadline = started + Duration::from_secs(300);
    let schedule = loop {
        let schedule = watch
            .scheduled_accounts()
            .await
            .map_err(|e| e.to_string())?;
        if schedule.len() == accounts && schedule.iter().all(|a| a.jobs >= 1) {
            break schedule;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{workers} workers: not every account synced in 5 min"
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let wall = started.elapsed();
    for stop in stops {
        let _ = stop.send(());
    }
    for task in running {
        task.await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    watch.close().await;
    if let Some(failed) = schedule.iter().find(|a| a.failures > 0) {
        return Err(format!("{} failed: {:?}", failed.name, failed.last_error));
    }
    let first = schedule.iter().filter_map(|a| a.last_started_at).min();
    let last = schedule.iter().filter_map(|a| a.last_finished_at).max();
    let (Some(first), Some(last)) = (first, last) else {
        return Err("the schedule has no start or end".into());
    };
    let span = Duration::from_nanos(u64::try_from(last - first).unwrap_or(0));
    let busy: i64 = schedule
        .iter()
        .filter_map(|a| Some(a.last_finished_at? - a.last_started_at?))
        .sum();
    let mean_job = Duration::from_nanos(u64::try_from(busy).unwrap_or(0) / accounts.max(1) as u64);
    Ok(Round {
        rate: accounts as f64 / span.as_secs_f64(),
        span,
        wall,
        mean_job,
    })
}

/// Messages every account serves.
fn served(emulator: &Emulator) -> usize {
    (0..emulator.account_count())
        .filter_map(|i| emulator.message_ids(i))
        .map(|ids| ids.len())
        .sum()
}

/// One sync of every account into `db`: messages written per second.
async fn write_rate(emulator: &Emulator, db: &str) -> Result<(f64, u64, Duration), String> {
    let store = Store::open(db).await.map_err(|e| e.to_string())?;
    let (inbox, refs) = inbox(emulator)?;
    let targets: Vec<Target> = refs.iter().map(|a| Target::all(a.name.as_str())).collect();
    let started = Instant::now();
    let report = store
        .sync(&inbox, targets, &SyncOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let took = started.elapsed();
    store.close().await;
    let new = report.total().new;
    if !report.failures.is_empty() || new as usize != served(emulator) {
        return Err(format!(
            "the sync into {db} is incomplete: {new} messages, {} failures",
            report.failures.len()
        ));
    }
    Ok((new as f64 / took.as_secs_f64(), new, took))
}

async fn measure() -> Result<bool, String> {
    // Latency-bound accounts, as a worker's steady state is (most jobs bring a few new
    // messages): 6 conversations of 5 messages per side, a page each.
    let emulator = Emulator::start(config(LATENCY, 6, 5))
        .await
        .map_err(|e| e.to_string())?;
    let one = round(&emulator, 1).await?;
    let three = round(&emulator, 3).await?;
    emulator.shutdown().await;
    let ratio = three.rate / one.rate;
    println!("workers: ratio={ratio:.2} (target {RATIO_TARGET:.1})");
    let line = |n: usize, r: &Round| {
        format!(
            "{n} worker{} {:.1} accounts/s ({:.2} s from the first job's start to the last one's end, {:.2} s wall with startup, {:.0} ms a job)",
            if n == 1 { "" } else { "s" },
            r.rate,
            r.span.as_secs_f64(),
            r.wall.as_secs_f64(),
            r.mean_job.as_secs_f64() * 1000.0,
        )
    };
    println!(
        "  {} accounts ({ACCOUNTS} Partoo organisations and {ACCOUNTS} Bird workspaces, 6 conversations of 5 messages per side), L={} ms, {PER_WORKER} accounts at once per worker, one request at a time per account: {}; {}",
        ACCOUNTS * 2,
        LATENCY.as_millis(),
        line(1, &one),
        line(3, &three),
    );

    // Write-bound: the same accounts with bigger conversations, no latency.
    let emulator = Emulator::start(config(Duration::ZERO, 4, 200))
        .await
        .map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("inbox-bench-workers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let sqlite = dir.join("inbox.db").display().to_string();
    let written = write_rate(&emulator, &sqlite).await;
    let _ = std::fs::remove_dir_all(&dir);
    let (lite, n, lite_took) = written?;
    let pg = Postgres::shared().database("bench_write_rate");
    let (post, _, post_took) = write_rate(&emulator, &pg).await?;
    emulator.shutdown().await;
    println!(
        "store-postgres: ratio={:.2} (reported, no target: PostgreSQL's write rate over SQLite's)",
        post / lite
    );
    println!(
        "  one sync of {n} messages ({} accounts, 4 conversations of 200 per side, zero latency) into an empty store: SQLite {lite:.0} messages/s ({:.2} s), PostgreSQL {post:.0} messages/s ({:.2} s), on loopback; neither waits for the disk at commit (SQLite's WAL with synchronous=NORMAL, a throwaway server with fsync=off)",
        ACCOUNTS * 2,
        lite_took.as_secs_f64(),
        post_took.as_secs_f64(),
    );
    Ok(ratio >= RATIO_TARGET)
}
