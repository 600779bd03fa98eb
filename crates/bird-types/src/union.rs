//! Tagged unions decoded by their tag, in one pass, without losing what does not fit.
//!
//! Bird's bodies, actions, template parameters and carousel-card headers are objects shaped
//! `{"type": KIND, KEY: content, ...}`: the `type` says which content schema applies, and the
//! content sits under a key (the kind's name for bodies and actions, `value` for parameters).
//! [`visit`] reads such an object key by key:
//!
//! - `type` first (what Bird sends): the content is decoded directly in the optimistic pass of
//!   [`inbox_wire::from_slice`], and through a [`RawValue`] in the tolerant pass, so that
//!   content that does not fit its kind is kept as sent instead of failing the message;
//! - content first: it is buffered as a [`RawValue`] and decoded once the kind is known;
//! - an unknown kind, or a known kind whose content is missing or does not fit, becomes
//!   [`Untyped`], which keeps the kind and the raw content; every other key is kept in `extra`.
//!
//! Shapes are never tried one after another.

use std::fmt;

use inbox_wire::Extra;
use serde::Serialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde_json::value::RawValue;

/// The content of a union member whose kind this crate cannot type: an unknown kind, a kind
/// without a documented content schema, or a known kind whose content is missing or does not
/// fit its schema. Encoding writes the kind and the content back as they came.
#[derive(Debug, Clone)]
pub struct Untyped<K> {
    /// The `type` as sent.
    pub kind: K,
    /// The content exactly as sent, when there was content under the kind's key (for an
    /// unknown body or action kind the key is not known: its keys are kept in `extra`).
    pub content: Option<Box<RawValue>>,
    /// Why the content did not decode as its kind, when it did not.
    pub error: Option<String>,
}

impl<K: PartialEq> PartialEq for Untyped<K> {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.content.as_ref().map(|r| r.get()) == other.content.as_ref().map(|r| r.get())
            && self.error == other.error
    }
}

/// A value that sits under a union's content key.
///
/// The defaults fit plain content; `Option<Option<T>>` overrides them for content that may be
/// absent, `null` or a value (the `locationRequest` action).
pub(crate) trait Content: Sized + DeserializeOwned + Serialize {
    /// Decodes the content from the map's next value.
    fn decode<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error> {
        map.next_value()
    }

    /// Decodes the content from its raw JSON.
    fn from_raw(raw: &RawValue) -> serde_json::Result<Self> {
        serde_json::from_str(raw.get())
    }

    /// The content when its key is absent, if the kind allows that.
    fn absent() -> Option<Self> {
        None
    }

    /// Writes the content under `key`.
    fn write<M: SerializeMap>(&self, key: &str, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry(key, self)
    }
}

impl<T: DeserializeOwned + Serialize> Content for Option<Option<T>> {
    fn decode<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error> {
        map.next_value::<Option<T>>().map(Some)
    }

    fn from_raw(raw: &RawValue) -> serde_json::Result<Self> {
        serde_json::from_str::<Option<T>>(raw.get()).map(Some)
    }

    fn absent() -> Option<Self> {
        Some(None)
    }

    fn write<M: SerializeMap>(&self, key: &str, map: &mut M) -> Result<(), M::Error> {
        match self {
            Some(inner) => map.serialize_entry(key, inner),
            None => Ok(()),
        }
    }
}

/// Marks plain content types.
macro_rules! plain_content {
    ($($ty:ty),+ $(,)?) => {
        $( impl $crate::union::Content for $ty {} )+
    };
}

plain_content!(inbox_wire::Str, bool, serde_json::Number, Extra);

/// A union decoded by its `type` (implemented by [`tagged_union!`]).
pub(crate) trait Union: Sized {
    /// The open enum of the `type` key.
    type Kind: DeserializeOwned + Serialize + Clone;

    /// Every key that holds the content of some known kind.
    const CONTENT_KEYS: &'static [&'static str];

    /// The kind of this value.
    fn kind(&self) -> Self::Kind;

    /// Where the content of `kind` sits, when that is known.
    fn content_key(kind: &Self::Kind) -> Option<&'static str>;

    /// Decodes the content of `kind` from the map's next value, directly.
    fn decode_direct<'de, A: MapAccess<'de>>(
        kind: &Self::Kind,
        map: &mut A,
    ) -> Result<Self, A::Error>;

    /// Decodes the content of `kind` from its raw JSON; `Err` gives the raw JSON back with the
    /// reason when it does not fit the kind.
    fn try_decode_raw(
        kind: &Self::Kind,
        raw: Box<RawValue>,
    ) -> Result<Self, (Box<RawValue>, String)>;

    /// The value for content that does not fit its kind.
    fn misfit(kind: &Self::Kind, raw: Box<RawValue>, error: String) -> Self;

    /// The value when the content key is absent.
    fn absent(kind: Self::Kind) -> Self;

    /// Writes the content key and value (nothing when there is no content).
    fn write_content<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;

    /// Decodes the map's next value as the content of `kind`: directly in the optimistic pass,
    /// through a raw value (so a misfit is kept) otherwise.
    fn decode_now<'de, A: MapAccess<'de>>(
        kind: &Self::Kind,
        map: &mut A,
    ) -> Result<Self, A::Error> {
        if inbox_wire::is_strict_pass() {
            Self::decode_direct(kind, map)
        } else {
            let raw = map.next_value::<Box<RawValue>>()?;
            Self::decode_raw(kind, raw)
        }
    }

    /// Decodes buffered content. In the optimistic pass a misfit is an error (the tolerant pass
    /// that follows keeps it), so both passes give the same value.
    fn decode_raw<E: de::Error>(kind: &Self::Kind, raw: Box<RawValue>) -> Result<Self, E> {
        match Self::try_decode_raw(kind, raw) {
            Ok(value) => Ok(value),
            Err((_, error)) if inbox_wire::is_strict_pass() => Err(E::custom(error)),
            Err((raw, error)) => Ok(Self::misfit(kind, raw, error)),
        }
    }
}

/// Decodes `raw` as `T`, or keeps it with the reason it does not fit.
pub(crate) fn from_raw<T: Content>(raw: Box<RawValue>) -> Result<T, (Box<RawValue>, String)> {
    match T::from_raw(&raw) {
        Ok(value) => Ok(value),
        Err(e) => Err((raw, e.to_string())),
    }
}

/// A key of a union object.
enum Key {
    /// `type`
    Tag,
    /// A key that holds the content of some known kind.
    Content(&'static str),
    /// A field of the object besides the union (e.g. a parameter's `key`).
    Field(&'static str),
    /// Any other key.
    Other(String),
}

struct KeySeed {
    content: &'static [&'static str],
    fields: &'static [&'static str],
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        if v == "type" {
            return Ok(Key::Tag);
        }
        if let Some(k) = self.content.iter().find(|k| **k == v) {
            return Ok(Key::Content(k));
        }
        if let Some(k) = self.fields.iter().find(|k| **k == v) {
            return Ok(Key::Field(k));
        }
        Ok(Key::Other(v.to_owned()))
    }
}

/// Reads a union object: its `type`, its content, the named `fields` (handed to `field`,
/// which reads the value) and everything else into the returned [`Extra`].
pub(crate) fn visit<'de, U, A, F>(
    mut map: A,
    fields: &'static [&'static str],
    mut field: F,
) -> Result<(U, Extra), A::Error>
where
    U: Union,
    A: MapAccess<'de>,
    F: FnMut(&'static str, &mut A) -> Result<(), A::Error>,
{
    let mut kind: Option<U::Kind> = None;
    let mut content: Option<U> = None;
    let mut pending: Vec<(&'static str, Box<RawValue>)> = Vec::new();
    let mut extra = Extra::new();
    while let Some(key) = map.next_key_seed(KeySeed {
        content: U::CONTENT_KEYS,
        fields,
    })? {
        match key {
            Key::Tag => {
                if kind.is_some() {
                    return Err(de::Error::duplicate_field("type"));
                }
                kind = Some(map.next_value()?);
            }
            Key::Content(name) => match &kind {
                Some(k) if content.is_none() && U::content_key(k) == Some(name) => {
                    content = Some(U::decode_now(k, &mut map)?);
                }
                Some(_) => {
                    extra.insert(name.to_owned(), map.next_value()?);
                }
                None => pending.push((name, map.next_value()?)),
            },
            Key::Field(name) => field(name, &mut map)?,
            Key::Other(name) => {
                extra.insert(name, map.next_value()?);
            }
        }
    }
    let Some(kind) = kind else {
        return Err(de::Error::missing_field("type"));
    };
    for (name, raw) in pending {
        if content.is_none() && U::content_key(&kind) == Some(name) {
            content = Some(U::decode_raw(&kind, raw)?);
        } else {
            let value = serde_json::from_str(raw.get()).map_err(de::Error::custom)?;
            extra.insert(name.to_owned(), value);
        }
    }
    Ok((content.unwrap_or_else(|| U::absent(kind)), extra))
}

/// Defines a union's content enum (one variant per documented kind, plus `Untyped`) and its
/// [`Union`] implementation.
///
/// `key` is how the content key is found: `by_kind` (the kind's own name, as for bodies and
/// actions; an unknown kind's content is not captured) or `fixed "value"` (one key for every
/// kind, unknown ones included).
macro_rules! tagged_union {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $kind:ident, key $($fixed:literal)? {
            $( $(#[$vmeta:meta])* $variant:ident($ty:ty) = $kind_variant:ident @ $key:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant($ty), )+
            /// A kind this crate does not know or has no schema for, or content that is
            /// missing or does not fit its kind; kept as sent.
            Untyped($crate::union::Untyped<$kind>),
        }

        impl $name {
            /// The `type` of this value.
            pub fn kind(&self) -> $kind {
                <Self as $crate::union::Union>::kind(self)
            }
        }

        impl $crate::union::Union for $name {
            type Kind = $kind;

            const CONTENT_KEYS: &'static [&'static str] = &[$($key),+];

            fn kind(&self) -> $kind {
                match self {
                    $( $name::$variant(_) => $kind::$kind_variant, )+
                    $name::Untyped(u) => u.kind.clone(),
                }
            }

            fn content_key(kind: &$kind) -> ::std::option::Option<&'static str> {
                match kind {
                    $( $kind::$kind_variant => ::std::option::Option::Some($key), )+
                    _ => tagged_union!(@unknown_key $($fixed)?),
                }
            }

            fn decode_direct<'de, A: ::serde::de::MapAccess<'de>>(
                kind: &$kind,
                map: &mut A,
            ) -> ::std::result::Result<Self, A::Error> {
                match kind {
                    $( $kind::$kind_variant => ::std::result::Result::Ok($name::$variant(
                        <$ty as $crate::union::Content>::decode(map)?,
                    )), )+
                    other => {
                        let raw = map.next_value::<::std::boxed::Box<::serde_json::value::RawValue>>()?;
                        ::std::result::Result::Ok($name::Untyped($crate::union::Untyped {
                            kind: other.clone(),
                            content: ::std::option::Option::Some(raw),
                            error: ::std::option::Option::None,
                        }))
                    }
                }
            }

            fn try_decode_raw(
                kind: &$kind,
                raw: ::std::boxed::Box<::serde_json::value::RawValue>,
            ) -> ::std::result::Result<Self, (::std::boxed::Box<::serde_json::value::RawValue>, ::std::string::String)> {
                match kind {
                    $( $kind::$kind_variant => $crate::union::from_raw::<$ty>(raw).map($name::$variant), )+
                    _ => ::std::result::Result::Ok($name::Untyped($crate::union::Untyped {
                        kind: kind.clone(),
                        content: ::std::option::Option::Some(raw),
                        error: ::std::option::Option::None,
                    })),
                }
            }

            fn misfit(
                kind: &$kind,
                raw: ::std::boxed::Box<::serde_json::value::RawValue>,
                error: ::std::string::String,
            ) -> Self {
                $name::Untyped($crate::union::Untyped {
                    kind: kind.clone(),
                    content: ::std::option::Option::Some(raw),
                    error: ::std::option::Option::Some(error),
                })
            }

            fn absent(kind: $kind) -> Self {
                // Parameters may leave out `value`; bodies, actions and headers need content.
                let optional: bool = tagged_union!(@optional $($fixed)?);
                let (present, missing) = match &kind {
                    $( $kind::$kind_variant => (
                        <$ty as $crate::union::Content>::absent().map($name::$variant),
                        (!optional).then_some(concat!("missing field `", $key, "`")),
                    ), )+
                    _ => (::std::option::Option::None, ::std::option::Option::None),
                };
                match present {
                    ::std::option::Option::Some(value) => value,
                    ::std::option::Option::None => $name::Untyped($crate::union::Untyped {
                        kind,
                        content: ::std::option::Option::None,
                        error: missing.map(::std::borrow::ToOwned::to_owned),
                    }),
                }
            }

            fn write_content<M: ::serde::ser::SerializeMap>(
                &self,
                map: &mut M,
            ) -> ::std::result::Result<(), M::Error> {
                match self {
                    $( $name::$variant(v) => $crate::union::Content::write(v, $key, map), )+
                    $name::Untyped(u) => match &u.content {
                        ::std::option::Option::Some(raw) => {
                            map.serialize_entry(tagged_union!(@write_key u $($fixed)?), raw)
                        }
                        ::std::option::Option::None => ::std::result::Result::Ok(()),
                    },
                }
            }
        }
    };

    (@unknown_key) => { ::std::option::Option::None };
    (@unknown_key $fixed:literal) => { ::std::option::Option::Some($fixed) };
    (@optional) => { false };
    (@optional $fixed:literal) => { true };
    (@write_key $u:ident) => { $u.kind.as_str() };
    (@write_key $u:ident $fixed:literal) => { $fixed };
}

/// Defines a struct holding a union's content and the object's other keys, with the serde
/// impls that read it through [`visit`] and write `type`, the content, then `extra`.
macro_rules! tagged_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident : $kind:ident { $(#[$cmeta:meta])* content: $union:ty }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis struct $name {
            $(#[$cmeta])*
            pub content: $union,
            /// Keys besides `type` and the content, as sent.
            pub extra: ::inbox_wire::Extra,
        }

        impl $name {
            /// A value with no other keys.
            pub fn new(content: $union) -> Self {
                Self { content, extra: ::inbox_wire::Extra::new() }
            }

            /// The `type` of this value.
            pub fn kind(&self) -> $kind {
                self.content.kind()
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap as _;
                use $crate::union::Union as _;
                let mut map = serializer.serialize_map(::std::option::Option::None)?;
                map.serialize_entry("type", &self.content.kind())?;
                self.content.write_content(&mut map)?;
                for (k, v) in &self.extra {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                struct V;
                impl<'de> ::serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " object with a `type`"))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> ::std::result::Result<$name, A::Error> {
                        let (content, extra) =
                            $crate::union::visit::<$union, A, _>(map, &[], |_, _| Ok(()))?;
                        ::std::result::Result::Ok($name { content, extra })
                    }
                }
                deserializer.deserialize_map(V)
            }
        }
    };
}
