//! Bird → unified model.
//!
//! | Bird `sender.type` | direction | role | `is_automated` |
//! |---|---|---|---|
//! | `contact` | inbound | customer | no |
//! | `user` | outbound | business user | no |
//! | `agent` | outbound | agent | no |
//! | `bot` | outbound | automation | yes |
//! | `flow` | outbound | automation | yes |
//! | `collaborationAutomation` | outbound | automation | yes |
//! | `connector` | outbound | automation | yes |
//! | `accessKey` | outbound | automation | yes |
//! | `channel` | system | system | no |
//! | anything else | system | unknown (raw value) | no |
//!
//! | Bird `status` | status |
//! |---|---|
//! | `accepted` | pending |
//! | `processing` | pending |
//! | `sent` | sent |
//! | `delivered` | delivered |
//! | `sending_failed` | failed, with the message's `reason` |
//! | `delivery_failed` | failed, with the message's `reason` |
//! | `deleted` | deleted (and `is_deleted`) |
//! | `read` (not documented, observed) | read |
//! | anything else (e.g. `rejected`) | unknown (raw value; a `reason` stays in `origin`) |
//!
//! | Bird body `type` | content kind |
//! |---|---|
//! | `text` | text (attachments, actions; a text with actions stays text) |
//! | `html` | html (text, html, attachments, actions) |
//! | `image` | image (images, caption from its `text`, actions) |
//! | `file` | file (files with name and MIME type, caption from its `text`, actions) |
//! | `gif` | gif (caption from its `text`, actions) |
//! | `location` | location (coordinates as `f64`, label, address) |
//! | `carousel` | interactive `carousel` (text, one item per card) |
//! | `list` | interactive `list` (title, text, items, actions) |
//! | `section` | interactive `section`: nested bodies flattened into items, see below |
//! | `authentication` | interactive `authentication` (the one-time password's actions) |
//! | `action` | interactive `permission_request`: one action of kind `permission_request` labelled with the resource asked for (`call`) |
//! | `template` | template (the message's `template`, else the body's own `template` object) |
//! | any kind with a `template` beside it | the body's kind (Bird's rendering); the template stays in `origin` |
//! | no body (absent or `null`), with a `template` | template (name, locale, parameters, attachments) |
//! | no body, no template | unknown (no declared kind, raw `null`) |
//! | an unknown kind, or content not fitting its kind | unknown (declared kind, the whole body as raw JSON) |
//!
//! | Bird action `type` | action `kind` | label | url / payload |
//! |---|---|---|---|
//! | `link` | `link` | its text | its URL |
//! | `reply` | `reply` | its text | |
//! | `locationRequest` | `location_request` | its text, when given | |
//! | `buy` | `buy` | its text (amount and currency stay in `origin`) | |
//! | `postback` | `postback` | its text | its payload |
//! | anything else, or a misfit | the raw `type` | its `text`, when it has one | its `url` and `payload`, when it has them |
//!
//! | Bird template | template content |
//! |---|---|
//! | `name`, `locale` | name, locale |
//! | `parameters[]` | `{"key", "kind": its type as sent, "value": its JSON as sent}` |
//! | `variables` (deprecated), when `parameters` is absent or `null` | `{"key", "kind": "string", "value"}` per variable |
//! | `attachments[]` | attachments (URL and file name) |
//!
//! A `section` lists bodies; each becomes items: a text one item with its text and actions,
//! an image or a file one item per media (the first with the caption and actions), a GIF one
//! item, a carousel or list one item for its title, text and actions (when any) followed by
//! its items, a nested section its own items; any other body one item whose text is its
//! [`preview`](crate::preview).
//!
//! | Bird field | unified field |
//! |---|---|
//! | `id` | `id` |
//! | `conversationId` | `conversation_id` (`""` when Bird leaves it out: the caller knows it from the request) |
//! | `createdAt` | `timestamp` |
//! | `updatedAt` | `updated_at` |
//! | `sender.id`, `sender.displayName` | `sender.id`, `sender.display_name` |
//! | `sender.contact.platformAddress`, else `.identifierValue` | `sender.address` |
//! | `recipients[]`: `id`, `type`, `platformAddress` else `identifierValue` | `recipients[]`: `id`, `kind`, `address` |
//! | `draft` | `is_draft` |
//! | `replyToMessageId` | `reply_to` |
//! | `interactions[]`: `type`, `createdAt`, `metadata.reaction.emoji` | `interactions[]`: `kind` (as sent), `at`, `emoji` |
//!
//! Empty strings (Bird sends `""` for many missing values) count as absent in optional fields.
//!
//! ```
//! use inbox_normalize::{Content, Direction, Message, Role, Status};
//!
//! let page = bird_types::MessagesPage::from_slice(br#"{"results": [{
//!     "id": "m1", "conversationId": "c1", "draft": false, "status": "sending_failed",
//!     "reason": "Not on WhatsApp", "source": "conversations",
//!     "sender": {"id": "k1", "type": "accessKey", "displayName": "My key"},
//!     "body": {"type": "text", "text": {"text": "Your order is ready"}},
//!     "createdAt": "2024-11-25T20:12:10.514+01:00", "updatedAt": "2024-11-25T20:12:35Z"
//! }]}"#).unwrap();
//! let message = Message::from(page.results[0].clone());
//! assert_eq!((message.direction, &message.sender.role), (Direction::Outbound, &Role::Automation));
//! assert!(message.is_automated);
//! assert_eq!(message.status, Status::Failed { reason: Some("Not on WhatsApp".into()) });
//! assert!(matches!(&message.content, Content::Text { text, .. } if text == "Your order is ready"));
//! let json = serde_json::to_value(&message).unwrap();
//! assert_eq!(json["timestamp"], "2024-11-25T19:12:10.514Z");
//! assert_eq!(json["status_reason"], "Not on WhatsApp");
//! ```

use bird_types as wire;
use serde_json::Value;

use crate::model::{
    Action, Content, ConversationId, Direction, Interaction, InteractiveKind, Item, Media, Message,
    MessageId, Origin, Provider, Recipient, Role, Sender, Status, Str, TemplateParameter,
};
use crate::preview::preview;

impl From<wire::Message> for Message {
    fn from(m: wire::Message) -> Self {
        Message::from(Box::new(m))
    }
}

/// A page's messages come boxed ([`bird_types::MessagesPage::results`]): the box becomes the
/// `origin` as it is, without a copy.
impl From<Box<wire::Message>> for Message {
    fn from(m: Box<wire::Message>) -> Self {
        let (direction, role) = participant(&m.sender.participant_type);
        let automated = role == Role::Automation;
        let status = status(&m.status, m.reason.as_ref());
        let content = content(&m);
        let sender = Sender {
            role,
            id: non_empty(Some(&m.sender.id)),
            display_name: non_empty(m.sender.display_name.as_ref()),
            address: m.sender.contact.as_ref().and_then(|c| {
                non_empty(c.platform_address.as_ref())
                    .or_else(|| non_empty(c.identifier_value.as_ref()))
            }),
        };
        let recipients = m
            .recipients
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(recipient)
            .collect();
        let interactions = m.interactions().iter().map(interaction).collect();
        Message {
            provider: Provider::Bird,
            id: MessageId::Bird(m.id.clone()),
            conversation_id: ConversationId::Bird(m.conversation_id.clone().unwrap_or_default()),
            timestamp: m.created_at,
            updated_at: Some(m.updated_at),
            direction,
            sender,
            recipients,
            is_deleted: status == Status::Deleted,
            status,
            text: preview(&content),
            content,
            is_automated: automated,
            is_draft: m.draft,
            reply_to: non_empty(m.reply_to_message_id.as_ref()).map(MessageId::Bird),
            interactions,
            origin: Origin::Bird(m),
        }
    }
}

fn non_empty(s: Option<&Str>) -> Option<Str> {
    s.filter(|s| !s.is_empty()).cloned()
}

fn participant(kind: &wire::ParticipantType) -> (Direction, Role) {
    use wire::ParticipantType as P;
    match kind {
        P::Contact => (Direction::Inbound, Role::Customer),
        P::User => (Direction::Outbound, Role::BusinessUser),
        P::Agent => (Direction::Outbound, Role::Agent),
        P::Bot | P::Flow | P::CollaborationAutomation | P::Connector | P::AccessKey => {
            (Direction::Outbound, Role::Automation)
        }
        P::Channel => (Direction::System, Role::System),
        other => (Direction::System, Role::Unknown(other.as_str().into())),
    }
}

fn status(status: &wire::MessageStatus, reason: Option<&Str>) -> Status {
    use wire::MessageStatus as S;
    match status {
        S::Accepted | S::Processing => Status::Pending,
        S::Sent => Status::Sent,
        S::Delivered => Status::Delivered,
        S::SendingFailed | S::DeliveryFailed => Status::Failed {
            reason: reason.cloned(),
        },
        S::Deleted => Status::Deleted,
        // Matched by spelling, so this keeps working if bird-types documents `read` later.
        other if other.as_str() == "read" => Status::Read,
        other => Status::Unknown(other.as_str().into()),
    }
}

fn recipient(r: &wire::Recipient) -> Recipient {
    Recipient {
        id: r.id.clone(),
        kind: Some(r.recipient_type.as_str().into()),
        address: non_empty(r.platform_address.as_ref())
            .or_else(|| non_empty(r.identifier_value.as_ref())),
    }
}

fn interaction(i: &wire::Interaction) -> Interaction {
    Interaction {
        kind: i.interaction_type.as_str().into(),
        at: Some(i.created_at),
        emoji: i
            .metadata
            .as_ref()
            .and_then(|m| m.reaction.as_ref())
            .and_then(|r| non_empty(r.emoji.as_ref())),
    }
}

/// The content: the body, else the template (see the module's table).
fn content(m: &wire::Message) -> Content {
    let body = m.body();
    match (body, m.template()) {
        (Some(body), _) if body.kind() != wire::BodyType::Template => body_content(body),
        (_, Some(template)) => template_content(template),
        (Some(body), None) => match body_template(body) {
            Some(template) => template_content(&template),
            None => unknown(body),
        },
        (None, None) => Content::Unknown {
            declared: None,
            raw: Value::Null,
        },
    }
}

/// The `template` object of a body of type `template` (a kind without a content schema,
/// so the object sits in the body's `extra`), when it reads as a template.
fn body_template(body: &wire::Body) -> Option<wire::Template> {
    let raw = body.extra.get("template")?;
    // Through text: template parameters are decoded from raw JSON, which a `Value` cannot lend.
    serde_json::from_str(&raw.to_string()).ok()
}

fn unknown(body: &wire::Body) -> Content {
    Content::Unknown {
        declared: Some(body.kind().as_str().into()),
        raw: serde_json::to_value(body).unwrap_or_default(),
    }
}

fn opt_vec<T>(v: &Option<Option<Vec<T>>>) -> &[T] {
    v.as_ref().and_then(Option::as_deref).unwrap_or_default()
}

fn actions(v: &Option<Option<Vec<wire::Action>>>) -> Vec<Action> {
    opt_vec(v).iter().map(action).collect()
}

fn body_content(body: &wire::Body) -> Content {
    use wire::BodyContent as B;
    match &body.content {
        B::Text(b) => Content::Text {
            text: b.text.clone(),
            attachments: opt_vec(&b.attachments)
                .iter()
                .map(|a| Media {
                    url: a.media_url.clone(),
                    file_name: Some(a.filename.clone()),
                    ..Media::default()
                })
                .collect(),
            actions: actions(&b.actions),
        },
        B::Html(b) => Content::Html {
            html: b.html.clone(),
            text: b.text.clone(),
            attachments: opt_vec(&b.attachments)
                .iter()
                .map(html_attachment)
                .collect(),
            actions: actions(&b.actions),
        },
        B::Image(b) => Content::Image {
            images: b
                .images
                .iter()
                .map(|i| Media {
                    url: i.media_url.clone(),
                    alt_text: i.alt_text.clone(),
                    ..Media::default()
                })
                .collect(),
            caption: b.text.clone(),
            actions: actions(&b.actions),
        },
        B::File(b) => Content::File {
            files: b
                .files
                .iter()
                .map(|f| Media {
                    url: f.media_url.clone(),
                    file_name: f.filename.clone(),
                    mime_type: Some(f.content_type.clone()),
                    alt_text: f.alt_text.clone(),
                })
                .collect(),
            caption: b.text.clone(),
            actions: actions(&b.actions),
        },
        B::Gif(b) => Content::Gif {
            media: Media {
                url: b.media_url.clone(),
                alt_text: b.alt_text.clone(),
                ..Media::default()
            },
            caption: b.text.clone(),
            actions: actions(&b.actions),
        },
        B::Location(b) => {
            let place = b.location.as_ref();
            Content::Location {
                latitude: b
                    .coordinates
                    .latitude
                    .as_ref()
                    .and_then(serde_json::Number::as_f64),
                longitude: b
                    .coordinates
                    .longitude
                    .as_ref()
                    .and_then(serde_json::Number::as_f64),
                label: place.and_then(|p| p.label.clone()),
                address: place.and_then(|p| p.address.clone()),
            }
        }
        B::Carousel(b) => Content::Interactive {
            interactive: InteractiveKind::Carousel,
            title: None,
            text: b.text.clone(),
            items: b
                .items
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(item)
                .collect(),
            actions: Vec::new(),
        },
        B::List(b) => Content::Interactive {
            interactive: InteractiveKind::List,
            title: b.title.clone(),
            text: Some(b.text.clone()),
            items: opt_vec(&b.items).iter().map(item).collect(),
            actions: actions(&b.actions),
        },
        B::Section(b) => {
            let mut items = Vec::new();
            for nested in b.items.iter().flatten() {
                flatten_into(body_content(nested), &mut items);
            }
            Content::Interactive {
                interactive: InteractiveKind::Section,
                title: None,
                text: None,
                items,
                actions: Vec::new(),
            }
        }
        B::Authentication(b) => Content::Interactive {
            interactive: InteractiveKind::Authentication,
            title: None,
            text: None,
            items: Vec::new(),
            actions: b
                .otp
                .as_ref()
                .map(|otp| actions(&otp.actions))
                .unwrap_or_default(),
        },
        B::Action(b) => Content::Interactive {
            interactive: InteractiveKind::PermissionRequest,
            title: None,
            text: None,
            items: Vec::new(),
            actions: b
                .permission_request
                .iter()
                .map(|p| Action {
                    kind: Str::from_static("permission_request"),
                    label: Some(p.resource.as_str().into()),
                    url: None,
                    payload: None,
                })
                .collect(),
        },
        // Unknown kinds, `template` bodies, misfits, and kinds added to bird-types later.
        _ => unknown(body),
    }
}

/// An `html` attachment: by URL, or inline (then `cid:<contentId>`, the way the HTML refers
/// to it; the inline content itself stays in `origin`).
fn html_attachment(a: &wire::HtmlAttachment) -> Media {
    let url = match (&a.media_url, &a.content_id) {
        (Some(url), _) => url.clone(),
        (None, Some(id)) => format!("cid:{id}").into(),
        (None, None) => Str::default(),
    };
    Media {
        url,
        file_name: Some(a.filename.clone()),
        mime_type: a.content_type.clone(),
        alt_text: None,
    }
}

/// A carousel card or a list item.
fn item(i: &wire::Item) -> Item {
    let media = i
        .media_url
        .as_ref()
        .and_then(Option::as_ref)
        .map(|url| Media {
            url: url.clone(),
            alt_text: i.alt_text.clone(),
            ..Media::default()
        });
    Item {
        title: i.title.clone(),
        text: None,
        media,
        actions: actions(&i.actions),
    }
}

/// Appends the items a body nested in a section stands for (see the module doc).
fn flatten_into(content: Content, out: &mut Vec<Item>) {
    match content {
        Content::Text {
            text,
            attachments,
            actions,
        } => {
            out.push(Item {
                text: Some(text),
                actions,
                ..Item::default()
            });
            media_items(attachments, None, Vec::new(), out);
        }
        Content::Image {
            images,
            caption,
            actions,
        } => media_items(images, caption, actions, out),
        Content::File {
            files,
            caption,
            actions,
        } => media_items(files, caption, actions, out),
        Content::Gif {
            media,
            caption,
            actions,
        } => {
            out.push(Item {
                title: None,
                text: caption,
                media: Some(media),
                actions,
            });
        }
        Content::Interactive {
            title,
            text,
            items,
            actions,
            ..
        } => {
            if title.is_some() || text.is_some() || !actions.is_empty() {
                out.push(Item {
                    title,
                    text,
                    media: None,
                    actions,
                });
            }
            out.extend(items);
        }
        other => out.push(Item {
            text: Some(preview(&other)),
            ..Item::default()
        }),
    }
}

/// One item per media, the first with the caption and actions (one item for them alone
/// when there is no media).
fn media_items(
    media: Vec<Media>,
    mut caption: Option<Str>,
    mut actions: Vec<Action>,
    out: &mut Vec<Item>,
) {
    if media.is_empty() {
        if caption.is_some() || !actions.is_empty() {
            out.push(Item {
                text: caption,
                actions,
                ..Item::default()
            });
        }
        return;
    }
    for m in media {
        out.push(Item {
            title: None,
            text: caption.take(),
            media: Some(m),
            actions: std::mem::take(&mut actions),
        });
    }
}

fn action(a: &wire::Action) -> Action {
    use wire::ActionContent as A;
    let (kind, label, url, payload) = match &a.content {
        A::Link(l) => ("link", Some(l.text.clone()), Some(l.url.clone()), None),
        A::Reply(r) => ("reply", Some(r.text.clone()), None, None),
        A::LocationRequest(l) => {
            let label = l
                .as_ref()
                .and_then(Option::as_ref)
                .and_then(|l| l.text.clone());
            ("location_request", label, None, None)
        }
        A::Buy(b) => ("buy", Some(b.text.clone()), None, None),
        A::Postback(p) => ("postback", Some(p.text.clone()), None, p.payload.clone()),
        A::Untyped(u) => {
            let loose = u
                .content
                .as_ref()
                .and_then(|raw| serde_json::from_str::<LooseAction>(raw.get()).ok())
                .unwrap_or_default();
            return Action {
                kind: u.kind.as_str().into(),
                label: loose.text,
                url: loose.url,
                payload: loose.payload,
            };
        }
        // A kind added to bird-types later: its kind, nothing more (it stays in `origin`).
        _ => {
            return Action {
                kind: a.kind().as_str().into(),
                label: None,
                url: None,
                payload: None,
            };
        }
    };
    Action {
        kind: Str::from_static(kind),
        label,
        url,
        payload,
    }
}

/// What can be read from an action this crate cannot type: its text, URL and payload when
/// they are strings.
#[derive(Default, serde::Deserialize)]
struct LooseAction {
    #[serde(default, deserialize_with = "string_or_none")]
    text: Option<Str>,
    #[serde(default, deserialize_with = "string_or_none")]
    url: Option<Str>,
    #[serde(default, deserialize_with = "string_or_none")]
    payload: Option<Str>,
}

fn string_or_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Str>, D::Error> {
    use serde::Deserialize;
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s.into()),
        _ => None,
    })
}

fn template_content(t: &wire::Template) -> Content {
    let parameters = match t.parameters.as_ref().and_then(Option::as_ref) {
        Some(parameters) => parameters.iter().map(parameter).collect(),
        None => t
            .variables
            .as_ref()
            .and_then(Option::as_ref)
            .into_iter()
            .flatten()
            .map(|(key, value)| TemplateParameter {
                key: key.into(),
                kind: Str::from_static("string"),
                value: Value::String(value.clone()),
            })
            .collect(),
    };
    Content::Template {
        name: t.name.clone(),
        locale: t.locale.clone(),
        parameters,
        attachments: opt_vec(&t.attachments)
            .iter()
            .map(|a| Media {
                url: a.media_url.clone(),
                file_name: Some(a.filename.clone()),
                ..Media::default()
            })
            .collect(),
    }
}

fn parameter(p: &wire::TemplateParameter) -> TemplateParameter {
    use wire::ParameterValue as V;
    let value = match &p.value {
        V::String(s) => Value::String(s.to_string()),
        V::Number(n) => Value::Number(n.clone()),
        V::Boolean(b) => Value::Bool(*b),
        V::Object(o) => Value::Object(o.clone()),
        V::Untyped(u) => u
            .content
            .as_ref()
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .unwrap_or(Value::Null),
        // Structured kinds: the value as Bird sent it (encoding the parameter writes it back).
        _ => match serde_json::to_value(p) {
            Ok(Value::Object(mut map)) => map.remove("value").unwrap_or(Value::Null),
            _ => Value::Null,
        },
    };
    TemplateParameter {
        key: p.key.clone(),
        kind: p.kind().as_str().into(),
        value,
    }
}

#[cfg(test)]
mod tests;
