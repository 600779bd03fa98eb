//! Partoo → unified model.
//!
//! | Partoo `sender_type` | direction | role |
//! |---|---|---|
//! | `Consumer` | inbound | customer |
//! | `User` | outbound | business user (automation when `is_automated`) |
//! | `Metadata` | system | system |
//! | anything else | system | unknown (raw value) |
//!
//! | Partoo `status` | status |
//! |---|---|
//! | `Sending` | pending |
//! | `Success` | sent |
//! | `Failed` | failed (Partoo gives no reason) |
//! | absent | unknown (`""`) |
//! | anything else | unknown (raw value) |
//! | any, with `is_deleted: true` | deleted |
//!
//! | Partoo content | content kind |
//! |---|---|
//! | `Text` | text |
//! | `Image` | image |
//! | `Video` | video |
//! | `Audio` | audio |
//! | `Document` | file |
//! | `IgStoryReply` | story_reply (text or image reply) |
//! | `IgStoryMention` | story_mention |
//! | `Unsupported` | unsupported (its `type` as detail) |
//! | Metadata `Solving` | event `conversation_solved` |
//! | Metadata `Reopening` | event `conversation_reopened` |
//! | unknown type, content not fitting its type, or any other Metadata content | unknown (raw JSON, declared type) |

use partoo_types as wire;

use crate::model::{
    Content, ConversationId, Direction, Event, Media, Message, MessageId, Origin, Provider, Role,
    Sender, Status, Str,
};
use crate::preview::preview;

impl From<wire::Message> for Message {
    fn from(m: wire::Message) -> Self {
        Message::from(Box::new(m))
    }
}

/// A page's messages come boxed ([`partoo_types::MessagesPage::messages`]): the box becomes
/// the `origin` as it is, without a copy.
impl From<Box<wire::Message>> for Message {
    fn from(m: Box<wire::Message>) -> Self {
        let automated = m.is_automated.unwrap_or(false);
        let (direction, role) = match &m.sender_type {
            wire::SenderType::Consumer => (Direction::Inbound, Role::Customer),
            wire::SenderType::User if automated => (Direction::Outbound, Role::Automation),
            wire::SenderType::User => (Direction::Outbound, Role::BusinessUser),
            wire::SenderType::Metadata => (Direction::System, Role::System),
            other => (Direction::System, Role::Unknown(other.as_str().into())),
        };
        let deleted = m.is_deleted.unwrap_or(false);
        let status = if deleted {
            Status::Deleted
        } else {
            status(m.status.as_ref())
        };
        let content = content(&m.content_type, &m.content);
        Message {
            provider: Provider::Partoo,
            id: MessageId::Partoo(m.id),
            conversation_id: ConversationId::Partoo(m.conversation_id),
            timestamp: m.date,
            updated_at: None,
            direction,
            sender: Sender {
                role,
                id: m.user_id.clone(),
                display_name: m.sender_label.clone(),
                address: None,
            },
            recipients: Vec::new(),
            status,
            text: preview(&content),
            content,
            is_deleted: deleted,
            is_automated: automated,
            is_draft: false,
            reply_to: None,
            interactions: Vec::new(),
            origin: Origin::Partoo(m),
        }
    }
}

fn status(status: Option<&wire::MessageStatus>) -> Status {
    match status {
        Some(wire::MessageStatus::Sending) => Status::Pending,
        Some(wire::MessageStatus::Success) => Status::Sent,
        Some(wire::MessageStatus::Failed) => Status::Failed { reason: None },
        Some(other) => Status::Unknown(other.as_str().into()),
        None => Status::Unknown(Str::default()),
    }
}

fn media(m: &wire::Media) -> Media {
    Media {
        url: m.url.clone(),
        file_name: m.file_name.clone(),
        mime_type: None,
        alt_text: None,
    }
}

fn content(declared: &wire::ContentType, content: &wire::Content) -> Content {
    match content {
        wire::Content::Text(text) => Content::Text {
            text: text.clone(),
            attachments: vec![],
            actions: vec![],
        },
        wire::Content::Image(url) => Content::Image {
            images: vec![Media {
                url: url.clone(),
                ..Media::default()
            }],
            caption: None,
            actions: vec![],
        },
        wire::Content::Video(m) => Content::Video {
            media: media(m),
            caption: None,
        },
        wire::Content::Audio(m) => Content::Audio {
            media: media(m),
            caption: None,
        },
        wire::Content::Document(m) => Content::File {
            files: vec![media(m)],
            caption: None,
            actions: vec![],
        },
        wire::Content::IgStoryReply(reply) => {
            let (text, image) = match reply.content_type {
                wire::IgStoryReplyType::Image => (
                    None,
                    Some(Media {
                        url: reply.content.clone(),
                        ..Media::default()
                    }),
                ),
                _ => (Some(reply.content.clone()), None),
            };
            Content::StoryReply {
                story_url: reply.url.clone(),
                story_id: reply.id.clone(),
                text,
                image,
            }
        }
        wire::Content::IgStoryMention(url) => Content::StoryMention {
            story_url: url.clone(),
        },
        wire::Content::Unsupported(u) => Content::Unsupported {
            detail: u.kind.as_ref().map(|k| k.as_str().into()),
        },
        wire::Content::Solving => Content::Event {
            event: Event::ConversationSolved,
        },
        wire::Content::Reopening => Content::Event {
            event: Event::ConversationReopened,
        },
        wire::Content::Raw(raw) => Content::Unknown {
            declared: Some(declared.as_str().into()),
            raw: raw.clone(),
        },
        // `Content` is non-exhaustive: a variant added to partoo-types later is kept whole.
        other => Content::Unknown {
            declared: Some(declared.as_str().into()),
            raw: serde_json::to_value(other).unwrap_or_default(),
        },
    }
}

#[cfg(test)]
mod tests;
