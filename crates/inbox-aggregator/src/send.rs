//! Sending: what to send ([`Draft`]), what a send gives back ([`Sent`]), and how it fails
//! ([`SendError`]), the same for both providers.
//!
//! A send is not blindly retried. [`crate::Inbox::send`] tries again only what cannot have
//! gone out ([`SendError::NotSent`]: a 429, a 5xx, no connection); a send that may have
//! gone out ([`SendError::Uncertain`]: a timeout or a connection lost after the request was
//! sent) is returned as such, and [`crate::Inbox::find_sent`] looks for it at the provider
//! before anything sends it again (the store's outbox does both).

use std::fmt;
use std::time::Duration;

use inbox_http::{Effect, ErrorClass};
use inbox_normalize::{ConversationId, Message, Timestamp};
use serde::{Deserialize, Serialize};

/// A file to send, by URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaDraft {
    /// Where the provider fetches it.
    pub url: String,
    /// Its size in bytes, when known: checked against the provider's limits before
    /// sending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The name shown (default: the URL's last path segment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Its MIME type (Bird's files need one; default: guessed from the name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
}

impl MediaDraft {
    /// A file at `url`, nothing else known.
    pub fn new(url: impl Into<String>) -> Self {
        MediaDraft {
            url: url.into(),
            size: None,
            file_name: None,
            mime: None,
        }
    }

    /// With its size in bytes.
    pub fn size(mut self, bytes: u64) -> Self {
        self.size = Some(bytes);
        self
    }

    /// The name shown: the one given, else the URL's last path segment (without its query).
    pub fn name(&self) -> String {
        if let Some(name) = &self.file_name {
            return name.clone();
        }
        let path = self.url.split(['?', '#']).next().unwrap_or("");
        path.rsplit('/')
            .find(|s| !s.is_empty())
            .unwrap_or("file")
            .to_owned()
    }

    /// Its MIME type: the one given, else guessed from the name's extension
    /// (`application/octet-stream` when unknown).
    pub fn mime_type(&self) -> String {
        if let Some(mime) = &self.mime {
            return mime.clone();
        }
        let name = self.name().to_ascii_lowercase();
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        match ext {
            "jpg" | "jpeg" => "image/jpeg",
            "png" => "image/png",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "mp4" => "video/mp4",
            "3gp" => "video/3gpp",
            "mp3" => "audio/mpeg",
            "ogg" | "opus" => "audio/ogg",
            "m4a" => "audio/mp4",
            "pdf" => "application/pdf",
            "txt" => "text/plain",
            "csv" => "text/csv",
            "doc" => "application/msword",
            "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "xls" => "application/vnd.ms-excel",
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "zip" => "application/zip",
            _ => "application/octet-stream",
        }
        .to_owned()
    }
}

/// A template to send (Bird).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateDraft {
    /// The template's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its project, when templates are addressed by project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The project's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its locale.
    pub locale: String,
    /// Its parameters: name and value.
    #[serde(default)]
    pub parameters: Vec<(String, String)>,
}

/// What to send into a conversation: the same for both providers. Each provider sends what
/// it can: Partoo takes text and the four media kinds; Bird takes text, images, files (a
/// video, an audio file or a document goes as a file) and templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum Draft {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image(MediaDraft),
    /// A video.
    Video(MediaDraft),
    /// An audio file.
    Audio(MediaDraft),
    /// A document.
    Document(MediaDraft),
    /// A template (Bird).
    Template(TemplateDraft),
}

impl Draft {
    /// A text draft.
    pub fn text(text: impl Into<String>) -> Self {
        Draft::Text { text: text.into() }
    }

    /// Its kind: `text`, `image`, `video`, `audio`, `document` or `template`.
    pub fn kind(&self) -> &'static str {
        match self {
            Draft::Text { .. } => "text",
            Draft::Image(_) => "image",
            Draft::Video(_) => "video",
            Draft::Audio(_) => "audio",
            Draft::Document(_) => "document",
            Draft::Template(_) => "template",
        }
    }

    /// The text, the file's URL, or the template's name: what identifies its content.
    pub fn content(&self) -> &str {
        match self {
            Draft::Text { text } => text,
            Draft::Image(m) | Draft::Video(m) | Draft::Audio(m) | Draft::Document(m) => &m.url,
            Draft::Template(t) => t.name.as_deref().unwrap_or(""),
        }
    }
}

/// A message a provider accepted.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Sent {
    /// The provider's id of the message.
    pub id: String,
    /// The message as the provider answered it (Bird), or as it will be listed, built from
    /// the draft with status pending (Partoo answers an id only). The store keeps it until
    /// a sync or a webhook brings the provider's own.
    pub message: Option<Message>,
}

impl Sent {
    /// A sent message.
    pub fn new(id: impl Into<String>, message: Option<Message>) -> Self {
        Sent {
            id: id.into(),
            message,
        }
    }
}

/// Why the provider refused a send (nothing was sent).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// 401: the key.
    Unauthorized,
    /// 403: the key may not send here.
    Forbidden,
    /// 404: no such conversation (or message, for a retry).
    NotFound,
    /// 409: the conversation is closed (Bird).
    Closed,
    /// 400 or 422: the payload is invalid; the provider's JSON paths, each with its
    /// messages.
    InvalidPayload {
        /// Path and messages.
        fields: Vec<(String, Vec<String>)>,
    },
    /// Another 4xx.
    Other,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Unauthorized => f.write_str("unauthorized"),
            Refusal::Forbidden => f.write_str("forbidden"),
            Refusal::NotFound => f.write_str("not found"),
            Refusal::Closed => f.write_str("the conversation is closed"),
            Refusal::InvalidPayload { fields } if fields.is_empty() => {
                f.write_str("invalid payload")
            }
            Refusal::InvalidPayload { fields } => {
                f.write_str("invalid payload:")?;
                for (path, messages) in fields {
                    write!(f, " `{path}` {}", messages.join("; "))?;
                }
                Ok(())
            }
            Refusal::Other => f.write_str("refused"),
        }
    }
}

/// Why a send failed, by what it means for the message: refused (nothing sent, do not try
/// again as it is), not sent (try again), or uncertain (look before trying again).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// Refused before any request: the draft breaks a documented limit (a file too large,
    /// media into an SMS conversation, an empty text, a payload the provider would refuse),
    /// or this source cannot send this kind of draft.
    #[error("not sent: {0}")]
    Invalid(String),
    /// The provider refused it; nothing was sent.
    #[error("refused by the provider ({status}): {reason}; {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// What the refusal means.
        reason: Refusal,
        /// The provider's message (its error body, as one line).
        message: String,
    },
    /// It did not go out (a 429, a 5xx, no connection), after every retry allowed: sending
    /// it again cannot send it twice.
    #[error("not sent, may be tried again: {message}")]
    NotSent {
        /// How the last attempt failed, for retrying.
        class: ErrorClass,
        /// What happened.
        message: String,
    },
    /// It may have gone out (a timeout or a lost connection after the request was sent, or
    /// an answer that cannot be read): look for it before sending it again.
    #[error("may have been sent: {0}")]
    Uncertain(String),
}

impl SendError {
    /// Whether the message may have been sent.
    pub fn is_uncertain(&self) -> bool {
        matches!(self, SendError::Uncertain(_))
    }

    /// A provider client's error, by what it means for a send. `fields` reads a 400 or
    /// 422 body's invalid fields.
    pub fn from_client<B: fmt::Display>(
        error: inbox_http::Error<B>,
        fields: impl Fn(&B) -> Vec<(String, Vec<String>)>,
    ) -> Self {
        use inbox_http::Error;
        if error.effect() == Effect::Unknown {
            return SendError::Uncertain(error.to_string());
        }
        let class = error.class();
        let message = error.to_string();
        let refused = |status: u16, reason| SendError::Refused {
            status,
            reason,
            message: message.clone(),
        };
        match &error {
            Error::Unauthorized(e) => refused(e.status, Refusal::Unauthorized),
            Error::Forbidden(e) => refused(e.status, Refusal::Forbidden),
            Error::NotFound(e) => refused(e.status, Refusal::NotFound),
            Error::Conflict(e) => refused(e.status, Refusal::Closed),
            Error::Rejected(e) if e.status == 400 || e.status == 422 => refused(
                e.status,
                Refusal::InvalidPayload {
                    fields: e.body.as_deref().map(&fields).unwrap_or_default(),
                },
            ),
            Error::Rejected(e) => refused(e.status, Refusal::Other),
            Error::InvalidArgument(m) => SendError::Invalid(m.clone()),
            _ if class.is_retryable() => SendError::NotSent { class, message },
            _ => SendError::NotSent {
                class: ErrorClass::Permanent,
                message,
            },
        }
    }

    /// A provider client's error on a read made for a send (a conversation read first, a
    /// lookup): nothing was sent by it, so a failure that may pass is
    /// [`SendError::NotSent`] with its retry class, never uncertain.
    pub fn from_read<B: fmt::Display>(
        error: inbox_http::Error<B>,
        fields: impl Fn(&B) -> Vec<(String, Vec<String>)>,
    ) -> Self {
        let class = error.class();
        match SendError::from_client(error, fields) {
            SendError::Uncertain(message) => SendError::NotSent { class, message },
            other => other,
        }
    }

    /// The retry class of a [`SendError::NotSent`]; permanent for the others.
    pub fn class(&self) -> ErrorClass {
        match self {
            SendError::NotSent { class, .. } => *class,
            _ => ErrorClass::Permanent,
        }
    }
}

/// How to look for a message that may have been sent, at the provider (see
/// [`crate::MessageSource::find_sent`]).
#[derive(Debug, Clone, Copy)]
pub struct Lookup<'a> {
    /// The conversation it was sent into.
    pub conversation: &'a ConversationId,
    /// The draft.
    pub draft: &'a Draft,
    /// The reference it was sent with (Bird keeps it on the message).
    pub reference: &'a str,
    /// When the uncertain attempt started: the message, if it exists, is not older (less
    /// a margin for clocks).
    pub since: &'a Timestamp,
    /// Message ids already known to be other sends: never taken for this one.
    pub exclude: &'a [String],
}

/// The margin taken before an attempt's start when looking for its message: the provider's
/// clock may be a little behind ours (a message older than this is another one).
pub const CLOCK_MARGIN: Duration = Duration::from_secs(60);

/// Now, on the wall clock (`None` only for a clock outside years 0 to 9999).
pub(crate) fn now() -> Option<Timestamp> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_unix_nanos(i128::try_from(since.as_nanos()).ok()?)
}

/// `t` less `margin` (`t` itself when that is out of range).
pub(crate) fn before(t: &Timestamp, margin: Duration) -> Timestamp {
    let margin = i128::try_from(margin.as_nanos()).unwrap_or(0);
    Timestamp::from_unix_nanos(t.unix_nanos() - margin).unwrap_or(*t)
}
