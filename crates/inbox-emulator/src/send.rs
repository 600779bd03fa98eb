//! Sends: Partoo's `POST /v2/messages` and `POST /v2/messages/{id}/retry`, Bird's `POST
//! /workspaces/{ws}/conversations/{id}/messages`.
//!
//! A send is checked (each provider's refusals and bodies), then accepted: the message is
//! appended to its conversation's live log on the activity clock, as activity appends
//! (under the clock's lock, so sends, retries and rounds of activity happen one after the
//! other), its listing entry follows, it is recorded in the emulator's log of sends (its
//! index there is the send's sequence number, which [`SendFaults`] are decided by), and
//! its webhook events are queued. The answer may then be withheld ([`SendFaults`]'s
//! `timeout_after_accept`): the server leaves the connection open without an answer.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::activity::{Touch, relist};
use crate::api::{self, Reply};
use crate::dataset::{Conv, Edit, Provider, SentEdit, Source};
use crate::fault::{ParseFaultsError, spec_fraction, spec_items};
use crate::generate::{self, Lifecycle, PartooSent, raw, uuid};
use crate::rng::{Rng, hash};
use crate::time;
use crate::wire::{BirdDetailedError, JsonDetail, PartooDetail, PartooSendAnswer, PartooStatus};
use crate::{State, Tenant};

const SALT_SEND: u64 = 0x5345_4e44;
const SALT_BIRD_ID: u64 = 0x0053_454e_4449;

/// How far the activity clock moves for each accepted send at least: one millisecond (whole
/// milliseconds, as Bird shows them); it moves to the wall clock when that is later.
const SEND_STEP_MICROS: i64 = 1_000;

/// When a send accepted now is dated: a real provider stamps it with its own clock, so the
/// wall clock (whole milliseconds), unless the activity clock is past it (then a step on
/// from there): a sent message is newer than every message there is, and a client that
/// looks for its send by the time it started finds it.
fn send_time(clock: i64) -> i64 {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| {
            i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 1000) * 1000
        });
    wall.max(clock.saturating_add(SEND_STEP_MICROS))
}

/// The content types `POST /messages` takes.
const PARTOO_CONTENT_TYPES: [&str; 5] = ["Text", "Image", "Video", "Audio", "Document"];

/// Faults injected into accepted sends, each a probability (`0.0..=1.0`) drawn per send
/// from [`Config::seed`](crate::Config::seed) and the send's sequence number (accepted
/// sends are numbered from 0 in the order accepted, across both providers and every
/// account), independently of each other and of [`Faults`](crate::Faults). Default: none.
///
/// It reads and writes a compact spelling for command lines, `timeout=0.05,fail=0.05`: see
/// its [`FromStr`] implementation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SendFaults {
    /// Share of accepted sends whose answer never comes: the message is appended (and its
    /// webhooks queued), then no head is sent and the connection stays open until the
    /// client gives up or the emulator shuts down, like [`Faults::hang`](crate::Faults::hang).
    /// Counted in [`Stats::send_timeouts`](crate::Stats::send_timeouts).
    pub timeout_after_accept: f64,
    /// Share of accepted Partoo sends whose message gets the status `Failed` (so `POST
    /// /v2/messages/{id}/retry` can be tried on it); the answer is the usual 200. Bird
    /// sends draw it too but ignore it: their messages are `accepted`. Counted in
    /// [`Stats::delivery_failures`](crate::Stats::delivery_failures).
    pub delivery_failure: f64,
}

/// The names of a spec's items, in the order they are documented and written.
const NAMES: [&str; 2] = ["timeout", "fail"];

impl FromStr for SendFaults {
    type Err = ParseFaultsError;

    /// Reads a compact spec: comma-separated `name=value` items, each name at most once,
    /// spaces around items and around `=` ignored; an empty spec (or `none`) is no faults.
    ///
    /// | item | sets |
    /// |---|---|
    /// | `timeout=F` | [`SendFaults::timeout_after_accept`] |
    /// | `fail=F` | [`SendFaults::delivery_failure`] |
    ///
    /// Each value is a probability from 0 to 1; they are independent and need not add up
    /// to at most 1.
    ///
    /// ```
    /// use inbox_emulator::SendFaults;
    ///
    /// let faults: SendFaults = "timeout=0.05, fail=0.1".parse().unwrap();
    /// assert_eq!(faults.timeout_after_accept, 0.05);
    /// assert_eq!(faults.delivery_failure, 0.1);
    /// assert_eq!(faults.to_string(), "timeout=0.05,fail=0.1");
    /// assert_eq!("none".parse::<SendFaults>().unwrap(), SendFaults::default());
    /// assert!("fail=2".parse::<SendFaults>().is_err());
    /// ```
    fn from_str(spec: &str) -> Result<SendFaults, ParseFaultsError> {
        let mut faults = SendFaults::default();
        for (slot, value, item) in spec_items(spec, &NAMES, "send fault", "timeout=0.05")? {
            let share = spec_fraction(value, item, "probability")?;
            match slot {
                0 => faults.timeout_after_accept = share,
                _ => faults.delivery_failure = share,
            }
        }
        Ok(faults)
    }
}

impl fmt::Display for SendFaults {
    /// The compact spec that [`FromStr`] reads back: the probabilities that are not zero;
    /// `none` when none is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = [self.timeout_after_accept, self.delivery_failure]
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

/// One accepted send (see [`Emulator::sent`](crate::Emulator::sent)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// `"partoo"` or `"bird"`.
    pub provider: &'static str,
    /// The account whose key sent it (0 is the one [`Config`](crate::Config) describes).
    pub account: usize,
    /// Its conversation (a Partoo id as a decimal string, or a Bird id).
    pub conversation_id: String,
    /// The new message's id (a Partoo id as a decimal string, or a Bird id).
    pub message_id: String,
    /// Partoo: the `content_type` sent (`Text`, `Image`, `Video`, `Audio`, `Document`);
    /// Bird: the body's type (`text`, `image`, `file`) or `template`.
    pub content_type: String,
    /// The text, the (first) media URL, or the template's name (its `projectId` when it
    /// has no name).
    pub content: String,
    /// Bird's `reference`, as sent; `None` when it was not (always for Partoo).
    pub reference: Option<String>,
    /// Whether the message's status is `Failed` now (a Partoo delivery failure not retried
    /// yet; never for Bird).
    pub failed: bool,
}

/// What happened to a send, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Accepted (2xx), whether its answer then arrived or not.
    Accepted,
    /// Refused with a 4xx.
    Refused,
    /// Accepted, and its answer withheld.
    TimedOut,
    /// Accepted, and its message made `Failed`.
    DeliveryFailed,
}

/// What the send faults decided for one accepted send.
struct Fate {
    timeout: bool,
    fail: bool,
}

/// The fate of accepted send number `n`. Both rolls are drawn, in a fixed order, whatever
/// the probabilities.
fn decide(faults: &SendFaults, seed: u64, n: usize) -> Fate {
    let mut rng = Rng::of(&[seed, SALT_SEND, n as u64]);
    let timeout = rng.chance(faults.timeout_after_accept);
    let fail = rng.chance(faults.delivery_failure);
    Fate { timeout, fail }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether `text` is an absolute `http` or `https` URL with a host and no white space.
fn is_url(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
        && !host.is_empty()
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Appends an accepted message to a conversation's live log, at `at`, and relists it;
/// returns its position.
fn append(
    conv: &Conv,
    json: Box<RawValue>,
    lifecycle: Lifecycle,
    at: i64,
    sent: SentEdit,
) -> usize {
    conv.update(|live| {
        let position = live.len;
        live.edits.insert(
            position,
            Edit {
                lifecycle,
                json,
                created: time::from_micros(at),
                sent: Some(sent),
            },
        );
        live.len += 1;
        live.touched = Some(live.touched.map_or(at, |t| t.max(at)));
        relist(conv, live);
        position
    })
}

/// Queues the webhook events of a message a send or a retry added or changed: account 0's
/// only (the one webhook subscription the emulator has, as activity's).
fn notify(state: &State, tenant: &Tenant, touch: Touch) {
    if tenant.index == 0 {
        state
            .webhooks
            .enqueue(&tenant.data, tenant.account.partoo_org_id, &[touch]);
    }
}

/// A message's JSON with its `status` set.
fn with_status(json: &RawValue, status: &str) -> Box<RawValue> {
    match serde_json::from_str::<Value>(json.get()) {
        Ok(Value::Object(mut map)) => {
            map.insert("status".to_owned(), Value::String(status.to_owned()));
            raw(&map)
        }
        _ => json.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Partoo
// ---------------------------------------------------------------------------------------

/// A checked `POST /messages` body.
struct PartooSend<'a> {
    conversation_id: i64,
    content_type: &'static str,
    content: &'a str,
}

/// The fields Partoo refuses, each with its message.
type FieldErrors = Vec<(&'static str, &'static str)>;

/// Checks a `POST /messages` body (`None`: not JSON); `Err` with the refused fields and
/// their messages.
fn partoo_check(value: Option<&Value>) -> Result<PartooSend<'_>, FieldErrors> {
    let Some(value) = value else {
        return Err(vec![("_schema", "Invalid JSON body.")]);
    };
    let Some(map) = value.as_object() else {
        return Err(vec![("_schema", "Invalid input type.")]);
    };
    const MISSING: &str = "Missing data for required field.";
    const NULL: &str = "Field may not be null.";
    let mut errors = Vec::new();
    let conversation_id = match map.get("conversation_id") {
        None => {
            errors.push(("conversation_id", MISSING));
            None
        }
        Some(Value::Null) => {
            errors.push(("conversation_id", NULL));
            None
        }
        Some(value) => {
            let id = value
                .as_i64()
                .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()));
            if id.is_none() {
                errors.push(("conversation_id", "Not a valid integer."));
            }
            id
        }
    };
    let content_type = match map.get("content_type") {
        None => {
            errors.push(("content_type", MISSING));
            None
        }
        Some(Value::Null) => {
            errors.push(("content_type", NULL));
            None
        }
        Some(value) => {
            let known = value
                .as_str()
                .and_then(|s| PARTOO_CONTENT_TYPES.iter().find(|t| **t == s).copied());
            if known.is_none() {
                errors.push((
                    "content_type",
                    "Must be one of: Text, Image, Video, Audio, Document.",
                ));
            }
            known
        }
    };
    let content = match map.get("content") {
        None => {
            errors.push(("content", MISSING));
            None
        }
        Some(Value::Null) => {
            errors.push(("content", NULL));
            None
        }
        Some(Value::String(text)) if text.trim().is_empty() => {
            errors.push(("content", "Field may not be blank."));
            None
        }
        Some(Value::String(text)) => Some(text.as_str()),
        Some(_) => {
            errors.push(("content", "Not a valid string."));
            None
        }
    };
    if let (Some(kind), Some(content)) = (content_type, content)
        && kind != "Text"
        && !is_url(content)
    {
        errors.push(("content", "Not a valid URL."));
    }
    match (conversation_id, content_type, content) {
        (Some(conversation_id), Some(content_type), Some(content)) if errors.is_empty() => {
            Ok(PartooSend {
                conversation_id,
                content_type,
                content,
            })
        }
        _ => Err(errors),
    }
}

/// `POST /v2/messages`: refused (400, 404), or accepted (200 `{"status": "success",
/// "message_id": N}`) and appended.
pub(crate) fn partoo_send(state: &State, tenant: &Tenant, body: &[u8]) -> Reply {
    let value = serde_json::from_slice::<Value>(body).ok();
    let PartooSend {
        conversation_id,
        content_type,
        content,
    } = match partoo_check(value.as_ref()) {
        Ok(checked) => checked,
        Err(errors) => return api::partoo_bad_request(&errors),
    };
    let data = &tenant.data;
    let Some(index) = data.find(Provider::Partoo, &conversation_id.to_string()) else {
        return api::partoo_not_found();
    };
    let conv = &data.conversations(Provider::Partoo)[index];
    if conv.partner.as_deref() == Some("SMS") && content_type != "Text" {
        return api::partoo_bad_request(&[("content_type", "SMS conversations take text only.")]);
    }
    let mut clock = lock(&data.clock);
    let mut log = lock(&state.sends);
    let n = log.len();
    let fate = decide(&state.config.send_faults, state.config.seed, n);
    clock.now = send_time(clock.now);
    let at = clock.now;
    let id = clock.next_partoo_id;
    clock.next_partoo_id = clock.next_partoo_id.saturating_add(1);
    let status = if fate.fail { "Failed" } else { "Success" };
    let json = generate::partoo_sent(&PartooSent {
        id,
        conversation_id,
        content_type,
        content,
        created: at,
        status,
        custom_channel: conv.partner.as_deref() == Some("Custom"),
    });
    let lifecycle = Lifecycle {
        id: Some(id),
        created: Some(at),
        status: Some(status),
        ..Lifecycle::default()
    };
    let position = append(conv, json, lifecycle, at, SentEdit::Partoo { log: n });
    log.push(Sent {
        provider: "partoo",
        account: tenant.index,
        conversation_id: conv.key.clone(),
        message_id: id.to_string(),
        content_type: content_type.to_owned(),
        content: content.to_owned(),
        reference: None,
        failed: fate.fail,
    });
    drop(log);
    notify(
        state,
        tenant,
        Touch {
            provider: Provider::Partoo,
            conversation: index,
            position,
            added: true,
        },
    );
    drop(clock);
    if fate.fail {
        state.count_send(Outcome::DeliveryFailed);
    }
    let mut reply = Reply::json(
        StatusCode::OK,
        &PartooSendAnswer {
            status: "success",
            message_id: id,
        },
    );
    if fate.timeout {
        state.count_send(Outcome::TimedOut);
        reply.withheld = true;
    }
    reply
}

/// `POST /v2/messages/{id}/retry`: 404 for an unknown message, 400 for one that is not
/// `Failed`; else its status becomes `Success` (a changed message) and 200 `{"status":
/// "success"}`.
pub(crate) fn partoo_retry(state: &State, tenant: &Tenant, id: &str) -> Reply {
    #[derive(Deserialize)]
    struct Current {
        status: Option<String>,
        date: Option<String>,
    }
    let Ok(id) = id.parse::<i64>() else {
        return api::partoo_not_found();
    };
    let data = &tenant.data;
    // Held throughout: nothing else changes the data meanwhile.
    let clock = lock(&data.clock);
    let Some((index, position)) = data.find_partoo_message(id) else {
        return api::partoo_not_found();
    };
    let conv = &data.conversations(Provider::Partoo)[index];
    let current = data
        .with_messages(Provider::Partoo, index, |view| {
            view.get(position).map(ToOwned::to_owned)
        })
        .flatten();
    let Some(current) = current else {
        return api::partoo_not_found();
    };
    let facts = serde_json::from_str::<Current>(current.get()).ok();
    if facts.as_ref().and_then(|f| f.status.as_deref()) != Some("Failed") {
        return api::partoo_error(
            StatusCode::BAD_REQUEST,
            PartooDetail::Json(JsonDetail::Message("Only a failed message can be retried.")),
        );
    }
    let mut log = lock(&state.sends);
    conv.update(|live| {
        let lifecycle = Lifecycle {
            status: Some("Success"),
            ..live.lifecycle(position)
        };
        match live.edits.get_mut(&position) {
            Some(
                edit @ Edit {
                    sent: Some(SentEdit::Partoo { .. }),
                    ..
                },
            ) => {
                edit.json = with_status(&edit.json, "Success");
                edit.lifecycle = lifecycle;
                if let Some(SentEdit::Partoo { log: n }) = edit.sent
                    && let Some(record) = log.get_mut(n)
                {
                    record.failed = false;
                }
            }
            _ => {
                let (json, created) = match &conv.source {
                    Source::Partoo(p) => (
                        p.message(position, &lifecycle),
                        time::from_micros(lifecycle.created.unwrap_or_else(|| p.time(position))),
                    ),
                    // A fixture message: as read, with the new status.
                    _ => (
                        with_status(&current, "Success"),
                        facts
                            .as_ref()
                            .and_then(|f| f.date.as_deref())
                            .and_then(time::parse)
                            .unwrap_or(time::Instant::MIN),
                    ),
                };
                live.edits.insert(
                    position,
                    Edit {
                        lifecycle,
                        json,
                        created,
                        sent: None,
                    },
                );
            }
        }
        relist(conv, live);
    });
    drop(log);
    notify(
        state,
        tenant,
        Touch {
            provider: Provider::Partoo,
            conversation: index,
            position,
            added: false,
        },
    );
    drop(clock);
    Reply::json(StatusCode::OK, &PartooStatus { status: "success" })
}

// ---------------------------------------------------------------------------------------
// Bird
// ---------------------------------------------------------------------------------------

/// The problems of a Bird send, by the JSON path of what each is about.
#[derive(Default)]
struct Problems(BTreeMap<String, Vec<&'static str>>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: &'static str) {
        self.0.entry(path.into()).or_default().push(message);
    }

    fn has(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A field, `null` counting as absent.
fn field<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

/// An object that must be there.
fn object<'a>(
    value: Option<&'a Value>,
    path: &str,
    problems: &mut Problems,
) -> Option<&'a Map<String, Value>> {
    match value {
        None | Some(Value::Null) => {
            problems.add(path, "is required");
            None
        }
        Some(Value::Object(map)) => Some(map),
        Some(_) => {
            problems.add(path, "must be an object");
            None
        }
    }
}

/// An array that must be there and hold something.
fn items<'a>(value: Option<&'a Value>, path: &str, problems: &mut Problems) -> Option<&'a [Value]> {
    match value {
        None => {
            problems.add(path, "is required");
            None
        }
        Some(Value::Array(items)) if items.is_empty() => {
            problems.add(path, "must not be empty");
            None
        }
        Some(Value::Array(items)) => Some(items),
        Some(_) => {
            problems.add(path, "must be an array");
            None
        }
    }
}

/// A string that must be there and not be blank.
fn required<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
    problems: &mut Problems,
) -> Option<&'a str> {
    match field(object, key) {
        Some(Value::String(text)) if !text.trim().is_empty() => Some(text),
        None | Some(Value::String(_)) => {
            problems.add(path, "is required");
            None
        }
        Some(_) => {
            problems.add(path, "must be a string");
            None
        }
    }
}

/// A string that may be absent.
fn optional<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
    problems: &mut Problems,
) -> Option<&'a str> {
    match field(object, key) {
        None => None,
        Some(Value::String(text)) => Some(text),
        Some(_) => {
            problems.add(path, "must be a string");
            None
        }
    }
}

/// A media URL that must be there.
fn media_url<'a>(
    object: &'a Map<String, Value>,
    path: &str,
    problems: &mut Problems,
) -> Option<&'a str> {
    let path = format!("{path}.mediaUrl");
    let url = required(object, "mediaUrl", &path, problems)?;
    if !is_url(url) {
        problems.add(path, "must be an http or https URL");
        return None;
    }
    Some(url)
}

/// An image as sent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ImageOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    alt_text: Option<&'a str>,
    media_url: &'a str,
}

/// A file as sent (in the generator's field order).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FileOut<'a> {
    content_type: &'a str,
    filename: &'a str,
    media_url: &'a str,
}

/// A template as sent (in the generator's field order).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TemplateOut<'a> {
    locale: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<Vec<ParameterOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

#[derive(Serialize)]
struct ParameterOut<'a> {
    key: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    value: &'a Value,
}

#[derive(Serialize)]
struct TextOut<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct ImagesOut<'a> {
    images: Vec<ImageOut<'a>>,
}

#[derive(Serialize)]
struct FilesOut<'a> {
    files: Vec<FileOut<'a>>,
}

/// A body as sent: `{"type": "text", "text": {...}}`, the tag first, as the generator
/// writes bodies.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BodyOut<'a> {
    Text { text: TextOut<'a> },
    Image { image: ImagesOut<'a> },
    File { file: FilesOut<'a> },
}

/// What a checked Bird send carries.
enum Content<'a> {
    Body(BodyOut<'a>),
    Template(TemplateOut<'a>),
}

impl Content<'_> {
    /// The body's type, or `template`.
    fn kind(&self) -> &'static str {
        match self {
            Content::Body(BodyOut::Text { .. }) => "text",
            Content::Body(BodyOut::Image { .. }) => "image",
            Content::Body(BodyOut::File { .. }) => "file",
            Content::Template(_) => "template",
        }
    }

    /// What [`Sent::content`] says of it.
    fn content(&self) -> &str {
        match self {
            Content::Body(BodyOut::Text { text }) => text.text,
            Content::Body(BodyOut::Image { image }) => {
                image.images.first().map_or("", |i| i.media_url)
            }
            Content::Body(BodyOut::File { file }) => file.files.first().map_or("", |f| f.media_url),
            Content::Template(t) => t.name.or(t.project_id).unwrap_or(""),
        }
    }

    /// The preview text the conversations listing shows, as the generator words it.
    fn preview(&self) -> String {
        match self {
            Content::Body(BodyOut::Text { text }) => text.text.to_owned(),
            Content::Body(BodyOut::Image { .. }) => "Image".to_owned(),
            Content::Body(BodyOut::File { file }) => {
                file.files.first().map_or("File", |f| f.filename).to_owned()
            }
            Content::Template(_) => format!("Template: {}", self.content()),
        }
    }
}

/// A checked Bird send.
struct BirdSend<'a> {
    content: Content<'a>,
    participant_id: Option<&'a str>,
    participant_type: &'static str,
    reply_to: Option<&'a str>,
    reference: Option<&'a str>,
}

/// Checks a Bird send's JSON: every problem, by path.
fn bird_check(value: &Value) -> Result<BirdSend<'_>, Problems> {
    let mut problems = Problems::default();
    let Some(root) = value.as_object() else {
        problems.add(".", "must be an object");
        return Err(problems);
    };
    let content = match (field(root, "body"), field(root, "template")) {
        (None, None) => {
            problems.add(".body", "is required when there is no template");
            None
        }
        (Some(_), Some(_)) => {
            problems.add(".template", "must be absent when there is a body");
            None
        }
        (Some(body), None) => bird_body(body, &mut problems).map(Content::Body),
        (None, Some(template)) => bird_template(template, &mut problems).map(Content::Template),
    };
    let participant_id = optional(root, "participantId", ".participantId", &mut problems);
    if participant_id.is_some_and(|id| id.trim().is_empty()) {
        problems.add(".participantId", "must not be empty");
    }
    let participant_type = match field(root, "participantType") {
        None => "accessKey",
        Some(Value::String(kind)) if kind == "accessKey" => "accessKey",
        Some(Value::String(kind)) if kind == "contact" => "contact",
        Some(Value::String(kind)) if kind == "flow" => "flow",
        Some(_) => {
            problems.add(
                ".participantType",
                "must be one of accessKey, contact, flow",
            );
            "accessKey"
        }
    };
    let reply_to = optional(root, "replyToMessageId", ".replyToMessageId", &mut problems);
    if reply_to.is_some_and(|id| id.trim().is_empty()) {
        problems.add(".replyToMessageId", "must not be empty");
    }
    let reference = optional(root, "reference", ".reference", &mut problems);
    match content {
        Some(content) if problems.is_empty() => Ok(BirdSend {
            content,
            participant_id,
            participant_type,
            reply_to,
            reference,
        }),
        _ => Err(problems),
    }
}

fn bird_body<'a>(body: &'a Value, problems: &mut Problems) -> Option<BodyOut<'a>> {
    let body = object(Some(body), ".body", problems)?;
    let kind = match field(body, "type") {
        None => {
            problems.add(".body.type", "is required");
            return None;
        }
        Some(Value::String(kind)) if matches!(kind.as_str(), "text" | "image" | "file") => kind,
        Some(_) => {
            problems.add(".body.type", "must be one of text, image, file");
            return None;
        }
    };
    match kind.as_str() {
        "text" => {
            let text = object(field(body, "text"), ".body.text", problems)?;
            let text = required(text, "text", ".body.text.text", problems)?;
            Some(BodyOut::Text {
                text: TextOut { text },
            })
        }
        "image" => {
            let image = object(field(body, "image"), ".body.image", problems)?;
            let list = items(field(image, "images"), ".body.image.images", problems)?;
            let mut images = Vec::with_capacity(list.len());
            for (i, item) in list.iter().enumerate() {
                let path = format!(".body.image.images[{i}]");
                let Some(item) = object(Some(item), &path, problems) else {
                    continue;
                };
                let url = media_url(item, &path, problems);
                let alt_text = optional(item, "altText", &format!("{path}.altText"), problems);
                if let Some(media_url) = url {
                    images.push(ImageOut {
                        alt_text,
                        media_url,
                    });
                }
            }
            Some(BodyOut::Image {
                image: ImagesOut { images },
            })
        }
        _ => {
            let file = object(field(body, "file"), ".body.file", problems)?;
            let list = items(field(file, "files"), ".body.file.files", problems)?;
            let mut files = Vec::with_capacity(list.len());
            for (i, item) in list.iter().enumerate() {
                let path = format!(".body.file.files[{i}]");
                let Some(item) = object(Some(item), &path, problems) else {
                    continue;
                };
                let url = media_url(item, &path, problems);
                let content_type = required(
                    item,
                    "contentType",
                    &format!("{path}.contentType"),
                    problems,
                );
                let filename = required(item, "filename", &format!("{path}.filename"), problems);
                if let (Some(media_url), Some(content_type), Some(filename)) =
                    (url, content_type, filename)
                {
                    files.push(FileOut {
                        content_type,
                        filename,
                        media_url,
                    });
                }
            }
            Some(BodyOut::File {
                file: FilesOut { files },
            })
        }
    }
}

fn bird_template<'a>(template: &'a Value, problems: &mut Problems) -> Option<TemplateOut<'a>> {
    let template = object(Some(template), ".template", problems)?;
    let locale = required(template, "locale", ".template.locale", problems);
    let name = optional(template, "name", ".template.name", problems);
    let project_id = optional(template, "projectId", ".template.projectId", problems);
    let version = optional(template, "version", ".template.version", problems);
    let blank = |s: Option<&str>| s.is_none_or(|s| s.trim().is_empty());
    if blank(name)
        && blank(project_id)
        && !problems.has(".template.name")
        && !problems.has(".template.projectId")
    {
        problems.add(".template.name", "is required when there is no projectId");
    }
    let parameters = match field(template, "parameters") {
        None => None,
        Some(Value::Array(list)) => {
            let mut parameters = Vec::with_capacity(list.len());
            for (i, item) in list.iter().enumerate() {
                let path = format!(".template.parameters[{i}]");
                let Some(item) = object(Some(item), &path, problems) else {
                    continue;
                };
                let key = required(item, "key", &format!("{path}.key"), problems);
                let kind = match field(item, "type") {
                    None => {
                        problems.add(format!("{path}.type"), "is required");
                        None
                    }
                    Some(Value::String(kind)) if kind == "string" || kind == "number" => {
                        Some(kind.as_str())
                    }
                    Some(_) => {
                        problems.add(format!("{path}.type"), "must be one of string, number");
                        None
                    }
                };
                let value = match (kind, field(item, "value")) {
                    (_, None) => {
                        problems.add(format!("{path}.value"), "is required");
                        None
                    }
                    (Some("string"), Some(value @ Value::String(_)))
                    | (Some("number"), Some(value @ Value::Number(_))) => Some(value),
                    (Some("string"), Some(_)) => {
                        problems.add(format!("{path}.value"), "must be a string");
                        None
                    }
                    (Some(_), Some(_)) => {
                        problems.add(format!("{path}.value"), "must be a number");
                        None
                    }
                    (None, Some(_)) => None,
                };
                if let (Some(key), Some(kind), Some(value)) = (key, kind, value) {
                    parameters.push(ParameterOut { key, kind, value });
                }
            }
            Some(parameters)
        }
        Some(_) => {
            problems.add(".template.parameters", "must be an array");
            None
        }
    };
    Some(TemplateOut {
        locale: locale?,
        name,
        parameters,
        project_id,
        version,
    })
}

/// A message sent through the Conversations API, as its listing serves it: the fields of
/// the generator's outbound messages, in their order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BirdMessage<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a BodyOut<'a>>,
    conversation_id: &'a str,
    created_at: &'a str,
    draft: bool,
    id: &'a str,
    /// `null`: none yet.
    interactions: Option<()>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipients: Option<[Recipient<'a>; 1]>,
    reference: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to_message_id: Option<&'a str>,
    sender: &'a Value,
    source: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<&'a TemplateOut<'a>>,
    updated_at: &'a str,
}

/// The contact a message goes to, as the generator writes recipients.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Recipient<'a> {
    contact_annotation: ContactAnnotation<'a>,
    id: &'a Value,
    identifier_key: &'a Value,
    identifier_value: &'a Value,
    platform_address: &'a Value,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct ContactAnnotation<'a> {
    name: &'a Value,
}

/// What the conversations listing shows of a message (`lastMessage`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LastMessage<'a> {
    created_at: &'a str,
    id: &'a str,
    preview: Preview<'a>,
    /// Always `null` in the listing.
    recipients: (),
    sender: &'a Value,
    status: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct Preview<'a> {
    text: &'a str,
}

/// The conversation's contact, as its listing entry shows it.
fn contact_of(listing: &Value) -> Option<&Value> {
    let is_contact = |p: &&Value| p.get("type").and_then(Value::as_str) == Some("contact");
    listing
        .get("initiatingParticipant")
        .filter(is_contact)
        .or_else(|| {
            listing
                .get("featuredParticipants")?
                .as_array()?
                .iter()
                .find(is_contact)
        })
}

/// Who a send is from: the workspace's access key (the default) or flow, or the
/// conversation's contact; `participantId`, when given, is its id.
fn sender_of(send: &BirdSend<'_>, contact: Option<&Value>) -> Value {
    let mut sender = match send.participant_type {
        "contact" => contact.cloned(),
        kind => generate::bird_member(kind),
    }
    .unwrap_or_else(|| {
        serde_json::json!({
            "avatarUrl": "",
            "displayName": send.participant_type,
            "id": "",
            "status": "active",
            "type": send.participant_type,
        })
    });
    if let (Some(id), Some(map)) = (send.participant_id, sender.as_object_mut()) {
        map.insert("id".to_owned(), Value::String(id.to_owned()));
    }
    sender
}

fn recipient_of(contact: &Value) -> Recipient<'_> {
    let get = |v: &'static str| contact.get(v).unwrap_or(&Value::Null);
    let identifier = |v: &'static str| {
        contact
            .get("contact")
            .and_then(|c| c.get(v))
            .unwrap_or(&Value::Null)
    };
    Recipient {
        contact_annotation: ContactAnnotation {
            name: get("displayName"),
        },
        id: get("id"),
        identifier_key: identifier("identifierKey"),
        identifier_value: identifier("identifierValue"),
        platform_address: identifier("platformAddress"),
        kind: "to",
    }
}

/// A Bird 422: `{"code": "InvalidPayload", "message", "details": {path: [problems]}}`.
fn invalid_payload(problems: &Problems) -> Reply {
    Reply::json(
        StatusCode::UNPROCESSABLE_ENTITY,
        &BirdDetailedError {
            code: "InvalidPayload",
            message: "The request payload is not valid",
            details: &problems.0,
        },
    )
}

/// `POST /workspaces/{ws}/conversations/{id}/messages`: refused (400, 404, 409, 422), or
/// accepted (202 with the created message, as the listing then serves it) and appended.
pub(crate) fn bird_send(state: &State, tenant: &Tenant, conversation: &str, body: &[u8]) -> Reply {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return api::bird_bad_request("The request body is not valid JSON");
    };
    let send = match bird_check(&value) {
        Ok(send) => send,
        Err(problems) => return invalid_payload(&problems),
    };
    let data = &tenant.data;
    let Some(index) = data.find(Provider::Bird, conversation) else {
        return api::bird_not_found("Conversation not found");
    };
    let conv = &data.conversations(Provider::Bird)[index];
    if conv.status.as_deref() == Some("closed") {
        return api::bird_error(
            StatusCode::CONFLICT,
            "ConversationClosed",
            "The conversation is closed",
        );
    }
    let listing: Value =
        conv.live(|live| serde_json::from_str(live.listing.get()).unwrap_or(Value::Null));
    let contact = contact_of(&listing);
    let inbound = send.participant_type == "contact";
    let sender = sender_of(&send, contact);
    let mut clock = lock(&data.clock);
    let mut log = lock(&state.sends);
    let n = log.len();
    let fate = decide(&state.config.send_faults, state.config.seed, n);
    clock.now = send_time(clock.now);
    let at = clock.now;
    let salt = [
        tenant.account.seed,
        tenant.index as u64,
        SALT_BIRD_ID,
        n as u64,
    ];
    let id = uuid(hash(&salt), hash(&[salt[0], salt[1], salt[2], salt[3], 1]));
    let created = time::bird_date(at);
    let status = "accepted";
    let (body, template) = match &send.content {
        Content::Body(body) => (Some(body), None),
        Content::Template(template) => (None, Some(template)),
    };
    let json = raw(&BirdMessage {
        body,
        conversation_id: &conv.key,
        created_at: &created,
        draft: false,
        id: &id,
        interactions: None,
        recipients: contact
            .filter(|_| !inbound)
            .map(|contact| [recipient_of(contact)]),
        reference: send.reference.unwrap_or(""),
        reply_to_message_id: send.reply_to,
        sender: &sender,
        source: "conversations",
        status,
        template,
        updated_at: &created,
    });
    let preview = send.content.preview();
    let last_message = raw(&LastMessage {
        created_at: &created,
        id: &id,
        preview: Preview { text: &preview },
        recipients: (),
        sender: &sender,
        status,
        kind: send.content.kind(),
    });
    let lifecycle = Lifecycle {
        created: Some(at),
        updated: Some(at),
        status: Some(status),
        ..Lifecycle::default()
    };
    let answer = json.get().as_bytes().to_vec();
    let position = append(
        conv,
        json,
        lifecycle,
        at,
        SentEdit::Bird {
            last_message,
            inbound,
        },
    );
    log.push(Sent {
        provider: "bird",
        account: tenant.index,
        conversation_id: conv.key.clone(),
        message_id: id,
        content_type: send.content.kind().to_owned(),
        content: send.content.content().to_owned(),
        reference: send.reference.map(str::to_owned),
        failed: false,
    });
    drop(log);
    notify(
        state,
        tenant,
        Touch {
            provider: Provider::Bird,
            conversation: index,
            position,
            added: true,
        },
    );
    drop(clock);
    let mut reply = Reply::raw(StatusCode::ACCEPTED, answer);
    if fate.timeout {
        state.count_send(Outcome::TimedOut);
        reply.withheld = true;
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print() {
        let faults: SendFaults = "timeout=0.05,fail=0.05".parse().unwrap();
        assert_eq!(
            faults,
            SendFaults {
                timeout_after_accept: 0.05,
                delivery_failure: 0.05,
            }
        );
        assert_eq!(faults.to_string(), "timeout=0.05,fail=0.05");
        assert_eq!(
            " FAIL = 1 ".parse::<SendFaults>().unwrap(),
            SendFaults {
                delivery_failure: 1.0,
                ..SendFaults::default()
            }
        );
        assert_eq!(SendFaults::default().to_string(), "none");
        assert_eq!("".parse::<SendFaults>().unwrap(), SendFaults::default());
        assert!("timeout=1,fail=1".parse::<SendFaults>().is_ok());
        for (spec, expected) in [
            ("lost=0.1", "unknown send fault \"lost\""),
            ("fail=1.5", "probability out of range in \"fail=1.5\""),
            ("timeout=x", "not a number in \"timeout=x\""),
            ("fail=0.1,fail=0.2", "\"fail\" given twice"),
        ] {
            let error = spec.parse::<SendFaults>().unwrap_err().to_string();
            assert!(error.starts_with(expected), "{spec}: {error}");
        }
    }

    #[test]
    fn fates_follow_the_probabilities_and_the_seed() {
        let faults = SendFaults {
            timeout_after_accept: 0.2,
            delivery_failure: 0.1,
        };
        let fates: Vec<(bool, bool)> = (0..5_000)
            .map(|n| {
                let fate = decide(&faults, 7, n);
                (fate.timeout, fate.fail)
            })
            .collect();
        let share = |f: fn(&(bool, bool)) -> bool| {
            fates.iter().filter(|x| f(x)).count() as f64 / fates.len() as f64
        };
        assert!((share(|f| f.0) - 0.2).abs() < 0.02);
        assert!((share(|f| f.1) - 0.1).abs() < 0.02);
        let again: Vec<(bool, bool)> = (0..5_000)
            .map(|n| {
                let fate = decide(&faults, 7, n);
                (fate.timeout, fate.fail)
            })
            .collect();
        assert_eq!(fates, again);
        let none = decide(&SendFaults::default(), 7, 3);
        assert!(!none.timeout && !none.fail);
    }

    #[test]
    fn urls_are_checked() {
        assert!(is_url("https://cdn.example.com/a.jpg"));
        assert!(is_url("http://localhost:8080"));
        for bad in [
            "",
            "cdn.example.com/a.jpg",
            "ftp://x/y",
            "https://",
            "https:///a",
            "https://x/a b",
        ] {
            assert!(!is_url(bad), "{bad}");
        }
    }

    #[test]
    fn bird_problems_are_keyed_by_path() {
        let problems = |body: Value| {
            bird_check(&body)
                .err()
                .map(|p| p.0.into_iter().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(
            problems(serde_json::json!({"body": {"type": "text", "text": {"text": " "}}})),
            [(".body.text.text".to_owned(), vec!["is required"])]
        );
        assert_eq!(
            problems(serde_json::json!({
                "body": {"type": "file", "file": {"files": [{"mediaUrl": "x"}]}},
                "participantType": "robot",
            })),
            [
                (
                    ".body.file.files[0].contentType".to_owned(),
                    vec!["is required"]
                ),
                (
                    ".body.file.files[0].filename".to_owned(),
                    vec!["is required"]
                ),
                (
                    ".body.file.files[0].mediaUrl".to_owned(),
                    vec!["must be an http or https URL"]
                ),
                (
                    ".participantType".to_owned(),
                    vec!["must be one of accessKey, contact, flow"]
                ),
            ]
        );
        assert_eq!(
            problems(serde_json::json!([])),
            [(".".to_owned(), vec!["must be an object"])]
        );
        let ok = serde_json::json!({
            "template": {"name": "order_ready", "locale": "en",
                "parameters": [{"type": "string", "key": "order", "value": "42"}]},
            "reference": "r-1",
        });
        let send = bird_check(&ok).ok().unwrap();
        assert_eq!(send.content.kind(), "template");
        assert_eq!(send.content.content(), "order_ready");
        assert_eq!(send.reference, Some("r-1"));
    }
}
