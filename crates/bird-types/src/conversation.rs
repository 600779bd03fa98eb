//! Conversations: `GET /workspaces/{workspaceId}/conversations`.
//!
//! Fields and required keys follow Bird's "Get conversation" schema and the examples of the
//! conversation listing pages; anything else is kept in `extra`.

use inbox_wire::{DecodeError, Extra, List, Timestamp};

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
    /// A conversation.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Conversation {
        /// Conversation ID.
        id: req String = "id",
        /// Its name (the subject, for email).
        name: req String = "name",
        /// Its description.
        description: opt String = "description",
        /// Its status.
        status: req ConversationStatus = "status",
        /// Whether it is public or private.
        visibility: req Visibility = "visibility",
        /// How new participants may join.
        accessibility: req Accessibility = "accessibility",
        /// Its style.
        style: opt ConversationStyle = "style",
        /// Up to 5 participants.
        featured_participants: req Vec<Participant> = "featuredParticipants",
        /// Who started it.
        initiating_participant: opt Participant = "initiatingParticipant",
        /// How many participants are active.
        active_participant_count: req u64 = "activeParticipantCount",
        /// How many participants await approval to join.
        pending_participant_count: opt u64 = "pendingParticipantCount",
        /// Channel ID.
        channel_id: req String = "channelId",
        /// A preview of its last message.
        last_message: opt LastMessage = "lastMessage",
        /// When the last incoming message arrived.
        last_message_incoming_at: opt Timestamp = "lastMessageIncomingAt",
        /// When the last outgoing message left.
        last_message_outgoing_at: opt Timestamp = "lastMessageOutgoingAt",
        /// Free-form attributes (nullable).
        attributes: maybe Extra = "attributes",
        /// When it was created.
        created_at: req Timestamp = "createdAt",
        /// When it was last updated.
        updated_at: req Timestamp = "updatedAt",
        /// The communication style of its platform.
        platform_style: req PlatformStyle = "platformStyle",
    }
}

inbox_wire::wire_struct! {
    /// A preview of a conversation's last message.
    #[derive(Debug, Clone, PartialEq)]
    pub struct LastMessage {
        /// Message ID.
        id: req String = "id",
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
        text: opt String = "text",
    }
}

inbox_wire::wire_struct! {
    /// A page of `GET /workspaces/{workspaceId}/conversations`.
    ///
    /// A conversation that does not decode is kept raw in `results.rejected()`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ConversationsPage {
        /// The conversations.
        results: req List<Conversation> = "results",
        /// The token for the next page; absent on the last page.
        next_page_token: opt String = "nextPageToken",
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
