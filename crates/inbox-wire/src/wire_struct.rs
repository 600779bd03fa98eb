//! Lossless wire structs: typed fields plus every field the provider added.

/// Unknown fields of a wire object, kept in the `extra` field of a [`wire_struct!`](crate::wire_struct) struct.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// Defines a wire struct whose unknown fields are kept, not dropped.
///
/// Each field is written `name: MODE Type = "wireName",` where MODE is
/// - `req`: required; the field is `Type` and a missing key is a decode error;
/// - `opt`: optional; the field is `Option<Type>`, absent when `None` on encode;
/// - `null`: nullable; the field is `Option<Type>` and encodes `None` as `null`;
/// - `maybe`: optional *and* nullable, where absent and `null` must stay apart for a lossless
///   round trip: the field is `Option<Option<Type>>`, `None` when the key is absent,
///   `Some(None)` when it is `null`.
///
/// The struct gets a public `extra: Extra` field holding every key the definition does not
/// name, with its value as sent; encoding writes them back. Decoding matches keys without
/// allocating and costs no more than `#[derive(Deserialize)]` (no `#[serde(flatten)]`
/// buffering).
///
/// ```
/// inbox_wire::wire_struct! {
///     /// A video.
///     #[derive(Debug, Clone, PartialEq, Default)]
///     pub struct Video {
///         /// Where it is.
///         url: req String = "url",
///         /// Its file name.
///         file_name: null String = "file_name",
///         /// Its size.
///         size: opt u64 = "sizeBytes",
///     }
/// }
///
/// let json = r#"{"url":"https://x/v.mp4","file_name":null,"codec":"h264"}"#;
/// let v: Video = serde_json::from_str(json).unwrap();
/// assert_eq!(v.url, "https://x/v.mp4");
/// assert_eq!(v.extra["codec"], "h264");
/// let back: serde_json::Value = serde_json::to_value(&v).unwrap();
/// assert_eq!(back, serde_json::from_str::<serde_json::Value>(json).unwrap());
/// ```
#[macro_export]
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $mode:ident $ty:ty = $key:literal, )*
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $crate::__wire_ty!($mode $ty), )*
            /// Fields this crate does not model, as the provider sent them.
            pub extra: $crate::Extra,
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
            where
                S: $crate::__private::serde::Serializer,
            {
                use $crate::__private::serde::ser::SerializeMap as _;
                let mut map = serializer.serialize_map(::std::option::Option::None)?;
                $( $crate::__wire_ser!($mode map, $key, self.$field); )*
                for (k, v) in &self.extra {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: $crate::__private::serde::Deserializer<'de>,
            {
                use $crate::__private::serde::de;

                #[allow(non_camel_case_types)]
                enum __Field {
                    $( $field, )*
                    __Other(::std::string::String),
                }

                struct __FieldVisitor;
                impl de::Visitor<'_> for __FieldVisitor {
                    type Value = __Field;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a field name")
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> ::std::result::Result<__Field, E> {
                        ::std::result::Result::Ok(match v {
                            $( $key => __Field::$field, )*
                            other => __Field::__Other(other.to_owned()),
                        })
                    }
                }
                impl<'de> de::Deserialize<'de> for __Field {
                    fn deserialize<D2: de::Deserializer<'de>>(d: D2) -> ::std::result::Result<Self, D2::Error> {
                        d.deserialize_identifier(__FieldVisitor)
                    }
                }

                struct __Visitor;
                impl<'de> de::Visitor<'de> for __Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " object"))
                    }
                    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> ::std::result::Result<$name, A::Error> {
                        $( let mut $field: $crate::__wire_slot!($mode $ty) = ::std::option::Option::None; )*
                        let mut extra = $crate::Extra::new();
                        while let ::std::option::Option::Some(key) = map.next_key::<__Field>()? {
                            match key {
                                $( __Field::$field => { $field = $crate::__wire_de!($mode map, $ty); } )*
                                __Field::__Other(k) => {
                                    let v: $crate::__private::serde_json::Value = map.next_value()?;
                                    extra.insert(k, v);
                                }
                            }
                        }
                        ::std::result::Result::Ok($name {
                            $( $field: $crate::__wire_finish!($mode $field, $key), )*
                            extra,
                        })
                    }
                }
                deserializer.deserialize_map(__Visitor)
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __wire_ty {
    (req $ty:ty) => { $ty };
    (opt $ty:ty) => { ::std::option::Option<$ty> };
    (null $ty:ty) => { ::std::option::Option<$ty> };
    (maybe $ty:ty) => { ::std::option::Option<::std::option::Option<$ty>> };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __wire_slot {
    (maybe $ty:ty) => { ::std::option::Option<::std::option::Option<$ty>> };
    ($mode:ident $ty:ty) => { ::std::option::Option<$ty> };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __wire_ser {
    (req $map:ident, $key:literal, $value:expr) => {
        $map.serialize_entry($key, &$value)?
    };
    (opt $map:ident, $key:literal, $value:expr) => {
        if let ::std::option::Option::Some(v) = &$value {
            $map.serialize_entry($key, v)?;
        }
    };
    (null $map:ident, $key:literal, $value:expr) => {
        $map.serialize_entry($key, &$value)?
    };
    (maybe $map:ident, $key:literal, $value:expr) => {
        if let ::std::option::Option::Some(v) = &$value {
            $map.serialize_entry($key, v)?;
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __wire_de {
    (req $map:ident, $ty:ty) => {
        ::std::option::Option::Some($map.next_value::<$ty>()?)
    };
    (opt $map:ident, $ty:ty) => {
        $map.next_value::<::std::option::Option<$ty>>()?
    };
    (null $map:ident, $ty:ty) => {
        $map.next_value::<::std::option::Option<$ty>>()?
    };
    (maybe $map:ident, $ty:ty) => {
        ::std::option::Option::Some($map.next_value::<::std::option::Option<$ty>>()?)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __wire_finish {
    (req $field:ident, $key:literal) => {
        match $field {
            ::std::option::Option::Some(v) => v,
            ::std::option::Option::None => {
                return ::std::result::Result::Err(
                    <A::Error as $crate::__private::serde::de::Error>::missing_field($key),
                )
            }
        }
    };
    (opt $field:ident, $key:literal) => {
        $field
    };
    (null $field:ident, $key:literal) => {
        $field
    };
    (maybe $field:ident, $key:literal) => {
        $field
    };
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    crate::wire_struct! {
        #[derive(Debug, PartialEq)]
        struct Probe {
            list: maybe Vec<u8> = "list",
            name: null String = "name",
            size: opt u32 = "size",
        }
    }

    #[test]
    fn maybe_keeps_absent_null_and_value_apart() {
        for (input, want) in [
            (json!({"name": null}), None),
            (json!({"name": null, "list": null}), Some(None)),
            (json!({"name": null, "list": [1]}), Some(Some(vec![1]))),
        ] {
            let probe: Probe = serde_json::from_value(input.clone()).unwrap();
            assert_eq!(probe.list, want, "{input}");
            assert_eq!(serde_json::to_value(&probe).unwrap(), input, "round trip");
        }
    }

    #[test]
    fn null_and_opt_modes_encode_their_canonical_form() {
        let probe: Probe = serde_json::from_value(json!({"size": null})).unwrap();
        assert_eq!((probe.name.as_deref(), probe.size), (None, None));
        assert_eq!(
            serde_json::to_value(&probe).unwrap(),
            json!({"name": Value::Null})
        );
    }
}
