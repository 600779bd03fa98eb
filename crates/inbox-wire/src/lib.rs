//! Building blocks shared by the provider wire-type crates (`partoo-types`, `bird-types`).
//!
//! Providers add enum values, fields and content kinds without notice. The pieces here let a
//! wire-type crate decode all of it without losing a byte and without slowing down:
//!
//! - [`Timestamp`]: ISO 8601 / RFC 3339 with any separator, precision and offset; exposes the
//!   UTC instant and encodes back exactly as received.
//! - [`open_enum!`]: response enums with an `Unknown(String)` variant.
//! - [`wire_struct!`]: structs that keep unknown fields in `extra`, at derive speed.
//! - [`List`]: arrays where an item that does not decode is kept raw, not fatal.
//! - [`from_slice`]: one fast pass, and a tolerant second pass only when needed.
//! - [`Str`]: the strings of the wire types, cheap to clone (inline when short, else shared).
//!
//! ```
//! use inbox_wire::{List, Timestamp};
//!
//! inbox_wire::wire_struct! {
//!     /// A message.
//!     #[derive(Debug)]
//!     pub struct Message {
//!         /// When.
//!         at: req Timestamp = "at",
//!     }
//! }
//!
//! let list: List<Message> = inbox_wire::from_slice(
//!     br#"[{"at":"2023-01-31 16:22:17+00:00"},{"at":"never"},{"at":"2024-01-01T00:00:00Z","x":1}]"#,
//! ).unwrap();
//! assert_eq!(list.len(), 2);
//! assert_eq!(list[1].extra["x"], 1);
//! assert_eq!(list.rejected()[0].path, "at");
//! ```

mod decode;
mod list;
mod open_enum;
mod str;
mod timestamp;
mod wire_struct;

pub use decode::{DecodeError, from_slice, from_str};
pub use list::{List, Rejected, is_strict_pass};
pub use str::Str;
pub use timestamp::{Timestamp, TimestampError};
pub use wire_struct::Extra;

#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;
}
