//! [`Str`]: the string of the wire types and the unified model.

use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::str::FromStr;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// The longest text kept inline: 38 bytes, so that a UUID (36) never allocates.
const INLINE: usize = 38;

/// An immutable string that is cheap to clone: up to 38 bytes are kept inline (no allocation
/// at all), a longer one is allocated once and shared by its clones (a reference count).
///
/// Every string a wire type decodes is a `Str`, and the unified model holds clones of them:
/// a normalized message shares its ids, names and texts with the provider's message it keeps
/// in `origin` instead of copying each one. Ids, the most repeated strings (Bird's are UUIDs,
/// 36 bytes), are inline: decoding one allocates nothing and cloning one is a copy of 40
/// bytes, not a reference count shared across threads. It reads as a `&str` (`Deref`),
/// compares with `str`, `&str` and `String`, and encodes as a JSON string. To change one,
/// make a `String` (`to_string`, `String::from`) and convert it back (`Str::from`).
///
/// ```
/// use inbox_wire::Str;
///
/// let id = Str::from("2041fb87-3bea-4e66-a9d8-6f7d05133f7f");
/// let copy = id.clone(); // inline: no allocation, no reference count
/// assert_eq!(copy, "2041fb87-3bea-4e66-a9d8-6f7d05133f7f");
/// assert!(id.starts_with("2041"));
/// assert_eq!(serde_json::to_string(&id).unwrap(), r#""2041fb87-3bea-4e66-a9d8-6f7d05133f7f""#);
/// let back: Str = serde_json::from_str(r#""caf\u00e9""#).unwrap();
/// assert_eq!(back, "café");
/// ```
#[derive(Clone)]
pub struct Str(Repr);

/// How a [`Str`] holds its text. Private: `Inline` is only ever built from a whole `&str`
/// (see `From<&str>`), which is what makes reading it back without a check sound.
#[derive(Clone)]
enum Repr {
    /// `buf[..len]` is the text, copied from a `&str` at construction and never changed.
    Inline { len: u8, buf: [u8; INLINE] },
    /// A longer text, shared by the clones.
    Heap(Arc<str>),
    /// A string of the program, neither copied nor counted.
    Static(&'static str),
}

impl Str {
    /// A `Str` of `text` (copied: inline when short, else into one shared allocation).
    pub fn new(text: impl AsRef<str>) -> Self {
        Self::from(text.as_ref())
    }

    /// A `Str` of a static string, without copying or allocating.
    pub const fn from_static(text: &'static str) -> Self {
        Self(Repr::Static(text))
    }

    /// The text.
    #[inline]
    #[allow(unsafe_code)]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // SAFETY: a `Repr::Inline` is only built by `From<&str>`, which copies all `len`
            // bytes of a `&str` (valid UTF-8, cut at its end, so at a character boundary);
            // the fields are private and never written after. Checking again on every read
            // cost about 5% of a page's decode and normalization.
            Repr::Inline { len, buf } => unsafe {
                std::str::from_utf8_unchecked(&buf[..usize::from(*len)])
            },
            Repr::Heap(text) => text,
            Repr::Static(text) => text,
        }
    }
}

impl Default for Str {
    fn default() -> Self {
        Self::from_static("")
    }
}

impl PartialEq for Str {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Str {}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Str {
    /// Hashes as the `str` it holds, so that a set of `Str` can be searched with a `&str`.
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Deref for Str {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    #[inline]
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Str {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_str().as_bytes()
    }
}

impl Borrow<str> for Str {
    #[inline]
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl From<&str> for Str {
    #[inline]
    fn from(text: &str) -> Self {
        // Short texts inline, longer ones copied once into their shared allocation.
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= INLINE => {
                let mut buf = [0; INLINE];
                buf[..text.len()].copy_from_slice(text.as_bytes());
                Self(Repr::Inline { len, buf })
            }
            _ => Self(Repr::Heap(Arc::from(text))),
        }
    }
}

impl From<&String> for Str {
    fn from(text: &String) -> Self {
        Self::from(text.as_str())
    }
}

impl From<String> for Str {
    fn from(text: String) -> Self {
        Self::from(text.as_str())
    }
}

impl From<Box<str>> for Str {
    fn from(text: Box<str>) -> Self {
        Self::from(&*text)
    }
}

impl From<Cow<'_, str>> for Str {
    fn from(text: Cow<'_, str>) -> Self {
        Self::from(text.as_ref())
    }
}

impl From<&Str> for Str {
    fn from(text: &Str) -> Self {
        text.clone()
    }
}

impl From<Str> for String {
    fn from(text: Str) -> Self {
        text.as_str().to_owned()
    }
}

impl From<&Str> for String {
    fn from(text: &Str) -> Self {
        text.as_str().to_owned()
    }
}

impl FromStr for Str {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(text))
    }
}

impl FromIterator<char> for Str {
    fn from_iter<I: IntoIterator<Item = char>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<String>())
    }
}

macro_rules! eq_with {
    ($($other:ty),+) => {$(
        impl PartialEq<$other> for Str {
            #[inline]
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Str> for $other {
            #[inline]
            fn eq(&self, other: &Str) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )+};
}

eq_with!(str, &str, String, &String, Cow<'_, str>);

impl Serialize for Str {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl Visitor<'_> for StrVisitor {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str, E> {
                Ok(Str::from(v))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Str, E> {
                Ok(Str::from(v))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::Str;

    #[test]
    fn short_and_long_strings_read_compare_and_encode_as_strings() {
        let long = "x".repeat(100);
        for text in ["", "to", "Ana Agent", "+4915112345678", long.as_str()] {
            let s = Str::from(text);
            assert_eq!(s, text);
            assert_eq!(s.as_str(), text);
            assert_eq!(s.len(), text.len());
            assert_eq!(String::from(s.clone()), text);
            assert_eq!(format!("{s}"), text);
            assert_eq!(format!("{s:?}"), format!("{text:?}"));
            let json = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(json, serde_json::to_string(text).unwrap_or_default());
            assert_eq!(serde_json::from_str::<Str>(&json).ok(), Some(s));
        }
    }

    #[test]
    fn texts_at_the_inline_boundary_keep_every_byte() {
        // 38 bytes fit inline, 39 do not; a multi-byte character either side of the limit.
        let uuid = "2041fb87-3bea-4e66-a9d8-6f7d05133f7f";
        for text in [
            uuid.to_owned(),
            format!("{uuid}é"),
            format!("{uuid}éa"),
            format!("{uuid}ab"),
            format!("{uuid}abc"),
            "é".repeat(19),
            "é".repeat(20),
            "日本".repeat(7),
        ] {
            let s = Str::from(text.as_str());
            assert_eq!(s.as_str(), text, "{} bytes", text.len());
            assert_eq!(s.clone(), s);
            assert_eq!(Str::from(text.clone()), s);
        }
    }

    #[test]
    fn inline_heap_and_static_texts_compare_and_hash_by_their_text() {
        use std::collections::HashSet;
        let inline = Str::from("x".repeat(30));
        let heap = Str::from("x".repeat(30) + &"y".repeat(20));
        assert_eq!(Str::from_static("abc"), Str::from("abc"));
        assert!(inline < heap);
        let set: HashSet<Str> = [Str::from_static("abc"), Str::from("abc")].into();
        assert_eq!(set.len(), 1);
        assert_eq!(Str::default(), "");
    }

    #[test]
    fn escaped_text_and_non_strings() {
        let s: Str = serde_json::from_str(r#""a\"b\n\u00e9""#).unwrap_or_default();
        assert_eq!(s, "a\"b\né");
        let err = serde_json::from_str::<Str>("12")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid type: integer `12`, expected a string at line 1 column 2")
        );
    }

    #[test]
    fn order_and_hash_follow_the_text() {
        use std::collections::{BTreeSet, HashSet};
        let set: BTreeSet<Str> = ["b", "a", "c"].into_iter().map(Str::from).collect();
        let sorted: Vec<&str> = set.iter().map(Str::as_str).collect();
        assert_eq!(sorted, ["a", "b", "c"]);
        let hashed: HashSet<Str> = [Str::from("a"), Str::from(String::from("a"))].into();
        assert_eq!(hashed.len(), 1);
        assert!(hashed.contains("a"));
    }
}
