//! The builder core both provider clients wrap: every shared setting, set once.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderName;

use crate::error::ConfigError;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::transport::{Config, Transport, parse_base_url};

/// What a provider brings to the shared [`ClientBuilder`]: how it authenticates, and the
/// client it builds around a [`Transport`]. Each client crate implements it on a small
/// type of its own (`partoo_client::PartooApi`, `bird_client::BirdApi`) and names
/// `ClientBuilder<ThatType>` its `ClientBuilder`.
pub trait Api: Sized {
    /// The client built.
    type Client;
    /// The header the key travels in (`x-apikey`, `authorization`), lowercase.
    const AUTH_HEADER: &'static str;
    /// What goes before the key in that header (`""`, `"AccessKey "`).
    const AUTH_PREFIX: &'static str;
    /// What the key is called in errors (`API key`, `access key`).
    const KEY_NAME: &'static str;

    /// Builds the client around a transport that is ready to send; refuses what the
    /// provider cannot work with (an empty workspace id, say).
    fn build(self, transport: Transport) -> Result<Self::Client, ConfigError>;
}

/// Configures a provider client: base URL, timeouts, retry policy, body and page caps, a
/// shared `reqwest::Client`. A refused setting is reported by [`ClientBuilder::build`], so
/// the setters chain.
///
/// ```
/// use std::time::Duration;
/// use inbox_http::{Api, ClientBuilder, ConfigError, RetryPolicy, Secret, Transport};
///
/// /// A provider that authenticates with `x-token`.
/// struct Example;
///
/// impl Api for Example {
///     type Client = Transport;
///     const AUTH_HEADER: &'static str = "x-token";
///     const AUTH_PREFIX: &'static str = "";
///     const KEY_NAME: &'static str = "token";
///     fn build(self, transport: Transport) -> Result<Transport, ConfigError> {
///         Ok(transport)
///     }
/// }
///
/// let base = "https://api.example.com/v1".parse().unwrap();
/// let transport = ClientBuilder::new(Example, base, Secret::new("t0k3n"))
///     .timeout(Duration::from_secs(10))
///     .retry_policy(RetryPolicy { max_attempts: 3, ..RetryPolicy::default() })
///     .build()?;
/// assert_eq!(transport.base_url().as_str(), "https://api.example.com/v1");
///
/// let refused = ClientBuilder::new(Example, transport.base_url().clone(), Secret::new("k"))
///     .base_url("http://api.example.com")
///     .build();
/// assert!(matches!(refused, Err(ConfigError::InsecureBaseUrl { .. })));
/// # Ok::<(), ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ClientBuilder<A> {
    api: A,
    config: Config,
    key: Secret,
    /// A base URL that was refused, reported by `build`.
    refused_base_url: Option<String>,
}

impl<A: fmt::Debug> fmt::Debug for ClientBuilder<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api", &self.api)
            .field("config", &self.config)
            .field("key", &self.key)
            .field("refused_base_url", &self.refused_base_url)
            .finish()
    }
}

impl<A: Api> ClientBuilder<A> {
    /// A builder for `api` under `base_url`, authenticating with `key`, with the defaults
    /// of [`Config::new`].
    pub fn new(api: A, base_url: Url, key: Secret) -> Self {
        Self {
            api,
            config: Config::new(base_url),
            key,
            refused_base_url: None,
        }
    }

    /// Sends requests under this base URL instead (a sandbox, a proxy, a test server).
    /// `https` is required unless the host is loopback; a refused URL is reported by
    /// [`ClientBuilder::build`].
    pub fn base_url(mut self, url: &str) -> Self {
        match parse_base_url(url) {
            Ok(url) => {
                self.config.base_url = url;
                self.refused_base_url = None;
            }
            Err(_) => self.refused_base_url = Some(url.to_owned()),
        }
        self
    }

    /// Limits each request, from connecting to the last body byte (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = Some(timeout);
        self
    }

    /// Lets requests take as long as they take.
    pub fn no_timeout(mut self) -> Self {
        self.config.timeout = None;
        self
    }

    /// Limits connecting (default 10 s; not applied to a client given with
    /// [`ClientBuilder::http_client`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Sets the `User-Agent` (not applied to a client given with
    /// [`ClientBuilder::http_client`]).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.config.user_agent = user_agent.into();
        self
    }

    /// Sets the retry policy of the client's own calls; [`RetryPolicy::none`] turns retries
    /// off. (Inside an `inbox::Inbox`, requests are single attempts and the inbox retries
    /// with its own policy, between request slots.)
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Shares an existing HTTP client (its pool, proxy and TLS settings). Build it with
    /// `redirect(reqwest::redirect::Policy::none())`: a client that follows redirects
    /// would carry the key to wherever a redirect points.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.config.http_client = Some(client);
        self
    }

    /// Refuses response bodies larger than this many bytes (default 8 MiB).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.config.max_body_bytes = bytes;
        self
    }

    /// Ends page streams with [`crate::PagingError::Cap`] after this many pages if more
    /// remain (default 10 000; `None` for no cap).
    pub fn max_pages(mut self, pages: Option<usize>) -> Self {
        self.config.max_pages = pages;
        self
    }

    /// The settings so far.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Builds the client. Fails on a refused base URL, an empty key or one a header cannot
    /// carry, or what the provider refuses.
    pub fn build(self) -> Result<A::Client, ConfigError> {
        if let Some(url) = &self.refused_base_url {
            parse_base_url(url)?;
        }
        let header = HeaderName::from_static(A::AUTH_HEADER);
        let transport =
            Transport::new(self.config, header, A::AUTH_PREFIX, A::KEY_NAME, &self.key)?;
        self.api.build(transport)
    }
}
