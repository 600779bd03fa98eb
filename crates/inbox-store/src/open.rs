//! Opening a store: where it is, its connections, its schema.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyConnection, AnyPool, Connection, Executor, Row};

use crate::error::StoreError;

/// The embedded migrations of the SQLite schema (`migrations/sqlite`).
static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
/// The embedded migrations of the PostgreSQL schema (`migrations/postgres`).
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// An SQLite file, embedded.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// How a transaction that writes begins: SQLite takes its write lock at once
    /// (`IMMEDIATE`), so two writers wait for each other instead of one failing at its
    /// first write; PostgreSQL locks rows as they are written.
    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    fn migrator(self) -> &'static sqlx::migrate::Migrator {
        match self {
            Backend::Sqlite => &SQLITE,
            Backend::Postgres => &POSTGRES,
        }
    }
}

/// How to open a store.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OpenOptions {
    /// How long to wait for another process that holds the database (default 30 s).
    pub lock_timeout: Duration,
    /// Connections kept open (default 4).
    pub max_connections: u32,
    /// How often the write-ahead log is copied back into the database file by a background
    /// task, so that no commit pays for it (a long-running writer such as a webhook server
    /// wants it: `inbox serve` sets 250 ms). With `None`, the default, SQLite does it inside
    /// the commit that fills the log past 1000 pages, which makes that commit slow. With a
    /// background task, a commit still does it when the log passes 10 000 pages (40 MB),
    /// should the task fall behind.
    pub checkpoint_every: Option<Duration>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(30),
            max_connections: 4,
            checkpoint_every: None,
        }
    }
}

impl OpenOptions {
    /// The default options, waiting at most `timeout` for a database another process holds.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Checkpoints the write-ahead log in the background every `every`, or inside commits
    /// (SQLite's default) with `None`; see [`OpenOptions::checkpoint_every`].
    pub fn checkpoint_every(mut self, every: Option<Duration>) -> Self {
        self.checkpoint_every = every;
        self
    }
}

/// The background checkpoint task, stopped with the last clone of its store.
#[derive(Debug)]
struct Checkpointer(tokio::task::JoinHandle<()>);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Every `every`, copies what the write-ahead log holds back into the database file
/// without waiting for anyone (`PASSIVE`: readers and the writer go on). A busy database
/// or a closed pool only skips a round.
async fn checkpoints(pool: AnyPool, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        // `execute` steps the statement to its end: one left after its first row would keep
        // a read snapshot open on its pooled connection, and the next read there would not
        // see what other processes committed since.
        let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await;
    }
}

/// Counts one transaction waiting for the writer's connection while it lives (dropped when
/// it has it, fails, or is cancelled).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A durable mirror of conversations and messages. Cheap to clone: clones share one pool of
/// connections.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    /// Where write transactions run. SQLite: one connection of its own (the database takes
    /// one writer at a time anyway), so its page cache stays valid from one commit to the
    /// next instead of being thrown away whenever another connection wrote. PostgreSQL: the
    /// pool.
    writer: AnyPool,
    /// Transactions of this process waiting for the writer's connection (`begin_write`), so
    /// that a [`crate::Writer`] holding it knows to give it back.
    waiting: Arc<AtomicUsize>,
    pub(crate) location: String,
    pub(crate) lock_timeout: Duration,
    pub(crate) backend: Backend,
    /// Account ids by (provider, identity), as committed: accounts are never deleted.
    pub(crate) accounts: Arc<Mutex<HashMap<(String, String), i64>>>,
    _checkpointer: Option<Arc<Checkpointer>>,
}

impl Store {
    /// Opens the store at `location` with the default options (see [`Store::open_with`]).
    pub async fn open(location: &str) -> Result<Store, StoreError> {
        Self::open_with(location, OpenOptions::default()).await
    }

    /// Opens the store at `location`, a path (`inbox.db`) or a URL (`sqlite:inbox.db`,
    /// `sqlite:///abs/path.db`): creates the file when it is missing, switches it to WAL
    /// (readers never wait for the writer), and brings its schema up to date. A database
    /// another process holds is waited for (up to the lock timeout); one whose schema is
    /// newer than this version knows is refused, and so is a file that is not a database.
    /// Nothing is written to a database that is refused.
    ///
    /// A `postgres://` (or `postgresql://`) URL opens a PostgreSQL database instead, which
    /// must exist: its schema is brought up to date the same way (two processes migrating
    /// at once are serialized by an advisory lock), and a newer one is refused.
    pub async fn open_with(location: &str, options: OpenOptions) -> Result<Store, StoreError> {
        install_default_drivers();
        let trimmed = location.trim();
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            return Self::open_postgres(trimmed, options).await;
        }
        let (url, shown) = sqlite_url(location)?;
        let busy_ms = u64::try_from(options.lock_timeout.as_millis()).unwrap_or(u64::MAX);
        let autocheckpoint = if options.checkpoint_every.is_some() {
            10_000
        } else {
            1_000
        };
        // One connection first, outside any pool: a pool retries a failing connection until
        // its own timeout and then says only that it timed out; this says why.
        let mut probe = AnyConnection::connect(&url)
            .await
            .map_err(|e| open_error(&shown, e, options.lock_timeout))?;
        let probed = async {
            probe
                .execute(sqlx::AssertSqlSafe(format!(
                    "PRAGMA busy_timeout = {busy_ms}"
                )))
                .await?;
            sqlx::query("SELECT count(*) FROM sqlite_master")
                .fetch_one(&mut probe)
                .await
                .map(|_| ())
        }
        .await;
        let _ = probe.close().await;
        probed.map_err(|e| open_error(&shown, e, options.lock_timeout))?;
        let connections = move |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(options.lock_timeout)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        // Waits out another process's lock instead of failing at once.
                        conn.execute(sqlx::AssertSqlSafe(format!(
                            "PRAGMA busy_timeout = {busy_ms}"
                        )))
                        .await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // WAL is durable at each commit with `synchronous = NORMAL` for the
                        // application (a power loss may roll back the last commits, never
                        // corrupt).
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute(sqlx::AssertSqlSafe(format!(
                            "PRAGMA wal_autocheckpoint = {autocheckpoint}"
                        )))
                        .await?;
                        Ok(())
                    })
                })
        };
        let pool = connections(options.max_connections.max(1))
            .connect(&url)
            .await
            .map_err(|e| open_error(&shown, e, options.lock_timeout))?;
        // Not pinged before each use: a write begins with `BEGIN IMMEDIATE`, which finds a
        // broken connection as well, and the ping was one more round trip to SQLite's thread
        // in every transaction (the pool still checks a connection when it is given back).
        let writer = connections(1)
            .test_before_acquire(false)
            .connect(&url)
            .await
            .map_err(|e| open_error(&shown, e, options.lock_timeout))?;
        let mut store = Store {
            pool,
            writer,
            location: shown,
            lock_timeout: options.lock_timeout,
            backend: Backend::Sqlite,
            accounts: Arc::default(),
            waiting: Arc::default(),
            _checkpointer: None,
        };
        store.check_schema().await?;
        // Persistent: set once in the file, after the checks, so a refused file is left as
        // it was.
        store.switch_to_wal().await?;
        store.migrate().await?;
        if let Some(every) = options.checkpoint_every {
            let task = tokio::spawn(checkpoints(
                store.pool.clone(),
                every.max(Duration::from_millis(10)),
            ));
            store._checkpointer = Some(Arc::new(Checkpointer(task)));
        }
        Ok(store)
    }

    /// Opens a PostgreSQL store (see [`Store::open_with`]).
    async fn open_postgres(url: &str, options: OpenOptions) -> Result<Store, StoreError> {
        let shown = redacted(url);
        // One connection first, outside any pool, for the same reason as SQLite's: a pool
        // would say only that it timed out, this says why.
        let probe = tokio::time::timeout(options.lock_timeout, AnyConnection::connect(url))
            .await
            .map_err(|_| StoreError::Open {
                location: shown.clone(),
                reason: format!("no answer in {} s", options.lock_timeout.as_secs()),
            })?
            .map_err(|e| StoreError::Open {
                location: shown.clone(),
                reason: e.to_string(),
            })?;
        let _ = probe.close().await;
        let pool = AnyPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.lock_timeout)
            .connect(url)
            .await
            .map_err(|e| StoreError::Open {
                location: shown.clone(),
                reason: e.to_string(),
            })?;
        let store = Store {
            writer: pool.clone(),
            pool,
            location: shown,
            lock_timeout: options.lock_timeout,
            backend: Backend::Postgres,
            accounts: Arc::default(),
            waiting: Arc::default(),
            _checkpointer: None,
        };
        store.check_schema().await?;
        store.migrate().await?;
        Ok(store)
    }

    /// The database behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Answers when the database does: what a health check asks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| self.err("checking the database", e))
    }

    /// Where the store is, as given.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Closes every connection (waiting for the ones in use, a held [`Writer`] among
    /// them: drop it first).
    ///
    /// [`Writer`]: crate::Writer
    pub async fn close(self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// Begins a transaction that writes, on the writer's connection (see `writer`).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        let _waiting = Waiting::new(&self.waiting);
        self.writer.begin_with(self.backend.begin_write()).await
    }

    /// Whether a transaction of this process is waiting for the writer's connection.
    pub(crate) fn writers_waiting(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) > 0
    }

    /// The writer's connection, to hold across transactions.
    pub(crate) async fn writing_connection(
        &self,
    ) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, sqlx::Error> {
        self.writer.acquire().await
    }

    /// An error met while doing `what`.
    pub(crate) fn err(&self, what: &'static str, e: sqlx::Error) -> StoreError {
        match StoreError::db(what, &self.location, e, self.backend) {
            StoreError::Locked { location, .. } => StoreError::Locked {
                location,
                waited_secs: self.lock_timeout.as_secs(),
            },
            other => other,
        }
    }

    /// Refuses a database whose schema is ahead of this version (before touching it), and
    /// one that is not a database at all.
    async fn check_schema(&self) -> Result<(), StoreError> {
        let supported = self
            .backend
            .migrator()
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let tables = sqlx::query(match self.backend {
            Backend::Sqlite => {
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT count(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        })
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.err("reading the schema", e))?;
        let has_migrations: i64 = tables.try_get(0).unwrap_or(0);
        if has_migrations == 0 {
            return Ok(());
        }
        let row = sqlx::query("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.err("reading the schema version", e))?;
        let found: Option<i64> = row.try_get(0).ok();
        match found {
            Some(found) if found > supported => Err(StoreError::NewerSchema {
                location: self.location.clone(),
                found,
                supported,
            }),
            _ => Ok(()),
        }
    }

    /// Switches the file to WAL. Leaving the rollback journal needs the exclusive lock, and
    /// when two connections both hold a shared lock and ask for it, SQLite answers one of
    /// them "busy" at once instead of calling its busy handler (that wait could deadlock).
    /// So the wait is here: retried every few milliseconds up to the lock timeout.
    async fn switch_to_wal(&self) -> Result<(), StoreError> {
        let deadline = tokio::time::Instant::now() + self.lock_timeout;
        let mut pause = Duration::from_millis(2);
        loop {
            let switched = sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&self.pool)
                .await;
            match switched.map_err(|e| self.err("switching to WAL", e)) {
                Ok(_) => return Ok(()),
                Err(StoreError::Locked { .. }) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(other) => return Err(other),
            }
        }
    }

    /// Applies the migrations this version has and the database lacks, all in one
    /// transaction: two processes opening a new database at once are serialized (SQLite:
    /// by its write lock, taken at `BEGIN IMMEDIATE`; PostgreSQL: by an advisory lock held
    /// to the end of the transaction), the second waits, up to the lock timeout, then finds
    /// the schema applied; a crash half way leaves the schema as it was.
    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self
            .begin_write()
            .await
            .map_err(|e| self.err("migrating", e))?;
        if self.backend == Backend::Postgres {
            // The key is this crate's own: the bytes of "inbox-st" read as an integer.
            sqlx::query("SELECT pg_advisory_xact_lock(7597117852317741940)")
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err("waiting for another migration", e))?;
        }
        let conn: &mut AnyConnection = &mut tx;
        // `run_direct` is what `Migrator::run` calls once it has a connection; sqlx keeps
        // it public for callers whose future must be `Send` across `Acquire`'s lifetimes
        // (`run(&mut *tx)` is not, inside `tokio::spawn`).
        let ran = self.backend.migrator().run_direct(None, conn, false).await;
        ran.map_err(|error| match error {
            sqlx::migrate::MigrateError::Execute(e) => match self.err("migrating", e) {
                StoreError::Database { source, .. } => StoreError::Migrate {
                    location: self.location.clone(),
                    reason: source.to_string(),
                },
                classified => classified,
            },
            other => StoreError::Migrate {
                location: self.location.clone(),
                reason: other.to_string(),
            },
        })?;
        tx.commit().await.map_err(|e| self.err("migrating", e))
    }
}

/// The driver URL for `location`, and how to name it in errors.
fn sqlite_url(location: &str) -> Result<(String, String), StoreError> {
    let location = location.trim();
    if location.is_empty() {
        return Err(StoreError::Location {
            location: location.to_owned(),
        });
    }
    if let Some(rest) = location.strip_prefix("sqlite:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        if path.is_empty() {
            return Err(StoreError::Location {
                location: location.to_owned(),
            });
        }
        let mode = if query.split('&').any(|p| p.starts_with("mode=")) {
            String::new()
        } else {
            "mode=rwc".to_owned()
        };
        let query = [query, mode.as_str()]
            .into_iter()
            .filter(|q| !q.is_empty())
            .collect::<Vec<_>>()
            .join("&");
        return Ok((format!("sqlite://{path}?{query}"), path.to_owned()));
    }
    if location.contains("://") {
        return Err(StoreError::Location {
            location: location.to_owned(),
        });
    }
    let shown = Path::new(location).display().to_string();
    Ok((format!("sqlite://{location}?mode=rwc"), shown))
}

/// `url` without its password, to be shown.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(name, _)| name);
            format!("{scheme}://{user}@{host}/{path}")
        }
        None => url.to_owned(),
    }
}

/// An error from connecting, classified.
fn open_error(location: &str, e: sqlx::Error, waited: Duration) -> StoreError {
    match StoreError::db("opening", location, e, Backend::Sqlite) {
        StoreError::Locked { location, .. } => StoreError::Locked {
            location,
            waited_secs: waited.as_secs(),
        },
        StoreError::Database { source, .. } => StoreError::Open {
            location: location.to_owned(),
            reason: source.to_string(),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_never_shown() {
        assert_eq!(
            redacted("postgres://inbox:s3cret@db.example:5432/mirror"),
            "postgres://inbox@db.example:5432/mirror"
        );
        assert_eq!(
            redacted("postgresql://db.example/mirror"),
            "postgresql://db.example/mirror"
        );
    }

    #[test]
    fn paths_and_urls_become_sqlite_urls() {
        let url = |l: &str| sqlite_url(l).map(|(u, _)| u).ok();
        assert_eq!(
            url("inbox.db").as_deref(),
            Some("sqlite://inbox.db?mode=rwc")
        );
        assert_eq!(
            url("sqlite:inbox.db").as_deref(),
            Some("sqlite://inbox.db?mode=rwc")
        );
        assert_eq!(
            url("sqlite:///tmp/a.db").as_deref(),
            Some("sqlite:///tmp/a.db?mode=rwc")
        );
        assert_eq!(
            url("sqlite:a.db?mode=ro").as_deref(),
            Some("sqlite://a.db?mode=ro")
        );
        assert!(url("").is_none());
        assert!(url("mysql://x").is_none());
        assert!(url("sqlite:").is_none());
    }
}
