//! Bird's error body.

use std::fmt;
use std::fmt::Write as _;

use inbox_wire::{DecodeError, Extra};

inbox_wire::wire_struct! {
    /// The body of an error response (403, 404, 409, 422, ...):
    /// `{"code": "NotFound", "message": "...", "details": {...}}`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ErrorBody {
        /// A code that identifies the error, e.g. `NotFound` or `InvalidPayload`.
        code: req String = "code",
        /// A human-readable message.
        message: req String = "message",
        /// Free-form details, e.g. `{".receiver.contacts[0]": ["..."]}` for invalid fields.
        details: opt Extra = "details",
    }
}

/// The most characters [`ErrorBody::summary`] keeps of the details.
const DETAILS_MAX: usize = 200;

impl ErrorBody {
    /// Decodes an error response body.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        inbox_wire::from_slice(bytes)
    }

    /// The fields a 422 names in its `details`: each JSON path (e.g.
    /// `.receiver.contacts[0]`) with its messages (a message sent as a string, or an array
    /// of strings; anything else is kept as its JSON text). Empty when there are none.
    pub fn invalid_fields(&self) -> Vec<(String, Vec<String>)> {
        let Some(details) = &self.details else {
            return Vec::new();
        };
        details
            .iter()
            .map(|(path, value)| {
                let messages = match value {
                    serde_json::Value::String(s) => vec![s.clone()],
                    serde_json::Value::Array(items) => items
                        .iter()
                        .map(|item| match item {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect(),
                    other => vec![other.to_string()],
                };
                (path.clone(), messages)
            })
            .collect()
    }

    /// One line for logs: `code: message`, then the details as compact JSON (cut after 200
    /// characters), with line breaks replaced by spaces.
    pub fn summary(&self) -> String {
        let mut line = format!("{}: {}", self.code, self.message);
        if let Some(details) = self.details.as_ref().filter(|d| !d.is_empty()) {
            let json = serde_json::Value::Object(details.clone()).to_string();
            let mut shown: String = json.chars().take(DETAILS_MAX).collect();
            if json.chars().count() > DETAILS_MAX {
                shown.push('…');
            }
            let _ = write!(line, " {shown}");
        }
        line.replace(['\r', '\n'], " ")
    }
}

impl fmt::Display for ErrorBody {
    /// The one-line [`ErrorBody::summary`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}
