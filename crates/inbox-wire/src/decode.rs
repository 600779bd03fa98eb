//! Decoding a response body: fast when the body is clean, tolerant when it is not.

use std::fmt;

use serde::de::DeserializeOwned;

use crate::list::StrictPass;

/// Why a body could not be decoded at all (its items are tolerated one by one: see
/// [`crate::List`]; this is for the envelope: not JSON, or a page field of the wrong type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// JSON path where decoding failed, e.g. `next_cursor` or `.` for the document.
    pub path: String,
    /// What was wrong, with line and column.
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at `{}`: {}", self.path, self.message)
    }
}

impl std::error::Error for DecodeError {}

impl DecodeError {
    /// The same error seen from the document that holds what failed under `key`: its path
    /// gains the prefix (`date` under `payload` becomes `payload.date`; the document itself,
    /// `.`, becomes `payload`).
    ///
    /// ```
    /// let e = inbox_wire::DecodeError { path: "message.date".into(), message: "bad".into() };
    /// assert_eq!(e.within("payload").path, "payload.message.date");
    /// ```
    pub fn within(self, key: &str) -> Self {
        let path = match self.path.as_str() {
            "." => key.to_owned(),
            path => format!("{key}.{path}"),
        };
        Self { path, ..self }
    }
}

/// Decodes `bytes` as `T`.
///
/// A first pass decodes everything directly, which is as fast as `serde_json` gets. If it
/// fails anywhere, a second pass decodes tolerantly: every [`crate::List`] keeps the items
/// that do not decode as [`crate::Rejected`], so one odd item never costs the rest. Only an
/// envelope that cannot be decoded at all is an error, and that error names the JSON path.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    {
        let _strict = StrictPass::enter(true);
        // UTF-8 checked once for the whole body (a fast pass over bytes), instead of once per
        // string as `from_slice` does: `from_str` trusts what it reads. A body that is not
        // UTF-8 goes the tolerant way, which names where.
        if let Ok(text) = std::str::from_utf8(bytes)
            && let Ok(value) = serde_json::from_str(text)
        {
            return Ok(value);
        }
    }
    let _tolerant = StrictPass::enter(false);
    match serde_json::from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(plain) => Err(locate::<T>(bytes, plain)),
    }
}

/// [`from_slice`] for a string.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, DecodeError> {
    from_slice(text.as_bytes())
}

fn locate<T: DeserializeOwned>(bytes: &[u8], plain: serde_json::Error) -> DecodeError {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => DecodeError {
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
        },
        Ok(_) => DecodeError {
            path: ".".to_owned(),
            message: plain.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use crate::{List, Timestamp};

    crate::wire_struct! {
        #[derive(Debug, Clone, PartialEq)]
        struct Item {
            id: req u32 = "id",
            at: opt Timestamp = "at",
            note: null String = "note",
        }
    }

    #[derive(Debug, Deserialize, Serialize)]
    struct Page {
        items: List<Item>,
        next: Option<String>,
    }

    #[test]
    fn clean_page_decodes_in_one_pass_and_round_trips() {
        let text = r#"{"items":[{"id":1,"note":null},{"id":2,"at":"2023-01-31 16:22:17+00:00","note":"x","y":[1]}],"next":"c2"}"#;
        let page: Page = super::from_str(text).unwrap();
        assert_eq!(page.items.len(), 2);
        assert!(page.items.rejected().is_empty());
        assert_eq!(page.items[1].extra["y"], serde_json::json!([1]));
        assert_eq!(serde_json::to_string(&page).unwrap(), text);
    }

    #[test]
    fn one_bad_item_is_kept_raw_with_its_path_and_the_rest_decode() {
        let text = r#"{"items":[{"id":1,"note":null},{"id":2,"at":"soon","note":null},{"note":"no id"},{"id":4,"note":null}],"next":null}"#;
        let page: Page = super::from_str(text).unwrap();
        let ids: Vec<u32> = page.items.iter().map(|i| i.id).collect();
        assert_eq!(ids, [1, 4]);
        let rejected = page.items.rejected();
        assert_eq!(rejected.len(), 2);
        assert_eq!((rejected[0].index, rejected[0].path.as_str()), (1, "at"));
        assert!(
            rejected[0].message.contains("invalid timestamp `soon`"),
            "{}",
            rejected[0]
        );
        assert_eq!(rejected[1].index, 2);
        assert!(
            rejected[1].message.contains("missing field `id`"),
            "{}",
            rejected[1]
        );
        assert_eq!(
            serde_json::to_string(&page).unwrap(),
            text,
            "order and bytes kept"
        );
    }

    #[test]
    fn envelope_errors_name_the_path() {
        let err = super::from_str::<Page>(r#"{"items":[],"next":7}"#).unwrap_err();
        assert_eq!(err.path, "next");
        assert!(err.message.contains("invalid type: integer `7`"), "{err}");
        let err = super::from_str::<Page>("<html>").unwrap_err();
        assert!(err.to_string().contains("expected value"), "{err}");
    }

    #[test]
    fn strict_flag_is_restored_after_decoding() {
        let _ = super::from_str::<Page>(r#"{"items":[{"id":"x"}],"next":null}"#);
        assert!(!crate::is_strict_pass());
        // Plain serde_json decoding (no strict pass) is tolerant too.
        let page: Page = serde_json::from_str(r#"{"items":[{"id":"x"}],"next":null}"#).unwrap();
        assert_eq!(page.items.rejected().len(), 1);
    }
}
