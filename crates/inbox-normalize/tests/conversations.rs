//! Every fixture conversation of both providers, summarized: YAML snapshots, the JSON shape
//! the crate docs give, the origin round trip, and the marker over the fixtures.

use std::fs;
use std::path::{Path, PathBuf};

use inbox_normalize::{ConversationSummary, Provider};
use serde_json::Value;

/// A fixture file holding conversations, summarized.
struct Fixture {
    /// The path under `fixtures/` without extension, e.g. `bird/conversations/page-1`.
    name: String,
    provider: Provider,
    drift: bool,
    /// Its conversations as JSON, as in the file.
    raw: Vec<Value>,
    summaries: Vec<ConversationSummary>,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Whether a file under `fixtures/<provider>/` holds conversations: `conversations/`, or
/// `conversation*` files elsewhere (`drift/conversations-*`), but not webhook bodies.
fn is_conversations(rel: &Path) -> bool {
    let stem = rel.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    rel.extension().is_some_and(|e| e == "json")
        && !rel.components().any(|c| c.as_os_str() == "webhooks")
        && (rel.starts_with("conversations") || stem.starts_with("conversation"))
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            walk(base, &path, out);
        } else {
            let rel = path.strip_prefix(base).expect("under base").to_path_buf();
            if is_conversations(&rel) {
                out.push(rel);
            }
        }
    }
}

/// Summarizes the conversations of a fixture body; the conversations as JSON beside.
fn summarize(
    provider: Provider,
    name: &str,
    bytes: &[u8],
) -> (Vec<Value>, Vec<ConversationSummary>) {
    let doc: Value = serde_json::from_slice(bytes).expect("fixture is JSON");
    match provider {
        Provider::Partoo if doc.get("conversations").is_none() => {
            let one = partoo_types::Conversation::from_slice(bytes)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (vec![doc], vec![ConversationSummary::from(one)])
        }
        Provider::Partoo => {
            let page = partoo_types::ConversationsPage::from_slice(bytes)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(page.conversations.rejected().is_empty(), "{name}: rejected");
            let raw = doc["conversations"].as_array().cloned().unwrap_or_default();
            (
                raw,
                page.conversations
                    .into_iter()
                    .map(ConversationSummary::from)
                    .collect(),
            )
        }
        _ => {
            let page = bird_types::ConversationsPage::from_slice(bytes)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(page.results.rejected().is_empty(), "{name}: rejected");
            let raw = doc["results"].as_array().cloned().unwrap_or_default();
            (
                raw,
                page.results
                    .into_iter()
                    .map(ConversationSummary::from)
                    .collect(),
            )
        }
    }
}

/// Every conversations fixture of both providers, drift included, sorted by path.
fn fixtures() -> Vec<Fixture> {
    let mut out = Vec::new();
    for (dir, provider) in [("partoo", Provider::Partoo), ("bird", Provider::Bird)] {
        let base = fixtures_dir().join(dir);
        let mut files = Vec::new();
        walk(&base, &base, &mut files);
        files.sort();
        for rel in files {
            let bytes = fs::read(base.join(&rel)).expect("read fixture");
            let name = format!(
                "{dir}/{}",
                rel.with_extension("").to_string_lossy().replace('\\', "/")
            );
            let (raw, summaries) = summarize(provider, &name, &bytes);
            assert_eq!(raw.len(), summaries.len(), "{name}");
            out.push(Fixture {
                drift: rel.starts_with("drift"),
                name,
                provider,
                raw,
                summaries,
            });
        }
    }
    out
}

/// The summary as JSON, without its `origin`.
fn without_origin(summary: &ConversationSummary) -> Value {
    let mut json = serde_json::to_value(summary).expect("a summary encodes");
    json.as_object_mut()
        .expect("an object")
        .remove("origin")
        .expect("an origin");
    json
}

#[test]
fn the_fixture_set_is_there() {
    let names: Vec<String> = fixtures().into_iter().map(|f| f.name).collect();
    for expected in [
        "partoo/conversations/conversations-page-1",
        "partoo/conversations/conversations-page-2",
        "partoo/conversations/conversation-4217",
        "partoo/drift/conversations-unknown-values",
        "partoo/drift/conversations-missing-fields",
        "partoo/drift/conversations-odd-last-messages",
        "bird/conversations/page-1",
        "bird/conversations/page-2",
        "bird/drift/conversations-unknown-values",
        "bird/drift/conversations-missing-fields",
        "bird/drift/conversations-odd-last-messages",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    assert_eq!(names.len(), 11, "{names:?}");
}

#[test]
fn every_fixture_summarizes_to_its_snapshot() {
    for fixture in fixtures() {
        let summaries: Vec<Value> = fixture.summaries.iter().map(without_origin).collect();
        insta::assert_yaml_snapshot!(fixture.name.replace('/', "__"), summaries);
    }
}

/// The keys of a Partoo conversation that come back as `null` when left out (documented on
/// `partoo_types::Conversation`): drift fixtures may leave them out.
const PARTOO_NULLABLE: &[&str] = &[
    "consumer_img",
    "consumer_name",
    "consumer_phone_number",
    "last_message",
    "first_message_date",
    "assigned_user_id",
    "custom_channel",
];

#[test]
fn the_origin_encodes_back_to_the_input() {
    for fixture in fixtures() {
        for (i, (summary, raw)) in fixture.summaries.iter().zip(&fixture.raw).enumerate() {
            let mut want = raw.clone();
            if fixture.provider == Provider::Partoo
                && fixture.drift
                && let Some(object) = want.as_object_mut()
            {
                for key in PARTOO_NULLABLE {
                    object.entry(*key).or_insert(Value::Null);
                }
            }
            let origin = serde_json::to_value(&summary.origin).expect("origin encodes");
            assert_eq!(origin, want, "{} conversation {i}", fixture.name);
            let whole = serde_json::to_value(summary).expect("summary encodes");
            assert_eq!(
                whole["origin"], want,
                "{} conversation {i}: `origin` key",
                fixture.name
            );
        }
    }
}

const KEYS: &[&str] = &[
    "provider",
    "id",
    "status",
    "status_raw",
    "channel",
    "channel_raw",
    "channel_id",
    "contact",
    "created_at",
    "last_activity",
    "origin",
];
const STATUSES: &[&str] = &["open", "closed", "unknown"];
const CHANNELS: &[&str] = &[
    "google",
    "facebook",
    "instagram",
    "sms",
    "whatsapp",
    "email",
    "custom",
    "unknown",
];
const ACTIVITY_KEYS: &[&str] = &[
    "key",
    "message_id",
    "message_at",
    "message_status",
    "message_deleted",
    "conversation_status",
    "updated_at",
    "raw_digest",
];

/// RFC 3339 in UTC ending in `Z`, with 0, 3, 6 or 9 fraction digits: what the timestamp
/// prints in UTC, whatever the input's spelling.
fn is_utc_rfc3339(s: &str) -> bool {
    inbox_normalize::Timestamp::parse(s).is_ok_and(|t| t.to_rfc3339_utc() == s)
}

#[test]
fn the_json_has_the_documented_keys_and_value_forms() {
    for fixture in fixtures() {
        for (i, (summary, raw)) in fixture.summaries.iter().zip(&fixture.raw).enumerate() {
            let at = format!("{} conversation {i}", fixture.name);
            let json = serde_json::to_value(summary).expect("summary encodes");
            let object = json.as_object().expect("an object");
            for key in object.keys() {
                assert!(KEYS.contains(&key.as_str()), "{at}: undocumented key {key}");
            }
            for key in ["provider", "id", "last_activity", "origin"] {
                assert!(object.contains_key(key), "{at}: no {key}");
            }
            let provider = if fixture.provider == Provider::Partoo {
                "partoo"
            } else {
                "bird"
            };
            assert_eq!(json["provider"], provider, "{at}");
            let id = match &raw["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(
                json["id"],
                id.as_str(),
                "{at}: the provider's id, as a string"
            );
            if let Some(status) = json.get("status") {
                let status = status.as_str().expect("status is a string");
                assert!(STATUSES.contains(&status), "{at}: status {status}");
                assert_eq!(
                    json.get("status_raw").is_some(),
                    status == "unknown",
                    "{at}"
                );
            }
            if let Some(channel) = json.get("channel") {
                let channel = channel.as_str().expect("channel is a string");
                assert!(CHANNELS.contains(&channel), "{at}: channel {channel}");
                assert_eq!(
                    json.get("channel_raw").is_some(),
                    channel == "unknown",
                    "{at}"
                );
            }
            if let Some(contact) = json.get("contact") {
                let contact = contact.as_object().expect("contact is an object");
                assert!(!contact.is_empty(), "{at}: an empty contact is left out");
                for (key, value) in contact {
                    assert!(
                        ["id", "name", "address"].contains(&key.as_str()),
                        "{at}: {key}"
                    );
                    assert!(value.as_str().is_some_and(|s| !s.is_empty()), "{at}: {key}");
                }
            }
            if let Some(created) = json.get("created_at") {
                assert!(
                    is_utc_rfc3339(created.as_str().expect("a string")),
                    "{at}: {created}"
                );
            }
            let activity = json["last_activity"].as_object().expect("last_activity");
            for key in activity.keys() {
                assert!(
                    ACTIVITY_KEYS.contains(&key.as_str()),
                    "{at}: last_activity.{key}"
                );
            }
            let key = activity["key"].as_str().expect("key is a string");
            assert_eq!(key, summary.last_activity.key(), "{at}");
            assert!(
                key.starts_with("v1") && key.bytes().all(|b| b.is_ascii_graphic()),
                "{at}: key {key}"
            );
            assert!(activity["message_deleted"].is_boolean(), "{at}");
            for time in ["message_at", "updated_at"] {
                if let Some(t) = activity.get(time) {
                    assert!(
                        is_utc_rfc3339(t.as_str().expect("a string")),
                        "{at}: {time}"
                    );
                }
            }
        }
    }
}

#[test]
fn spec_fixtures_map_to_specific_statuses_and_channels() {
    let mut channels = std::collections::BTreeSet::new();
    let mut statuses = std::collections::BTreeSet::new();
    for fixture in fixtures().into_iter().filter(|f| !f.drift) {
        for (i, summary) in fixture.summaries.iter().enumerate() {
            let json = without_origin(summary);
            let at = format!("{} conversation {i}", fixture.name);
            assert!(
                json["status"].is_string() && json["status"] != "unknown",
                "{at}"
            );
            assert!(
                json["channel"].is_string() && json["channel"] != "unknown",
                "{at}"
            );
            assert!(json["created_at"].is_string(), "{at}");
            channels.insert(json["channel"].as_str().unwrap_or_default().to_owned());
            statuses.insert(json["status"].as_str().unwrap_or_default().to_owned());
        }
    }
    let known: std::collections::BTreeSet<String> = CHANNELS
        .iter()
        .filter(|c| **c != "unknown")
        .map(|c| (*c).to_owned())
        .collect();
    assert_eq!(channels, known, "every channel kind in the spec fixtures");
    assert_eq!(statuses, ["closed".to_owned(), "open".to_owned()].into());
}

#[test]
fn drift_fixtures_keep_their_unknown_values_raw() {
    let all = fixtures();
    let json = |name: &str, i: usize| {
        let fixture = all.iter().find(|f| f.name == name).expect("fixture");
        without_origin(&fixture.summaries[i])
    };
    let telegram = json("partoo/drift/conversations-unknown-values", 0);
    assert_eq!(
        (&telegram["status_raw"], &telegram["channel_raw"]),
        (&"Archived".into(), &"Telegram".into())
    );
    let whatsapp = json("bird/drift/conversations-unknown-values", 0);
    assert_eq!(
        (&whatsapp["status_raw"], &whatsapp["channel_raw"]),
        (&"archived".into(), &"whatsapp".into())
    );
    assert_eq!(whatsapp["last_activity"]["message_status"], "read");
    for name in [
        "partoo/drift/conversations-missing-fields",
        "bird/drift/conversations-missing-fields",
    ] {
        let bare = json(name, 0);
        assert_eq!(
            bare.as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>()),
            Some(vec![
                "id".to_owned(),
                "last_activity".to_owned(),
                "provider".to_owned()
            ]),
            "{name}"
        );
        assert_eq!(bare["last_activity"]["key"], "v1", "{name}");
    }
    // Partoo last messages kept raw still give a marker that changes with them.
    let odd = all
        .iter()
        .find(|f| f.name == "partoo/drift/conversations-odd-last-messages")
        .expect("fixture");
    let digests: Vec<Option<u64>> = odd
        .summaries
        .iter()
        .map(|s| s.last_activity.raw_digest)
        .collect();
    assert!(
        digests[..3].iter().all(Option::is_some) && digests[3].is_none(),
        "{digests:?}"
    );
    assert_eq!(
        odd.summaries[3].last_activity.message_status.as_deref(),
        Some("Read")
    );
    assert!(odd.summaries[3].last_activity.message_deleted);
}

#[test]
fn listing_the_same_conversations_again_gives_the_same_markers() {
    for fixture in fixtures() {
        for (i, summary) in fixture.summaries.iter().enumerate() {
            // What the next listing would send: the same conversation, encoded again.
            let bytes = serde_json::to_vec(&summary.origin).expect("origin encodes");
            let again = match fixture.provider {
                Provider::Partoo => ConversationSummary::from(
                    partoo_types::Conversation::from_slice(&bytes).expect("decodes again"),
                ),
                _ => ConversationSummary::from(
                    bird_types::Conversation::from_slice(&bytes).expect("decodes again"),
                ),
            };
            let at = format!("{} conversation {i}", fixture.name);
            assert_eq!(again.last_activity, summary.last_activity, "{at}");
            assert_eq!(
                again.last_activity.key(),
                summary.last_activity.key(),
                "{at}"
            );
            assert_eq!(again, *summary, "{at}");
        }
    }
}

#[test]
fn spec_conversations_have_distinct_markers() {
    // Each spec conversation has its own last message, so no two share a marker.
    let mut keys = std::collections::BTreeSet::new();
    for fixture in fixtures().into_iter().filter(|f| !f.drift) {
        for summary in &fixture.summaries {
            if summary.id.to_string() == "4217" && fixture.name.ends_with("conversation-4217") {
                continue; // the same conversation as in the first page
            }
            assert!(
                keys.insert((summary.provider, summary.last_activity.key())),
                "{}: {} shares its marker",
                fixture.name,
                summary.id
            );
        }
    }
}
