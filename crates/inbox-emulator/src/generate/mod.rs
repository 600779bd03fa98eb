//! The synthetic dataset: realistic Partoo and Bird messages of every content kind, generated
//! from a seed.
//!
//! Every message is a pure function of its conversation and its index, so a conversation can
//! be generated whole or a message at a time, and the same seed always gives the same bytes.
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

use crate::json;
use crate::rng::{Rng, hash};
use crate::time::micros_of;

pub(crate) use bird::BirdConv;
pub(crate) use partoo::{BUSINESSES, PartooConv};

/// A realistic Partoo `GET /messages` response body: `messages` messages of one Instagram
/// conversation (the channel where every content kind occurs), oldest first, every content
/// kind in realistic proportions (each at least once from 16 messages on), `count` set and
/// `next_cursor` null.
pub fn partoo_page(seed: u64, messages: usize) -> Vec<u8> {
    let conv = PartooConv::new(hash(&[seed, SALT_PAGE]), 0, messages, 1_000_001, true);
    let mut out = Vec::with_capacity(messages * 420 + 64);
    json::object(&mut out, |o| {
        o.arr("messages", |a| {
            for i in 0..messages {
                a.raw(&conv.message(i));
            }
        })
        .int("count", messages as i64)
        .null("next_cursor");
    });
    out
}

/// A realistic Bird list-messages response body: `messages` messages of one conversation,
/// newest first (Bird's default order), every content kind in realistic proportions (each at
/// least once from 16 messages on), with `total` and `totalType` and no `nextPageToken`.
pub fn bird_page(seed: u64, messages: usize) -> Vec<u8> {
    let conv = BirdConv::new(hash(&[seed, SALT_PAGE]), 0, messages, true);
    let mut out = Vec::with_capacity(messages * 700 + 64);
    json::object(&mut out, |o| {
        o.arr("results", |a| {
            for i in (0..messages).rev() {
                a.raw(&conv.message(i).0);
            }
        })
        .int("total", messages as i64)
        .str("totalType", "equal");
    });
    out
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
        let start = micros_of(2024, 1, 1, rng.range(7, 20) as i64, rng.range(0, 59) as i64)
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
            let p = PartooConv::new(seed, 1, 300, 1, seed == 0);
            for i in 0..300 {
                serde_json::from_slice::<serde_json::Value>(&p.message(i)).unwrap();
            }
            serde_json::from_slice::<serde_json::Value>(&p.conversation()).unwrap();
            let b = BirdConv::new(seed, 1, 300, seed == 0);
            for i in 0..300 {
                serde_json::from_slice::<serde_json::Value>(&b.message(i).0).unwrap();
            }
            serde_json::from_slice::<serde_json::Value>(&b.conversation()).unwrap();
        }
        let empty = PartooConv::new(1, 1, 0, 1, false);
        let v: serde_json::Value = serde_json::from_slice(&empty.conversation()).unwrap();
        assert!(v["last_message"].is_null());
        let empty = BirdConv::new(1, 1, 0, false);
        let v: serde_json::Value = serde_json::from_slice(&empty.conversation()).unwrap();
        assert!(v.get("lastMessage").is_none());
    }
}
