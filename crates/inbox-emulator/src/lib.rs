//! A loopback HTTP server that speaks the Partoo and Bird list endpoints, for demos, tests
//! and benchmarks: no credentials, no network, the same bytes for the same seed.
//!
//! [`Emulator::start`] binds two listeners on `127.0.0.1` (port 0: the system picks), one per
//! provider, and serves:
//!
//! - **Partoo** (header `x-APIKey`), under [`Emulator::partoo_base_url`]
//!   (`http://127.0.0.1:P/v2`):
//!   - `GET /v2/messages?conversation_id=&per_page=&cursor=`: `{messages, count,
//!     next_cursor}`, oldest first; `per_page` defaults to 30, 1 to 100;
//!   - `GET /v2/conversations?per_page=&cursor=&business__in=`: `{conversations, count,
//!     next_cursor}`;
//!   - `GET /v2/conversations/{id}`: one conversation.
//! - **Bird** (header `Authorization: AccessKey <key>`), under [`Emulator::bird_base_url`]
//!   (`http://127.0.0.1:Q`):
//!   - `GET /workspaces/{ws}/conversations/{id}/messages?limit=&pageToken=&reverse=&dateFrom=`:
//!     `{results, nextPageToken?, total, totalType}`, newest first unless `reverse=true`;
//!     `dateFrom` keeps the messages created strictly after it; `limit` defaults to 10, 1 to
//!     100;
//!   - `GET /workspaces/{ws}/conversations?limit=&pageToken=&reverse=`: `{results,
//!     nextPageToken?}`;
//!   - `GET /workspaces/{ws}/conversations/{id}`: one conversation.
//!
//! Cursors and page tokens are opaque (an encoded offset, tied to the list they page);
//! `nextPageToken` is absent and `next_cursor` is `null` on the last page. Errors carry each
//! provider's documented body:
//!
//! | case | Partoo | Bird |
//! |---|---|---|
//! | page size outside 1..=100, bad cursor or token, bad `conversation_id`, `reverse` or `dateFrom` | 400 `{"error":{"json":{"per_page":["Must be between 1 and 100."]}}}` | 400 `{"code":"InvalidParameter","message":...}` |
//! | missing or wrong key | 401 `{"error":{"authentication":"User not authenticated"}}` | 401 `{"code":"Unauthorized","message":...}` |
//! | forbidden | 403 `{"error":{"authorization":"Operation not allowed"}}` when `business__in` names a business the key cannot see (any id not in the dataset) | 403 `{"code":"Forbidden","message":...}` for a workspace other than [`Config::bird_workspace`] |
//! | unknown conversation or path | 404 `{"error":{"json":"Resource not found"}}` | 404 `{"code":"NotFound","message":...}` |
//! | a method other than GET | 405 | 405 |
//!
//! The server is a small hand-written HTTP/1.1 implementation on tokio: request heads are
//! capped at 16 KiB, connections are kept alive (`Connection: close` is honoured), responses
//! carry `Content-Length` and `Content-Type: application/json`. [`Stats`] counts requests,
//! accepted connections and injected faults per provider.
//!
//! Faults ([`Faults`]) are decided per request by a seeded hash of the request's sequence
//! number, so the same sequence of requests meets the same faults. Latency
//! ([`Config::latency`]) is added to every response.
//!
//! # Datasets
//!
//! [`Dataset::Synthetic`] generates conversations from [`Config::seed`]: a realistic mix of
//! every content kind of both providers (see [`generate`]). Message counts are drawn from
//! `messages_per_conversation`, except that one conversation in six (the first, the
//! seventh...) is long, with 250 to 400 messages; a single-value range (`N..=N`) gives every
//! conversation exactly `N` messages. The first conversation of each provider holds every
//! content kind when it has at least 16 messages. Each conversation's messages are
//! serialized once and kept in a bounded cache, so a dataset of thousands of conversations
//! does not grow the emulator's memory with it.
//!
//! [`Dataset::Fixtures`] serves a fixtures directory (like the repository's `fixtures/`).
//!
//! # Example
//!
//! ```
//! use inbox_emulator::{Config, Emulator};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let emulator = Emulator::start(Config::default()).await?;
//! let partoo = emulator.partoo_base_url(); // "http://127.0.0.1:P/v2"
//! let bird = emulator.bird_base_url(); // "http://127.0.0.1:Q"
//! assert!(partoo.starts_with("http://127.0.0.1:") && partoo.ends_with("/v2"));
//! assert!(bird.starts_with("http://127.0.0.1:"));
//! assert_eq!(emulator.partoo_conversation_ids().len(), 12);
//! assert_eq!(emulator.bird_conversation_ids().len(), 12);
//! // Build clients with `emulator.config().partoo_key`, `.bird_key` and `.bird_workspace`.
//! assert_eq!(emulator.config().bird_workspace, "emulator-workspace");
//! assert_eq!(emulator.stats().partoo_requests, 0);
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod api;
mod dataset;
mod fault;
pub mod generate;
mod http;
mod json;
mod rng;
mod time;
mod token;

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::dataset::{Data, Provider};
use crate::fault::Fault;

/// What the emulator serves and how. `Config::default()`: seed 7, the default synthetic
/// dataset, no latency, no faults, the default keys and workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Seeds the synthetic dataset and the fault decisions.
    pub seed: u64,
    /// The conversations and messages served.
    pub dataset: Dataset,
    /// Added to every response (faulty ones too).
    pub latency: Duration,
    /// The faults injected.
    pub faults: Faults,
    /// The Partoo API key accepted (`x-APIKey`). Default `emulator-partoo-key`.
    pub partoo_key: String,
    /// The Bird access key accepted (`Authorization: AccessKey <key>`). Default
    /// `emulator-bird-key`.
    pub bird_key: String,
    /// The Bird workspace id served; any other is a 403. Default `emulator-workspace`.
    pub bird_workspace: String,
    /// Conversation ids (of either provider, as strings) whose message pagination hands back
    /// the same cursor forever: every page of them has the next-page cursor of their first
    /// page, never none.
    pub looping_conversations: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 7,
            dataset: Dataset::default(),
            latency: Duration::ZERO,
            faults: Faults::default(),
            partoo_key: "emulator-partoo-key".to_owned(),
            bird_key: "emulator-bird-key".to_owned(),
            bird_workspace: "emulator-workspace".to_owned(),
            looping_conversations: Vec::new(),
        }
    }
}

/// The conversations and messages an emulator serves.
#[derive(Debug, Clone, PartialEq)]
pub enum Dataset {
    /// Generated from [`Config::seed`]. Default: 12 conversations per provider, 3 to 40
    /// messages each, except one in six (indices 0, 6, ...) with 250 to 400; a single-value
    /// range `N..=N` gives every conversation exactly `N` messages.
    Synthetic {
        /// How many Partoo conversations.
        partoo_conversations: usize,
        /// How many Bird conversations.
        bird_conversations: usize,
        /// How many messages a conversation has.
        messages_per_conversation: RangeInclusive<usize>,
    },
    /// A fixtures root like the repository's `fixtures/`: the JSON files under `partoo/` and
    /// `bird/` (except in `drift/` and `errors/` folders). Messages pages are grouped by
    /// conversation id, deduplicated by message id, sorted by date and served with real
    /// pagination; conversations are listed from the conversations pages found, followed by
    /// the conversations only met through their messages (with a listing entry derived from
    /// them). A listed conversation without messages has an empty message list.
    Fixtures(PathBuf),
}

impl Default for Dataset {
    fn default() -> Self {
        Dataset::Synthetic {
            partoo_conversations: 12,
            bird_conversations: 12,
            messages_per_conversation: 3..=40,
        }
    }
}

/// Faults to inject, as fractions of requests (each `0.0..=1.0`; the fractions are of all
/// requests and do not overlap, so their sum is the share of faulty requests). Default: none,
/// `Retry-After: 1`, slow by 1 s.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Share of 429 responses, with `Retry-After` and the provider's body.
    pub rate_limited: f64,
    /// The `Retry-After` of those 429s, in seconds.
    pub retry_after_secs: u64,
    /// Share of 500, 502 and 503 responses (in turn), with the provider's body.
    pub server_error: f64,
    /// Share of responses delayed by `slow_delay` (on top of the latency).
    pub slow: f64,
    /// The extra delay of slow responses.
    pub slow_delay: Duration,
    /// Share of responses whose head announces the whole body, of which half is sent before
    /// the connection closes.
    pub cut_body: f64,
    /// Share of requests whose connection is closed without an answer.
    pub drop_connection: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            rate_limited: 0.0,
            retry_after_secs: 1,
            server_error: 0.0,
            slow: 0.0,
            slow_delay: Duration::from_secs(1),
            cut_body: 0.0,
            drop_connection: 0.0,
        }
    }
}

/// What an emulator has served so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Requests read on the Partoo listener (faulty ones and malformed ones too).
    pub partoo_requests: usize,
    /// Requests read on the Bird listener.
    pub bird_requests: usize,
    /// TCP connections accepted by the Partoo listener.
    pub partoo_connections: usize,
    /// TCP connections accepted by the Bird listener.
    pub bird_connections: usize,
    /// Faults injected, every kind.
    pub faults: usize,
    /// 429 responses injected.
    pub rate_limited: usize,
    /// 500, 502 and 503 responses injected.
    pub server_errors: usize,
    /// Slow responses injected.
    pub slow: usize,
    /// Responses cut short.
    pub cut_bodies: usize,
    /// Connections dropped without an answer.
    pub dropped: usize,
}

#[derive(Default)]
struct Counters {
    partoo_requests: AtomicUsize,
    bird_requests: AtomicUsize,
    partoo_connections: AtomicUsize,
    bird_connections: AtomicUsize,
    faults: AtomicUsize,
    rate_limited: AtomicUsize,
    server_errors: AtomicUsize,
    slow: AtomicUsize,
    cut_bodies: AtomicUsize,
    dropped: AtomicUsize,
}

/// What every connection task shares.
pub(crate) struct State {
    pub(crate) config: Config,
    pub(crate) data: Data,
    counters: Counters,
    sequence: AtomicU64,
}

impl State {
    pub(crate) fn count_request(&self, provider: Provider) {
        let counter = match provider {
            Provider::Partoo => &self.counters.partoo_requests,
            Provider::Bird => &self.counters.bird_requests,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn count_connection(&self, provider: Provider) {
        let counter = match provider {
            Provider::Partoo => &self.counters.partoo_connections,
            Provider::Bird => &self.counters.bird_connections,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Decides (and counts) the fault of the next request.
    pub(crate) fn decide_fault(&self) -> Fault {
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        let c = &self.counters;
        let fault = fault::decide(&self.config.faults, self.config.seed, n, || {
            c.server_errors.load(Ordering::Relaxed)
        });
        let counter = match fault {
            Fault::None => return fault,
            Fault::RateLimited => &c.rate_limited,
            Fault::ServerError(_) => &c.server_errors,
            Fault::Slow => &c.slow,
            Fault::CutBody => &c.cut_bodies,
            Fault::Drop => &c.dropped,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        c.faults.fetch_add(1, Ordering::Relaxed);
        fault
    }

    fn stats(&self) -> Stats {
        let c = &self.counters;
        let get = |a: &AtomicUsize| a.load(Ordering::Relaxed);
        Stats {
            partoo_requests: get(&c.partoo_requests),
            bird_requests: get(&c.bird_requests),
            partoo_connections: get(&c.partoo_connections),
            bird_connections: get(&c.bird_connections),
            faults: get(&c.faults),
            rate_limited: get(&c.rate_limited),
            server_errors: get(&c.server_errors),
            slow: get(&c.slow),
            cut_bodies: get(&c.cut_bodies),
            dropped: get(&c.dropped),
        }
    }
}

/// A running emulator: two loopback listeners, one per provider. Stops on
/// [`Emulator::shutdown`] or when dropped (open connections are closed too).
pub struct Emulator {
    state: Arc<State>,
    partoo_addr: SocketAddr,
    bird_addr: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("partoo", &self.partoo_addr)
            .field("bird", &self.bird_addr)
            .field("seed", &self.state.config.seed)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Builds the dataset and starts serving on two loopback ports chosen by the system.
    /// Fails when a port cannot be bound or a fixtures directory cannot be read (a file that
    /// is not JSON is an `InvalidData` error naming it). Must be called within a tokio
    /// runtime, which runs the server.
    pub async fn start(config: Config) -> std::io::Result<Emulator> {
        let data = Data::build(&config)?;
        let partoo = TcpListener::bind(("127.0.0.1", 0)).await?;
        let bird = TcpListener::bind(("127.0.0.1", 0)).await?;
        let state = Arc::new(State {
            config,
            data,
            counters: Counters::default(),
            sequence: AtomicU64::new(0),
        });
        let partoo_addr = partoo.local_addr()?;
        let bird_addr = bird.local_addr()?;
        let tasks = vec![
            tokio::spawn(accept(partoo, Arc::clone(&state), Provider::Partoo)),
            tokio::spawn(accept(bird, Arc::clone(&state), Provider::Bird)),
        ];
        Ok(Emulator {
            state,
            partoo_addr,
            bird_addr,
            tasks,
        })
    }

    /// The Partoo base URL: `http://127.0.0.1:P/v2`.
    pub fn partoo_base_url(&self) -> String {
        format!("http://{}/v2", self.partoo_addr)
    }

    /// The Bird base URL: `http://127.0.0.1:Q`.
    pub fn bird_base_url(&self) -> String {
        format!("http://{}", self.bird_addr)
    }

    /// The configuration served: keys and workspace to build clients with.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    /// The Partoo conversation ids, in listing order.
    pub fn partoo_conversation_ids(&self) -> Vec<i64> {
        self.state
            .data
            .conversations(Provider::Partoo)
            .iter()
            .filter_map(|c| c.key.parse().ok())
            .collect()
    }

    /// The Bird conversation ids, in listing order.
    pub fn bird_conversation_ids(&self) -> Vec<String> {
        self.state
            .data
            .conversations(Provider::Bird)
            .iter()
            .map(|c| c.key.clone())
            .collect()
    }

    /// How many messages the dataset holds, both providers.
    pub fn message_count(&self) -> usize {
        self.state.data.message_count()
    }

    /// Stops accepting, closes every open connection, and waits for the listeners to close.
    pub async fn shutdown(mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        for task in &tasks {
            task.abort();
        }
        for task in tasks {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Accepts connections until aborted; aborting drops the `JoinSet`, which aborts every
/// connection task.
async fn accept(listener: TcpListener, state: Arc<State>, provider: Provider) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    state.count_connection(provider);
                    connections.spawn(http::serve_connection(stream, Arc::clone(&state), provider));
                }
                // Out of file descriptors, or a connection reset before it was accepted:
                // wait a little and go on.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
