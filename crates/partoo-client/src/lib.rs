//! Async client for the Partoo REST API v2 messaging endpoints.
//!
//! - [`Client::list_messages`] and [`Client::list_conversations`] fetch one page, with every
//!   query parameter (`conversation_id`, `per_page`, `cursor`, `business__in`).
//! - [`Client::messages`], [`Client::message_pages`], [`Client::conversations`] and
//!   [`Client::conversation_pages`] walk the cursor as lazy streams: nothing is fetched
//!   before the first poll, one request is in flight, pages hold 100 items by default, and a
//!   server that repeats a cursor ends the stream with [`Error::PaginationLoop`].
//! - 429 (honouring `Retry-After`), 5xx other than 501, timeouts and cut connections are
//!   retried with full-jitter backoff, within bounds ([`RetryPolicy`]).
//! - Errors are one enum ([`Error`]) whose variants say what to do; Partoo's error body
//!   (`error` or `errors`) is parsed into them. The API key never prints.
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use partoo_client::{Client, Content};
//!
//! # async fn demo() -> Result<(), partoo_client::Error> {
//! let client = Client::builder(std::env::var("PARTOO_API_KEY").unwrap_or_default())
//!     .sandbox()
//!     .build()?;
//! let messages = client.messages(1234);
//! futures_util::pin_mut!(messages);
//! while let Some(message) = messages.try_next().await? {
//!     match &message.content {
//!         Content::Text(text) => println!("{} {text}", message.date),
//!         other => println!("{} {other:?}", message.date),
//!     }
//! }
//! # Ok(()) }
//! ```

use futures_util::Stream;
use inbox_http::reqwest::Url;
use inbox_http::reqwest::header::HeaderName;
use inbox_http::{Config, Transport, pages};

pub use inbox_http::{ApiError, Body, RetryPolicy, Secret, TransportKind, reqwest};
pub use partoo_types::*;

/// Partoo production: `https://api.partoo.co/v2`.
pub const PRODUCTION_URL: &str = "https://api.partoo.co/v2";
/// Partoo sandbox: `https://api.sandbox.partoo.co/v2`.
pub const SANDBOX_URL: &str = "https://api.sandbox.partoo.co/v2";

/// Everything this client can fail with; see [`inbox_http::Error`] for the variants.
pub type Error = inbox_http::Error<ErrorBody>;

/// The page size streams ask for: the API's maximum, since round trips are the cost.
pub const STREAM_PAGE_SIZE: u32 = MAX_PER_PAGE;

/// Configures a [`Client`]. Start with [`Client::builder`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    config: Config,
    base_url_error: Option<String>,
    key: Secret,
}

impl ClientBuilder {
    inbox_http::config_setters!();

    /// Uses Partoo's sandbox ([`SANDBOX_URL`]) instead of production.
    pub fn sandbox(self) -> Self {
        self.base_url(SANDBOX_URL)
    }

    /// Builds the client. Fails on a refused base URL or an empty key.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(e) = self.base_url_error {
            return Err(Error::Config(e));
        }
        let header = HeaderName::from_static("x-apikey");
        Ok(Client {
            transport: Transport::new(self.config, header, "", &self.key)?,
        })
    }
}

/// A Partoo API client. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
}

impl Client {
    /// A builder for production, authenticating with `api_key` (sent as `x-APIKey`).
    pub fn builder(api_key: impl Into<Secret>) -> ClientBuilder {
        let base = Url::parse(PRODUCTION_URL).expect("PRODUCTION_URL is a valid URL");
        ClientBuilder {
            config: Config::new(base),
            base_url_error: None,
            key: api_key.into(),
        }
    }

    /// The same client with another retry policy, sharing the connection pool. The
    /// aggregator (`inbox::Inbox`) uses `RetryPolicy::none()` and retries itself, so that a
    /// wait never holds one of its request slots.
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
        let mut client = self.clone();
        client.transport = self.transport.with_retry(policy);
        client
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &Url {
        self.transport.base_url()
    }

    /// `GET /messages`: one page of a conversation's messages.
    pub async fn list_messages(&self, query: &ListMessagesQuery) -> Result<MessagesPage, Error> {
        self.list_messages_body(query).await?.decode()
    }

    /// `GET /messages`, the body not yet decoded: decode it with [`Body::decode`] into a
    /// [`MessagesPage`]. For callers that bound requests in flight and decode outside that
    /// bound.
    pub async fn list_messages_body(&self, query: &ListMessagesQuery) -> Result<Body, Error> {
        self.transport.get(&["messages"], &query.to_pairs()).await
    }

    /// `GET /conversations`: one page of conversations.
    pub async fn list_conversations(
        &self,
        query: &ListConversationsQuery,
    ) -> Result<ConversationsPage, Error> {
        self.transport
            .get_json(&["conversations"], &query.to_pairs())
            .await
    }

    /// Every page of a conversation's messages, 100 messages a page.
    pub fn message_pages(
        &self,
        conversation_id: i64,
    ) -> impl Stream<Item = Result<MessagesPage, Error>> + Send + 'static {
        let query = ListMessagesQuery::new(conversation_id)
            .with_per_page(STREAM_PAGE_SIZE)
            .unwrap_or_else(|_| ListMessagesQuery::new(conversation_id));
        self.message_pages_from(query)
    }

    /// Every page of messages from `query` on (its page size and starting cursor kept).
    pub fn message_pages_from(
        &self,
        query: ListMessagesQuery,
    ) -> impl Stream<Item = Result<MessagesPage, Error>> + Send + 'static {
        let client = self.clone();
        let first = query.cursor().map(str::to_owned);
        pages(self.transport.max_pages(), move |cursor: Option<String>| {
            let client = client.clone();
            let mut query = query.clone();
            query.set_cursor(cursor.or_else(|| first.clone()));
            async move {
                let page = client.list_messages(&query).await?;
                let next = page.next_cursor.clone();
                Ok((page, next))
            }
        })
    }

    /// Every message of a conversation, in the order the API returns them.
    ///
    /// A message that does not decode comes as [`Error::InvalidItem`] (holding its raw JSON)
    /// and the stream goes on; any other error ends it.
    pub fn messages(
        &self,
        conversation_id: i64,
    ) -> impl Stream<Item = Result<Message, Error>> + Send + 'static {
        inbox_http::items(self.message_pages(conversation_id), |page| page.messages)
    }

    /// Every page of conversations matching `query` (its filters kept; 100 a page unless the
    /// query sets a size).
    pub fn conversation_pages(
        &self,
        query: ListConversationsQuery,
    ) -> impl Stream<Item = Result<ConversationsPage, Error>> + Send + 'static {
        let query = match query.per_page() {
            Some(_) => query,
            None => query
                .clone()
                .with_per_page(STREAM_PAGE_SIZE)
                .unwrap_or(query),
        };
        let client = self.clone();
        let first = query.cursor().map(str::to_owned);
        pages(self.transport.max_pages(), move |cursor: Option<String>| {
            let client = client.clone();
            let mut query = query.clone();
            query.set_cursor(cursor.or_else(|| first.clone()));
            async move {
                let page = client.list_conversations(&query).await?;
                let next = page.next_cursor.clone();
                Ok((page, next))
            }
        })
    }

    /// Every conversation matching `query`; undecodable ones come as [`Error::InvalidItem`].
    pub fn conversations(
        &self,
        query: ListConversationsQuery,
    ) -> impl Stream<Item = Result<Conversation, Error>> + Send + 'static {
        inbox_http::items(self.conversation_pages(query), |page| page.conversations)
    }
}
