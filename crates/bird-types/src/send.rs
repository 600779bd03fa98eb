//! Sending: the body of `POST /workspaces/{workspaceId}/conversations/{conversationId}/messages`.
//!
//! Request types are closed: a [`SendBody`] is one of the kinds this library sends (text,
//! image, file), a [`SendParticipantType`] one of the three Bird documents. The answer is the
//! created [`Message`](crate::Message), decoded as listings decode it.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

/// Who sends the message, as Bird names the participant (`participantType`). Closed, unlike
/// the [`ParticipantType`](crate::ParticipantType) of a message read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SendParticipantType {
    /// The access key's own identity.
    AccessKey,
    /// A contact.
    Contact,
    /// A flow.
    Flow,
}

/// An image to send: its URL and an optional text alternative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendImage {
    /// Where Bird fetches it.
    pub media_url: String,
    /// A text alternative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
}

/// A file to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendFile {
    /// Where Bird fetches it.
    pub media_url: String,
    /// Its MIME type, e.g. `application/pdf`.
    pub content_type: String,
    /// The name shown.
    pub filename: String,
}

/// The content of a message to send, encoded by its `type` as Bird's bodies are:
/// `{"type": "text", "text": {"text": "..."}}`, `{"type": "image", "image": {"images":
/// [...]}}`, `{"type": "file", "file": {"files": [...]}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendBody {
    /// Text.
    Text(String),
    /// One or more images.
    Image(Vec<SendImage>),
    /// One or more files.
    File(Vec<SendFile>),
}

impl SendBody {
    /// The body's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            SendBody::Text(_) => "text",
            SendBody::Image(_) => "image",
            SendBody::File(_) => "file",
        }
    }
}

impl Serialize for SendBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Text<'a> {
            text: &'a str,
        }
        #[derive(Serialize)]
        struct Images<'a> {
            images: &'a [SendImage],
        }
        #[derive(Serialize)]
        struct Files<'a> {
            files: &'a [SendFile],
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", self.kind())?;
        match self {
            SendBody::Text(text) => map.serialize_entry("text", &Text { text })?,
            SendBody::Image(images) => map.serialize_entry("image", &Images { images })?,
            SendBody::File(files) => map.serialize_entry("file", &Files { files })?,
        }
        map.end()
    }
}

/// One parameter of a template to send: `{"type": "string", "key", "value"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendParameter {
    /// The parameter's name in the template.
    pub key: String,
    /// Its value.
    pub value: String,
}

impl Serialize for SendParameter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("type", "string")?;
        map.serialize_entry("key", &self.key)?;
        map.serialize_entry("value", &self.value)?;
        map.end()
    }
}

/// A template to send (WhatsApp outside the 24-hour window, for instance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendTemplate {
    /// The template project, when templates are addressed by project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The project's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The template's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its locale, e.g. `en` or `pt-BR`.
    pub locale: String,
    /// Its parameters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<SendParameter>,
}

/// The body of a send: a [`SendBody`] or a [`SendTemplate`], who sends it, what it answers,
/// and a `reference` of the caller's own that Bird keeps on the message (this library puts
/// the outbox id there, to find the message again after a send whose answer was lost).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    /// The content (with no template).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<SendBody>,
    /// The template (with no body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<SendTemplate>,
    /// The sending participant's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_id: Option<String>,
    /// The sending participant's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub participant_type: Option<SendParticipantType>,
    /// The message this one answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to_message_id: Option<String>,
    /// The caller's own reference, kept on the message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl SendMessage {
    /// A message with this body.
    pub fn body(body: SendBody) -> Self {
        SendMessage {
            body: Some(body),
            template: None,
            participant_id: None,
            participant_type: None,
            reply_to_message_id: None,
            reference: None,
        }
    }

    /// A text message.
    pub fn text(text: impl Into<String>) -> Self {
        SendMessage::body(SendBody::Text(text.into()))
    }

    /// A template message.
    pub fn template(template: SendTemplate) -> Self {
        SendMessage {
            body: None,
            template: Some(template),
            participant_id: None,
            participant_type: None,
            reply_to_message_id: None,
            reference: None,
        }
    }

    /// With the caller's reference.
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// As an answer to `message_id`.
    pub fn reply_to(mut self, message_id: impl Into<String>) -> Self {
        self.reply_to_message_id = Some(message_id.into());
        self
    }

    /// Checks what Bird would refuse with a 422, before sending: exactly one of a body and a
    /// template, no empty text, every media URL, file name and type given, a template's
    /// locale. The error names the JSON path of the first problem, as Bird's `details` do.
    pub fn check(&self) -> Result<(), (String, &'static str)> {
        let problem = |path: &str, what| Err((path.to_owned(), what));
        match (&self.body, &self.template) {
            (None, None) => return problem(".body", "a body or a template is required"),
            (Some(_), Some(_)) => {
                return problem(".template", "give a body or a template, not both");
            }
            _ => {}
        }
        match &self.body {
            Some(SendBody::Text(text)) if text.trim().is_empty() => {
                return problem(".body.text.text", "is required");
            }
            Some(SendBody::Image(images)) => {
                if images.is_empty() {
                    return problem(".body.image.images", "at least one image is required");
                }
                for (i, image) in images.iter().enumerate() {
                    if image.media_url.trim().is_empty() {
                        return Err((format!(".body.image.images[{i}].mediaUrl"), "is required"));
                    }
                }
            }
            Some(SendBody::File(files)) => {
                if files.is_empty() {
                    return problem(".body.file.files", "at least one file is required");
                }
                for (i, file) in files.iter().enumerate() {
                    for (field, value) in [
                        ("mediaUrl", &file.media_url),
                        ("contentType", &file.content_type),
                        ("filename", &file.filename),
                    ] {
                        if value.trim().is_empty() {
                            return Err((format!(".body.file.files[{i}].{field}"), "is required"));
                        }
                    }
                }
            }
            _ => {}
        }
        if let Some(template) = &self.template
            && template.locale.trim().is_empty()
        {
            return problem(".template.locale", "is required");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_encode_by_their_type() {
        let text = SendMessage::text("Hello").reference("ref-1");
        assert_eq!(
            serde_json::to_string(&text).unwrap(),
            r#"{"body":{"type":"text","text":{"text":"Hello"}},"reference":"ref-1"}"#
        );
        let image = SendMessage::body(SendBody::Image(vec![SendImage {
            media_url: "https://x.example/a.png".into(),
            alt_text: None,
        }]));
        assert_eq!(
            serde_json::to_string(&image).unwrap(),
            r#"{"body":{"type":"image","image":{"images":[{"mediaUrl":"https://x.example/a.png"}]}}}"#
        );
        let file = SendMessage::body(SendBody::File(vec![SendFile {
            media_url: "https://x.example/a.pdf".into(),
            content_type: "application/pdf".into(),
            filename: "a.pdf".into(),
        }]));
        assert_eq!(
            serde_json::to_string(&file).unwrap(),
            r#"{"body":{"type":"file","file":{"files":[{"mediaUrl":"https://x.example/a.pdf","contentType":"application/pdf","filename":"a.pdf"}]}}}"#
        );
        let mut template = SendMessage::template(SendTemplate {
            project_id: None,
            version: None,
            name: Some("order_ready".into()),
            locale: "en".into(),
            parameters: vec![SendParameter {
                key: "order".into(),
                value: "42".into(),
            }],
        });
        template.participant_type = Some(SendParticipantType::AccessKey);
        assert_eq!(
            serde_json::to_string(&template).unwrap(),
            r#"{"template":{"name":"order_ready","locale":"en","parameters":[{"type":"string","key":"order","value":"42"}]},"participantType":"accessKey"}"#
        );
    }

    #[test]
    fn what_bird_refuses_is_refused_first_with_its_path() {
        assert!(SendMessage::text("hi").check().is_ok());
        assert_eq!(
            SendMessage::text(" ").check(),
            Err((".body.text.text".to_owned(), "is required"))
        );
        let file = SendMessage::body(SendBody::File(vec![SendFile {
            media_url: "https://x.example/a.pdf".into(),
            content_type: String::new(),
            filename: "a.pdf".into(),
        }]));
        assert_eq!(
            file.check().unwrap_err().0,
            ".body.file.files[0].contentType"
        );
        let mut both = SendMessage::text("hi");
        both.template = Some(SendTemplate {
            project_id: None,
            version: None,
            name: None,
            locale: "en".into(),
            parameters: vec![],
        });
        assert_eq!(both.check().unwrap_err().0, ".template");
    }
}
