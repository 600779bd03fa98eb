//! The mirror's commands: `sync`, `export`, `search`, and the `demo` built on them.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use inbox::store::{MessageQuery, OpenOptions, Store, StoreError, StoredMessage, SyncReport};
use inbox::{Provider, SyncOptions, Target, Timestamp};
use inbox_emulator::{Config as EmulatorConfig, Dataset, Emulator};

use crate::Outcome;
use crate::args::{
    Connection, DbArgs, DemoArgs, ExportArgs, ExportFormat, Format, ProviderArg, SearchArgs,
    SearchFormat, SyncArgs,
};
use crate::{Sources, Wanted, nothing_fetched, output, progress, selected, sources};

/// Opens the store `db` names; a store that cannot be used is a configuration error (exit 2).
async fn open(db: &DbArgs) -> Result<Store, Outcome> {
    let options = OpenOptions::default().lock_timeout(db.lock_timeout);
    Store::open_with(&db.db, options)
        .await
        .map_err(|e| Outcome::Usage(e.to_string()))
}

/// A failure of the store after it opened: the command failed (exit 4).
fn failed(e: StoreError) -> Outcome {
    Outcome::Failed(e.to_string())
}

pub(crate) async fn sync(args: &SyncArgs) -> Outcome {
    let concurrency = usize::from(args.concurrency);
    let chosen = match &args.accounts {
        Some(path) => crate::accounts::load(path, concurrency, true).map(|accounts| {
            let sources = Sources {
                inbox: accounts.inbox,
                urls: accounts.urls,
            };
            (accounts.targets, sources)
        }),
        None => {
            selected(&args.connection, &args.selection, "sync").and_then(|(targets, wanted)| {
                sources(&args.connection, wanted, concurrency, true).map(|s| (targets, s))
            })
        }
    };
    let (targets, sources) = match chosen {
        Ok(chosen) => chosen,
        Err(message) => return Outcome::Usage(message),
    };
    let store = match open(&args.db).await {
        Ok(store) => store,
        Err(outcome) => return outcome,
    };
    let options = SyncOptions::default().full(args.full).overlap(args.overlap);
    let outcome = run_sync(&store, sources, targets, &options, args.quiet, true).await;
    store.close().await;
    match outcome {
        Ok((report, _)) => verdict(&report),
        Err(outcome) => outcome,
    }
}

/// What a sync ends in: 0 when everything was read, 3 when nothing could be, 1 otherwise.
fn verdict(report: &SyncReport) -> Outcome {
    if report.failures.is_empty() {
        Outcome::Done
    } else {
        Outcome::Partial
    }
}

/// Syncs `targets` into `store` with a progress bar; prints the failures (or, when nothing
/// could be read at all, one line naming each source) and, unless quiet, a summary on
/// stderr.
async fn run_sync(
    store: &Store,
    sources: Sources,
    targets: Vec<Target>,
    options: &SyncOptions,
    quiet: bool,
    summarize: bool,
) -> Result<(SyncReport, Duration), Outcome> {
    let bar = Arc::new(progress::Bar::new(quiet));
    let on_progress = bar.clone();
    let inbox = sources
        .inbox
        .on_progress(move |p| on_progress.update(p))
        .build()
        .map_err(|e| Outcome::Usage(e.to_string()))?;
    let started = Instant::now();
    bar.phase("listing…");
    let report = store.sync(&inbox, targets, options).await.map_err(failed)?;
    let took = started.elapsed();
    bar.finish();
    let total = report.total();
    let read_nothing = report.accounts.is_empty()
        || (total.listed == 0 && total.new + total.updated + total.unchanged == 0);
    if !report.failures.is_empty() && read_nothing {
        return Err(Outcome::NothingFetched(nothing_fetched(
            &report.failures,
            &sources.urls,
        )));
    }
    for failure in &report.failures {
        eprintln!("inbox: {failure}");
    }
    if summarize && !quiet {
        let mut err = io::stderr().lock();
        let _ = summary(&mut err, store.location(), &report, took);
    }
    Ok((report, took))
}

/// The summary of a sync.
fn summary(
    out: &mut impl Write,
    location: &str,
    report: &SyncReport,
    took: Duration,
) -> io::Result<()> {
    let t = report.total();
    writeln!(
        out,
        "synced into {location}: conversations {} listed, {} read, {} skipped (unchanged), {} vanished",
        t.listed, t.changed, t.skipped, t.vanished
    )?;
    writeln!(
        out,
        "messages: {} new, {} updated, {} unchanged{}",
        t.new,
        t.updated,
        t.unchanged,
        if t.rejected > 0 {
            format!("; {} kept raw (did not decode)", t.rejected)
        } else {
            String::new()
        }
    )?;
    if !report.failures.is_empty() {
        writeln!(
            out,
            "not read to the end: {} (the next sync reads them again)",
            report.failures.len()
        )?;
    }
    writeln!(
        out,
        "requests: {}, time: {:.2}s",
        t.requests,
        took.as_secs_f64()
    )
}

pub(crate) async fn export(args: &ExportArgs) -> Outcome {
    let store = match open(&args.db).await {
        Ok(store) => store,
        Err(outcome) => return outcome,
    };
    let mut query = MessageQuery::new();
    if let Some(t) = args.since {
        query = query.since(t);
    }
    if let Some(t) = args.until {
        query = query.until(t);
    }
    if let Some(p) = args.provider {
        query = query.provider(provider_name(p));
    }
    if let Some(c) = &args.conversation {
        query = query.conversation(c.clone());
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = write_messages(&store, query, args.format, &mut out).await;
    store.close().await;
    match written {
        Ok(()) => Outcome::of_write(out.flush(), Outcome::Done),
        Err(Written::Io(e)) => Outcome::of_write(Err(e), Outcome::Done),
        Err(Written::Store(e)) => failed(e),
    }
}

fn provider_name(p: ProviderArg) -> &'static str {
    match p {
        ProviderArg::Partoo => "partoo",
        ProviderArg::Bird => "bird",
    }
}

/// Why writing messages out stopped.
enum Written {
    Io(io::Error),
    Store(StoreError),
}

impl From<io::Error> for Written {
    fn from(e: io::Error) -> Self {
        Written::Io(e)
    }
}

/// Streams the messages of `query` to `out` in `format`: one at a time, memory flat.
async fn write_messages(
    store: &Store,
    query: MessageQuery,
    format: ExportFormat,
    out: &mut impl Write,
) -> Result<(), Written> {
    let messages = store.messages(query);
    futures_util::pin_mut!(messages);
    if format == ExportFormat::Csv {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(CSV_HEADER).map_err(csv_error)?;
        while let Some(message) = messages.try_next().await.map_err(Written::Store)? {
            csv.write_record(csv_row(&message)).map_err(csv_error)?;
        }
        return csv.flush().map_err(Written::Io);
    }
    if format == ExportFormat::Json {
        out.write_all(b"[")?;
    }
    let mut first = true;
    while let Some(message) = messages.try_next().await.map_err(Written::Store)? {
        if format == ExportFormat::Json {
            if !first {
                out.write_all(b",")?;
            }
            out.write_all(b"\n  ")?;
            out.write_all(message.json.as_bytes())?;
        } else {
            output::one_line(out, message.json.as_bytes())?;
        }
        first = false;
    }
    if format == ExportFormat::Json {
        out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
    }
    Ok(())
}

const CSV_HEADER: [&str; 11] = [
    "provider",
    "account",
    "id",
    "conversation_id",
    "timestamp",
    "direction",
    "role",
    "status",
    "kind",
    "text",
    "revision",
];

fn csv_row(m: &StoredMessage) -> [String; 11] {
    [
        m.provider.clone(),
        m.account.clone(),
        m.id.clone(),
        m.conversation_id.clone(),
        m.timestamp()
            .map(|t| t.to_rfc3339_utc())
            .unwrap_or_default(),
        m.direction.clone(),
        m.role.clone(),
        m.status.clone(),
        m.kind.clone(),
        m.text.clone(),
        m.revision.to_string(),
    ]
}

fn csv_error(e: csv::Error) -> Written {
    Written::Io(io::Error::other(e))
}

pub(crate) async fn search(args: &SearchArgs) -> Outcome {
    let store = match open(&args.db).await {
        Ok(store) => store,
        Err(outcome) => return outcome,
    };
    let text = args.query.join(" ");
    let hits = store.search(&text, args.limit as usize).await;
    store.close().await;
    let hits = match hits {
        Ok(hits) => hits,
        Err(e) => return failed(e),
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = match args.format {
        SearchFormat::Jsonl => hits
            .iter()
            .try_for_each(|hit| output::one_line(&mut out, hit.message.json.as_bytes())),
        SearchFormat::Table => {
            let messages: Vec<&StoredMessage> = hits.iter().map(|h| &h.message).collect();
            output::stored_table(&mut out, &messages)
        }
    };
    Outcome::of_write(written.and_then(|()| out.flush()), Outcome::Done)
}

/// A database for the demo: the one given, or a new one in the temporary folder (removed,
/// with its WAL files, when dropped).
struct DemoDb {
    location: String,
    remove: Option<std::path::PathBuf>,
}

impl Drop for DemoDb {
    fn drop(&mut self) {
        if let Some(path) = &self.remove {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
        }
    }
}

pub(crate) async fn demo(args: &DemoArgs) -> Outcome {
    let conversations = args.conversations as usize;
    let config = EmulatorConfig {
        seed: args.seed,
        dataset: Dataset::Synthetic {
            partoo_conversations: conversations,
            bird_conversations: conversations,
            messages_per_conversation: 3..=40,
        },
        latency: Duration::from_millis(args.latency_ms),
        ..EmulatorConfig::default()
    };
    let emulator = match Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(e) => return Outcome::Failed(format!("cannot start the emulator: {e}")),
    };
    let db = match &args.db {
        Some(db) => DemoDb {
            location: db.clone(),
            remove: None,
        },
        None => {
            let path = std::env::temp_dir().join(format!("inbox-demo-{}.db", std::process::id()));
            DemoDb {
                location: path.display().to_string(),
                remove: Some(path),
            }
        }
    };
    let store = match Store::open(&db.location).await {
        Ok(store) => store,
        Err(e) => return Outcome::Usage(e.to_string()),
    };
    let outcome = demo_on(args, &emulator, &store).await;
    store.close().await;
    emulator.shutdown().await;
    drop(db);
    outcome
}

async fn demo_on(args: &DemoArgs, emulator: &Emulator, store: &Store) -> Outcome {
    let cfg = emulator.config();
    let connection = Connection {
        partoo_key: Some(cfg.partoo_key.clone()),
        partoo_url: Some(emulator.partoo_base_url()),
        bird_key: Some(cfg.bird_key.clone()),
        bird_workspace: Some(cfg.bird_workspace.clone()),
        bird_url: Some(emulator.bird_base_url()),
        ..Connection::default()
    };
    let wanted = Wanted {
        partoo: true,
        bird: true,
    };
    let quiet = args.output.quiet;
    let concurrency = usize::from(args.output.concurrency);
    // The emulator has no rate limit to keep to.
    let build = || sources(&connection, wanted, concurrency, false).map_err(Outcome::Failed);
    let everything = || vec![Target::all("partoo"), Target::all("bird")];
    if !quiet {
        eprintln!(
            "inbox: demo on the built-in emulator (Partoo at {}, Bird at {}), mirrored into {}",
            emulator.partoo_base_url(),
            emulator.bird_base_url(),
            store.location()
        );
    }
    let options = SyncOptions::default();
    let table = args.output.format == Format::Table;
    let first = match build() {
        Ok(sources) => run_sync(store, sources, everything(), &options, quiet, !table).await,
        Err(outcome) => return outcome,
    };
    let (first, took) = match first {
        Ok(done) => done,
        Err(outcome) => return outcome,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if table {
        let shown = show_mirror(store, &mut out, &first, took).await;
        if let Err(outcome) = shown {
            return outcome;
        }
    }
    // Time passes at the providers: new messages, statuses moving on.
    let activity = emulator.simulate_activity(args.seed, 3);
    if !quiet {
        eprintln!(
            "inbox: the emulator received {} new messages and {} status changes in {} conversations; syncing again",
            activity.partoo_added.len() + activity.bird_added.len(),
            activity.partoo_changed.len() + activity.bird_changed.len(),
            activity.partoo_conversations.len() + activity.bird_conversations.len()
        );
    }
    let second_started = now();
    let second = match build() {
        Ok(sources) => run_sync(store, sources, everything(), &options, quiet, !table).await,
        Err(outcome) => return outcome,
    };
    let second = match second {
        Ok((report, _)) => report,
        Err(outcome) => return outcome,
    };
    let written = if table {
        let t = second.total();
        let header = writeln!(
            out,
            "\nsecond sync: {} conversations read (the changed ones), {} skipped; {} new messages, {} updated; {} requests",
            t.changed, t.skipped, t.new, t.updated, t.requests
        )
        .map_err(Written::Io);
        match header {
            Ok(()) => {
                let mut query = MessageQuery::new();
                if let Some(t) = second_started {
                    query = query.changed_since(t);
                }
                write_stored_table(store, query, &mut out).await
            }
            Err(e) => Err(e),
        }
    } else {
        let format = match args.output.format {
            Format::Json => ExportFormat::Json,
            _ => ExportFormat::Jsonl,
        };
        write_messages(store, MessageQuery::new(), format, &mut out).await
    };
    let written = match written {
        Ok(()) => out.flush(),
        Err(Written::Io(e)) => Err(e),
        Err(Written::Store(e)) => return failed(e),
    };
    let outcome = match (verdict(&first), verdict(&second)) {
        (Outcome::Done, Outcome::Done) => Outcome::Done,
        _ => Outcome::Partial,
    };
    Outcome::of_write(written, outcome)
}

/// The mirror as a timeline table, then the summary of what it holds.
async fn show_mirror(
    store: &Store,
    out: &mut impl Write,
    report: &SyncReport,
    took: Duration,
) -> Result<(), Outcome> {
    let written = write_stored_table(store, MessageQuery::new(), out).await;
    let written = match written {
        Ok(()) => {
            let mut tally = output::Tally::default();
            let counted = count(store, &mut tally).await;
            match counted {
                Ok(()) => {
                    let t = report.total();
                    let run = output::Run {
                        conversations_total: t.listed as usize,
                        conversations_failed: report.failures.len(),
                        requests: t.requests as usize,
                    };
                    tally
                        .summary(out, &run, report.failures.len(), took)
                        .map_err(Written::Io)
                }
                Err(e) => Err(Written::Store(e)),
            }
        }
        Err(e) => Err(e),
    };
    match written {
        Ok(()) => Ok(()),
        Err(Written::Io(e)) => match Outcome::of_write(Err(e), Outcome::Done) {
            Outcome::Done => Ok(()),
            other => Err(other),
        },
        Err(Written::Store(e)) => Err(failed(e)),
    }
}

async fn count(store: &Store, tally: &mut output::Tally) -> Result<(), StoreError> {
    let messages = store.messages(MessageQuery::new());
    futures_util::pin_mut!(messages);
    while let Some(m) = messages.try_next().await? {
        let provider = if m.provider == "partoo" {
            Provider::Partoo
        } else {
            Provider::Bird
        };
        tally.add_parts(provider, &m.kind);
    }
    Ok(())
}

/// The messages of `query` as a table, streamed.
async fn write_stored_table(
    store: &Store,
    query: MessageQuery,
    out: &mut impl Write,
) -> Result<(), Written> {
    output::stored_table_header(out)?;
    let messages = store.messages(query);
    futures_util::pin_mut!(messages);
    while let Some(m) = messages.try_next().await.map_err(Written::Store)? {
        output::stored_row(out, &m)?;
    }
    Ok(())
}

/// Now, as a timestamp.
fn now() -> Option<Timestamp> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Timestamp::from_unix_nanos(i128::try_from(since.as_nanos()).ok()?)
}
