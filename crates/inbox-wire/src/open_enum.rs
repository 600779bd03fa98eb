//! Response-side enums that keep values this version does not know.

/// Defines a response-side enum: one variant per documented value, plus
/// `Unknown(String)` that keeps any other value and encodes back to it.
///
/// Providers add values without notice; a closed enum would turn one new value into a failed
/// page. The generated enum is `#[non_exhaustive]`, implements `Serialize`/`Deserialize` as a
/// JSON string, `Display`, `From<&str>`, `From<String>`, and offers `as_str`, `is_known` and
/// `KNOWN` (every documented value).
///
/// ```
/// inbox_wire::open_enum! {
///     /// Delivery status.
///     pub enum Status {
///         /// Being sent.
///         Sending = "Sending",
///         /// Sent.
///         Success = "Success",
///     }
/// }
///
/// let s: Status = serde_json::from_str("\"Bounced\"").unwrap();
/// assert_eq!(s, Status::Unknown("Bounced".into()));
/// assert_eq!(serde_json::to_string(&s).unwrap(), "\"Bounced\"");
/// assert_eq!(Status::from("Success"), Status::Success);
/// assert!(!s.is_known());
/// ```
#[macro_export]
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value not documented when this crate was written, kept as it was sent.
            /// Build values with `From<&str>` so that a documented value gets its own variant.
            Unknown(::std::string::String),
        }

        impl $name {
            /// Every documented value, in the order the provider documents them.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value as it is spelled on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $value, )+
                    $name::Unknown(other) => other.as_str(),
                }
            }

            /// Whether this is a documented value (not [`Self::Unknown`]).
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Unknown(_))
            }

            fn __known(value: &str) -> ::std::option::Option<Self> {
                match value {
                    $( $value => ::std::option::Option::Some($name::$variant), )+
                    _ => ::std::option::Option::None,
                }
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::__known(value).unwrap_or_else(|| $name::Unknown(value.to_owned()))
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                Self::__known(&value).unwrap_or($name::Unknown(value))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>
            where
                S: $crate::__private::serde::Serializer,
            {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: $crate::__private::serde::Deserializer<'de>,
            {
                struct V;
                impl $crate::__private::serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " string"))
                    }
                    fn visit_str<E>(self, v: &str) -> ::std::result::Result<$name, E> {
                        ::std::result::Result::Ok($name::from(v))
                    }
                    fn visit_string<E>(self, v: ::std::string::String) -> ::std::result::Result<$name, E> {
                        ::std::result::Result::Ok($name::from(v))
                    }
                }
                deserializer.deserialize_str(V)
            }
        }
    };
}
