//! Async client for the Partoo REST API v2 messaging endpoints.
//!
//! - [`Client::list_messages`] and [`Client::list_conversations`] fetch one page, with every
//!   query parameter (`conversation_id`, `per_page`, `cursor`, `business__in`).
//! - [`Client::messages`], [`Client::message_pages`], [`Client::conversations`] and
//!   [`Client::conversation_pages`] walk the cursor as lazy streams: nothing is fetched
//!   before the first poll, one request is in flight, pages hold 100 items by default, and a
//!   server that repeats a cursor ends the stream with [`Error::Paging`].
//! - 429 (honouring `Retry-After`), 5xx other than 501, timeouts and cut connections are
//!   retried with full-jitter backoff, within bounds ([`RetryPolicy`]: attempts, a timeout
//!   retried at most twice, a time budget). `*_attempt` methods make one attempt, for a
//!   caller that retries itself.
//! - [`Client::send_message`] (`POST /messages`, the documented limits checked first) and
//!   [`Client::retry_message`] send; a send is retried only when it cannot have been sent.
//! - Errors are one enum ([`Error`]) whose variants say what to do; Partoo's error body
//!   (`error` or `errors`) is parsed into them. The API key never prints.
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use partoo_client::{Client, Content};
//!
//! # async fn demo() -> Result<(), partoo_client::Error> {
//! let client = Client::sandbox_builder(std::env::var("PARTOO_API_KEY").unwrap_or_default())
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
use inbox_http::{Transport, pages};

pub use inbox_http::{
    ApiError, Body, ConfigError, Effect, PagingError, RetryPolicy, Secret, TransportKind, reqwest,
};
pub use partoo_types::*;

/// Partoo production: `https://api.partoo.co/v2`.
pub const PRODUCTION_URL: &str = "https://api.partoo.co/v2";
/// Partoo sandbox: `https://api.sandbox.partoo.co/v2`.
pub const SANDBOX_URL: &str = "https://api.sandbox.partoo.co/v2";

/// Everything this client can fail with; see [`inbox_http::Error`] for the variants.
pub type Error = inbox_http::Error<ErrorBody>;

/// The page size streams ask for: the API's maximum, since round trips are the cost.
pub const STREAM_PAGE_SIZE: u32 = MAX_PER_PAGE;

/// Configures a [`Client`]: the shared builder of `inbox-http` (base URL, timeouts, retry
/// policy, caps, a shared `reqwest::Client`). Start with [`Client::builder`] or
/// [`Client::sandbox_builder`].
pub type ClientBuilder = inbox_http::ClientBuilder<PartooApi>;

/// How Partoo authenticates (`x-APIKey`), for the shared [`ClientBuilder`].
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct PartooApi;

impl inbox_http::Api for PartooApi {
    type Client = Client;
    const AUTH_HEADER: &'static str = "x-apikey";
    const AUTH_PREFIX: &'static str = "";
    const KEY_NAME: &'static str = "Partoo API key";

    fn build(self, transport: Transport) -> Result<Client, ConfigError> {
        Ok(Client { transport })
    }
}

/// A Partoo API client. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
}

impl Client {
    /// A builder for production ([`PRODUCTION_URL`]), authenticating with `api_key` (sent
    /// as `x-APIKey`).
    pub fn builder(api_key: impl Into<Secret>) -> ClientBuilder {
        Self::builder_at(PRODUCTION_URL, api_key)
    }

    /// A builder for Partoo's sandbox ([`SANDBOX_URL`]); its keys differ from production's.
    pub fn sandbox_builder(api_key: impl Into<Secret>) -> ClientBuilder {
        Self::builder_at(SANDBOX_URL, api_key)
    }

    fn builder_at(url: &str, api_key: impl Into<Secret>) -> ClientBuilder {
        let base = Url::parse(url).expect("the Partoo base URLs are valid URLs");
        ClientBuilder::new(PartooApi, base, api_key.into())
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
    /// [`MessagesPage`] (or scan it with [`MessagesPage::peek`]). For callers that bound
    /// requests in flight and decode outside that bound.
    pub async fn list_messages_body(&self, query: &ListMessagesQuery) -> Result<Body, Error> {
        self.transport.get(&["messages"], &query.to_pairs()).await
    }

    /// `GET /messages` in one attempt, never retried, the body not yet decoded: for a caller
    /// that schedules its own retries (the `inbox` aggregator does, between its request
    /// slots, with the same [`RetryPolicy`]).
    pub async fn list_messages_attempt(&self, query: &ListMessagesQuery) -> Result<Body, Error> {
        self.transport
            .get_once(&["messages"], &query.to_pairs())
            .await
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

    /// `GET /conversations` in one attempt, never retried, the body not yet decoded (a
    /// [`ConversationsPage`]; its cursor by [`ConversationsPage::peek_next_cursor`]).
    pub async fn list_conversations_attempt(
        &self,
        query: &ListConversationsQuery,
    ) -> Result<Body, Error> {
        self.transport
            .get_once(&["conversations"], &query.to_pairs())
            .await
    }

    /// `GET /conversations/{id}`: one conversation (its `messaging_partner` tells whether
    /// it is an SMS conversation, which takes text only).
    pub async fn conversation(&self, id: i64) -> Result<Conversation, Error> {
        let id = id.to_string();
        self.transport.get_json(&["conversations", &id], &[]).await
    }

    /// `GET /conversations/{id}` in one attempt, never retried, the body not yet decoded
    /// (a [`Conversation`]).
    pub async fn conversation_attempt(&self, id: i64) -> Result<Body, Error> {
        let id = id.to_string();
        self.transport.get_once(&["conversations", &id], &[]).await
    }

    /// `POST /messages/{message_id}/retry` in one attempt, never retried, the body not yet
    /// decoded (a [`RetryResponse`]).
    pub async fn retry_message_attempt(&self, message_id: i64) -> Result<Body, Error> {
        let id = message_id.to_string();
        self.transport
            .post_json_once(
                &["messages", &id, "retry"],
                &std::collections::BTreeMap::<String, String>::new(),
            )
            .await
    }

    /// `POST /messages`: sends a message into a conversation. Refused before any request
    /// when [`SendMessage::check`] refuses it (an empty content; a file whose size is
    /// given, over its type's limit; media into a conversation whose partner is given as
    /// SMS) with [`Error::InvalidArgument`].
    ///
    /// Retried only when it cannot have been sent (429, 5xx, no connection: see
    /// [`inbox_http::Error::effect`]); a timeout or a connection lost once the request went
    /// out is returned at once, with [`inbox_http::Effect::Unknown`]: Partoo may have
    /// created the message, and sending again could send it twice. Look for it first
    /// (the newest messages of the conversation), as the `inbox` outbox does.
    pub async fn send_message(
        &self,
        message: &SendMessage,
        size: Option<u64>,
        partner: Option<&MessagingPartner>,
    ) -> Result<SendResponse, Error> {
        message
            .check(size, partner)
            .map_err(|refusal| Error::InvalidArgument(refusal.to_string()))?;
        self.transport
            .post_json(&["messages"], message)
            .await?
            .decode()
    }

    /// `POST /messages` in one attempt, never retried, unchecked, the body not yet decoded
    /// (a [`SendResponse`]).
    pub async fn send_message_attempt(&self, message: &SendMessage) -> Result<Body, Error> {
        self.transport.post_json_once(&["messages"], message).await
    }

    /// `POST /messages/{message_id}/retry`: sends a `Failed` message again. Retried like
    /// [`Client::send_message`].
    pub async fn retry_message(&self, message_id: i64) -> Result<RetryResponse, Error> {
        let id = message_id.to_string();
        self.transport
            // An empty JSON object.
            .post_json(
                &["messages", &id, "retry"],
                &std::collections::BTreeMap::<String, String>::new(),
            )
            .await?
            .decode()
    }

    /// `GET /users/me`: the user the key belongs to, and its organisation (`org_id`).
    pub async fn me(&self) -> Result<User, Error> {
        self.transport.get_json(&["users", "me"], &[]).await
    }

    /// `GET /users/me` in one attempt, never retried, the body not yet decoded (a
    /// [`User`]).
    pub async fn me_attempt(&self) -> Result<Body, Error> {
        self.transport.get_once(&["users", "me"], &[]).await
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
    /// and the stream goes on; any other error ends it. Messages come boxed, as the page holds
    /// them.
    pub fn messages(
        &self,
        conversation_id: i64,
    ) -> impl Stream<Item = Result<Box<Message>, Error>> + Send + 'static {
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
    /// Conversations come boxed, as the page holds them.
    pub fn conversations(
        &self,
        query: ListConversationsQuery,
    ) -> impl Stream<Item = Result<Box<Conversation>, Error>> + Send + 'static {
        inbox_http::items(self.conversation_pages(query), |page| page.conversations)
    }
}
