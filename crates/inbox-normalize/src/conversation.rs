//! The unified conversation summary: one entry of a provider's conversations listing, and
//! the mapping of Partoo's and Bird's conversations into it.
//!
//! `ConversationSummary::from` is total for both providers: it never fails and never panics.
//! A field the listing leaves out is `None`; a value the provider did not document is
//! `unknown`, with the raw value kept; the provider's conversation rides along whole in
//! [`ConversationSummary::origin`]. Empty strings (Bird sends `""` for many missing values,
//! Partoo's `consumer_name` may be empty) count as absent.
//!
//! # Partoo
//!
//! | Partoo field | summary field |
//! |---|---|
//! | `id` | `id` |
//! | `status` `Open` | `status`: open |
//! | `status` `Closed` | `status`: closed |
//! | `status`, anything else | `status`: unknown (raw value) |
//! | `messaging_partner` `Google`, `Facebook`, `Instagram`, `SMS`, `Whatsapp`, `Custom` | `channel`: google, facebook, instagram, sms, whatsapp, custom |
//! | `messaging_partner`, anything else | `channel`: unknown (raw value) |
//! | (none: Partoo names no channel id) | `channel_id`: none |
//! | `consumer_name` | `contact.name` |
//! | `consumer_phone_number` | `contact.address` |
//! | (none: Partoo gives no consumer id) | `contact.id`: none |
//! | `created_at` | `created_at` |
//! | `last_message` (a message): `id`, `date`, `status`, `is_deleted: true` | `last_activity`: `message_id`, `message_at`, `message_status` (as spelled), `message_deleted` |
//! | `last_message` that is not a message (kept raw) | `last_activity`: `id` when an integer, `date` when a timestamp, `status` when a string, `is_deleted` when `true`, and `raw_digest` of the whole value |
//! | `last_message: null` or absent | no message fields in `last_activity` |
//! | `status` | `last_activity.conversation_status` (as spelled) |
//! | (none: Partoo gives no update time) | `last_activity.updated_at`: none |
//!
//! # Bird
//!
//! | Bird field | summary field |
//! |---|---|
//! | `id` | `id` |
//! | `status` `active` | `status`: open |
//! | `status` `closed` | `status`: closed |
//! | `status`, anything else | `status`: unknown (raw value) |
//! | `platformStyle` `email` | `channel`: email |
//! | `platformStyle`, anything else | `channel`: unknown (raw value) |
//! | `channelId` | `channel_id` |
//! | `initiatingParticipant` when its `type` is `contact`, else the first `featuredParticipants` entry of type `contact` | `contact` (none when neither is a contact) |
//! | that participant's `id`, `displayName` | `contact.id`, `contact.name` |
//! | its `contact.platformAddress`, else `contact.identifierValue` | `contact.address` |
//! | `createdAt` | `created_at` |
//! | `lastMessage`: `id`, `createdAt`, `status` | `last_activity`: `message_id`, `message_at`, `message_status` (as spelled) |
//! | `lastMessage.status` `deleted` | `last_activity.message_deleted` |
//! | `lastMessage: null` or absent | no message fields in `last_activity` |
//! | `status` | `last_activity.conversation_status` (as spelled) |
//! | `updatedAt` | `last_activity.updated_at` |
//!
//! What the summary does not name (Partoo's business, `is_read`, `issues`...; Bird's name,
//! visibility, participant counts, the last message's preview...) stays in `origin`.
//!
//! # The last-activity marker
//!
//! [`LastActivity`] is what a sync store compares with the one it stored to skip a
//! conversation that did not change. It holds every field of the listing that changes when
//! the conversation does, as the provider spelled it (so `accepted` and `processing`, one
//! unified status, are still told apart): two markers are equal only when the listing shows
//! the same last message, in the same status, deletion and conversation status, at the same
//! update time. [`LastActivity::key`] is its compact string form, for one column of a store:
//! equal keys if and only if equal markers.
//!
//! ```
//! use inbox_normalize::{ConversationSummary, ConversationStatus};
//!
//! let listing = |status: &str, last: i64| {
//!     let body = format!(r#"{{"conversations": [{{"id": 4217, "status": "{status}",
//!         "last_message": {{"id": {last}, "conversation_id": 4217,
//!             "date": "2023-01-31 16:22:17+00:00", "content_type": "Text",
//!             "sender_type": "Consumer", "content": "Bonjour", "status": "Success",
//!             "sender_label": null, "user_id": null, "custom_channel": null}}}}]}}"#);
//!     let page = partoo_types::ConversationsPage::from_slice(body.as_bytes()).unwrap();
//!     ConversationSummary::from(page.conversations[0].clone())
//! };
//! let stored = listing("Open", 10001);
//! assert_eq!(stored.status, Some(ConversationStatus::Open));
//! assert_eq!(stored.last_activity.key(), "v1;m=10001;t=1675182137000000000;s=Success;c=Open");
//! assert_eq!(listing("Open", 10001).last_activity, stored.last_activity); // skip it
//! assert_ne!(listing("Open", 10002).last_activity, stored.last_activity); // a new message
//! assert_ne!(listing("Closed", 10001).last_activity, stored.last_activity); // closed
//! ```

use std::fmt::Write as _;

use bird_types as bird;
use partoo_types as partoo;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::model::{ConversationId, MessageId, Provider, Str, Timestamp};

/// Whether a conversation is open. JSON: `"open"`, `"closed"`, or `"unknown"` with
/// `"status_raw"` beside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConversationStatus {
    /// Messages can be sent (Partoo `Open`, Bird `active`).
    Open,
    /// No message can be sent (Partoo `Closed`, Bird `closed`).
    Closed,
    /// A status the provider did not document, as sent.
    Unknown(Str),
}

impl ConversationStatus {
    /// The JSON name of the status.
    pub fn as_str(&self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Closed => "closed",
            ConversationStatus::Unknown(_) => "unknown",
        }
    }
}

/// The kind of channel a conversation goes through. JSON: `"google"`, `"facebook"`,
/// `"instagram"`, `"sms"`, `"whatsapp"`, `"email"`, `"custom"`, or `"unknown"` with
/// `"channel_raw"` beside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Channel {
    /// Google Business Messages (Partoo `Google`).
    Google,
    /// Facebook Messenger (Partoo `Facebook`).
    Facebook,
    /// Instagram direct messages (Partoo `Instagram`).
    Instagram,
    /// Text messages (Partoo `SMS`).
    Sms,
    /// WhatsApp (Partoo `Whatsapp`).
    Whatsapp,
    /// Email (Bird `platformStyle: email`).
    Email,
    /// A channel the business connected itself (Partoo `Custom`).
    Custom,
    /// A channel the provider did not document, as sent.
    Unknown(Str),
}

impl Channel {
    /// The JSON name of the channel.
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Google => "google",
            Channel::Facebook => "facebook",
            Channel::Instagram => "instagram",
            Channel::Sms => "sms",
            Channel::Whatsapp => "whatsapp",
            Channel::Email => "email",
            Channel::Custom => "custom",
            Channel::Unknown(_) => "unknown",
        }
    }
}

/// The customer a conversation is with. JSON: `{"id"?, "name"?, "address"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[non_exhaustive]
pub struct Contact {
    /// The provider's id of the contact, where given (Bird's participant id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Str>,
    /// A name to show, where given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Str>,
    /// A phone number, email address or other platform address, where given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Str>,
}

/// The last-activity marker of a conversation: what the listing says about its last
/// message and its state, for a sync store to tell whether anything changed since it last
/// looked.
///
/// Equal markers mean nothing visible changed, as far as the listing can tell: the same last
/// message (id and time), in the same status and deletion state, the same conversation
/// status, and (Bird) the same `updatedAt`. Statuses are kept as the provider spells them, so
/// a change the unified model would fold (Bird `accepted` to `processing`) still shows.
/// Times compare by instant, whatever their spelling. [`LastActivity::key`] is the same
/// comparison as one string.
///
/// JSON: `{"key", "message_id"?, "message_at"?, "message_status"?, "message_deleted",
/// "conversation_status"?, "updated_at"?, "raw_digest"?}`, times as RFC 3339 in UTC, the
/// digest as 16 hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct LastActivity {
    /// The last message's id, where the listing gives it.
    pub message_id: Option<MessageId>,
    /// When the last message was sent (Partoo `date`, Bird `createdAt`).
    pub message_at: Option<Timestamp>,
    /// The last message's status, as the provider spells it (`Success`, `delivered`...).
    pub message_status: Option<Str>,
    /// Whether the last message was deleted (Partoo `is_deleted`, Bird status `deleted`).
    pub message_deleted: bool,
    /// The conversation's status, as the provider spells it (`Open`, `active`...).
    pub conversation_status: Option<Str>,
    /// When the conversation was last updated (Bird `updatedAt`; Partoo gives none).
    pub updated_at: Option<Timestamp>,
    /// A digest of a last message this crate could not read as one (Partoo's
    /// `last_message` kept raw): 64-bit FNV-1a over its JSON in a canonical form (object
    /// keys sorted), so that any change to it shows. `None` otherwise.
    pub raw_digest: Option<u64>,
}

impl LastActivity {
    /// The marker as one compact ASCII string, for a store to keep in one column and compare
    /// with `==`: equal keys if and only if equal markers.
    ///
    /// The format is stable: the same marker gives the same key in every version of this
    /// crate (a change to the format would be a breaking change). It is `v1` followed by
    /// `;name=value` for each field that is set, in this order: `m` the message id, `t` the
    /// message time, `s` the message status, `d` (no value) when the message is deleted, `c`
    /// the conversation status, `u` the update time, `r` the raw digest. Times are
    /// nanoseconds since the Unix epoch in decimal, the digest 16 lowercase hexadecimal
    /// digits; in ids and statuses every byte outside `A-Z a-z 0-9 - . _ ~` is written `%XX`
    /// (so no value can forge a separator). A marker with nothing set is `v1`.
    ///
    /// ```
    /// let marker = inbox_normalize::LastActivity::default();
    /// assert_eq!(marker.key(), "v1");
    /// ```
    pub fn key(&self) -> String {
        let mut key = String::from("v1");
        if let Some(id) = &self.message_id {
            key.push_str(";m=");
            escape_into(&id.to_string(), &mut key);
        }
        if let Some(at) = &self.message_at {
            let _ = write!(key, ";t={}", at.unix_nanos());
        }
        if let Some(status) = &self.message_status {
            key.push_str(";s=");
            escape_into(status, &mut key);
        }
        if self.message_deleted {
            key.push_str(";d");
        }
        if let Some(status) = &self.conversation_status {
            key.push_str(";c=");
            escape_into(status, &mut key);
        }
        if let Some(at) = &self.updated_at {
            let _ = write!(key, ";u={}", at.unix_nanos());
        }
        if let Some(digest) = self.raw_digest {
            let _ = write!(key, ";r={digest:016x}");
        }
        key
    }
}

impl Serialize for LastActivity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("key", &self.key())?;
        if let Some(id) = &self.message_id {
            map.serialize_entry("message_id", id)?;
        }
        if let Some(at) = &self.message_at {
            map.serialize_entry("message_at", &at.to_rfc3339_utc())?;
        }
        if let Some(status) = &self.message_status {
            map.serialize_entry("message_status", status)?;
        }
        map.serialize_entry("message_deleted", &self.message_deleted)?;
        if let Some(status) = &self.conversation_status {
            map.serialize_entry("conversation_status", status)?;
        }
        if let Some(at) = &self.updated_at {
            map.serialize_entry("updated_at", &at.to_rfc3339_utc())?;
        }
        if let Some(digest) = self.raw_digest {
            map.serialize_entry("raw_digest", &format!("{digest:016x}"))?;
        }
        map.end()
    }
}

/// Percent-encodes every byte of `s` outside the URI unreserved set.
fn escape_into(s: &str, out: &mut String) {
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

/// The provider's own conversation, kept whole so nothing is lost. JSON: the wire
/// conversation as the provider sent it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConversationOrigin {
    /// A Partoo conversation.
    Partoo(Box<partoo::Conversation>),
    /// A Bird conversation.
    Bird(Box<bird::Conversation>),
}

impl Serialize for ConversationOrigin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ConversationOrigin::Partoo(c) => c.serialize(serializer),
            ConversationOrigin::Bird(c) => c.serialize(serializer),
        }
    }
}

/// One conversation of a provider's listing, in the unified model. See the crate
/// documentation for its JSON shape and the [module](self) for the mapping tables.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConversationSummary {
    /// The provider it came from.
    pub provider: Provider,
    /// Its id.
    pub id: ConversationId,
    /// Whether it is open, where the listing says.
    pub status: Option<ConversationStatus>,
    /// The kind of channel it goes through, where the listing says.
    pub channel: Option<Channel>,
    /// The provider's id of its channel, where given (Bird `channelId`).
    pub channel_id: Option<Str>,
    /// The customer it is with, where the listing names one.
    pub contact: Option<Contact>,
    /// When it was created, where given.
    pub created_at: Option<Timestamp>,
    /// What the listing says about its last activity: compare it to skip unchanged
    /// conversations.
    pub last_activity: LastActivity,
    /// The provider's conversation, whole.
    pub origin: ConversationOrigin,
}

impl Serialize for ConversationSummary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("provider", &self.provider)?;
        map.serialize_entry("id", &self.id)?;
        if let Some(status) = &self.status {
            map.serialize_entry("status", status.as_str())?;
            if let ConversationStatus::Unknown(raw) = status {
                map.serialize_entry("status_raw", raw)?;
            }
        }
        if let Some(channel) = &self.channel {
            map.serialize_entry("channel", channel.as_str())?;
            if let Channel::Unknown(raw) = channel {
                map.serialize_entry("channel_raw", raw)?;
            }
        }
        if let Some(id) = &self.channel_id {
            map.serialize_entry("channel_id", id)?;
        }
        if let Some(contact) = &self.contact {
            map.serialize_entry("contact", contact)?;
        }
        if let Some(at) = &self.created_at {
            map.serialize_entry("created_at", &at.to_rfc3339_utc())?;
        }
        map.serialize_entry("last_activity", &self.last_activity)?;
        map.serialize_entry("origin", &self.origin)?;
        map.end()
    }
}

fn non_empty(s: Option<&Str>) -> Option<Str> {
    s.filter(|s| !s.is_empty()).cloned()
}

/// A contact, or none when nothing about it is known.
fn contact(id: Option<Str>, name: Option<Str>, address: Option<Str>) -> Option<Contact> {
    (id.is_some() || name.is_some() || address.is_some()).then_some(Contact { id, name, address })
}

impl From<partoo::Conversation> for ConversationSummary {
    fn from(c: partoo::Conversation) -> Self {
        ConversationSummary::from(Box::new(c))
    }
}

/// A page's conversations come boxed: the box becomes the `origin` as it is, without a copy.
impl From<Box<partoo::Conversation>> for ConversationSummary {
    fn from(c: Box<partoo::Conversation>) -> Self {
        let status = c.status.as_ref().map(|s| match s {
            partoo::ConversationStatus::Open => ConversationStatus::Open,
            partoo::ConversationStatus::Closed => ConversationStatus::Closed,
            other => ConversationStatus::Unknown(other.as_str().into()),
        });
        let channel = c.messaging_partner.as_ref().map(|p| {
            use partoo::MessagingPartner as P;
            match p {
                P::Google => Channel::Google,
                P::Facebook => Channel::Facebook,
                P::Instagram => Channel::Instagram,
                P::Sms => Channel::Sms,
                P::Whatsapp => Channel::Whatsapp,
                P::Custom => Channel::Custom,
                other => Channel::Unknown(other.as_str().into()),
            }
        });
        let mut last_activity = match &c.last_message {
            Some(partoo::LastMessage::Message(m)) => LastActivity {
                message_id: Some(MessageId::Partoo(m.id)),
                message_at: Some(m.date),
                message_status: m.status.as_ref().map(|s| s.as_str().into()),
                message_deleted: m.is_deleted == Some(true),
                ..LastActivity::default()
            },
            Some(partoo::LastMessage::Raw(raw)) => raw_activity(raw),
            // `LastMessage` is non-exhaustive: a variant added later still changes the key.
            Some(other) => serde_json::to_value(other)
                .map(|raw| raw_activity(&raw))
                .unwrap_or_default(),
            None => LastActivity::default(),
        };
        last_activity.conversation_status = c.status.as_ref().map(|s| s.as_str().into());
        ConversationSummary {
            provider: Provider::Partoo,
            id: ConversationId::Partoo(c.id),
            status,
            channel,
            channel_id: None,
            contact: contact(
                None,
                non_empty(c.consumer_name.as_ref()),
                non_empty(c.consumer_phone_number.as_ref()),
            ),
            created_at: c.created_at,
            last_activity,
            origin: ConversationOrigin::Partoo(c),
        }
    }
}

/// What can be read from a Partoo last message that is not a message, and its digest.
fn raw_activity(raw: &Value) -> LastActivity {
    LastActivity {
        message_id: raw.get("id").and_then(Value::as_i64).map(MessageId::Partoo),
        message_at: raw
            .get("date")
            .and_then(Value::as_str)
            .and_then(|d| Timestamp::parse(d).ok()),
        message_status: raw.get("status").and_then(Value::as_str).map(Str::from),
        message_deleted: raw.get("is_deleted").and_then(Value::as_bool) == Some(true),
        raw_digest: Some(digest(raw)),
        ..LastActivity::default()
    }
}

/// 64-bit FNV-1a over a canonical encoding of `value`: a tag byte per node, lengths before
/// strings and containers, object keys sorted. Stable across versions and independent of
/// the key order serde_json keeps.
fn digest(value: &Value) -> u64 {
    struct Fnv(u64);
    impl Fnv {
        fn bytes(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 ^= u64::from(b);
                self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        fn len(&mut self, n: usize) {
            self.bytes(&(n as u64).to_le_bytes());
        }
        fn str(&mut self, s: &str) {
            self.len(s.len());
            self.bytes(s.as_bytes());
        }
        fn value(&mut self, value: &Value) {
            match value {
                Value::Null => self.bytes(b"z"),
                Value::Bool(false) => self.bytes(b"f"),
                Value::Bool(true) => self.bytes(b"t"),
                Value::Number(n) => {
                    self.bytes(b"n");
                    self.str(&n.to_string());
                }
                Value::String(s) => {
                    self.bytes(b"s");
                    self.str(s);
                }
                Value::Array(items) => {
                    self.bytes(b"a");
                    self.len(items.len());
                    items.iter().for_each(|item| self.value(item));
                }
                Value::Object(map) => {
                    self.bytes(b"o");
                    self.len(map.len());
                    let mut entries: Vec<_> = map.iter().collect();
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                    for (key, item) in entries {
                        self.str(key);
                        self.value(item);
                    }
                }
            }
        }
    }
    let mut fnv = Fnv(0xcbf2_9ce4_8422_2325);
    fnv.value(value);
    fnv.0
}

impl From<bird::Conversation> for ConversationSummary {
    fn from(c: bird::Conversation) -> Self {
        ConversationSummary::from(Box::new(c))
    }
}

/// A page's conversations come boxed: the box becomes the `origin` as it is, without a copy.
impl From<Box<bird::Conversation>> for ConversationSummary {
    fn from(c: Box<bird::Conversation>) -> Self {
        let status = c.status.as_ref().map(|s| match s {
            bird::ConversationStatus::Active => ConversationStatus::Open,
            bird::ConversationStatus::Closed => ConversationStatus::Closed,
            other => ConversationStatus::Unknown(other.as_str().into()),
        });
        let channel = c.platform_style.as_ref().map(|p| match p {
            bird::PlatformStyle::Email => Channel::Email,
            other => Channel::Unknown(other.as_str().into()),
        });
        let is_contact =
            |p: &&bird::Participant| p.participant_type == bird::ParticipantType::Contact;
        let customer = c
            .initiating_participant
            .as_ref()
            .filter(is_contact)
            .or_else(|| c.featured_participants().iter().find(is_contact));
        let contact = customer.and_then(|p| {
            let address = p.contact.as_ref().and_then(|c| {
                non_empty(c.platform_address.as_ref())
                    .or_else(|| non_empty(c.identifier_value.as_ref()))
            });
            contact(
                non_empty(Some(&p.id)),
                non_empty(p.display_name.as_ref()),
                address,
            )
        });
        let last = c.last_message();
        let message_status = last.and_then(|m| m.status.as_ref());
        let last_activity = LastActivity {
            message_id: last
                .and_then(|m| non_empty(m.id.as_ref()))
                .map(MessageId::Bird),
            message_at: last.and_then(|m| m.created_at),
            message_status: message_status.map(|s| s.as_str().into()),
            message_deleted: message_status == Some(&bird::MessageStatus::Deleted),
            conversation_status: c.status.as_ref().map(|s| s.as_str().into()),
            updated_at: c.updated_at,
            raw_digest: None,
        };
        ConversationSummary {
            provider: Provider::Bird,
            id: ConversationId::Bird(c.id.clone()),
            status,
            channel,
            channel_id: non_empty(c.channel_id.as_ref()),
            contact,
            created_at: c.created_at,
            last_activity,
            origin: ConversationOrigin::Bird(c),
        }
    }
}

#[cfg(test)]
mod tests;
