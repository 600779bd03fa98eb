//! `inbox`: customer conversations from Partoo and Bird as one timeline, from the terminal.
//!
//! `inbox demo` runs the main job on a built-in emulator (no credentials); `inbox fetch` and
//! `inbox conversations` do the same against the real APIs; `inbox normalize` converts
//! provider JSON offline; `inbox emulator` serves both APIs locally. `inbox help` and
//! `--help` on every command tell the rest.

mod accounts;
mod args;
mod emulator;
mod mirror;
mod normalize;
mod output;
mod progress;
mod send;
mod serve;
mod worker;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use futures_util::StreamExt;
use inbox::{
    BirdSource, ConversationId, Failure, Inbox, InboxBuilder, PartooSource, SourceLimits, Target,
};

use crate::args::{
    Cli, Command, Connection, ConversationsArgs, FetchArgs, Format, OutputArgs, ProviderArg,
    Selection,
};

/// How a command ended: its exit code (documented in `inbox --help` and the README).
pub(crate) enum Outcome {
    /// 0: everything fetched.
    Done,
    /// 1: something was not delivered; each is named on stderr, everything else printed.
    Partial,
    /// 2: a usage or configuration error, in one line.
    Usage(String),
    /// 3: nothing could be fetched at all (every source unreachable or refusing), in one
    /// line naming each source and its URL.
    NothingFetched(String),
    /// 4: the command could not do its job for a reason of its own (the emulator did not
    /// start, the output could not be written, the database refused a write), in one line.
    Failed(String),
}

impl Outcome {
    fn code(&self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Partial => 1,
            Outcome::Usage(_) => 2,
            Outcome::NothingFetched(_) => 3,
            Outcome::Failed(_) => 4,
        }
    }

    /// The outcome of writing the output: a broken pipe (`inbox … | head`) is not a failure.
    pub(crate) fn of_write(result: io::Result<()>, otherwise: Outcome) -> Outcome {
        match result {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                Outcome::Failed(format!("cannot write the output: {e}"))
            }
            _ => otherwise,
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            eprintln!("inbox: {}", args::usage_line(&e));
            return ExitCode::from(2);
        }
        Err(e) => {
            // --help, --version: clap's own output on stdout.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let outcome = match &cli.command {
        Command::Normalize(args) => normalize::run(args),
        command => match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime.block_on(run(command)),
            Err(e) => Outcome::Failed(format!("cannot start the async runtime: {e}")),
        },
    };
    if let Outcome::Usage(message) | Outcome::NothingFetched(message) | Outcome::Failed(message) =
        &outcome
    {
        eprintln!("inbox: {message}");
    }
    ExitCode::from(outcome.code())
}

async fn run(command: &Command) -> Outcome {
    match command {
        Command::Demo(args) => mirror::demo(args).await,
        Command::Sync(args) => mirror::sync(args).await,
        Command::Export(args) => mirror::export(args).await,
        Command::Search(args) => mirror::search(args).await,
        Command::Fetch(args) => fetch(args).await,
        Command::Conversations(args) => conversations(args).await,
        Command::Emulator(args) => emulator::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Worker(args) => worker::run(args).await,
        Command::Status(args) => worker::status(args).await,
        Command::Send(args) => send::send(args).await,
        Command::Retry(args) => send::retry(args).await,
        Command::Outbox(args) => send::outbox(args).await,
        Command::Normalize(_) => Outcome::Failed("normalize runs without a runtime".into()),
    }
}

/// The sources of a command, and where each lives (for messages that must name it).
pub(crate) struct Sources {
    pub(crate) inbox: InboxBuilder,
    pub(crate) urls: BTreeMap<String, String>,
}

/// The targets a selection names, and the providers they need; a usage error when it names
/// none.
pub(crate) fn selected(
    connection: &Connection,
    selection: &Selection,
    verb: &str,
) -> Result<(Vec<Target>, Wanted), String> {
    let mut targets: Vec<Target> = Vec::new();
    targets.extend(
        selection
            .partoo_conversation
            .iter()
            .map(|id| Target::conversation("partoo", ConversationId::Partoo(*id))),
    );
    targets.extend(
        selection
            .bird_conversation
            .iter()
            .map(|id| Target::conversation("bird", ConversationId::Bird(id.into()))),
    );
    let mut wanted = Wanted {
        partoo: !selection.partoo_conversation.is_empty(),
        bird: !selection.bird_conversation.is_empty(),
    };
    if selection.all {
        let all = providers(connection, &selection.provider)?;
        wanted.partoo |= all.partoo;
        wanted.bird |= all.bird;
        if all.partoo {
            targets.push(Target::all("partoo"));
        }
        if all.bird {
            targets.push(Target::all("bird"));
        }
    }
    if targets.is_empty() {
        return Err(format!(
            "nothing to {verb}: give --partoo-conversation ID, --bird-conversation ID or --all"
        ));
    }
    Ok((targets, wanted))
}

async fn fetch(args: &FetchArgs) -> Outcome {
    let (targets, wanted) = match selected(&args.connection, &args.selection, "fetch") {
        Ok(selected) => selected,
        Err(message) => return Outcome::Usage(message),
    };
    let concurrency = usize::from(args.output.concurrency);
    let mut sources = match sources(&args.connection, wanted, concurrency, true) {
        Ok(sources) => sources,
        Err(message) => return Outcome::Usage(message),
    };
    if let Some(since) = args.since {
        sources.inbox = sources.inbox.since(since);
    }
    if args.output.format == Format::Jsonl {
        stream(sources, targets, &args.output).await
    } else {
        timeline(sources, targets, &args.output).await
    }
}

async fn conversations(args: &ConversationsArgs) -> Outcome {
    let wanted = match providers(&args.connection, &args.provider) {
        Ok(wanted) => wanted,
        Err(message) => return Outcome::Usage(message),
    };
    let sources = match sources(&args.connection, wanted, 16, true) {
        Ok(sources) => sources,
        Err(message) => return Outcome::Usage(message),
    };
    let inbox = match sources.inbox.build() {
        Ok(inbox) => inbox,
        Err(e) => return Outcome::Usage(e.to_string()),
    };
    let mut summaries = Vec::new();
    let mut failures = Vec::new();
    let mut failed_sources = Vec::new();
    for name in inbox.source_names() {
        let Ok(listing) = inbox.conversations(name).await else {
            continue;
        };
        if !listing.complete && listing.conversations.is_empty() {
            failed_sources.push(name.to_owned());
        }
        summaries.extend(listing.conversations);
        failures.extend(listing.failures);
    }
    if summaries.is_empty()
        && !failures.is_empty()
        && failed_sources.len() == inbox.source_names().len()
    {
        return Outcome::NothingFetched(nothing_fetched(&failures, &sources.urls));
    }
    for failure in &failures {
        eprintln!("inbox: {failure}");
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written =
        output::conversations(&mut out, args.format, &summaries).and_then(|()| out.flush());
    let outcome = if failures.is_empty() {
        Outcome::Done
    } else {
        Outcome::Partial
    };
    Outcome::of_write(written, outcome)
}

/// One line naming every source and what stopped it.
pub(crate) fn nothing_fetched(failures: &[Failure], urls: &BTreeMap<String, String>) -> String {
    let mut by_source: BTreeMap<&str, &Failure> = BTreeMap::new();
    for failure in failures {
        by_source.entry(failure.source.as_str()).or_insert(failure);
    }
    let parts: Vec<String> = by_source
        .into_iter()
        .map(|(source, failure)| {
            let url = urls.get(source).map_or("", String::as_str);
            let why = failure
                .error()
                .map_or_else(|| failure.to_string(), ToString::to_string);
            format!("{source} at {url}: {why}")
        })
        .collect();
    format!("nothing could be fetched: {}", parts.join("; "))
}

/// Whether a run fetched nothing at all: no message, and every conversation or listing it
/// tried failed.
fn fetched_nothing(messages: usize, failures: &[Failure], progress: &inbox::Progress) -> bool {
    messages == 0
        && !failures.is_empty()
        && progress.conversations_done == progress.conversations_failed
}

/// Fetches `targets`, prints the sorted timeline, the failures and (unless quiet) a summary.
async fn timeline(sources: Sources, targets: Vec<Target>, output: &OutputArgs) -> Outcome {
    let bar = std::sync::Arc::new(progress::Bar::new(output.quiet));
    let on_progress = bar.clone();
    let inbox = match sources
        .inbox
        .on_progress(move |p| on_progress.update(p))
        .build()
    {
        Ok(inbox) => inbox,
        Err(e) => return Outcome::Usage(e.to_string()),
    };
    let started = Instant::now();
    let timeline = match inbox.timeline(targets).await {
        Ok(timeline) => timeline,
        Err(e) => return Outcome::Usage(e.to_string()),
    };
    let took = started.elapsed();
    bar.finish();
    if fetched_nothing(
        timeline.messages.len(),
        &timeline.failures,
        &timeline.progress,
    ) {
        return Outcome::NothingFetched(nothing_fetched(&timeline.failures, &sources.urls));
    }
    for failure in &timeline.failures {
        eprintln!("inbox: {failure}");
    }
    let mut tally = output::Tally::default();
    for message in &timeline.messages {
        tally.add(message);
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut written = output::messages(&mut out, output.format, &timeline.messages);
    if written.is_ok() && !output.quiet {
        let failed = timeline.failures.len();
        written = if output.format == Format::Table {
            tally.summary(&mut out, &(&timeline.progress).into(), failed, took)
        } else {
            tally.summary(
                &mut io::stderr().lock(),
                &(&timeline.progress).into(),
                failed,
                took,
            )
        };
    }
    let outcome = if timeline.failures.is_empty() {
        Outcome::Done
    } else {
        Outcome::Partial
    };
    Outcome::of_write(written.and_then(|()| out.flush()), outcome)
}

/// Fetches `targets` and writes each message as JSON Lines the moment it arrives (memory
/// bounded by the pages in flight), failures on stderr as they happen, and (unless quiet) a
/// summary on stderr.
async fn stream(sources: Sources, targets: Vec<Target>, output: &OutputArgs) -> Outcome {
    let bar = std::sync::Arc::new(progress::Bar::new(output.quiet));
    let on_progress = bar.clone();
    let last = std::sync::Arc::new(std::sync::Mutex::new(inbox::Progress::default()));
    let seen = last.clone();
    let inbox = match sources
        .inbox
        .on_progress(move |p| {
            on_progress.update(p);
            if let Ok(mut last) = seen.lock() {
                *last = p;
            }
        })
        .build()
    {
        Ok(inbox) => inbox,
        Err(e) => return Outcome::Usage(e.to_string()),
    };
    let started = Instant::now();
    let stream = match inbox.stream(targets) {
        Ok(stream) => stream,
        Err(e) => return Outcome::Usage(e.to_string()),
    };
    futures_util::pin_mut!(stream);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut tally = output::Tally::default();
    // Failures are held back until a message arrives: a run that fetches nothing at all is
    // then told in one line instead of one per failure.
    let mut held: Vec<Failure> = Vec::new();
    let mut failed = 0;
    while let Some(item) = stream.next().await {
        match item {
            Ok(message) => {
                for failure in held.drain(..) {
                    eprintln!("inbox: {failure}");
                }
                tally.add(&message);
                if let Err(e) = output::json_line(&mut out, &message) {
                    return Outcome::of_write(Err(e), Outcome::Partial);
                }
            }
            Err(failure) => {
                failed += 1;
                if tally.messages() == 0 {
                    held.push(failure);
                } else {
                    eprintln!("inbox: {failure}");
                }
            }
        }
    }
    bar.finish();
    let progress = last.lock().map(|p| *p).unwrap_or_default();
    if fetched_nothing(tally.messages(), &held, &progress) {
        return Outcome::NothingFetched(nothing_fetched(&held, &sources.urls));
    }
    for failure in held.drain(..) {
        eprintln!("inbox: {failure}");
    }
    let mut written = out.flush();
    if written.is_ok() && !output.quiet {
        written = tally.summary(
            &mut io::stderr().lock(),
            &(&progress).into(),
            failed,
            started.elapsed(),
        );
    }
    let outcome = if failed == 0 {
        Outcome::Done
    } else {
        Outcome::Partial
    };
    Outcome::of_write(written, outcome)
}

/// Which providers a command uses.
#[derive(Clone, Copy)]
pub(crate) struct Wanted {
    pub(crate) partoo: bool,
    pub(crate) bird: bool,
}

/// The providers named with `--provider`, or else those with credentials.
pub(crate) fn providers(connection: &Connection, named: &[ProviderArg]) -> Result<Wanted, String> {
    if !named.is_empty() {
        return Ok(Wanted {
            partoo: named.contains(&ProviderArg::Partoo),
            bird: named.contains(&ProviderArg::Bird),
        });
    }
    let wanted = Wanted {
        partoo: setting(&connection.partoo_key, "PARTOO_API_KEY").is_some(),
        bird: setting(&connection.bird_key, "BIRD_ACCESS_KEY").is_some(),
    };
    if !wanted.partoo && !wanted.bird {
        return Err("no credentials: set PARTOO_API_KEY, or BIRD_ACCESS_KEY and BIRD_WORKSPACE_ID (or pass --partoo-key / --bird-key), or try `inbox demo`".into());
    }
    Ok(wanted)
}

/// A flag's value, or its environment variable's; blank counts as missing.
fn setting(flag: &Option<String>, variable: &str) -> Option<String> {
    flag.clone()
        .or_else(|| std::env::var(variable).ok())
        .filter(|v| !v.trim().is_empty())
}

fn required(flag: &Option<String>, variable: &str, option: &str) -> Result<String, String> {
    setting(flag, variable).ok_or_else(|| format!("missing {variable}: set it or pass {option}"))
}

/// A source per wanted provider (within each provider's documented rate limit when
/// `rate_limited`), or the first missing or refused setting.
pub(crate) fn sources(
    c: &Connection,
    wanted: Wanted,
    concurrency: usize,
    rate_limited: bool,
) -> Result<Sources, String> {
    let mut inbox = Inbox::builder().concurrency(concurrency);
    let mut urls = BTreeMap::new();
    if wanted.partoo {
        let key = required(&c.partoo_key, "PARTOO_API_KEY", "--partoo-key")?;
        let mut builder = if c.partoo_sandbox {
            inbox::partoo::Client::sandbox_builder(key)
        } else {
            inbox::partoo::Client::builder(key)
        };
        if let Some(url) = &c.partoo_url {
            builder = builder.base_url(url);
        }
        let client = builder.build().map_err(|e| format!("Partoo: {e}"))?;
        urls.insert("partoo".to_owned(), client.base_url().to_string());
        let rate = rate_limited.then_some(inbox::PARTOO_RATE);
        inbox = inbox.source(
            PartooSource::new(client)
                .businesses(c.partoo_business.iter().cloned())
                .limits(SourceLimits::new(concurrency, rate)),
        );
    }
    if wanted.bird {
        let key = required(&c.bird_key, "BIRD_ACCESS_KEY", "--bird-key")?;
        let workspace = required(&c.bird_workspace, "BIRD_WORKSPACE_ID", "--bird-workspace")?;
        let mut builder = inbox::bird::Client::builder(key, workspace);
        if let Some(url) = &c.bird_url {
            builder = builder.base_url(url);
        }
        let client = builder.build().map_err(|e| format!("Bird: {e}"))?;
        urls.insert("bird".to_owned(), client.base_url().to_string());
        let rate = rate_limited.then_some(inbox::BIRD_RATE);
        inbox = inbox.source(BirdSource::new(client).limits(SourceLimits::new(concurrency, rate)));
    }
    Ok(Sources { inbox, urls })
}
