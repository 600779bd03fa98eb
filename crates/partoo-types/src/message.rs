//! Messages and the messages page (`GET /messages`).

use std::fmt;

use inbox_wire::{DecodeError, Extra, List, Str, Timestamp};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::content::{Buffered, Content};

inbox_wire::open_enum! {
    /// The type of a message's content (`content_type`). Partoo adds values without notice.
    pub enum ContentType {
        /// A text message.
        Text = "Text",
        /// A message that only contains an image.
        Image = "Image",
        /// A video.
        Video = "Video",
        /// An audio file.
        Audio = "Audio",
        /// A document.
        Document = "Document",
        /// A reply to an Instagram story.
        IgStoryReply = "IgStoryReply",
        /// A mention of the business in an Instagram story.
        IgStoryMention = "IgStoryMention",
        /// A content Partoo does not support.
        Unsupported = "Unsupported",
    }
}

inbox_wire::open_enum! {
    /// Who sent a message (`sender_type`). Partoo adds values without notice, and advises
    /// ignoring messages whose sender type is unknown.
    pub enum SenderType {
        /// Sent as the business: by a Partoo user, via the API, or on the messaging platform.
        User = "User",
        /// Sent by the consumer, the client getting in touch with the business.
        Consumer = "Consumer",
        /// A contextual event of the Partoo inbox, never shown to the consumer.
        Metadata = "Metadata",
    }
}

inbox_wire::open_enum! {
    /// The delivery status of a message (`status`).
    pub enum MessageStatus {
        /// Created on Partoo, being sent to the messaging channel.
        Sending = "Sending",
        /// Delivered to the messaging channel.
        Success = "Success",
        /// The messaging channel refused it; it can be retried.
        Failed = "Failed",
    }
}

inbox_wire::wire_struct! {
    /// Custom channel data of a message (`custom_channel`), filled when the conversation's
    /// messaging partner is `Custom`.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct CustomChannelMessage {
        /// The id of the message in the custom channel's own system.
        external_message_id: opt Str = "external_message_id",
    }
}

/// One message of a conversation.
///
/// Required fields: `id`, `conversation_id`, `date`, `content_type`, `sender_type` and
/// `content`. Without them a message cannot be placed, ordered or shown, so a message
/// missing one (or with a field of the wrong JSON type) does not decode: in a
/// [`MessagesPage`] it is kept raw in `messages.rejected()` with the path and the reason,
/// and the other messages still decode.
///
/// Everything else may be `None`: `sender_label`, `user_id` and `custom_channel` are
/// nullable in the spec (always sent, `null` when empty), and `None` is encoded as `null`;
/// `status`, `is_deleted` and `is_automated` are optional in the spec (absent when unknown,
/// never `null`), and `None` is not encoded. Fields this crate does not know are kept in
/// `extra`.
///
/// `content` is typed by `content_type` and `sender_type` (see [`Content`]); a content that
/// does not fit is kept raw, never an error.
///
/// # Round trip
///
/// Decoding then encoding gives back exactly the JSON Partoo sent for every spec-valid
/// message. Two off-spec spellings cannot be told apart from a spec-valid one by these
/// `Option` fields, and are normalized on encode:
///
/// - `"status": null`, `"is_deleted": null` or `"is_automated": null` decodes as `None`,
///   like an absent key, and the key is then left out on encode;
/// - an absent `sender_label`, `user_id` or `custom_channel` key decodes as `None`, like
///   `null`, and is then encoded as `null` (so is an absent `file_name` in a [`Media`]
///   content: see there).
///
/// Every other key, known or not, comes back as sent.
///
/// [`Media`]: crate::Media
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The id of the message.
    pub id: i64,
    /// The id of the conversation it belongs to.
    pub conversation_id: i64,
    /// When it was sent or received, as spelled by Partoo
    /// (`2023-01-31 16:22:17.327878+00:00`).
    pub date: Timestamp,
    /// The declared type of `content`, as sent (unknown values kept).
    pub content_type: ContentType,
    /// Who sent it, as sent (unknown values kept).
    pub sender_type: SenderType,
    /// The name of the sender.
    pub sender_label: Option<Str>,
    /// The delivery status.
    pub status: Option<MessageStatus>,
    /// Whether the consumer deleted it on the messaging channel (Instagram only, for now).
    pub is_deleted: Option<bool>,
    /// Whether a Partoo automation (chatbot...) sent it.
    pub is_automated: Option<bool>,
    /// The content, typed by `content_type`.
    pub content: Content,
    /// For `User` messages sent from the Partoo application, the id of the Partoo user.
    pub user_id: Option<Str>,
    /// Custom channel data, when the messaging partner is `Custom`.
    pub custom_channel: Option<CustomChannelMessage>,
    /// Fields this crate does not model, as Partoo sent them.
    pub extra: Extra,
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("conversation_id", &self.conversation_id)?;
        map.serialize_entry("date", &self.date)?;
        map.serialize_entry("content_type", &self.content_type)?;
        map.serialize_entry("sender_type", &self.sender_type)?;
        map.serialize_entry("sender_label", &self.sender_label)?;
        if let Some(status) = &self.status {
            map.serialize_entry("status", status)?;
        }
        if let Some(is_deleted) = &self.is_deleted {
            map.serialize_entry("is_deleted", is_deleted)?;
        }
        if let Some(is_automated) = &self.is_automated {
            map.serialize_entry("is_automated", is_automated)?;
        }
        map.serialize_entry("content", &self.content)?;
        map.serialize_entry("user_id", &self.user_id)?;
        map.serialize_entry("custom_channel", &self.custom_channel)?;
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The keys of a message, matched without allocating (only unknown keys are copied).
enum Field {
    Id,
    ConversationId,
    Date,
    ContentType,
    SenderType,
    SenderLabel,
    Status,
    IsDeleted,
    IsAutomated,
    Content,
    UserId,
    CustomChannel,
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
                    "id" => Field::Id,
                    "conversation_id" => Field::ConversationId,
                    "date" => Field::Date,
                    "content_type" => Field::ContentType,
                    "sender_type" => Field::SenderType,
                    "sender_label" => Field::SenderLabel,
                    "status" => Field::Status,
                    "is_deleted" => Field::IsDeleted,
                    "is_automated" => Field::IsAutomated,
                    "content" => Field::Content,
                    "user_id" => Field::UserId,
                    "custom_channel" => Field::CustomChannel,
                    other => Field::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MessageVisitor)
    }
}

struct MessageVisitor;

impl<'de> Visitor<'de> for MessageVisitor {
    type Value = Message;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Partoo message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Message, A::Error> {
        let mut id = None;
        let mut conversation_id = None;
        let mut date = None;
        let mut content_type = None;
        let mut sender_type = None;
        let mut sender_label = None;
        let mut status = None;
        let mut is_deleted = None;
        let mut is_automated = None;
        // The content is buffered (it is small) because `content_type` and `sender_type`
        // may come after it; it is typed once the whole object has been read.
        let mut content: Option<Buffered> = None;
        let mut user_id = None;
        let mut custom_channel = None;
        let mut extra = Extra::new();
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Id => id = Some(map.next_value::<i64>()?),
                Field::ConversationId => conversation_id = Some(map.next_value::<i64>()?),
                Field::Date => date = Some(map.next_value::<Timestamp>()?),
                Field::ContentType => content_type = Some(map.next_value()?),
                Field::SenderType => sender_type = Some(map.next_value()?),
                Field::SenderLabel => sender_label = map.next_value()?,
                Field::Status => status = map.next_value()?,
                Field::IsDeleted => is_deleted = map.next_value()?,
                Field::IsAutomated => is_automated = map.next_value()?,
                Field::Content => content = Some(map.next_value()?),
                Field::UserId => user_id = map.next_value()?,
                Field::CustomChannel => custom_channel = map.next_value()?,
                Field::Other(key) => {
                    let value: Value = map.next_value()?;
                    extra.insert(key, value);
                }
            }
        }
        let missing = <A::Error as de::Error>::missing_field;
        let content_type = content_type.ok_or_else(|| missing("content_type"))?;
        let sender_type = sender_type.ok_or_else(|| missing("sender_type"))?;
        let content = content.ok_or_else(|| missing("content"))?;
        Ok(Message {
            id: id.ok_or_else(|| missing("id"))?,
            conversation_id: conversation_id.ok_or_else(|| missing("conversation_id"))?,
            date: date.ok_or_else(|| missing("date"))?,
            content: Content::typed(&content_type, &sender_type, content),
            content_type,
            sender_type,
            sender_label,
            status,
            is_deleted,
            is_automated,
            user_id,
            custom_channel,
            extra,
        })
    }
}

inbox_wire::wire_struct! {
    /// A page of `GET /messages`: messages of one conversation, with the cursor of the next
    /// page.
    ///
    /// `messages` is required; `count` is optional (it is informative only); `next_cursor`
    /// is `null` on the last page (an absent key is read the same way).
    #[derive(Debug, Clone, PartialEq)]
    pub struct MessagesPage {
        /// The messages of this page. A message that does not decode is kept raw in
        /// `messages.rejected()` with its path and reason. Each is in its own box: a page grows
        /// by pointers, and a message becomes a unified message's `origin` without being
        /// copied.
        messages: req List<Box<Message>> = "messages",
        /// The total number of messages for the query.
        count: opt u64 = "count",
        /// The cursor of the next page; `None` on the last page.
        next_cursor: null String = "next_cursor",
    }
}

impl Message {
    /// Decodes one message (e.g. a line of JSON Lines, or a webhook's `message`). The error
    /// names the JSON path of the problem.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        inbox_wire::from_slice(bytes)
    }
}

impl MessagesPage {
    /// Decodes a page from a response body.
    ///
    /// Fails only when the body is not JSON or the envelope is wrong (e.g. `count` is not a
    /// number, or `messages` is missing); the error names the JSON path. A bad message never
    /// fails the page: see [`List::rejected`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        inbox_wire::from_slice(bytes)
    }

    /// The `next_cursor` of a page body, read without decoding its messages (they are only
    /// scanned over): a pager can ask for the next page before decoding this one. `None` on
    /// the last page (`null`, absent or empty).
    ///
    /// ```
    /// let body = br#"{"messages": [{"id": 1}], "count": 2, "next_cursor": "abc"}"#;
    /// assert_eq!(partoo_types::MessagesPage::peek_next_cursor(body)?.as_deref(), Some("abc"));
    /// # Ok::<(), partoo_types::DecodeError>(())
    /// ```
    pub fn peek_next_cursor(bytes: &[u8]) -> Result<Option<String>, DecodeError> {
        #[derive(serde::Deserialize)]
        struct Envelope {
            #[serde(default)]
            next_cursor: Option<String>,
        }
        let envelope: Envelope = inbox_wire::from_slice(bytes)?;
        Ok(envelope.next_cursor.filter(|c| !c.is_empty()))
    }

    /// Whether this is the last page (no `next_cursor`).
    pub fn is_last(&self) -> bool {
        self.next_cursor.is_none()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message() -> Value {
        json!({
            "id": 10,
            "conversation_id": 7,
            "date": "2023-01-31 16:22:17.327878+00:00",
            "content_type": "Text",
            "sender_type": "Consumer",
            "sender_label": "Jane Doe",
            "status": "Success",
            "is_deleted": false,
            "is_automated": false,
            "content": "Bonjour",
            "user_id": null,
            "custom_channel": null,
        })
    }

    #[test]
    fn content_is_typed_whatever_the_key_order() {
        let text = r#"{"content":"Solving","id":1,"conversation_id":2,"date":"2023-01-31 16:22:17+00:00","sender_type":"Metadata","content_type":"Text"}"#;
        let m: Message = serde_json::from_str(text).unwrap();
        assert_eq!(m.content, Content::Solving);
        let text = r#"{"content":"https://ig/s/9","sender_type":"Consumer","content_type":"IgStoryMention","id":1,"conversation_id":2,"date":"2023-01-31 16:22:17+00:00"}"#;
        let m: Message = serde_json::from_str(text).unwrap();
        assert_eq!(m.content, Content::IgStoryMention("https://ig/s/9".into()));
    }

    #[test]
    fn round_trips_with_unknown_fields() {
        let mut value = message();
        value["reactions"] = json!([{"emoji": "👍"}]);
        let m: Message = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(m.extra["reactions"], json!([{"emoji": "👍"}]));
        assert_eq!(serde_json::to_value(&m).unwrap(), value);
    }

    #[test]
    fn optional_fields_may_be_absent_and_stay_absent() {
        let mut value = message();
        let obj = value.as_object_mut().unwrap();
        for key in ["status", "is_deleted", "is_automated"] {
            obj.remove(key);
        }
        let m: Message = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(
            (m.status.clone(), m.is_deleted, m.is_automated),
            (None, None, None)
        );
        assert_eq!(serde_json::to_value(&m).unwrap(), value);
    }

    /// The two off-spec spellings the round trip normalizes (documented on [`Message`] and
    /// [`crate::Media`]), and nothing else.
    #[test]
    fn off_spec_null_and_absent_keys_are_normalized_and_nothing_else() {
        let mut sent = message();
        sent["content_type"] = json!("Video");
        sent["content"] = json!({"url": "https://cdn.example/v.mp4"});
        let obj = sent.as_object_mut().unwrap();
        for key in ["status", "is_deleted", "is_automated"] {
            obj.insert(key.to_owned(), Value::Null);
        }
        for key in ["sender_label", "user_id", "custom_channel"] {
            obj.remove(key);
        }
        let m: Message = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(
            (&m.status, m.is_deleted, m.is_automated),
            (&None, None, None)
        );
        assert_eq!(
            (&m.sender_label, &m.user_id, &m.custom_channel),
            (&None, &None, &None)
        );
        let Content::Video(media) = &m.content else {
            panic!("not a video: {:?}", m.content);
        };
        assert_eq!(media.file_name, None);

        let mut want = sent.clone();
        let obj = want.as_object_mut().unwrap();
        for key in ["status", "is_deleted", "is_automated"] {
            obj.remove(key);
        }
        for key in ["sender_label", "user_id", "custom_channel"] {
            obj.insert(key.to_owned(), Value::Null);
        }
        want["content"]["file_name"] = Value::Null;
        let encoded = serde_json::to_value(&m).unwrap();
        assert_eq!(encoded, want);
        assert_ne!(encoded, sent, "the off-spec spellings do not come back");

        // The normalized form is spec-valid and round-trips exactly.
        let again: Message = serde_json::from_value(encoded.clone()).unwrap();
        assert_eq!(again, m);
        assert_eq!(serde_json::to_value(&again).unwrap(), encoded);
    }

    #[test]
    fn every_required_field_is_required() {
        for key in [
            "id",
            "conversation_id",
            "date",
            "content_type",
            "sender_type",
            "content",
        ] {
            let mut value = message();
            value.as_object_mut().unwrap().remove(key);
            let err = serde_json::from_value::<Message>(value)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("missing field `{key}`")),
                "{key}: {err}"
            );
        }
    }

    #[test]
    fn a_bad_message_is_rejected_with_its_path_and_the_page_survives() {
        let mut bad = message();
        bad["date"] = json!("yesterday");
        let page =
            json!({"messages": [message(), bad, message()], "count": 3, "next_cursor": null});
        let bytes = serde_json::to_vec(&page).unwrap();
        let decoded = MessagesPage::from_slice(&bytes).unwrap();
        assert_eq!(decoded.messages.len(), 2);
        let rejected = decoded.messages.rejected();
        assert_eq!((rejected.len(), rejected[0].index), (1, 1));
        assert_eq!(rejected[0].path, "date");
        assert!(decoded.is_last());
        assert_eq!(serde_json::to_value(&decoded).unwrap(), page);
    }
}
