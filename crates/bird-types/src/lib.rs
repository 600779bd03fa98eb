//! Wire types of Bird's workspace Conversations API (`https://api.bird.com`): the
//! list-messages page, the conversations listing, their queries, the error body and the
//! webhook envelope ([`webhook`]).
//!
//! Serde only, no I/O. Decoding is tolerant and lossless:
//!
//! - every documented field is typed; unknown fields are kept in each struct's `extra`;
//! - response enums are open: an undocumented value decodes as `Unknown(String)`;
//! - bodies, actions and template parameters are decoded by their `type`; an unknown kind, or
//!   content that does not fit its kind, is kept as sent ([`Untyped`]) and never fails the
//!   message;
//! - a message that cannot be decoded at all is kept raw in the page's `results.rejected()`,
//!   with the JSON path of the problem; the rest of the page still decodes;
//! - timestamps keep their spelling ([`Timestamp`]); fields Bird may omit *or* send as `null`
//!   are `Option<Option<T>>` (`None`: absent, `Some(None)`: `null`);
//! - encoding a decoded value gives back the same JSON document; the one exception is a
//!   conversation of the listing (which has no published schema, so all its fields but `id`
//!   are optional): a `null` in one of its fields, or of its last message's, comes back
//!   absent, but for `lastMessage`, `attributes` and `recipients`, which keep `null` apart
//!   (see [`Conversation`] and [`LastMessage`]).
//!
//! Strings are [`Str`]s (cheap to clone: the unified model shares them). Parts that are
//! large and seldom sent are boxed, so that a message stays small to move while it is
//! decoded: a message's `body`, `template`, `meta` and `inbox`, and the `metadata` of bodies
//! and interactions.
//!
//! ```
//! use bird_types::{BodyContent, MessageSource, MessageStatus, MessagesPage};
//!
//! let page = MessagesPage::from_slice(br#"{
//!   "results": [
//!     {"id": "m1", "sender": {"id": "c1", "type": "contact"}, "draft": false,
//!      "status": "delivered", "source": "channels", "interactions": null,
//!      "body": {"type": "text", "text": {"text": "Hey, listen!"}},
//!      "createdAt": "2024-11-25T20:12:10.514Z", "updatedAt": "2024-11-25T20:12:35.281Z"},
//!     {"id": "m2", "sender": {"id": "c1", "type": "contact"}, "draft": false,
//!      "status": "read", "source": "external",
//!      "body": {"type": "sticker", "sticker": {"id": 7}},
//!      "createdAt": "2024-11-25T20:13:00Z", "updatedAt": "soon"}
//!   ],
//!   "nextPageToken": "WyIyMDI0Il0="
//! }"#)?;
//!
//! let message = &page.results[0];
//! assert_eq!(message.status, MessageStatus::Delivered);
//! assert_eq!(message.source, MessageSource::Unknown("channels".into()));
//! match message.body().map(|b| &b.content) {
//!     Some(BodyContent::Text(text)) => assert_eq!(text.text, "Hey, listen!"),
//!     other => panic!("unexpected body {other:?}"),
//! }
//! assert_eq!(message.created_at.to_string(), "2024-11-25T20:12:10.514Z");
//!
//! // The second message has a timestamp that is not one: it is kept raw, with its path.
//! let rejected = &page.results.rejected()[0];
//! assert_eq!((rejected.index, rejected.path.as_str()), (1, "updatedAt"));
//! assert_eq!(page.next_page(), Some("WyIyMDI0Il0="));
//! # Ok::<(), bird_types::DecodeError>(())
//! ```

#[macro_use]
mod union;

pub mod action;
pub mod body;
pub mod conversation;
pub mod error;
pub mod message;
pub mod page;
pub mod parameter;
pub mod participant;
pub mod query;
pub mod send;
pub mod template;
pub mod webhook;

pub use action::*;
pub use body::*;
pub use conversation::*;
pub use error::*;
pub use inbox_wire::{DecodeError, Extra, List, Rejected, Str, Timestamp, TimestampError};
pub use message::*;
pub use page::*;
pub use parameter::*;
pub use participant::*;
pub use query::*;
pub use send::*;
pub use template::*;
pub use union::Untyped;
pub use webhook::*;
