//! The synthetic dataset: realistic Partoo and Bird messages of every content kind, generated
//! from a seed.
//!
//! Every message is a pure function of its conversation and its index (and, once activity
//! changed it, of its lifecycle: a new id, creation time, status), so a conversation can be
//! generated whole or a message at a time, and the same seed always gives the same bytes.
//! Messages are written through borrowed serde structs in the providers' field order (Bird
//! bodies with `type` first), and serialized once into raw JSON values that pages reuse.
//! The proportions follow what a small business inbox looks like: mostly text, some images
//! and files, a few voice notes, story replies, locations, interactive messages, templates and
//! events.
//!
//! [`partoo_page`] and [`bird_page`] build whole list-messages response bodies without a
//! server (the decode benchmark uses them). When a page holds at least 16 messages, every
//! content kind appears in it at least once.
//!
//! ```
//! let body = inbox_emulator::generate::partoo_page(7, 100);
//! let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
//! assert_eq!(page["messages"].as_array().map(Vec::len), Some(100));
//! assert_eq!(body, inbox_emulator::generate::partoo_page(7, 100));
//! ```

mod bird;
mod partoo;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::rng::{Rng, hash};
use crate::time::micros_of;
use crate::wire;

pub(crate) use bird::BirdConv;
pub(crate) use bird::member as bird_member;
pub(crate) use partoo::{
    ACCOUNT_USER_FIRST_NAME, ACCOUNT_USER_ID, ACCOUNT_USER_LAST_NAME, BUSINESSES, PartooConv,
    SentMessage as PartooSent, sent_message as partoo_sent,
};

/// A realistic Partoo `GET /messages` response body: `messages` messages of one Instagram
/// conversation (the channel where every content kind occurs), oldest first, every content
/// kind in realistic proportions (each at least once from 16 messages on), `count` set and
/// `next_cursor` null.
pub fn partoo_page(seed: u64, messages: usize) -> Vec<u8> {
    let conv = PartooConv::new(hash(&[seed, SALT_PAGE]), 0, messages, 1_000_001, true);
    let items: Vec<Box<RawValue>> = (0..messages)
        .map(|i| conv.message(i, &Lifecycle::default()))
        .collect();
    let items: Vec<&RawValue> = items.iter().map(AsRef::as_ref).collect();
    let mut out = Vec::with_capacity(messages * 420 + 64);
    write(
        &mut out,
        &wire::PartooMessagesPage {
            messages: &items,
            count: messages,
            next_cursor: None,
        },
    );
    out
}

/// A realistic Bird list-messages response body: `messages` messages of one conversation,
/// newest first (Bird's default order), every content kind in realistic proportions (each at
/// least once from 16 messages on), with `total` and `totalType` and no `nextPageToken`.
pub fn bird_page(seed: u64, messages: usize) -> Vec<u8> {
    let conv = BirdConv::new(hash(&[seed, SALT_PAGE]), 0, messages, true);
    let items: Vec<Box<RawValue>> = (0..messages)
        .rev()
        .map(|i| conv.message_json(i, &Lifecycle::default()))
        .collect();
    let items: Vec<&RawValue> = items.iter().map(AsRef::as_ref).collect();
    let mut out = Vec::with_capacity(messages * 700 + 64);
    write(
        &mut out,
        &wire::BirdMessagesPage {
            results: &items,
            next_page_token: None,
            total: messages,
            total_type: "equal",
        },
    );
    out
}

/// How a message differs from what the seed drew for it: what the data layer sets when it
/// appends a message or moves one along its lifecycle. `None` keeps what was drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Lifecycle {
    /// Another id (appended Partoo messages take ids past every drawn one).
    pub(crate) id: Option<i64>,
    /// When it was created (appended messages), microseconds since the epoch.
    pub(crate) created: Option<i64>,
    /// When it last changed (Bird's `updatedAt`), microseconds since the epoch.
    pub(crate) updated: Option<i64>,
    /// Its status now.
    pub(crate) status: Option<&'static str>,
    /// Whether it is deleted now (Partoo's `is_deleted`).
    pub(crate) deleted: Option<bool>,
}

/// Serializes `value` as JSON into `out`. Writing these types into a `Vec` cannot fail
/// (no I/O, no maps with non-string keys, no custom `Serialize` that errors), so an error
/// is ignored rather than unwrapped.
pub(crate) fn write(out: &mut Vec<u8>, value: &impl Serialize) {
    let _ = serde_json::to_writer(out, value);
}

/// `value` serialized once into a raw JSON value, ready to be written into any number of
/// pages without being serialized or parsed again (`null` in the case that cannot happen,
/// see [`write`]).
pub(crate) fn raw(value: &impl Serialize) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

const SALT_PAGE: u64 = 0x5041_4745;
const SALT_KIND: u64 = 1;
const SALT_SENDER: u64 = 2;
const SALT_CONTENT: u64 = 3;
const SALT_TIME: u64 = 4;
const SALT_ID: u64 = 5;

/// Conversation timing: sessions of a few messages minutes apart, sessions hours or days
/// apart. Strictly increasing, and computable for one index without the others.
#[derive(Debug, Clone)]
struct Timing {
    seed: u64,
    start: i64,
    gap: i64,
    session_len: usize,
    session_break: i64,
}

impl Timing {
    fn new(rng: &mut Rng, seed: u64) -> Self {
        let day = rng.range(0, 330) as i64;
        let start = micros_of(2024, 1, 1, rng.range(7, 20) as i8, rng.range(0, 59) as i8)
            + day * 86_400_000_000;
        Timing {
            seed,
            start,
            gap: rng.range(20, 400) as i64 * 1_000_000,
            session_len: rng.range(4, 16) as usize,
            session_break: rng.range(2 * 3600, 3 * 86_400) as i64 * 1_000_000,
        }
    }

    /// Microseconds since the epoch of message `i`.
    fn at(&self, i: usize) -> i64 {
        // Jitter under half the gap: consecutive messages stay at least half a gap apart.
        let jitter = (hash(&[self.seed, SALT_TIME, i as u64]) % (self.gap as u64 / 2)) as i64;
        let sessions = (i / self.session_len) as i64;
        self.start
            .saturating_add((i as i64).saturating_mul(self.gap))
            .saturating_add(sessions.saturating_mul(self.session_break))
            .saturating_add(jitter)
    }
}

/// Where the showcase kinds go in a conversation of `len` messages: spread evenly after the
/// first message, when there is room for all of them.
fn showcase_slot<K: Copy>(kinds: &[K], len: usize, i: usize) -> Option<K> {
    let n = kinds.len();
    if i == 0 || len < n + 1 {
        return None;
    }
    kinds
        .iter()
        .enumerate()
        .find(|&(j, _)| 1 + j * (len - 1) / n == i)
        .map(|(_, &kind)| kind)
}

/// A UUID-shaped id (version 4 layout) from a hash.
pub(crate) fn uuid(h: u64, h2: u64) -> String {
    let a = h;
    let b = h2;
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFF,
        8 + (b >> 62),
        (b >> 48) & 0xFFF,
        b & 0xFFFF_FFFF_FFFF
    )
}

fn first_name(name: &str) -> &str {
    name.split([' ', '(']).next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_is_strictly_increasing() {
        for seed in 0..20 {
            let conv = PartooConv::new(seed, 0, 500, 1, false);
            for i in 1..500 {
                assert!(conv.time(i) > conv.time(i - 1), "seed {seed} index {i}");
            }
        }
    }

    #[test]
    fn showcase_slots_are_distinct() {
        const SHOWCASE: [u8; 10] = [0; 10];
        for len in [11, 12, 13, 50, 100, 401] {
            let slots: Vec<usize> = (0..len)
                .filter(|&i| showcase_slot(&SHOWCASE, len, i).is_some())
                .collect();
            assert_eq!(slots.len(), SHOWCASE.len(), "len {len}");
        }
        assert!((0..10).all(|i| showcase_slot(&SHOWCASE, 10, i).is_none()));
    }

    #[test]
    fn uuids_look_like_uuids() {
        let id = uuid(u64::MAX, 0);
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        assert_eq!(&id[14..15], "4");
    }

    #[test]
    fn every_message_is_json() {
        for seed in 0..5 {
            let none = Lifecycle::default();
            let p = PartooConv::new(seed, 1, 300, 1, seed == 0);
            for i in 0..300 {
                serde_json::from_str::<serde_json::Value>(p.message(i, &none).get()).unwrap();
            }
            let last = p.message(299, &none);
            serde_json::from_str::<serde_json::Value>(
                p.conversation(300, Some(&last), |_| false).get(),
            )
            .unwrap();
            let b = BirdConv::new(seed, 1, 300, seed == 0);
            for i in 0..300 {
                serde_json::from_str::<serde_json::Value>(b.message(i, &none).0.get()).unwrap();
            }
            let listing = b.conversation(300, |_| none, None, |_| None);
            serde_json::from_str::<serde_json::Value>(listing.get()).unwrap();
        }
        let empty = PartooConv::new(1, 1, 0, 1, false);
        let v: serde_json::Value =
            serde_json::from_str(empty.conversation(0, None, |_| false).get()).unwrap();
        assert!(v["last_message"].is_null());
        let empty = BirdConv::new(1, 1, 0, false);
        let listing = empty.conversation(0, |_| Lifecycle::default(), None, |_| None);
        let v: serde_json::Value = serde_json::from_str(listing.get()).unwrap();
        assert!(v.get("lastMessage").is_none());
    }
}
