//! [`Str`]: the string of the wire types and the unified model.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};
use std::sync::Arc;

use smol_str::SmolStr;

/// The longest text kept inline.
const INLINE: usize = 23;

/// An immutable string that is cheap to clone: up to 23 bytes are kept inline (no allocation
/// at all), a longer one is allocated once and shared by its clones (a reference count).
///
/// Every string a wire type decodes is a `Str`, and the unified model holds clones of them:
/// a normalized message shares its ids, names and texts with the provider's message it keeps
/// in `origin` instead of copying each one. It reads as a `&str` (`Deref`), compares with
/// `str`, `&str` and `String`, and encodes as a JSON string. To change one, make a `String`
/// (`to_string`, `String::from`) and convert it back (`Str::from`).
///
/// ```
/// use inbox_wire::Str;
///
/// let id = Str::from("2041fb87-3bea-4e66-a9d8-6f7d05133f7f");
/// let shared = id.clone(); // no copy of the text
/// assert_eq!(shared, "2041fb87-3bea-4e66-a9d8-6f7d05133f7f");
/// assert!(id.starts_with("2041"));
/// assert_eq!(serde_json::to_string(&id).unwrap(), r#""2041fb87-3bea-4e66-a9d8-6f7d05133f7f""#);
/// let back: Str = serde_json::from_str(r#""caf\u00e9""#).unwrap();
/// assert_eq!(back, "café");
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Str(SmolStr);

impl Str {
    /// A `Str` of `text` (copied: inline when short, else into one shared allocation).
    pub fn new(text: impl AsRef<str>) -> Self {
        Self::from(text.as_ref())
    }

    /// A `Str` of a static string, without copying or allocating.
    pub const fn from_static(text: &'static str) -> Self {
        Self(SmolStr::new_static(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<[u8]> for Str {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0.as_str(), f)
    }
}

impl From<&str> for Str {
    #[inline]
    fn from(text: &str) -> Self {
        // Short texts inline, longer ones copied once into their shared allocation.
        if text.len() <= INLINE {
            Self(SmolStr::new_inline(text))
        } else {
            Self(SmolStr::from(Arc::<str>::from(text)))
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
        Self(SmolStr::from(text))
    }
}

impl From<Box<str>> for Str {
    fn from(text: Box<str>) -> Self {
        Self(SmolStr::from(text))
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
        text.0.into()
    }
}

impl From<&Str> for String {
    fn from(text: &Str) -> Self {
        text.0.as_str().to_owned()
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
        Self(iter.into_iter().collect())
    }
}

macro_rules! eq_with {
    ($($other:ty),+) => {$(
        impl PartialEq<$other> for Str {
            fn eq(&self, other: &$other) -> bool {
                self.0.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Str> for $other {
            fn eq(&self, other: &Str) -> bool {
                AsRef::<str>::as_ref(self) == other.0.as_str()
            }
        }
    )+};
}

eq_with!(str, &str, String, &String, Cow<'_, str>);

impl Serialize for Str {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.as_str())
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
