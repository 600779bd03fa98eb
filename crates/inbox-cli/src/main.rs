//! `inbox`: customer conversations from Partoo and Bird as one timeline, from the terminal.
//!
//! `inbox demo` runs the main job on a built-in emulator (no credentials); `inbox fetch` and
//! `inbox conversations` do the same against the real APIs; `inbox normalize` converts
//! provider JSON offline. `inbox help` and `--help` on every command tell the rest.

mod args;
mod normalize;
mod output;
mod progress;

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use inbox::{BirdSource, ConversationId, Inbox, PartooSource, SourceLimits, Target, Timeline};
use inbox_emulator::{Config as EmulatorConfig, Dataset, Emulator};

use crate::args::{
    Cli, Command, Connection, ConversationsArgs, DemoArgs, FetchArgs, Format, OutputArgs,
    ProviderArg,
};

/// How a command ended: its exit code.
pub(crate) enum Outcome {
    /// 0: everything fetched.
    Done,
    /// 1: something was not delivered; each is named on stderr.
    Partial,
    /// 2: a usage or configuration error, in one line.
    Usage(String),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            eprintln!("inbox: {}", usage_line(&e));
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
            Err(e) => Outcome::Usage(format!("cannot start the async runtime: {e}")),
        },
    };
    match outcome {
        Outcome::Done => ExitCode::SUCCESS,
        Outcome::Partial => ExitCode::from(1),
        Outcome::Usage(message) => {
            eprintln!("inbox: {message}");
            ExitCode::from(2)
        }
    }
}

/// A command-line error as one line: clap's message without its `error: ` and without the
/// usage and `--help` hint that follow, its indented continuation lines (e.g. the missing
/// arguments) joined on, and clap's suggestions (`tip: …`) appended after `; `.
fn usage_line(e: &clap::Error) -> String {
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // A bare `inbox`: clap would print the whole help, to stderr.
        let commands: Vec<String> = <Cli as clap::CommandFactory>::command()
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        return format!(
            "a command is required: {}; tip: `inbox --help` tells more",
            commands.join(", ")
        );
    }
    let rendered = e.render().to_string();
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or_default();
    let mut line = first
        .strip_prefix("error: ")
        .unwrap_or(first)
        .trim()
        .to_owned();
    let mut continued = Vec::new();
    for next in lines.by_ref() {
        if next.trim().is_empty() {
            break;
        }
        continued.push(next.trim());
    }
    if !continued.is_empty() {
        line.push(' ');
        line.push_str(&continued.join(", "));
    }
    for tip in lines.map(str::trim).filter(|l| l.starts_with("tip:")) {
        line.push_str("; ");
        line.push_str(tip);
    }
    line
}

async fn run(command: &Command) -> Outcome {
    match command {
        Command::Demo(args) => demo(args).await,
        Command::Fetch(args) => fetch(args).await,
        Command::Conversations(args) => conversations(args).await,
        Command::Normalize(_) => Outcome::Usage("normalize runs without a runtime".into()),
    }
}

async fn demo(args: &DemoArgs) -> Outcome {
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
        Err(e) => return Outcome::Usage(format!("cannot start the emulator: {e}")),
    };
    let cfg = emulator.config();
    let partoo = inbox::partoo::Client::builder(cfg.partoo_key.as_str())
        .base_url(&emulator.partoo_base_url())
        .build();
    let bird = inbox::bird::Client::builder(cfg.bird_key.as_str(), cfg.bird_workspace.as_str())
        .base_url(&emulator.bird_base_url())
        .build();
    let (partoo, bird) = match (partoo, bird) {
        (Ok(p), Ok(b)) => (p, b),
        (Err(e), _) => return Outcome::Usage(e.to_string()),
        (_, Err(e)) => return Outcome::Usage(e.to_string()),
    };
    // The emulator has no rate limit to keep to.
    let local = SourceLimits {
        max_in_flight: usize::from(args.output.concurrency),
        rate: None,
    };
    let inbox = Inbox::builder()
        .source(PartooSource::new(partoo).limits(local))
        .source(BirdSource::new(bird).limits(local));
    if !args.output.quiet {
        eprintln!(
            "inbox: demo on the built-in emulator: Partoo at {}, Bird at {}",
            emulator.partoo_base_url(),
            emulator.bird_base_url()
        );
    }
    let outcome = timeline(
        inbox,
        vec![Target::all("partoo"), Target::all("bird")],
        &args.output,
    )
    .await;
    emulator.shutdown().await;
    outcome
}

async fn fetch(args: &FetchArgs) -> Outcome {
    let mut targets: Vec<Target> = Vec::new();
    targets.extend(
        args.partoo_conversation
            .iter()
            .map(|id| Target::conversation("partoo", ConversationId::Partoo(*id))),
    );
    targets.extend(
        args.bird_conversation
            .iter()
            .map(|id| Target::conversation("bird", ConversationId::Bird(id.clone()))),
    );
    let mut wanted = Wanted {
        partoo: !args.partoo_conversation.is_empty(),
        bird: !args.bird_conversation.is_empty(),
    };
    if args.all {
        let all = providers(&args.connection, &args.provider);
        let all = match all {
            Ok(all) => all,
            Err(message) => return Outcome::Usage(message),
        };
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
        return Outcome::Usage(
            "nothing to fetch: give --partoo-conversation ID, --bird-conversation ID or --all"
                .into(),
        );
    }
    let mut inbox = match sources(
        &args.connection,
        wanted,
        usize::from(args.output.concurrency),
    ) {
        Ok(inbox) => inbox,
        Err(message) => return Outcome::Usage(message),
    };
    if let Some(since) = args.since {
        inbox = inbox.since(since);
    }
    timeline(inbox, targets, &args.output).await
}

async fn conversations(args: &ConversationsArgs) -> Outcome {
    let wanted = match providers(&args.connection, &args.provider) {
        Ok(wanted) => wanted,
        Err(message) => return Outcome::Usage(message),
    };
    let inbox = match sources(&args.connection, wanted, 16) {
        Ok(inbox) => inbox.build(),
        Err(message) => return Outcome::Usage(message),
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut outcome = Outcome::Done;
    let mut rows = Vec::new();
    for name in inbox.source_names() {
        match inbox.conversations(name).await {
            Ok(ids) => rows.extend(ids.into_iter().map(|id| (name.to_owned(), id))),
            Err(failure) => {
                eprintln!("inbox: {failure}");
                outcome = Outcome::Partial;
            }
        }
    }
    let written = (|| -> io::Result<()> {
        match args.format {
            Format::Table => {
                writeln!(out, "{:<8}  CONVERSATION", "PROVIDER")?;
                for (provider, id) in &rows {
                    writeln!(out, "{provider:<8}  {}", output::cell(&id.to_string()))?;
                }
            }
            Format::Json | Format::Jsonl => {
                let objects: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|(provider, id)| serde_json::json!({"provider": provider, "id": id.to_string()}))
                    .collect();
                if args.format == Format::Json {
                    serde_json::to_writer_pretty(&mut out, &objects)?;
                    writeln!(out)?;
                } else {
                    for object in &objects {
                        serde_json::to_writer(&mut out, object)?;
                        writeln!(out)?;
                    }
                }
            }
        }
        out.flush()
    })();
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Outcome::Usage(format!("cannot write the output: {e}"))
        }
        _ => outcome,
    }
}

/// Fetches `targets`, prints the timeline, the failures and (unless quiet) a summary.
async fn timeline(
    inbox: inbox::InboxBuilder,
    targets: Vec<Target>,
    output: &OutputArgs,
) -> Outcome {
    let bar = std::sync::Arc::new(progress::Bar::new(output.quiet));
    let on_progress = bar.clone();
    let inbox = inbox
        .concurrency(usize::from(output.concurrency))
        .on_progress(move |p| on_progress.update(p))
        .build();
    let started = Instant::now();
    let timeline: Timeline = inbox.timeline(targets).await;
    let took = started.elapsed();
    bar.finish();
    for failure in &timeline.failures {
        eprintln!("inbox: {failure}");
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut written = output::messages(&mut out, output.format, &timeline.messages);
    if written.is_ok() && !output.quiet {
        written = if output.format == Format::Table {
            output::summary(&mut out, &timeline, took)
        } else {
            output::summary(&mut io::stderr().lock(), &timeline, took)
        };
    }
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            return Outcome::Usage(format!("cannot write the output: {e}"));
        }
        _ => {}
    }
    if timeline.failures.is_empty() {
        Outcome::Done
    } else {
        Outcome::Partial
    }
}

/// Which providers a command uses.
#[derive(Clone, Copy)]
struct Wanted {
    partoo: bool,
    bird: bool,
}

/// The providers named with `--provider`, or else those with credentials.
fn providers(connection: &Connection, named: &[ProviderArg]) -> Result<Wanted, String> {
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

/// An inbox builder with a source per wanted provider, or the first missing setting.
fn sources(
    c: &Connection,
    wanted: Wanted,
    concurrency: usize,
) -> Result<inbox::InboxBuilder, String> {
    let mut inbox = Inbox::builder();
    if wanted.partoo {
        let key = required(&c.partoo_key, "PARTOO_API_KEY", "--partoo-key")?;
        let mut builder = inbox::partoo::Client::builder(key);
        if c.partoo_sandbox {
            builder = builder.sandbox();
        }
        if let Some(url) = &c.partoo_url {
            builder = builder.base_url(url);
        }
        let client = builder.build().map_err(|e| format!("Partoo: {e}"))?;
        let limits = SourceLimits {
            max_in_flight: concurrency,
            rate: Some(inbox::PARTOO_RATE),
        };
        inbox = inbox.source(
            PartooSource::new(client)
                .businesses(c.partoo_business.iter().cloned())
                .limits(limits),
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
        let limits = SourceLimits {
            max_in_flight: concurrency,
            rate: Some(inbox::BIRD_RATE),
        };
        inbox = inbox.source(BirdSource::new(client).limits(limits));
    }
    Ok(inbox)
}
