//! Every file of `fixtures/partoo/` decodes, encodes back to itself, and matches its snapshot;
//! the drift files decode to what they describe; bad fields are reported by path; the
//! webhook bodies decode by their `type`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use partoo_types::{
    Content, ContentType, Conversation, ConversationIssue, ConversationStatus, ConversationsPage,
    ErrorBody, Event, EventPayload, EventType, LastMessage, Message, MessageStatus, MessagesPage,
    MessagingPartner, OrgId, Rejected, SenderType, UnsupportedType,
};
use serde_json::{Value, json};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/partoo")
}

/// Every JSON fixture, as a path relative to `fixtures/partoo/`, sorted.
fn fixture_files() -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).expect("read fixtures dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path.strip_prefix(base).expect("under base").to_path_buf());
            }
        }
    }
    let base = fixtures_dir();
    let mut out = Vec::new();
    walk(&base, &base, &mut out);
    out.sort();
    out
}

fn read(rel: &str) -> Vec<u8> {
    fs::read(fixtures_dir().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

fn is_drift(rel: &Path) -> bool {
    rel.components().any(|c| c.as_os_str() == "drift")
}

/// A decoded fixture, of the type its path says.
#[derive(Debug)]
enum Decoded {
    Messages(MessagesPage),
    Conversations(ConversationsPage),
    Conversation(Box<Conversation>),
    Error(ErrorBody),
    Webhook(Box<Event>),
}

impl Decoded {
    fn of(rel: &Path, bytes: &[u8]) -> Self {
        let stem = rel.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let result = if rel.starts_with("errors") {
            ErrorBody::from_slice(bytes).map(Decoded::Error)
        } else if rel.starts_with("webhooks") {
            Event::from_slice(bytes).map(|e| Decoded::Webhook(Box::new(e)))
        } else if stem.starts_with("conversations-") {
            ConversationsPage::from_slice(bytes).map(Decoded::Conversations)
        } else if stem.starts_with("conversation-") {
            Conversation::from_slice(bytes).map(|c| Decoded::Conversation(Box::new(c)))
        } else {
            MessagesPage::from_slice(bytes).map(Decoded::Messages)
        };
        result.unwrap_or_else(|e| panic!("{}: {e}", rel.display()))
    }

    fn rejected(&self) -> Vec<Rejected> {
        match self {
            Decoded::Messages(page) => page.messages.rejected().to_vec(),
            Decoded::Conversations(page) => page.conversations.rejected().to_vec(),
            Decoded::Conversation(_) | Decoded::Error(_) | Decoded::Webhook(_) => Vec::new(),
        }
    }

    fn encode(&self) -> Value {
        match self {
            Decoded::Messages(page) => serde_json::to_value(page),
            Decoded::Conversations(page) => serde_json::to_value(page),
            Decoded::Conversation(conversation) => serde_json::to_value(conversation),
            Decoded::Error(body) => serde_json::to_value(body),
            Decoded::Webhook(event) => serde_json::to_value(event),
        }
        .expect("encode")
    }
}

fn messages(rel: &str) -> MessagesPage {
    MessagesPage::from_slice(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn by_id(page: &MessagesPage, id: i64) -> &Message {
    page.messages
        .iter()
        .find(|m| m.id == id)
        .unwrap_or_else(|| panic!("no message {id}"))
}

#[test]
fn the_fixture_set_is_there() {
    let files: BTreeSet<String> = fixture_files()
        .iter()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    for expected in [
        "messages-page-1.json",
        "messages-page-2.json",
        "messages-unicode.json",
        "messages-custom-channel.json",
        "messages-empty.json",
        "conversations/conversations-page-1.json",
        "conversations/conversations-page-2.json",
        "conversations/conversation-4217.json",
        "errors/401-error-key.json",
        "errors/401-errors-key.json",
        "drift/unknown-content-type.json",
        "drift/unknown-sender-type.json",
        "drift/unknown-status.json",
        "drift/extra-fields.json",
        "drift/t-spelled-dates.json",
        "drift/content-mismatch.json",
        "drift/unknown-metadata-content.json",
        "drift/conversations-unknown-values.json",
        "drift/conversations-missing-fields.json",
        "drift/conversations-odd-last-messages.json",
        "webhooks/message-created.json",
        "webhooks/message-updated.json",
        "webhooks/business-updated.json",
    ] {
        assert!(
            files.contains(expected),
            "missing fixture {expected}; have {files:?}"
        );
    }
}

#[test]
fn every_fixture_decodes_and_nothing_is_rejected() {
    for rel in fixture_files() {
        let decoded = Decoded::of(&rel, &read(&rel.to_string_lossy()));
        let rejected = decoded.rejected();
        assert!(
            rejected.is_empty(),
            "{}: rejected {rejected:?}",
            rel.display()
        );
    }
}

/// The keys of a conversation Partoo documents as nullable: left out, they come back as
/// `null` (the normalization documented on `Conversation`).
const NULLABLE_CONVERSATION_KEYS: &[&str] = &[
    "consumer_img",
    "consumer_name",
    "consumer_phone_number",
    "last_message",
    "first_message_date",
    "assigned_user_id",
    "custom_channel",
];

#[test]
fn decode_then_encode_gives_the_input_back() {
    for rel in fixture_files() {
        let bytes = read(&rel.to_string_lossy());
        let mut input: Value = serde_json::from_slice(&bytes).expect("fixture is JSON");
        if is_drift(&rel) {
            // Drift may leave nullable keys out; they come back as `null`, and only they.
            let listed = input.get_mut("conversations").and_then(Value::as_array_mut);
            for c in listed
                .into_iter()
                .flatten()
                .filter_map(Value::as_object_mut)
            {
                for key in NULLABLE_CONVERSATION_KEYS {
                    c.entry(*key).or_insert(Value::Null);
                }
            }
        }
        let encoded = Decoded::of(&rel, &bytes).encode();
        assert_eq!(encoded, input, "{} does not round-trip", rel.display());
    }
}

#[test]
fn every_fixture_matches_its_snapshot() {
    for rel in fixture_files() {
        let decoded = Decoded::of(&rel, &read(&rel.to_string_lossy()));
        let name = rel
            .with_extension("")
            .to_string_lossy()
            .replace(['/', '\\'], "__");
        insta::assert_debug_snapshot!(name, decoded);
    }
}

#[test]
fn spec_fixtures_hold_every_content_type_sender_type_status_and_null() {
    let mut contents = BTreeSet::new();
    let mut content_types = BTreeSet::new();
    let mut senders = BTreeSet::new();
    let mut statuses = BTreeSet::new();
    let mut unsupported = BTreeSet::new();
    let mut nulls = BTreeSet::new();
    let mut cursors = BTreeSet::new();
    let mut partners = BTreeSet::new();
    let mut conversation_statuses = BTreeSet::new();
    for rel in fixture_files().into_iter().filter(|rel| !is_drift(rel)) {
        match Decoded::of(&rel, &read(&rel.to_string_lossy())) {
            Decoded::Messages(page) => {
                cursors.insert(page.next_cursor.is_some());
                for m in page.messages.iter() {
                    let variant = format!("{:?}", m.content);
                    let variant = variant
                        .split(['(', ' '])
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    contents.insert(variant);
                    content_types.insert(m.content_type.clone());
                    senders.insert(m.sender_type.clone());
                    statuses.extend(m.status.clone());
                    if let Content::Unsupported(u) = &m.content {
                        unsupported.extend(u.kind.clone());
                    }
                    if let Content::Video(media) | Content::Audio(media) | Content::Document(media) =
                        &m.content
                        && media.file_name.is_none()
                    {
                        nulls.insert("file_name");
                    }
                    for (field, is_null) in [
                        ("sender_label", m.sender_label.is_none()),
                        ("user_id", m.user_id.is_none()),
                        ("custom_channel", m.custom_channel.is_none()),
                    ] {
                        if is_null {
                            nulls.insert(field);
                        }
                    }
                }
            }
            Decoded::Conversations(page) => {
                cursors.insert(page.next_cursor.is_some());
                for c in page.conversations.iter() {
                    partners.extend(c.messaging_partner.clone());
                    conversation_statuses.extend(c.status.clone());
                    if c.last_message.is_none() {
                        nulls.insert("last_message");
                    }
                }
            }
            Decoded::Conversation(_) | Decoded::Error(_) | Decoded::Webhook(_) => {}
        }
    }
    let want: BTreeSet<String> = [
        "Text",
        "Image",
        "Video",
        "Audio",
        "Document",
        "IgStoryReply",
        "IgStoryMention",
        "Unsupported",
        "Solving",
        "Reopening",
    ]
    .map(String::from)
    .into();
    assert_eq!(
        contents, want,
        "content variants of the spec-valid fixtures"
    );
    assert_eq!(content_types, ContentType::KNOWN.iter().cloned().collect());
    assert_eq!(senders, SenderType::KNOWN.iter().cloned().collect());
    assert_eq!(statuses, MessageStatus::KNOWN.iter().cloned().collect());
    assert_eq!(
        unsupported,
        UnsupportedType::KNOWN.iter().cloned().collect()
    );
    assert_eq!(
        nulls,
        [
            "file_name",
            "sender_label",
            "user_id",
            "custom_channel",
            "last_message"
        ]
        .into()
    );
    assert_eq!(
        cursors,
        [true, false].into(),
        "a page with a next cursor and a last page"
    );
    assert_eq!(partners, MessagingPartner::KNOWN.iter().cloned().collect());
    assert_eq!(
        conversation_statuses,
        ConversationStatus::KNOWN.iter().cloned().collect()
    );
}

#[test]
fn pagination_fixtures_chain() {
    let first = messages("messages-page-1.json");
    let last = messages("messages-page-2.json");
    assert!(first.next_cursor.is_some() && !first.is_last());
    assert!(last.is_last());
    assert_eq!(first.count, Some(16));
    assert_eq!(first.messages.len() + last.messages.len(), 16);
    let ids: BTreeSet<i64> = first
        .messages
        .iter()
        .chain(last.messages.iter())
        .map(|m| m.id)
        .collect();
    assert_eq!(ids.len(), 16, "no message on both pages");
}

#[test]
fn each_date_spelling_parses_to_the_right_instant() {
    const INSTANT: i128 = 1_675_182_137_327_878_000; // 2023-01-31 16:22:17.327878 UTC
    const WHOLE_SECOND: i128 = 1_675_182_137_000_000_000;
    let page = messages("drift/t-spelled-dates.json");
    let raw: Value = serde_json::from_slice(&read("drift/t-spelled-dates.json")).expect("JSON");
    let want = [
        (40401, "2023-01-31T16:22:17.327878Z", INSTANT),
        (40402, "2023-01-31T16:22:17.327878+00:00", INSTANT),
        (40403, "2023-01-31T18:22:17.327878+02:00", INSTANT),
        (40404, "2023-01-31T11:22:17.327878-05:00", INSTANT),
        (40405, "2023-01-31T16:22:17Z", WHOLE_SECOND),
        (40406, "2023-01-31 16:22:17+00:00", WHOLE_SECOND),
        (40407, "2023-01-31T16:22:17.327878123Z", INSTANT + 123),
    ];
    assert_eq!(page.messages.len(), want.len());
    for (i, (id, spelled, nanos)) in want.into_iter().enumerate() {
        let m = by_id(&page, id);
        assert_eq!(
            raw["messages"][i]["date"], spelled,
            "the fixture spells {id} so"
        );
        assert_eq!(m.date.unix_nanos(), nanos, "{spelled}");
        assert_eq!(
            m.date.to_string(),
            spelled,
            "{spelled} encodes back as sent"
        );
    }
    // The documented spelling, in the spec-valid pages.
    let first = by_id(&messages("messages-page-1.json"), 10001).date;
    assert_eq!(first.to_string(), "2023-01-31 16:22:17.327878+00:00");
    assert_eq!(first.unix_nanos(), INSTANT);
    assert_eq!(first.to_rfc3339_utc(), "2023-01-31T16:22:17.327878Z");
}

#[test]
fn unknown_enum_values_keep_their_string_and_encode_back() {
    let page = messages("drift/unknown-content-type.json");
    let location = by_id(&page, 40001);
    assert_eq!(
        location.content_type,
        ContentType::Unknown("Location".into())
    );
    assert!(matches!(&location.content, Content::Raw(v) if v["latitude"] == 48.8566));
    let sticker = by_id(&page, 40002);
    assert_eq!(sticker.content_type, ContentType::Unknown("Sticker".into()));
    assert!(
        sticker.content.is_raw(),
        "a string of an unknown type is not taken for text"
    );

    let page = messages("drift/unknown-sender-type.json");
    assert_eq!(
        by_id(&page, 40101).sender_type,
        SenderType::Unknown("Bot".into())
    );
    let system = by_id(&page, 40102);
    assert_eq!(system.sender_type, SenderType::Unknown("System".into()));
    assert_eq!(
        system.content,
        Content::Text("Solving".into()),
        "only Metadata sends events"
    );

    let page = messages("drift/unknown-status.json");
    assert_eq!(
        by_id(&page, 40201).status,
        Some(MessageStatus::Unknown("Read".into()))
    );
    assert_eq!(
        by_id(&page, 40202).status,
        Some(MessageStatus::Unknown("Delivered".into()))
    );

    let encoded = serde_json::to_value(&page).expect("encode");
    assert_eq!(encoded["messages"][0]["status"], "Read");
    assert_eq!(encoded["messages"][1]["status"], "Delivered");
}

#[test]
fn content_that_does_not_fit_its_type_is_kept_raw() {
    let page = messages("drift/content-mismatch.json");
    let raw: Value = serde_json::from_slice(&read("drift/content-mismatch.json")).expect("JSON");
    assert_eq!(page.messages.len(), 8);
    for (i, m) in page.messages.iter().enumerate() {
        assert!(
            m.content_type.is_known(),
            "{}: declared types are documented ones",
            m.id
        );
        assert_eq!(
            m.content,
            Content::Raw(raw["messages"][i]["content"].clone()),
            "{}",
            m.id
        );
    }
}

#[test]
fn undocumented_metadata_content_is_kept_raw() {
    let rel = "drift/unknown-metadata-content.json";
    let page = messages(rel);
    let raw: Value = serde_json::from_slice(&read(rel)).expect("JSON");
    assert_eq!(page.messages.len(), 3);
    for (i, m) in page.messages.iter().enumerate() {
        assert_eq!(m.sender_type, SenderType::Metadata, "{}", m.id);
        assert_eq!(m.content_type, ContentType::Text, "{}", m.id);
        assert_eq!(
            m.content,
            Content::Raw(raw["messages"][i]["content"].clone()),
            "{}: never a customer-visible text",
            m.id
        );
    }
}

#[test]
fn extra_fields_reach_the_caller() {
    let page = messages("drift/extra-fields.json");
    assert_eq!(page.extra["has_more"], false);
    assert_eq!(by_id(&page, 40301).extra["reply_to_message_id"], 10006);
    let Content::Video(video) = &by_id(&page, 40302).content else {
        panic!("not a video")
    };
    assert_eq!(
        (&video.extra["mime_type"], &video.extra["size"]),
        (&json!("video/mp4"), &json!(1_048_576))
    );
    let Content::IgStoryReply(reply) = &by_id(&page, 40303).content else {
        panic!("not a reply")
    };
    assert_eq!(reply.extra["expired"], true);
    let custom = by_id(&page, 40304)
        .custom_channel
        .as_ref()
        .expect("custom channel");
    assert_eq!(
        custom.external_message_id.as_deref(),
        Some("crm-msg-001200")
    );
    assert_eq!(custom.extra["channel_id"], "ch_7");
}

#[test]
fn conversation_drift_decodes_with_its_unknown_values() {
    let bytes = read("drift/conversations-unknown-values.json");
    let page = ConversationsPage::from_slice(&bytes).expect("decodes");
    let c = &page.conversations[0];
    assert_eq!(
        c.messaging_partner,
        Some(MessagingPartner::Unknown("Telegram".into()))
    );
    assert_eq!(
        c.status,
        Some(ConversationStatus::Unknown("Archived".into()))
    );
    assert_eq!(
        c.issues,
        Some(vec![ConversationIssue::Unknown(
            "telegram_bot_blocked".into()
        )])
    );
    assert!(matches!(&c.last_message, Some(LastMessage::Raw(v)) if v["id"] == 40601));
    assert_eq!(c.created_at.map(|t| t.unix_seconds()), Some(1_685_872_740));
    assert_eq!(c.extra["tags"], json!(["vip"]));
}

#[test]
fn conversations_missing_most_fields_decode_by_their_id() {
    let page = ConversationsPage::from_slice(&read("drift/conversations-missing-fields.json"))
        .expect("decodes");
    let ids: Vec<i64> = page.conversations.iter().map(|c| c.id).collect();
    assert_eq!(ids, [7101, 7102, 7103]);
    let bare = &page.conversations[0];
    assert_eq!(
        (&bare.status, &bare.created_at, &bare.business),
        (&None, &None, &None)
    );
    assert_eq!(page.conversations[1].status, Some(ConversationStatus::Open));
    let business = page.conversations[2].business.as_ref().expect("business");
    assert_eq!(business.id, None);
}

#[test]
fn odd_last_messages_are_kept_raw_or_decoded_with_their_unknown_values() {
    let page = ConversationsPage::from_slice(&read("drift/conversations-odd-last-messages.json"))
        .expect("decodes");
    let raw: Vec<Option<&Value>> = page
        .conversations
        .iter()
        .map(|c| match &c.last_message {
            Some(LastMessage::Raw(v)) => Some(v),
            _ => None,
        })
        .collect();
    assert_eq!(raw[0], Some(&json!("<unknown>")));
    assert_eq!(raw[1], Some(&json!({})));
    assert!(raw[2].is_some_and(|v| v["id"] == "msg_7203"));
    let m = page.conversations[3]
        .last_message
        .as_ref()
        .and_then(LastMessage::message)
        .expect("a message");
    assert_eq!(
        (&m.status, m.is_deleted, &m.content_type),
        (
            &Some(MessageStatus::Unknown("Read".into())),
            Some(true),
            &ContentType::Unknown("Sticker".into())
        )
    );
}

#[test]
fn a_page_field_of_the_wrong_type_is_an_error_naming_its_path() {
    let page: Value = serde_json::from_slice(&read("messages-page-1.json")).expect("JSON");
    for (field, bad) in [
        ("count", json!("16")),
        ("next_cursor", json!(5)),
        ("messages", json!({})),
    ] {
        let mut broken = page.clone();
        broken[field] = bad;
        let err = MessagesPage::from_slice(&serde_json::to_vec(&broken).expect("encode"))
            .expect_err("must fail");
        assert_eq!(err.path, field, "{err}");
        assert!(err.message.contains("invalid type"), "{err}");
    }
    let mut missing = page.clone();
    missing.as_object_mut().expect("object").remove("messages");
    let err = MessagesPage::from_slice(&serde_json::to_vec(&missing).expect("encode"))
        .expect_err("must fail");
    assert!(err.message.contains("missing field `messages`"), "{err}");

    let page: Value =
        serde_json::from_slice(&read("conversations/conversations-page-1.json")).expect("JSON");
    let mut broken = page.clone();
    broken["count"] = json!(-1);
    let err = ConversationsPage::from_slice(&serde_json::to_vec(&broken).expect("encode"))
        .expect_err("must fail");
    assert_eq!(err.path, "count", "{err}");

    assert_eq!(
        MessagesPage::from_slice(b"<html>")
            .expect_err("not JSON")
            .path,
        "."
    );
}

#[test]
fn a_message_field_of_the_wrong_type_rejects_that_message_only() {
    let mut page: Value = serde_json::from_slice(&read("messages-page-1.json")).expect("JSON");
    page["messages"][2]["id"] = json!("10003");
    page["messages"][4]["is_deleted"] = json!("no");
    page["messages"][5]["custom_channel"] = json!({"external_message_id": 7});
    page["messages"][6]["date"] = json!("31/01/2023");
    let bytes = serde_json::to_vec(&page).expect("encode");
    let decoded = MessagesPage::from_slice(&bytes).expect("the page decodes");
    let ids: Vec<i64> = decoded.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, [10001, 10002, 10004]);
    let rejected: Vec<(usize, &str)> = decoded
        .messages
        .rejected()
        .iter()
        .map(|r| (r.index, r.path.as_str()))
        .collect();
    assert_eq!(
        rejected,
        [
            (2, "id"),
            (4, "is_deleted"),
            (5, "custom_channel.external_message_id"),
            (6, "date")
        ]
    );
    assert!(
        decoded.messages.rejected()[3]
            .message
            .contains("invalid timestamp")
    );
    assert_eq!(
        serde_json::to_value(&decoded).expect("encode"),
        page,
        "rejected kept raw, in place"
    );

    let mut page: Value =
        serde_json::from_slice(&read("conversations/conversations-page-1.json")).expect("JSON");
    page["conversations"][0]["business"]["id"] = json!(5);
    page["conversations"][2]["created_at"] = json!(12);
    let decoded =
        ConversationsPage::from_slice(&serde_json::to_vec(&page).expect("encode")).expect("page");
    let rejected: Vec<(usize, &str)> = decoded
        .conversations
        .rejected()
        .iter()
        .map(|r| (r.index, r.path.as_str()))
        .collect();
    assert_eq!(rejected, [(0, "business.id"), (2, "created_at")]);
    assert_eq!(decoded.conversations.len(), 2);
}

#[test]
fn error_bodies_summarise_on_one_line() {
    for (rel, want) in [
        (
            "errors/400-invalid-query.json",
            "json.conversation_id: Missing data for required field.; json.per_page: Must be \
             greater than or equal to 1 and less than or equal to 100.",
        ),
        (
            "errors/401-error-key.json",
            "authentication: User not authenticated",
        ),
        (
            "errors/401-errors-key.json",
            "authentication: User not authenticated",
        ),
        (
            "errors/403-forbidden.json",
            "authorization: Operation not allowed",
        ),
        ("errors/404-not-found.json", "json: Resource not found"),
        (
            "errors/415-unsupported-media-type.json",
            "json: The request body must be JSON (Content-Type: application/json).",
        ),
    ] {
        let body = ErrorBody::from_slice(&read(rel)).expect("decodes");
        assert_eq!(body.summary(), want, "{rel}");
    }
}

fn webhook(rel: &str) -> Event {
    Event::from_slice(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn every_webhook_fixture_decodes_by_its_type_and_round_trips() {
    let files: Vec<PathBuf> = fixture_files()
        .into_iter()
        .filter(|rel| rel.starts_with("webhooks"))
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    for rel in files {
        let rel = rel.to_string_lossy().replace('\\', "/");
        let bytes = read(&rel);
        let event = webhook(&rel);
        assert_eq!(
            event.event_type.carries_message(),
            event.message_event().is_some(),
            "{rel}: typed by its type"
        );
        assert_eq!(
            serde_json::to_value(&event).expect("encode"),
            serde_json::from_slice::<Value>(&bytes).expect("JSON"),
            "{rel} does not round-trip"
        );
        let again = Event::from_slice(&serde_json::to_vec(&event).expect("encode")).expect("again");
        assert_eq!(again, event, "{rel}: decode, encode, decode is stable");
    }
}

#[test]
fn message_webhooks_carry_the_listed_message_and_its_conversation() {
    let listed = by_id(&messages("messages-page-1.json"), 10006).clone();
    let conversation = Conversation::from_slice(&read("conversations/conversation-4217.json"))
        .expect("conversation");

    let created = webhook("webhooks/message-created.json");
    assert_eq!(created.event_type, EventType::MessageCreated);
    let created = created.into_message_event().expect("a message event");
    assert_eq!(
        created.message, listed,
        "the message as `GET /messages` lists it"
    );
    assert_eq!(created.message.status, Some(MessageStatus::Sending));
    assert_eq!(created.org_id, OrgId::Number(4242));
    let c = &created.conversation;
    assert_eq!(c.id, conversation.id);
    assert_eq!(
        (&c.consumer_img, &c.consumer_name, &c.messaging_partner),
        (
            &conversation.consumer_img,
            &conversation.consumer_name,
            &conversation.messaging_partner
        )
    );
    assert_eq!(
        c.business.as_ref().and_then(|b| b.id.as_ref()),
        conversation.business.as_ref().and_then(|b| b.id.as_ref())
    );
    assert_eq!(c.custom_channel, None);

    let updated = webhook("webhooks/message-updated.json");
    assert_eq!(updated.event_type, EventType::MessageUpdated);
    let updated = updated.message_event().expect("a message event");
    assert_eq!(updated.message.id, created.message.id);
    assert_eq!(updated.message.status, Some(MessageStatus::Success));
    let mut delivered = created.message.clone();
    delivered.status = Some(MessageStatus::Success);
    assert_eq!(updated.message, delivered, "only the status moved");
    assert_eq!(updated.conversation, created.conversation);
}

#[test]
fn other_webhook_types_are_kept_raw() {
    let raw: Value = serde_json::from_slice(&read("webhooks/business-updated.json")).expect("JSON");
    let event = webhook("webhooks/business-updated.json");
    assert_eq!(
        event.event_type,
        EventType::Unknown("business_updated".into())
    );
    assert!(event.message_event().is_none());
    assert_eq!(event.payload, EventPayload::Raw(raw["payload"].clone()));
    assert_eq!(
        event.raw_payload().map(|p| &p["business"]["id"]),
        Some(&json!("a1c9f37b4deca92f83b61d02"))
    );
}

#[test]
fn a_message_webhook_whose_message_does_not_decode_names_the_path() {
    let mut body: Value =
        serde_json::from_slice(&read("webhooks/message-created.json")).expect("JSON");
    body["payload"]["message"]["conversation_id"] = json!("4217");
    let err = Event::from_slice(&serde_json::to_vec(&body).expect("encode")).expect_err("fails");
    assert_eq!(err.path, "payload.message.conversation_id", "{err}");
    // The same change in an event of another type is kept raw.
    body["type"] = json!("new_message_received");
    let event = Event::from_slice(&serde_json::to_vec(&body).expect("encode")).expect("raw");
    assert_eq!(event.raw_payload(), Some(&body["payload"]));
}
