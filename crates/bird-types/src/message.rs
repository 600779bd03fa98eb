//! A conversation message and what hangs off it: status, interactions, metadata.

use inbox_wire::{Extra, Str, Timestamp};

use crate::body::{Body, EmailFrom};
use crate::participant::{InboxRef, Participant, Recipient, RecipientType};
use crate::template::Template;

inbox_wire::open_enum! {
    /// A message's status. The lifecycle is `accepted`, `processing`, `sent`, `delivered`.
    pub enum MessageStatus {
        /// Accepted by Bird.
        Accepted = "accepted",
        /// Being processed.
        Processing = "processing",
        /// Sent to the platform.
        Sent = "sent",
        /// Could not be sent (see `reason`).
        SendingFailed = "sending_failed",
        /// Delivered to the recipient.
        Delivered = "delivered",
        /// Could not be delivered (see `reason`).
        DeliveryFailed = "delivery_failed",
        /// Deleted.
        Deleted = "deleted",
    }
}

inbox_wire::open_enum! {
    /// Who created a message. Bird's own example sends `channels`, which is not documented:
    /// it decodes as `Unknown("channels")`.
    pub enum MessageSource {
        /// Bird's Conversations API.
        Conversations = "conversations",
        /// An external party.
        External = "external",
    }
}

inbox_wire::open_enum! {
    /// Who created a draft.
    pub enum DraftCreatorType {
        /// A bot.
        Bot = "bot",
        /// A user.
        User = "user",
    }
}

inbox_wire::open_enum! {
    /// What happened to a message ([`Interaction`]).
    pub enum InteractionType {
        /// Read.
        Read = "read",
        /// Opened (email).
        Opened = "opened",
        /// A link or button was clicked.
        Clicked = "clicked",
        /// Marked as spam (email).
        ReportedAsSpam = "reported-as-spam",
        /// The recipient unsubscribed (email).
        UnsubscribeRequest = "unsubscribe-request",
        /// A request to delete the message.
        DeleteRequest = "delete-request",
        /// An emoji reaction.
        Reaction = "reaction",
        /// Bird could not tell.
        Invalid = "invalid",
    }
}

inbox_wire::wire_struct! {
    /// A conversation message (`Message`).
    ///
    /// Every property of Bird's schema, plus `channelId` and `conversationCreatedAt` that Bird
    /// sends beyond it; anything else is kept in `extra`. Bird requires `body` or `template`
    /// (not enforced here).
    #[derive(Debug, Clone, PartialEq)]
    pub struct Message {
        /// Message ID.
        id: req Str = "id",
        /// Conversation ID.
        conversation_id: opt Str = "conversationId",
        /// Your own ID for messages you sent (unique in the workspace; often `""`).
        reference: opt Str = "reference",
        /// Who sent it.
        sender: req Participant = "sender",
        /// Whether it is a draft.
        draft: req bool = "draft",
        /// Draft details.
        draft_meta: opt DraftMeta = "draftMeta",
        /// The message it replies to (a UUID).
        reply_to_message_id: opt Str = "replyToMessageId",
        /// Who receives it.
        recipients: opt Vec<Recipient> = "recipients",
        /// Its status.
        status: req MessageStatus = "status",
        /// Who created it.
        source: req MessageSource = "source",
        /// The template it was sent from (nullable).
        template: maybe Box<Template> = "template",
        /// Its content (nullable).
        body: maybe Box<Body> = "body",
        /// Why sending or delivery failed.
        reason: opt Str = "reason",
        /// What happened to it: reads, clicks, reactions, ... (nullable; Bird sends `null`
        /// when there are none).
        interactions: maybe Vec<Interaction> = "interactions",
        /// When it was created.
        created_at: req Timestamp = "createdAt",
        /// When it was last updated.
        updated_at: req Timestamp = "updatedAt",
        /// Channel-dependent metadata.
        meta: opt Box<MessageMeta> = "meta",
        /// The email headers the receiver was in (inbound email).
        receiver_types: opt Vec<RecipientType> = "receiverTypes",
        /// The inbox it belongs to.
        inbox: opt Box<InboxRef> = "inbox",
        /// The channel it went through (sent by Bird, not in the list schema).
        channel_id: opt Str = "channelId",
        /// When its conversation was created (sent by Bird, not in the list schema).
        conversation_created_at: opt Timestamp = "conversationCreatedAt",
    }
}

impl Message {
    /// Decodes one message (e.g. a line of JSON Lines, or a webhook's payload). The error
    /// names the JSON path of the problem.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, crate::DecodeError> {
        inbox_wire::from_slice(bytes)
    }

    /// The body, when there is one (neither absent nor `null`).
    pub fn body(&self) -> Option<&Body> {
        self.body.as_ref().and_then(Option::as_deref)
    }

    /// The template, when there is one (neither absent nor `null`).
    pub fn template(&self) -> Option<&Template> {
        self.template.as_ref().and_then(Option::as_deref)
    }

    /// The interactions (none when absent or `null`).
    pub fn interactions(&self) -> &[Interaction] {
        self.interactions
            .as_ref()
            .and_then(Option::as_deref)
            .unwrap_or_default()
    }
}

inbox_wire::wire_struct! {
    /// Draft details.
    #[derive(Debug, Clone, PartialEq)]
    pub struct DraftMeta {
        /// Who created the draft.
        creator_type: req DraftCreatorType = "creatorType",
    }
}

inbox_wire::wire_struct! {
    /// Something that happened to a message: read, clicked, reacted to, ...
    #[derive(Debug, Clone, PartialEq)]
    pub struct Interaction {
        /// Its ID within the message (a UUID).
        id: req Str = "id",
        /// What happened.
        interaction_type: req InteractionType = "type",
        /// When.
        created_at: req Timestamp = "createdAt",
        /// Details; free-form beyond the documented keys, which stay in its `extra`.
        metadata: opt Box<InteractionMetadata> = "metadata",
    }
}

inbox_wire::wire_struct! {
    /// Details of an interaction (free-form; the documented keys are typed).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct InteractionMetadata {
        /// The clicked link (`clicked`).
        link: opt ClickedLink = "link",
        /// The clicked button (`clicked` on a message with buttons).
        button: opt ClickedButton = "button",
        /// The reaction (`reaction`).
        reaction: opt Reaction = "reaction",
    }
}

inbox_wire::wire_struct! {
    /// A clicked link.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ClickedLink {
        /// The link's name.
        name: opt Str = "name",
        /// The link's URL.
        url: opt Str = "url",
    }
}

inbox_wire::wire_struct! {
    /// A clicked button.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ClickedButton {
        /// The button's payload.
        payload: opt Str = "payload",
    }
}

inbox_wire::wire_struct! {
    /// An emoji reaction.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Reaction {
        /// The emoji.
        emoji: opt Str = "emoji",
        /// What was done with it (e.g. added or removed; not documented further).
        action: opt Str = "action",
    }
}

inbox_wire::wire_struct! {
    /// Channel-dependent message metadata (`MessageMeta`).
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct MessageMeta {
        /// Email details.
        email: opt EmailMeta = "email",
        /// Free-form extra information.
        extra_information: opt Extra = "extraInformation",
        /// The post or ad that started the conversation.
        referral: opt Referral = "referral",
    }
}

inbox_wire::wire_struct! {
    /// Email details of a message.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct EmailMeta {
        /// The subject line.
        subject: opt Str = "subject",
        /// Additional headers.
        headers: opt std::collections::BTreeMap<String, String> = "headers",
        /// The From address.
        from: opt EmailFrom = "from",
    }
}

inbox_wire::wire_struct! {
    /// A social media post or ad referenced when the conversation started.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct Referral {
        /// Where it comes from.
        source: opt Str = "source",
        /// Its title.
        title: opt Str = "title",
        /// Its text.
        text: opt Str = "text",
        /// Its group.
        group: opt Str = "group",
        /// Details.
        metadata: opt ReferralMetadata = "metadata",
    }
}

inbox_wire::wire_struct! {
    /// Details of a referral.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ReferralMetadata {
        /// The post's or ad's ID.
        source_id: opt Str = "sourceId",
        /// The post's or ad's URL.
        source_url: opt Str = "sourceUrl",
        /// The media type.
        media_type: opt Str = "mediaType",
        /// The media's URL.
        media_url: opt Str = "mediaUrl",
        /// The caption.
        caption: opt Str = "caption",
        /// Who created it.
        username: opt Str = "username",
        /// When it was created.
        timestamp: opt Timestamp = "timestamp",
        /// A tracking ID.
        tracking_id: opt Str = "trackingId",
    }
}
