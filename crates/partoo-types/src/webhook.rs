//! Webhook deliveries: the body Partoo posts, `{"type": ..., "payload": {...}}`.
//!
//! The payload is decoded by the `type` (never by its shape): the message events
//! (`message_created`, `message_updated`) carry a [`MessageEvent`]; every other type (business
//! and lead events, the deprecated "new message received" one, types added later) is kept as
//! sent ([`EventPayload::Raw`]) with its type in [`EventType::Unknown`], never an error.
//!
//! Verifying the signature (`X-Partoo-Signature-v1`, Ed25519 over the raw body) is not done
//! here: verify the bytes first, then decode them.
//!
//! ```
//! use partoo_types::{Event, EventType, MessageStatus, OrgId};
//!
//! let body = br#"{"type": "message_updated", "payload": {
//!   "message": {"id": 10006, "conversation_id": 4217, "date": "2023-01-31 16:30:12.250117+00:00",
//!               "content_type": "Text", "sender_type": "User", "sender_label": null,
//!               "status": "Success", "content": "Bonjour", "user_id": null, "custom_channel": null},
//!   "conversation": {"id": 4217, "consumer_img": null, "consumer_name": "Camille",
//!                    "business": {"id": "a1c9f37b4deca92f83b61d02"},
//!                    "messaging_partner": "Instagram", "custom_channel": null},
//!   "org_id": 4242}}"#;
//! let event = Event::from_slice(body)?;
//! assert_eq!(event.event_type, EventType::MessageUpdated);
//! let message_event = event.message_event().expect("a message event");
//! assert_eq!(message_event.message.status, Some(MessageStatus::Success));
//! assert_eq!(message_event.conversation.id, 4217);
//! assert_eq!(message_event.org_id, OrgId::Number(4242));
//!
//! let other = Event::from_slice(br#"{"type": "lead_created", "payload": {"lead": {"id": 7}}}"#)?;
//! assert_eq!(other.event_type, EventType::Unknown("lead_created".into()));
//! assert_eq!(other.raw_payload().map(|p| &p["lead"]["id"]), Some(&serde_json::json!(7)));
//! # Ok::<(), partoo_types::DecodeError>(())
//! ```

use std::fmt;

use inbox_wire::{DecodeError, Extra, Str};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::conversation::{CustomChannelConversation, MessagingPartner};
use crate::message::Message;
use crate::user::OrgId;

inbox_wire::open_enum! {
    /// The type of a webhook event (`type`). Partoo also sends business and lead events,
    /// and the deprecated "new message received" one: they decode as [`EventType::Unknown`]
    /// with the type as sent.
    pub enum EventType {
        /// A message was created in a conversation (received, or sent from Partoo or the API).
        MessageCreated = "message_created",
        /// A message changed: its delivery status (`Sending` to `Success` or `Failed`), or
        /// its deletion.
        MessageUpdated = "message_updated",
    }
}

impl EventType {
    /// Whether events of this type carry a message ([`MessageEvent`]): `message_created`
    /// and `message_updated`.
    pub fn carries_message(&self) -> bool {
        matches!(self, EventType::MessageCreated | EventType::MessageUpdated)
    }
}

inbox_wire::wire_struct! {
    /// The business of a [`WebhookConversation`]: the webhook sends its `id` only (anything
    /// else is kept in `extra`).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct WebhookBusiness {
        /// The id of the business (what `business__in` filters on).
        id: opt Str = "id",
    }
}

inbox_wire::wire_struct! {
    /// The conversation of a message event: a summary of the [`crate::Conversation`] of
    /// `GET /conversations`.
    ///
    /// Only `id` is required. `consumer_img`, `consumer_name` and `custom_channel` are
    /// nullable (as in [`crate::Conversation`]: an absent key decodes as `None` and is
    /// encoded as `null`); `business` and `messaging_partner` are optional (a `null` decodes
    /// as `None` and is left out on encode). Unknown fields are kept in `extra`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct WebhookConversation {
        /// The id of the conversation (what [`crate::ListMessagesQuery`] takes).
        id: req i64 = "id",
        /// The url of the consumer's profile picture.
        consumer_img: null Str = "consumer_img",
        /// The consumer's name; its format depends on the channel, and it may be empty.
        consumer_name: null Str = "consumer_name",
        /// The business the conversation belongs to.
        business: opt WebhookBusiness = "business",
        /// The channel (unknown values kept).
        messaging_partner: opt MessagingPartner = "messaging_partner",
        /// Custom channel data, when the messaging partner is `Custom`.
        custom_channel: null CustomChannelConversation = "custom_channel",
    }
}

inbox_wire::wire_struct! {
    /// The payload of a `message_created` or `message_updated` event.
    ///
    /// All three fields are required; a message that does not decode as a [`Message`] fails
    /// the whole event (see [`Event::from_slice`]), so that the caller keeps the body raw as
    /// rejected instead of storing half of it. Unknown fields are kept in `extra`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct MessageEvent {
        /// The message, as `GET /messages` lists it.
        message: req Message = "message",
        /// The conversation it belongs to.
        conversation: req WebhookConversation = "conversation",
        /// The organisation the conversation belongs to.
        org_id: req OrgId = "org_id",
    }
}

/// The payload of an [`Event`], typed by the event's `type`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventPayload {
    /// The payload of a message event ([`EventType::carries_message`]).
    Message(Box<MessageEvent>),
    /// The payload of any other event, as sent (`null` when the event has none).
    Raw(Value),
}

/// A webhook delivery: `{"type": ..., "payload": ...}`, decoded by its `type`.
///
/// `type` is required. For a message event ([`EventType::carries_message`]) `payload` is
/// required and must decode as a [`MessageEvent`]; for any other type the payload is kept
/// as sent in [`EventPayload::Raw`], whatever it holds. Keys besides `type` and `payload`
/// are kept in `extra`.
///
/// # Round trip
///
/// Encoding gives back the JSON Partoo sent, with the normalizations of [`Message`] and
/// [`WebhookConversation`] inside a message event, and one more: an event of another type
/// sent without `payload` decodes as `EventPayload::Raw(Value::Null)` and is encoded with
/// `"payload": null`.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event type, as sent (unknown types kept).
    pub event_type: EventType,
    /// The payload, typed by `event_type`.
    pub payload: EventPayload,
    /// Fields this crate does not model, as Partoo sent them.
    pub extra: Extra,
}

impl Event {
    /// Decodes a webhook body.
    ///
    /// Fails when the body is not a JSON object, has no string `type`, or is a message event
    /// whose payload does not decode; the error names the JSON path (e.g.
    /// `payload.message.date`), whatever the order of the keys. An event of any other type
    /// never fails on its payload.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        inbox_wire::from_slice(bytes).map_err(|error| locate_payload_error(bytes, error))
    }

    /// The message event, when this is one.
    pub fn message_event(&self) -> Option<&MessageEvent> {
        match &self.payload {
            EventPayload::Message(event) => Some(event),
            EventPayload::Raw(_) => None,
        }
    }

    /// The message event, when this is one, by value.
    pub fn into_message_event(self) -> Option<MessageEvent> {
        match self.payload {
            EventPayload::Message(event) => Some(*event),
            EventPayload::Raw(_) => None,
        }
    }

    /// The payload as sent, when this is not a message event.
    pub fn raw_payload(&self) -> Option<&Value> {
        match &self.payload {
            EventPayload::Raw(value) => Some(value),
            EventPayload::Message(_) => None,
        }
    }
}

/// When a message event's payload came before its `type`, the payload was buffered and its
/// error lost the path inside it: decode the payload alone to name it.
fn locate_payload_error(bytes: &[u8], error: DecodeError) -> DecodeError {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(rename = "type")]
        event_type: EventType,
        #[serde(borrow)]
        payload: &'a RawValue,
    }
    if error.path.starts_with("payload.") {
        return error;
    }
    let Ok(probe) = serde_json::from_slice::<Probe<'_>>(bytes) else {
        return error;
    };
    if !probe.event_type.carries_message() {
        return error;
    }
    match inbox_wire::from_str::<MessageEvent>(probe.payload.get()) {
        Err(inner) => inner.within("payload"),
        Ok(_) => error,
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", &self.event_type)?;
        match &self.payload {
            EventPayload::Message(event) => map.serialize_entry("payload", event)?,
            EventPayload::Raw(value) => map.serialize_entry("payload", value)?,
        }
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The keys of an event.
enum Field {
    Type,
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
                    "type" => Field::Type,
                    "payload" => Field::Payload,
                    other => Field::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Partoo webhook event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        let mut event_type: Option<EventType> = None;
        let mut payload: Option<EventPayload> = None;
        // A payload met before the `type` (not what Partoo sends) is buffered, then typed.
        let mut pending: Option<Value> = None;
        let mut extra = Extra::new();
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Type => {
                    if event_type.is_some() {
                        return Err(de::Error::duplicate_field("type"));
                    }
                    event_type = Some(map.next_value()?);
                }
                Field::Payload => {
                    if payload.is_some() || pending.is_some() {
                        return Err(de::Error::duplicate_field("payload"));
                    }
                    match &event_type {
                        Some(t) if t.carries_message() => {
                            payload = Some(EventPayload::Message(Box::new(map.next_value()?)));
                        }
                        Some(_) => payload = Some(EventPayload::Raw(map.next_value()?)),
                        None => pending = Some(map.next_value()?),
                    }
                }
                Field::Other(key) => {
                    let value: Value = map.next_value()?;
                    extra.insert(key, value);
                }
            }
        }
        let event_type = event_type.ok_or_else(|| de::Error::missing_field("type"))?;
        let payload = match (payload, pending) {
            (Some(payload), _) => payload,
            (None, Some(value)) if event_type.carries_message() => EventPayload::Message(Box::new(
                MessageEvent::deserialize(value).map_err(de::Error::custom)?,
            )),
            (None, Some(value)) => EventPayload::Raw(value),
            (None, None) if event_type.carries_message() => {
                return Err(de::Error::missing_field("payload"));
            }
            (None, None) => EventPayload::Raw(Value::Null),
        };
        Ok(Event {
            event_type,
            payload,
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Content, MessageStatus};

    fn message() -> Value {
        json!({
            "id": 10006,
            "conversation_id": 4217,
            "date": "2023-01-31 16:30:12.250117+00:00",
            "content_type": "Text",
            "sender_type": "User",
            "sender_label": "Léa Dupont",
            "status": "Sending",
            "is_deleted": false,
            "is_automated": false,
            "content": "Bonjour",
            "user_id": "62d80fae74e8b11d700302b8",
            "custom_channel": null,
        })
    }

    fn event(event_type: &str) -> Value {
        json!({
            "type": event_type,
            "payload": {
                "message": message(),
                "conversation": {
                    "id": 4217,
                    "consumer_img": null,
                    "consumer_name": "Camille Martin",
                    "business": {"id": "a1c9f37b4deca92f83b61d02"},
                    "messaging_partner": "Instagram",
                    "custom_channel": null,
                },
                "org_id": 4242,
            },
        })
    }

    fn decode(value: &Value) -> Result<Event, DecodeError> {
        let bytes = serde_json::to_vec(value).unwrap();
        Event::from_slice(&bytes)
    }

    #[test]
    fn message_events_are_typed_and_round_trip() {
        for (name, want) in [
            ("message_created", EventType::MessageCreated),
            ("message_updated", EventType::MessageUpdated),
        ] {
            let value = event(name);
            let e = decode(&value).unwrap();
            assert_eq!(e.event_type, want);
            let m = e.message_event().unwrap();
            assert_eq!((m.message.id, m.conversation.id), (10006, 4217));
            assert_eq!(m.message.status, Some(MessageStatus::Sending));
            assert_eq!(m.message.content, Content::Text("Bonjour".into()));
            assert_eq!(
                m.conversation.messaging_partner,
                Some(MessagingPartner::Instagram)
            );
            assert_eq!(
                m.conversation
                    .business
                    .as_ref()
                    .and_then(|b| b.id.as_deref()),
                Some("a1c9f37b4deca92f83b61d02")
            );
            assert_eq!(m.org_id, OrgId::Number(4242));
            assert!(e.raw_payload().is_none());
            assert_eq!(serde_json::to_value(&e).unwrap(), value);
            assert_eq!(
                e.into_message_event().map(|m| m.org_id),
                Some(OrgId::Number(4242))
            );
        }
    }

    #[test]
    fn unknown_fields_are_kept_everywhere() {
        let mut value = event("message_created");
        value["delivery_id"] = json!("d-1");
        value["payload"]["sent_at"] = json!("2023-01-31T16:30:13Z");
        value["payload"]["conversation"]["is_solved"] = json!(false);
        value["payload"]["conversation"]["business"]["name"] = json!("Boulangerie");
        value["payload"]["message"]["reactions"] = json!([]);
        let e = decode(&value).unwrap();
        assert_eq!(e.extra["delivery_id"], "d-1");
        let m = e.message_event().unwrap();
        assert_eq!(m.extra["sent_at"], "2023-01-31T16:30:13Z");
        assert_eq!(m.conversation.extra["is_solved"], false);
        let business = m.conversation.business.as_ref().unwrap();
        assert_eq!(business.extra["name"], "Boulangerie");
        assert_eq!(m.message.extra["reactions"], json!([]));
        assert_eq!(serde_json::to_value(&e).unwrap(), value);
    }

    #[test]
    fn other_types_are_kept_raw_whatever_their_payload() {
        for value in [
            json!({"type": "business_updated", "payload": {"business": {"id": "b1"}}}),
            json!({"type": "new_message", "payload": {"message": {"id": "not a message"}}}),
            json!({"payload": [1, 2], "type": "lead_created"}),
            json!({"type": "", "payload": null}),
        ] {
            let e = decode(&value).unwrap();
            assert!(!e.event_type.is_known(), "{value}");
            assert_eq!(e.event_type.as_str(), value["type"].as_str().unwrap());
            assert_eq!(e.raw_payload(), Some(&value["payload"]));
            assert!(e.message_event().is_none());
            assert_eq!(serde_json::to_value(&e).unwrap(), value);
        }
        let e = decode(&json!({"type": "lead_deleted"})).unwrap();
        assert_eq!(e.payload, EventPayload::Raw(Value::Null));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"type": "lead_deleted", "payload": null})
        );
    }

    #[test]
    fn a_bad_message_is_an_error_naming_its_path_in_either_key_order() {
        let mut value = event("message_updated");
        value["payload"]["message"]["date"] = json!("yesterday");
        let err = decode(&value).unwrap_err();
        assert_eq!(err.path, "payload.message.date", "{err}");
        assert!(err.message.contains("invalid timestamp"), "{err}");

        // `type` first (decoded directly) and `payload` first (buffered, then typed).
        let payload = serde_json::to_string(&value["payload"]).unwrap();
        for text in [
            format!(r#"{{"type":"message_updated","payload":{payload}}}"#),
            format!(r#"{{"payload":{payload},"type":"message_updated"}}"#),
        ] {
            let err = Event::from_slice(text.as_bytes()).unwrap_err();
            assert_eq!(err.path, "payload.message.date", "{text}: {err}");
            assert!(err.message.contains("invalid timestamp"), "{err}");
        }

        let mut value = event("message_created");
        value["payload"]["message"]
            .as_object_mut()
            .unwrap()
            .remove("id");
        let err = decode(&value).unwrap_err();
        assert_eq!(err.path, "payload.message", "{err}");
        assert!(err.message.contains("missing field `id`"), "{err}");

        let mut value = event("message_created");
        value["payload"]["conversation"]["id"] = json!("4217");
        assert_eq!(decode(&value).unwrap_err().path, "payload.conversation.id");
        let mut value = event("message_created");
        value["payload"].as_object_mut().unwrap().remove("org_id");
        let err = decode(&value).unwrap_err();
        assert!(err.message.contains("missing field `org_id`"), "{err}");
    }

    #[test]
    fn the_envelope_needs_a_string_type_and_a_message_event_its_payload() {
        let err = decode(&json!({"payload": {}})).unwrap_err();
        assert!(err.message.contains("missing field `type`"), "{err}");
        assert_eq!(
            decode(&json!({"type": 3, "payload": {}})).unwrap_err().path,
            "type"
        );
        let err = decode(&json!({"type": "message_created"})).unwrap_err();
        assert!(err.message.contains("missing field `payload`"), "{err}");
        let err = Event::from_slice(br#"{"type":"x","type":"y","payload":1}"#).unwrap_err();
        assert!(err.message.contains("duplicate field `type`"), "{err}");
        assert_eq!(Event::from_slice(b"<html>").unwrap_err().path, ".");
    }

    #[test]
    fn decoding_from_a_value_agrees_with_bytes() {
        let value = event("message_created");
        let from_value: Event = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(from_value, decode(&value).unwrap());
        let mut reordered = serde_json::Map::new();
        reordered.insert("payload".into(), value["payload"].clone());
        reordered.insert("type".into(), value["type"].clone());
        let from_value: Event = serde_json::from_value(Value::Object(reordered)).unwrap();
        assert!(from_value.message_event().is_some());
    }
}
