//! Hostile input through both decoders and the normalizer: arbitrary JSON, mutated fixtures,
//! truncated and bit-flipped bytes, as messages pages and as conversations pages. Never a
//! panic; always a value or a clear error; when the page decodes, no message or conversation
//! is lost. `cargo xtask fuzz` runs these with many more cases.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use inbox_normalize::{ConversationSummary, Message};
use proptest::prelude::*;
use serde_json::Value;

/// Every list-messages page under `fixtures/` (drift included), with its provider.
fn pages() -> Vec<(bool, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut out = Vec::new();
    collect(&root, &mut out);
    out.sort();
    assert!(out.len() >= 10, "fixtures found: {}", out.len());
    out
}

fn collect(dir: &Path, out: &mut Vec<(bool, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            let bytes = std::fs::read(&path).unwrap();
            let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&bytes) else {
                continue;
            };
            let partoo = path.to_string_lossy().contains("/partoo/");
            let key = if partoo { "messages" } else { "results" };
            let is_messages = map.get(key).and_then(Value::as_array).is_some_and(|items| {
                items
                    .first()
                    .is_none_or(|m| m.get("sender").is_some() || m.get("sender_type").is_some())
            });
            if is_messages {
                out.push((partoo, bytes));
            }
        }
    }
}

/// Every conversations page (and lone conversation) under `fixtures/`, drift included, with
/// its provider.
fn conversation_pages() -> Vec<(bool, Vec<u8>)> {
    fn collect(dir: &Path, out: &mut Vec<(bool, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path).unwrap();
                let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&bytes) else {
                    continue;
                };
                let partoo = path.to_string_lossy().contains("/partoo/");
                let listed = if partoo {
                    map.contains_key("conversations") || map.contains_key("messaging_partner")
                } else {
                    map.get("results")
                        .and_then(Value::as_array)
                        .is_some_and(|items| {
                            items.first().is_some_and(|c| c.get("sender").is_none())
                        })
                };
                if listed {
                    out.push((partoo, bytes));
                }
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut out = Vec::new();
    collect(&root, &mut out);
    out.sort();
    assert!(out.len() >= 8, "conversation fixtures found: {}", out.len());
    out
}

/// Summarizes one conversation; checks what must hold whatever it held.
fn check_summary(summary: &ConversationSummary) {
    let key = summary.last_activity.key();
    assert!(key.starts_with("v1"), "{key}");
    assert!(key.bytes().all(|b| b.is_ascii_graphic()), "{key}");
    let json = serde_json::to_value(summary).unwrap();
    assert_eq!(json["last_activity"]["key"], key.as_str());
    assert_eq!(summary.last_activity, summary.clone().last_activity);
}

/// Decodes a conversations page and summarizes every conversation; checks what must hold
/// whatever the input.
fn check_conversations(partoo: bool, bytes: &[u8]) {
    let input: Option<Value> = serde_json::from_slice(bytes).ok();
    let key = if partoo { "conversations" } else { "results" };
    let sent = input
        .as_ref()
        .and_then(|v| v.get(key))
        .and_then(Value::as_array)
        .map(Vec::len);
    let decoded = if partoo {
        partoo_types::ConversationsPage::from_slice(bytes).map(|p| {
            let total = p.conversations.total_len();
            let summaries: Vec<_> = p
                .conversations
                .into_iter()
                .map(ConversationSummary::from)
                .collect();
            (total, summaries)
        })
    } else {
        bird_types::ConversationsPage::from_slice(bytes).map(|p| {
            let total = p.results.total_len();
            let summaries: Vec<_> = p
                .results
                .into_iter()
                .map(ConversationSummary::from)
                .collect();
            (total, summaries)
        })
    };
    match decoded {
        Ok((total, summaries)) => {
            assert_eq!(
                Some(total),
                sent,
                "every conversation sent is decoded or kept raw"
            );
            summaries.iter().for_each(check_summary);
        }
        Err(e) => {
            assert!(
                !e.message.is_empty() && !e.path.is_empty(),
                "a clear error: {e:?}"
            );
        }
    }
    // The lone-conversation entry points too.
    if let Ok(c) = partoo_types::Conversation::from_slice(bytes) {
        check_summary(&ConversationSummary::from(c));
    }
    if let Ok(c) = bird_types::Conversation::from_slice(bytes) {
        check_summary(&ConversationSummary::from(c));
    }
}

/// Decodes a page and normalizes every message; checks what must hold whatever the input.
fn check(partoo: bool, bytes: &[u8]) {
    let input: Option<Value> = serde_json::from_slice(bytes).ok();
    let key = if partoo { "messages" } else { "results" };
    let sent = input
        .as_ref()
        .and_then(|v| v.get(key))
        .and_then(Value::as_array)
        .map(Vec::len);
    let decoded = if partoo {
        partoo_types::MessagesPage::from_slice(bytes).map(|p| {
            let total = p.messages.total_len();
            (
                total,
                p.messages
                    .into_iter()
                    .map(Message::from)
                    .collect::<Vec<_>>(),
            )
        })
    } else {
        bird_types::MessagesPage::from_slice(bytes).map(|p| {
            let total = p.results.total_len();
            (
                total,
                p.results.into_iter().map(Message::from).collect::<Vec<_>>(),
            )
        })
    };
    match decoded {
        Ok((total, messages)) => {
            assert_eq!(
                Some(total),
                sent,
                "every message sent is decoded or kept raw"
            );
            for m in &messages {
                assert!(!m.text.trim().is_empty(), "empty preview for {:?}", m.id);
                assert!(!m.text.contains('\n'));
                serde_json::to_string(m).unwrap();
            }
        }
        Err(e) => {
            assert!(
                !e.message.is_empty() && !e.path.is_empty(),
                "a clear error: {e:?}"
            );
        }
    }
    // The lone-message entry points too.
    let _ = partoo_types::Message::from_slice(bytes).map(Message::from);
    let _ = bird_types::Message::from_slice(bytes).map(Message::from);
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("Open"),
            Just("active"),
            Just("email"),
            Just("Whatsapp"),
            Just("Text"),
            Just("Image"),
            Just("Metadata"),
            Just("Solving"),
            Just("text"),
            Just("contact"),
            Just("2023-01-31 16:22:17.327878+00:00"),
            Just("2024-11-25T20:01:00.000Z"),
            Just("carousel"),
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (prop_oneof![".{0,8}".prop_map(String::from), key()], inner),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Keys the decoders care about, so arbitrary objects hit the typed paths.
fn key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "id",
        "conversation_id",
        "date",
        "content_type",
        "sender_type",
        "content",
        "status",
        "messages",
        "results",
        "body",
        "type",
        "text",
        "sender",
        "createdAt",
        "updatedAt",
        "template",
        "parameters",
        "images",
        "actions",
        "items",
        "nextPageToken",
        "next_cursor",
        "draft",
        "source",
        // Conversations.
        "conversations",
        "last_message",
        "is_deleted",
        "messaging_partner",
        "consumer_name",
        "consumer_phone_number",
        "created_at",
        "business",
        "lastMessage",
        "preview",
        "featuredParticipants",
        "initiatingParticipant",
        "contact",
        "displayName",
        "identifierValue",
        "platformAddress",
        "platformStyle",
        "channelId",
    ])
    .prop_map(String::from)
}

/// Replaces the value at a random place of `doc` with `with`.
fn mutate(doc: &mut Value, mut pick: usize, with: Value) {
    fn walk(v: &mut Value, pick: &mut usize, with: &mut Option<Value>) {
        if with.is_none() {
            return;
        }
        if *pick == 0 {
            if let Some(w) = with.take() {
                *v = w;
            }
            return;
        }
        *pick -= 1;
        match v {
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, pick, with)),
            Value::Object(map) => map.values_mut().for_each(|i| walk(i, pick, with)),
            _ => {}
        }
    }
    pick = pick.max(1);
    walk(doc, &mut pick, &mut Some(with));
}

proptest! {
    // Cases: proptest's default (256), or PROPTEST_CASES (`cargo xtask fuzz` sets 100 000).
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(value in json(), partoo in any::<bool>()) {
        check(partoo, value.to_string().as_bytes());
        let key = if partoo { "messages" } else { "results" };
        let page = serde_json::json!({ key: [value] });
        check(partoo, page.to_string().as_bytes());
    }

    #[test]
    fn mutated_fixtures_lose_nothing(which in any::<prop::sample::Index>(), pick in 0usize..400, with in json()) {
        let pages = pages();
        let (partoo, bytes) = &pages[which.index(pages.len())];
        let mut doc: Value = serde_json::from_slice(bytes).unwrap();
        mutate(&mut doc, pick, with);
        check(*partoo, doc.to_string().as_bytes());
    }

    #[test]
    fn truncated_and_bit_flipped_bytes_never_panic(which in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>(), flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..6)) {
        let pages = pages();
        let (partoo, bytes) = &pages[which.index(pages.len())];
        check(*partoo, &bytes[..cut.index(bytes.len() + 1)]);
        let mut flipped = bytes.clone();
        for (at, bit) in flips {
            let i = at.index(flipped.len());
            flipped[i] ^= 1 << bit;
        }
        check(*partoo, &flipped);
    }

    #[test]
    fn arbitrary_json_never_panics_as_conversations(value in json(), partoo in any::<bool>()) {
        check_conversations(partoo, value.to_string().as_bytes());
        let key = if partoo { "conversations" } else { "results" };
        let page = serde_json::json!({ key: [value] });
        check_conversations(partoo, page.to_string().as_bytes());
    }

    #[test]
    fn mutated_conversation_fixtures_lose_nothing(which in any::<prop::sample::Index>(), pick in 0usize..400, with in json()) {
        let pages = conversation_pages();
        let (partoo, bytes) = &pages[which.index(pages.len())];
        let mut doc: Value = serde_json::from_slice(bytes).unwrap();
        mutate(&mut doc, pick, with);
        check_conversations(*partoo, doc.to_string().as_bytes());
    }

    #[test]
    fn truncated_and_bit_flipped_conversations_never_panic(which in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>(), flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..6)) {
        let pages = conversation_pages();
        let (partoo, bytes) = &pages[which.index(pages.len())];
        check_conversations(*partoo, &bytes[..cut.index(bytes.len() + 1)]);
        let mut flipped = bytes.clone();
        for (at, bit) in flips {
            let i = at.index(flipped.len());
            flipped[i] ^= 1 << bit;
        }
        check_conversations(*partoo, &flipped);
    }
}
