//! The in-process scheduler: the queue of one worker process on one machine, for an SQLite
//! store. Each account is due at one instant; at most `concurrency` jobs run at once, an
//! account's never two at a time; the plan starts from what the store recorded (so a
//! restart keeps it) and follows the same policy as the PostgreSQL queue.

use std::collections::HashSet;
use std::fs::{File, TryLockError};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::WorkerError;
use crate::job::{Outcome, Shared, nanos_from_now};

/// Takes the lock file at `path`, or says another worker holds it.
pub(crate) fn lock(path: &Path) -> Result<File, WorkerError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| {
            WorkerError::Queue(format!("cannot open the lock file {}: {e}", path.display()))
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(WorkerError::Busy(path.to_owned())),
        Err(TryLockError::Error(e)) => Err(WorkerError::Queue(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// One account's place in the plan.
struct Planned {
    due: Instant,
    /// Failures in a row.
    attempts: u32,
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    let max_attempts = u32::from(shared.options.max_attempts);
    let recorded = shared.store.scheduled_accounts().await?;
    let now = Instant::now();
    let now_nanos = nanos_from_now(Duration::ZERO);
    let mut plan: Vec<Planned> = shared
        .accounts
        .iter()
        .map(|account| {
            let row = recorded.iter().find(|r| r.name == account.name);
            let wait = row
                .and_then(|r| r.next_due_at)
                .map_or(0, |due| due.saturating_sub(now_nanos).max(0));
            let attempts = row.map_or(0, |r| u32::try_from(r.failures).unwrap_or(u32::MAX));
            Planned {
                due: now + Duration::from_nanos(u64::try_from(wait).unwrap_or(0)),
                attempts: if attempts >= max_attempts {
                    0
                } else {
                    attempts
                },
            }
        })
        .collect();
    let mut running: JoinSet<(usize, Outcome)> = JoinSet::new();
    let mut active: HashSet<usize> = HashSet::new();
    let shutdown = shutdown;
    tokio::pin!(shutdown);
    loop {
        let next = plan
            .iter()
            .enumerate()
            .filter(|(i, _)| !active.contains(i))
            .min_by_key(|(_, p)| p.due)
            .map(|(i, p)| (i, p.due));
        let free = running.len() < shared.options.concurrency;
        let (index, due) = next.unwrap_or((usize::MAX, Instant::now() + Duration::from_secs(3600)));
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(joined) = running.join_next(), if !running.is_empty() => {
                let (i, outcome) = match joined {
                    Ok(done) => done,
                    // A job that panicked: not expected; its account is tried again later.
                    Err(e) => {
                        tracing::error!(error = %e, "a sync job panicked");
                        continue;
                    }
                };
                active.remove(&i);
                let Some(planned) = plan.get_mut(i) else { continue };
                match outcome {
                    Outcome::Done => {
                        planned.attempts = 0;
                        planned.due = Instant::now() + shared.options.every;
                    }
                    Outcome::Failed(_) => {
                        planned.attempts += 1;
                        if planned.attempts >= max_attempts {
                            planned.attempts = 0;
                            planned.due = Instant::now() + shared.options.every;
                        } else {
                            planned.due = Instant::now() + crate::retry_delay(planned.attempts);
                        }
                    }
                }
            }
            () = tokio::time::sleep_until(due), if free && index != usize::MAX => {
                let Some(planned) = plan.get(index) else { continue };
                let attempt = planned.attempts + 1;
                active.insert(index);
                let job = Arc::clone(&shared);
                running.spawn(async move {
                    let name = job.accounts.get(index).map(|a| a.name.clone()).unwrap_or_default();
                    (index, job.run_job(&name, attempt, max_attempts).await)
                });
            }
        }
    }
    // Shutdown: what runs may finish within the grace period; the rest is dropped (every
    // page already committed stays, the account resumes from its checkpoints).
    let grace = shared.options.grace_period;
    let drained = tokio::time::timeout(grace, async {
        while running.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::info!(jobs = running.len(), "handing back the jobs still running");
        running.shutdown().await;
    }
    Ok(())
}
