//! One test per row of the mapping tables in the module doc.

use serde_json::{Value, json};

use crate::model::{Content, Direction, Event, Media, Message, Role, Status, Str};

/// A Partoo message: a plain inbound text, with `patch`'s keys set over it.
fn normalize(patch: Value) -> Message {
    let mut wire = json!({
        "id": 10001, "conversation_id": 4217, "date": "2023-01-31 16:22:17.327878+00:00",
        "content_type": "Text", "sender_type": "Consumer", "sender_label": "Camille",
        "status": "Success", "content": "Bonjour", "user_id": null, "custom_channel": null
    });
    for (key, value) in patch.as_object().expect("patch is an object") {
        match value {
            // `"__absent"` removes the key.
            Value::String(s) if s == "__absent" => wire.as_object_mut().map(|o| o.remove(key)),
            _ => wire
                .as_object_mut()
                .map(|o| o.insert(key.clone(), value.clone())),
        };
    }
    let wire: partoo_types::Message =
        serde_json::from_str(&wire.to_string()).expect("a Partoo message");
    Message::from(wire)
}

macro_rules! rows {
    ($( $(#[$meta:meta])* $name:ident: $patch:tt => |$m:ident| $check:expr; )*) => {
        $( $(#[$meta])* #[test] fn $name() { let $m = normalize(json!($patch)); $check; } )*
    };
}

fn who(m: &Message) -> (Direction, Role) {
    (m.direction, m.sender.role.clone())
}

rows! {
    // sender_type
    sender_consumer_is_inbound_customer: {"sender_type": "Consumer"} =>
        |m| assert_eq!(who(&m), (Direction::Inbound, Role::Customer));
    sender_user_is_outbound_business_user: {"sender_type": "User", "user_id": "u-1"} =>
        |m| {
            assert_eq!(who(&m), (Direction::Outbound, Role::BusinessUser));
            assert_eq!(m.sender.id.as_deref(), Some("u-1"));
            assert!(!m.is_automated);
        };
    sender_user_automated_is_outbound_automation: {"sender_type": "User", "is_automated": true} =>
        |m| {
            assert_eq!(who(&m), (Direction::Outbound, Role::Automation));
            assert!(m.is_automated);
        };
    sender_metadata_is_system: {"sender_type": "Metadata", "content": "Solving"} =>
        |m| assert_eq!(who(&m), (Direction::System, Role::System));
    sender_unknown_is_system_unknown_with_raw: {"sender_type": "Bot"} =>
        |m| assert_eq!(who(&m), (Direction::System, Role::Unknown("Bot".into())));

    // status
    status_sending_is_pending: {"status": "Sending"} => |m| assert_eq!(m.status, Status::Pending);
    status_success_is_sent: {"status": "Success"} => |m| assert_eq!(m.status, Status::Sent);
    status_failed_is_failed_without_reason: {"status": "Failed"} =>
        |m| assert_eq!(m.status, Status::Failed { reason: None });
    status_absent_is_unknown_empty: {"status": "__absent"} =>
        |m| assert_eq!(m.status, Status::Unknown(Str::default()));
    status_unknown_keeps_raw: {"status": "Read"} =>
        |m| assert_eq!(m.status, Status::Unknown("Read".into()));
    status_any_deleted_is_deleted: {"status": "Success", "is_deleted": true} =>
        |m| {
            assert_eq!(m.status, Status::Deleted);
            assert!(m.is_deleted);
        };

    // content
    content_text: {"content_type": "Text", "content": "Bonjour"} =>
        |m| assert_eq!(m.content, Content::Text { text: "Bonjour".into(), attachments: vec![], actions: vec![] });
    content_image: {"content_type": "Image", "content": "https://x/a.jpg"} =>
        |m| assert_eq!(m.content, Content::Image {
            images: vec![Media { url: "https://x/a.jpg".into(), ..Media::default() }],
            caption: None,
            actions: vec![],
        });
    content_video: {"content_type": "Video", "content": {"url": "https://x/v.mp4", "file_name": "v.mp4"}} =>
        |m| assert_eq!(m.content, Content::Video {
            media: Media { url: "https://x/v.mp4".into(), file_name: Some("v.mp4".into()), ..Media::default() },
            caption: None,
        });
    content_audio: {"content_type": "Audio", "content": {"url": "https://x/a.ogg", "file_name": null}} =>
        |m| assert_eq!(m.content, Content::Audio {
            media: Media { url: "https://x/a.ogg".into(), ..Media::default() },
            caption: None,
        });
    content_document_is_file: {"content_type": "Document", "content": {"url": "https://x/d.pdf", "file_name": "d.pdf"}} =>
        |m| assert_eq!(m.content, Content::File {
            files: vec![Media { url: "https://x/d.pdf".into(), file_name: Some("d.pdf".into()), ..Media::default() }],
            caption: None,
            actions: vec![],
        });
    content_story_reply_text: {"content_type": "IgStoryReply", "content": {"url": "https://ig/s/1", "content": "Nice!", "content_type": "Text", "id": "s1"}} =>
        |m| assert_eq!(m.content, Content::StoryReply {
            story_url: "https://ig/s/1".into(),
            story_id: Some("s1".into()),
            text: Some("Nice!".into()),
            image: None,
        });
    content_story_reply_image: {"content_type": "IgStoryReply", "content": {"url": "https://ig/s/1", "content": "https://x/r.jpg", "content_type": "Image"}} =>
        |m| assert_eq!(m.content, Content::StoryReply {
            story_url: "https://ig/s/1".into(),
            story_id: None,
            text: None,
            image: Some(Media { url: "https://x/r.jpg".into(), ..Media::default() }),
        });
    content_story_mention: {"content_type": "IgStoryMention", "content": "https://ig/s/2"} =>
        |m| assert_eq!(m.content, Content::StoryMention { story_url: "https://ig/s/2".into() });
    content_unsupported_with_detail: {"content_type": "Unsupported", "content": {"type": "video"}} =>
        |m| assert_eq!(m.content, Content::Unsupported { detail: Some("video".into()) });
    content_metadata_solving: {"sender_type": "Metadata", "content": "Solving"} =>
        |m| {
            assert_eq!(m.content, Content::Event { event: Event::ConversationSolved });
            assert_eq!(m.text, "[Conversation solved]");
        };
    content_metadata_reopening: {"sender_type": "Metadata", "content": "Reopening"} =>
        |m| assert_eq!(m.content, Content::Event { event: Event::ConversationReopened });
    content_unknown_type_is_unknown_with_raw: {"content_type": "Sticker", "content": "https://x/s.webp"} =>
        |m| {
            assert_eq!(m.content, Content::Unknown { declared: Some("Sticker".into()), raw: json!("https://x/s.webp") });
            assert_eq!(m.text, "[Unhandled content]");
        };
    content_misfit_is_unknown_with_raw: {"content_type": "Text", "content": {"text": "hi"}} =>
        |m| assert_eq!(m.content, Content::Unknown { declared: Some("Text".into()), raw: json!({"text": "hi"}) });
    content_metadata_other_is_unknown_with_raw: {"sender_type": "Metadata", "content": "Archived"} =>
        |m| {
            assert_eq!(m.content, Content::Unknown { declared: Some("Text".into()), raw: json!("Archived") });
            assert_eq!(who(&m), (Direction::System, Role::System));
        };
}
