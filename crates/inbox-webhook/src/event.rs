//! Verified bodies decoded into the unified model: the same `Message` and
//! `ConversationSummary` a sync stores, so a message that arrives by webhook and by sync is
//! one row.

use inbox_normalize::{ConversationSummary, Message};

/// Which Partoo message event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageEventKind {
    /// `message_created`: the message's first state. Stored only if the message is new, so
    /// one arriving after an update never takes it back.
    Created,
    /// `message_updated`: a later state (a delivery status, a deletion). Upserted.
    Updated,
}

impl MessageEventKind {
    /// The type as Partoo spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageEventKind::Created => "message_created",
            MessageEventKind::Updated => "message_updated",
        }
    }
}

/// A verified Partoo delivery.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PartooEvent {
    /// A message event: the whole message, and the organisation it belongs to (the
    /// account's identity, as a sync names it).
    Message {
        /// Created or updated.
        kind: MessageEventKind,
        /// The organisation (`org_id`).
        org_id: String,
        /// The message, normalized.
        message: Box<Message>,
    },
    /// Any other event type (business, lead, the deprecated new-message event): nothing to
    /// store.
    Other {
        /// The type as sent.
        event_type: String,
    },
}

/// Which Bird conversation event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConversationEventKind {
    /// `conversation.created`.
    Created,
    /// `conversation.updated`.
    Updated,
    /// `conversation.deleted`: kept and marked, as a sync marks a vanished one.
    Deleted,
}

impl ConversationEventKind {
    /// The event as Bird spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            ConversationEventKind::Created => "conversation.created",
            ConversationEventKind::Updated => "conversation.updated",
            ConversationEventKind::Deleted => "conversation.deleted",
        }
    }
}

/// A verified Bird delivery.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BirdEvent {
    /// A conversation event: a trigger to read the conversation's new messages.
    Conversation {
        /// Created, updated or deleted.
        kind: ConversationEventKind,
        /// The conversation, normalized.
        conversation: Box<ConversationSummary>,
    },
    /// Any other delivery (channel events, whose Channels-API message is another schema;
    /// unknown services and events): nothing to store.
    Other {
        /// The event as sent (`whatsapp.inbound`...).
        event: String,
    },
}

/// An authentic body that did not decode: kept raw with where it failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} at `{path}`: {message}", event_type.as_deref().unwrap_or("a webhook"))]
#[non_exhaustive]
pub struct Undecodable {
    /// The event type, when it could be read.
    pub event_type: Option<String>,
    /// The JSON path of the problem.
    pub path: String,
    /// What was wrong there, with line and column.
    pub message: String,
}

/// The value of a top-level string field of a JSON object, when there is one.
fn peek(body: &[u8], field: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get(field)?.as_str().map(str::to_owned)
}

/// Decodes a verified Partoo body.
///
/// ```
/// use inbox_webhook::{decode_partoo, PartooEvent};
///
/// let body = br#"{"type": "business_updated", "payload": {"id": "b1"}}"#;
/// assert!(matches!(decode_partoo(body), Ok(PartooEvent::Other { event_type }) if event_type == "business_updated"));
/// ```
pub fn decode_partoo(body: &[u8]) -> Result<PartooEvent, Undecodable> {
    let event = partoo_types::webhook::Event::from_slice(body).map_err(|e| Undecodable {
        event_type: peek(body, "type"),
        path: e.path,
        message: e.message,
    })?;
    let kind = match &event.event_type {
        partoo_types::webhook::EventType::MessageCreated => MessageEventKind::Created,
        partoo_types::webhook::EventType::MessageUpdated => MessageEventKind::Updated,
        other => {
            return Ok(PartooEvent::Other {
                event_type: other.as_str().to_owned(),
            });
        }
    };
    let event_type = event.event_type.as_str().to_owned();
    let Some(payload) = event.into_message_event() else {
        return Err(Undecodable {
            event_type: Some(event_type),
            path: "payload".into(),
            message: "a message event without a message".into(),
        });
    };
    Ok(PartooEvent::Message {
        kind,
        org_id: payload.org_id.to_string(),
        message: Box::new(Message::from(payload.message)),
    })
}

/// Decodes a verified Bird body.
///
/// ```
/// use inbox_webhook::{decode_bird, BirdEvent};
///
/// let body = br#"{"service": "channels", "event": "whatsapp.inbound", "payload": {"id": "m1"}}"#;
/// assert!(matches!(decode_bird(body), Ok(BirdEvent::Other { event }) if event == "whatsapp.inbound"));
/// ```
pub fn decode_bird(body: &[u8]) -> Result<BirdEvent, Undecodable> {
    use bird_types::webhook::{ConversationEventKind as Wire, Envelope, Payload};
    let envelope = Envelope::from_slice(body).map_err(|e| Undecodable {
        event_type: peek(body, "event"),
        path: e.path,
        message: e.message,
    })?;
    let kind = match envelope.conversation_event() {
        Some((Wire::Created, _)) => ConversationEventKind::Created,
        Some((Wire::Updated, _)) => ConversationEventKind::Updated,
        Some((Wire::Deleted, _)) => ConversationEventKind::Deleted,
        _ => {
            return Ok(BirdEvent::Other {
                event: envelope.event,
            });
        }
    };
    match envelope.payload {
        Payload::Conversation(conversation) => Ok(BirdEvent::Conversation {
            kind,
            conversation: Box::new(ConversationSummary::from(conversation)),
        }),
        _ => Ok(BirdEvent::Other {
            event: envelope.event,
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures")
            .join(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn a_partoo_message_event_is_the_message_a_sync_stores() {
        let body = fixture("partoo/webhooks/message-created.json");
        let PartooEvent::Message {
            kind,
            org_id,
            message,
        } = decode_partoo(&body).unwrap()
        else {
            panic!("a message event");
        };
        assert_eq!((kind, org_id.as_str()), (MessageEventKind::Created, "4242"));
        // The same message as page 1 of the listing: the same unified value, origin included.
        let page = partoo_types::MessagesPage::from_slice(&fixture("partoo/messages-page-1.json"))
            .unwrap();
        let listed = page
            .messages
            .iter()
            .find(|m| m.id == 10006)
            .cloned()
            .map(Message::from)
            .unwrap();
        assert_eq!(*message, listed);
        let updated = decode_partoo(&fixture("partoo/webhooks/message-updated.json")).unwrap();
        assert!(matches!(
            updated,
            PartooEvent::Message {
                kind: MessageEventKind::Updated,
                ..
            }
        ));
        assert!(matches!(
            decode_partoo(&fixture("partoo/webhooks/business-updated.json")).unwrap(),
            PartooEvent::Other { .. }
        ));
    }

    #[test]
    fn bird_conversation_events_are_summaries_and_channel_events_are_left_alone() {
        for (file, want) in [
            ("conversation-created", ConversationEventKind::Created),
            ("conversation-updated", ConversationEventKind::Updated),
            ("conversation-deleted", ConversationEventKind::Deleted),
        ] {
            let body = fixture(&format!("bird/webhooks/{file}.json"));
            let BirdEvent::Conversation { kind, conversation } = decode_bird(&body).unwrap() else {
                panic!("{file}: a conversation event");
            };
            assert_eq!(kind, want);
            assert!(!conversation.id.to_string().is_empty());
        }
        for file in ["whatsapp-inbound", "unknown-service"] {
            let body = fixture(&format!("bird/webhooks/{file}.json"));
            assert!(
                matches!(decode_bird(&body).unwrap(), BirdEvent::Other { .. }),
                "{file}"
            );
        }
    }

    #[test]
    fn an_authentic_body_that_does_not_decode_names_its_type_and_path() {
        let e =
            decode_partoo(br#"{"type": "message_created", "payload": {"message": {"id": "x"}}}"#)
                .unwrap_err();
        assert_eq!(e.event_type.as_deref(), Some("message_created"));
        assert!(e.path.starts_with("payload"), "{e}");
        let e = decode_bird(br#"{"service": "conversations", "event": "conversation.updated", "payload": {"id": 5}}"#)
            .unwrap_err();
        assert_eq!(e.event_type.as_deref(), Some("conversation.updated"));
        assert!(e.path.starts_with("payload.id"), "{e}");
        let e = decode_bird(b"not json").unwrap_err();
        assert_eq!(e.event_type, None);
    }
}
