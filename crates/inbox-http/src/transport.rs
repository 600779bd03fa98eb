//! Sending one request (a GET, or a POST that changes something) with authentication,
//! timeouts, a body cap and retries.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::error::{ApiError, ConfigError, Error, TransportKind, snippet};
use crate::retry::{Backoff, RetryPolicy, retry_after};
use crate::secret::Secret;

/// Settings every provider client shares. Provider crates wrap it in their own builder.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the API lives, e.g. `https://api.partoo.co/v2`. `http://` only for loopback.
    pub base_url: Url,
    /// The whole request, from connecting to the last body byte; `None` for no limit.
    pub timeout: Option<Duration>,
    /// Establishing the connection (ignored with [`Config::http_client`]).
    pub connect_timeout: Duration,
    /// The `User-Agent` header (ignored with [`Config::http_client`]).
    pub user_agent: String,
    /// When and how to retry.
    pub retry: RetryPolicy,
    /// Bodies larger than this are refused before being read whole.
    pub max_body_bytes: usize,
    /// Page streams stop with [`crate::PagingError::Cap`] after this many pages if more
    /// remain.
    pub max_pages: Option<usize>,
    /// A client to share (connection pool, proxy, TLS settings); one is built otherwise.
    /// Build it with `redirect(reqwest::redirect::Policy::none())`: a client that follows
    /// redirects would carry the key to wherever a redirect points.
    pub http_client: Option<reqwest::Client>,
}

impl Config {
    /// Defaults for `base_url`: 30 s timeout, 10 s connect timeout, the default
    /// [`RetryPolicy`], an 8 MiB body cap and a 10 000-page cap.
    pub fn new(base_url: Url) -> Self {
        Self {
            base_url,
            timeout: Some(Duration::from_secs(30)),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("inbox/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            max_body_bytes: 8 << 20,
            max_pages: Some(10_000),
            http_client: None,
        }
    }
}

/// Parses a base URL and refuses one that would send a key in clear: `https` anywhere,
/// `http` only to a loopback host (`localhost`, `127.0.0.0/8`, `::1`).
pub fn parse_base_url(text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text).map_err(|e| ConfigError::InvalidBaseUrl {
        url: text.to_owned(),
        reason: e.to_string(),
    })?;
    check_base_url(&url)?;
    Ok(url)
}

/// The check of [`parse_base_url`] on a parsed URL.
pub fn check_base_url(url: &Url) -> Result<(), ConfigError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(ConfigError::InsecureBaseUrl {
            url: url.to_string(),
        }),
        other => Err(ConfigError::UnsupportedScheme {
            url: url.to_string(),
            scheme: other.to_owned(),
        }),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// A successful response, read whole (within the cap).
#[derive(Debug, Clone)]
pub struct Body {
    /// The HTTP status code (2xx).
    pub status: u16,
    /// The `Content-Type` header, empty when none.
    pub content_type: String,
    /// The body.
    pub bytes: Vec<u8>,
}

impl Body {
    /// Decodes the body as `T` (see [`inbox_wire::from_slice`]); a body that does not decode
    /// is an [`Error::InvalidResponse`] naming the status, content type and JSON path.
    ///
    /// Separate from fetching so a caller can bound the requests in flight without holding
    /// a slot while it decodes.
    pub fn decode<T: DeserializeOwned, B>(&self) -> Result<T, Error<B>> {
        inbox_wire::from_slice(&self.bytes).map_err(|e| self.invalid(e))
    }

    /// The [`Error::InvalidResponse`] for this body and a decoding error found in it (by
    /// [`Body::decode`], or by a cheaper scan such as a cursor peek).
    pub fn invalid<B>(&self, e: inbox_wire::DecodeError) -> Error<B> {
        Error::InvalidResponse {
            status: self.status,
            content_type: self.content_type.clone(),
            path: e.path,
            message: e.message,
            snippet: snippet(&self.bytes),
        }
    }
}

/// Sends authenticated requests for one provider, with retries: GETs retried as the
/// policy allows, POSTs only when they cannot have taken effect.
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    base_url: Url,
    auth_name: HeaderName,
    auth_value: HeaderValue,
    timeout: Option<Duration>,
    retry: RetryPolicy,
    max_body_bytes: usize,
    max_pages: Option<usize>,
}

impl Transport {
    /// A transport that sends `auth_name: auth_prefix + key` with every request; `key_name`
    /// names the key in errors (`API key`).
    ///
    /// The header value is marked sensitive, so the HTTP stack never prints it either.
    pub fn new(
        config: Config,
        auth_name: HeaderName,
        auth_prefix: &str,
        key_name: &'static str,
        key: &Secret,
    ) -> Result<Self, ConfigError> {
        check_base_url(&config.base_url)?;
        if key.is_blank() {
            return Err(ConfigError::Empty { what: key_name });
        }
        let mut auth_value = HeaderValue::from_str(&format!("{auth_prefix}{}", key.expose()))
            .map_err(|_| ConfigError::NotHeaderSafe { what: key_name })?;
        auth_value.set_sensitive(true);
        let http = match config.http_client {
            Some(client) => client,
            // No redirects: reqwest forwards custom headers (Partoo's `x-APIKey`) to wherever
            // a redirect points, plain http included. A 3xx is reported instead.
            None => reqwest::Client::builder()
                .connect_timeout(config.connect_timeout)
                .user_agent(config.user_agent)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(ConfigError::HttpClient)?,
        };
        Ok(Self {
            http,
            base_url: config.base_url,
            auth_name,
            auth_value,
            timeout: config.timeout,
            retry: config.retry,
            max_body_bytes: config.max_body_bytes,
            max_pages: config.max_pages,
        })
    }

    /// The retry policy of [`Transport::get`].
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The base URL requests are sent under.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The page cap for streams.
    pub fn max_pages(&self) -> Option<usize> {
        self.max_pages
    }

    /// The URL of `segments` (each percent-encoded) under the base URL, with `query`.
    pub fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.base_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// GETs `segments` with `query` and decodes the body as `T` (see [`inbox_wire::from_slice`]).
    pub async fn get_json<T, B>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, Error<B>>
    where
        T: DeserializeOwned,
        B: DeserializeOwned + std::fmt::Display,
    {
        let body = self.get(segments, query).await?;
        body.decode()
    }

    /// GETs `segments` with `query`, retrying as the policy allows (see [`RetryPolicy`]).
    pub async fn get<B: DeserializeOwned + std::fmt::Display>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Body, Error<B>> {
        self.retried(&self.url(segments, query), None).await
    }

    /// Attempts until one succeeds or the policy gives up. A POST (with `body`) is tried
    /// again only when its failure cannot have taken effect ([`Error::effect`]).
    async fn retried<B: DeserializeOwned + std::fmt::Display>(
        &self,
        url: &Url,
        body: Option<&[u8]>,
    ) -> Result<Body, Error<B>> {
        let mut backoff = Backoff::new(self.retry);
        loop {
            let started = Instant::now();
            let error = match self.attempt::<B>(url, body).await {
                Ok(body) => return Ok(body),
                Err(error) => error,
            };
            if body.is_some() && error.effect() != crate::Effect::None {
                return Err(error);
            }
            let Some(delay) = backoff.next(error.class(), started.elapsed()) else {
                return Err(error);
            };
            tracing::warn!(
                path = url.path(),
                attempt = backoff.attempts(),
                error = %error,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// GETs `segments` with `query` in one attempt, never retried: for a caller that
    /// schedules retries itself (the `inbox` aggregator does, with the same [`RetryPolicy`]
    /// and [`crate::Backoff`], so that a wait never holds one of its request slots).
    pub async fn get_once<B: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Body, Error<B>> {
        self.attempt(&self.url(segments, query), None).await
    }

    /// POSTs `body` as JSON to `segments`: a request that changes something (a send), so
    /// retried only when it cannot have taken effect ([`Error::effect`] is
    /// [`Effect::None`](crate::Effect::None)) and the policy allows it: a 429 (after its
    /// `Retry-After`), a connection that could not be made. A 5xx, a timeout or a
    /// connection lost after the request went out is returned at once: the provider may
    /// have done it, and only the caller can find out (by looking for it) before sending
    /// again.
    pub async fn post_json<B: DeserializeOwned + std::fmt::Display>(
        &self,
        segments: &[&str],
        body: &impl serde::Serialize,
    ) -> Result<Body, Error<B>> {
        let bytes = json_body(body)?;
        self.retried(&self.url(segments, &[]), Some(&bytes)).await
    }

    /// POSTs `body` as JSON to `segments` in one attempt, never retried.
    pub async fn post_json_once<B: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &impl serde::Serialize,
    ) -> Result<Body, Error<B>> {
        let bytes = json_body(body)?;
        self.attempt(&self.url(segments, &[]), Some(&bytes)).await
    }

    /// One attempt (a GET, or a POST of `body`), in a tracing span of its own (method,
    /// path, status, elapsed time; never the key, never the query, never the body).
    async fn attempt<B: DeserializeOwned>(
        &self,
        url: &Url,
        body: Option<&[u8]>,
    ) -> Result<Body, Error<B>> {
        let method = if body.is_some() { "POST" } else { "GET" };
        let span = tracing::info_span!(
            "http_request",
            method,
            path = url.path(),
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let outcome = self.send::<B>(url, body).instrument(span.clone()).await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        span.record("elapsed_ms", elapsed_ms);
        match &outcome {
            Ok(body) => {
                span.record("status", body.status);
            }
            Err(error) => {
                if let Some(status) = error.status() {
                    span.record("status", status);
                }
            }
        }
        outcome
    }

    async fn send<B: DeserializeOwned>(
        &self,
        url: &Url,
        body: Option<&[u8]>,
    ) -> Result<Body, Error<B>> {
        let method = if body.is_some() { "POST" } else { "GET" };
        let mut request = match body {
            Some(body) => self
                .http
                .post(url.clone())
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_vec()),
            None => self.http.get(url.clone()),
        }
        .header(self.auth_name.clone(), self.auth_value.clone())
        .header(ACCEPT, "application/json");
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport(e, method, url))?;
        let status = response.status();
        let wait = retry_after(response.headers(), SystemTime::now());
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(200).collect::<String>());
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = self.read_capped(response, status, method, url).await?;
        if status.is_success() {
            return Ok(Body {
                status: status.as_u16(),
                content_type,
                bytes,
            });
        }
        let redirect = status.is_redirection().then(|| {
            let to = location.as_deref().unwrap_or("nowhere given");
            format!("redirect to `{to}` not followed: the key is only sent to the base URL")
        });
        let api = ApiError {
            status: status.as_u16(),
            body: serde_json::from_slice::<B>(&bytes).ok().map(Box::new),
            snippet: redirect.unwrap_or_else(|| snippet(&bytes)),
        };
        Err(match status.as_u16() {
            401 => Error::Unauthorized(api),
            403 => Error::Forbidden(api),
            404 => Error::NotFound(api),
            409 => Error::Conflict(api),
            429 => Error::RateLimited {
                retry_after: wait,
                error: api,
            },
            500..=599 => Error::Server(api),
            _ => Error::Rejected(api),
        })
    }

    async fn read_capped<B>(
        &self,
        mut response: reqwest::Response,
        status: StatusCode,
        method: &'static str,
        url: &Url,
    ) -> Result<Vec<u8>, Error<B>> {
        let limit = self.max_body_bytes;
        let too_large = || Error::BodyTooLarge {
            status: status.as_u16(),
            limit,
        };
        let declared = response.content_length().unwrap_or(0);
        if declared > limit as u64 {
            return Err(too_large());
        }
        let mut bytes = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport(e, method, url))?
        {
            if bytes.len() + chunk.len() > limit {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

/// A request body as JSON; one that does not serialize is the caller's error.
fn json_body<B>(body: &impl serde::Serialize) -> Result<Vec<u8>, Error<B>> {
    serde_json::to_vec(body).map_err(|e| Error::InvalidArgument(format!("the request body: {e}")))
}

/// A request's error, named by the URL asked for (without its query: cursors are long).
fn transport<B>(source: reqwest::Error, method: &'static str, url: &Url) -> Error<B> {
    let kind = if source.is_timeout() {
        TransportKind::Timeout
    } else if source.is_connect() {
        TransportKind::Connect
    } else if source.is_body() || source.is_decode() {
        TransportKind::BodyCutShort
    } else {
        TransportKind::Request
    };
    let mut url = url.clone();
    url.set_query(None);
    Error::Transport {
        kind,
        method,
        url: url.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "https://api.partoo.co/v2",
            "http://127.0.0.1:8080/v2",
            "http://127.9.9.9",
            "http://localhost:1234",
            "http://[::1]:99/x",
        ] {
            assert!(parse_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.partoo.co/v2",
            "http://10.0.0.1",
            "http://[::2]",
            "ftp://localhost",
            "nope",
        ] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
        let err = parse_base_url("http://api.bird.com").unwrap_err();
        assert!(matches!(err, ConfigError::InsecureBaseUrl { .. }), "{err}");
        assert!(err.to_string().contains("in clear"), "{err}");
    }

    #[test]
    fn urls_join_and_encode_segments() {
        let config = Config::new(parse_base_url("https://api.partoo.co/v2/").unwrap());
        let t = Transport::new(
            config,
            HeaderName::from_static("x-apikey"),
            "",
            "API key",
            &Secret::new("k"),
        )
        .unwrap();
        let url = t.url(
            &["workspaces", "a b/c", "messages"],
            &[("cursor", "x&y=z".into())],
        );
        assert_eq!(
            url.as_str(),
            "https://api.partoo.co/v2/workspaces/a%20b%2Fc/messages?cursor=x%26y%3Dz"
        );
    }

    #[test]
    fn blank_keys_are_refused() {
        let config = Config::new(parse_base_url("https://api.partoo.co/v2").unwrap());
        let err = Transport::new(
            config,
            HeaderName::from_static("x-apikey"),
            "",
            "API key",
            &Secret::new(" "),
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Empty { what: "API key" }));
        assert_eq!(err.to_string(), "the API key is empty");
    }
}
