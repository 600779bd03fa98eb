//! A loopback HTTP server that speaks the Partoo and Bird list and send endpoints, for
//! demos, tests and benchmarks: no credentials, no network, the same bytes for the same
//! seed.
//!
//! [`Emulator::start`] binds two listeners on `127.0.0.1` (by default on ports the system
//! picks; [`Config::partoo_port`] and [`Config::bird_port`] fix them), one per provider,
//! and serves:
//!
//! - **Partoo** (header `x-APIKey`), under [`Emulator::partoo_base_url`]
//!   (`http://127.0.0.1:P/v2`):
//!   - `GET /v2/messages?conversation_id=&per_page=&cursor=`: `{messages, count,
//!     next_cursor}`, oldest first; `per_page` defaults to 30, 1 to 100;
//!   - `GET /v2/conversations?per_page=&cursor=&business__in=`: `{conversations, count,
//!     next_cursor}`;
//!   - `GET /v2/conversations/{id}`: one conversation;
//!   - `GET /v2/users/me`: the user the key belongs to, with its `org_id`
//!     ([`Config::partoo_org_id`]);
//!   - `POST /v2/messages` with `{"conversation_id", "content_type", "content"}`: 200
//!     `{"status": "success", "message_id": N}` (see [Sends](#sends));
//!   - `POST /v2/messages/{message_id}/retry`: 200 `{"status": "success"}` for a `Failed`
//!     message.
//! - **Bird** (header `Authorization: AccessKey <key>`), under [`Emulator::bird_base_url`]
//!   (`http://127.0.0.1:Q`):
//!   - `GET /workspaces/{ws}/conversations/{id}/messages?limit=&pageToken=&reverse=&dateFrom=`:
//!     `{results, nextPageToken?, total, totalType}`, newest first unless `reverse=true`;
//!     `dateFrom` keeps the messages created strictly after it; `limit` defaults to 10, 1 to
//!     100;
//!   - `GET /workspaces/{ws}/conversations?limit=&pageToken=&reverse=`: `{results,
//!     nextPageToken?}`;
//!   - `GET /workspaces/{ws}/conversations/{id}`: one conversation;
//!   - `POST /workspaces/{ws}/conversations/{id}/messages` with a `body` or a `template`:
//!     202 with the created message (see [Sends](#sends)).
//!
//! Cursors and page tokens are opaque keysets: the position where the next page starts in
//! the list they page, which way it is walked, and what list it is (a token of another
//! conversation, or of the other order, is refused). `nextPageToken` is absent and
//! `next_cursor` is `null` on the last page. Errors carry each provider's documented body:
//!
//! | case | Partoo | Bird |
//! |---|---|---|
//! | page size outside 1..=100, bad cursor or token, bad `conversation_id`, `reverse` or `dateFrom` | 400 `{"error":{"json":{"per_page":["Must be between 1 and 100."]}}}` | 400 `{"code":"InvalidParameter","message":...}` |
//! | a send whose body is not JSON | 400 `{"error":{"json":{"_schema":["Invalid JSON body."]}}}` | 400 `{"code":"InvalidParameter","message":"The request body is not valid JSON"}` |
//! | a send with missing or invalid fields | 400 `{"error":{"json":{"content":["Missing data for required field."]}}}`, one message per field | 422 `{"code":"InvalidPayload","message":"The request payload is not valid","details":{".body.text.text":["is required"]}}`, every problem by its JSON path |
//! | media into an SMS conversation | 400 `{"error":{"json":{"content_type":["SMS conversations take text only."]}}}` | |
//! | retrying a message that is not `Failed` | 400 `{"error":{"json":"Only a failed message can be retried."}}` | |
//! | missing or wrong key | 401 `{"error":{"authentication":"User not authenticated"}}` | 401 `{"code":"Unauthorized","message":...}` |
//! | forbidden | 403 `{"error":{"authorization":"Operation not allowed"}}` when `business__in` names a business the key cannot see (any id not in the dataset) | 403 `{"code":"Forbidden","message":...}` for a workspace other than the key's |
//! | unknown conversation, message or path | 404 `{"error":{"json":"Resource not found"}}` | 404 `{"code":"NotFound","message":...}` |
//! | a method other than GET and POST | 405, `Allow: GET, POST` | 405, `Allow: GET, POST` |
//! | GET where only POST is served, or the reverse | 405, `Allow: POST` or `Allow: GET` | the same |
//! | a send into a closed conversation | | 409 `{"code":"ConversationClosed","message":"The conversation is closed"}` |
//! | a request body over 64 KiB | 413 `{"error":{"json":...}}`, connection closed | 413 `{"code":"PayloadTooLarge",...}`, connection closed |
//! | a malformed request head, or one over 16 KiB or 100 headers | 400 or 431 from hyper, empty body, connection closed | the same |
//!
//! Requests are checked in this order: the method (405), the key (401), the path and
//! Bird's workspace (404, 403), the method the path is served with (405), then the
//! endpoint's own checks (for a send: its body, then its conversation, then whether that
//! conversation takes it).
//!
//! The server is hyper's HTTP/1.1 server on tokio: connections are kept alive (and
//! pipelined requests answered in order; `Connection: close` is honoured), responses carry
//! `Content-Length` and `Content-Type: application/json`, and no `Date` (the same requests
//! get the same bytes). Request bodies are read whole (up to 64 KiB) before the answer is
//! built; a GET's is ignored. [`Stats`] counts requests and accepted connections per
//! provider, injected faults, and sends; [`Emulator::message_requests`] counts
//! message-list requests per conversation.
//!
//! # Many accounts
//!
//! [`Config::accounts`] serves several accounts at once, on the same two listeners: a
//! Partoo organisation and a Bird workspace each, with their own keys and their own dataset
//! (see [`Account`] for how they are named). The key a request carries picks the account;
//! a key of nobody's is a 401, another account's workspace a 403. [`Emulator::account_stats`]
//! counts each account's requests and how many were answered at once, and
//! [`Emulator::message_ids`] tells what each serves. Sends work on every account: a key's
//! send lands in its own account's data. Activity, webhooks (of activity and of sends) and
//! the single-account methods ([`Emulator::partoo_conversation_ids`],
//! [`Emulator::message_count`], ...) are account 0's.
//!
//! # Faults and latency
//!
//! Faults ([`Faults`]) are decided per request by a seeded hash of the request's sequence
//! number, so the same sequence of requests meets the same faults. They are transport
//! behaviour, as a client meets it on a real network: a 429 with `Retry-After` and the
//! provider's body; a 500, 502 or 503 (in turn) with the provider's body; a slow answer;
//! a body cut short (the head announces the whole body, half of it arrives, then the
//! connection closes); a connection dropped without an answer; a hang (no answer at all,
//! the connection left open until the client gives up or the emulator shuts down); a
//! trickle (the head, then the body one byte every [`Faults::trickle_interval`]). Faults
//! have a compact spelling for command lines: see [`Faults`]'s `FromStr`.
//!
//! They apply to every request, sends included, and where they strike matters to a
//! sender: a 429, a 5xx, a dropped connection and a hang are answered *instead of*
//! handling the request, so a send they meet was not accepted (nothing is appended or
//! recorded); a slow answer, a body cut short and a trickle happen *after* handling, so the
//! send was accepted and only its answer suffers. [`SendFaults`] add what only a send can
//! meet (see [Sends](#sends)).
//!
//! Latency ([`Config::latency`]) is counted from the request's arrival: the answer is built
//! first and sent `latency` after the request arrived. Every wait is a tokio timer, so an
//! emulator in a runtime with a paused clock (`tokio::time::pause`) runs on virtual time.
//!
//! # Datasets
//!
//! [`Dataset::Synthetic`] generates conversations from [`Config::seed`]: a realistic mix of
//! every content kind of both providers (see [`generate`]). Message counts are drawn from
//! `messages_per_conversation`, except that one conversation in six (the first, the
//! seventh...) is long, with 250 to 400 messages; a single-value range (`N..=N`) gives every
//! conversation exactly `N` messages. The first conversation of each provider holds every
//! content kind when it has at least 16 messages.
//!
//! [`Dataset::Fixtures`] serves a fixtures directory (like the repository's `fixtures/`).
//!
//! # Data that changes while it is served
//!
//! [`Emulator::simulate_activity`] appends new messages to some conversations and moves
//! messages of others along their lifecycle, while the emulator serves; the listings follow.
//! Each conversation's messages sit in an append-only log, oldest first: a message keeps
//! its position forever, and new messages are newer than every message there is. Page
//! tokens are positions in that log (a keyset), so pagination under way survives appends:
//! walking oldest first (Partoo, Bird with `reverse=true`), the new messages come on the
//! last pages; walking newest first (Bird's default), the walk goes on below where it was,
//! and the new messages are on top for the next walk. The conversations listings keep their
//! order.
//!
//! Memory stays bounded: a synthetic conversation's messages as the seed drew them are
//! serialized once and kept in a bounded cache (drawn again when evicted), and what
//! changed is kept apart, with the conversation: the messages appended or changed,
//! serialized once each, and the listing entry as it stands. So a dataset of thousands of
//! conversations does not grow the emulator's memory with it, and no change is lost to the
//! cache.
//!
//! # Sends
//!
//! Each provider's send endpoint checks what it is sent, then accepts it: the message is
//! appended to its conversation's log, so the listings serve it at once (Partoo on the last
//! page, oldest first; Bird on the first, newest first) and the conversation's last
//! message follows (Partoo's `last_message` and `has_one_user_message`; Bird's
//! `lastMessage`, `updatedAt` and, for a contact's message, `lastMessageIncomingAt`). It
//! is dated now, on the wall clock, as a real provider stamps what it accepts (or a
//! millisecond past the activity clock when that is later: newer than every message); the
//! activity clock moves there, so activity after a send stays newer. Sends, retries and
//! rounds of activity happen one after the other. Every accepted send is recorded, in the order accepted
//! ([`Emulator::sent`]), and counted ([`Stats::sends_accepted`]; refusals in
//! [`Stats::sends_refused`]).
//!
//! - **Partoo**, `POST /v2/messages`, body `{"conversation_id": N, "content_type":
//!   "Text"|"Image"|"Video"|"Audio"|"Document", "content": "<the text, or the media
//!   URL>"}` (unknown fields ignored; a numeric string is an integer, as Partoo's own
//!   validation reads it; media content must be an `http` or `https` URL). The message is
//!   a user message of the account's user (`sender_type` `User`, `user_id` and
//!   `sender_label` of `GET /v2/users/me`), its id past every Partoo message id of the
//!   account, its `content` the text, the URL (Image) or `{"file_name", "url"}` (Video,
//!   Audio, Document: the URL's last path segment, `null` when it has none), `status`
//!   `Success` (or `Failed`, see below). Answer: 200 `{"status": "success", "message_id":
//!   N}`. Refusals: 400 for the body, 404 for a conversation the account does not have,
//!   400 for media into an SMS conversation ([`Emulator::sms_partoo_conversations`]).
//! - **Partoo**, `POST /v2/messages/{message_id}/retry` (no body read): a `Failed` message
//!   (sent, or drawn so by the seed) becomes `Success`, a changed message as activity's
//!   are, and the answer is 200 `{"status": "success"}`; 400 for a message that is not
//!   `Failed`, 404 for an unknown id. A retry is not a send: it is not recorded or counted
//!   as one.
//! - **Bird**, `POST /workspaces/{ws}/conversations/{id}/messages`, body `{"body"?,
//!   "template"?, "participantId"?, "participantType"?, "replyToMessageId"?,
//!   "reference"?}` with exactly one of `body` (`{"type": "text", "text": {"text"}}`,
//!   `{"type": "image", "image": {"images": [{"mediaUrl", "altText"?}]}}` or `{"type":
//!   "file", "file": {"files": [{"mediaUrl", "contentType", "filename"}]}}`) and `template`
//!   (`{"projectId"?, "version"?, "name"?, "locale", "parameters"?: [{"type": "string" |
//!   "number", "key", "value"}]}`, with a `name` or a `projectId`); `null` counts as
//!   absent, unknown fields are ignored. The message is shaped as the generator's outbound
//!   messages: `body` (or `template`) as sent, `sender` the workspace's access key (or its
//!   flow, or the conversation's contact, as `participantType` says; `participantId`, when
//!   given, is its id), `recipients` the contact (not for a contact's own message),
//!   `reference` as sent (`""` when not), `replyToMessageId` when given, `status`
//!   `accepted`, `createdAt` = `updatedAt` as dated above. Answer: 202 with that
//!   message, the bytes the listing then serves. Refusals: 400 when the body is not JSON,
//!   422 for the payload, 404 for an unknown conversation, 409 for a closed one
//!   ([`Emulator::closed_bird_conversations`]).
//!
//! [`SendFaults`] (drawn per accepted send from [`Config::seed`] and the send's sequence
//! number, so the same sends meet the same faults) withhold an accepted send's answer
//! forever (the connection stays open until the client gives up or the emulator shuts
//! down: a client cannot tell whether it was accepted, and the message is there), or make
//! an accepted Partoo message `Failed` (answered 200 all the same; Bird sends ignore this
//! fault). Activity leaves sent messages alone: only a retry changes one.
//!
//! # Webhooks
//!
//! When [`Config::webhooks`] names a URL, [`Emulator::simulate_activity`] also produces the
//! webhook events of what it changed, built from the state the round left (the same bytes
//! the API serves right after it), and queues them before it returns; so does each of
//! account 0's accepted sends and retries, before it is answered (a Partoo
//! `message_created`, or `message_updated` for a retry; a Bird `whatsapp.outbound` channel
//! event, `whatsapp.inbound` for a contact's message, then `conversation.updated`). Other
//! accounts' sends produce none: the emulator has one webhook subscription, account 0's.
//! One background task per provider (stopped by [`Emulator::shutdown`]) POSTs them in
//! order, one at a time. [`Emulator::flush_webhooks`] waits until every event produced so
//! far is done with.
//!
//! - **Partoo** ([`WebhookConfig::partoo_url`]): a `message_created` per added message and
//!   a `message_updated` per changed one (its new state), in the order they happened. Body
//!   `{"type", "payload": {"message", "conversation": {"id", "consumer_img",
//!   "consumer_name", "business": {"id"}, "messaging_partner", "custom_channel"},
//!   "org_id"}}`, where `message` is the message exactly as `GET /v2/messages` serves it
//!   and `org_id` is [`Config::partoo_org_id`]. Header `X-Partoo-Signature-v1`: the
//!   standard base64 of the Ed25519 signature of the raw body.
//! - **Bird** ([`WebhookConfig::bird_url`]): for each conversation touched, in the order
//!   touched, a channel event per added message, `{"service": "channels", "event":
//!   "whatsapp.inbound"` (the contact sent it) or `"whatsapp.outbound"`, `"payload": {"id",
//!   "conversationId", "createdAt", "body"}}` (an approximation of a Channels-API message),
//!   then `{"service": "conversations", "event": "conversation.updated", "payload"}` with
//!   the conversation exactly as the listing serves it. Headers `messagebird-request-id`
//!   (`evt-<n>`, one per event, the same on a duplicate), `messagebird-request-timestamp`
//!   (Unix seconds) and `messagebird-signature`: the standard base64 of HMAC-SHA256, keyed
//!   with the signing key's UTF-8 bytes, of `timestamp + "\n" + bird_url + "\n"` followed
//!   by the 32 raw bytes of the body's SHA-256.
//!
//! Both carry `Content-Type: application/json`. The keys come from [`Config::seed`]
//! ([`Emulator::webhook_keys`]). Signatures and the timestamp are made when an event is
//! first sent; retries and duplicates reuse them. A 5xx answer or a connection error (or
//! no answer within 10 s) is retried after 20 ms × the attempt number, up to 5 times for
//! Partoo and 10 for Bird, then given up on; any other non-2xx answer is not retried.
//! [`WebhookFaults`] (drawn per event from the seed) drop events, deliver them twice, hold
//! one back until after the next, flip a byte of the signature, or date Bird's timestamp
//! 10 minutes back (signed for that date); [`Emulator::webhook_stats`] counts it all.
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
//!
//! // New messages arrive in two conversations of each provider; in one more of each, a
//! // message changes status.
//! let before = emulator.message_count();
//! let activity = emulator.simulate_activity(1, 2);
//! assert_eq!(activity.partoo_conversations.len(), 3);
//! assert_eq!(activity.bird_changed.len(), 1);
//! assert_eq!(
//!     emulator.message_count(),
//!     before + activity.partoo_added.len() + activity.bird_added.len()
//! );
//!
//! // Faults, in the spelling of a command line.
//! let faults: inbox_emulator::Faults = "5xx=0.1,429=0.05,retry-after=2".parse().unwrap();
//! assert_eq!(faults.retry_after_secs, 2);
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod activity;
mod api;
mod dataset;
mod fault;
pub mod generate;
mod rng;
mod send;
mod server;
mod time;
mod token;
mod webhook;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use crate::activity::Activity;
use crate::dataset::{Data, Provider};
use crate::fault::Fault;
pub use crate::fault::ParseFaultsError;
pub use crate::send::{SendFaults, Sent};
pub use crate::webhook::{WebhookConfig, WebhookFaults, WebhookKeys, WebhookStats};

/// What the emulator serves and how. `Config::default()`: seed 7, the default synthetic
/// dataset, no latency, no faults, the default keys and workspace, ports the system picks,
/// no webhooks.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Seeds the synthetic dataset and the fault decisions.
    pub seed: u64,
    /// The conversations and messages served.
    pub dataset: Dataset,
    /// Added to every response (faulty ones too), counted from the request's arrival.
    pub latency: Duration,
    /// The faults injected, into every request (sends too: see the crate docs).
    pub faults: Faults,
    /// The faults injected into accepted sends (an answer never sent, a Partoo message
    /// `Failed`). Default: none.
    pub send_faults: SendFaults,
    /// The Partoo API key accepted (`x-APIKey`). Default `emulator-partoo-key`.
    pub partoo_key: String,
    /// The Bird access key accepted (`Authorization: AccessKey <key>`). Default
    /// `emulator-bird-key`.
    pub bird_key: String,
    /// The Bird workspace id served; any other is a 403. Default `emulator-workspace`.
    pub bird_workspace: String,
    /// The Partoo organisation the key belongs to, as `GET /v2/users/me` tells it (its
    /// `org_id`). Default 4242.
    pub partoo_org_id: i64,
    /// Conversation ids (of either provider, as strings) whose message pagination hands back
    /// the same cursor forever: every page of them has the next-page cursor of their first
    /// page, never none.
    pub looping_conversations: Vec<String>,
    /// The port of the Partoo listener on `127.0.0.1`; `None` (the default): the system
    /// picks a free one. [`Emulator::start`] fails when the port is taken.
    pub partoo_port: Option<u16>,
    /// The port of the Bird listener on `127.0.0.1`; `None` (the default): the system
    /// picks a free one.
    pub bird_port: Option<u16>,
    /// Where and how [`Emulator::simulate_activity`] and account 0's sends deliver webhook
    /// events; default: no URLs, nothing sent. See the crate docs.
    pub webhooks: WebhookConfig,
    /// How many accounts (a Partoo organisation and a Bird workspace each) are served, each
    /// with its own keys and dataset; default 1, and 0 counts as 1. See [`Account`].
    pub accounts: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 7,
            dataset: Dataset::default(),
            latency: Duration::ZERO,
            faults: Faults::default(),
            send_faults: SendFaults::default(),
            partoo_key: "emulator-partoo-key".to_owned(),
            bird_key: "emulator-bird-key".to_owned(),
            bird_workspace: "emulator-workspace".to_owned(),
            partoo_org_id: 4242,
            looping_conversations: Vec::new(),
            partoo_port: None,
            bird_port: None,
            webhooks: WebhookConfig::default(),
            accounts: 1,
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
    /// them). A listed conversation without messages has an empty message list. Fixture
    /// conversations are served as read: [`Emulator::simulate_activity`] leaves them alone.
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
/// `Retry-After: 1`, slow by 1 s, trickled one byte a second.
///
/// `Faults` reads and writes a compact spelling for command lines,
/// `5xx=0.1,429=0.05,cut=0.02,drop=0.02,slow=0.01,hang=0.01,trickle=0.01,retry-after=2`:
/// see its [`FromStr`](std::str::FromStr) implementation for the syntax.
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
    /// the body fails and the connection closes.
    pub cut_body: f64,
    /// Share of requests whose connection is closed without an answer.
    pub drop_connection: f64,
    /// Share of requests never answered: no head is sent, and the connection stays open
    /// until the client gives up or the emulator shuts down.
    pub hang: f64,
    /// Share of responses whose head is sent, then the body one byte every
    /// `trickle_interval`.
    pub trickle: f64,
    /// How long a trickled body takes per byte.
    pub trickle_interval: Duration,
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
            hang: 0.0,
            trickle: 0.0,
            trickle_interval: Duration::from_secs(1),
        }
    }
}

/// What an emulator has served so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Requests read on the Partoo listener (faulty ones too, and malformed ones hyper
    /// answered itself).
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
    /// Requests left hanging, never answered.
    pub hung: usize,
    /// Responses trickled a byte at a time.
    pub trickled: usize,
    /// The most Partoo requests being answered at once (from arrival until the head goes
    /// out, the latency included).
    pub partoo_peak_in_flight: usize,
    /// The most Bird requests being answered at once.
    pub bird_peak_in_flight: usize,
    /// The most requests being answered at once, both providers together.
    pub peak_in_flight: usize,
    /// Sends accepted (Partoo's `POST /v2/messages`, Bird's `POST .../messages` answered
    /// 2xx), those whose answer [`SendFaults::timeout_after_accept`] then withheld too.
    pub sends_accepted: usize,
    /// Sends answered with a 4xx by the API: refused payloads, unknown or closed
    /// conversations, SMS media, keys, workspaces, bodies too large. Not the 429s of
    /// [`Faults`], counted in `rate_limited`.
    pub sends_refused: usize,
    /// Accepted sends whose answer was withheld ([`SendFaults::timeout_after_accept`]).
    pub send_timeouts: usize,
    /// Accepted Partoo sends made `Failed` ([`SendFaults::delivery_failure`]).
    pub delivery_failures: usize,
}

/// How many message-list requests each conversation received (see
/// [`Emulator::message_requests`]). Conversations that received none are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageRequests {
    /// Partoo `GET /v2/messages` requests, by conversation id.
    pub partoo: BTreeMap<i64, usize>,
    /// Bird list-messages requests, by conversation id.
    pub bird: BTreeMap<String, usize>,
}

impl MessageRequests {
    /// The requests received since `earlier` (an older snapshot of the same emulator):
    /// the conversations whose count grew, with how much.
    pub fn since(&self, earlier: &MessageRequests) -> MessageRequests {
        fn grown<K: Ord + Clone>(
            now: &BTreeMap<K, usize>,
            then: &BTreeMap<K, usize>,
        ) -> BTreeMap<K, usize> {
            now.iter()
                .filter_map(|(k, &n)| {
                    let more = n.saturating_sub(then.get(k).copied().unwrap_or(0));
                    (more > 0).then(|| (k.clone(), more))
                })
                .collect()
        }
        MessageRequests {
            partoo: grown(&self.partoo, &earlier.partoo),
            bird: grown(&self.bird, &earlier.bird),
        }
    }
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
    hung: AtomicUsize,
    trickled: AtomicUsize,
    partoo_in_flight: AtomicUsize,
    bird_in_flight: AtomicUsize,
    in_flight: AtomicUsize,
    partoo_peak_in_flight: AtomicUsize,
    bird_peak_in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    sends_accepted: AtomicUsize,
    sends_refused: AtomicUsize,
    send_timeouts: AtomicUsize,
    delivery_failures: AtomicUsize,
}

/// A request being answered: counted in flight from arrival until dropped.
pub(crate) struct InFlight<'a> {
    counters: &'a Counters,
    provider: Provider,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let c = self.counters;
        let mine = match self.provider {
            Provider::Partoo => &c.partoo_in_flight,
            Provider::Bird => &c.bird_in_flight,
        };
        mine.fetch_sub(1, Ordering::Relaxed);
        c.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One account the emulator serves: a Partoo organisation and a Bird workspace, each with
/// its own key. Account 0 is the one [`Config`] describes (its keys, workspace, organisation
/// and seed); account `i` ≥ 1 has the keys `{partoo_key}-{i}` and `{bird_key}-{i}`, the
/// workspace `{bird_workspace}-{i}`, the organisation `partoo_org_id + i`, and a dataset
/// drawn from the seed `seed + i` (wrapping): the same shape, other messages. A key opens
/// its own account only: another account's workspace is a 403, like a real workspace the
/// key has no access to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its Partoo API key.
    pub partoo_key: String,
    /// Its Bird access key.
    pub bird_key: String,
    /// Its Bird workspace id.
    pub bird_workspace: String,
    /// Its Partoo organisation (`org_id` of `GET /v2/users/me`).
    pub partoo_org_id: i64,
    /// The seed its synthetic dataset is drawn from.
    pub seed: u64,
}

impl Account {
    fn of(config: &Config, i: usize) -> Account {
        if i == 0 {
            return Account {
                partoo_key: config.partoo_key.clone(),
                bird_key: config.bird_key.clone(),
                bird_workspace: config.bird_workspace.clone(),
                partoo_org_id: config.partoo_org_id,
                seed: config.seed,
            };
        }
        Account {
            partoo_key: format!("{}-{i}", config.partoo_key),
            bird_key: format!("{}-{i}", config.bird_key),
            bird_workspace: format!("{}-{i}", config.bird_workspace),
            partoo_org_id: config.partoo_org_id.wrapping_add(i as i64),
            seed: config.seed.wrapping_add(i as u64),
        }
    }
}

/// What one account has been asked (see [`Emulator::account_stats`]): the requests its
/// keys authenticated, and how many of them were being answered at once. A test that an
/// account is never served by two clients at once checks its peaks stay at 1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountStats {
    /// Requests with this account's Partoo key (faulty ones too).
    pub partoo_requests: usize,
    /// Requests with this account's Bird key.
    pub bird_requests: usize,
    /// The most requests with its Partoo key being answered at once (from arrival until the
    /// head goes out, the latency included).
    pub partoo_peak_in_flight: usize,
    /// The most requests with its Bird key being answered at once.
    pub bird_peak_in_flight: usize,
}

/// The message ids one account serves now (see [`Emulator::message_ids`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageIds {
    /// Partoo message ids (integers, as decimal strings), by conversation id.
    pub partoo: BTreeMap<i64, Vec<String>>,
    /// Bird message ids, by conversation id.
    pub bird: BTreeMap<String, Vec<String>>,
}

impl MessageIds {
    /// How many ids, both providers.
    pub fn len(&self) -> usize {
        self.partoo
            .values()
            .chain(self.bird.values())
            .map(Vec::len)
            .sum()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Per-provider request counters of one account.
#[derive(Default)]
struct TenantCounters {
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

/// An account as served: who it is, its dataset, its counters.
pub(crate) struct Tenant {
    /// Its number (0 is the one the configuration describes).
    pub(crate) index: usize,
    pub(crate) account: Account,
    pub(crate) data: Data,
    partoo: TenantCounters,
    bird: TenantCounters,
}

impl Tenant {
    fn counters(&self, provider: Provider) -> &TenantCounters {
        match provider {
            Provider::Partoo => &self.partoo,
            Provider::Bird => &self.bird,
        }
    }

    /// Counts a request of this account, in flight until the guard is dropped.
    fn begin(&self, provider: Provider) -> TenantInFlight<'_> {
        let c = self.counters(provider);
        c.requests.fetch_add(1, Ordering::Relaxed);
        let now = c.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        c.peak_in_flight.fetch_max(now, Ordering::Relaxed);
        TenantInFlight(c)
    }

    fn stats(&self) -> AccountStats {
        let get = |a: &AtomicUsize| a.load(Ordering::Relaxed);
        AccountStats {
            partoo_requests: get(&self.partoo.requests),
            bird_requests: get(&self.bird.requests),
            partoo_peak_in_flight: get(&self.partoo.peak_in_flight),
            bird_peak_in_flight: get(&self.bird.peak_in_flight),
        }
    }
}

/// A request of one account being answered.
pub(crate) struct TenantInFlight<'a>(&'a TenantCounters);

impl Drop for TenantInFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What every connection task shares.
pub(crate) struct State {
    pub(crate) config: Config,
    /// Never empty: account 0 is the one the configuration describes.
    tenants: Vec<Tenant>,
    partoo_keys: HashMap<String, usize>,
    bird_keys: HashMap<String, usize>,
    counters: Counters,
    sequence: AtomicU64,
    /// The webhook side: events of activity and of account 0's sends.
    pub(crate) webhooks: webhook::Hub,
    /// Every accepted send, in the order accepted (an index is the send's sequence
    /// number). Taken after an account's activity clock, never the other way round.
    pub(crate) sends: Mutex<Vec<Sent>>,
}

impl State {
    /// Builds every account's dataset.
    fn build(config: Config, webhooks: webhook::Hub) -> std::io::Result<State> {
        let mut tenants = Vec::with_capacity(config.accounts.max(1));
        for i in 0..config.accounts.max(1) {
            let account = Account::of(&config, i);
            let data = if i == 0 {
                Data::build(&config)?
            } else {
                Data::build(&Config {
                    seed: account.seed,
                    ..config.clone()
                })?
            };
            tenants.push(Tenant {
                index: i,
                account,
                data,
                partoo: TenantCounters::default(),
                bird: TenantCounters::default(),
            });
        }
        let keys = |key: fn(&Account) -> &String| {
            let mut map = HashMap::with_capacity(tenants.len());
            for (i, t) in tenants.iter().enumerate() {
                map.entry(key(&t.account).clone()).or_insert(i);
            }
            map
        };
        let partoo_keys = keys(|a| &a.partoo_key);
        let bird_keys = keys(|a| &a.bird_key);
        Ok(State {
            config,
            tenants,
            partoo_keys,
            bird_keys,
            counters: Counters::default(),
            sequence: AtomicU64::new(0),
            webhooks,
            sends: Mutex::new(Vec::new()),
        })
    }

    /// Counts what happened to a send.
    pub(crate) fn count_send(&self, outcome: send::Outcome) {
        let c = &self.counters;
        let counter = match outcome {
            send::Outcome::Accepted => &c.sends_accepted,
            send::Outcome::Refused => &c.sends_refused,
            send::Outcome::TimedOut => &c.send_timeouts,
            send::Outcome::DeliveryFailed => &c.delivery_failures,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Account 0's dataset: the one activity, webhooks and the single-account methods use.
    pub(crate) fn data(&self) -> &Data {
        &self.tenants[0].data
    }

    /// The account a request's key opens, counted as one of its requests in flight until
    /// the guard is dropped; `None` when the key is missing or nobody's.
    pub(crate) fn tenant_for(
        &self,
        provider: Provider,
        headers: &hyper::HeaderMap,
    ) -> Option<(&Tenant, TenantInFlight<'_>)> {
        let key = api::key_of(provider, headers)?;
        let keys = match provider {
            Provider::Partoo => &self.partoo_keys,
            Provider::Bird => &self.bird_keys,
        };
        let tenant = self.tenants.get(*keys.get(key)?)?;
        Some((tenant, tenant.begin(provider)))
    }

    pub(crate) fn count_request(&self, provider: Provider) {
        let counter = match provider {
            Provider::Partoo => &self.counters.partoo_requests,
            Provider::Bird => &self.counters.bird_requests,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request in flight until the guard is dropped, and keeps the peaks.
    pub(crate) fn in_flight(&self, provider: Provider) -> InFlight<'_> {
        let c = &self.counters;
        let (mine, peak) = match provider {
            Provider::Partoo => (&c.partoo_in_flight, &c.partoo_peak_in_flight),
            Provider::Bird => (&c.bird_in_flight, &c.bird_peak_in_flight),
        };
        let now = mine.fetch_add(1, Ordering::Relaxed) + 1;
        peak.fetch_max(now, Ordering::Relaxed);
        let all = c.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        c.peak_in_flight.fetch_max(all, Ordering::Relaxed);
        InFlight {
            counters: c,
            provider,
        }
    }

    pub(crate) fn count_connection(&self, provider: Provider) {
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
            Fault::Hang => &c.hung,
            Fault::Trickle => &c.trickled,
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
            hung: get(&c.hung),
            trickled: get(&c.trickled),
            partoo_peak_in_flight: get(&c.partoo_peak_in_flight),
            bird_peak_in_flight: get(&c.bird_peak_in_flight),
            peak_in_flight: get(&c.peak_in_flight),
            sends_accepted: get(&c.sends_accepted),
            sends_refused: get(&c.sends_refused),
            send_timeouts: get(&c.send_timeouts),
            delivery_failures: get(&c.delivery_failures),
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
    /// Builds the dataset and starts serving on two loopback ports: [`Config::partoo_port`]
    /// and [`Config::bird_port`], or ports the system picks. Fails when a port cannot be
    /// bound (`AddrInUse` when it is taken) or a fixtures directory cannot be read (a file
    /// that is not JSON is an `InvalidData` error naming it). Must be called within a tokio
    /// runtime, which runs the server and the webhook deliveries.
    pub async fn start(config: Config) -> std::io::Result<Emulator> {
        let partoo = TcpListener::bind(("127.0.0.1", config.partoo_port.unwrap_or(0))).await?;
        let bird = TcpListener::bind(("127.0.0.1", config.bird_port.unwrap_or(0))).await?;
        let (webhooks, webhook_tasks) = webhook::Hub::start(&config)?;
        let state = Arc::new(State::build(config, webhooks)?);
        let partoo_addr = partoo.local_addr()?;
        let bird_addr = bird.local_addr()?;
        let mut tasks = vec![
            tokio::spawn(server::accept(partoo, Arc::clone(&state), Provider::Partoo)),
            tokio::spawn(server::accept(bird, Arc::clone(&state), Provider::Bird)),
        ];
        tasks.extend(webhook_tasks);
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

    /// The address the Partoo listener is bound to.
    pub fn partoo_addr(&self) -> SocketAddr {
        self.partoo_addr
    }

    /// The address the Bird listener is bound to.
    pub fn bird_addr(&self) -> SocketAddr {
        self.bird_addr
    }

    /// The configuration served: keys and workspace to build clients with.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    /// How many accounts are served ([`Config::accounts`], at least 1).
    pub fn account_count(&self) -> usize {
        self.state.tenants.len()
    }

    /// Account `i` (0 is the one [`Config`] describes): its keys, workspace, organisation
    /// and seed; `None` past the last.
    pub fn account(&self, i: usize) -> Option<&Account> {
        self.state.tenants.get(i).map(|t| &t.account)
    }

    /// What account `i`'s keys have been asked so far; `None` past the last account.
    /// Requests without a key, or with nobody's, are counted in [`Emulator::stats`] only.
    pub fn account_stats(&self, i: usize) -> Option<AccountStats> {
        self.state.tenants.get(i).map(Tenant::stats)
    }

    /// The ids of every message account `i` serves now, by conversation, in each
    /// conversation's order (oldest first); `None` past the last account.
    pub fn message_ids(&self, i: usize) -> Option<MessageIds> {
        #[derive(serde::Deserialize)]
        struct Id {
            id: serde_json::Value,
        }
        let data = &self.state.tenants.get(i)?.data;
        let ids = |provider: Provider| {
            let convs = data.conversations(provider);
            convs.iter().enumerate().map(move |(index, conv)| {
                let ids = data
                    .with_messages(provider, index, |view| {
                        (0..view.len())
                            .filter_map(|p| view.get(p))
                            .filter_map(|raw| serde_json::from_str::<Id>(raw.get()).ok())
                            .map(|Id { id }| match id {
                                serde_json::Value::String(s) => s,
                                other => other.to_string(),
                            })
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                (conv.key.as_str(), ids)
            })
        };
        Some(MessageIds {
            partoo: ids(Provider::Partoo)
                .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
                .collect(),
            bird: ids(Provider::Bird)
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        })
    }

    /// Every send accepted so far, of every account, in the order accepted: those whose
    /// answer a fault then lost too (a withheld answer, a body cut short), not those a
    /// fault answered instead (429, 5xx, dropped, hung) nor those refused. `failed` is the
    /// message's status now: a retried message is no longer failed.
    pub fn sent(&self) -> Vec<Sent> {
        self.state
            .sends
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The Partoo conversations of account `account` whose `messaging_partner` is `SMS`
    /// (they take text only), in listing order; empty past the last account.
    pub fn sms_partoo_conversations(&self, account: usize) -> Vec<i64> {
        let Some(tenant) = self.state.tenants.get(account) else {
            return Vec::new();
        };
        tenant
            .data
            .conversations(Provider::Partoo)
            .iter()
            .filter(|c| c.partner.as_deref() == Some("SMS"))
            .filter_map(|c| c.key.parse().ok())
            .collect()
    }

    /// The Bird conversations of account `account` whose `status` is `closed` (a send into
    /// one is a 409), in listing order; empty past the last account.
    pub fn closed_bird_conversations(&self, account: usize) -> Vec<String> {
        let Some(tenant) = self.state.tenants.get(account) else {
            return Vec::new();
        };
        tenant
            .data
            .conversations(Provider::Bird)
            .iter()
            .filter(|c| c.status.as_deref() == Some("closed"))
            .map(|c| c.key.clone())
            .collect()
    }

    /// How many message-list requests each conversation received so far: the requests the
    /// API answered for it (pages, including those a fault then cut short, slowed or
    /// trickled), not those a fault answered instead (429, 5xx, dropped, hung) nor those
    /// refused (a bad cursor or page size). A test of an incremental sync takes a snapshot
    /// before it and checks with [`MessageRequests::since`] that only the changed
    /// conversations were fetched.
    pub fn message_requests(&self) -> MessageRequests {
        let data = self.state.data();
        let counts = |provider| {
            data.conversations(provider)
                .iter()
                .filter(|c| c.requests() > 0)
                .map(|c| (c.key.as_str(), c.requests()))
        };
        MessageRequests {
            partoo: counts(Provider::Partoo)
                .filter_map(|(k, n)| Some((k.parse().ok()?, n)))
                .collect(),
            bird: counts(Provider::Bird)
                .map(|(k, n)| (k.to_owned(), n))
                .collect(),
        }
    }

    /// Simulates activity while serving: in `conversations` conversations of each provider
    /// (chosen by `seed`), 1 to 3 new realistic messages arrive; in about half as many other
    /// conversations, a recent message moves along its lifecycle (Partoo: `Sending` to
    /// `Success`, or else a `Success` message is deleted, `is_deleted` becoming true; Bird:
    /// an outbound `sent` message becomes `delivered`, or a `delivered` one `read`, with a
    /// new `updatedAt`; `read` is outside the statuses Bird publishes, though its own
    /// examples send it, so a client must keep it).
    ///
    /// New messages are newer than every message of the dataset, each newer than the one
    /// before (activity runs on its own clock, which starts an hour past the newest message
    /// and only moves forward). The conversations listings follow: Partoo's `last_message`,
    /// Bird's `lastMessage` and `updatedAt`. Pagination under way stays correct (see the
    /// crate docs). The same seed on the same emulator state changes the same things:
    /// rounds are deterministic and happen one after the other, never during a send.
    /// Fixture conversations are left alone, and so are messages sent through the API.
    ///
    /// When [`Config::webhooks`] names URLs, the round's webhook events are built (from the
    /// state the round left) and queued before this returns; a background task delivers
    /// them (see the crate docs, and [`Emulator::flush_webhooks`] to wait for them).
    pub fn simulate_activity(&self, seed: u64, conversations: usize) -> Activity {
        let data = self.state.data();
        let org_id = self.state.config.partoo_org_id;
        activity::simulate_then(data, seed, conversations, |touches| {
            self.state.webhooks.enqueue(data, org_id, touches);
        })
    }

    /// The keys webhooks are signed with (derived from [`Config::seed`]): Partoo's Ed25519
    /// public key (PEM and raw base64) and Bird's signing key.
    pub fn webhook_keys(&self) -> WebhookKeys {
        self.state.webhooks.keys()
    }

    /// A snapshot of the webhook counters.
    pub fn webhook_stats(&self) -> WebhookStats {
        self.state.webhooks.stats()
    }

    /// A future that resolves once every webhook event produced before this call has been
    /// delivered (accepted or refused), given up on after its retries, or dropped by a
    /// fault; an event held back for reordering is released and delivered. Resolves at once
    /// when no webhook URL is configured. The future owns what it needs (it does not
    /// borrow the emulator).
    pub fn flush_webhooks(&self) -> impl Future<Output = ()> + Send + 'static {
        self.state.webhooks.flush()
    }

    /// The Partoo conversation ids, in listing order.
    pub fn partoo_conversation_ids(&self) -> Vec<i64> {
        self.state
            .data()
            .conversations(Provider::Partoo)
            .iter()
            .filter_map(|c| c.key.parse().ok())
            .collect()
    }

    /// The Bird conversation ids, in listing order.
    pub fn bird_conversation_ids(&self) -> Vec<String> {
        self.state
            .data()
            .conversations(Provider::Bird)
            .iter()
            .map(|c| c.key.clone())
            .collect()
    }

    /// How many messages the dataset holds now, both providers.
    pub fn message_count(&self) -> usize {
        self.state.data().message_count()
    }

    /// Stops accepting, closes every open connection (hanging requests too), stops webhook
    /// delivery (events still queued are not sent: flush first), and waits for the tasks to
    /// end.
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
