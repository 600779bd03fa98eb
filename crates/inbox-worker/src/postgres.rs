//! The PostgreSQL queue: graphile_worker. One job an account, keyed by its name, in a queue
//! named after it (graphile_worker runs one job of a queue at a time: an account is never
//! synced by two workers at once); dead workers swept after the heartbeat timeout.

use std::sync::Arc;
use std::time::Duration;

use graphile_worker::{
    IntoTaskHandlerResult, JobKeyMode, JobSpec, TaskHandler, WorkerContext, WorkerContextExt,
    WorkerOptions, WorkerRecoveryConfig,
};
use serde::{Deserialize, Serialize};

use crate::WorkerError;
use crate::job::{Outcome, Shared};

/// The job: sync the account of this name.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SyncAccount {
    account: String,
}

/// The worker's state, as graphile_worker hands it to each job.
#[derive(Clone)]
struct Ext(Arc<Shared>);

impl std::fmt::Debug for Ext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Ext").field(&self.0.worker).finish()
    }
}

/// The job key and queue of an account's job.
fn key(account: &str) -> String {
    format!("inbox-sync:{account}")
}

fn spec(shared: &Shared, account: &str, after: Option<Duration>, mode: JobKeyMode) -> JobSpec {
    let run_at = after
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| chrono::Utc::now() + d);
    JobSpec {
        queue_name: Some(key(account)),
        run_at,
        max_attempts: Some(i16::try_from(shared.options.max_attempts).unwrap_or(i16::MAX)),
        job_key: Some(key(account)),
        job_key_mode: Some(mode),
        ..JobSpec::default()
    }
}

impl TaskHandler for SyncAccount {
    const IDENTIFIER: &'static str = "inbox_sync_account";

    async fn run(self, ctx: WorkerContext) -> impl IntoTaskHandlerResult {
        let Some(Ext(shared)) = ctx.get_ext::<Ext>().cloned() else {
            return Err("the worker's state is missing".to_owned());
        };
        if !shared.knows(&self.account) {
            // Another worker's accounts file has it, this one's does not: leave it to
            // them (the queue tries again later, with backoff).
            return Err(format!(
                "the account {:?} is not in this worker's accounts file",
                self.account
            ));
        }
        let attempt = u32::try_from(*ctx.job().attempts()).unwrap_or(1).max(1);
        let max = u32::try_from(*ctx.job().max_attempts()).unwrap_or(1).max(1);
        let outcome = shared.run_job(&self.account, attempt, max).await;
        // The next job, `every` from now, after a success or the last attempt: this
        // job is locked, so graphile_worker takes the key off it and gives it to the
        // new one, which waits for this one's queue to be free.
        let reschedule = matches!(outcome, Outcome::Done) || attempt >= max;
        if reschedule {
            let utils = ctx.utils();
            let next = spec(
                &shared,
                &self.account,
                Some(shared.options.every),
                JobKeyMode::Replace,
            );
            let payload = SyncAccount {
                account: self.account.clone(),
            };
            if let Err(e) = utils.add_job(payload, next).await {
                return Err(format!("cannot plan the account's next job: {e}"));
            }
        }
        match outcome {
            Outcome::Done => Ok(()),
            Outcome::Failed(error) => Err(error),
        }
    }
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    url: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    let options = &shared.options;
    let timeout = options.heartbeat_timeout;
    let recovery = WorkerRecoveryConfig::default()
        .heartbeat_interval(options.heartbeat_interval())
        .sweep_interval((timeout / 4).max(Duration::from_millis(250)))
        .sweep_threshold(timeout)
        .recovery_delay(Duration::ZERO);
    let concurrency = options.concurrency;
    let worker = WorkerOptions::default()
        .database_url(url)
        .max_pg_conn(u32::try_from(concurrency + 4).unwrap_or(u32::MAX))
        .concurrency(concurrency)
        .define_job::<SyncAccount>()
        .add_extension(Ext(Arc::clone(&shared)))
        .worker_recovery(recovery)
        .listen_os_shutdown_signals(false)
        .shutdown_signal(shutdown)
        .shutdown_grace_period(options.grace_period)
        .shutdown_interrupted_job_retry_delay(Duration::ZERO)
        .init()
        .await
        .map_err(|e| WorkerError::Queue(e.to_string()))?;
    // One job an account: a new account's is due now; one already planned keeps its time.
    let utils = worker.create_utils();
    for account in &shared.accounts {
        let payload = SyncAccount {
            account: account.name.clone(),
        };
        utils
            .add_job(
                payload,
                spec(&shared, &account.name, None, JobKeyMode::PreserveRunAt),
            )
            .await
            .map_err(|e| WorkerError::Queue(format!("cannot queue {:?}: {e}", account.name)))?;
    }
    worker
        .run()
        .await
        .map_err(|e| WorkerError::Queue(e.to_string()))
}
