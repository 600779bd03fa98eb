//! The HTTP runtime the provider clients (`partoo-client`, `bird-client`) share, so that
//! both behave the same: [`Config`], [`Secret`] keys that never print, [`RetryPolicy`] with
//! `Retry-After`, one [`Error`] type per provider (`Error<ProviderErrorBody>`), a
//! [`Transport`] that sends authenticated GETs with a body cap and a tracing span per
//! attempt, and [`pages`], cursor pagination as a lazy stream.
//!
//! It knows nothing of either provider: the client crates bring the URLs, the auth header
//! and the wire types.
//!
//! ```no_run
//! use inbox_http::{Config, Secret, Transport, parse_base_url};
//! use reqwest::header::HeaderName;
//!
//! # async fn demo() -> Result<(), inbox_http::Error<serde_json::Value>> {
//! let config = Config::new(parse_base_url("https://api.example.com/v1").map_err(inbox_http::Error::Config)?);
//! let key = Secret::new("my key");
//! let transport = Transport::new(config, HeaderName::from_static("x-apikey"), "", &key)?;
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

pub use error::{ApiError, Error, SNIPPET_BYTES, TransportKind, snippet};
pub use pagination::{CursorGuard, PagingError, in_order, items, pages};
pub use retry::{RetryPolicy, retry_after};
pub use secret::Secret;
pub use transport::{Body, Config, Transport, check_base_url, parse_base_url};

/// The HTTP library the clients are built on, re-exported for [`Config::http_client`].
pub use reqwest;
