//! Conversations and the conversations page (`GET /conversations`).

use inbox_wire::{DecodeError, List, Str, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::message::Message;

inbox_wire::open_enum! {
    /// Whether a message can be sent in a conversation (`status`).
    pub enum ConversationStatus {
        /// Messages can be sent.
        Open = "Open",
        /// No message can be sent (for instance, the conversation expired).
        Closed = "Closed",
    }
}

inbox_wire::open_enum! {
    /// The channel a conversation goes through (`messaging_partner`). Partoo adds values
    /// without notice.
    pub enum MessagingPartner {
        /// Google Business Messages.
        Google = "Google",
        /// Facebook Messenger.
        Facebook = "Facebook",
        /// Instagram direct messages.
        Instagram = "Instagram",
        /// Text messages.
        Sms = "SMS",
        /// WhatsApp.
        Whatsapp = "Whatsapp",
        /// A custom channel connected through Partoo's custom channel API.
        Custom = "Custom",
    }
}

inbox_wire::open_enum! {
    /// A setup problem that prevents sending messages in a conversation (an item of
    /// `issues`). Partoo documents one value and adds others without notice.
    pub enum ConversationIssue {
        /// The business has no Facebook page linked.
        FacebookNoPageLinked = "facebook_no_page_linked",
    }
}

inbox_wire::wire_struct! {
    /// The business a conversation belongs to (`business`).
    ///
    /// Every field is optional: a business without one never hides its conversation. `id`
    /// is left out on encode when absent (a `null` one is normalized to absent); the other
    /// fields are nullable (an absent key encodes back as `null`).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Business {
        /// The id of the business (what `business__in` filters on).
        id: opt Str = "id",
        /// Its name.
        name: null Str = "name",
        /// Its city.
        city: null Str = "city",
        /// Its postal code.
        zipcode: null Str = "zipcode",
        /// Its country code.
        country: null Str = "country",
        /// Its full address on one line.
        formatted_address: null Str = "formatted_address",
    }
}

inbox_wire::wire_struct! {
    /// Custom channel data of a conversation (`custom_channel`), filled when the messaging
    /// partner is `Custom`. Partoo does not document its fields; the one modelled here is the
    /// id the custom channel API groups messages by, and the rest is kept in `extra`.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct CustomChannelConversation {
        /// The id of the conversation in the custom channel's own system.
        external_conversation_id: opt Str = "external_conversation_id",
    }
}

/// A conversation's `last_message`.
///
/// Partoo documents it only as "an object"; it is decoded as a [`Message`] when it is one,
/// and kept as sent otherwise, so an odd last message never hides its conversation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LastMessage {
    /// The last message, decoded.
    Message(Box<Message>),
    /// A last message that does not decode as a [`Message`], as sent.
    Raw(Value),
}

impl LastMessage {
    /// The decoded message, if it decoded.
    pub fn message(&self) -> Option<&Message> {
        match self {
            LastMessage::Message(message) => Some(message),
            LastMessage::Raw(_) => None,
        }
    }
}

impl<'de> Deserialize<'de> for LastMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Ok(match Message::deserialize(&value) {
            Ok(message) => LastMessage::Message(Box::new(message)),
            Err(_) => LastMessage::Raw(value),
        })
    }
}

impl Serialize for LastMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            LastMessage::Message(message) => message.serialize(serializer),
            LastMessage::Raw(value) => value.serialize(serializer),
        }
    }
}

inbox_wire::wire_struct! {
    /// A conversation between a business and a consumer.
    ///
    /// Only `id` is required: conversations are listed to get their ids, so a missing field
    /// never hides one. Partoo publishes no schema for conversations (the fields are those of
    /// its documentation); fields it documents as nullable (`consumer_img`, `consumer_name`,
    /// `consumer_phone_number`, `last_message`, `first_message_date`, `assigned_user_id`,
    /// `custom_channel`) encode `None` as `null`; the others are `None` when absent and are
    /// then not encoded. A field of the wrong JSON type (or a date that is not one) does not
    /// decode: in a [`ConversationsPage`] the conversation is kept raw with the path.
    ///
    /// # Round trip
    ///
    /// Decoding then encoding gives back what Partoo sent, with the two normalizations of
    /// [`Message`]: a nullable field left out comes back as `null`, and a non-nullable one
    /// sent as `null` (`"is_read": null`, `"status": null`...) decodes as `None`, like an
    /// absent key, and is left out on encode. A `last_message` that decodes as a message
    /// comes back as that message encodes (see [`Message`]); one that does not is kept and
    /// encoded as sent ([`LastMessage::Raw`]).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Conversation {
        /// The id of the conversation (what [`crate::ListMessagesQuery`] takes).
        id: req i64 = "id",
        /// The url of the consumer's profile picture.
        consumer_img: null Str = "consumer_img",
        /// The consumer's name; its format depends on the channel, and it may be empty.
        consumer_name: null Str = "consumer_name",
        /// The consumer's phone number, E.164 (`+33612345678`).
        consumer_phone_number: null Str = "consumer_phone_number",
        /// The last message exchanged.
        last_message: null LastMessage = "last_message",
        /// Whether the last message received was read, for the user making the request.
        is_read: opt bool = "is_read",
        /// Whether messages can be sent.
        status: opt ConversationStatus = "status",
        /// When the conversation was created.
        created_at: opt Timestamp = "created_at",
        /// Whether a Partoo user sent at least one message.
        has_one_user_message: opt bool = "has_one_user_message",
        /// The business the conversation belongs to.
        business: opt Business = "business",
        /// The channel.
        messaging_partner: opt MessagingPartner = "messaging_partner",
        /// Setup problems that prevent sending messages.
        issues: opt Vec<ConversationIssue> = "issues",
        /// When the first message was exchanged.
        first_message_date: null Timestamp = "first_message_date",
        /// Whether the conversation expired (the channel no longer allows answering).
        is_expired: opt bool = "is_expired",
        /// Whether the conversation was marked solved.
        is_solved: opt bool = "is_solved",
        /// The Partoo user the conversation is assigned to.
        assigned_user_id: null Str = "assigned_user_id",
        /// Custom channel data, when the messaging partner is `Custom`.
        custom_channel: null CustomChannelConversation = "custom_channel",
    }
}

inbox_wire::wire_struct! {
    /// A page of `GET /conversations`.
    ///
    /// `conversations` is required; `count` is optional; `next_cursor` is `null` on the last
    /// page (an absent key is read the same way).
    #[derive(Debug, Clone, PartialEq)]
    pub struct ConversationsPage {
        /// The conversations of this page. One that does not decode is kept raw in
        /// `conversations.rejected()` with its path and reason. Each is in its own box: a page
        /// grows by pointers, and a conversation becomes a unified summary's `origin` without
        /// being copied.
        conversations: req List<Box<Conversation>> = "conversations",
        /// The total number of conversations for the query.
        count: opt u64 = "count",
        /// The cursor of the next page; `None` on the last page.
        next_cursor: null String = "next_cursor",
    }
}

impl ConversationsPage {
    /// Decodes a page from a response body; see [`crate::MessagesPage::from_slice`].
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        inbox_wire::from_slice(bytes)
    }

    /// Whether this is the last page (no `next_cursor`).
    pub fn is_last(&self) -> bool {
        self.next_cursor.is_none()
    }
}

impl Conversation {
    /// Decodes one conversation (`GET /conversations/{id}`) from a response body.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        inbox_wire::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn conversation() -> Value {
        json!({
            "id": 123,
            "consumer_img": null,
            "consumer_name": "John Doe",
            "consumer_phone_number": "+33612345678",
            "last_message": {
                "id": 9, "conversation_id": 123, "date": "2023-01-31 16:22:17.327878+00:00",
                "content_type": "Text", "sender_type": "Consumer", "sender_label": null,
                "status": "Success", "is_deleted": false, "is_automated": false,
                "content": "Hello", "user_id": null, "custom_channel": null
            },
            "is_read": true,
            "status": "Open",
            "created_at": "2023-01-31 16:22:17.327878+00:00",
            "has_one_user_message": true,
            "business": {"id": "a1c9f37b4deca92f83b61d02", "name": "Boulangerie", "city": "Paris",
                         "zipcode": "75011", "country": "FR", "formatted_address": "1 rue X"},
            "messaging_partner": "Facebook",
            "issues": ["facebook_no_page_linked", "whatsapp_template_missing"],
            "first_message_date": "2023-01-31 16:22:17.327878+00:00",
            "is_expired": false,
            "is_solved": false,
            "assigned_user_id": null,
            "custom_channel": null,
        })
    }

    #[test]
    fn decodes_and_round_trips() {
        let value = conversation();
        let c: Conversation = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(
            c.last_message
                .as_ref()
                .and_then(LastMessage::message)
                .map(|m| m.id),
            Some(9)
        );
        assert_eq!(
            c.issues.as_deref(),
            Some(
                &[
                    ConversationIssue::FacebookNoPageLinked,
                    ConversationIssue::Unknown("whatsapp_template_missing".into())
                ][..]
            )
        );
        assert_eq!(serde_json::to_value(&c).unwrap(), value);
    }

    #[test]
    fn an_odd_last_message_is_kept_raw_and_the_conversation_decodes() {
        let mut value = conversation();
        value["last_message"] = json!({"id": "not a number", "content": "hi"});
        let c: Conversation = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(
            c.last_message,
            Some(LastMessage::Raw(
                json!({"id": "not a number", "content": "hi"})
            ))
        );
        assert_eq!(serde_json::to_value(&c).unwrap(), value);
    }

    /// The normalizations the round trip makes (documented on [`Conversation`]), and nothing
    /// else.
    #[test]
    fn off_spec_null_and_absent_keys_are_normalized_and_nothing_else() {
        let mut sent = conversation();
        let obj = sent.as_object_mut().unwrap();
        for key in ["is_read", "status", "issues", "is_solved"] {
            obj.insert(key.to_owned(), Value::Null);
        }
        for key in ["consumer_img", "last_message", "custom_channel"] {
            obj.remove(key);
        }
        sent["business"] = json!({"name": "Boulangerie"});
        let c: Conversation = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!((c.is_read, &c.status, &c.issues), (None, &None, &None));
        assert_eq!((&c.consumer_img, &c.last_message), (&None, &None));
        let business = c.business.as_ref().unwrap();
        assert_eq!(
            (business.id.as_deref(), business.name.as_deref()),
            (None, Some("Boulangerie"))
        );

        let mut want = sent.clone();
        let obj = want.as_object_mut().unwrap();
        for key in ["is_read", "status", "issues", "is_solved"] {
            obj.remove(key);
        }
        for key in ["consumer_img", "last_message", "custom_channel"] {
            obj.insert(key.to_owned(), Value::Null);
        }
        want["business"] = json!({"name": "Boulangerie", "city": null, "zipcode": null,
                                  "country": null, "formatted_address": null});
        let encoded = serde_json::to_value(&c).unwrap();
        assert_eq!(encoded, want);
        let again: Conversation = serde_json::from_value(encoded.clone()).unwrap();
        assert_eq!(serde_json::to_value(&again).unwrap(), encoded);
    }

    #[test]
    fn only_the_id_is_required() {
        let c: Conversation = serde_json::from_str(r#"{"id": 5}"#).unwrap();
        assert_eq!((c.id, c.business, c.messaging_partner), (5, None, None));
        let err = serde_json::from_str::<Conversation>(r#"{"consumer_name": "x"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `id`"), "{err}");
    }
}
