//! A message's `content`, decoded by its `content_type` (and `sender_type`).

use std::fmt;

use inbox_wire::Str;
use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::message::{ContentType, SenderType};

inbox_wire::open_enum! {
    /// The kind of content an Instagram story reply carries (`content.content_type` of an
    /// [`IgStoryReply`]).
    pub enum IgStoryReplyType {
        /// `content` is the url of an image.
        Image = "Image",
        /// `content` is the text of the reply.
        Text = "Text",
    }
}

inbox_wire::open_enum! {
    /// What an [`Unsupported`] content would have been (its `type`).
    pub enum UnsupportedType {
        /// `video`: a video Partoo cannot show.
        Video = "video",
        /// `audio`: an audio file Partoo cannot show.
        Audio = "audio",
        /// `unknown`: Partoo could not tell what the content is.
        Unidentified = "unknown",
    }
}

inbox_wire::wire_struct! {
    /// The content of a Video, Audio or Document message.
    ///
    /// `url` is required: an object without it does not fit and is kept as
    /// [`Content::Raw`]. `file_name` is nullable in the spec (always sent, `null` when
    /// unknown), and `None` encodes as `null`; so an absent `file_name` (off-spec) is read as
    /// `None` and comes back as `"file_name": null`, the one key of a media content that a
    /// decode/encode round trip does not give back as sent.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Media {
        /// The url of the file.
        url: req Str = "url",
        /// The name of the file, when Partoo knows it.
        file_name: null Str = "file_name",
    }
}

inbox_wire::wire_struct! {
    /// The content of an `IgStoryReply` message: a reply to one of the business's Instagram
    /// stories.
    ///
    /// `url`, `content` and `content_type` are required (without them the reply cannot be
    /// shown, and the content is kept as [`Content::Raw`]); the story `id` is optional.
    #[derive(Debug, Clone, PartialEq)]
    pub struct IgStoryReply {
        /// The url of the story that received the reply.
        url: req Str = "url",
        /// The text of the reply, or the url of the image, per `content_type`.
        content: req Str = "content",
        /// Whether `content` is text or an image url.
        content_type: req IgStoryReplyType = "content_type",
        /// The Instagram id of the story.
        id: opt Str = "id",
    }
}

inbox_wire::wire_struct! {
    /// The content of an `Unsupported` message: something Partoo received but cannot show.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Unsupported {
        /// What the content would have been (`type` on the wire), when sent.
        kind: opt UnsupportedType = "type",
    }
}

/// A message's content, decoded by the message's `content_type`, never by its shape.
///
/// Text, Image and IgStoryMention contents are all plain strings on the wire, so only the
/// declared type tells them apart. `Metadata` messages carry the strings `"Solving"` and
/// `"Reopening"` whatever their `content_type`: they become [`Content::Solving`] and
/// [`Content::Reopening`]. Those are the only `Metadata` contents Partoo documents, so any
/// other content from a `Metadata` sender (another string, an object...) is kept as
/// [`Content::Raw`] whatever its `content_type`: an inbox event is never taken for a
/// customer-visible text.
///
/// A content this crate cannot type is kept as [`Content::Raw`]: an unknown `content_type`,
/// a content that does not fit its declared type (an object for `Text`, a string for
/// `Video`, a `Video` without `url`...), or an undocumented `Metadata` content. That is never
/// an error for the message. Encoding writes the content back as it was received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Content {
    /// `Text`: the text of the message.
    Text(Str),
    /// `Image`: the url of the image.
    Image(Str),
    /// `Video`: the url and file name of the video.
    Video(Media),
    /// `Audio`: the url and file name of the audio file.
    Audio(Media),
    /// `Document`: the url and file name of the document.
    Document(Media),
    /// `IgStoryReply`: a reply to an Instagram story.
    IgStoryReply(IgStoryReply),
    /// `IgStoryMention`: the url of the Instagram story that mentions the business.
    IgStoryMention(Str),
    /// `Unsupported`: a content Partoo cannot show.
    Unsupported(Unsupported),
    /// A `Metadata` event: the conversation was marked solved (`"Solving"`).
    Solving,
    /// A `Metadata` event: the conversation was reopened (`"Reopening"`).
    Reopening,
    /// Any other content, as sent: an unknown `content_type`, a content that does not fit
    /// its declared type, or a `Metadata` content other than `"Solving"` and `"Reopening"`.
    /// Partoo advises showing an "Unhandled content" placeholder.
    Raw(Value),
}

impl Content {
    /// Types `value` by the message's `content_type` and `sender_type`, as [`crate::Message`]
    /// decoding does. Never fails: what does not fit is kept as [`Content::Raw`].
    ///
    /// ```
    /// use partoo_types::{Content, ContentType, SenderType};
    /// use serde_json::json;
    ///
    /// let c = Content::decode(&ContentType::Image, &SenderType::Consumer, json!("https://x/a.png"));
    /// assert_eq!(c, Content::Image("https://x/a.png".into()));
    /// let c = Content::decode(&ContentType::Text, &SenderType::Metadata, json!("Solving"));
    /// assert_eq!(c, Content::Solving);
    /// let c = Content::decode(&ContentType::Text, &SenderType::Metadata, json!("Archived"));
    /// assert_eq!(c, Content::Raw(json!("Archived")));
    /// let c = Content::decode(&ContentType::Text, &SenderType::User, json!({"text": "hi"}));
    /// assert!(c.is_raw());
    /// ```
    pub fn decode(content_type: &ContentType, sender_type: &SenderType, value: Value) -> Self {
        match value {
            Value::String(text) => {
                Self::typed(content_type, sender_type, Buffered::Text(text.into()))
            }
            other => Self::typed(content_type, sender_type, Buffered::Other(other)),
        }
    }

    /// [`Content::decode`] of a content buffered while its message was read.
    pub(crate) fn typed(
        content_type: &ContentType,
        sender_type: &SenderType,
        value: Buffered,
    ) -> Self {
        let value = match value {
            Buffered::Text(text) => {
                if *sender_type == SenderType::Metadata {
                    // Partoo documents these two events only: whatever else a `Metadata`
                    // sender sends is undocumented, never a text to show the business as
                    // the customer's.
                    return match text.as_str() {
                        "Solving" => Content::Solving,
                        "Reopening" => Content::Reopening,
                        _ => Content::Raw(Value::String(text.into())),
                    };
                }
                return match content_type {
                    ContentType::Text => Content::Text(text),
                    ContentType::Image => Content::Image(text),
                    ContentType::IgStoryMention => Content::IgStoryMention(text),
                    _ => Content::Raw(Value::String(text.into())),
                };
            }
            Buffered::Other(value) => value,
        };
        if *sender_type == SenderType::Metadata {
            return Content::Raw(value);
        }
        match (content_type, value) {
            (ContentType::Video, v @ Value::Object(_)) => typed(v, Content::Video),
            (ContentType::Audio, v @ Value::Object(_)) => typed(v, Content::Audio),
            (ContentType::Document, v @ Value::Object(_)) => typed(v, Content::Document),
            (ContentType::IgStoryReply, v @ Value::Object(_)) => typed(v, Content::IgStoryReply),
            (ContentType::Unsupported, v @ Value::Object(_)) => typed(v, Content::Unsupported),
            (_, v) => Content::Raw(v),
        }
    }

    /// The text of a [`Content::Text`].
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Text(text) => Some(text),
            _ => None,
        }
    }

    /// Whether this content was kept raw ([`Content::Raw`]).
    pub fn is_raw(&self) -> bool {
        matches!(self, Content::Raw(_))
    }
}

/// A message's content as read before its `content_type` is known: a string straight into a
/// [`Str`] (most contents are texts and urls), anything else as a [`Value`].
pub(crate) enum Buffered {
    /// A JSON string.
    Text(Str),
    /// Any other JSON value.
    Other(Value),
}

impl<'de> Deserialize<'de> for Buffered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BufferedVisitor)
    }
}

struct BufferedVisitor;

impl<'de> Visitor<'de> for BufferedVisitor {
    type Value = Buffered;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Buffered, E> {
        Ok(Buffered::Text(v.into()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Buffered, E> {
        Ok(Buffered::Text(v.into()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Buffered, E> {
        Ok(Buffered::Other(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Buffered, E> {
        Ok(Buffered::Other(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Buffered, E> {
        Ok(Buffered::Other(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Buffered, E> {
        Ok(Buffered::Other(Value::from(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Buffered, E> {
        Ok(Buffered::Other(Value::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<Buffered, E> {
        Ok(Buffered::Other(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Buffered, D::Error> {
        Buffered::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Buffered, A::Error> {
        Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Buffered::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Buffered, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Buffered::Other)
    }
}

/// Decodes an object content as `T`, keeping it raw when it does not fit.
fn typed<T: DeserializeOwned>(value: Value, wrap: fn(T) -> Content) -> Content {
    match T::deserialize(&value) {
        Ok(content) => wrap(content),
        Err(_) => Content::Raw(value),
    }
}

impl Serialize for Content {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Content::Text(s) | Content::Image(s) | Content::IgStoryMention(s) => {
                serializer.serialize_str(s)
            }
            Content::Video(m) | Content::Audio(m) | Content::Document(m) => m.serialize(serializer),
            Content::IgStoryReply(r) => r.serialize(serializer),
            Content::Unsupported(u) => u.serialize(serializer),
            Content::Solving => serializer.serialize_str("Solving"),
            Content::Reopening => serializer.serialize_str("Reopening"),
            Content::Raw(v) => v.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn decode(content_type: &str, sender_type: &str, value: Value) -> Content {
        Content::decode(&content_type.into(), &sender_type.into(), value)
    }

    #[test]
    fn each_declared_type_gets_its_variant_and_encodes_back() {
        let cases = [
            ("Text", json!("Bonjour")),
            ("Image", json!("https://cdn.example/i.jpg")),
            (
                "Video",
                json!({"url": "https://cdn.example/v.mp4", "file_name": "v.mp4"}),
            ),
            (
                "Audio",
                json!({"url": "https://cdn.example/a.ogg", "file_name": null}),
            ),
            (
                "Document",
                json!({"url": "https://cdn.example/d.pdf", "file_name": "d.pdf"}),
            ),
            (
                "IgStoryReply",
                json!({"url": "https://ig/s/1", "content": "wow", "content_type": "Text", "id": "17"}),
            ),
            ("IgStoryMention", json!("https://ig/s/2")),
            ("Unsupported", json!({"type": "video"})),
        ];
        for (content_type, value) in cases {
            let content = decode(content_type, "Consumer", value.clone());
            assert!(!content.is_raw(), "{content_type}: {content:?}");
            let variant = format!("{content:?}");
            assert!(
                variant.starts_with(content_type),
                "{content_type} decoded as {variant}"
            );
            assert_eq!(
                serde_json::to_value(&content).unwrap(),
                value,
                "{content_type}"
            );
        }
    }

    #[test]
    fn metadata_events_need_the_metadata_sender() {
        assert_eq!(
            decode("Text", "Metadata", json!("Solving")),
            Content::Solving
        );
        assert_eq!(
            decode("Text", "Metadata", json!("Reopening")),
            Content::Reopening
        );
        assert_eq!(
            decode("Carousel", "Metadata", json!("Solving")),
            Content::Solving
        );
        assert_eq!(
            decode("Text", "User", json!("Solving")),
            Content::Text("Solving".into())
        );
        assert_eq!(
            serde_json::to_value(Content::Reopening).unwrap(),
            json!("Reopening")
        );
    }

    #[test]
    fn undocumented_metadata_content_is_kept_raw_whatever_its_type() {
        for (content_type, value) in [
            ("Text", json!("Archived")),
            ("Text", json!("solving")),
            ("Text", json!("")),
            ("Image", json!("https://cdn.example/i.jpg")),
            ("IgStoryMention", json!("https://ig/s/2")),
            (
                "Video",
                json!({"url": "https://cdn.example/v.mp4", "file_name": null}),
            ),
            ("Unsupported", json!({"type": "video"})),
            ("Text", json!({"event": "Solving"})),
            ("Text", json!(null)),
        ] {
            let content = decode(content_type, "Metadata", value.clone());
            assert_eq!(
                content,
                Content::Raw(value.clone()),
                "{content_type} {value}"
            );
            assert_eq!(serde_json::to_value(&content).unwrap(), value);
        }
        // The same contents from a documented non-Metadata sender keep their type.
        assert_eq!(
            decode("Text", "User", json!("Archived")),
            Content::Text("Archived".into())
        );
    }

    #[test]
    fn content_that_does_not_fit_is_kept_raw() {
        for (content_type, value) in [
            ("Text", json!({"body": "hi"})),
            ("Text", json!(null)),
            ("Image", json!(12)),
            ("Video", json!("https://cdn.example/v.mp4")),
            ("Video", json!({"file_name": "no-url.mp4"})),
            ("Audio", json!({"url": 5, "file_name": null})),
            ("Document", json!([{"url": "https://cdn.example/d.pdf"}])),
            (
                "IgStoryReply",
                json!({"url": "https://ig/s/1", "content_type": "Text"}),
            ),
            ("Unsupported", json!("video")),
            ("Location", json!({"lat": 48.85, "lng": 2.35})),
        ] {
            let content = decode(content_type, "Consumer", value.clone());
            assert_eq!(content, Content::Raw(value.clone()), "{content_type}");
            assert_eq!(serde_json::to_value(&content).unwrap(), value);
        }
    }

    #[test]
    fn unknown_fields_inside_content_are_kept() {
        let value =
            json!({"url": "https://cdn.example/v.mp4", "file_name": null, "mime": "video/mp4"});
        let Content::Video(media) = decode("Video", "User", value.clone()) else {
            panic!("not a video");
        };
        assert_eq!(media.extra["mime"], "video/mp4");
        assert_eq!(media.file_name, None);
        assert_eq!(serde_json::to_value(Content::Video(media)).unwrap(), value);
    }

    #[test]
    fn unsupported_type_is_open() {
        let Content::Unsupported(u) = decode("Unsupported", "Consumer", json!({"type": "sticker"}))
        else {
            panic!("not unsupported");
        };
        assert_eq!(u.kind, Some(UnsupportedType::Unknown("sticker".into())));
        let Content::Unsupported(u) = decode("Unsupported", "Consumer", json!({"type": "unknown"}))
        else {
            panic!("not unsupported");
        };
        assert_eq!(u.kind, Some(UnsupportedType::Unidentified));
    }
}
