//! `inbox worker` (many accounts kept synced, on the queue the database offers) and
//! `inbox status` (what workers did).

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

use inbox::Timestamp;
use inbox::store::{Backend, OpenOptions, ScheduledAccount, Store, SyncOptions, WorkerRecord};
use inbox::worker::{AccountRef, Queue, Worker, WorkerError, WorkerOptions};
use serde_json::json;

use crate::Outcome;
use crate::args::{StatusArgs, StatusFormat, WorkerArgs};

pub(crate) async fn run(args: &WorkerArgs) -> Outcome {
    crate::serve::init_tracing();
    let per_account = usize::from(args.requests);
    let concurrency = usize::from(args.concurrency);
    let accounts = match crate::accounts::load(&args.accounts, per_account, true) {
        Ok(accounts) => accounts,
        Err(message) => return Outcome::Usage(message),
    };
    // Each account within its own limit; all of them together within what the worker runs.
    let inbox = match accounts
        .inbox
        .concurrency(per_account.saturating_mul(concurrency))
        .build()
    {
        Ok(inbox) => inbox,
        Err(e) => return Outcome::Usage(e.to_string()),
    };
    let options = OpenOptions::default()
        .lock_timeout(args.db.lock_timeout)
        // A long-running writer: WAL checkpoints off the commit path (SQLite).
        .checkpoint_every(Some(Duration::from_millis(250)));
    let store = match Store::open_with(&args.db.db, options).await {
        Ok(store) => store,
        Err(e) => return Outcome::Usage(e.to_string()),
    };
    let queue = match store.backend() {
        Backend::Postgres => Queue::Postgres {
            url: args.db.db.clone(),
        },
        _ => Queue::Local {
            lock: PathBuf::from(format!("{}.worker-lock", store.location())),
        },
    };
    let refs: Vec<AccountRef> = accounts
        .providers
        .iter()
        .map(|(name, provider)| AccountRef::new(name.clone(), *provider))
        .collect();
    let options = WorkerOptions::default()
        .every(args.every)
        .concurrency(concurrency)
        .heartbeat_timeout(args.heartbeat_timeout)
        .grace_period(args.grace_period)
        .max_attempts(args.max_attempts)
        .sync(SyncOptions::default().overlap(args.overlap));
    // The outbox's sender runs beside the syncs, for the accounts of this worker.
    let sender = inbox::store::Outbox::new(store.clone(), inbox.clone());
    let sending = tokio::spawn(async move { sender.run(crate::serve::shutdown()).await });
    let worker = Worker::new(store.clone(), inbox, refs, options);
    let queue_name = match &queue {
        Queue::Postgres { .. } => "the PostgreSQL job queue",
        _ => "the in-process scheduler",
    };
    eprintln!(
        "inbox worker {}: {} accounts into {}, {} at once, on {queue_name}; SIGTERM stops it",
        worker.id(),
        accounts.providers.len(),
        store.location(),
        concurrency,
    );
    let ran = worker.run(queue, crate::serve::shutdown()).await;
    // The sender stops on the same signal; a worker that stopped for another reason stops
    // it too (a send cut short is looked for before it is sent again).
    let mut sending = sending;
    let stopped = tokio::time::timeout(args.grace_period, &mut sending).await;
    if stopped.is_err() {
        sending.abort();
    }
    if let Ok(Ok(Err(error))) = stopped {
        tracing::warn!(%error, "the outbox sender failed");
    }
    store.close().await;
    match ran {
        Ok(summary) => {
            eprintln!(
                "inbox worker {} stopped: {} syncs done, {} failed (to be tried again)",
                summary.worker, summary.jobs_done, summary.jobs_failed
            );
            Outcome::Done
        }
        Err(e @ (WorkerError::Busy(_) | WorkerError::UnknownAccount(_))) => {
            Outcome::Usage(e.to_string())
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

pub(crate) async fn status(args: &StatusArgs) -> Outcome {
    let options = OpenOptions::default().lock_timeout(args.db.lock_timeout);
    let store = match Store::open_with(&args.db.db, options).await {
        Ok(store) => store,
        Err(e) => return Outcome::Usage(e.to_string()),
    };
    let read = async {
        let accounts = store.scheduled_accounts().await?;
        let workers = store.workers().await?;
        let runs = store.runs(accounts.len().max(1) * 4 + 64).await?;
        Ok::<_, inbox::store::StoreError>((accounts, workers, runs))
    };
    let read = read.await;
    store.close().await;
    let (accounts, workers, runs) = match read {
        Ok(read) => read,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let now = nanos_now();
    let stale = i64::try_from(args.heartbeat_timeout.as_nanos()).unwrap_or(i64::MAX);
    let new_messages = |run: Option<i64>| {
        run.and_then(|id| runs.iter().find(|r| r.id == id))
            .map(|r| r.counts.new)
    };
    let out = io::stdout();
    let mut out = io::BufWriter::new(out.lock());
    let written = match args.format {
        StatusFormat::Json => {
            let accounts: Vec<_> = accounts
                .iter()
                .map(|a| {
                    json!({
                        "name": a.name,
                        "provider": a.provider,
                        "identity": a.identity,
                        "last_sync_at": a.last_finished_at.map(time),
                        "last_success_at": a.last_success_at.map(time),
                        "last_started_at": a.last_started_at.map(time),
                        "next_due_at": a.next_due_at.map(time),
                        "jobs": a.jobs,
                        "failures": a.failures,
                        "last_error": a.last_error,
                        "last_run": a.last_run,
                        "last_run_new_messages": new_messages(a.last_run),
                        "running_on": a.running_on,
                    })
                })
                .collect();
            let workers: Vec<_> = workers
                .iter()
                .map(|w| {
                    json!({
                        "id": w.info.id,
                        "host": w.info.host,
                        "pid": w.info.pid,
                        "queue": w.info.queue,
                        "concurrency": w.info.concurrency,
                        "started_at": time(w.started_at),
                        "heartbeat_at": time(w.heartbeat_at),
                        "stopped_at": w.stopped_at.map(time),
                        "state": state(w, now, stale),
                        "jobs_done": w.jobs_done,
                        "jobs_failed": w.jobs_failed,
                    })
                })
                .collect();
            let doc = json!({ "accounts": accounts, "workers": workers });
            serde_json::to_writer_pretty(&mut out, &doc)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out))
        }
        StatusFormat::Table => table(&mut out, &accounts, &workers, now, stale, &new_messages),
    };
    Outcome::of_write(written.and_then(|()| out.flush()), Outcome::Done)
}

fn table(
    out: &mut impl Write,
    accounts: &[ScheduledAccount],
    workers: &[WorkerRecord],
    now: i64,
    stale: i64,
    new_messages: &dyn Fn(Option<i64>) -> Option<u64>,
) -> io::Result<()> {
    if accounts.is_empty() {
        writeln!(
            out,
            "no worker has synced into this database yet (`inbox worker --accounts FILE`)"
        )?;
    } else {
        let failing = accounts.iter().filter(|a| a.failures > 0).count();
        writeln!(out, "accounts: {} ({failing} failing)", accounts.len())?;
        let name_width = accounts
            .iter()
            .map(|a| a.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(
            out,
            "{:name_width$}  {:8}  {:20}  {:20}  {:20}  {:>8}  RUNNING ON / LAST ERROR",
            "NAME", "PROVIDER", "LAST SYNC", "LAST SUCCESS", "NEXT DUE", "FAILURES"
        )?;
        for a in accounts {
            let last = match (a.last_finished_at, new_messages(a.last_run)) {
                (Some(t), Some(new)) => format!("{} +{new}", short(t)),
                (Some(t), None) => short(t),
                (None, _) => "never".to_owned(),
            };
            let tail = match (&a.running_on, &a.last_error) {
                (Some(worker), _) => format!("running on {worker}"),
                (None, Some(error)) if a.failures > 0 => error.clone(),
                _ => String::new(),
            };
            writeln!(
                out,
                "{:name_width$}  {:8}  {:20}  {:20}  {:20}  {:>8}  {tail}",
                a.name,
                a.provider,
                last,
                a.last_success_at.map_or("never".to_owned(), short),
                a.next_due_at.map_or("-".to_owned(), short),
                a.failures,
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "workers: {}", workers.len())?;
    if !workers.is_empty() {
        writeln!(
            out,
            "{:32}  {:8}  {:20}  {:20}  {:>9}  {:>6}",
            "ID", "QUEUE", "STARTED", "LAST HEARTBEAT", "STATE", "JOBS"
        )?;
        for w in workers {
            writeln!(
                out,
                "{:32}  {:8}  {:20}  {:20}  {:>9}  {:>3}/{}",
                w.info.id,
                w.info.queue,
                short(w.started_at),
                short(w.heartbeat_at),
                state(w, now, stale),
                w.jobs_done,
                w.jobs_failed,
            )?;
        }
    }
    Ok(())
}

/// `stopped` (cleanly), `running` (a recent heartbeat) or `silent` (none for longer than
/// the timeout: dead or cut off; its jobs go to others).
fn state(worker: &WorkerRecord, now: i64, stale: i64) -> &'static str {
    if worker.stopped_at.is_some() {
        "stopped"
    } else if now.saturating_sub(worker.heartbeat_at) > stale {
        "silent"
    } else {
        "running"
    }
}

fn time(nanos: i64) -> String {
    Timestamp::from_unix_nanos(i128::from(nanos))
        .map_or_else(|| nanos.to_string(), |t| t.to_rfc3339_utc())
}

/// A time to the second, for tables.
fn short(nanos: i64) -> String {
    let t = time(nanos);
    match (t.find('.'), t.ends_with('Z')) {
        (Some(dot), true) => format!("{}Z", &t[..dot]),
        _ => t,
    }
}

fn nanos_now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}
