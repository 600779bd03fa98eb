//! The one error type of a provider client.

use std::fmt;
use std::time::Duration;

use crate::pagination::PagingError;
use crate::retry::ErrorClass;

/// Longest body excerpt an error carries, in bytes (cut on a character boundary).
pub const SNIPPET_BYTES: usize = 512;

/// A response with an error status, and what the provider said about it.
#[derive(Debug, Clone)]
pub struct ApiError<B> {
    /// The HTTP status code.
    pub status: u16,
    /// The provider's error body, when it parsed as one (boxed: errors stay small).
    pub body: Option<Box<B>>,
    /// The start of the body as text, at most [`SNIPPET_BYTES`].
    pub snippet: String,
}

impl<B: fmt::Display> fmt::Display for ApiError<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.body, self.snippet.is_empty()) {
            (Some(body), _) => write!(f, "{body}"),
            (None, true) => f.write_str("(empty body)"),
            (None, false) => write!(f, "{}", self.snippet),
        }
    }
}

/// What went wrong on the way to or from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The request or the response took longer than the configured timeout.
    Timeout,
    /// No connection could be made.
    Connect,
    /// The connection ended before the whole body arrived.
    BodyCutShort,
    /// Anything else while sending the request.
    Request,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Timeout => "request timed out",
            TransportKind::Connect => "could not connect",
            TransportKind::BodyCutShort => "response body cut short",
            TransportKind::Request => "request failed",
        })
    }
}

/// Everything a provider client can fail with. `B` is the provider's error body type; each
/// client crate names this type `Error`.
///
/// The variants say what a caller can do: fix the key ([`Error::Unauthorized`]), ask for
/// access ([`Error::Forbidden`]), drop a stale id ([`Error::NotFound`]), slow down
/// ([`Error::RateLimited`]), retry later ([`Error::Server`], [`Error::Transport`]), report a
/// provider bug ([`Error::InvalidResponse`], [`Error::Paging`]) or fix the call
/// ([`Error::InvalidArgument`], [`Error::Config`]). No variant ever holds a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<B> {
    /// 401: the key is missing, wrong or revoked.
    #[error("unauthorized (401): {0}")]
    Unauthorized(ApiError<B>),
    /// 403: the key may not do this.
    #[error("forbidden (403): {0}")]
    Forbidden(ApiError<B>),
    /// 404: no such resource.
    #[error("not found (404): {0}")]
    NotFound(ApiError<B>),
    /// 409: the resource is in a state that forbids this.
    #[error("conflict (409): {0}")]
    Conflict(ApiError<B>),
    /// 429 after every allowed retry: slow down.
    #[error("rate limited (429){}: {error}", RetryAfter(*retry_after))]
    RateLimited {
        /// The last `Retry-After` the server sent.
        retry_after: Option<Duration>,
        /// The response.
        error: ApiError<B>,
    },
    /// 5xx after every allowed retry (501 is never retried).
    #[error("server error ({status}): {0}", status = .0.status)]
    Server(ApiError<B>),
    /// Another 4xx (400, 415, 422, ...): the request itself is wrong.
    #[error("request rejected ({status}): {0}", status = .0.status)]
    Rejected(ApiError<B>),
    /// A success status whose body is not what the API documents.
    #[error(
        "invalid response ({status}, content type `{content_type}`) at `{path}`: {message}; body starts: {snippet}"
    )]
    InvalidResponse {
        /// The HTTP status code.
        status: u16,
        /// The `Content-Type` the server sent (empty when none).
        content_type: String,
        /// JSON path where decoding failed (`.` for the document).
        path: String,
        /// What was wrong there.
        message: String,
        /// The start of the body, at most [`SNIPPET_BYTES`].
        snippet: String,
    },
    /// The body was larger than the configured cap; it was not read.
    #[error("response body over the {limit}-byte cap (status {status})")]
    BodyTooLarge {
        /// The HTTP status code.
        status: u16,
        /// The cap, in bytes.
        limit: usize,
    },
    /// The request did not complete, after every allowed retry.
    #[error("{kind}: {method} {url}")]
    Transport {
        /// What kind of failure.
        kind: TransportKind,
        /// The request's method (`GET`, `POST`).
        method: &'static str,
        /// The URL asked for, without its query string.
        url: String,
        /// The HTTP library's error.
        #[source]
        source: reqwest::Error,
    },
    /// An argument was refused before any request was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Paging stopped: the server repeated a cursor, or the page cap was reached.
    #[error(transparent)]
    Paging(#[from] PagingError),
    /// The client configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// One item of a page did not decode. It is kept here, raw, and the stream goes on with
    /// the next item: the rest of the page is not lost.
    #[error("invalid item {} of a page at `{}`: {}", .0.index, .0.path, .0.message)]
    InvalidItem(Box<inbox_wire::Rejected>),
}

/// Why a client cannot be built (or a base URL is refused). Nothing in it is a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL does not parse.
    #[error("base URL `{url}` is not a URL: {reason}")]
    InvalidBaseUrl {
        /// The text given.
        url: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The base URL's scheme is neither `https` nor `http`.
    #[error("base URL `{url}`: scheme `{scheme}` is not http(s)")]
    UnsupportedScheme {
        /// The URL.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// Plain `http` to a host that is not loopback: the key would travel in clear.
    #[error(
        "base URL `{url}` is plain http to a non-loopback host: the key would travel in clear; use https"
    )]
    InsecureBaseUrl {
        /// The URL.
        url: String,
    },
    /// A required setting is empty or only white space.
    #[error("the {what} is empty")]
    Empty {
        /// Which setting (`API key`, `workspace id`, ...).
        what: &'static str,
    },
    /// The key has characters an HTTP header cannot carry.
    #[error("the {what} has characters an HTTP header cannot carry")]
    NotHeaderSafe {
        /// Which setting.
        what: &'static str,
    },
    /// The HTTP client could not be built (no TLS backend, for instance).
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
}

impl<B> Error<B> {
    /// The HTTP status the error came with, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized(e)
            | Error::Forbidden(e)
            | Error::NotFound(e)
            | Error::Conflict(e)
            | Error::Server(e)
            | Error::Rejected(e)
            | Error::RateLimited { error: e, .. } => Some(e.status),
            Error::InvalidResponse { status, .. } | Error::BodyTooLarge { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// What the error means for retrying: a 429 (with its `Retry-After`), a timeout, a
    /// transient failure (5xx other than 501, a connection refused or cut, a body cut
    /// short), or permanent.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::RateLimited { retry_after, .. } => ErrorClass::RateLimited {
                retry_after: *retry_after,
            },
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            } => ErrorClass::Timeout,
            Error::Transport { .. } => ErrorClass::Transient,
            Error::Server(e) if e.status != 501 => ErrorClass::Transient,
            _ => ErrorClass::Permanent,
        }
    }

    /// Whether trying again later may succeed: [`Error::class`] is not permanent.
    pub fn is_transient(&self) -> bool {
        self.class().is_retryable()
    }

    /// Whether the request this error ended may have taken effect at the provider: what a
    /// sender must know before it sends again.
    ///
    /// [`Effect::None`] when the provider answered a refusal (any 4xx), asked to slow
    /// down (429: not processed, per both providers), or when no connection was made, so
    /// the request never left; and for errors raised before sending
    /// ([`Error::InvalidArgument`], [`Error::Config`]). [`Effect::Unknown`] when the
    /// request went out and no complete answer came back (a timeout, a connection dropped
    /// or a body cut short), when a 2xx came back that cannot be read
    /// ([`Error::InvalidResponse`], [`Error::BodyTooLarge`] of a success), and for a 5xx:
    /// both providers call 5xx safe to retry, but a gateway's 502 or 504, or a 500 raised
    /// after the write, can come after the provider took it, so a send looks first.
    pub fn effect(&self) -> Effect {
        match self {
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            } => Effect::None,
            Error::Transport { .. } | Error::InvalidResponse { .. } | Error::Server(_) => {
                Effect::Unknown
            }
            Error::BodyTooLarge { status, .. } if (200..300).contains(status) => Effect::Unknown,
            _ => Effect::None,
        }
    }
}

/// Whether a failed request may have taken effect at the provider (see [`Error::effect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// It did not: sending it again cannot do it twice.
    None,
    /// It may have: look at the provider before sending it again.
    Unknown,
}

struct RetryAfter(Option<Duration>);

impl fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, ", retry after {}s", d.as_secs()),
            None => Ok(()),
        }
    }
}

/// The start of `bytes` as text, at most [`SNIPPET_BYTES`], cut on a character boundary.
pub fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SNIPPET_BYTES + 4)]);
    let mut end = text.len().min(SNIPPET_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text[..end].trim_end().to_owned();
    if bytes.len() > end {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_bounded_and_cut_on_char_boundaries() {
        assert_eq!(snippet(b"{\"a\":1}"), "{\"a\":1}");
        let long = "é".repeat(1000);
        let s = snippet(long.as_bytes());
        assert!(s.len() <= SNIPPET_BYTES + '…'.len_utf8(), "{}", s.len());
        assert!(s.ends_with('…'));
        assert_eq!(snippet(b""), "");
    }

    #[test]
    fn display_says_what_and_where() {
        let e: Error<String> = Error::RateLimited {
            retry_after: Some(Duration::from_secs(60)),
            error: ApiError {
                status: 429,
                body: None,
                snippet: "slow down".into(),
            },
        };
        assert_eq!(
            e.to_string(),
            "rate limited (429), retry after 60s: slow down"
        );
        assert!(e.is_transient());
        assert_eq!(e.status(), Some(429));
        let e: Error<String> = Error::Server(ApiError {
            status: 501,
            body: None,
            snippet: String::new(),
        });
        assert_eq!(e.to_string(), "server error (501): (empty body)");
        assert!(!e.is_transient());
    }
}
