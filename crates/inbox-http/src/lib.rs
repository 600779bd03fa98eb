//! The HTTP runtime the provider clients (`partoo-client`, `bird-client`) share, so that
//! both behave the same:
//!
//! - [`ClientBuilder`]: the builder core both clients wrap (base URL, timeouts, retry
//!   policy, caps, a shared `reqwest::Client`), with typed [`ConfigError`]s;
//! - [`Secret`]: keys that never print;
//! - [`RetryPolicy`] and [`Backoff`]: the one retry mechanism of the workspace (attempts,
//!   timeouts retried at most twice, a time budget, full jitter, `Retry-After`), used by a
//!   client on its own and by the `inbox` aggregator between its request slots;
//! - [`Error`]: one error type per provider (`Error<ProviderErrorBody>`), classified for
//!   retrying by [`Error::class`];
//! - [`Transport`]: authenticated GETs with a body cap and a tracing span per attempt,
//!   retried ([`Transport::get`]) or single ([`Transport::get_once`]);
//! - [`pages`]: cursor pagination as a lazy stream, with [`PagingError`] on a loop or at the
//!   page cap.
//!
//! It knows nothing of either provider: the client crates bring the URLs, the auth header
//! and the wire types.
//!
//! ```no_run
//! use inbox_http::{Config, Secret, Transport, parse_base_url};
//! use reqwest::header::HeaderName;
//!
//! # async fn demo() -> Result<(), inbox_http::Error<serde_json::Value>> {
//! let config = Config::new(parse_base_url("https://api.example.com/v1")?);
//! let key = Secret::new("my key");
//! let transport = Transport::new(config, HeaderName::from_static("x-apikey"), "", "API key", &key)?;
//! let page: serde_json::Value = transport.get_json(&["messages"], &[("per_page", "100".into())]).await?;
//! println!("{page}");
//! # Ok(()) }
//! ```

mod builder;
mod error;
mod pagination;
mod retry;
mod secret;
mod transport;

pub use builder::{Api, ClientBuilder};
pub use error::{ApiError, ConfigError, Effect, Error, SNIPPET_BYTES, TransportKind, snippet};
pub use pagination::{CursorGuard, PagingError, in_order, items, pages};
pub use retry::{Backoff, ErrorClass, RetryPolicy, retry_after};
pub use secret::Secret;
pub use transport::{Body, Config, Transport, check_base_url, parse_base_url};

/// The HTTP library the clients are built on, re-exported for [`Config::http_client`].
pub use reqwest;
