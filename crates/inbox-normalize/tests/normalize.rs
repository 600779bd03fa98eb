//! Every fixture messages page of both providers, normalized: snapshots, the JSON shape the
//! issue fixes, the origin round trip, and the never-empty preview (over the fixtures and over
//! generated messages).

use std::fs;
use std::path::{Path, PathBuf};

use inbox_normalize::{
    Action, Content, Event, InteractiveKind, Item, Media, Message, Provider, Str,
    TemplateParameter, preview,
};
use serde_json::{Value, json};

/// A messages page of `fixtures/`, normalized.
struct Fixture {
    /// The path under `fixtures/` without extension, e.g. `bird/drift/misfits`.
    name: String,
    provider: Provider,
    /// The page's messages as JSON, as in the file.
    raw: Vec<Value>,
    /// The page's messages, normalized.
    messages: Vec<Message>,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Whether a file under `fixtures/<provider>/` is a list-messages page (not an error body, a
/// conversation or a conversations page, nor a webhook body).
fn is_messages_page(rel: &Path) -> bool {
    let stem = rel.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    rel.extension().is_some_and(|e| e == "json")
        && !rel.components().any(|c| {
            ["errors", "conversations", "webhooks"]
                .contains(&c.as_os_str().to_str().unwrap_or_default())
        })
        && !stem.starts_with("conversation")
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            walk(base, &path, out);
        } else {
            let rel = path.strip_prefix(base).expect("under base").to_path_buf();
            if is_messages_page(&rel) {
                out.push(rel);
            }
        }
    }
}

/// Every messages page of both providers, drift included, sorted by path.
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
            let page: Value = serde_json::from_slice(&bytes).expect("fixture is JSON");
            let (key, messages) = match provider {
                Provider::Partoo => {
                    let page = partoo_types::MessagesPage::from_slice(&bytes)
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert!(
                        page.messages.rejected().is_empty(),
                        "{name}: rejected messages"
                    );
                    (
                        "messages",
                        page.messages
                            .into_iter()
                            .map(Message::from)
                            .collect::<Vec<_>>(),
                    )
                }
                _ => {
                    let page = bird_types::MessagesPage::from_slice(&bytes)
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert!(
                        page.results.rejected().is_empty(),
                        "{name}: rejected messages"
                    );
                    (
                        "results",
                        page.results.into_iter().map(Message::from).collect(),
                    )
                }
            };
            let raw = page[key]
                .as_array()
                .cloned()
                .unwrap_or_else(|| panic!("{name}: no {key}"));
            assert_eq!(raw.len(), messages.len(), "{name}");
            out.push(Fixture {
                name,
                provider,
                raw,
                messages,
            });
        }
    }
    out
}

/// The message as JSON, without its `origin`.
fn without_origin(message: &Message) -> Value {
    let mut json = serde_json::to_value(message).expect("a message encodes");
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
        "partoo/messages-page-1",
        "partoo/drift/content-mismatch",
        "bird/messages/bodies",
        "bird/messages/templates",
        "bird/drift/misfits",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(
        !names
            .iter()
            .any(|n| n.contains("conversation") || n.contains("errors")),
        "{names:?}"
    );
    assert!(names.len() >= 20, "{names:?}");
}

#[test]
fn every_fixture_page_normalizes_to_its_snapshot() {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for fixture in fixtures() {
            let normalized: Vec<Value> = fixture.messages.iter().map(without_origin).collect();
            insta::assert_json_snapshot!(fixture.name.replace('/', "__"), normalized);
        }
    });
}

#[test]
fn the_origin_encodes_back_to_the_input() {
    for fixture in fixtures() {
        for (i, (message, raw)) in fixture.messages.iter().zip(&fixture.raw).enumerate() {
            let origin = serde_json::to_value(&message.origin).expect("origin encodes");
            assert_eq!(
                &origin, raw,
                "{} message {i}: origin differs from the input",
                fixture.name
            );
            let whole = serde_json::to_value(message).expect("message encodes");
            assert_eq!(
                &whole["origin"], raw,
                "{} message {i}: `origin` key",
                fixture.name
            );
        }
    }
}

const KEYS: &[&str] = &[
    "provider",
    "id",
    "conversation_id",
    "timestamp",
    "updated_at",
    "direction",
    "sender",
    "recipients",
    "status",
    "status_reason",
    "status_raw",
    "content",
    "text",
    "is_deleted",
    "is_automated",
    "is_draft",
    "reply_to",
    "interactions",
    "origin",
];
const REQUIRED: &[&str] = &[
    "provider",
    "id",
    "conversation_id",
    "timestamp",
    "direction",
    "sender",
    "status",
    "content",
    "text",
    "is_deleted",
    "is_automated",
    "is_draft",
    "origin",
];
const ROLES: &[&str] = &[
    "customer",
    "business_user",
    "agent",
    "automation",
    "system",
    "unknown",
];
const STATUSES: &[&str] = &[
    "pending",
    "sent",
    "delivered",
    "read",
    "failed",
    "deleted",
    "unknown",
];
const KINDS: &[&str] = &[
    "text",
    "html",
    "image",
    "video",
    "audio",
    "file",
    "gif",
    "location",
    "story_reply",
    "story_mention",
    "interactive",
    "template",
    "event",
    "unsupported",
    "unknown",
];

/// RFC 3339 in UTC ending in `Z`, with 0, 3, 6 or 9 fraction digits.
fn is_utc_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() < 20 || !s.ends_with('Z') {
        return false;
    }
    let fixed = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let fraction = &s[19..s.len() - 1];
    let fraction_ok = fraction.is_empty()
        || (fraction.starts_with('.')
            && [4, 7, 10].contains(&fraction.len())
            && fraction[1..].bytes().all(|c| c.is_ascii_digit()));
    fixed && fraction_ok
}

/// The same instant, whatever the spelling.
fn same_instant(a: &str, b: &str) -> bool {
    let parse = |s: &str| {
        inbox_normalize::Timestamp::parse(s)
            .expect("a timestamp")
            .unix_nanos()
    };
    parse(a) == parse(b)
}

#[test]
fn the_json_top_level_has_the_keys_and_value_forms_the_issue_requires() {
    for fixture in fixtures() {
        for (i, (message, raw)) in fixture.messages.iter().zip(&fixture.raw).enumerate() {
            let at = format!("{} message {i}", fixture.name);
            let json = serde_json::to_value(message).expect("message encodes");
            let object = json.as_object().expect("an object");
            for key in object.keys() {
                assert!(KEYS.contains(&key.as_str()), "{at}: undocumented key {key}");
            }
            for key in REQUIRED {
                assert!(object.contains_key(*key), "{at}: no {key}");
            }

            let (provider, id, date) = match fixture.provider {
                Provider::Partoo => ("partoo", raw["id"].to_string(), &raw["date"]),
                _ => (
                    "bird",
                    raw["id"].as_str().expect("id").to_owned(),
                    &raw["createdAt"],
                ),
            };
            assert_eq!(json["provider"], provider, "{at}");
            assert_eq!(
                json["id"],
                id.as_str(),
                "{at}: id is the provider's, as a string"
            );
            assert!(json["conversation_id"].is_string(), "{at}: conversation_id");

            let timestamp = json["timestamp"].as_str().expect("timestamp is a string");
            assert!(is_utc_rfc3339(timestamp), "{at}: timestamp {timestamp}");
            assert!(
                same_instant(timestamp, date.as_str().expect("date")),
                "{at}: timestamp"
            );
            if let Some(updated) = json.get("updated_at") {
                let updated = updated.as_str().expect("updated_at is a string");
                assert!(is_utc_rfc3339(updated), "{at}: updated_at {updated}");
                assert!(same_instant(
                    updated,
                    raw["updatedAt"].as_str().expect("updatedAt")
                ));
            }

            let direction = json["direction"].as_str().expect("direction");
            assert!(
                ["inbound", "outbound", "system"].contains(&direction),
                "{at}: {direction}"
            );
            let role = json["sender"]["role"].as_str().expect("sender.role");
            assert!(ROLES.contains(&role), "{at}: role {role}");
            assert_eq!(
                json["sender"].get("raw_role").is_some(),
                role == "unknown",
                "{at}: raw_role"
            );

            let status = json["status"].as_str().expect("status");
            assert!(STATUSES.contains(&status), "{at}: status {status}");
            if json.get("status_reason").is_some() {
                assert_eq!(status, "failed", "{at}: status_reason beside {status}");
            }
            assert_eq!(
                json.get("status_raw").is_some(),
                status == "unknown",
                "{at}: status_raw"
            );

            let kind = json["content"]["kind"].as_str().expect("content.kind");
            assert!(KINDS.contains(&kind), "{at}: content kind {kind}");

            let text = json["text"].as_str().expect("text is a string");
            assert!(
                !text.trim().is_empty() && !text.contains(['\n', '\r']),
                "{at}: text {text:?}"
            );
            for flag in ["is_deleted", "is_automated", "is_draft"] {
                assert!(json[flag].is_boolean(), "{at}: {flag}");
            }
            for list in ["recipients", "interactions"] {
                if let Some(value) = json.get(list) {
                    assert!(
                        value.as_array().is_some_and(|a| !a.is_empty()),
                        "{at}: {list}"
                    );
                }
            }
            if let Some(reply_to) = json.get("reply_to") {
                assert!(reply_to.is_string(), "{at}: reply_to");
            }
            for interaction in json
                .get("interactions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(at_) = interaction.get("at") {
                    assert!(
                        is_utc_rfc3339(at_.as_str().expect("at")),
                        "{at}: interaction at"
                    );
                }
            }
        }
    }
}

#[test]
fn spec_fixtures_map_to_specific_kinds_roles_and_statuses() {
    // Outside `drift/`, every message is valid under the provider's schema: nothing may end up
    // unknown (only what the provider did not document does).
    for fixture in fixtures()
        .into_iter()
        .filter(|f| !f.name.contains("/drift/"))
    {
        for (i, message) in fixture.messages.iter().enumerate() {
            let json = without_origin(message);
            let at = format!("{} message {i}", fixture.name);
            assert_ne!(json["content"]["kind"], "unknown", "{at}: {json}");
            assert_ne!(json["sender"]["role"], "unknown", "{at}");
            assert_ne!(json["status"], "unknown", "{at}");
        }
    }
}

/// The preview of a normalized message: non-empty, on one line, the preview of its content.
#[track_caller]
fn assert_preview(message: &Message, at: &str) {
    assert!(
        !message.text.trim().is_empty(),
        "{at}: empty preview for {:?}",
        message.content
    );
    assert!(
        !message.text.contains(['\n', '\r']),
        "{at}: {:?} is not one line",
        message.text
    );
    assert_eq!(message.text, preview(&message.content), "{at}");
}

#[test]
fn the_preview_is_never_empty_over_the_fixtures() {
    for fixture in fixtures() {
        for (i, message) in fixture.messages.iter().enumerate() {
            assert_preview(message, &format!("{} message {i}", fixture.name));
        }
    }
}

/// Texts that are easy to get wrong.
const TEXTS: &[&str] = &[
    "",
    " ",
    "\n\t \r\n",
    "\u{a0}\u{2003}",
    "héllo wörld",
    "👋🏽 مرحبا 你好",
    "line one\nline two",
    "\u{200b}",
    "<p>&nbsp;</p>",
    "<b></b>",
];

#[test]
fn the_preview_is_never_empty_over_generated_partoo_messages() {
    let mut messages = Vec::new();
    let mut id = 0;
    for content_type in [
        "Text",
        "Image",
        "Video",
        "Audio",
        "Document",
        "IgStoryReply",
        "IgStoryMention",
        "Unsupported",
        "Sticker",
    ] {
        for sender_type in ["Consumer", "User", "Metadata", "Bot"] {
            let mut contents = vec![
                json!(null),
                json!({}),
                json!([]),
                json!(0),
                json!("Solving"),
            ];
            for t in TEXTS {
                contents.extend([
                    json!(t),
                    json!({"url": t, "file_name": t}),
                    json!({"url": t, "content": t, "content_type": "Text", "id": t}),
                    json!({"url": t, "content": t, "content_type": "Image"}),
                    json!({"type": t}),
                ]);
            }
            for content in contents {
                id += 1;
                messages.push(json!({
                    "id": id, "conversation_id": 1, "date": "2023-01-31 16:22:17.327878+00:00",
                    "content_type": content_type, "sender_type": sender_type,
                    "sender_label": null, "content": content, "user_id": null, "custom_channel": null
                }));
            }
        }
    }
    let bytes =
        serde_json::to_vec(&json!({"messages": messages, "count": id, "next_cursor": null}))
            .expect("encode");
    let page = partoo_types::MessagesPage::from_slice(&bytes).expect("a Partoo page");
    assert!(
        page.messages.rejected().is_empty(),
        "{:?}",
        page.messages.rejected()
    );
    assert_eq!(page.messages.len(), id as usize);
    for wire in page.messages {
        let at = format!("{} {:?}", wire.content_type, wire.content);
        assert_preview(&Message::from(wire), &at);
    }
}

/// Bodies of every Bird kind (and unknown and misfit ones), with `t` in every text field and
/// every optional field empty.
fn bird_bodies(t: &str) -> Vec<Value> {
    let link = json!({"type": "link", "link": {"text": t, "url": t}});
    vec![
        json!({"type": "text", "text": {"text": t}}),
        json!({"type": "text", "text": {"text": t, "attachments": [], "actions": []}}),
        json!({"type": "text", "text": {"text": t, "attachments": [{"mediaUrl": t, "filename": t}], "actions": [link]}}),
        json!({"type": "html", "html": {}}),
        json!({"type": "html", "html": {"text": t}}),
        json!({"type": "html", "html": {"html": t}}),
        json!({"type": "html", "html": {"text": t, "html": t, "attachments": null}}),
        json!({"type": "image", "image": {"images": []}}),
        json!({"type": "image", "image": {"images": [], "text": t}}),
        json!({"type": "image", "image": {"images": [{"mediaUrl": t}, {"mediaUrl": t}], "text": t}}),
        json!({"type": "file", "file": {"files": []}}),
        json!({"type": "file", "file": {"files": [{"mediaUrl": t, "contentType": t, "filename": t}], "text": t}}),
        json!({"type": "gif", "gif": {"mediaUrl": t}}),
        json!({"type": "gif", "gif": {"mediaUrl": t, "text": t, "actions": null}}),
        json!({"type": "location", "location": {"coordinates": {}}}),
        json!({"type": "location", "location": {"coordinates": {"latitude": 0}, "location": {"label": t, "address": t}}}),
        json!({"type": "carousel", "carousel": {"items": null}}),
        json!({"type": "carousel", "carousel": {"items": [], "text": t}}),
        json!({"type": "carousel", "carousel": {"items": [{"title": t, "mediaUrl": null}]}}),
        json!({"type": "list", "list": {"text": t}}),
        json!({"type": "list", "list": {"text": t, "title": t, "items": [], "actions": [link]}}),
        json!({"type": "section", "section": {}}),
        json!({"type": "section", "section": {"items": []}}),
        json!({"type": "section", "section": {"items": [
            {"type": "text", "text": {"text": t}},
            {"type": "image", "image": {"images": []}},
            {"type": "section", "section": {"items": [{"type": "list", "list": {"text": t}}]}},
            {"type": "sticker"}
        ]}}),
        json!({"type": "authentication", "authentication": {}}),
        json!({"type": "authentication", "authentication": {"otp": {"disclaimer": false, "actions": [link]}}}),
        json!({"type": "action", "action": {}}),
        json!({"type": "action", "action": {"type": "permission_request", "permission_request": {"resource": t}}}),
        json!({"type": "template"}),
        json!({"type": "template", "template": {"name": t}}),
        json!({"type": "sticker", "sticker": {"text": t}}),
        json!({"type": "text", "text": t}),
        json!({"type": "image", "image": {"text": t}}),
        json!({"type": "location"}),
    ]
}

#[test]
fn the_preview_is_never_empty_over_generated_bird_messages() {
    let mut messages = Vec::new();
    for t in TEXTS {
        let mut variants: Vec<(Value, Value)> = bird_bodies(t)
            .into_iter()
            .map(|body| (body, Value::Null))
            .collect();
        variants.extend([
            (Value::Null, json!({"name": t})),
            (Value::Null, json!({})),
            (Value::Null, json!({"name": t, "locale": t, "parameters": [{"key": t, "type": "string", "value": t}]})),
            (json!({"type": "text", "text": {"text": t}}), json!({"name": t})),
            (Value::Null, Value::Null),
        ]);
        for (body, template) in variants {
            let id = format!("m-{}", messages.len());
            messages.push(json!({
                "id": id, "sender": {"id": t, "type": "contact", "displayName": t}, "draft": false,
                "status": "delivered", "source": "conversations", "body": body, "template": template,
                "createdAt": "2024-11-25T20:12:10.514Z", "updatedAt": "2024-11-25T20:12:10.514Z"
            }));
        }
    }
    let count = messages.len();
    let bytes = serde_json::to_vec(&json!({"results": messages})).expect("encode");
    let page = bird_types::MessagesPage::from_slice(&bytes).expect("a Bird page");
    assert!(
        page.results.rejected().is_empty(),
        "{:?}",
        page.results.rejected()
    );
    assert_eq!(page.results.len(), count);
    for wire in page.results {
        let at = format!("{:?} / {:?}", wire.body, wire.template);
        assert_preview(&Message::from(wire), &at);
    }
}

/// Every content kind, with `t` in each text field and the other fields empty.
fn contents(t: &str) -> Vec<Content> {
    let s = || Some(Str::from(t));
    let media = || Media {
        url: t.into(),
        file_name: s(),
        mime_type: s(),
        alt_text: s(),
    };
    let action = || Action {
        kind: t.into(),
        label: s(),
        url: s(),
        payload: s(),
    };
    let item = || Item {
        title: s(),
        text: s(),
        media: Some(media()),
        actions: vec![action()],
    };
    let mut out = vec![
        Content::Text {
            text: t.into(),
            attachments: vec![],
            actions: vec![],
        },
        Content::Text {
            text: t.into(),
            attachments: vec![media()],
            actions: vec![action()],
        },
        Content::Text {
            text: t.into(),
            attachments: vec![media(), media()],
            actions: vec![],
        },
        Content::Html {
            html: None,
            text: None,
            attachments: vec![],
            actions: vec![],
        },
        Content::Html {
            html: s(),
            text: None,
            attachments: vec![],
            actions: vec![],
        },
        Content::Html {
            html: None,
            text: s(),
            attachments: vec![media()],
            actions: vec![],
        },
        Content::Html {
            html: s(),
            text: s(),
            attachments: vec![],
            actions: vec![action()],
        },
        Content::Image {
            images: vec![],
            caption: None,
            actions: vec![],
        },
        Content::Image {
            images: vec![media()],
            caption: s(),
            actions: vec![],
        },
        Content::Image {
            images: vec![media(), media()],
            caption: s(),
            actions: vec![action()],
        },
        Content::Video {
            media: media(),
            caption: s(),
        },
        Content::Video {
            media: Media::default(),
            caption: None,
        },
        Content::Audio {
            media: media(),
            caption: s(),
        },
        Content::Audio {
            media: Media::default(),
            caption: None,
        },
        Content::File {
            files: vec![],
            caption: None,
            actions: vec![],
        },
        Content::File {
            files: vec![media()],
            caption: s(),
            actions: vec![],
        },
        Content::File {
            files: vec![media(), media()],
            caption: s(),
            actions: vec![],
        },
        Content::Gif {
            media: media(),
            caption: s(),
            actions: vec![],
        },
        Content::Gif {
            media: Media::default(),
            caption: None,
            actions: vec![],
        },
        Content::Location {
            latitude: None,
            longitude: None,
            label: None,
            address: None,
        },
        Content::Location {
            latitude: Some(0.0),
            longitude: Some(0.0),
            label: s(),
            address: s(),
        },
        Content::Location {
            latitude: None,
            longitude: None,
            label: None,
            address: s(),
        },
        Content::StoryReply {
            story_url: t.into(),
            story_id: s(),
            text: s(),
            image: None,
        },
        Content::StoryReply {
            story_url: Str::default(),
            story_id: None,
            text: None,
            image: Some(media()),
        },
        Content::StoryMention {
            story_url: t.into(),
        },
        Content::Template {
            name: s(),
            locale: s(),
            parameters: vec![],
            attachments: vec![],
        },
        Content::Template {
            name: None,
            locale: None,
            parameters: vec![TemplateParameter {
                key: t.into(),
                kind: t.into(),
                value: json!(t),
            }],
            attachments: vec![media()],
        },
        Content::Event {
            event: Event::ConversationSolved,
        },
        Content::Event {
            event: Event::ConversationReopened,
        },
        Content::Unsupported { detail: None },
        Content::Unsupported { detail: s() },
        Content::Unknown {
            declared: None,
            raw: Value::Null,
        },
        Content::Unknown {
            declared: s(),
            raw: json!(t),
        },
    ];
    for interactive in [
        InteractiveKind::Carousel,
        InteractiveKind::List,
        InteractiveKind::Section,
        InteractiveKind::Buttons,
        InteractiveKind::Authentication,
        InteractiveKind::PermissionRequest,
    ] {
        out.push(Content::Interactive {
            interactive,
            title: None,
            text: None,
            items: vec![],
            actions: vec![],
        });
        out.push(Content::Interactive {
            interactive,
            title: s(),
            text: s(),
            items: vec![item()],
            actions: vec![action()],
        });
        out.push(Content::Interactive {
            interactive,
            title: s(),
            text: None,
            items: vec![],
            actions: vec![],
        });
    }
    out
}

#[test]
fn the_preview_is_never_empty_over_generated_contents() {
    for t in TEXTS {
        for content in contents(t) {
            let line = preview(&content);
            assert!(!line.trim().is_empty(), "empty preview for {content:?}");
            assert!(!line.contains(['\n', '\r']), "{line:?} is not one line");
            // And the content serializes with a documented kind.
            let json = serde_json::to_value(&content).expect("content encodes");
            let kind = json["kind"].as_str().expect("kind");
            assert!(KINDS.contains(&kind), "{kind}");
        }
    }
}

/// The lines of each JSON shape table (a table headed `| key |`) in a document.
fn shape_tables(text: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut tables = Vec::new();
    let mut lines = text
        .lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("| key |") {
            let mut table = vec![line.trim_end().to_owned()];
            while let Some(row) = lines.next_if(|l| l.starts_with('|')) {
                table.push(row.trim_end().to_owned());
            }
            tables.push(table);
        }
    }
    tables
}

#[test]
fn the_readme_documents_the_same_json_shapes_as_the_crate_docs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = fs::read_to_string(dir.join("src/lib.rs")).expect("lib.rs");
    let readme = fs::read_to_string(dir.join("README.md")).expect("README.md");
    let docs = shape_tables(&docs, "//! ");
    assert_eq!(
        docs.len(),
        2,
        "a message and a conversation table in lib.rs: {docs:?}"
    );
    assert!(docs.iter().all(|t| t.len() > 8), "{docs:?}");
    assert_eq!(
        shape_tables(&readme, ""),
        docs,
        "README.md and lib.rs disagree on the JSON shapes"
    );
}

#[test]
fn the_kind_and_direction_names_and_the_shape_without_origin_match_the_json() {
    for (file, provider) in [
        ("partoo/messages-page-1.json", "partoo"),
        ("bird/messages/bodies.json", "bird"),
        ("bird/messages/templates.json", "bird"),
    ] {
        let bytes = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fixtures")
                .join(file),
        )
        .unwrap();
        let messages: Vec<inbox_normalize::Message> = if provider == "partoo" {
            let page = partoo_types::MessagesPage::from_slice(&bytes).unwrap();
            page.messages.iter().cloned().map(Into::into).collect()
        } else {
            let page = bird_types::MessagesPage::from_slice(&bytes).unwrap();
            page.results.iter().cloned().map(Into::into).collect()
        };
        for m in &messages {
            let whole = serde_json::to_value(m).unwrap();
            assert_eq!(whole["content"]["kind"], m.content.kind(), "{file}");
            assert_eq!(whole["direction"], m.direction.as_str(), "{file}");
            let mut without = serde_json::to_value(m.without_origin()).unwrap();
            assert!(without.get("origin").is_none());
            without["origin"] = whole["origin"].clone();
            assert_eq!(
                without, whole,
                "{file}: the whole shape is the rest plus origin"
            );
        }
    }
}
