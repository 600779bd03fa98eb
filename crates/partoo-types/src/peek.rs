//! Cheap scans of page bodies: what a pager needs before it decodes a page (the next
//! cursor, the dates at both ends), read in one pass that builds no message.

use std::borrow::Cow;

use inbox_wire::{DecodeError, Timestamp};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::conversation::ConversationsPage;
use crate::message::MessagesPage;

/// What [`MessagesPage::peek`] reads of a page without decoding its messages.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct MessagesPageEnvelope {
    /// The next page's cursor; `None` on the last page (absent, `null` or empty).
    pub next_cursor: Option<String>,
    /// How many messages the page holds.
    pub messages: usize,
    /// The `date` of the first message, when it has one that parses.
    pub first_date: Option<Timestamp>,
    /// The `date` of the last message, when it has one that parses.
    pub last_date: Option<Timestamp>,
}

impl MessagesPageEnvelope {
    /// Whether the page is ordered newest first, as far as its two ends tell (a page of
    /// fewer than two dated messages tells nothing: `false`).
    pub fn is_newest_first(&self) -> bool {
        matches!((&self.first_date, &self.last_date), (Some(a), Some(b)) if a > b)
    }
}

impl MessagesPage {
    /// Reads the next cursor and the dates of the first and last message of a page body in
    /// one pass, without decoding the messages (they are only scanned over): a pager can
    /// decide on the next request before decoding this page.
    ///
    /// ```
    /// let body = br#"{"messages": [{"id": 2, "date": "2024-01-02 10:00:00+00:00"},
    ///                              {"id": 1, "date": "2024-01-01 10:00:00+00:00"}],
    ///                 "count": 9, "next_cursor": "abc"}"#;
    /// let envelope = partoo_types::MessagesPage::peek(body)?;
    /// assert_eq!(envelope.next_cursor.as_deref(), Some("abc"));
    /// assert_eq!(envelope.messages, 2);
    /// assert!(envelope.is_newest_first());
    /// # Ok::<(), partoo_types::DecodeError>(())
    /// ```
    pub fn peek(bytes: &[u8]) -> Result<MessagesPageEnvelope, DecodeError> {
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(default)]
            messages: Ends,
            #[serde(default)]
            next_cursor: Option<String>,
        }
        let envelope: Envelope = inbox_wire::from_slice(bytes)?;
        Ok(MessagesPageEnvelope {
            next_cursor: envelope.next_cursor.filter(|c| !c.is_empty()),
            messages: envelope.messages.count,
            first_date: envelope.messages.first,
            last_date: envelope.messages.last,
        })
    }
}

impl ConversationsPage {
    /// The `next_cursor` of a conversations page body, read without decoding its
    /// conversations; `None` on the last page (absent, `null` or empty).
    ///
    /// ```
    /// let body = br#"{"conversations": [{"id": 1}], "count": 2, "next_cursor": "c2"}"#;
    /// let next = partoo_types::ConversationsPage::peek_next_cursor(body)?;
    /// assert_eq!(next.as_deref(), Some("c2"));
    /// # Ok::<(), partoo_types::DecodeError>(())
    /// ```
    pub fn peek_next_cursor(bytes: &[u8]) -> Result<Option<String>, DecodeError> {
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(default)]
            next_cursor: Option<String>,
        }
        let envelope: Envelope = inbox_wire::from_slice(bytes)?;
        Ok(envelope.next_cursor.filter(|c| !c.is_empty()))
    }
}

/// The messages array, scanned: how many, and the dates at both ends.
#[derive(Default)]
struct Ends {
    count: usize,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl<'de> Deserialize<'de> for Ends {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// A message scanned for its `date` alone: every other field is skipped unread, and
        /// an item that is not an object (or a date that is not a string) has no date. The
        /// scan never fails where the tolerant decode would keep going.
        struct Item<'a>(Option<Cow<'a, str>>);

        impl<'de> Deserialize<'de> for Item<'de> {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(AnyValue(true)).map(Item)
            }
        }

        /// Visits any JSON value; as a message (`true`), returns its `date` when it is a
        /// string; as a field value (`false`), returns the value when it is a string.
        struct AnyValue(bool);

        impl<'de> Visitor<'de> for AnyValue {
            type Value = Option<Cow<'de, str>>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok((!self.0).then_some(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok((!self.0).then(|| Cow::Owned(v.to_owned())))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut date = None;
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    if self.0 && key == "date" {
                        date = map.next_value_seed(FieldValue)?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(if self.0 { date } else { None })
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(None)
            }

            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
        }

        /// A field's value: itself when a string, else nothing.
        struct FieldValue;

        impl<'de> DeserializeSeed<'de> for FieldValue {
            type Value = Option<Cow<'de, str>>;

            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(AnyValue(false))
            }
        }

        struct Scan;

        impl<'de> Visitor<'de> for Scan {
            type Value = Ends;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of messages")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ends, A::Error> {
                let mut ends = Ends::default();
                let mut last_text: Option<Cow<'de, str>> = None;
                while let Some(Item(date)) = seq.next_element::<Item<'de>>()? {
                    if ends.count == 0 {
                        ends.first = date.as_deref().and_then(|d| Timestamp::parse(d).ok());
                    }
                    ends.count += 1;
                    last_text = date;
                }
                ends.last = last_text.as_deref().and_then(|d| Timestamp::parse(d).ok());
                Ok(ends)
            }
        }

        deserializer.deserialize_seq(Scan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peeks_both_ends_and_tolerates_odd_items() {
        let body = br#"{"messages": [
            {"id": 1, "date": "2024-01-01 10:00:00.5+00:00", "content": {"nested": [1, 2]}},
            "not a message",
            {"id": 3, "date": 42},
            {"id": 4, "date": "2024-01-03T10:00:00Z"}
        ], "next_cursor": ""}"#;
        let envelope = MessagesPage::peek(body).unwrap();
        assert_eq!(envelope.messages, 4);
        assert_eq!(envelope.next_cursor, None, "an empty cursor is none");
        assert_eq!(
            envelope.first_date.map(|d| d.to_rfc3339_utc()).as_deref(),
            Some("2024-01-01T10:00:00.500Z")
        );
        assert_eq!(
            envelope.last_date.map(|d| d.to_rfc3339_utc()).as_deref(),
            Some("2024-01-03T10:00:00Z")
        );
        assert!(!envelope.is_newest_first());
    }

    #[test]
    fn an_empty_or_missing_list_has_no_dates() {
        let envelope = MessagesPage::peek(br#"{"messages": [], "next_cursor": null}"#).unwrap();
        assert_eq!(envelope, MessagesPageEnvelope::default());
        let envelope = MessagesPage::peek(br#"{"next_cursor": "x"}"#).unwrap();
        assert_eq!(envelope.next_cursor.as_deref(), Some("x"));
        assert!(MessagesPage::peek(b"<html>").is_err());
    }
}
