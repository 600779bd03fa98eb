//! Worker processes that keep many Partoo and Bird accounts mirrored: one sync job per
//! account, run again `every` after it finished, on a PostgreSQL job queue shared by any
//! number of workers on any number of machines, or on an in-process scheduler next to an
//! SQLite file.
//!
//! - [`Queue::Postgres`]: [graphile_worker](https://docs.rs/graphile_worker), in the
//!   store's own database (schema `graphile_worker`). Each account has one job, keyed by
//!   its name, in a queue of its own: graphile_worker runs the jobs of one queue one at a
//!   time, so an account is synced by one worker at a time, whichever took it, and its rate
//!   limit holds. Workers beat their heart; a worker silent for
//!   [`WorkerOptions::heartbeat_timeout`] (killed, its machine lost) is swept and its job
//!   given back, to be taken by another worker, which resumes from the account's
//!   checkpoints.
//! - [`Queue::Local`]: the same jobs, the same policy, in one process: for `--db inbox.db`
//!   on one machine with no server. A lock file keeps a second local worker off the same
//!   database.
//!
//! A job syncs its account through [`inbox_store::Store::sync`] (every page committed with
//! its checkpoint: a job cut short loses nothing). It succeeds when the sync read
//! everything; then the account's next job is due [`WorkerOptions::every`] after it
//! finished. It fails when anything was left unread (a listing, a conversation, the account
//! itself) or the store refused a write: the failure is in the account's sync run and its
//! schedule row, and the job is tried again after `e^n` seconds (`n` the attempts so far,
//! at most 10: 3 s, 7 s, 20 s… 6 h, graphile_worker's backoff, the same on both queues),
//! up to [`WorkerOptions::max_attempts`]; after the last, the account goes back to its
//! regular schedule. How each job ended, and every worker's heartbeat, are recorded in the
//! store ([`inbox_store::Store::scheduled_accounts`], [`inbox_store::Store::workers`]):
//! `inbox status` reads them.
//!
//! On shutdown (the future given to [`Worker::run`]: SIGTERM, say) a worker takes no new
//! job, lets the running ones finish for [`WorkerOptions::grace_period`], hands back the
//! others (they are due again at once, for any worker) and returns.
//!
//! # Example
//!
//! ```no_run
//! use inbox_aggregator::{Inbox, PartooSource, Provider};
//! use inbox_store::Store;
//! use inbox_worker::{AccountRef, Queue, Worker, WorkerOptions};
//! use std::time::Duration;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let url = "postgres://inbox@db.internal/inbox";
//! let client = inbox_aggregator::partoo::Client::builder(std::env::var("ACME_KEY")?).build()?;
//! let inbox = Inbox::builder()
//!     .source(PartooSource::new(client).named("acme"))
//!     .build()?;
//! let store = Store::open(url).await?;
//! let options = WorkerOptions::default().every(Duration::from_secs(300)).concurrency(8);
//! let worker = Worker::new(store, inbox, vec![AccountRef::new("acme", Provider::Partoo)], options);
//! let summary = worker
//!     .run(Queue::Postgres { url: url.into() }, async {
//!         let _ = tokio::signal::ctrl_c().await;
//!     })
//!     .await?;
//! println!("{} jobs done, {} failed", summary.jobs_done, summary.jobs_failed);
//! # Ok(()) }
//! ```

mod job;
mod local;
mod postgres;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use inbox_aggregator::{Inbox, Provider};
use inbox_store::{Store, StoreError, SyncOptions, WorkerInfo};

/// An account a worker keeps synced: a source of the worker's [`Inbox`], by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRef {
    /// The source's name in the inbox (the accounts file's `name`).
    pub name: String,
    /// Its provider.
    pub provider: Provider,
}

impl AccountRef {
    /// The account `name` of `provider`.
    pub fn new(name: impl Into<String>, provider: Provider) -> Self {
        AccountRef {
            name: name.into(),
            provider,
        }
    }
}

/// How a worker runs. `WorkerOptions::default()`: every 5 minutes, 4 accounts at once,
/// a heartbeat timeout of 60 s, a grace period of 10 s, 10 attempts.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How long after an account's job finished its next one is due.
    pub every: Duration,
    /// How many accounts this worker syncs at once.
    pub concurrency: usize,
    /// How long a worker may be silent before its jobs are given to others (PostgreSQL).
    /// Workers beat five times in it.
    pub heartbeat_timeout: Duration,
    /// How long running jobs may go on after shutdown was asked, before they are handed
    /// back.
    pub grace_period: Duration,
    /// How many times a failing job is tried before the account goes back to its regular
    /// schedule.
    pub max_attempts: u16,
    /// How each job syncs.
    pub sync: SyncOptions,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            every: Duration::from_secs(300),
            concurrency: 4,
            heartbeat_timeout: Duration::from_secs(60),
            grace_period: Duration::from_secs(10),
            max_attempts: 10,
            sync: SyncOptions::default(),
        }
    }
}

impl WorkerOptions {
    /// Sets [`WorkerOptions::every`].
    pub fn every(mut self, every: Duration) -> Self {
        self.every = every;
        self
    }

    /// Sets [`WorkerOptions::concurrency`] (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets [`WorkerOptions::heartbeat_timeout`] (at least 1 s).
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = timeout.max(Duration::from_secs(1));
        self
    }

    /// Sets [`WorkerOptions::grace_period`].
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.grace_period = grace;
        self
    }

    /// Sets [`WorkerOptions::max_attempts`] (at least 1).
    pub fn max_attempts(mut self, n: u16) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets [`WorkerOptions::sync`].
    pub fn sync(mut self, sync: SyncOptions) -> Self {
        self.sync = sync;
        self
    }

    fn heartbeat_interval(&self) -> Duration {
        (self.heartbeat_timeout / 5).max(Duration::from_millis(200))
    }
}

/// Where the jobs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queue {
    /// graphile_worker in the PostgreSQL database at `url` (the store's own, normally).
    Postgres {
        /// A `postgres://` URL.
        url: String,
    },
    /// The in-process scheduler; `lock` is the file that keeps a second local worker off
    /// the same database (created if missing, never removed).
    Local {
        /// The lock file.
        lock: PathBuf,
    },
}

/// Why a worker could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// The store refused to record the worker or its accounts.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job queue could not be set up or failed while running.
    #[error("the job queue failed: {0}")]
    Queue(String),
    /// Another local worker holds the lock of this database.
    #[error(
        "another `inbox worker` runs on this database (lock {0}): one machine needs one; \
         for several workers, use PostgreSQL"
    )]
    Busy(PathBuf),
    /// An account is not a source of the inbox.
    #[error("the account {0:?} is not a source of the worker's inbox")]
    UnknownAccount(String),
}

/// What a worker did, once it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Its id, as [`inbox_store::Store::workers`] shows it.
    pub worker: String,
    /// Jobs that succeeded.
    pub jobs_done: u64,
    /// Jobs that failed (to be tried again).
    pub jobs_failed: u64,
}

/// A worker: a store, the inbox of every account it syncs, and how.
pub struct Worker {
    store: Store,
    inbox: Inbox,
    accounts: Vec<AccountRef>,
    options: WorkerOptions,
    id: String,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.id)
            .field("store", &self.store.location())
            .field("accounts", &self.accounts.len())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker for `accounts`, each a source of `inbox`, writing into `store`. Its id is
    /// the host name, the process id and a random suffix.
    pub fn new(
        store: Store,
        inbox: Inbox,
        accounts: Vec<AccountRef>,
        options: WorkerOptions,
    ) -> Self {
        let id = format!(
            "{}:{}:{:08x}",
            host(),
            std::process::id(),
            fastrand::u32(..)
        );
        Worker {
            store,
            inbox,
            accounts,
            options,
            id,
        }
    }

    /// This worker's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs jobs from `queue` until `shutdown` resolves, then stops as the crate docs say
    /// and returns what it did. Fails at once when an account is not a source of the inbox,
    /// the store refuses to record the worker, or the queue cannot be set up.
    pub async fn run(
        self,
        queue: Queue,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Summary, WorkerError> {
        let known = self.inbox.source_names();
        if let Some(account) = self
            .accounts
            .iter()
            .find(|a| !known.contains(&a.name.as_str()))
        {
            return Err(WorkerError::UnknownAccount(account.name.clone()));
        }
        let info = WorkerInfo {
            id: self.id.clone(),
            host: host(),
            pid: std::process::id(),
            queue: match queue {
                Queue::Postgres { .. } => "postgres",
                Queue::Local { .. } => "local",
            }
            .to_owned(),
            concurrency: self.options.concurrency,
        };
        let shared = Arc::new(job::Shared {
            store: self.store,
            inbox: self.inbox,
            accounts: self.accounts,
            options: self.options,
            worker: self.id,
            done: Default::default(),
            failed: Default::default(),
        });
        // The lock first: a second local worker must not touch the schedule.
        let lock = match &queue {
            Queue::Local { lock } => Some(local::lock(lock)?),
            Queue::Postgres { .. } => None,
        };
        let providers: Vec<String> = shared
            .accounts
            .iter()
            .map(|a| a.provider.to_string())
            .collect();
        let names: Vec<(&str, &str)> = shared
            .accounts
            .iter()
            .zip(&providers)
            .map(|(a, p)| (a.name.as_str(), p.as_str()))
            .collect();
        shared.store.schedule_accounts(&names).await?;
        shared.store.register_worker(&info).await?;
        let heartbeat = tokio::spawn(job::heartbeat(Arc::clone(&shared)));
        let ran = match queue {
            Queue::Postgres { url } => postgres::run(Arc::clone(&shared), &url, shutdown).await,
            Queue::Local { .. } => local::run(Arc::clone(&shared), shutdown).await,
        };
        heartbeat.abort();
        let stopped = shared.store.worker_stopped(&shared.worker).await;
        drop(lock);
        ran?;
        stopped?;
        Ok(shared.summary())
    }
}

/// This machine's name, as the kernel has it (`localhost` when it cannot be read).
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// How long after its `attempts`-th failure a job is tried again: `e^attempts` seconds,
/// `attempts` at most 10 (graphile_worker's backoff; the local queue uses it too).
pub fn retry_delay(attempts: u32) -> Duration {
    Duration::from_secs_f64(f64::from(attempts.min(10)).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_like_graphile_worker() {
        let secs: Vec<u64> = (1..=12).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(
            secs,
            [
                2, 7, 20, 54, 148, 403, 1096, 2980, 8103, 22026, 22026, 22026
            ]
        );
    }
}
