//! Verify and decode Partoo and Bird webhooks into the unified inbox model. No server: the
//! `inbox serve` command (or your own) hands this crate the raw body and headers.
//!
//! - [`PartooVerifier`]: Ed25519 over the raw body, the signature base64 in
//!   `X-Partoo-Signature-v1`, checked with `verify_strict` against one or more public keys
//!   (production and sandbox differ). Partoo signs no timestamp: replays are absorbed by
//!   idempotent storage.
//! - [`BirdVerifier`]: base64 HMAC-SHA256 over `timestamp + "\n" + URL + "\n" +
//!   SHA-256(body)` in `messagebird-signature`, compared in constant time, with a timestamp
//!   at most 5 minutes away (either way) and the public URL Bird calls.
//! - [`decode_partoo`] and [`decode_bird`] run only on verified bytes and give the same
//!   [`inbox_normalize::Message`] and [`inbox_normalize::ConversationSummary`] a sync
//!   stores. A body that does not decode is an [`Undecodable`] naming the JSON path, for the
//!   caller to keep raw.
//!
//! # Example
//!
//! ```
//! use inbox_webhook::{BirdHeaders, BirdVerifier, bird_signature, decode_bird, BirdEvent};
//!
//! let url = "https://hooks.example.com/webhooks/bird";
//! let body = br#"{"service":"channels","event":"sms.inbound","payload":{}}"#;
//! let now = std::time::SystemTime::now();
//! let timestamp = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
//! let signature = bird_signature("signing-key", &timestamp, url, body);
//!
//! let verifier = BirdVerifier::new("signing-key", url);
//! let headers = BirdHeaders { signature: Some(&signature), timestamp: Some(&timestamp), request_id: Some("evt-1") };
//! let delivery = verifier.verify(body, headers, now).expect("authentic");
//! assert_eq!(delivery.request_id, "evt-1");
//! assert!(matches!(decode_bird(body), Ok(BirdEvent::Other { .. })));
//! ```

mod event;
mod verify;

pub use event::{
    BirdEvent, ConversationEventKind, MessageEventKind, PartooEvent, Undecodable, decode_bird,
    decode_partoo,
};
pub use verify::{
    BIRD_REQUEST_ID, BIRD_SIGNATURE, BIRD_TIMESTAMP, BirdDelivery, BirdHeaders, BirdVerifier,
    KeyError, PARTOO_SIGNATURE, PartooVerifier, Refused, bird_signature,
};
