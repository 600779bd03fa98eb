//! What a job is, whichever queue runs it: one account synced, its end recorded, its next
//! job planned.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use inbox_aggregator::{Inbox, Target};
use inbox_store::{JobEnd, Store};

use crate::{AccountRef, Summary, WorkerOptions, retry_delay};

/// What every job of a worker shares.
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) inbox: Inbox,
    pub(crate) accounts: Vec<AccountRef>,
    pub(crate) options: WorkerOptions,
    pub(crate) worker: String,
    pub(crate) done: AtomicU64,
    pub(crate) failed: AtomicU64,
}

/// How a job ended, for the queue.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Everything was read; the next job is due `every` from now.
    Done,
    /// Something was not; the message says what (never a key).
    Failed(String),
}

impl Shared {
    pub(crate) fn summary(&self) -> Summary {
        Summary {
            worker: self.worker.clone(),
            jobs_done: self.done.load(Ordering::Relaxed),
            jobs_failed: self.failed.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn knows(&self, name: &str) -> bool {
        self.accounts.iter().any(|a| a.name == name)
    }

    /// Runs one job of account `name`, its `attempt`-th (from 1) of at most `max_attempts`:
    /// syncs it and records how it ended and when the next job is due (`every` after a
    /// success or after the last attempt, the backoff after an earlier failure).
    pub(crate) async fn run_job(&self, name: &str, attempt: u32, max_attempts: u32) -> Outcome {
        if let Err(e) = self.store.job_started(name, &self.worker).await {
            return self.failed(format!("cannot record the job's start: {e}"));
        }
        let synced = self
            .store
            .sync(
                &self.inbox,
                vec![Target::all(name.to_owned())],
                &self.options.sync,
            )
            .await;
        let (account, run, error) = match synced {
            Ok(report) => {
                let synced = report.accounts.first();
                let account =
                    synced.map(|a| (a.account.provider.to_string(), a.account.identity.clone()));
                let error = (!report.failures.is_empty()).then(|| {
                    let mut lines: Vec<String> = report
                        .failures
                        .iter()
                        .take(3)
                        .map(ToString::to_string)
                        .collect();
                    if report.failures.len() > 3 {
                        lines.push(format!("and {} more", report.failures.len() - 3));
                    }
                    lines.join("; ")
                });
                (account, synced.map(|a| a.run), error)
            }
            Err(e) => (None, None, Some(format!("the store failed: {e}"))),
        };
        let next = match &error {
            Some(_) if attempt < max_attempts => retry_delay(attempt),
            _ => self.options.every,
        };
        let end = JobEnd {
            account,
            run,
            error: error.clone(),
            next_due_at: nanos_from_now(next),
        };
        if let Err(e) = self.store.job_finished(name, &self.worker, &end).await {
            return self.failed(format!("cannot record the job's end: {e}"));
        }
        match error {
            None => {
                self.done.fetch_add(1, Ordering::Relaxed);
                Outcome::Done
            }
            Some(error) => self.failed(error),
        }
    }

    fn failed(&self, error: String) -> Outcome {
        tracing::warn!(worker = %self.worker, %error, "a sync job failed");
        self.failed.fetch_add(1, Ordering::Relaxed);
        Outcome::Failed(error)
    }
}

/// Beats the worker's heart in the store until aborted. A beat the store refuses is
/// logged; the next one tries again.
pub(crate) async fn heartbeat(shared: std::sync::Arc<Shared>) {
    let mut every = tokio::time::interval(shared.options.heartbeat_interval());
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(error) = shared.store.worker_heartbeat(&shared.worker).await {
            tracing::warn!(worker = %shared.worker, %error, "a heartbeat was not recorded");
        }
    }
}

/// Nanoseconds since the epoch, `after` from now (as the store keeps times).
pub(crate) fn nanos_from_now(after: Duration) -> i64 {
    let at = SystemTime::now() + after;
    let nanos = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    i64::try_from(nanos).unwrap_or(i64::MAX)
}
