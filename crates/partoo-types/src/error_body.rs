//! The body of a Partoo error response.

use std::fmt;

use inbox_wire::DecodeError;
use serde_json::Value;

/// The longest [`ErrorBody::summary`], in characters.
const SUMMARY_MAX_CHARS: usize = 300;

inbox_wire::wire_struct! {
    /// The body of an error response (4xx).
    ///
    /// Partoo is not consistent about the key: the spec says `errors`, servers also send
    /// `error`, and the value is an object whose shape depends on the error:
    /// `{"error":{"json":{"per_page":["..."]}}}`, `{"error":{"authentication":"User not
    /// authenticated"}}`, `{"errors":{"json":"..."}}`... Both keys are accepted and kept as
    /// sent, as is anything else in the body.
    ///
    /// ```
    /// use partoo_types::ErrorBody;
    ///
    /// let body = ErrorBody::from_slice(br#"{"error":{"authentication":"User not authenticated"}}"#)?;
    /// assert_eq!(body.summary(), "authentication: User not authenticated");
    /// assert_eq!(body.detail("authentication").and_then(|v| v.as_str()), Some("User not authenticated"));
    /// # Ok::<(), partoo_types::DecodeError>(())
    /// ```
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct ErrorBody {
        /// The detail under `error`, as sent.
        error: opt Value = "error",
        /// The detail under `errors`, as sent.
        errors: opt Value = "errors",
    }
}

impl ErrorBody {
    /// Decodes an error body. Fails only when the body is not a JSON object.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        inbox_wire::from_slice(bytes)
    }

    /// The value of `key` in the `error` or `errors` object (`authentication`, `json`...).
    pub fn detail(&self, key: &str) -> Option<&Value> {
        [&self.error, &self.errors]
            .into_iter()
            .flatten()
            .find_map(|detail| detail.get(key))
    }

    /// A one-line summary for a person: each leaf of the detail with its dotted path, e.g.
    /// `authentication: User not authenticated` or
    /// `json.per_page: Must be between 1 and 100.`. Bounded in length.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for detail in [&self.error, &self.errors].into_iter().flatten() {
            flatten("", detail, &mut parts);
        }
        if parts.is_empty() && !self.extra.is_empty() {
            flatten("", &Value::Object(self.extra.clone()), &mut parts);
        }
        if parts.is_empty() {
            return "no error detail".to_owned();
        }
        one_line(&parts.join("; "))
    }
}

impl fmt::Display for ErrorBody {
    /// The one-line [`ErrorBody::summary`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

fn flatten(prefix: &str, value: &Value, parts: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, value, parts);
            }
        }
        _ => {
            let text = leaf(value);
            parts.push(if prefix.is_empty() {
                text
            } else {
                format!("{prefix}: {text}")
            });
        }
    }
}

fn leaf(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(leaf).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Collapses whitespace (newlines included) and bounds the length.
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.chars().count() > SUMMARY_MAX_CHARS {
        out = out.chars().take(SUMMARY_MAX_CHARS - 1).collect();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(value: &Value) -> ErrorBody {
        ErrorBody::from_slice(&serde_json::to_vec(value).unwrap()).unwrap()
    }

    #[test]
    fn summaries_of_the_documented_shapes() {
        for (value, want) in [
            (
                json!({"error": {"authentication": "User not authenticated"}}),
                "authentication: User not authenticated",
            ),
            (
                json!({"errors": {"authentication": "User not authenticated"}}),
                "authentication: User not authenticated",
            ),
            (
                json!({"error": {"authorization": "Operation not allowed"}}),
                "authorization: Operation not allowed",
            ),
            (
                json!({"error": {"json": "Resource not found"}}),
                "json: Resource not found",
            ),
            (
                json!({"error": {"json": {"conversation_id": ["Missing data for required field."],
                                          "per_page": ["Must be between 1 and 100."]}}}),
                "json.conversation_id: Missing data for required field.; json.per_page: Must be between 1 and 100.",
            ),
            (
                json!({"errors": {"json": "Unsupported\nmedia type"}}),
                "json: Unsupported media type",
            ),
            (json!({"error": "rate limited"}), "rate limited"),
            (
                json!({"message": "Internal error"}),
                "message: Internal error",
            ),
            (json!({}), "no error detail"),
        ] {
            let decoded = body(&value);
            assert_eq!(decoded.summary(), want, "{value}");
            assert_eq!(serde_json::to_value(&decoded).unwrap(), value, "round trip");
        }
    }

    #[test]
    fn detail_looks_in_both_keys() {
        let b = body(&json!({"errors": {"json": "bad"}}));
        assert_eq!(b.detail("json"), Some(&json!("bad")));
        assert_eq!(b.detail("authentication"), None);
        assert_eq!(b.to_string(), "json: bad");
    }

    #[test]
    fn summary_is_bounded() {
        let long = "x".repeat(1000);
        let s = body(&json!({"error": {"json": long}})).summary();
        assert_eq!(s.chars().count(), SUMMARY_MAX_CHARS);
        assert!(s.ends_with('…'));
    }

    #[test]
    fn not_an_object_is_an_error() {
        assert!(ErrorBody::from_slice(b"<html>502</html>").is_err());
        assert!(ErrorBody::from_slice(b"[1]").is_err());
    }
}
