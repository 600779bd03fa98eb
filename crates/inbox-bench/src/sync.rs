//! sync: the mirror's ingest against its bare-insert floor, a resync with nothing changed,
//! and the memory of a syncing process.

use std::time::{Duration, Instant};

use inbox::Target;
use inbox::model::Message;
use inbox::store::{Store, SyncOptions};
use sqlx::{Connection, SqliteConnection};

use crate::fetch::{Endpoints, child_peak_rss, inbox_for, serve, vm_hwm_kib};

/// Conversations synced (half per provider), each of `P` pages of 100.
const K: usize = 200;
const INGEST_TARGET: f64 = 1.5;
const RESYNC_TARGET: f64 = 1.0;
const MEMORY_TARGET: f64 = 1.5;
/// Rows a page, a statement and a transaction of the floor.
const PAGE: usize = 100;

/// A folder of its own, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("inbox-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        Ok(TempDir(dir))
    }

    fn db(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One row of the floor: what the store writes of a message, made beforehand.
struct Row {
    id: String,
    provider: String,
    conversation: String,
    ts: i64,
    updated: Option<i64>,
    direction: &'static str,
    role: &'static str,
    status: &'static str,
    kind: &'static str,
    text: String,
    flags: [i64; 3],
    unified: String,
    origin: String,
}

fn nanos(t: &inbox::Timestamp) -> i64 {
    i64::try_from(t.unix_nanos()).unwrap_or(i64::MAX)
}

fn row(m: &Message) -> Row {
    Row {
        id: m.id.to_string(),
        provider: m.provider.to_string(),
        conversation: m.conversation_id.to_string(),
        ts: nanos(&m.timestamp),
        updated: m.updated_at.as_ref().map(nanos),
        direction: m.direction.as_str(),
        role: m.sender.role.as_str(),
        status: m.status.as_str(),
        kind: m.content.kind(),
        text: m.text.to_string(),
        flags: [
            i64::from(m.is_deleted),
            i64::from(m.is_automated),
            i64::from(m.is_draft),
        ],
        unified: serde_json::to_string(&m.without_origin()).unwrap_or_default(),
        origin: serde_json::to_string(&m.origin).unwrap_or_default(),
    }
}

/// The floor: the same rows inserted into the same schema (an empty store made by
/// `Store::open`, its full-text triggers included), a page a statement, `per_transaction`
/// rows a transaction, on the driver SQLite offers best.
async fn floor(path: &str, rows: &[Row], per_transaction: usize) -> Result<Duration, String> {
    Store::open(path)
        .await
        .map_err(|e| e.to_string())?
        .close()
        .await;
    let mut conn = SqliteConnection::connect(&format!("sqlite://{path}"))
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query(
        "INSERT INTO accounts (id, provider, identity, created_at) VALUES (1, 'x', 'y', 0)",
    )
    .execute(&mut conn)
    .await
    .map_err(|e| e.to_string())?;
    let started = Instant::now();
    // A page a statement (one round trip to SQLite's thread for its rows, with anonymous
    // placeholders); a page a transaction is what a sync must do at least, as it commits
    // each page with its checkpoint.
    for transaction in rows.chunks(per_transaction) {
        let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
        for chunk in transaction.chunks(PAGE) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO messages (account_id, id, provider, conversation_id, ts, updated_at, \
             direction, role, status, kind, preview, is_deleted, is_automated, is_draft, \
             lifecycle, revision, unified, origin, stored_at, changed_at) ",
            );
            insert.push_values(chunk, |mut b, r| {
                b.push("1")
                    .push_bind(&r.id)
                    .push_bind(&r.provider)
                    .push_bind(&r.conversation)
                    .push_bind(r.ts)
                    .push_bind(r.updated)
                    .push_bind(r.direction)
                    .push_bind(r.role)
                    .push_bind(r.status)
                    .push_bind(r.kind)
                    .push_bind(&r.text)
                    .push_bind(r.flags[0])
                    .push_bind(r.flags[1])
                    .push_bind(r.flags[2])
                    .push("NULL")
                    .push("1")
                    .push_bind(&r.unified)
                    .push_bind(&r.origin)
                    .push("0")
                    .push("0");
            });
            insert
                .build()
                .execute(&mut *tx)
                .await
                .map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(started.elapsed())
}

/// The sync benchmarks; returns whether every target was met.
pub(crate) async fn run() -> bool {
    match measure().await {
        Ok(met) => met,
        Err(e) => {
            println!("sync-ingest: failed: {e}");
            false
        }
    }
}

async fn measure() -> Result<bool, String> {
    let dir = TempDir::new("sync")?;
    let emulator = serve(K, Duration::ZERO).await?;
    let at = Endpoints::of(&emulator);
    let inbox = inbox_for(&at)?;
    let everything = || vec![Target::all("partoo"), Target::all("bird")];

    // The rows of the floor, fetched and made before anything is timed.
    let timeline = inbox
        .timeline(everything())
        .await
        .map_err(|e| e.to_string())?;
    let rows: Vec<Row> = timeline.messages.iter().map(row).collect();
    drop(timeline);
    let paged = floor(&dir.db("floor.db"), &rows, PAGE).await?;
    // The same with one transaction for everything: what committing each page costs.
    let one = floor(&dir.db("floor-one.db"), &rows, rows.len().max(1)).await?;

    let store = Store::open(&dir.db("inbox.db"))
        .await
        .map_err(|e| e.to_string())?;
    let fresh = inbox_for(&at)?;
    let started = Instant::now();
    let first = store
        .sync(&fresh, everything(), &SyncOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    let total = first.total();
    let ingest = wall.as_secs_f64() / paged.as_secs_f64();
    println!("sync-ingest: ratio={ingest:.2} (target {INGEST_TARGET:.1})");
    println!(
        "  K={K} conversations (half per provider), {} messages from the emulator at zero latency into an empty store: {:.3} s, {} requests; floor (the same {} rows, a page of {PAGE} a statement and a transaction): {:.3} s ({:.3} s in one transaction)",
        total.new,
        wall.as_secs_f64(),
        total.requests,
        rows.len(),
        paged.as_secs_f64(),
        one.as_secs_f64()
    );
    let complete = first.failures.is_empty() && total.new as usize == emulator.message_count();

    // A second sync with nothing changed: the listing pages, and nothing else.
    let second = store
        .sync(&fresh, everything(), &SyncOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let pages = listing_pages(K);
    let requests = second.total().requests;
    let resync = requests as f64 / pages as f64;
    println!("resync: ratio={resync:.2} (target {RESYNC_TARGET:.1})");
    println!(
        "  a second sync with nothing changed: {requests} requests for {pages} listing pages; {} conversations skipped",
        second.total().skipped
    );
    store.close().await;
    emulator.shutdown().await;

    // Memory: a fresh process syncing K and 10·K conversations into a new store.
    let small = child_peak_rss("sync-child", K).await;
    let large = child_peak_rss("sync-child", K * 10).await;
    let memory_ok = match (small, large) {
        (Ok(small), Ok(large)) => {
            let memory = large as f64 / small as f64;
            println!("sync-memory: ratio={memory:.2} (target {MEMORY_TARGET:.1})");
            println!(
                "  peak RSS of a process syncing every conversation into a new store: K={K}: {:.1} MiB, K={}: {:.1} MiB (L=2 ms)",
                small as f64 / 1024.0,
                K * 10,
                large as f64 / 1024.0
            );
            memory <= MEMORY_TARGET
        }
        (small, large) => {
            println!("sync-memory: failed: {small:?} {large:?}");
            false
        }
    };
    Ok(complete && ingest <= INGEST_TARGET && resync <= RESYNC_TARGET && memory_ok)
}

/// Listing pages of `k` conversations, half per provider, 100 a page.
fn listing_pages(k: usize) -> usize {
    (k / 2).div_ceil(100) + (k - k / 2).div_ceil(100)
}

/// The child side of the memory figure: one sync of everything behind the endpoints into a
/// new store, then the process's peak RSS.
pub(crate) async fn child(args: &[&str]) -> bool {
    let Some((expected, at)) = args
        .split_first()
        .and_then(|(n, rest)| Some((n.parse::<usize>().ok()?, Endpoints::from_args(rest)?)))
    else {
        eprintln!(
            "usage: inbox-bench sync-child EXPECTED PARTOO_URL BIRD_URL PARTOO_KEY BIRD_KEY WORKSPACE"
        );
        return false;
    };
    let synced = async {
        let dir = TempDir::new("sync-child")?;
        let store = Store::open(&dir.db("inbox.db"))
            .await
            .map_err(|e| e.to_string())?;
        let inbox = inbox_for(&at)?;
        let report = store
            .sync(
                &inbox,
                vec![Target::all("partoo"), Target::all("bird")],
                &SyncOptions::default(),
            )
            .await
            .map_err(|e| e.to_string())?;
        store.close().await;
        Ok::<_, String>(report.total().new as usize)
    }
    .await;
    match synced {
        Ok(n) if n == expected => match vm_hwm_kib() {
            Some(kib) => {
                println!("peak_rss_kib={kib}");
                true
            }
            None => false,
        },
        Ok(n) => {
            eprintln!("incomplete: {n} of {expected} messages");
            false
        }
        Err(e) => {
            eprintln!("{e}");
            false
        }
    }
}
