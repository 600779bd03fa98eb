//! Conversations: `GET /workspaces/{workspaceId}/conversations`.
//!
//! Fields follow Bird's "Get conversation" schema and the examples of the conversation
//! listing pages; anything else is kept in `extra`. The listing is not part of the published
//! messages schema, so every field but the conversation's `id` is optional.

use inbox_wire::{DecodeError, Extra, List, Str, Timestamp};

use crate::body::BodyType;
use crate::message::MessageStatus;
use crate::page::TotalType;
use crate::participant::{Participant, Recipient};

inbox_wire::open_enum! {
    /// A conversation's status. Sending into a closed conversation fails.
    pub enum ConversationStatus {
        /// Open.
        Active = "active",
        /// Closed.
        Closed = "closed",
    }
}

inbox_wire::open_enum! {
    /// Whether a conversation is public or private.
    pub enum Visibility {
        /// Public.
        Public = "public",
        /// Private.
        Private = "private",
    }
}

inbox_wire::open_enum! {
    /// How new participants may join a conversation (only `open` is documented).
    pub enum Accessibility {
        /// Anyone may join.
        Open = "open",
    }
}

inbox_wire::open_enum! {
    /// The style of a conversation.
    pub enum ConversationStyle {
        /// Dictated by the platform: a mix of user and contact participants.
        Default = "default",
        /// A direct conversation between users.
        DirectMessage = "directMessage",
        /// A chat channel between users.
        ChatChannel = "chatChannel",
        /// A user's personal inbox with personal contacts.
        PersonalInbox = "personalInbox",
        /// Comments on a resource.
        Resource = "resource",
    }
}

inbox_wire::open_enum! {
    /// The communication style of the conversation's platform (only `email` is documented).
    pub enum PlatformStyle {
        /// Email.
        Email = "email",
    }
}

inbox_wire::wire_struct! {
    /// A conversation of the listing.
    ///
    /// Bird publishes no schema for the listing beside the messages one, so only `id` is
    /// required: a conversation missing any other field still decodes (the field is `None`),
    /// and conversations are listed to get their ids, so none is lost to a missing key. A
    /// field of the wrong JSON type (or a timestamp that is not one) does not decode: in a
    /// [`ConversationsPage`] the conversation is then kept raw in `results.rejected()` with
    /// the path.
    ///
    /// # Round trip
    ///
    /// Decoding then encoding gives back what Bird sent, with one normalization: a `null`
    /// sent for a field other than `lastMessage` and `attributes` decodes as `None`, like an
    /// absent key, and is then left out on encode. `lastMessage` and `attributes` keep
    /// `null` apart from absent (`Some(None)`), because a conversation with no message (or no
    /// attributes) may well say so with `null`. A featured participant that does not decode
    /// is kept raw in `featured_participants.rejected()` and encoded back in place.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Conversation {
        /// Conversation ID.
        id: req Str = "id",
        /// Its name (the subject, for email).
        name: opt Str = "name",
        /// Its description.
        description: opt Str = "description",
        /// Its status.
        status: opt ConversationStatus = "status",
        /// Whether it is public or private.
        visibility: opt Visibility = "visibility",
        /// How new participants may join.
        accessibility: opt Accessibility = "accessibility",
        /// Its style.
        style: opt ConversationStyle = "style",
        /// Up to 5 participants; one that does not decode is kept raw in the list's
        /// `rejected()`.
        featured_participants: opt List<Participant> = "featuredParticipants",
        /// Who started it.
        initiating_participant: opt Participant = "initiatingParticipant",
        /// How many participants are active.
        active_participant_count: opt u64 = "activeParticipantCount",
        /// How many participants await approval to join.
        pending_participant_count: opt u64 = "pendingParticipantCount",
        /// Channel ID.
        channel_id: opt Str = "channelId",
        /// A preview of its last message (nullable: `Some(None)` is an explicit `null`).
        last_message: maybe LastMessage = "lastMessage",
        /// When the last incoming message arrived.
        last_message_incoming_at: opt Timestamp = "lastMessageIncomingAt",
        /// When the last outgoing message left.
        last_message_outgoing_at: opt Timestamp = "lastMessageOutgoingAt",
        /// Free-form attributes (nullable).
        attributes: maybe Extra = "attributes",
        /// When it was created.
        created_at: opt Timestamp = "createdAt",
        /// When it was last updated.
        updated_at: opt Timestamp = "updatedAt",
        /// The communication style of its platform (`email`; other values kept).
        platform_style: opt PlatformStyle = "platformStyle",
    }
}

impl Conversation {
    /// Decodes one conversation (e.g. `GET .../conversations/{id}`, or the payload of a
    /// `conversation.updated` webhook). The error names the JSON path of the problem.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        inbox_wire::from_slice(bytes)
    }

    /// The last message, when there is one (neither absent nor `null`).
    pub fn last_message(&self) -> Option<&LastMessage> {
        self.last_message.as_ref().and_then(Option::as_ref)
    }

    /// The featured participants that decoded (none when the key is absent).
    pub fn featured_participants(&self) -> &[Participant] {
        self.featured_participants.as_deref().unwrap_or_default()
    }
}

inbox_wire::wire_struct! {
    /// A preview of a conversation's last message.
    ///
    /// Every field is optional (Bird documents none of them); unknown ones are kept in
    /// `extra`. A `null` decodes as `None` and is left out on encode, but for `recipients`,
    /// which Bird sends as `null` when there are none.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct LastMessage {
        /// Message ID.
        id: opt Str = "id",
        /// The body type.
        body_type: opt BodyType = "type",
        /// The preview.
        preview: opt LastMessagePreview = "preview",
        /// Who receives it (nullable).
        recipients: maybe Vec<Recipient> = "recipients",
        /// Its status.
        status: opt MessageStatus = "status",
        /// Who sent it.
        sender: opt Participant = "sender",
        /// When it was created.
        created_at: opt Timestamp = "createdAt",
    }
}

inbox_wire::wire_struct! {
    /// The preview of a last message.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct LastMessagePreview {
        /// Its text.
        text: opt Str = "text",
    }
}

inbox_wire::wire_struct! {
    /// A page of `GET /workspaces/{workspaceId}/conversations`.
    ///
    /// A conversation that does not decode is kept raw in `results.rejected()`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ConversationsPage {
        /// The conversations, each in its own box: a page grows by pointers, and a
        /// conversation becomes a unified summary's `origin` without being copied.
        results: req List<Box<Conversation>> = "results",
        /// The token for the next page; absent on the last page.
        next_page_token: opt Str = "nextPageToken",
        /// How many conversations there are in all.
        total: opt u64 = "total",
        /// How exact `total` is.
        total_type: opt TotalType = "totalType",
    }
}

impl ConversationsPage {
    /// Decodes a response body (see [`crate::MessagesPage::from_slice`]).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        inbox_wire::from_slice(bytes)
    }

    /// The token to pass as `pageToken` for the next page; `None` on the last page (an
    /// empty token counts as none).
    pub fn next_page(&self) -> Option<&str> {
        self.next_page_token.as_deref().filter(|t| !t.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn conversation() -> Value {
        json!({
            "id": "c1", "name": "Re: refund", "description": "", "status": "active",
            "visibility": "private", "accessibility": "open", "style": "default",
            "featuredParticipants": [
                {"id": "p1", "type": "contact", "displayName": "Jane",
                 "contact": {"identifierKey": "emailaddress", "identifierValue": "jane@example.com"}},
                {"id": "p2", "type": "user", "displayName": "Ana"}
            ],
            "initiatingParticipant": {"id": "p1", "type": "contact"},
            "activeParticipantCount": 2, "pendingParticipantCount": 0, "channelId": "ch1",
            "lastMessage": {"id": "m1", "type": "text", "preview": {"text": "Hi"},
                            "recipients": null, "status": "delivered",
                            "sender": {"id": "p1", "type": "contact"},
                            "createdAt": "2024-11-19T10:00:00.000Z", "seen": true},
            "lastMessageIncomingAt": "2024-11-19T10:00:00.000Z",
            "attributes": {"priority": "high"},
            "createdAt": "2024-11-19T09:30:00.000Z", "updatedAt": "2024-11-19T10:00:00.000Z",
            "platformStyle": "email", "unread": 1
        })
    }

    #[test]
    fn decodes_every_listed_field_and_round_trips() {
        let value = conversation();
        let c: Conversation = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(c.status, Some(ConversationStatus::Active));
        assert_eq!(c.platform_style, Some(PlatformStyle::Email));
        assert_eq!(c.featured_participants().len(), 2);
        let last = c.last_message().unwrap();
        assert_eq!(last.id.as_deref(), Some("m1"));
        assert_eq!(last.status, Some(MessageStatus::Delivered));
        assert_eq!(last.extra["seen"], true);
        assert_eq!(c.extra["unread"], 1);
        assert_eq!(serde_json::to_value(&c).unwrap(), value);
    }

    #[test]
    fn only_the_id_is_required() {
        let c: Conversation = serde_json::from_str(r#"{"id": "c9"}"#).unwrap();
        assert_eq!(
            (c.id.as_str(), &c.status, c.created_at),
            ("c9", &None, None)
        );
        assert!(c.featured_participants().is_empty() && c.last_message().is_none());
        assert_eq!(serde_json::to_value(&c).unwrap(), json!({"id": "c9"}));
        let err = serde_json::from_str::<Conversation>(r#"{"name": "x"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `id`"), "{err}");
        let last: LastMessage = serde_json::from_str(r#"{"preview": {}}"#).unwrap();
        assert_eq!(last.id, None);
    }

    #[test]
    fn a_null_last_message_is_kept_apart_from_an_absent_one() {
        let mut value = conversation();
        value["lastMessage"] = Value::Null;
        let c: Conversation = serde_json::from_value(value.clone()).unwrap();
        assert_eq!((&c.last_message, c.last_message()), (&Some(None), None));
        assert_eq!(serde_json::to_value(&c).unwrap(), value);
    }

    /// The one normalization of the round trip (documented on [`Conversation`]).
    #[test]
    fn other_nulls_are_normalized_to_absent() {
        let mut sent = conversation();
        for key in [
            "name",
            "status",
            "channelId",
            "updatedAt",
            "featuredParticipants",
        ] {
            sent[key] = Value::Null;
        }
        let c: Conversation = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!((&c.name, &c.status, &c.channel_id), (&None, &None, &None));
        let mut want = sent.clone();
        for key in [
            "name",
            "status",
            "channelId",
            "updatedAt",
            "featuredParticipants",
        ] {
            want.as_object_mut().unwrap().remove(key);
        }
        assert_eq!(serde_json::to_value(&c).unwrap(), want);
    }

    #[test]
    fn an_odd_featured_participant_is_kept_raw_in_place() {
        let mut value = conversation();
        value["featuredParticipants"][0] = json!({"id": "p1", "displayName": "no type"});
        let bytes = serde_json::to_vec(&json!({"results": [value.clone()]})).unwrap();
        let page = ConversationsPage::from_slice(&bytes).unwrap();
        assert!(page.results.rejected().is_empty());
        let c = &page.results[0];
        assert_eq!(c.featured_participants().len(), 1);
        let rejected = c.featured_participants.as_ref().unwrap().rejected();
        assert_eq!((rejected[0].index, rejected[0].path.as_str()), (0, "."));
        assert_eq!(serde_json::to_value(c).unwrap(), value);
    }

    #[test]
    fn a_field_of_the_wrong_type_rejects_that_conversation_only() {
        let mut bad = conversation();
        bad["updatedAt"] = json!("yesterday");
        let page = json!({"results": [conversation(), bad]});
        let decoded = ConversationsPage::from_slice(&serde_json::to_vec(&page).unwrap()).unwrap();
        assert_eq!(decoded.results.len(), 1);
        assert_eq!(decoded.results.rejected()[0].path, "updatedAt");
        assert_eq!(serde_json::to_value(&decoded).unwrap(), page);
    }
}
