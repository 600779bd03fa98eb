//! What workers did: the accounts they keep synced (their last job, the next one due) and
//! the worker processes with their heartbeats. The queue that hands out jobs is not here
//! (graphile_worker on PostgreSQL, the in-process scheduler of `inbox-worker` on SQLite):
//! these rows record what happened, for `inbox status`, and let the in-process scheduler
//! keep its plan across restarts.

use sqlx::Row;

use crate::write::now;
use crate::{Store, StoreError};

/// A worker process, as it registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerInfo {
    /// Unique among workers: the host, the process id and the start time, say.
    pub id: String,
    /// The machine it runs on.
    pub host: String,
    /// Its process id.
    pub pid: u32,
    /// `postgres` (graphile_worker) or `local` (the in-process scheduler).
    pub queue: String,
    /// How many accounts it syncs at once.
    pub concurrency: usize,
}

/// A worker process, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerRecord {
    /// What it registered with.
    pub info: WorkerInfo,
    /// When it started (nanoseconds since the epoch).
    pub started_at: i64,
    /// Its last heartbeat.
    pub heartbeat_at: i64,
    /// When it stopped cleanly; `None` while it runs, or when it died.
    pub stopped_at: Option<i64>,
    /// Jobs it finished that succeeded.
    pub jobs_done: u64,
    /// Jobs it finished that failed.
    pub jobs_failed: u64,
}

/// How a job ended, as [`Store::job_finished`] records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEnd {
    /// The account it synced, when it got that far: its provider and identity.
    pub account: Option<(String, String)>,
    /// The sync run it wrote, if any.
    pub run: Option<i64>,
    /// Why it failed; `None` when it succeeded.
    pub error: Option<String>,
    /// When the account's next job is due (nanoseconds since the epoch).
    pub next_due_at: i64,
}

/// An account a worker keeps synced, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledAccount {
    /// Its name in the accounts file.
    pub name: String,
    /// `partoo` or `bird`.
    pub provider: String,
    /// Its identity at the provider, once a job resolved it.
    pub identity: Option<String>,
    /// When its next job is due (nanoseconds since the epoch); `None` before the first.
    pub next_due_at: Option<i64>,
    /// Jobs failed in a row (0 after a success).
    pub failures: u64,
    /// Jobs finished, every outcome.
    pub jobs: u64,
    /// When its last job started.
    pub last_started_at: Option<i64>,
    /// When its last job finished.
    pub last_finished_at: Option<i64>,
    /// When a job of it last succeeded.
    pub last_success_at: Option<i64>,
    /// The last failure (kept after a later success; then `failures` is 0).
    pub last_error: Option<String>,
    /// The sync run its last job wrote.
    pub last_run: Option<i64>,
    /// The worker running its job now (or, when that worker died, the one that was).
    pub running_on: Option<String>,
}

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Store {
    /// Records a worker process as started (again, if its id was seen before).
    pub async fn register_worker(&self, worker: &WorkerInfo) -> Result<(), StoreError> {
        let at = now();
        sqlx::query(
            "INSERT INTO workers (id, host, pid, queue, concurrency, started_at, heartbeat_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (id) DO UPDATE SET host = $2, pid = $3, queue = $4, concurrency = $5, \
             started_at = $6, heartbeat_at = $6, stopped_at = NULL",
        )
        .bind(&worker.id)
        .bind(&worker.host)
        .bind(i64::from(worker.pid))
        .bind(&worker.queue)
        .bind(i64::try_from(worker.concurrency).unwrap_or(i64::MAX))
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(|e| self.err("registering a worker", e))?;
        Ok(())
    }

    /// Records that worker `id` is alive now.
    pub async fn worker_heartbeat(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE workers SET heartbeat_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(|e| self.err("recording a worker heartbeat", e))?;
        Ok(())
    }

    /// Records that worker `id` stopped cleanly: the accounts it was running are running
    /// nowhere (their jobs went back to the queue).
    pub async fn worker_stopped(&self, id: &str) -> Result<(), StoreError> {
        let at = now();
        let mut tx = self
            .begin_write()
            .await
            .map_err(|e| self.err("recording a worker's stop", e))?;
        sqlx::query("UPDATE workers SET stopped_at = $2, heartbeat_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err("recording a worker's stop", e))?;
        sqlx::query("UPDATE scheduled_accounts SET running_on = NULL WHERE running_on = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err("recording a worker's stop", e))?;
        tx.commit()
            .await
            .map_err(|e| self.err("recording a worker's stop", e))
    }

    /// Records the accounts (name, provider) a worker keeps synced; those seen for the first
    /// time are due now. Those already recorded keep their plan.
    pub async fn schedule_accounts(&self, accounts: &[(&str, &str)]) -> Result<(), StoreError> {
        let at = now();
        let mut tx = self
            .begin_write()
            .await
            .map_err(|e| self.err("recording the accounts to sync", e))?;
        for (name, provider) in accounts {
            sqlx::query(
                "INSERT INTO scheduled_accounts (name, provider, next_due_at, created_at) \
                 VALUES ($1, $2, $3, $3) \
                 ON CONFLICT (name) DO UPDATE SET provider = $2",
            )
            .bind(*name)
            .bind(*provider)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err("recording the accounts to sync", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| self.err("recording the accounts to sync", e))
    }

    /// Records that worker `worker` started a job of account `name`.
    pub async fn job_started(&self, name: &str, worker: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE scheduled_accounts SET last_started_at = $2, running_on = $3 WHERE name = $1",
        )
        .bind(name)
        .bind(now())
        .bind(worker)
        .execute(&self.pool)
        .await
        .map_err(|e| self.err("recording a job's start", e))?;
        Ok(())
    }

    /// Records how a job of account `name` by worker `worker` ended, and when the next is
    /// due, in one transaction.
    pub async fn job_finished(
        &self,
        name: &str,
        worker: &str,
        end: &JobEnd,
    ) -> Result<(), StoreError> {
        let at = now();
        let failed = end.error.is_some();
        let mut tx = self
            .begin_write()
            .await
            .map_err(|e| self.err("recording a job's end", e))?;
        let account_id: Option<i64> = match &end.account {
            Some((provider, identity)) => {
                sqlx::query("SELECT id FROM accounts WHERE provider = $1 AND identity = $2")
                    .bind(provider)
                    .bind(identity)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| self.err("recording a job's end", e))?
                    .map(|row| row.try_get(0))
                    .transpose()
                    .map_err(|e| self.err("recording a job's end", e))?
            }
            None => None,
        };
        sqlx::query(
            "UPDATE scheduled_accounts SET \
             account_id = COALESCE($2, account_id), \
             next_due_at = $3, \
             failures = CASE WHEN $4 = 1 THEN failures + 1 ELSE 0 END, \
             jobs = jobs + 1, \
             last_finished_at = $5, \
             last_success_at = CASE WHEN $4 = 1 THEN last_success_at ELSE $5 END, \
             last_error = COALESCE($6, last_error), \
             last_run_id = COALESCE($7, last_run_id), \
             running_on = CASE WHEN running_on = $8 THEN NULL ELSE running_on END \
             WHERE name = $1",
        )
        .bind(name)
        .bind(account_id)
        .bind(end.next_due_at)
        .bind(i64::from(failed))
        .bind(at)
        .bind(end.error.as_deref())
        .bind(end.run)
        .bind(worker)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.err("recording a job's end", e))?;
        sqlx::query(
            "UPDATE workers SET heartbeat_at = $2, \
             jobs_done = jobs_done + (1 - $3), jobs_failed = jobs_failed + $3 WHERE id = $1",
        )
        .bind(worker)
        .bind(at)
        .bind(i64::from(failed))
        .execute(&mut *tx)
        .await
        .map_err(|e| self.err("recording a job's end", e))?;
        tx.commit()
            .await
            .map_err(|e| self.err("recording a job's end", e))
    }

    /// The accounts workers keep synced, by name.
    pub async fn scheduled_accounts(&self) -> Result<Vec<ScheduledAccount>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.name, s.provider, a.identity, s.next_due_at, s.failures, s.jobs, \
             s.last_started_at, s.last_finished_at, s.last_success_at, s.last_error, \
             s.last_run_id, s.running_on \
             FROM scheduled_accounts s LEFT JOIN accounts a ON a.id = s.account_id \
             ORDER BY s.name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err("reading the scheduled accounts", e))?;
        rows.iter()
            .map(|row| {
                let damaged = |e: sqlx::Error| StoreError::Damaged {
                    what: "scheduled account row".into(),
                    reason: e.to_string(),
                };
                Ok(ScheduledAccount {
                    name: row.try_get(0).map_err(damaged)?,
                    provider: row.try_get(1).map_err(damaged)?,
                    identity: row.try_get(2).map_err(damaged)?,
                    next_due_at: row.try_get(3).map_err(damaged)?,
                    failures: count(row.try_get(4).map_err(damaged)?),
                    jobs: count(row.try_get(5).map_err(damaged)?),
                    last_started_at: row.try_get(6).map_err(damaged)?,
                    last_finished_at: row.try_get(7).map_err(damaged)?,
                    last_success_at: row.try_get(8).map_err(damaged)?,
                    last_error: row.try_get(9).map_err(damaged)?,
                    last_run: row.try_get(10).map_err(damaged)?,
                    running_on: row.try_get(11).map_err(damaged)?,
                })
            })
            .collect()
    }

    /// The worker processes recorded, newest start first.
    pub async fn workers(&self) -> Result<Vec<WorkerRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, host, pid, queue, concurrency, started_at, heartbeat_at, stopped_at, \
             jobs_done, jobs_failed FROM workers ORDER BY started_at DESC, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err("reading the workers", e))?;
        rows.iter()
            .map(|row| {
                let damaged = |e: sqlx::Error| StoreError::Damaged {
                    what: "worker row".into(),
                    reason: e.to_string(),
                };
                let pid: i64 = row.try_get(2).map_err(damaged)?;
                let concurrency: i64 = row.try_get(4).map_err(damaged)?;
                Ok(WorkerRecord {
                    info: WorkerInfo {
                        id: row.try_get(0).map_err(damaged)?,
                        host: row.try_get(1).map_err(damaged)?,
                        pid: u32::try_from(pid).unwrap_or(0),
                        queue: row.try_get(3).map_err(damaged)?,
                        concurrency: usize::try_from(concurrency).unwrap_or(0),
                    },
                    started_at: row.try_get(5).map_err(damaged)?,
                    heartbeat_at: row.try_get(6).map_err(damaged)?,
                    stopped_at: row.try_get(7).map_err(damaged)?,
                    jobs_done: count(row.try_get(8).map_err(damaged)?),
                    jobs_failed: count(row.try_get(9).map_err(damaged)?),
                })
            })
            .collect()
    }
}
