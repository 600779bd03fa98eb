//! Async client for Bird's workspace Conversations API (`https://api.bird.com`).
//!
//! - [`Client::list_messages`] and [`Client::list_conversations`] fetch one page, with every
//!   query parameter (`limit`, `pageToken`, `reverse`, `dateFrom`; `resource` for
//!   conversations).
//! - [`Client::messages`], [`Client::message_pages`], [`Client::conversations`] and
//!   [`Client::conversation_pages`] walk `nextPageToken` as lazy streams: nothing is fetched
//!   before the first poll, one request is in flight, pages hold 100 items by default, and a
//!   server that repeats a token ends the stream with [`Error::Paging`].
//! - 429 (honouring `Retry-After` when Bird sends one), 5xx other than 501, timeouts and cut
//!   connections are retried with full-jitter backoff, within bounds ([`RetryPolicy`]:
//!   attempts, a timeout retried at most twice, a time budget). `*_attempt` methods make one
//!   attempt, for a caller that retries itself.
//! - Errors are one enum ([`Error`]) whose variants say what to do; Bird's error body
//!   (`{code, message, details}`) is parsed into them. The access key never prints.
//! - A message that does not decode never costs its page: it comes as
//!   [`Error::InvalidItem`], in its place, and the stream goes on.
//!
//! ```no_run
//! use bird_client::{BodyContent, Client, Error};
//! use futures_util::StreamExt;
//!
//! # async fn demo() -> Result<(), Error> {
//! let client = Client::builder(
//!     std::env::var("BIRD_ACCESS_KEY").unwrap_or_default(),
//!     std::env::var("BIRD_WORKSPACE_ID").unwrap_or_default(),
//! )
//! .build()?;
//! let messages = client.messages("16e1df9e-c6ac-406b-b1ce-13f34d0dea08");
//! futures_util::pin_mut!(messages);
//! while let Some(item) = messages.next().await {
//!     let message = match item {
//!         Ok(message) => message,
//!         // One odd message: report it and go on with the rest.
//!         Err(Error::InvalidItem(raw)) => {
//!             eprintln!("skipped message {}: {} at `{}`", raw.index, raw.message, raw.path);
//!             continue;
//!         }
//!         Err(other) => return Err(other),
//!     };
//!     match message.body().map(|body| &body.content) {
//!         Some(BodyContent::Text(text)) => println!("{} {}", message.created_at, text.text),
//!         Some(other) => println!("{} {other:?}", message.created_at),
//!         None => println!("{} (no body)", message.created_at),
//!     }
//! }
//! # Ok(()) }
//! ```

use std::sync::Arc;

use futures_util::Stream;
use inbox_http::reqwest::Url;
use inbox_http::{Transport, pages};

pub use bird_types::*;
pub use inbox_http::{
    ApiError, Body, ConfigError, Effect, PagingError, RetryPolicy, Secret, TransportKind, reqwest,
};

/// Bird production: `https://api.bird.com`.
pub const PRODUCTION_URL: &str = "https://api.bird.com";

/// Everything this client can fail with; see [`inbox_http::Error`] for the variants.
pub type Error = inbox_http::Error<ErrorBody>;

/// The page size streams ask for unless told otherwise: the API's maximum, since round trips
/// are the cost.
pub const STREAM_PAGE_SIZE: Limit = Limit::MAX;

/// Configures a [`Client`]: the shared builder of `inbox-http` (base URL, timeouts, retry
/// policy, caps, a shared `reqwest::Client`). Start with [`Client::builder`].
pub type ClientBuilder = inbox_http::ClientBuilder<BirdApi>;

/// How Bird authenticates (`Authorization: AccessKey <key>`) and which workspace a client
/// works in, for the shared [`ClientBuilder`].
#[derive(Debug, Clone)]
pub struct BirdApi {
    workspace_id: String,
}

impl inbox_http::Api for BirdApi {
    type Client = Client;
    const AUTH_HEADER: &'static str = "authorization";
    const AUTH_PREFIX: &'static str = "AccessKey ";
    const KEY_NAME: &'static str = "Bird access key";

    /// Refuses an empty workspace id.
    fn build(self, transport: Transport) -> Result<Client, ConfigError> {
        if self.workspace_id.trim().is_empty() {
            return Err(ConfigError::Empty {
                what: "Bird workspace id",
            });
        }
        Ok(Client {
            transport,
            workspace_id: self.workspace_id.into(),
        })
    }
}

/// A client for one Bird workspace. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    workspace_id: Arc<str>,
}

impl Client {
    /// A builder for production ([`PRODUCTION_URL`]), authenticating with `access_key` (sent
    /// as `Authorization: AccessKey <key>`) and working in the workspace `workspace_id`.
    pub fn builder(
        access_key: impl Into<Secret>,
        workspace_id: impl Into<String>,
    ) -> ClientBuilder {
        let base = Url::parse(PRODUCTION_URL).expect("PRODUCTION_URL is a valid URL");
        let api = BirdApi {
            workspace_id: workspace_id.into(),
        };
        ClientBuilder::new(api, base, access_key.into())
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &Url {
        self.transport.base_url()
    }

    /// The workspace every request is about.
    pub fn workspace_id(&self) -> &str {
        &self.workspace_id
    }

    /// `GET /workspaces/{workspaceId}/conversations/{conversationId}/messages`: one page of a
    /// conversation's messages.
    ///
    /// An empty `conversation_id` is refused with [`Error::InvalidArgument`] before any
    /// request is sent.
    pub async fn list_messages(
        &self,
        conversation_id: &str,
        query: &ListMessagesQuery,
    ) -> Result<MessagesPage, Error> {
        self.list_messages_body(conversation_id, query)
            .await?
            .decode()
    }

    /// The same request, the body not yet decoded: decode it with [`Body::decode`] into a
    /// [`MessagesPage`]. For callers that bound requests in flight and decode outside that
    /// bound.
    pub async fn list_messages_body(
        &self,
        conversation_id: &str,
        query: &ListMessagesQuery,
    ) -> Result<Body, Error> {
        let segments = self.messages_path(conversation_id)?;
        self.transport.get(&segments, &query.to_pairs()).await
    }

    /// The same request in one attempt, never retried: for a caller that schedules its own
    /// retries (the `inbox` aggregator does, between its request slots, with the same
    /// [`RetryPolicy`]). Scan the body with [`MessagesPage::peek_next_page_token`].
    pub async fn list_messages_attempt(
        &self,
        conversation_id: &str,
        query: &ListMessagesQuery,
    ) -> Result<Body, Error> {
        let segments = self.messages_path(conversation_id)?;
        self.transport.get_once(&segments, &query.to_pairs()).await
    }

    fn messages_path<'a>(&'a self, conversation_id: &'a str) -> Result<[&'a str; 5], Error> {
        if conversation_id.is_empty() {
            return Err(Error::InvalidArgument(
                "the conversation id is empty".into(),
            ));
        }
        Ok([
            "workspaces",
            &self.workspace_id,
            "conversations",
            conversation_id,
            "messages",
        ])
    }

    /// `POST /workspaces/{workspaceId}/conversations/{conversationId}/messages`: sends a
    /// message; the answer is the message Bird created.
    ///
    /// What Bird would refuse with a 422 is refused first ([`SendMessage::check`]), with
    /// [`Error::InvalidArgument`] naming the JSON path. Bird's own refusals come back typed:
    /// 403 [`Error::Forbidden`], 404 [`Error::NotFound`], 409 [`Error::Conflict`] (a closed
    /// conversation), 422 [`Error::Rejected`] whose [`ErrorBody::invalid_fields`] lists the
    /// paths. Retried only when it cannot have been sent (429, 5xx, no connection); a
    /// timeout or a connection lost once the request went out is returned at once with
    /// [`inbox_http::Effect::Unknown`]: look for the message by its
    /// [`SendMessage::reference`] before sending again.
    pub async fn send_message(
        &self,
        conversation_id: &str,
        message: &SendMessage,
    ) -> Result<Message, Error> {
        if let Err((path, what)) = message.check() {
            return Err(Error::InvalidArgument(format!("`{path}` {what}")));
        }
        let segments = self.messages_path(conversation_id)?;
        self.transport.post_json(&segments, message).await?.decode()
    }

    /// The same send in one attempt, never retried, unchecked, the body not yet decoded
    /// (a [`Message`]).
    pub async fn send_message_attempt(
        &self,
        conversation_id: &str,
        message: &SendMessage,
    ) -> Result<Body, Error> {
        let segments = self.messages_path(conversation_id)?;
        self.transport.post_json_once(&segments, message).await
    }

    /// `GET /workspaces/{workspaceId}/conversations/{conversationId}`: one conversation
    /// (its `status` tells whether it is closed).
    pub async fn conversation(&self, conversation_id: &str) -> Result<Conversation, Error> {
        if conversation_id.is_empty() {
            return Err(Error::InvalidArgument(
                "the conversation id is empty".into(),
            ));
        }
        let segments = [
            "workspaces",
            &self.workspace_id,
            "conversations",
            conversation_id,
        ];
        self.transport.get_json(&segments, &[]).await
    }

    /// `GET /workspaces/{workspaceId}/conversations`: one page of conversations.
    pub async fn list_conversations(
        &self,
        query: &ListConversationsQuery,
    ) -> Result<ConversationsPage, Error> {
        let segments = ["workspaces", &self.workspace_id, "conversations"];
        self.transport.get_json(&segments, &query.to_pairs()).await
    }

    /// `GET /workspaces/{workspaceId}/conversations` in one attempt, never retried, the
    /// body not yet decoded (a [`ConversationsPage`]; its token by
    /// [`ConversationsPage::peek_next_page_token`]).
    pub async fn list_conversations_attempt(
        &self,
        query: &ListConversationsQuery,
    ) -> Result<Body, Error> {
        let segments = ["workspaces", &self.workspace_id, "conversations"];
        self.transport.get_once(&segments, &query.to_pairs()).await
    }

    /// Every page of a conversation's messages, 100 messages a page, in Bird's default order.
    pub fn message_pages(
        &self,
        conversation_id: impl Into<String>,
    ) -> impl Stream<Item = Result<MessagesPage, Error>> + Send + 'static {
        self.message_pages_from(conversation_id, ListMessagesQuery::new())
    }

    /// Every page of a conversation's messages from `query` on: its `reverse`, `dateFrom` and
    /// `limit` are kept on every page (100 when it sets no limit), and its page token, if
    /// any, is where the walk starts.
    pub fn message_pages_from(
        &self,
        conversation_id: impl Into<String>,
        mut query: ListMessagesQuery,
    ) -> impl Stream<Item = Result<MessagesPage, Error>> + Send + 'static {
        query.limit = query.limit.or(Some(STREAM_PAGE_SIZE));
        let first = query.page_token.take();
        let conversation_id = conversation_id.into();
        let client = self.clone();
        pages(self.transport.max_pages(), move |token: Option<String>| {
            let client = client.clone();
            let conversation_id = conversation_id.clone();
            let mut query = query.clone();
            query.page_token = token.or_else(|| first.clone());
            async move {
                let page = client.list_messages(&conversation_id, &query).await?;
                let next = page.next_page().map(str::to_owned);
                Ok((page, next))
            }
        })
    }

    /// Every message of a conversation, 100 a page, in the order the API returns them.
    ///
    /// A message that does not decode comes as [`Error::InvalidItem`] (holding its raw JSON)
    /// in its place and the stream goes on; any other error ends it. Messages come boxed, as
    /// the page holds them.
    pub fn messages(
        &self,
        conversation_id: impl Into<String>,
    ) -> impl Stream<Item = Result<Box<Message>, Error>> + Send + 'static {
        inbox_http::items(self.message_pages(conversation_id), |page| page.results)
    }

    /// Every message of a conversation from `query` on (see [`Client::message_pages_from`]);
    /// undecodable ones come as [`Error::InvalidItem`].
    pub fn messages_from(
        &self,
        conversation_id: impl Into<String>,
        query: ListMessagesQuery,
    ) -> impl Stream<Item = Result<Box<Message>, Error>> + Send + 'static {
        inbox_http::items(self.message_pages_from(conversation_id, query), |page| {
            page.results
        })
    }

    /// Every page of conversations matching `query`: its `reverse`, `resource` and `limit`
    /// are kept on every page (100 when it sets no limit), and its page token, if any, is
    /// where the walk starts.
    pub fn conversation_pages(
        &self,
        mut query: ListConversationsQuery,
    ) -> impl Stream<Item = Result<ConversationsPage, Error>> + Send + 'static {
        query.limit = query.limit.or(Some(STREAM_PAGE_SIZE));
        let first = query.page_token.take();
        let client = self.clone();
        pages(self.transport.max_pages(), move |token: Option<String>| {
            let client = client.clone();
            let mut query = query.clone();
            query.page_token = token.or_else(|| first.clone());
            async move {
                let page = client.list_conversations(&query).await?;
                let next = page.next_page().map(str::to_owned);
                Ok((page, next))
            }
        })
    }

    /// Every conversation matching `query`; undecodable ones come as [`Error::InvalidItem`]
    /// in their place and the stream goes on. Conversations come boxed, as the page holds
    /// them.
    pub fn conversations(
        &self,
        query: ListConversationsQuery,
    ) -> impl Stream<Item = Result<Box<Conversation>, Error>> + Send + 'static {
        inbox_http::items(self.conversation_pages(query), |page| page.results)
    }
}
