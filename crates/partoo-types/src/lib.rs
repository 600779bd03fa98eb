//! Wire types of the Partoo REST API v2 messaging endpoints: `GET /messages`,
//! `GET /conversations` (and `GET /conversations/{id}`), `GET /users/me` (the key's
//! organisation), the error bodies, and the webhook deliveries ([`webhook`]). Serde only: no
//! I/O.
//!
//! The types mirror Partoo's JSON and are tolerant where Partoo is loose:
//!
//! - open enums ([`ContentType`], [`SenderType`], [`MessageStatus`], [`MessagingPartner`]...)
//!   keep values added after this crate was written in an `Unknown(String)` variant;
//! - a message's [`Content`] is decoded by its `content_type` (and `sender_type`, for the
//!   `Metadata` events), and a content that does not fit is kept as [`Content::Raw`];
//! - dates ([`Timestamp`]) accept Partoo's `2023-01-31 16:22:17.327878+00:00` and the other
//!   ISO 8601 spellings, expose the UTC instant and encode back as received;
//! - fields this crate does not model are kept in each struct's `extra` map;
//! - one message (or conversation) that does not decode is kept raw in its page's
//!   [`List::rejected`] with the JSON path and the reason; the rest of the page decodes.
//!
//! Decoding then encoding gives back exactly the JSON Partoo sent for every spec-valid
//! body. Two off-spec spellings are normalized: an optional field sent as `null` is left
//! out, and a nullable field left out comes back as `null` (see [`Message`], [`Media`],
//! [`Conversation`] and [`Business`]).
//!
//! ```
//! use partoo_types::{Content, MessagesPage, SenderType};
//!
//! let body = r#"{
//!   "messages": [
//!     {"id": 1, "conversation_id": 42, "date": "2023-01-31 16:22:17.327878+00:00",
//!      "content_type": "Text", "sender_type": "Consumer", "sender_label": "Jane Doe",
//!      "status": "Success", "is_deleted": false, "is_automated": false,
//!      "content": "Bonjour 👋", "user_id": null, "custom_channel": null},
//!     {"id": 2, "conversation_id": 42, "date": "2023-01-31 16:25:00+00:00",
//!      "content_type": "Text", "sender_type": "Metadata", "sender_label": null,
//!      "content": "Solving", "user_id": null, "custom_channel": null},
//!     {"id": 3, "conversation_id": 42, "date": "2023-01-31T16:30:00Z",
//!      "content_type": "Location", "sender_type": "Consumer", "sender_label": null,
//!      "content": {"lat": 48.85, "lng": 2.35}, "user_id": null, "custom_channel": null}
//!   ],
//!   "count": 3,
//!   "next_cursor": null
//! }"#;
//!
//! let page = MessagesPage::from_slice(body.as_bytes())?;
//! let mut shown = Vec::new();
//! for message in page.messages.iter() {
//!     if !message.sender_type.is_known() {
//!         continue; // Partoo's advice: ignore unknown senders.
//!     }
//!     shown.push(match &message.content {
//!         Content::Text(text) if message.sender_type == SenderType::Consumer => {
//!             format!("consumer: {text}")
//!         }
//!         Content::Solving => "-- marked solved --".to_owned(),
//!         Content::Raw(_) => format!("[unhandled {} content]", message.content_type),
//!         other => format!("{other:?}"),
//!     });
//! }
//! assert_eq!(
//!     shown,
//!     ["consumer: Bonjour 👋", "-- marked solved --", "[unhandled Location content]"]
//! );
//! assert_eq!(page.messages[0].date.to_rfc3339_utc(), "2023-01-31T16:22:17.327878Z");
//! assert!(page.is_last());
//! # Ok::<(), partoo_types::DecodeError>(())
//! ```

mod content;
mod conversation;
mod error_body;
mod message;
mod peek;
mod query;
mod send;
mod user;
pub mod webhook;

pub use content::{Content, IgStoryReply, IgStoryReplyType, Media, Unsupported, UnsupportedType};
pub use conversation::{
    Business, Conversation, ConversationIssue, ConversationStatus, ConversationsPage,
    CustomChannelConversation, LastMessage, MessagingPartner,
};
pub use error_body::ErrorBody;
pub use inbox_wire::{DecodeError, Extra, List, Rejected, Str, Timestamp, TimestampError};
pub use message::{
    ContentType, CustomChannelMessage, Message, MessageStatus, MessagesPage, SenderType,
};
pub use peek::MessagesPageEnvelope;
pub use query::{
    DEFAULT_PER_PAGE, ListConversationsQuery, ListMessagesQuery, MAX_PER_PAGE, QueryError,
};
pub use send::{RetryResponse, SendContentType, SendMessage, SendRefusal, SendResponse};
pub use user::{OrgId, User};
pub use webhook::{
    Event, EventPayload, EventType, MessageEvent, WebhookBusiness, WebhookConversation,
};
