//! One provider-neutral model of messages and conversations, and the mapping of every Partoo
//! and Bird message and conversation into it. Pure: no I/O, no async.
//!
//! `Message::from(partoo_types::Message)` and `Message::from(bird_types::Message)` are total:
//! every documented wire variant maps to a specific [`Content`] kind, [`Status`] and
//! [`Role`]; only what a provider did not document becomes `unknown`, with the raw value
//! kept. The provider's message rides along whole in [`Message::origin`], so nothing is lost.
//! A page's items come boxed, and `Message::from(Box<_>)` makes the box the `origin` as it is,
//! without a copy. The mapping tables are in the [`partoo`] and [`bird`] modules.
//!
//! `ConversationSummary::from(partoo_types::Conversation)` and
//! `ConversationSummary::from(bird_types::Conversation)` are total too: one entry of a
//! conversations listing, with its status, channel, contact, creation time and a
//! [`LastActivity`] marker a sync store compares to skip unchanged conversations; the
//! provider's conversation rides along in [`ConversationSummary::origin`]. The mapping tables
//! are in the [`conversation`] module.
//!
//! # JSON shape
//!
//! A [`Message`] serializes to one JSON object (the CLI prints one per line):
//!
//! | key | value |
//! |---|---|
//! | `provider` | `"partoo"` or `"bird"` |
//! | `id`, `conversation_id` | the provider's own ids, as strings |
//! | `timestamp` | RFC 3339 in UTC ending in `Z`, with 0, 3, 6 or 9 fraction digits (no precision lost) |
//! | `updated_at` | the same, when known (else absent) |
//! | `direction` | `"inbound"`, `"outbound"` or `"system"` |
//! | `sender` | `{"role", "raw_role"?, "id"?, "display_name"?, "address"?}`; `role` is `customer`, `business_user`, `agent`, `automation`, `system` or `unknown` (then `raw_role` holds the provider's value) |
//! | `recipients` | `[{"id", "kind"?, "address"?}]`, absent when none |
//! | `status` | `pending`, `sent`, `delivered`, `read`, `failed`, `deleted` or `unknown`; `status_reason` beside `failed` when the provider gives one, `status_raw` beside `unknown` |
//! | `content` | `{"kind": …, …}` with `kind` one of `text`, `html`, `image`, `video`, `audio`, `file`, `gif`, `location`, `story_reply`, `story_mention`, `interactive`, `template`, `event`, `unsupported`, `unknown`; the fields of each are those of the `Content` variant, in snake case, absent when empty |
//! | `text` | the one-line preview: the text, or a placeholder such as `[Image]`; never empty |
//! | `is_deleted`, `is_automated`, `is_draft` | booleans |
//! | `reply_to` | the id replied to, absent when none |
//! | `interactions` | `[{"kind", "at"?, "emoji"?}]`, absent when none |
//! | `origin` | the provider's message, exactly as decoded (encodes back to what was received) |
//!
//! A [`ConversationSummary`] serializes to one JSON object; keys the listing gives no value
//! for are absent:
//!
//! | key | value |
//! |---|---|
//! | `provider` | `"partoo"` or `"bird"` |
//! | `id` | the provider's conversation id, as a string |
//! | `status` | `open`, `closed` or `unknown` (then `status_raw` holds the provider's value) |
//! | `channel` | `google`, `facebook`, `instagram`, `sms`, `whatsapp`, `email`, `custom` or `unknown` (then `channel_raw` holds the provider's value) |
//! | `channel_id` | the provider's channel id (Bird's `channelId`) |
//! | `contact` | `{"id"?, "name"?, "address"?}`: the customer, its name and phone number or address |
//! | `created_at` | RFC 3339 in UTC ending in `Z`, like `timestamp` above |
//! | `last_activity` | `{"key", "message_id"?, "message_at"?, "message_status"?, "message_deleted", "conversation_status"?, "updated_at"?, "raw_digest"?}`: the marker; `key` is its stable string form, statuses as the provider spells them, times in UTC |
//! | `origin` | the provider's conversation, exactly as decoded (encodes back to what was received) |
//!
//! # Example
//!
//! ```
//! use inbox_normalize::{Content, Direction, Message};
//!
//! let page = partoo_types::MessagesPage::from_slice(br#"{"messages": [{
//!     "id": 1, "conversation_id": 7, "date": "2023-01-31 16:22:17.327878+00:00",
//!     "content_type": "Image", "sender_type": "Consumer", "sender_label": "Camille",
//!     "status": "Success", "content": "https://cdn.example/a.jpg",
//!     "user_id": null, "custom_channel": null
//! }], "count": 1, "next_cursor": null}"#).unwrap();
//! let message = Message::from(page.messages[0].clone());
//! assert_eq!(message.direction, Direction::Inbound);
//! assert!(matches!(message.content, Content::Image { .. }));
//! assert_eq!(message.text, "[Image]");
//! let json = serde_json::to_value(&message).unwrap();
//! assert_eq!(json["timestamp"], "2023-01-31T16:22:17.327878Z");
//! assert_eq!(json["content"]["kind"], "image");
//! ```
//!
//! A conversation of Bird's listing, summarized:
//!
//! ```
//! use inbox_normalize::{Channel, ConversationStatus, ConversationSummary};
//!
//! let page = bird_types::ConversationsPage::from_slice(br#"{"results": [{
//!     "id": "c1", "status": "active", "platformStyle": "email", "channelId": "ch1",
//!     "initiatingParticipant": {"id": "p1", "type": "contact", "displayName": "Jane Roe",
//!         "contact": {"identifierKey": "emailaddress", "identifierValue": "jane@example.com"}},
//!     "lastMessage": {"id": "m9", "status": "delivered", "createdAt": "2024-11-19T11:00:00+01:00"},
//!     "createdAt": "2024-11-19T09:30:00Z", "updatedAt": "2024-11-19T10:00:01Z"
//! }]}"#).unwrap();
//! let summary = ConversationSummary::from(page.results[0].clone());
//! assert_eq!(summary.status, Some(ConversationStatus::Open));
//! assert_eq!(summary.channel, Some(Channel::Email));
//! let contact = summary.contact.as_ref().unwrap();
//! assert_eq!(contact.address.as_deref(), Some("jane@example.com"));
//! let json = serde_json::to_value(&summary).unwrap();
//! assert_eq!(json["last_activity"]["message_at"], "2024-11-19T10:00:00Z");
//! // What a sync store keeps, and compares with the next listing's:
//! assert_eq!(
//!     summary.last_activity.key(),
//!     "v1;m=m9;t=1732010400000000000;s=delivered;c=active;u=1732010401000000000"
//! );
//! ```

pub mod bird;
pub mod conversation;
mod model;
pub mod partoo;
mod preview;

pub use conversation::{
    Channel, Contact, ConversationOrigin, ConversationStatus, ConversationSummary, LastActivity,
};
pub use model::{
    Action, Content, ConversationId, Direction, Event, Interaction, InteractiveKind, Item, Media,
    Message, MessageId, Origin, Provider, Recipient, Role, Sender, Status, Str, TemplateParameter,
    Timestamp, WithoutOrigin,
};
pub use preview::preview;
