//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use inbox::Timestamp;

/// Read customer conversations from Partoo and Bird as one timeline.
///
/// Exit codes: 0 everything fetched; 1 partial failure (each failed conversation or message
/// is named on stderr, everything else is printed); 2 usage or configuration error.
#[derive(Debug, Parser)]
#[command(name = "inbox", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// The main job on a built-in emulator of both APIs: no credentials needed. Discovers
    /// every conversation, fetches them all concurrently, prints the merged timeline and a
    /// summary.
    Demo(DemoArgs),
    /// List the conversations of each provider.
    Conversations(ConversationsArgs),
    /// Fetch conversations from the real APIs (or any base URL) and print one merged
    /// timeline.
    Fetch(FetchArgs),
    /// Offline: turn a list-messages page or JSON Lines of provider messages into JSON Lines
    /// of unified messages, one per input message, in input order.
    Normalize(NormalizeArgs),
}

/// How output looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// A readable table.
    Table,
    /// One JSON array.
    Json,
    /// One unified message (JSON object) per line.
    Jsonl,
}

/// A provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProviderArg {
    /// Partoo.
    Partoo,
    /// Bird.
    Bird,
}

#[derive(Debug, Args)]
pub(crate) struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
    /// Requests in flight at once, across providers.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub(crate) concurrency: u16,
    /// No progress bar, no summary.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    /// Seed of the emulator's synthetic dataset.
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
    /// Conversations per provider in the dataset.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) conversations: u32,
    /// Latency the emulator adds to every response, in milliseconds.
    #[arg(long, default_value_t = 20)]
    pub(crate) latency_ms: u64,
}

/// Where the providers are, and the credentials. A flag wins over its environment variable.
#[derive(Debug, Args)]
pub(crate) struct Connection {
    /// Partoo API key [default: $PARTOO_API_KEY].
    #[arg(long, value_name = "KEY")]
    pub(crate) partoo_key: Option<String>,
    /// Partoo base URL, e.g. http://127.0.0.1:PORT/v2 [default: production].
    #[arg(long, value_name = "URL")]
    pub(crate) partoo_url: Option<String>,
    /// Use Partoo's sandbox.
    #[arg(long, conflicts_with = "partoo_url")]
    pub(crate) partoo_sandbox: bool,
    /// Only conversations of this Partoo business (repeatable).
    #[arg(long, value_name = "ID")]
    pub(crate) partoo_business: Vec<String>,
    /// Bird access key [default: $BIRD_ACCESS_KEY].
    #[arg(long, value_name = "KEY")]
    pub(crate) bird_key: Option<String>,
    /// Bird workspace id [default: $BIRD_WORKSPACE_ID].
    #[arg(long, value_name = "ID")]
    pub(crate) bird_workspace: Option<String>,
    /// Bird base URL, e.g. http://127.0.0.1:PORT [default: https://api.bird.com].
    #[arg(long, value_name = "URL")]
    pub(crate) bird_url: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ConversationsArgs {
    #[command(flatten)]
    pub(crate) connection: Connection,
    /// Which providers [default: those with credentials].
    #[arg(long, value_enum)]
    pub(crate) provider: Vec<ProviderArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct FetchArgs {
    #[command(flatten)]
    pub(crate) connection: Connection,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    /// A Partoo conversation to fetch (repeatable).
    #[arg(long, value_name = "ID")]
    pub(crate) partoo_conversation: Vec<i64>,
    /// A Bird conversation to fetch (repeatable).
    #[arg(long, value_name = "ID", value_parser = non_empty)]
    pub(crate) bird_conversation: Vec<String>,
    /// Every conversation of each provider given with --provider (default: those with
    /// credentials).
    #[arg(long)]
    pub(crate) all: bool,
    /// With --all: which providers.
    #[arg(long, value_enum, requires = "all")]
    pub(crate) provider: Vec<ProviderArg>,
    /// Only messages created at or after this time (RFC 3339, e.g. 2024-05-01T00:00:00Z).
    #[arg(long, value_name = "TIME", value_parser = timestamp)]
    pub(crate) since: Option<Timestamp>,
}

#[derive(Debug, Args)]
pub(crate) struct NormalizeArgs {
    /// Whose JSON the input is.
    #[arg(long, value_enum)]
    pub(crate) provider: ProviderArg,
    /// The input file; `-` or nothing for standard input.
    pub(crate) input: Option<PathBuf>,
}

fn timestamp(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text).map_err(|e| format!("{e} (expected e.g. 2024-05-01T00:00:00Z)"))
}

fn non_empty(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("an id cannot be empty".into())
    } else {
        Ok(text.to_owned())
    }
}
