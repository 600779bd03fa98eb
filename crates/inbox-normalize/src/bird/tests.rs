//! One test per row of the mapping tables in the module doc.

use serde_json::{Value, json};

use crate::model::{
    Action, Content, ConversationId, Direction, Interaction, InteractiveKind, Item, Media, Message,
    MessageId, Recipient, Role, Status, Str, TemplateParameter, Timestamp,
};

/// A Bird message: an inbound text from a contact, with `patch`'s keys set over it.
fn normalize(patch: Value) -> Message {
    let mut wire = json!({
        "id": "m-1", "conversationId": "c-1", "reference": "",
        "sender": {"id": "p-1", "type": "contact", "displayName": "John Doe", "avatarUrl": "",
                   "contact": {"identifierKey": "phonenumber", "identifierValue": "+31600000000"}},
        "draft": false, "status": "delivered", "source": "conversations", "interactions": null,
        "body": {"type": "text", "text": {"text": "Hello"}},
        "createdAt": "2024-11-25T20:12:10.514Z", "updatedAt": "2024-11-25T20:12:35.281Z"
    });
    for (key, value) in patch.as_object().expect("patch is an object") {
        let object = wire.as_object_mut().expect("object");
        match value {
            // `"__absent"` removes the key.
            Value::String(s) if s == "__absent" => object.remove(key),
            _ => object.insert(key.clone(), value.clone()),
        };
    }
    let wire: bird_types::Message =
        serde_json::from_str(&wire.to_string()).expect("a Bird message");
    Message::from(wire)
}

/// A message with this body.
fn body(body: Value) -> Message {
    normalize(json!({ "body": body }))
}

/// A message with a text body carrying these actions; its actions.
fn actions(actions: Value) -> Vec<Action> {
    match body(json!({"type": "text", "text": {"text": "Pick", "actions": actions}})).content {
        Content::Text { actions, .. } => actions,
        other => panic!("not a text: {other:?}"),
    }
}

fn action(kind: &str, label: Option<&str>, url: Option<&str>, payload: Option<&str>) -> Action {
    Action {
        kind: kind.into(),
        label: label.map(Into::into),
        url: url.map(Into::into),
        payload: payload.map(Into::into),
    }
}

fn media(url: &str) -> Media {
    Media {
        url: url.into(),
        ..Media::default()
    }
}

fn who(m: &Message) -> (Direction, Role, bool) {
    (m.direction, m.sender.role.clone(), m.is_automated)
}

macro_rules! rows {
    ($( $name:ident: $make:ident $patch:tt => |$m:ident| $check:expr; )*) => {
        $( #[test] fn $name() { let $m = $make(json!($patch)); $check; } )*
    };
}

rows! {
    // sender.type
    participant_contact: normalize {"sender": {"id": "p", "type": "contact"}} =>
        |m| assert_eq!(who(&m), (Direction::Inbound, Role::Customer, false));
    participant_user: normalize {"sender": {"id": "p", "type": "user"}} =>
        |m| assert_eq!(who(&m), (Direction::Outbound, Role::BusinessUser, false));
    participant_agent: normalize {"sender": {"id": "p", "type": "agent"}} =>
        |m| assert_eq!(who(&m), (Direction::Outbound, Role::Agent, false));
    participant_bot: normalize {"sender": {"id": "p", "type": "bot"}} =>
        |m| assert_eq!(who(&m), (Direction::Outbound, Role::Automation, true));
    participant_flow: normalize {"sender": {"id": "p", "type": "flow"}} =>
        |m| assert_eq!(who(&m), (Direction::Outbound, Role::Automation, true));
    participant_collaboration_automation: normalize {"sender": {"id": "p", "type": "collaborationAutomation"}} =>
        |m| assert_eq!(who(&m), (Direction::Outbound, Role::Automation, true));
    participant_connector: normalize {"sender": {"id": "p", "type": "connector"}} =>
        |m| assert_eq!(who(&m), (Direction::Outbound, Role::Automation, true));
    participant_access_key: normalize {"sender": {"id": "p", "type": "accessKey"}} =>
        |m| assert_eq!(who(&m), (Direction::Outbound, Role::Automation, true));
    participant_channel: normalize {"sender": {"id": "p", "type": "channel"}} =>
        |m| assert_eq!(who(&m), (Direction::System, Role::System, false));
    participant_unknown_keeps_raw: normalize {"sender": {"id": "p", "type": "aiAgent"}} =>
        |m| assert_eq!(who(&m), (Direction::System, Role::Unknown("aiAgent".into()), false));

    // status
    status_accepted: normalize {"status": "accepted"} => |m| assert_eq!(m.status, Status::Pending);
    status_processing: normalize {"status": "processing"} => |m| assert_eq!(m.status, Status::Pending);
    status_sent: normalize {"status": "sent"} => |m| assert_eq!(m.status, Status::Sent);
    status_delivered: normalize {"status": "delivered"} => |m| assert_eq!(m.status, Status::Delivered);
    status_sending_failed_with_reason: normalize {"status": "sending_failed", "reason": "No WhatsApp"} =>
        |m| assert_eq!(m.status, Status::Failed { reason: Some("No WhatsApp".into()) });
    status_delivery_failed_with_reason: normalize {"status": "delivery_failed", "reason": "Undeliverable"} =>
        |m| assert_eq!(m.status, Status::Failed { reason: Some("Undeliverable".into()) });
    status_delivery_failed_without_reason: normalize {"status": "delivery_failed"} =>
        |m| assert_eq!(m.status, Status::Failed { reason: None });
    status_deleted: normalize {"status": "deleted"} =>
        |m| {
            assert_eq!(m.status, Status::Deleted);
            assert!(m.is_deleted);
        };
    status_read_observed: normalize {"status": "read"} =>
        |m| {
            assert_eq!(m.status, Status::Read);
            assert!(!m.is_deleted);
        };
    status_unknown_keeps_raw: normalize {"status": "rejected", "reason": "Rejected"} =>
        |m| assert_eq!(m.status, Status::Unknown("rejected".into()));

    // body type
    body_text_with_attachments_and_actions: body {"type": "text", "text": {
            "text": "Pick one",
            "attachments": [{"mediaUrl": "https://x/t.pdf", "filename": "t.pdf"}],
            "actions": [{"type": "reply", "reply": {"text": "Yes"}}]}} =>
        |m| {
            assert_eq!(m.content, Content::Text {
                text: "Pick one".into(),
                attachments: vec![Media { file_name: Some("t.pdf".into()), ..media("https://x/t.pdf") }],
                actions: vec![action("reply", Some("Yes"), None, None)],
            });
            assert_eq!(m.text, "Pick one [+1 attachment]");
        };
    body_html: body {"type": "html", "html": {
            "text": "Hi\r\n", "html": "<p>Hi</p>",
            "attachments": [
                {"mediaUrl": "https://x/i.pdf", "filename": "i.pdf"},
                {"content": "iVBO", "contentType": "image/png", "contentId": "logo", "filename": "logo.png", "inline": true}
            ],
            "actions": [{"type": "link", "link": {"text": "Open", "url": "https://x"}}]}} =>
        |m| {
            assert_eq!(m.content, Content::Html {
                html: Some("<p>Hi</p>".into()),
                text: Some("Hi\r\n".into()),
                attachments: vec![
                    Media { file_name: Some("i.pdf".into()), ..media("https://x/i.pdf") },
                    Media { file_name: Some("logo.png".into()), mime_type: Some("image/png".into()), ..media("cid:logo") },
                ],
                actions: vec![action("link", Some("Open"), Some("https://x"), None)],
            });
            assert_eq!(m.text, "Hi");
        };
    body_image: body {"type": "image", "image": {"text": "Coats", "images": [
            {"mediaUrl": "https://x/1.jpg", "altText": "Red"}, {"mediaUrl": "https://x/2.jpg"}]}} =>
        |m| {
            assert_eq!(m.content, Content::Image {
                images: vec![Media { alt_text: Some("Red".into()), ..media("https://x/1.jpg") }, media("https://x/2.jpg")],
                caption: Some("Coats".into()),
                actions: vec![],
            });
            assert_eq!(m.text, "[2 images] Coats");
        };
    body_file: body {"type": "file", "file": {"text": "Docs", "files": [
            {"mediaUrl": "https://x/m.pdf", "contentType": "application/pdf", "filename": "m.pdf", "altText": "Manual"}]}} =>
        |m| assert_eq!(m.content, Content::File {
            files: vec![Media {
                url: "https://x/m.pdf".into(),
                file_name: Some("m.pdf".into()),
                mime_type: Some("application/pdf".into()),
                alt_text: Some("Manual".into()),
            }],
            caption: Some("Docs".into()),
            actions: vec![],
        });
    body_gif: body {"type": "gif", "gif": {"text": "Thanks", "mediaUrl": "https://x/t.gif", "altText": "Wave",
            "actions": [{"type": "locationRequest"}]}} =>
        |m| assert_eq!(m.content, Content::Gif {
            media: Media { alt_text: Some("Wave".into()), ..media("https://x/t.gif") },
            caption: Some("Thanks".into()),
            actions: vec![action("location_request", None, None, None)],
        });
    body_location: body {"type": "location", "location": {
            "coordinates": {"latitude": 52.3676, "longitude": 4},
            "location": {"label": "Shop", "address": "Dam 1"}}} =>
        |m| {
            assert_eq!(m.content, Content::Location {
                latitude: Some(52.3676),
                longitude: Some(4.0),
                label: Some("Shop".into()),
                address: Some("Dam 1".into()),
            });
            assert_eq!(m.text, "[Location: Shop]");
        };
    body_carousel: body {"type": "carousel", "carousel": {"text": "Pick", "items": [
            {"title": "Coat", "mediaUrl": "https://x/c.jpg", "altText": "Red coat",
             "actions": [{"type": "link", "link": {"text": "View", "url": "https://x/c"}}]},
            {"title": "Scarf", "mediaUrl": null, "actions": null}]}} =>
        |m| assert_eq!(m.content, Content::Interactive {
            interactive: InteractiveKind::Carousel,
            title: None,
            text: Some("Pick".into()),
            items: vec![
                Item {
                    title: Some("Coat".into()),
                    text: None,
                    media: Some(Media { alt_text: Some("Red coat".into()), ..media("https://x/c.jpg") }),
                    actions: vec![action("link", Some("View"), Some("https://x/c"), None)],
                },
                Item { title: Some("Scarf".into()), ..Item::default() },
            ],
            actions: vec![],
        });
    body_list: body {"type": "list", "list": {"title": "Shops", "text": "Choose", "items": [{"title": "Amsterdam"}],
            "actions": [{"type": "reply", "reply": {"text": "None"}}]}} =>
        |m| {
            assert_eq!(m.content, Content::Interactive {
                interactive: InteractiveKind::List,
                title: Some("Shops".into()),
                text: Some("Choose".into()),
                items: vec![Item { title: Some("Amsterdam".into()), ..Item::default() }],
                actions: vec![action("reply", Some("None"), None, None)],
            });
            assert_eq!(m.text, "Choose");
        };
    body_section_is_flattened: body {"type": "section", "section": {"items": [
            {"type": "text", "text": {"text": "Summary"}},
            {"type": "image", "image": {"text": "Pics", "images": [{"mediaUrl": "https://x/1.jpg"}, {"mediaUrl": "https://x/2.jpg"}]}},
            {"type": "location", "location": {"coordinates": {"latitude": 1, "longitude": 2}, "location": {"label": "Shop"}}},
            {"type": "section", "section": {"items": [
                {"type": "list", "list": {"text": "Slot", "items": [{"title": "Morning"}]}}]}}]}} =>
        |m| {
            assert_eq!(m.content, Content::Interactive {
                interactive: InteractiveKind::Section,
                title: None,
                text: None,
                items: vec![
                    Item { text: Some("Summary".into()), ..Item::default() },
                    Item { text: Some("Pics".into()), media: Some(media("https://x/1.jpg")), ..Item::default() },
                    Item { media: Some(media("https://x/2.jpg")), ..Item::default() },
                    Item { text: Some("[Location: Shop]".into()), ..Item::default() },
                    Item { text: Some("Slot".into()), ..Item::default() },
                    Item { title: Some("Morning".into()), ..Item::default() },
                ],
                actions: vec![],
            });
            assert_eq!(m.text, "[Section]");
        };
    body_authentication: body {"type": "authentication", "authentication": {"otp": {"disclaimer": true,
            "actions": [{"type": "link", "link": {"text": "Copy code", "url": "https://x/otp"}}]}}} =>
        |m| {
            assert_eq!(m.content, Content::Interactive {
                interactive: InteractiveKind::Authentication,
                title: None,
                text: None,
                items: vec![],
                actions: vec![action("link", Some("Copy code"), Some("https://x/otp"), None)],
            });
            assert_eq!(m.text, "[Authentication code]");
        };
    body_action_is_permission_request: body {"type": "action", "action": {"type": "permission_request",
            "permission_request": {"resource": "call"}}} =>
        |m| {
            assert_eq!(m.content, Content::Interactive {
                interactive: InteractiveKind::PermissionRequest,
                title: None,
                text: None,
                items: vec![],
                actions: vec![action("permission_request", Some("call"), None, None)],
            });
            assert_eq!(m.text, "[Permission request]");
        };
    body_template_reads_its_template_object: body {"type": "template", "template": {"name": "order_update", "locale": "en"}} =>
        |m| {
            assert_eq!(m.content, Content::Template {
                name: Some("order_update".into()),
                locale: Some("en".into()),
                parameters: vec![],
                attachments: vec![],
            });
            assert_eq!(m.text, "[Template: order_update]");
        };
    body_template_without_template_is_unknown: body {"type": "template"} =>
        |m| assert_eq!(m.content, Content::Unknown { declared: Some("template".into()), raw: json!({"type": "template"}) });
    body_beside_a_template_wins: normalize {"body": {"type": "text", "text": {"text": "Rendered"}},
            "template": {"name": "order_update"}} =>
        |m| assert!(matches!(&m.content, Content::Text { text, .. } if text == "Rendered"));
    template_body_beside_a_template_gives_the_template: normalize {"body": {"type": "template", "template": {"name": "inner"}},
            "template": {"name": "outer"}} =>
        |m| assert!(matches!(&m.content, Content::Template { name: Some(n), .. } if n == "outer"));
    no_body_with_template: normalize {"body": "__absent", "template": {"name": "order_update", "locale": "en"}} =>
        |m| assert!(matches!(&m.content, Content::Template { name: Some(n), .. } if n == "order_update"));
    null_body_with_template: normalize {"body": null, "template": {"name": "order_update"}} =>
        |m| assert!(matches!(&m.content, Content::Template { name: Some(n), .. } if n == "order_update"));
    no_body_no_template_is_unknown_null: normalize {"body": "__absent", "template": null} =>
        |m| {
            assert_eq!(m.content, Content::Unknown { declared: None, raw: Value::Null });
            assert_eq!(m.text, "[Unhandled content]");
        };
    body_unknown_kind_is_unknown_with_the_body: body {"type": "interactive", "interactive": {"flowId": "f-1"}} =>
        |m| assert_eq!(m.content, Content::Unknown {
            declared: Some("interactive".into()),
            raw: json!({"type": "interactive", "interactive": {"flowId": "f-1"}}),
        });
    body_misfit_is_unknown_with_the_body: body {"type": "text", "text": "hello"} =>
        |m| assert_eq!(m.content, Content::Unknown {
            declared: Some("text".into()),
            raw: json!({"type": "text", "text": "hello"}),
        });

    // action type
    action_link: actions [{"type": "link", "link": {"text": "Shop", "url": "https://x/{{contact.id}}"}}] =>
        |a| assert_eq!(a, vec![action("link", Some("Shop"), Some("https://x/{{contact.id}}"), None)]);
    action_reply: actions [{"type": "reply", "reply": {"text": "Yes", "imageUrl": "https://x/y.png"}}] =>
        |a| assert_eq!(a, vec![action("reply", Some("Yes"), None, None)]);
    action_location_request: actions [
            {"type": "locationRequest", "locationRequest": {"text": "Send location"}},
            {"type": "locationRequest", "locationRequest": null},
            {"type": "locationRequest"}] =>
        |a| assert_eq!(a, vec![
            action("location_request", Some("Send location"), None, None),
            action("location_request", None, None, None),
            action("location_request", None, None, None),
        ]);
    action_buy: actions [{"type": "buy", "buy": {"text": "Buy", "amountCents": 1999, "currency": "EUR"}}] =>
        |a| assert_eq!(a, vec![action("buy", Some("Buy"), None, None)]);
    action_postback: actions [{"type": "postback", "postback": {"text": "Agent", "payload": "AGENT"}}] =>
        |a| assert_eq!(a, vec![action("postback", Some("Agent"), None, Some("AGENT"))]);
    action_unknown_or_misfit_keeps_its_kind_and_text: actions [
            {"type": "call", "call": {"text": "Call", "phoneNumber": "+31"}},
            {"type": "buy", "buy": {"text": "Buy", "amountCents": "1999", "currency": "EUR"}},
            {"type": "link", "link": {"text": 3, "url": "https://x"}}] =>
        |a| assert_eq!(a, vec![
            action("call", None, None, None),
            action("buy", Some("Buy"), None, None),
            action("link", None, Some("https://x"), None),
        ]);

    // template
    template_name_and_locale: normalize {"body": "__absent", "template": {"name": "n", "locale": "nl-NL"}} =>
        |m| assert_eq!(m.content, Content::Template {
            name: Some("n".into()),
            locale: Some("nl-NL".into()),
            parameters: vec![],
            attachments: vec![],
        });
    template_parameters_keep_kind_and_json: normalize {"body": "__absent", "template": {"name": "n", "parameters": [
            {"key": "a", "type": "string", "value": "John"},
            {"key": "b", "type": "number", "value": 19.99},
            {"key": "c", "type": "boolean", "value": true},
            {"key": "d", "type": "object", "value": {"id": 1}},
            {"key": "e", "type": "string"},
            {"key": "f", "type": "currency", "value": {"amount": 1}},
            {"key": "g", "type": "number", "value": "three"},
            {"key": "h", "type": "timeslotList", "value": {"timeslots": []}}]}} =>
        |m| {
            let Content::Template { parameters, .. } = m.content else { panic!("not a template") };
            let p = |key: &str, kind: &str, value: Value| TemplateParameter { key: key.into(), kind: kind.into(), value };
            assert_eq!(parameters, vec![
                p("a", "string", json!("John")),
                p("b", "number", json!(19.99)),
                p("c", "boolean", json!(true)),
                p("d", "object", json!({"id": 1})),
                p("e", "string", Value::Null),
                p("f", "currency", json!({"amount": 1})),
                p("g", "number", json!("three")),
                p("h", "timeslotList", json!({"timeslots": []})),
            ]);
        };
    template_variables_when_no_parameters: normalize {"body": "__absent", "template": {"name": "n",
            "variables": {"firstName": "John"}, "parameters": null}} =>
        |m| assert!(matches!(&m.content, Content::Template { parameters, .. }
            if parameters == &vec![TemplateParameter { key: "firstName".into(), kind: "string".into(), value: json!("John") }]));
    template_variables_ignored_beside_parameters: normalize {"body": "__absent", "template": {"name": "n",
            "variables": {"firstName": "John"}, "parameters": [{"key": "x", "type": "string", "value": "y"}]}} =>
        |m| assert!(matches!(&m.content, Content::Template { parameters, .. } if parameters.len() == 1 && parameters[0].key == "x"));
    template_attachments: normalize {"body": "__absent", "template": {"name": "n",
            "attachments": [{"mediaUrl": "https://x/i.pdf", "filename": "i.pdf", "inline": false}]}} =>
        |m| assert!(matches!(&m.content, Content::Template { attachments, .. }
            if attachments == &vec![Media { file_name: Some("i.pdf".into()), ..media("https://x/i.pdf") }]));

    // fields
    field_id_and_conversation_id: normalize {"id": "m-9", "conversationId": "c-9"} =>
        |m| {
            assert_eq!(m.id, MessageId::Bird("m-9".into()));
            assert_eq!(m.conversation_id, ConversationId::Bird("c-9".into()));
        };
    field_conversation_id_absent_is_empty: normalize {"conversationId": "__absent"} =>
        |m| assert_eq!(m.conversation_id, ConversationId::Bird(Str::default()));
    field_created_at_and_updated_at: normalize {"createdAt": "2024-11-25T14:42:10-05:30", "updatedAt": "2024-11-26T05:12:10.5+09:00"} =>
        |m| {
            assert_eq!(m.timestamp.to_rfc3339_utc(), "2024-11-25T20:12:10Z");
            assert_eq!(m.updated_at.map(|t| t.to_rfc3339_utc()).as_deref(), Some("2024-11-25T20:12:10.500Z"));
        };
    field_sender_id_and_display_name: normalize {"sender": {"id": "p-7", "type": "user", "displayName": "Ana"}} =>
        |m| {
            assert_eq!(m.sender.id.as_deref(), Some("p-7"));
            assert_eq!(m.sender.display_name.as_deref(), Some("Ana"));
            assert_eq!(m.sender.address, None);
        };
    field_sender_empty_display_name_is_absent: normalize {"sender": {"id": "p-7", "type": "user", "displayName": ""}} =>
        |m| assert_eq!(m.sender.display_name, None);
    field_sender_address_prefers_platform_address: normalize {"sender": {"id": "p", "type": "contact",
            "contact": {"identifierValue": "+316", "platformAddress": "whatsapp:+316"}}} =>
        |m| assert_eq!(m.sender.address.as_deref(), Some("whatsapp:+316"));
    field_sender_address_else_identifier_value: normalize {"sender": {"id": "p", "type": "contact",
            "contact": {"identifierKey": "emailaddress", "identifierValue": "jane@example.com"}}} =>
        |m| assert_eq!(m.sender.address.as_deref(), Some("jane@example.com"));
    field_recipients: normalize {"recipients": [
            {"id": "r-1", "type": "to", "identifierValue": "+316", "platformAddress": "+316"},
            {"id": "r-2", "type": "cc", "identifierValue": "f@example.com"},
            {"id": "r-3", "type": "replyTo"}]} =>
        |m| assert_eq!(m.recipients, vec![
            Recipient { id: "r-1".into(), kind: Some("to".into()), address: Some("+316".into()) },
            Recipient { id: "r-2".into(), kind: Some("cc".into()), address: Some("f@example.com".into()) },
            Recipient { id: "r-3".into(), kind: Some("replyTo".into()), address: None },
        ]);
    field_draft: normalize {"draft": true, "draftMeta": {"creatorType": "bot"}} => |m| assert!(m.is_draft);
    field_reply_to: normalize {"replyToMessageId": "m-0"} =>
        |m| assert_eq!(m.reply_to, Some(MessageId::Bird("m-0".into())));
    field_interactions: normalize {"interactions": [
            {"id": "i-1", "type": "read", "createdAt": "2024-11-25T20:06:00Z"},
            {"id": "i-2", "type": "reported-as-spam", "createdAt": "2024-11-25T20:07:00Z"},
            {"id": "i-3", "type": "reaction", "createdAt": "2024-11-25T20:08:00Z",
             "metadata": {"reaction": {"emoji": "👍", "action": "react"}}}]} =>
        |m| {
            let at = |s: &str| Some(Timestamp::parse(s).expect("timestamp"));
            assert_eq!(m.interactions, vec![
                Interaction { kind: "read".into(), at: at("2024-11-25T20:06:00Z"), emoji: None },
                Interaction { kind: "reported-as-spam".into(), at: at("2024-11-25T20:07:00Z"), emoji: None },
                Interaction { kind: "reaction".into(), at: at("2024-11-25T20:08:00Z"), emoji: Some("👍".into()) },
            ]);
            assert_eq!(m.reactions().collect::<Vec<_>>(), ["👍"]);
        };
}
