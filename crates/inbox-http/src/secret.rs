//! API keys that never print.

use std::fmt;

/// A credential (API key, access key). `Debug` and `Display` print `[redacted]`; the value
/// is reachable only through [`Secret::expose`], which the clients call where they build the
/// authentication header and nowhere else.
///
/// ```
/// use inbox_http::Secret;
///
/// let key = Secret::new("sk_live_123");
/// assert_eq!(format!("{key:?} {key}"), "Secret([redacted]) [redacted]");
/// assert_eq!(key.expose(), "sk_live_123");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into().into_boxed_str())
    }

    /// The credential itself. Call it only to build a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the credential is empty or only white space.
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}
