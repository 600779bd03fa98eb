//! Sending: `POST /messages` and `POST /messages/{message_id}/retry`.
//!
//! The request side is closed (a [`SendContentType`] the API documents, nothing else); the
//! answers keep what they carry beyond the documented fields, like every response type.

use serde::Serialize;

use crate::conversation::MessagingPartner;

/// The `content_type` of a message to send. Closed: these are what `POST /messages`
/// documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SendContentType {
    /// `content` is the text.
    Text,
    /// `content` is the URL of an image (at most 5 MB).
    Image,
    /// `content` is the URL of a video (at most 16 MB).
    Video,
    /// `content` is the URL of an audio file (at most 16 MB).
    Audio,
    /// `content` is the URL of a document (at most 100 MB).
    Document,
}

/// One megabyte as the limits count them: 1 048 576 bytes.
const MB: u64 = 1024 * 1024;

impl SendContentType {
    /// The largest file Partoo takes for this type, in bytes (`None` for text): image
    /// 5 MB, video and audio 16 MB, document 100 MB.
    pub fn max_bytes(self) -> Option<u64> {
        match self {
            SendContentType::Text => None,
            SendContentType::Image => Some(5 * MB),
            SendContentType::Video | SendContentType::Audio => Some(16 * MB),
            SendContentType::Document => Some(100 * MB),
        }
    }

    /// The name Partoo spells it with (`"Text"`, `"Image"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SendContentType::Text => "Text",
            SendContentType::Image => "Image",
            SendContentType::Video => "Video",
            SendContentType::Audio => "Audio",
            SendContentType::Document => "Document",
        }
    }
}

/// The body of `POST /messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SendMessage {
    /// The conversation to send into.
    pub conversation_id: i64,
    /// What `content` is.
    pub content_type: SendContentType,
    /// The text, or the URL of the file.
    pub content: String,
}

/// Why a message cannot be sent as it is, found before any request (see
/// [`SendMessage::check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendRefusal {
    /// The text or URL is empty.
    Empty(&'static str),
    /// The file is larger than Partoo takes for its type.
    TooLarge {
        /// The content type (`Image`, ...).
        kind: &'static str,
        /// The file's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// SMS conversations take text only.
    SmsTakesTextOnly(&'static str),
}

impl std::fmt::Display for SendRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendRefusal::Empty(what) => write!(f, "the {what} to send is empty"),
            SendRefusal::TooLarge { kind, size, limit } => write!(
                f,
                "{kind} of {size} bytes is over Partoo's {limit}-byte limit for it"
            ),
            SendRefusal::SmsTakesTextOnly(kind) => {
                write!(f, "an SMS conversation takes text only, not {kind}")
            }
        }
    }
}

impl std::error::Error for SendRefusal {}

impl SendMessage {
    /// A text message.
    pub fn text(conversation_id: i64, text: impl Into<String>) -> Self {
        SendMessage {
            conversation_id,
            content_type: SendContentType::Text,
            content: text.into(),
        }
    }

    /// A file (image, video, audio or document) by its URL.
    pub fn media(conversation_id: i64, kind: SendContentType, url: impl Into<String>) -> Self {
        SendMessage {
            conversation_id,
            content_type: kind,
            content: url.into(),
        }
    }

    /// Checks the documented limits: content not empty, the file's size (when known) within
    /// its type's limit, text only into an SMS conversation (when its partner is known).
    pub fn check(
        &self,
        size: Option<u64>,
        partner: Option<&MessagingPartner>,
    ) -> Result<(), SendRefusal> {
        let kind = self.content_type;
        if self.content.trim().is_empty() {
            return Err(SendRefusal::Empty(match kind {
                SendContentType::Text => "text",
                _ => "URL",
            }));
        }
        if kind != SendContentType::Text && matches!(partner, Some(MessagingPartner::Sms)) {
            return Err(SendRefusal::SmsTakesTextOnly(kind.as_str()));
        }
        if let (Some(size), Some(limit)) = (size, kind.max_bytes())
            && size > limit
        {
            return Err(SendRefusal::TooLarge {
                kind: kind.as_str(),
                size,
                limit,
            });
        }
        Ok(())
    }
}

inbox_wire::wire_struct! {
    /// The answer of `POST /messages`: `{"status": "success", "message_id": N}`. A 200
    /// means Partoo created the message, not that it was delivered (a `message_updated`
    /// webhook with status `Success` confirms that).
    #[derive(Debug, Clone, PartialEq)]
    pub struct SendResponse {
        /// `"success"`.
        status: opt String = "status",
        /// The new message's id.
        message_id: req i64 = "message_id",
    }
}

inbox_wire::wire_struct! {
    /// The answer of `POST /messages/{message_id}/retry`: `{"status": "success"}`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct RetryResponse {
        /// `"success"`.
        status: opt String = "status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_limits_are_checked() {
        let image = SendMessage::media(1, SendContentType::Image, "https://x.example/a.jpg");
        assert_eq!(image.check(Some(5 * MB), None), Ok(()));
        assert_eq!(
            image.check(Some(5 * MB + 1), None),
            Err(SendRefusal::TooLarge {
                kind: "Image",
                size: 5 * MB + 1,
                limit: 5 * MB
            })
        );
        let video = SendMessage::media(1, SendContentType::Video, "https://x.example/a.mp4");
        assert!(video.check(Some(16 * MB), None).is_ok());
        assert!(video.check(Some(16 * MB + 1), None).is_err());
        let doc = SendMessage::media(1, SendContentType::Document, "https://x.example/a.pdf");
        assert!(doc.check(Some(100 * MB), None).is_ok());
        assert!(doc.check(Some(100 * MB + 1), None).is_err());
        assert_eq!(
            image.check(None, Some(&MessagingPartner::Sms)),
            Err(SendRefusal::SmsTakesTextOnly("Image"))
        );
        let text = SendMessage::text(1, "hello");
        assert!(text.check(None, Some(&MessagingPartner::Sms)).is_ok());
        assert_eq!(
            SendMessage::text(1, "  ").check(None, None),
            Err(SendRefusal::Empty("text"))
        );
        let body = serde_json::to_string(&image).unwrap();
        assert_eq!(
            body,
            r#"{"conversation_id":1,"content_type":"Image","content":"https://x.example/a.jpg"}"#
        );
    }

    #[test]
    fn answers_decode_and_keep_the_rest() {
        let sent: SendResponse =
            inbox_wire::from_slice(br#"{"status":"success","message_id":42,"x":1}"#).unwrap();
        assert_eq!(sent.message_id, 42);
        assert_eq!(sent.status.as_deref(), Some("success"));
        assert!(sent.extra.contains_key("x"));
        assert!(inbox_wire::from_slice::<SendResponse>(br#"{"status":"success"}"#).is_err());
    }
}
