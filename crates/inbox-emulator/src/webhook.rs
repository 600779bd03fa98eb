//! Webhooks: the events a round of activity produces, signed the way Partoo and Bird sign
//! theirs, and delivered by one background task per provider, in order, one at a time, with
//! seeded faults (dropped, duplicated, reordered, badly signed, stale) and retries.
//!
//! Events are built when the activity happens (under the activity's lock, so they carry the
//! state that round left) and queued; each provider's task takes them one after the other.
//! A flush is a marker in each queue: when a task reaches it, every event queued before has
//! been delivered, given up on or dropped, and the event held back for reordering, if any,
//! has been released.

use std::fmt;
use std::io;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::EncodePublicKey as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::{Signer as _, SigningKey};
use hmac::{Hmac, KeyInit as _, Mac as _};
use hyper::body::Bytes;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest as _, Sha256};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::Config;
use crate::activity::Touch;
use crate::dataset::{Data, Provider};
use crate::fault::{ParseFaultsError, spec_fraction, spec_items};
use crate::rng::Rng;

const SALT_WEBHOOK: u64 = 0x0057_4542_484f_4f4b;

/// How many times a Partoo delivery is retried after a 5xx or a connection error (so at
/// most 6 attempts), as Partoo documents it.
const PARTOO_RETRIES: u32 = 5;
/// How many times a Bird delivery is retried (so at most 11 attempts).
const BIRD_RETRIES: u32 = 10;
/// The wait before retry `k` (counted from 1) is `k` times this.
const BACKOFF_STEP: Duration = Duration::from_millis(20);
/// How long one delivery attempt may take (connecting, sending, reading the answer) before
/// it counts as a connection error.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How far in the past a stale Bird timestamp is.
const STALE_BY_SECS: u64 = 600;

/// Where and how the emulator delivers webhooks. Default: no URLs, so nothing is sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookConfig {
    /// Where Partoo events (`message_created`, `message_updated`) are POSTed; `None`: no
    /// Partoo webhooks.
    pub partoo_url: Option<String>,
    /// Where Bird events (`conversation.updated`, `whatsapp.inbound|outbound`) are POSTed;
    /// also the URL signed into Bird's `messagebird-signature`, exactly as written here.
    /// `None`: no Bird webhooks.
    pub bird_url: Option<String>,
    /// The faults injected into deliveries.
    pub faults: WebhookFaults,
}

/// Faults injected into webhook deliveries, each a probability (`0.0..=1.0`) drawn per event
/// from [`Config::seed`], independently of the others (so `1.0` everywhere applies them all,
/// except that a dropped event meets no other fault). Default: none.
///
/// It reads and writes a compact spelling for command lines,
/// `drop=0.3,duplicate=0.1,reorder=0.1,bad-signature=0.05,stale=0.05`: see its
/// [`FromStr`] implementation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WebhookFaults {
    /// Share of events never sent.
    pub drop: f64,
    /// Share of events delivered twice: the same body, request id and signature.
    pub duplicate: f64,
    /// Share of events held back and delivered after the next event (or at a flush). An
    /// event is only held back when none is held already.
    pub reorder: f64,
    /// Share of events whose signature has one byte flipped (still valid base64).
    pub bad_signature: f64,
    /// Share of Bird events whose `messagebird-request-timestamp` is 10 minutes in the
    /// past, correctly signed for that timestamp. Partoo events carry no timestamp: this
    /// fault leaves them alone.
    pub stale_timestamp: f64,
}

/// The keys the emulator signs its webhooks with, to configure a receiver. Derived from
/// [`Config::seed`]: the same seed gives the same keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookKeys {
    /// The Ed25519 public key Partoo signatures verify with, as SPKI PEM
    /// (`-----BEGIN PUBLIC KEY-----`, LF line endings), as Partoo publishes its keys.
    pub partoo_public_key_pem: String,
    /// The same public key: its raw 32 bytes, standard base64.
    pub partoo_public_key_base64: String,
    /// Bird's signing key, a printable string (64 hex digits); the HMAC key is its UTF-8
    /// bytes.
    pub bird_signing_key: String,
}

/// What webhook delivery has done so far (see [`Emulator::webhook_stats`](crate::Emulator::webhook_stats)).
///
/// Every HTTP attempt counts once in `deliveries` and once in exactly one of `accepted`,
/// `refused` and `retried`: `deliveries == accepted + refused + retried`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookStats {
    /// Events produced (dropped ones too).
    pub events: usize,
    /// HTTP POSTs made, retries and duplicates included.
    pub deliveries: usize,
    /// Attempts answered with a 2xx.
    pub accepted: usize,
    /// Attempts answered with a status that is neither 2xx nor 5xx (a 4xx: never retried),
    /// and last attempts that failed (5xx or connection error) once the retries ran out:
    /// the event was given up on.
    pub refused: usize,
    /// Attempts that failed with a 5xx or a connection error (or took more than 10 s) and
    /// were retried.
    pub retried: usize,
    /// Events dropped (never sent).
    pub dropped: usize,
    /// Events delivered twice.
    pub duplicated: usize,
    /// Events held back and delivered after the next one (or at a flush).
    pub reordered: usize,
    /// Events sent with a broken signature.
    pub bad_signatures: usize,
    /// Bird events sent with a timestamp 10 minutes old.
    pub stale: usize,
}

// ---------------------------------------------------------------------------------------
// The compact spelling
// ---------------------------------------------------------------------------------------

/// The names of a spec's items, in the order they are documented and written.
const NAMES: [&str; 5] = ["drop", "duplicate", "reorder", "bad-signature", "stale"];

impl WebhookFaults {
    fn shares(&self) -> [f64; 5] {
        [
            self.drop,
            self.duplicate,
            self.reorder,
            self.bad_signature,
            self.stale_timestamp,
        ]
    }
}

impl FromStr for WebhookFaults {
    type Err = ParseFaultsError;

    /// Reads a compact spec: comma-separated `name=value` items, each name at most once,
    /// spaces around items and around `=` ignored; an empty spec (or `none`) is no faults.
    ///
    /// | item | sets |
    /// |---|---|
    /// | `drop=F` | [`WebhookFaults::drop`] |
    /// | `duplicate=F` | [`WebhookFaults::duplicate`] |
    /// | `reorder=F` | [`WebhookFaults::reorder`] |
    /// | `bad-signature=F` | [`WebhookFaults::bad_signature`] |
    /// | `stale=F` | [`WebhookFaults::stale_timestamp`] |
    ///
    /// Each value is a probability from 0 to 1; they are independent and need not add up
    /// to at most 1.
    ///
    /// ```
    /// use inbox_emulator::WebhookFaults;
    ///
    /// let faults: WebhookFaults = "drop=0.3, duplicate=0.1, bad-signature=0.05".parse().unwrap();
    /// assert_eq!(faults.drop, 0.3);
    /// assert_eq!(faults.bad_signature, 0.05);
    /// assert_eq!(faults.reorder, 0.0);
    /// assert_eq!(faults.to_string().parse::<WebhookFaults>().unwrap(), faults);
    /// assert!("drop=2".parse::<WebhookFaults>().is_err());
    /// ```
    fn from_str(spec: &str) -> Result<WebhookFaults, ParseFaultsError> {
        let mut faults = WebhookFaults::default();
        for (slot, value, item) in spec_items(spec, &NAMES, "webhook fault", "drop=0.1")? {
            let share = spec_fraction(value, item, "probability")?;
            match slot {
                0 => faults.drop = share,
                1 => faults.duplicate = share,
                2 => faults.reorder = share,
                3 => faults.bad_signature = share,
                _ => faults.stale_timestamp = share,
            }
        }
        Ok(faults)
    }
}

impl fmt::Display for WebhookFaults {
    /// The compact spec that [`FromStr`] reads back: the probabilities that are not zero;
    /// `none` when none is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self
            .shares()
            .iter()
            .zip(NAMES)
            .filter(|(share, _)| **share > 0.0)
            .map(|(share, name)| format!("{name}={share}"))
            .collect();
        if items.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&items.join(","))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------

/// 32 bytes derived from the seed for one purpose.
fn derive(seed: u64, label: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"inbox-emulator webhook key\0");
    hasher.update(label.as_bytes());
    hasher.update(b"\0");
    hasher.update(seed.to_le_bytes());
    hasher.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The signing keys, and what a receiver is told of them.
struct Keys {
    partoo: SigningKey,
    bird: String,
    public: WebhookKeys,
}

impl Keys {
    fn new(seed: u64) -> io::Result<Keys> {
        let partoo = SigningKey::from_bytes(&derive(seed, "partoo ed25519"));
        let bird = hex(&derive(seed, "bird hmac"));
        let verifying = partoo.verifying_key();
        let pem = verifying
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| io::Error::other(format!("encoding the webhook public key: {e}")))?;
        let public = WebhookKeys {
            partoo_public_key_pem: pem,
            partoo_public_key_base64: STANDARD.encode(verifying.as_bytes()),
            bird_signing_key: bird.clone(),
        };
        Ok(Keys {
            partoo,
            bird,
            public,
        })
    }
}

// ---------------------------------------------------------------------------------------
// The hub: events in, stats out
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Counters {
    events: AtomicUsize,
    deliveries: AtomicUsize,
    accepted: AtomicUsize,
    refused: AtomicUsize,
    retried: AtomicUsize,
    dropped: AtomicUsize,
    duplicated: AtomicUsize,
    reordered: AtomicUsize,
    bad_signatures: AtomicUsize,
    stale: AtomicUsize,
}

fn bump(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// What happens to one event, decided when it is produced.
#[derive(Debug, Clone, Copy, Default)]
struct Fate {
    drop: bool,
    duplicate: bool,
    reorder: bool,
    bad_signature: bool,
    stale: bool,
}

/// One event, its body serialized once.
struct Event {
    /// Its number, from 1, across both providers (Bird's request id is `evt-<n>`).
    n: u64,
    body: Bytes,
    fate: Fate,
}

enum Command {
    Event(Event),
    /// Answered once every command before it is done.
    Flush(oneshot::Sender<()>),
}

/// The emulator's webhook side: builds events, queues them to the delivery tasks, counts.
pub(crate) struct Hub {
    seed: u64,
    faults: WebhookFaults,
    partoo: Option<mpsc::UnboundedSender<Command>>,
    bird: Option<mpsc::UnboundedSender<Command>>,
    sequence: AtomicU64,
    counters: Arc<Counters>,
    keys: Arc<Keys>,
}

impl Hub {
    /// Derives the keys and starts a delivery task per configured URL (within the tokio
    /// runtime). The tasks end when aborted or when the hub is dropped.
    pub(crate) fn start(config: &Config) -> io::Result<(Hub, Vec<JoinHandle<()>>)> {
        let keys = Arc::new(Keys::new(config.seed)?);
        let counters = Arc::new(Counters::default());
        let hooks = &config.webhooks;
        let mut tasks = Vec::new();
        let mut client = None;
        let mut spawn = |provider, url: &Option<String>| -> io::Result<_> {
            let Some(url) = url.clone() else {
                return Ok(None);
            };
            let client = match &client {
                Some(client) => reqwest::Client::clone(client),
                None => {
                    let built = reqwest::Client::builder()
                        .no_proxy()
                        .timeout(ATTEMPT_TIMEOUT)
                        .build()
                        .map_err(|e| {
                            io::Error::other(format!("building the webhook client: {e}"))
                        })?;
                    client.insert(built).clone()
                }
            };
            let (tx, rx) = mpsc::unbounded_channel();
            let worker = Worker {
                provider,
                url,
                client,
                keys: Arc::clone(&keys),
                counters: Arc::clone(&counters),
            };
            tasks.push(tokio::spawn(worker.run(rx)));
            Ok(Some(tx))
        };
        let partoo = spawn(Provider::Partoo, &hooks.partoo_url)?;
        let bird = spawn(Provider::Bird, &hooks.bird_url)?;
        let hub = Hub {
            seed: config.seed,
            faults: hooks.faults,
            partoo,
            bird,
            sequence: AtomicU64::new(0),
            counters,
            keys,
        };
        Ok((hub, tasks))
    }

    /// The keys a receiver verifies with.
    pub(crate) fn keys(&self) -> WebhookKeys {
        self.keys.public.clone()
    }

    /// A snapshot of the counters.
    pub(crate) fn stats(&self) -> WebhookStats {
        let c = &self.counters;
        let get = |a: &AtomicUsize| a.load(Ordering::Relaxed);
        WebhookStats {
            events: get(&c.events),
            deliveries: get(&c.deliveries),
            accepted: get(&c.accepted),
            refused: get(&c.refused),
            retried: get(&c.retried),
            dropped: get(&c.dropped),
            duplicated: get(&c.duplicated),
            reordered: get(&c.reordered),
            bad_signatures: get(&c.bad_signatures),
            stale: get(&c.stale),
        }
    }

    /// Resolves once every event queued before the call is done with (a task that ended
    /// counts as done).
    pub(crate) fn flush(&self) -> impl Future<Output = ()> + Send + 'static {
        let waits: Vec<oneshot::Receiver<()>> = [&self.partoo, &self.bird]
            .into_iter()
            .flatten()
            .filter_map(|tx| {
                let (done, wait) = oneshot::channel();
                tx.send(Command::Flush(done)).ok()?;
                Some(wait)
            })
            .collect();
        async move {
            for wait in waits {
                let _ = wait.await;
            }
        }
    }

    /// Builds and queues the events of a round of activity, from the state the round left
    /// `data` in. Partoo: one `message_created` per added message and one `message_updated`
    /// per changed one, in the order they happened. Bird: per conversation touched, in the
    /// order touched, a channel event per added message, then its `conversation.updated`.
    pub(crate) fn enqueue(&self, data: &Data, org_id: i64, touches: &[Touch]) {
        if let Some(tx) = &self.partoo {
            for touch in touches.iter().filter(|t| t.provider == Provider::Partoo) {
                if let Some(body) = partoo_event(data, org_id, touch) {
                    self.send(tx, body);
                }
            }
        }
        if let Some(tx) = &self.bird {
            let mut convs: Vec<(usize, Vec<usize>)> = Vec::new();
            for touch in touches.iter().filter(|t| t.provider == Provider::Bird) {
                let at = match convs.iter().position(|(c, _)| *c == touch.conversation) {
                    Some(at) => at,
                    None => {
                        convs.push((touch.conversation, Vec::new()));
                        convs.len() - 1
                    }
                };
                if touch.added {
                    convs[at].1.push(touch.position);
                }
            }
            for (conv, added) in convs {
                for position in added {
                    if let Some(body) = bird_channel_event(data, conv, position) {
                        self.send(tx, body);
                    }
                }
                if let Some(body) = bird_conversation_event(data, conv) {
                    self.send(tx, body);
                }
            }
        }
    }

    fn send(&self, tx: &mpsc::UnboundedSender<Command>, body: Vec<u8>) {
        let n = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let mut rng = Rng::of(&[self.seed, SALT_WEBHOOK, n]);
        let f = &self.faults;
        // Every roll is drawn, in a fixed order, whatever the others say.
        let fate = Fate {
            drop: rng.chance(f.drop),
            duplicate: rng.chance(f.duplicate),
            reorder: rng.chance(f.reorder),
            bad_signature: rng.chance(f.bad_signature),
            stale: rng.chance(f.stale_timestamp),
        };
        bump(&self.counters.events);
        let event = Event {
            n,
            body: Bytes::from(body),
            fate,
        };
        // The task only ends when the emulator is shut down.
        let _ = tx.send(Command::Event(event));
    }
}

// ---------------------------------------------------------------------------------------
// Event bodies
// ---------------------------------------------------------------------------------------

#[derive(Serialize)]
struct PartooEvent<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    payload: PartooPayload<'a>,
}

#[derive(Serialize)]
struct PartooPayload<'a> {
    message: &'a RawValue,
    conversation: PartooConversation,
    org_id: i64,
}

#[derive(Serialize)]
struct PartooConversation {
    id: Value,
    consumer_img: Value,
    consumer_name: Value,
    business: BusinessId,
    messaging_partner: Value,
    custom_channel: Value,
}

#[derive(Serialize)]
struct BusinessId {
    id: Value,
}

#[derive(Serialize)]
struct BirdEvent<'a, P> {
    service: &'a str,
    event: &'a str,
    payload: P,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BirdChannelMessage {
    id: Value,
    conversation_id: Value,
    created_at: Value,
    body: Value,
}

fn field(value: &Value, key: &str) -> Value {
    value.get(key).cloned().unwrap_or(Value::Null)
}

/// A Partoo event for a message added or changed: the message as served, and the fields of
/// its conversation Partoo's webhooks carry.
fn partoo_event(data: &Data, org_id: i64, touch: &Touch) -> Option<Vec<u8>> {
    let conv = data
        .conversations(Provider::Partoo)
        .get(touch.conversation)?;
    let (message, listing) = conv.live(|live| {
        let edit = live.edits.get(&touch.position)?;
        Some((edit.json.clone(), live.listing.clone()))
    })?;
    let listing: Value = serde_json::from_str(listing.get()).ok()?;
    let event = PartooEvent {
        kind: if touch.added {
            "message_created"
        } else {
            "message_updated"
        },
        payload: PartooPayload {
            message: &message,
            conversation: PartooConversation {
                id: field(&listing, "id"),
                consumer_img: field(&listing, "consumer_img"),
                consumer_name: field(&listing, "consumer_name"),
                business: BusinessId {
                    id: listing
                        .get("business")
                        .map_or(Value::Null, |b| field(b, "id")),
                },
                messaging_partner: field(&listing, "messaging_partner"),
                custom_channel: field(&listing, "custom_channel"),
            },
            org_id,
        },
    };
    serde_json::to_vec(&event).ok()
}

/// A Bird channel event for an added message: `whatsapp.inbound` when the contact sent it,
/// `whatsapp.outbound` otherwise (the emulator's contacts are phone numbers; it models no
/// other platform).
fn bird_channel_event(data: &Data, conv: usize, position: usize) -> Option<Vec<u8>> {
    let conv = data.conversations(Provider::Bird).get(conv)?;
    let message = conv.live(|live| live.edits.get(&position).map(|e| e.json.clone()))?;
    let message: Value = serde_json::from_str(message.get()).ok()?;
    let inbound = message.pointer("/sender/type").and_then(Value::as_str) == Some("contact");
    let event = BirdEvent {
        service: "channels",
        event: if inbound {
            "whatsapp.inbound"
        } else {
            "whatsapp.outbound"
        },
        payload: BirdChannelMessage {
            id: field(&message, "id"),
            conversation_id: field(&message, "conversationId"),
            created_at: field(&message, "createdAt"),
            body: field(&message, "body"),
        },
    };
    serde_json::to_vec(&event).ok()
}

/// A Bird `conversation.updated` event: the conversation as the listing shows it now.
fn bird_conversation_event(data: &Data, conv: usize) -> Option<Vec<u8>> {
    let conv = data.conversations(Provider::Bird).get(conv)?;
    let listing = conv.live(|live| live.listing.clone());
    let event = BirdEvent {
        service: "conversations",
        event: "conversation.updated",
        payload: &*listing,
    };
    serde_json::to_vec(&event).ok()
}

// ---------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------

/// One provider's delivery task.
struct Worker {
    provider: Provider,
    url: String,
    client: reqwest::Client,
    keys: Arc<Keys>,
    counters: Arc<Counters>,
}

/// How one attempt went.
enum Outcome {
    Accepted,
    Refused,
    Failed,
}

impl Worker {
    /// Takes the commands one after the other until the queue closes.
    async fn run(self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let mut held: Option<Event> = None;
        while let Some(command) = rx.recv().await {
            match command {
                Command::Event(event) => {
                    if event.fate.drop {
                        bump(&self.counters.dropped);
                    } else if event.fate.reorder && held.is_none() {
                        bump(&self.counters.reordered);
                        held = Some(event);
                        continue;
                    } else {
                        self.deliver(&event).await;
                    }
                    if let Some(event) = held.take() {
                        self.deliver(&event).await;
                    }
                }
                Command::Flush(done) => {
                    if let Some(event) = held.take() {
                        self.deliver(&event).await;
                    }
                    let _ = done.send(());
                }
            }
        }
    }

    /// Signs and sends an event (twice when duplicated, with the same headers).
    async fn deliver(&self, event: &Event) {
        let headers = self.sign(event);
        self.post(&event.body, &headers).await;
        if event.fate.duplicate {
            bump(&self.counters.duplicated);
            self.post(&event.body, &headers).await;
        }
    }

    /// The signature headers of an event, signed when it is first sent (retries and the
    /// duplicate reuse them).
    fn sign(&self, event: &Event) -> Vec<(&'static str, String)> {
        match self.provider {
            Provider::Partoo => {
                let mut signature = self.keys.partoo.sign(&event.body).to_bytes();
                if event.fate.bad_signature {
                    bump(&self.counters.bad_signatures);
                    flip(&mut signature, event.n);
                }
                vec![("x-partoo-signature-v1", STANDARD.encode(signature))]
            }
            Provider::Bird => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let timestamp = if event.fate.stale {
                    bump(&self.counters.stale);
                    now.saturating_sub(STALE_BY_SECS)
                } else {
                    now
                }
                .to_string();
                let mut signature =
                    bird_signature(&self.keys.bird, &timestamp, &self.url, &event.body);
                if event.fate.bad_signature {
                    bump(&self.counters.bad_signatures);
                    flip(&mut signature, event.n);
                }
                vec![
                    ("messagebird-request-id", format!("evt-{}", event.n)),
                    ("messagebird-request-timestamp", timestamp),
                    ("messagebird-signature", STANDARD.encode(signature)),
                ]
            }
        }
    }

    /// POSTs a body until it is accepted or refused, or the retries run out.
    async fn post(&self, body: &Bytes, headers: &[(&'static str, String)]) {
        let retries = match self.provider {
            Provider::Partoo => PARTOO_RETRIES,
            Provider::Bird => BIRD_RETRIES,
        };
        for attempt in 0..=retries {
            bump(&self.counters.deliveries);
            let mut request = self
                .client
                .post(&self.url)
                .header("content-type", "application/json")
                .body(body.clone());
            for (name, value) in headers {
                request = request.header(*name, value.as_str());
            }
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    // Read to the end, so the connection can be used again.
                    let _ = response.bytes().await;
                    if status.is_success() {
                        Outcome::Accepted
                    } else if status.is_server_error() {
                        Outcome::Failed
                    } else {
                        Outcome::Refused
                    }
                }
                Err(_) => Outcome::Failed,
            };
            match outcome {
                Outcome::Accepted => {
                    bump(&self.counters.accepted);
                    return;
                }
                Outcome::Refused => {
                    bump(&self.counters.refused);
                    return;
                }
                Outcome::Failed if attempt < retries => {
                    bump(&self.counters.retried);
                    tokio::time::sleep(BACKOFF_STEP * (attempt + 1)).await;
                }
                Outcome::Failed => {
                    // Given up on.
                    bump(&self.counters.refused);
                    return;
                }
            }
        }
    }
}

/// Flips one byte of a signature (which one depends on the event).
fn flip(signature: &mut [u8], n: u64) {
    if signature.is_empty() {
        return;
    }
    let at = (n % signature.len() as u64) as usize;
    signature[at] = !signature[at];
}

/// Bird's signature: HMAC-SHA256, keyed with the signing key's bytes, over
/// `timestamp + "\n" + url + "\n"` followed by the body's SHA-256 (32 raw bytes).
fn bird_signature(key: &str, timestamp: &str, url: &str, body: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length: this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return Vec::new();
    };
    mac.update(timestamp.as_bytes());
    mac.update(b"\n");
    mac.update(url.as_bytes());
    mac.update(b"\n");
    mac.update(&Sha256::digest(body));
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print() {
        let faults: WebhookFaults =
            "drop=0.3,duplicate=0.1,reorder=0.1,bad-signature=0.05,stale=0.05"
                .parse()
                .unwrap();
        assert_eq!(
            faults,
            WebhookFaults {
                drop: 0.3,
                duplicate: 0.1,
                reorder: 0.1,
                bad_signature: 0.05,
                stale_timestamp: 0.05,
            }
        );
        assert_eq!(
            faults.to_string(),
            "drop=0.3,duplicate=0.1,reorder=0.1,bad-signature=0.05,stale=0.05"
        );
        assert_eq!(
            " Drop = 1 , STALE=1 ".parse::<WebhookFaults>().unwrap(),
            WebhookFaults {
                drop: 1.0,
                stale_timestamp: 1.0,
                ..WebhookFaults::default()
            }
        );
        assert_eq!(
            "none".parse::<WebhookFaults>().unwrap(),
            WebhookFaults::default()
        );
        assert_eq!(
            "".parse::<WebhookFaults>().unwrap(),
            WebhookFaults::default()
        );
        assert_eq!(WebhookFaults::default().to_string(), "none");
        // Independent probabilities: they may add up to more than 1.
        assert!(
            "drop=1,duplicate=1,reorder=1"
                .parse::<WebhookFaults>()
                .is_ok()
        );
        let cases = [
            ("lost=0.1", "unknown webhook fault \"lost\""),
            ("drop=1.5", "probability out of range in \"drop=1.5\""),
            ("drop=NaN", "probability out of range"),
            ("drop=much", "not a number in \"drop=much\""),
            ("drop", "missing \"=\" in \"drop\""),
            ("drop=0.1,,stale=0.1", "empty item"),
            ("stale=0.1,stale=0.2", "\"stale\" given twice"),
        ];
        for (spec, expected) in cases {
            let error = spec.parse::<WebhookFaults>().unwrap_err().to_string();
            assert!(error.starts_with(expected), "{spec}: {error}");
        }
    }

    #[test]
    fn keys_are_deterministic_per_seed() {
        let a = Keys::new(7).unwrap();
        let b = Keys::new(7).unwrap();
        let c = Keys::new(8).unwrap();
        assert_eq!(a.public, b.public);
        assert_ne!(a.public, c.public);
        assert!(
            a.public
                .partoo_public_key_pem
                .starts_with("-----BEGIN PUBLIC KEY-----\n")
        );
        assert_eq!(a.public.bird_signing_key.len(), 64);
        let raw = STANDARD.decode(&a.public.partoo_public_key_base64).unwrap();
        assert_eq!(raw, a.partoo.verifying_key().as_bytes());
    }

    #[test]
    fn a_flipped_byte_is_one_byte() {
        let mut signature = [0u8; 64];
        flip(&mut signature, 70);
        assert_eq!(signature.iter().filter(|b| **b != 0).count(), 1);
        assert_eq!(signature[6], 0xFF);
        flip(&mut [], 1);
    }
}
