//! Webhook deliveries: the envelope Bird posts, `{"service", "event", "payload"}`.
//!
//! The payload is decoded by the service and the event (never by its shape):
//!
//! - conversation events (`"service": "conversations"`, events `conversation.created`,
//!   `conversation.updated`, `conversation.deleted`) carry a conversation as in the listing:
//!   [`Payload::Conversation`];
//! - every other delivery is kept as sent, [`Payload::Raw`]: channel events
//!   (`"service": "channels"`, `whatsapp.inbound`, `sms.outbound`, interactions...) carry a
//!   Channels-API message, a schema unlike the Conversations message of [`crate::Message`];
//!   unknown services and events (other `conversation.*` events included) are never an
//!   error.
//!
//! Verifying the signature (`messagebird-signature`) is not done here: verify the bytes
//! first, then decode them.
//!
//! ```
//! use bird_types::webhook::{ConversationEventKind, Envelope, Service};
//!
//! let envelope = Envelope::from_slice(br#"{"service": "conversations",
//!     "event": "conversation.updated",
//!     "payload": {"id": "c1", "status": "active", "updatedAt": "2024-11-19T10:00:00.412Z"}}"#)?;
//! let (kind, conversation) = envelope.conversation_event().expect("a conversation event");
//! assert_eq!((kind, conversation.id.as_str()), (ConversationEventKind::Updated, "c1"));
//!
//! let envelope = Envelope::from_slice(br#"{"service": "channels", "event": "whatsapp.inbound",
//!     "payload": {"id": "m1", "body": {"type": "text", "text": {"text": "Hi"}}}}"#)?;
//! assert_eq!(envelope.service, Service::Channels);
//! assert_eq!(envelope.channel_event(), Some(("whatsapp", "inbound")));
//! let raw = envelope.raw_payload().expect("kept raw, byte for byte");
//! assert!(raw.get().starts_with(r#"{"id": "m1", "body""#));
//! # Ok::<(), bird_types::DecodeError>(())
//! ```

use std::fmt;

use inbox_wire::{DecodeError, Extra};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;

use crate::conversation::Conversation;

inbox_wire::open_enum! {
    /// The Bird service a webhook delivery comes from (`service`).
    pub enum Service {
        /// The Conversations API: `conversation.*` events.
        Conversations = "conversations",
        /// The Channels API: `<platform>.inbound`, `<platform>.outbound`, interactions.
        Channels = "channels",
    }
}

inbox_wire::open_enum! {
    /// The event of a conversation delivery (`event`, spelled in full).
    pub enum ConversationEventKind {
        /// A conversation was created.
        Created = "conversation.created",
        /// A conversation changed (a message came or went, a participant joined, its status
        /// changed...): the robust mirror fetches its new messages.
        Updated = "conversation.updated",
        /// A conversation was deleted.
        Deleted = "conversation.deleted",
    }
}

/// The payload of an [`Envelope`], typed by its service and event.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Payload {
    /// The conversation of a conversation event (service `conversations`, event
    /// `conversation.created`, `conversation.updated` or `conversation.deleted`).
    Conversation(Box<Conversation>),
    /// The payload of any other delivery, byte for byte (`null` when the delivery has none).
    Raw(Box<RawValue>),
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Payload::Conversation(a), Payload::Conversation(b)) => a == b,
            (Payload::Raw(a), Payload::Raw(b)) => a.get() == b.get(),
            _ => false,
        }
    }
}

/// A webhook delivery: `{"service", "event", "payload"}`, decoded by its service and event.
///
/// `service` and `event` are required strings. For a conversation event (see [`Payload`])
/// `payload` is required and must decode as a [`Conversation`]; any other payload is kept
/// byte for byte in [`Payload::Raw`], whatever it holds. Keys besides these three are kept in
/// `extra`.
///
/// # Round trip
///
/// Encoding gives back the JSON Bird sent, with the normalization of [`Conversation`] inside a
/// conversation event, and one more: a delivery of another kind sent without `payload` is
/// encoded with `"payload": null`.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The service, as sent (unknown services kept).
    pub service: Service,
    /// The event, as sent (`conversation.updated`, `whatsapp.inbound`...).
    pub event: String,
    /// The payload, typed by `service` and `event`.
    pub payload: Payload,
    /// Fields this crate does not model, as Bird sent them.
    pub extra: Extra,
}

/// The kind of a delivery whose payload is a [`Conversation`], if it is one.
fn conversation_kind(service: &Service, event: &str) -> Option<ConversationEventKind> {
    let kind = ConversationEventKind::from(event);
    (*service == Service::Conversations && kind.is_known()).then_some(kind)
}

impl Envelope {
    /// Decodes a webhook body.
    ///
    /// Fails when the body is not a JSON object, lacks a string `service` or `event`, or is a
    /// conversation event whose payload does not decode as a [`Conversation`]; the error names
    /// the JSON path (e.g. `payload.updatedAt`), whatever the order of the keys. Any other
    /// delivery never fails on its payload.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        inbox_wire::from_slice(bytes).map_err(|error| locate_payload_error(bytes, error))
    }

    /// The event of a delivery from the `conversations` service whose event starts with
    /// `conversation.`: a documented kind, or [`ConversationEventKind::Unknown`] (whose
    /// payload is kept raw). `None` for any other delivery.
    pub fn conversation_event_kind(&self) -> Option<ConversationEventKind> {
        (self.service == Service::Conversations && self.event.starts_with("conversation."))
            .then(|| ConversationEventKind::from(self.event.as_str()))
    }

    /// The kind and the conversation of a conversation event (`conversation.created`,
    /// `conversation.updated`, `conversation.deleted`); `None` for any other delivery.
    pub fn conversation_event(&self) -> Option<(ConversationEventKind, &Conversation)> {
        match &self.payload {
            Payload::Conversation(conversation) => {
                conversation_kind(&self.service, &self.event).map(|kind| (kind, &**conversation))
            }
            Payload::Raw(_) => None,
        }
    }

    /// For a delivery from the `channels` service, its event split at the first `.`: the
    /// platform and the rest (`whatsapp.inbound` gives `("whatsapp", "inbound")`,
    /// `sms.interaction.read` gives `("sms", "interaction.read")`). `None` for another
    /// service, or an event without a `.`.
    pub fn channel_event(&self) -> Option<(&str, &str)> {
        if self.service != Service::Channels {
            return None;
        }
        self.event.split_once('.')
    }

    /// The payload byte for byte, when it is not typed (anything but a conversation event).
    pub fn raw_payload(&self) -> Option<&RawValue> {
        match &self.payload {
            Payload::Raw(raw) => Some(raw),
            Payload::Conversation(_) => None,
        }
    }
}

/// When a conversation payload came before `service` or `event`, the payload was buffered
/// and its error lost the path inside it: decode the payload alone to name it.
fn locate_payload_error(bytes: &[u8], error: DecodeError) -> DecodeError {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        service: Service,
        event: String,
        #[serde(borrow)]
        payload: &'a RawValue,
    }
    if error.path.starts_with("payload.") {
        return error;
    }
    let Ok(probe) = serde_json::from_slice::<Probe<'_>>(bytes) else {
        return error;
    };
    if conversation_kind(&probe.service, &probe.event).is_none() {
        return error;
    }
    match inbox_wire::from_str::<Conversation>(probe.payload.get()) {
        Err(inner) => inner.within("payload"),
        Ok(_) => error,
    }
}

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("service", &self.service)?;
        map.serialize_entry("event", &self.event)?;
        match &self.payload {
            Payload::Conversation(conversation) => map.serialize_entry("payload", conversation)?,
            Payload::Raw(raw) => map.serialize_entry("payload", raw)?,
        }
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The keys of an envelope.
enum Field {
    Service,
    Event,
    Payload,
    Other(String),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(match v {
                    "service" => Field::Service,
                    "event" => Field::Event,
                    "payload" => Field::Payload,
                    other => Field::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EnvelopeVisitor)
    }
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Bird webhook envelope object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
        let mut service: Option<Service> = None;
        let mut event: Option<String> = None;
        let mut payload: Option<Payload> = None;
        // A payload met before both `service` and `event` is buffered, then typed.
        let mut pending: Option<Box<RawValue>> = None;
        let mut extra = Extra::new();
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Service => {
                    if service.is_some() {
                        return Err(de::Error::duplicate_field("service"));
                    }
                    service = Some(map.next_value()?);
                }
                Field::Event => {
                    if event.is_some() {
                        return Err(de::Error::duplicate_field("event"));
                    }
                    event = Some(map.next_value()?);
                }
                Field::Payload => {
                    if payload.is_some() || pending.is_some() {
                        return Err(de::Error::duplicate_field("payload"));
                    }
                    match (&service, &event) {
                        (Some(service), Some(event)) => {
                            payload = Some(if conversation_kind(service, event).is_some() {
                                Payload::Conversation(Box::new(map.next_value()?))
                            } else {
                                Payload::Raw(map.next_value()?)
                            });
                        }
                        _ => pending = Some(map.next_value()?),
                    }
                }
                Field::Other(key) => {
                    let value: serde_json::Value = map.next_value()?;
                    extra.insert(key, value);
                }
            }
        }
        let service = service.ok_or_else(|| de::Error::missing_field("service"))?;
        let event = event.ok_or_else(|| de::Error::missing_field("event"))?;
        let typed = conversation_kind(&service, &event).is_some();
        let payload = match (payload, pending) {
            (Some(payload), _) => payload,
            (None, Some(raw)) if typed => Payload::Conversation(Box::new(
                serde_json::from_str(raw.get()).map_err(de::Error::custom)?,
            )),
            (None, Some(raw)) => Payload::Raw(raw),
            (None, None) if typed => return Err(de::Error::missing_field("payload")),
            (None, None) => Payload::Raw(RawValue::NULL.to_owned()),
        };
        Ok(Envelope {
            service,
            event,
            payload,
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::conversation::ConversationStatus;

    fn conversation() -> Value {
        json!({
            "id": "c1", "name": "Re: refund", "status": "active",
            "featuredParticipants": [{"id": "p1", "type": "contact", "displayName": "Jane"}],
            "lastMessage": {"id": "m1", "type": "text", "preview": {"text": "Hi"},
                            "recipients": null, "createdAt": "2024-11-19T10:00:00.000Z"},
            "createdAt": "2024-11-19T09:30:00.000Z", "updatedAt": "2024-11-19T10:00:00.000Z",
        })
    }

    fn envelope(service: &str, event: &str, payload: Value) -> Value {
        json!({"service": service, "event": event, "payload": payload})
    }

    fn decode(value: &Value) -> Result<Envelope, DecodeError> {
        Envelope::from_slice(&serde_json::to_vec(value).unwrap())
    }

    #[test]
    fn conversation_events_are_typed_and_round_trip() {
        for (event, want) in [
            ("conversation.created", ConversationEventKind::Created),
            ("conversation.updated", ConversationEventKind::Updated),
            ("conversation.deleted", ConversationEventKind::Deleted),
        ] {
            let value = envelope("conversations", event, conversation());
            let e = decode(&value).unwrap();
            assert_eq!(e.service, Service::Conversations);
            let (kind, c) = e.conversation_event().unwrap();
            assert_eq!((kind, c.id.as_str()), (want.clone(), "c1"));
            assert_eq!(c.status, Some(ConversationStatus::Active));
            assert_eq!(e.conversation_event_kind(), Some(want));
            assert!(e.raw_payload().is_none() && e.channel_event().is_none());
            assert_eq!(serde_json::to_value(&e).unwrap(), value);
        }
    }

    #[test]
    fn unknown_fields_are_kept_at_both_levels() {
        let mut value = envelope("conversations", "conversation.updated", conversation());
        value["workspaceId"] = json!("w1");
        value["payload"]["unread"] = json!(2);
        let e = decode(&value).unwrap();
        assert_eq!(e.extra["workspaceId"], "w1");
        assert_eq!(e.conversation_event().unwrap().1.extra["unread"], 2);
        assert_eq!(serde_json::to_value(&e).unwrap(), value);
    }

    #[test]
    fn other_deliveries_are_kept_raw_byte_for_byte() {
        let cases = [
            (
                r#"{"service":"channels","event":"whatsapp.inbound","payload":{"id":"m1","body":{"type":"text","text":{"text":"Hi \u00e9"}}}}"#,
                Some(("whatsapp", "inbound")),
            ),
            (
                r#"{"service":"channels","event":"sms.interaction.read","payload":[1,2.50]}"#,
                Some(("sms", "interaction.read")),
            ),
            (
                r#"{"service":"channels","event":"ping","payload":"x"}"#,
                None,
            ),
            (
                r#"{"service":"numbers","event":"number.purchased","payload":{"id":7}}"#,
                None,
            ),
            // A conversation event this crate does not know: raw, never decoded as one.
            (
                r#"{"service":"conversations","event":"conversation.participant.added","payload":{"id":7}}"#,
                None,
            ),
            // A conversation event name from another service: raw too.
            (
                r#"{"service":"channels","event":"conversation.created","payload":{"id":7}}"#,
                Some(("conversation", "created")),
            ),
        ];
        for (text, channel) in cases {
            let e = Envelope::from_slice(text.as_bytes()).unwrap();
            assert!(e.conversation_event().is_none(), "{text}");
            assert_eq!(e.channel_event(), channel, "{text}");
            let doc: Value = serde_json::from_str(text).unwrap();
            let raw = e.raw_payload().unwrap().get();
            assert!(text.contains(raw), "{text}: byte for byte, got {raw}");
            assert_eq!(serde_json::to_value(&e).unwrap(), doc, "{text}");
        }
        let e = Envelope::from_slice(
            br#"{"service":"conversations","event":"conversation.participant.added","payload":{}}"#,
        )
        .unwrap();
        assert_eq!(
            e.conversation_event_kind(),
            Some(ConversationEventKind::Unknown(
                "conversation.participant.added".into()
            ))
        );
        let e = Envelope::from_slice(br#"{"service":"x","event":"y"}"#).unwrap();
        assert_eq!(e.service, Service::Unknown("x".into()));
        assert_eq!(e.raw_payload().map(RawValue::get), Some("null"));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"service": "x", "event": "y", "payload": null})
        );
    }

    #[test]
    fn a_bad_conversation_is_an_error_naming_its_path_in_any_key_order() {
        let mut payload = conversation();
        payload["updatedAt"] = json!("yesterday");
        let payload = serde_json::to_string(&payload).unwrap();
        for text in [
            format!(
                r#"{{"service":"conversations","event":"conversation.updated","payload":{payload}}}"#
            ),
            format!(
                r#"{{"payload":{payload},"event":"conversation.updated","service":"conversations"}}"#
            ),
            format!(
                r#"{{"event":"conversation.updated","payload":{payload},"service":"conversations"}}"#
            ),
        ] {
            let err = Envelope::from_slice(text.as_bytes()).unwrap_err();
            assert_eq!(err.path, "payload.updatedAt", "{text}: {err}");
            assert!(err.message.contains("invalid timestamp"), "{err}");
        }
        let value = envelope(
            "conversations",
            "conversation.created",
            json!({"name": "x"}),
        );
        let err = decode(&value).unwrap_err();
        assert_eq!(err.path, "payload", "{err}");
        assert!(err.message.contains("missing field `id`"), "{err}");
        let value = envelope("conversations", "conversation.deleted", json!("c1"));
        assert_eq!(decode(&value).unwrap_err().path, "payload");
    }

    #[test]
    fn the_envelope_needs_its_service_and_event() {
        let err = decode(&json!({"event": "x", "payload": {}})).unwrap_err();
        assert!(err.message.contains("missing field `service`"), "{err}");
        let err = decode(&json!({"service": "x", "payload": {}})).unwrap_err();
        assert!(err.message.contains("missing field `event`"), "{err}");
        let err = decode(&json!({"service": "conversations", "event": "conversation.created"}))
            .unwrap_err();
        assert!(err.message.contains("missing field `payload`"), "{err}");
        let err = decode(&json!({"service": "x", "event": 5, "payload": {}})).unwrap_err();
        assert_eq!(err.path, "event", "{err}");
        assert_eq!(Envelope::from_slice(b"[]").unwrap_err().path, ".");
    }

    #[test]
    fn decoding_from_a_value_agrees_with_bytes() {
        for value in [
            envelope("conversations", "conversation.updated", conversation()),
            envelope("channels", "whatsapp.inbound", json!({"id": "m1"})),
        ] {
            let from_value: Envelope = serde_json::from_value(value.clone()).unwrap();
            assert_eq!(from_value, decode(&value).unwrap());
            assert_eq!(serde_json::to_value(&from_value).unwrap(), value);
        }
    }
}
