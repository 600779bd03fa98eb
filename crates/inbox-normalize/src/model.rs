//! The unified message model.

use std::fmt;

use serde::ser::{Serialize, Serializer};
use serde_json::Value;

pub use inbox_wire::{Str, Timestamp};

/// Which provider a message came from. JSON: `"partoo"` or `"bird"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Provider {
    /// Partoo REST API v2.
    Partoo,
    /// Bird Conversations API.
    Bird,
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Provider::Partoo => "partoo",
            Provider::Bird => "bird",
        })
    }
}

/// A message id, typed by provider: Partoo's `10001` and Bird's `"10001"` never compare
/// equal. JSON: the provider's own id as a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MessageId {
    /// A Partoo message id.
    Partoo(i64),
    /// A Bird message id (a UUID).
    Bird(Str),
}

/// A conversation id, typed by provider like [`MessageId`]. JSON: the provider's own id as a
/// string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ConversationId {
    /// A Partoo conversation id.
    Partoo(i64),
    /// A Bird conversation id (a UUID).
    Bird(Str),
}

macro_rules! provider_id {
    ($name:ident) => {
        impl $name {
            /// The provider this id belongs to.
            pub fn provider(&self) -> Provider {
                match self {
                    $name::Partoo(_) => Provider::Partoo,
                    $name::Bird(_) => Provider::Bird,
                }
            }
        }

        impl fmt::Display for $name {
            /// The provider's own id, without the provider.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $name::Partoo(id) => write!(f, "{id}"),
                    $name::Bird(id) => f.write_str(id),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
    };
}

provider_id!(MessageId);
provider_id!(ConversationId);

/// Who a message is from, seen from the business. JSON: `"inbound"`, `"outbound"`, `"system"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the customer.
    Inbound,
    /// From the business: a user, an agent, a bot, an automation or an API key.
    Outbound,
    /// Not a conversation turn: metadata and events, or a sender of a kind the provider did
    /// not document (Partoo's advice for those is not to show them as messages).
    System,
}

/// The role of a sender. JSON: `"customer"`, `"business_user"`, `"agent"`, `"automation"`,
/// `"system"`, or `"unknown"` with the raw value beside it (see [`Sender`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// The customer (Partoo `Consumer`, Bird `contact`).
    Customer,
    /// A person of the business (Partoo `User`, Bird `user`).
    BusinessUser,
    /// A support agent (Bird `agent`).
    Agent,
    /// A bot, a flow, an automation, a connector or an API key (Partoo automated messages,
    /// Bird `bot`, `flow`, `collaborationAutomation`, `connector`, `accessKey`).
    Automation,
    /// The platform itself (Partoo `Metadata`, Bird `channel`).
    System,
    /// A sender kind the provider did not document, as sent.
    Unknown(Str),
}

impl Direction {
    /// The JSON name of the direction.
    pub fn as_str(&self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::System => "system",
        }
    }
}

impl Role {
    /// The JSON name of the role.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::BusinessUser => "business_user",
            Role::Agent => "agent",
            Role::Automation => "automation",
            Role::System => "system",
            Role::Unknown(_) => "unknown",
        }
    }
}

/// Who sent a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Sender {
    /// The role.
    pub role: Role,
    /// The provider's id of the sender, where given.
    pub id: Option<Str>,
    /// A name to show, where given.
    pub display_name: Option<Str>,
    /// A phone number or email address, where given.
    pub address: Option<Str>,
}

impl Serialize for Sender {
    /// `{"role": …, "raw_role"?: …, "id"?: …, "display_name"?: …, "address"?: …}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("role", self.role.as_str())?;
        if let Role::Unknown(raw) = &self.role {
            map.serialize_entry("raw_role", raw)?;
        }
        for (key, value) in [
            ("id", &self.id),
            ("display_name", &self.display_name),
            ("address", &self.address),
        ] {
            if let Some(value) = value {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

/// Someone a message was addressed to.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Recipient {
    /// The provider's id of the recipient.
    pub id: Str,
    /// How it was addressed (`to`, `cc`, `bcc`), as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Str>,
    /// A phone number or email address, where given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Str>,
}

/// Where a message is in its life, on one lifecycle for both providers.
/// JSON: `{"status": "failed", "status_reason": "…"}` and `"status_raw"` for unknown ones.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Accepted, not yet sent.
    Pending,
    /// Handed to the channel.
    Sent,
    /// Delivered to the recipient's device.
    Delivered,
    /// Read by the recipient.
    Read,
    /// Sending or delivery failed, with the provider's reason where given.
    Failed {
        /// Why, where the provider says.
        reason: Option<Str>,
    },
    /// Deleted.
    Deleted,
    /// A status the provider did not document (or none at all: empty), as sent.
    Unknown(Str),
}

impl Status {
    /// The JSON name of the status.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sent => "sent",
            Status::Delivered => "delivered",
            Status::Read => "read",
            Status::Failed { .. } => "failed",
            Status::Deleted => "deleted",
            Status::Unknown(_) => "unknown",
        }
    }
}

/// A media file: an image, a video, a sound, a document.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Media {
    /// Where it is.
    pub url: Str,
    /// Its file name, where given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<Str>,
    /// Its MIME type, where given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<Str>,
    /// A text alternative, where given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<Str>,
}

/// Something the recipient can do with a message: a button, a quick reply, a link.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Action {
    /// `link`, `reply`, `location_request`, `buy`, `postback`, or the provider's raw kind.
    pub kind: Str,
    /// The label shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Str>,
    /// The URL a link opens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Str>,
    /// The payload sent back when chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Str>,
}

/// One entry of a carousel, list or section.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Item {
    /// Its title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Str>,
    /// Its text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Str>,
    /// Its picture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
    /// Its buttons.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
}

/// What kind of interactive message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InteractiveKind {
    /// Cards side by side.
    Carousel,
    /// A list to pick from.
    List,
    /// Sections of content.
    Section,
    /// Text with buttons or quick replies.
    Buttons,
    /// A one-time-password prompt.
    Authentication,
    /// A request for a permission (Bird's `action` body).
    PermissionRequest,
}

/// A conversation event carried by a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The conversation was marked solved (Partoo `Solving`).
    ConversationSolved,
    /// The conversation was reopened (Partoo `Reopening`).
    ConversationReopened,
}

/// A template parameter, by key.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TemplateParameter {
    /// The parameter's key.
    pub key: Str,
    /// Its kind as the provider names it (`string`, `number`, `productList`, ...).
    pub kind: Str,
    /// Its value: a plain value for scalars, the provider's JSON for structured kinds.
    pub value: Value,
}

/// What a message says, one kind per meaning. JSON: an object with `kind` (`text`, `html`,
/// `image`, `video`, `audio`, `file`, `gif`, `location`, `story_reply`, `story_mention`,
/// `interactive`, `template`, `event`, `unsupported`, `unknown`) and the kind's fields.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Content {
    /// Plain text, with attachments and actions where given.
    Text {
        /// The text.
        text: Str,
        /// Attached files.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Media>,
        /// Buttons, quick replies.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        actions: Vec<Action>,
    },
    /// HTML (email), with its plain-text part.
    Html {
        /// The HTML.
        #[serde(skip_serializing_if = "Option::is_none")]
        html: Option<Str>,
        /// The plain-text part.
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<Str>,
        /// Attached files.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Media>,
        /// Buttons, quick replies.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        actions: Vec<Action>,
    },
    /// One or more images, with a caption.
    Image {
        /// The images.
        images: Vec<Media>,
        /// The caption.
        #[serde(skip_serializing_if = "Option::is_none")]
        caption: Option<Str>,
        /// Buttons, quick replies.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        actions: Vec<Action>,
    },
    /// A video.
    Video {
        /// The video.
        media: Media,
        /// The caption.
        #[serde(skip_serializing_if = "Option::is_none")]
        caption: Option<Str>,
    },
    /// A sound.
    Audio {
        /// The sound.
        media: Media,
        /// The caption.
        #[serde(skip_serializing_if = "Option::is_none")]
        caption: Option<Str>,
    },
    /// One or more files (documents too).
    File {
        /// The files.
        files: Vec<Media>,
        /// The caption.
        #[serde(skip_serializing_if = "Option::is_none")]
        caption: Option<Str>,
        /// Buttons, quick replies.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        actions: Vec<Action>,
    },
    /// An animated GIF.
    Gif {
        /// The GIF.
        media: Media,
        /// The caption.
        #[serde(skip_serializing_if = "Option::is_none")]
        caption: Option<Str>,
        /// Buttons.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        actions: Vec<Action>,
    },
    /// A place.
    Location {
        /// Latitude in degrees.
        #[serde(skip_serializing_if = "Option::is_none")]
        latitude: Option<f64>,
        /// Longitude in degrees.
        #[serde(skip_serializing_if = "Option::is_none")]
        longitude: Option<f64>,
        /// A name for the place.
        #[serde(skip_serializing_if = "Option::is_none")]
        label: Option<Str>,
        /// Its address.
        #[serde(skip_serializing_if = "Option::is_none")]
        address: Option<Str>,
    },
    /// A reply to an Instagram story.
    StoryReply {
        /// The story replied to.
        story_url: Str,
        /// The story's id, where given.
        #[serde(skip_serializing_if = "Option::is_none")]
        story_id: Option<Str>,
        /// The reply's text, for a text reply.
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<Str>,
        /// The reply's image, for an image reply.
        #[serde(skip_serializing_if = "Option::is_none")]
        image: Option<Media>,
    },
    /// A mention in an Instagram story.
    StoryMention {
        /// The story.
        story_url: Str,
    },
    /// A carousel, list, section, buttons, authentication or permission request.
    Interactive {
        /// Which.
        interactive: InteractiveKind,
        /// Its title.
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<Str>,
        /// Its text.
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<Str>,
        /// Its entries (cards, list items, sections).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        items: Vec<Item>,
        /// Its buttons.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        actions: Vec<Action>,
    },
    /// A message built from a template.
    Template {
        /// The template's name.
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<Str>,
        /// Its locale (BCP 47).
        #[serde(skip_serializing_if = "Option::is_none")]
        locale: Option<Str>,
        /// The parameters it was filled with.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        parameters: Vec<TemplateParameter>,
        /// Attached files.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Media>,
    },
    /// A conversation event.
    Event {
        /// Which.
        event: Event,
    },
    /// The provider says it cannot show this content.
    Unsupported {
        /// What the provider says it is, where it says.
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<Str>,
    },
    /// Content of a kind the provider did not document, or that does not fit its declared
    /// kind: the raw JSON, and the declared kind where there was one.
    Unknown {
        /// The declared kind, as sent.
        #[serde(skip_serializing_if = "Option::is_none")]
        declared: Option<Str>,
        /// The content as sent.
        raw: Value,
    },
}

impl Content {
    /// The JSON name of the content's kind (`text`, `image`, ..., `unknown`).
    pub fn kind(&self) -> &'static str {
        match self {
            Content::Text { .. } => "text",
            Content::Html { .. } => "html",
            Content::Image { .. } => "image",
            Content::Video { .. } => "video",
            Content::Audio { .. } => "audio",
            Content::File { .. } => "file",
            Content::Gif { .. } => "gif",
            Content::Location { .. } => "location",
            Content::StoryReply { .. } => "story_reply",
            Content::StoryMention { .. } => "story_mention",
            Content::Interactive { .. } => "interactive",
            Content::Template { .. } => "template",
            Content::Event { .. } => "event",
            Content::Unsupported { .. } => "unsupported",
            Content::Unknown { .. } => "unknown",
        }
    }
}

/// Something that happened to a message after it was sent (read, clicked, a reaction...).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Interaction {
    /// `read`, `opened`, `clicked`, `reaction`, ... as the provider names it.
    pub kind: Str,
    /// When, where given.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "utc_opt")]
    pub at: Option<Timestamp>,
    /// The emoji, for a reaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji: Option<Str>,
}

/// The provider's own message, kept whole so nothing is lost. JSON: the wire message as the
/// provider sent it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Origin {
    /// A Partoo message.
    Partoo(Box<partoo_types::Message>),
    /// A Bird message.
    Bird(Box<bird_types::Message>),
}

impl Serialize for Origin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Origin::Partoo(m) => m.serialize(serializer),
            Origin::Bird(m) => m.serialize(serializer),
        }
    }
}

/// One message in the unified model. See the crate documentation for its JSON shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The provider it came from.
    pub provider: Provider,
    /// Its id.
    pub id: MessageId,
    /// Its conversation's id.
    pub conversation_id: ConversationId,
    /// When it was created or sent, as a UTC instant.
    pub timestamp: Timestamp,
    /// When it was last updated, where known.
    pub updated_at: Option<Timestamp>,
    /// Inbound, outbound or system.
    pub direction: Direction,
    /// Who sent it.
    pub sender: Sender,
    /// Who it was addressed to, where given.
    pub recipients: Vec<Recipient>,
    /// Where it is in its life.
    pub status: Status,
    /// What it says.
    pub content: Content,
    /// A one-line plain-text preview; never empty.
    pub text: Str,
    /// Deleted by its sender or the customer.
    pub is_deleted: bool,
    /// Sent by an automation (bot, flow, chatbot, API key).
    pub is_automated: bool,
    /// A draft, not sent.
    pub is_draft: bool,
    /// The message it replies to, where given.
    pub reply_to: Option<MessageId>,
    /// Reads, clicks, reactions... where given.
    pub interactions: Vec<Interaction>,
    /// The provider's message, whole.
    pub origin: Origin,
}

impl Message {
    /// Reactions among the interactions: their emojis.
    pub fn reactions(&self) -> impl Iterator<Item = &str> {
        self.interactions
            .iter()
            .filter(|i| i.kind == "reaction")
            .filter_map(|i| i.emoji.as_deref())
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_fields(serializer, true)
    }
}

/// A [`Message`] serialized without its `origin`: the JSON shape of the crate docs, every
/// key but the last. For a store that keeps the provider's message in a column of its own:
/// the whole shape is this object with `"origin": <origin>` appended.
#[derive(Debug, Clone, Copy)]
pub struct WithoutOrigin<'a>(pub &'a Message);

impl Serialize for WithoutOrigin<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_fields(serializer, false)
    }
}

impl Message {
    /// This message serialized without its `origin` (see [`WithoutOrigin`]).
    pub fn without_origin(&self) -> WithoutOrigin<'_> {
        WithoutOrigin(self)
    }

    fn serialize_fields<S: Serializer>(
        &self,
        serializer: S,
        origin: bool,
    ) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("provider", &self.provider)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("conversation_id", &self.conversation_id)?;
        map.serialize_entry("timestamp", &self.timestamp.to_rfc3339_utc())?;
        if let Some(updated) = &self.updated_at {
            map.serialize_entry("updated_at", &updated.to_rfc3339_utc())?;
        }
        map.serialize_entry("direction", &self.direction)?;
        map.serialize_entry("sender", &self.sender)?;
        if !self.recipients.is_empty() {
            map.serialize_entry("recipients", &self.recipients)?;
        }
        map.serialize_entry("status", self.status.as_str())?;
        match &self.status {
            Status::Failed {
                reason: Some(reason),
            } => map.serialize_entry("status_reason", reason)?,
            Status::Unknown(raw) => map.serialize_entry("status_raw", raw)?,
            _ => {}
        }
        map.serialize_entry("content", &self.content)?;
        map.serialize_entry("text", &self.text)?;
        map.serialize_entry("is_deleted", &self.is_deleted)?;
        map.serialize_entry("is_automated", &self.is_automated)?;
        map.serialize_entry("is_draft", &self.is_draft)?;
        if let Some(reply_to) = &self.reply_to {
            map.serialize_entry("reply_to", reply_to)?;
        }
        if !self.interactions.is_empty() {
            map.serialize_entry("interactions", &self.interactions)?;
        }
        if origin {
            map.serialize_entry("origin", &self.origin)?;
        }
        map.end()
    }
}

fn utc_opt<S: Serializer>(t: &Option<Timestamp>, serializer: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serializer.serialize_str(&t.to_rfc3339_utc()),
        None => serializer.serialize_none(),
    }
}
