//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use inbox::Timestamp;

/// Read customer conversations from Partoo and Bird as one timeline.
///
/// Exit codes: 0 everything fetched; 1 partial failure (each conversation or message not
/// delivered is named on stderr, everything else is printed); 2 usage or configuration
/// error; 3 nothing could be fetched at all (each source and its URL named in one line); 4
/// the command failed for a reason of its own (the emulator did not start, the output could
/// not be written).
#[derive(Debug, Parser)]
#[command(name = "inbox", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// The main job on a built-in emulator of both APIs: no credentials needed. Mirrors
    /// every conversation into a database, prints the timeline from it and a summary; then
    /// the emulator receives new messages and status changes, and a second sync fetches
    /// only the conversations that changed.
    Demo(DemoArgs),
    /// List the conversations of each provider, as unified conversation summaries (provider,
    /// id, status, channel, contact, created time, last activity; `json`/`jsonl` add the
    /// provider's own conversation as `origin`).
    Conversations(ConversationsArgs),
    /// Fetch conversations from the real APIs (or any base URL) and print one merged
    /// timeline.
    Fetch(FetchArgs),
    /// Mirror conversations into a local database: the first run reads everything, later
    /// runs only what changed since. A killed run loses nothing; the next continues.
    Sync(SyncArgs),
    /// Write the mirror's messages out, oldest first, in the unified JSON shape (or CSV).
    Export(ExportArgs),
    /// Full-text search over the mirror's messages, best match first.
    Search(SearchArgs),
    /// Offline: turn a list-messages page, one provider message, or JSON Lines of provider
    /// messages into JSON Lines of unified messages, one per input message, in input order.
    Normalize(NormalizeArgs),
    /// Receive webhooks: verify each on its raw bytes, normalize it, and commit it to the
    /// mirror before answering 2xx. Bird's conversation events trigger a read of that
    /// conversation from its checkpoint; `--sync-every` also syncs on a schedule.
    Serve(ServeArgs),
    /// Keep every account of an accounts file synced, as a long-running worker: one sync job
    /// per account, again `--every` after it finished. On PostgreSQL, any number of workers
    /// on any number of machines share the jobs (a job queue in the database; an account is
    /// synced by one worker at a time; a dead worker's jobs go to another after
    /// `--heartbeat-timeout`); on SQLite, one worker per database, with an in-process
    /// scheduler. SIGTERM: finish or hand back the running jobs, exit 0.
    Worker(WorkerArgs),
    /// What workers did: each account's last sync, next due time, failures, and every
    /// worker with its last heartbeat.
    Status(StatusArgs),
    /// Send a message into a conversation through the outbox: written to the database
    /// first, then sent; a send whose answer was lost is looked for at the provider before
    /// it is ever sent again. Waits for the outcome (--no-wait: only writes it; any
    /// `inbox outbox --send`, `inbox serve` or `inbox worker` on the database sends it).
    Send(SendArgs),
    /// Ask Partoo to send a failed message again (`POST /messages/{id}/retry`).
    Retry(RetryArgs),
    /// The outbox: pending and failed sends (--all: sent ones too); with --send, send what
    /// is due until nothing is left to send.
    Outbox(OutboxArgs),
    /// Serve both APIs on loopback, as the demo and the tests do, until interrupted: prints
    /// both base URLs and the keys to use, so every example with --partoo-url/--bird-url
    /// runs offline.
    Emulator(EmulatorArgs),
}

/// How output looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// A readable table.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line (`fetch` writes each message as it arrives).
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
    /// Keep the mirror in this database (a file path or a sqlite: URL) [default: a
    /// temporary one, removed at the end].
    #[arg(long, value_name = "PATH|URL")]
    pub(crate) db: Option<String>,
}

/// Where the providers are, and the credentials. A flag wins over its environment variable.
#[derive(Debug, Default, Args)]
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
    #[command(flatten)]
    pub(crate) selection: Selection,
    /// Only messages created at or after this time (RFC 3339, e.g. 2024-05-01T00:00:00Z).
    #[arg(long, value_name = "TIME", value_parser = timestamp)]
    pub(crate) since: Option<Timestamp>,
}

/// Which conversations a command reads.
#[derive(Debug, Args)]
pub(crate) struct Selection {
    /// A Partoo conversation (repeatable).
    #[arg(long, value_name = "ID")]
    pub(crate) partoo_conversation: Vec<i64>,
    /// A Bird conversation (repeatable).
    #[arg(long, value_name = "ID", value_parser = non_empty)]
    pub(crate) bird_conversation: Vec<String>,
    /// Every conversation of each provider given with --provider (default: those with
    /// credentials).
    #[arg(long)]
    pub(crate) all: bool,
    /// With --all: which providers.
    #[arg(long, value_enum, requires = "all")]
    pub(crate) provider: Vec<ProviderArg>,
}

/// Where the mirror is.
#[derive(Debug, Args)]
pub(crate) struct DbArgs {
    /// The database: a file path or a sqlite: URL (created when missing), or a
    /// postgres://user@host:port/db URL (the database must exist).
    #[arg(
        long,
        value_name = "PATH|URL",
        env = "INBOX_DB",
        default_value = "inbox.db"
    )]
    pub(crate) db: String,
    /// How long to wait for a database another process holds.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration)]
    pub(crate) lock_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub(crate) struct SyncArgs {
    #[command(flatten)]
    pub(crate) connection: Connection,
    #[command(flatten)]
    pub(crate) db: DbArgs,
    #[command(flatten)]
    pub(crate) selection: Selection,
    /// Sync every account of this TOML file (each its own key, by reference, and its own
    /// rate limit) instead of the single account of the flags; see the README.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["partoo_conversation", "bird_conversation", "all", "provider"]
    )]
    pub(crate) accounts: Option<std::path::PathBuf>,
    /// Read every conversation whole, whatever the checkpoints say.
    #[arg(long)]
    pub(crate) full: bool,
    /// How far before a conversation's checkpoint an incremental read starts again.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration)]
    pub(crate) overlap: std::time::Duration,
    /// Requests in flight at once, across providers.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub(crate) concurrency: u16,
    /// No progress bar, no summary.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// The accounts to keep synced: a TOML file (each account its own key, by reference,
    /// and its own rate limit); see the README. Every worker sharing a database should be
    /// given the same file.
    #[arg(long, value_name = "FILE")]
    pub(crate) accounts: std::path::PathBuf,
    /// How long after an account's sync finished its next one is due.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration)]
    pub(crate) every: std::time::Duration,
    /// How many accounts this worker syncs at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub(crate) concurrency: u16,
    /// Requests in flight at once for one account (an account's own `concurrency` in the
    /// file wins).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) requests: u16,
    /// How long a worker may go without a heartbeat before its jobs are given to another
    /// (PostgreSQL).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration)]
    pub(crate) heartbeat_timeout: std::time::Duration,
    /// How long running syncs may go on after SIGTERM before they are handed back.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub(crate) grace_period: std::time::Duration,
    /// How many times a failing sync is tried (after 3 s, 7 s, 20 s… up to 6 h) before the
    /// account goes back to its regular schedule.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub(crate) max_attempts: u16,
    /// How far before a conversation's checkpoint an incremental read starts again.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration)]
    pub(crate) overlap: std::time::Duration,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// How the status is printed: `table` or `json`.
    #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
    pub(crate) format: StatusFormat,
    /// A worker whose last heartbeat is older than this (and that did not stop) is shown
    /// as silent: dead, or cut off.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration)]
    pub(crate) heartbeat_timeout: std::time::Duration,
}

/// How `inbox status` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatusFormat {
    /// Two readable tables.
    Table,
    /// One JSON object: `accounts` and `workers`.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) connection: Connection,
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// The address to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = crate::serve::listen)]
    pub(crate) listen: std::net::SocketAddr,
    /// Partoo's webhook public key (PEM, or base64 of the raw key), or @FILE. Without it,
    /// POST /webhooks/partoo answers 404.
    #[arg(long, value_name = "KEY|@FILE", env = "PARTOO_WEBHOOK_PUBLIC_KEY")]
    pub(crate) partoo_public_key: Option<String>,
    /// Bird's webhook signing key, or @FILE. Without it, POST /webhooks/bird answers 404.
    #[arg(
        long,
        value_name = "KEY|@FILE",
        env = "BIRD_WEBHOOK_SIGNING_KEY",
        hide_env_values = true
    )]
    pub(crate) bird_signing_key: Option<String>,
    /// The public URL Bird calls (its signature covers it; behind a proxy it is not the
    /// listening address).
    #[arg(long, value_name = "URL")]
    pub(crate) bird_public_url: Option<String>,
    /// Also run the incremental sync on this schedule (the first at start), so a missed
    /// webhook is caught.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) sync_every: Option<std::time::Duration>,
    /// Events for one Bird conversation within this window are one read.
    #[arg(long, value_name = "DURATION", default_value = "250ms", value_parser = duration)]
    pub(crate) debounce: std::time::Duration,
    /// How far before a conversation's checkpoint a read starts again.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = duration)]
    pub(crate) overlap: std::time::Duration,
    /// The largest body accepted, in bytes; a larger one is answered 413 before it is read
    /// whole.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub(crate) max_body: usize,
}

/// How `export` writes messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExportFormat {
    /// One unified message (JSON object) a line.
    Jsonl,
    /// One JSON array, streamed.
    Json,
    /// The main columns, with a header row.
    Csv,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// Only messages created at or after this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = timestamp)]
    pub(crate) since: Option<Timestamp>,
    /// Only messages created before this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = timestamp)]
    pub(crate) until: Option<Timestamp>,
    /// Only this provider's messages.
    #[arg(long, value_enum)]
    pub(crate) provider: Option<ProviderArg>,
    /// Only this conversation's messages (the provider's id).
    #[arg(long, value_name = "ID", value_parser = non_empty)]
    pub(crate) conversation: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub(crate) format: ExportFormat,
}

/// How `search` writes its hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SearchFormat {
    /// A readable table.
    Table,
    /// One unified message (JSON object) a line.
    Jsonl,
}

#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    /// The words to find (all of them, in any order).
    #[arg(required = true, value_name = "QUERY")]
    pub(crate) query: Vec<String>,
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// At most this many hits.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) limit: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SearchFormat::Table)]
    pub(crate) format: SearchFormat,
}

/// Which sources a command that sends uses: the single account of the flags (sources
/// `partoo` and `bird`), or the accounts of a file.
#[derive(Debug, Args)]
pub(crate) struct SendSources {
    #[command(flatten)]
    pub(crate) connection: Connection,
    /// The accounts of this TOML file instead of the flags (see the README); the send goes
    /// through `--source`.
    #[arg(long, value_name = "FILE")]
    pub(crate) accounts: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("into").required(true).args(["partoo_conversation", "bird_conversation"])))]
#[command(group(clap::ArgGroup::new("what").required(true).args(["text", "image", "video", "audio", "file"])))]
pub(crate) struct SendArgs {
    #[command(flatten)]
    pub(crate) sources: SendSources,
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// The Partoo conversation to send into.
    #[arg(long, value_name = "ID")]
    pub(crate) partoo_conversation: Option<i64>,
    /// The Bird conversation to send into.
    #[arg(long, value_name = "ID", value_parser = non_empty)]
    pub(crate) bird_conversation: Option<String>,
    /// With --accounts: the account (its name in the file) that sends.
    #[arg(long, value_name = "NAME")]
    pub(crate) source: Option<String>,
    /// Send this text.
    #[arg(long, value_name = "TEXT")]
    pub(crate) text: Option<String>,
    /// Send the image at this URL.
    #[arg(long, value_name = "URL")]
    pub(crate) image: Option<String>,
    /// Send the video at this URL.
    #[arg(long, value_name = "URL")]
    pub(crate) video: Option<String>,
    /// Send the audio file at this URL.
    #[arg(long, value_name = "URL")]
    pub(crate) audio: Option<String>,
    /// Send the document or file at this URL.
    #[arg(long, value_name = "URL")]
    pub(crate) file: Option<String>,
    /// The file's size in bytes: a file over the provider's limit for its kind is refused
    /// before anything is sent.
    #[arg(long, value_name = "BYTES")]
    pub(crate) size: Option<u64>,
    /// The file's name as shown [default: the URL's last segment].
    #[arg(long, value_name = "NAME")]
    pub(crate) file_name: Option<String>,
    /// The file's MIME type [default: guessed from its name].
    #[arg(long, value_name = "TYPE")]
    pub(crate) mime: Option<String>,
    /// Only write it to the outbox; do not wait for it to be sent.
    #[arg(long)]
    pub(crate) no_wait: bool,
    /// How long to wait for the outcome.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration)]
    pub(crate) timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub(crate) struct RetryArgs {
    #[command(flatten)]
    pub(crate) sources: SendSources,
    /// The Partoo message (its status `Failed`) to send again.
    #[arg(long, value_name = "ID")]
    pub(crate) partoo_message: i64,
    /// With --accounts: the account (its name in the file).
    #[arg(long, value_name = "NAME")]
    pub(crate) source: Option<String>,
}

/// How `inbox outbox` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutboxFormat {
    /// A readable table.
    Table,
    /// One JSON array.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct OutboxArgs {
    #[command(flatten)]
    pub(crate) sources: SendSources,
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// List sent rows too.
    #[arg(long)]
    pub(crate) all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutboxFormat::Table)]
    pub(crate) format: OutboxFormat,
    /// Send what is due, until nothing is left to send (retries wait their turn), then list.
    #[arg(long)]
    pub(crate) send: bool,
    /// How long a sender holds a row it sends (an attempt is given up on at half of it; a
    /// dead sender's rows go to another once it runs out).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = duration)]
    pub(crate) lease: std::time::Duration,
    /// Attempts before a send fails for good.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) max_attempts: u32,
    /// The first retry's delay (each next one doubles it, up to 10 minutes).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = duration)]
    pub(crate) backoff: std::time::Duration,
    /// How long after a send that may have gone out the provider is looked at, at least
    /// (an accepted message may take a moment to be listed).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = duration)]
    pub(crate) lookup_delay: std::time::Duration,
}

#[derive(Debug, Args)]
pub(crate) struct EmulatorArgs {
    /// The Partoo API's port (the Bird API listens on the next one) [default: any free
    /// port].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..65535))]
    pub(crate) port: Option<u16>,
    /// Seed of the synthetic dataset (and of the faults).
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
    /// Conversations per provider.
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) conversations: u32,
    /// Latency added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub(crate) latency_ms: u64,
    /// Faults to inject, as fractions of requests, e.g.
    /// `5xx=0.1,429=0.05,cut=0.02,drop=0.02,slow=0.01,hang=0.01,trickle=0.01,retry-after=2`.
    #[arg(long, value_name = "SPEC", value_parser = faults)]
    pub(crate) faults: Option<inbox_emulator::Faults>,
    /// Faults of accepted sends, as fractions of them: `timeout=0.05` (accepted, then no
    /// answer ever), `fail=0.05` (a Partoo message whose delivery fails, for `inbox retry`).
    #[arg(long, value_name = "SPEC", value_parser = send_faults)]
    pub(crate) send_faults: Option<inbox_emulator::SendFaults>,
    /// Post signed webhooks for the activity it simulates to URL/webhooks/partoo and
    /// URL/webhooks/bird (an `inbox serve`); the keys to verify them are printed at start.
    #[arg(long, value_name = "URL")]
    pub(crate) webhook_url: Option<String>,
    /// Webhook faults, as fractions of events, e.g.
    /// `drop=0.3,duplicate=0.1,reorder=0.1,bad-signature=0.05,stale=0.05`.
    #[arg(long, value_name = "SPEC", value_parser = webhook_faults)]
    pub(crate) webhook_faults: Option<inbox_emulator::WebhookFaults>,
    /// Add messages and move statuses in a few conversations this often (`0s`: never).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = duration)]
    pub(crate) activity_every: std::time::Duration,
    /// Serve this many accounts (a Partoo organisation and a Bird workspace each, with keys
    /// of their own: the first account's keys, then `KEY-1`, `KEY-2`, ...).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) accounts: u32,
    /// Write an accounts file for `inbox sync --accounts` and `inbox worker` that lists
    /// every account served (two per account: its Partoo and its Bird side), with each key
    /// in a file of its own in the folder `FILE.keys` beside it.
    #[arg(long, value_name = "FILE")]
    pub(crate) write_accounts: Option<PathBuf>,
}

fn webhook_faults(text: &str) -> Result<inbox_emulator::WebhookFaults, String> {
    text.parse().map_err(|e| format!("{e}"))
}

fn send_faults(text: &str) -> Result<inbox_emulator::SendFaults, String> {
    text.parse().map_err(|e| format!("{e}"))
}

fn faults(text: &str) -> Result<inbox_emulator::Faults, String> {
    text.parse().map_err(|e| format!("{e}"))
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

fn duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (expected e.g. 15m, 90s, 2h30m)"))
}

fn non_empty(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("an id cannot be empty".into())
    } else {
        Ok(text.to_owned())
    }
}

/// A command-line error as one line, built from clap's own error kinds and context (not its
/// rendered text): what is wrong, with the argument and value, then clap's suggestion
/// (`; tip: …`) or the values allowed.
pub(crate) fn usage_line(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};

    let context = |kind: ContextKind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) if !v.is_empty() => Some(v.join(", ")),
        Some(ContextValue::StyledStr(s)) => Some(s.to_string()),
        Some(ContextValue::StyledStrs(v)) if !v.is_empty() => Some(
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Some(ContextValue::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let arg = context(ContextKind::InvalidArg).unwrap_or_default();
    let mut line = match e.kind() {
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
            let commands: Vec<String> = <Cli as clap::CommandFactory>::command()
                .get_subcommands()
                .map(|c| c.get_name().to_owned())
                .collect();
            return format!(
                "a command is required: {}; tip: `inbox --help` tells more",
                commands.join(", ")
            );
        }
        ErrorKind::UnknownArgument => format!("unexpected argument '{arg}'"),
        ErrorKind::InvalidSubcommand => format!(
            "unrecognized subcommand '{}'",
            context(ContextKind::InvalidSubcommand).unwrap_or_default()
        ),
        ErrorKind::MissingRequiredArgument => format!("missing required argument {arg}"),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = context(ContextKind::InvalidValue).unwrap_or_default();
            let mut line = format!("invalid value '{value}' for {arg}");
            if let Some(cause) = std::error::Error::source(e) {
                line.push_str(&format!(": {cause}"));
            }
            line
        }
        ErrorKind::ArgumentConflict => format!(
            "{arg} cannot be used with {}",
            context(ContextKind::PriorArg).unwrap_or_else(|| "another argument given".into())
        ),
        ErrorKind::NoEquals => format!("{arg} needs a value with `=`"),
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            format!("wrong number of values for {arg}")
        }
        other => other
            .as_str()
            .map_or_else(|| "invalid command line".to_owned(), str::to_owned),
    };
    if let Some(suggested) = context(ContextKind::SuggestedArg) {
        line.push_str(&format!("; tip: a similar argument exists: '{suggested}'"));
    } else if let Some(suggested) = context(ContextKind::SuggestedSubcommand) {
        line.push_str(&format!(
            "; tip: a similar subcommand exists: '{suggested}'"
        ));
    } else if let Some(valid) = context(ContextKind::ValidValue) {
        line.push_str(&format!("; possible values: {valid}"));
    }
    line
}
