//! Partoo as a [`MessageSource`].

use std::time::Duration;

use async_trait::async_trait;
use inbox_normalize::{ConversationId, ConversationSummary, Message, Provider, Timestamp};
use partoo_client::{
    Body, Client, ConversationsPage, ErrorBody, ListConversationsQuery, ListMessagesQuery,
    MAX_PER_PAGE, MessagesPage, User,
};

use crate::source::{
    Decoded, Fetched, MessageSource, PageRequest, Rate, SourceError, SourceLimits,
};

/// Partoo's documented limit: 300 requests a minute per organisation.
pub const PARTOO_RATE: Rate = Rate {
    requests: 300,
    per: Duration::from_secs(60),
};

/// A Partoo client as a [`MessageSource`], optionally filtered by business.
///
/// Each request is one attempt ([`Client::list_messages_attempt`]): inside an
/// [`crate::Inbox`], the inbox retries with its own policy, between request slots, so a wait
/// never holds a slot. The client's timeouts, body cap and base URL apply; its retry policy
/// applies to its own calls only.
///
/// Partoo has no date filter: with `since`, messages older than it are dropped client side,
/// and when a page turns out to be ordered newest first (its first message is newer than its
/// last) paging stops after the first page that reaches past `since`; both read from the
/// page's envelope by a cheap scan ([`MessagesPage::peek`]). Oldest-first conversations are
/// read whole.
#[derive(Debug, Clone)]
pub struct PartooSource {
    client: Client,
    name: String,
    business_ids: Vec<String>,
    limits: SourceLimits,
}

impl PartooSource {
    /// A source named `"partoo"`, all conversations, within Partoo's documented rate limit
    /// and 16 conversations at once.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            name: "partoo".into(),
            business_ids: Vec::new(),
            limits: SourceLimits::new(16, Some(PARTOO_RATE)),
        }
    }

    /// Renames the source (two organisations in one inbox need two names).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Lists only the conversations of these businesses (`business__in`).
    pub fn businesses<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.business_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Replaces the bounds the aggregator keeps to (e.g. a higher rate agreed with Partoo,
    /// or none against a local emulator).
    pub fn limits(mut self, limits: SourceLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn fetch_conversations(&self, cursor: Option<&str>) -> Result<Fetched, SourceError> {
        let mut query = ListConversationsQuery::new()
            .with_per_page(MAX_PER_PAGE)
            .map_err(SourceError::permanent)?;
        if !self.business_ids.is_empty() {
            query = query
                .with_business_ids(self.business_ids.iter().cloned())
                .map_err(SourceError::permanent)?;
        }
        query.set_cursor(cursor.map(str::to_owned));
        let body = self.client.list_conversations_attempt(&query).await?;
        let next = ConversationsPage::peek_next_cursor(&body.bytes)
            .map_err(|e| body.invalid::<ErrorBody>(e))?;
        Ok(Fetched::new(body, next))
    }

    async fn fetch_messages(
        &self,
        conversation: &ConversationId,
        since: Option<&Timestamp>,
        cursor: Option<&str>,
    ) -> Result<Fetched, SourceError> {
        let ConversationId::Partoo(id) = conversation else {
            return Err(SourceError::permanent(format!(
                "source `{}` cannot fetch conversation {conversation} of another provider",
                self.name
            )));
        };
        let mut query = ListMessagesQuery::new(*id)
            .with_per_page(MAX_PER_PAGE)
            .map_err(SourceError::permanent)?;
        query.set_cursor(cursor.map(str::to_owned));
        let body = self.client.list_messages_attempt(&query).await?;
        let envelope = MessagesPage::peek(&body.bytes).map_err(|e| body.invalid::<ErrorBody>(e))?;
        let mut next = envelope.next_cursor.clone();
        if let (Some(since), Some(oldest)) = (since, &envelope.last_date) {
            // A newest-first walk that reached past `since` holds nothing newer further on.
            if envelope.is_newest_first() && oldest < since {
                next = None;
            }
        }
        Ok(Fetched::new(body, next))
    }
}

#[async_trait]
impl MessageSource for PartooSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn limits(&self) -> SourceLimits {
        self.limits
    }

    fn provider(&self) -> Provider {
        Provider::Partoo
    }

    /// The organisation of the key (`org_id` of `GET /users/me`).
    async fn account(&self) -> Result<String, SourceError> {
        let body = self.client.me_attempt().await?;
        let user: User = body.decode::<_, ErrorBody>()?;
        user.org_id.map(|id| id.to_string()).ok_or_else(|| {
            SourceError::permanent(format!(
                "source `{}`: GET /users/me names no organisation (no `org_id`)",
                self.name
            ))
        })
    }

    async fn fetch(&self, page: PageRequest<'_>) -> Result<Fetched, SourceError> {
        match page {
            PageRequest::Conversations { cursor } => self.fetch_conversations(cursor).await,
            PageRequest::Messages {
                conversation,
                since,
                cursor,
            } => self.fetch_messages(conversation, since, cursor).await,
        }
    }

    fn decode_conversations(
        &self,
        body: Body,
    ) -> Result<Decoded<ConversationSummary>, SourceError> {
        let page: ConversationsPage = body.decode::<_, ErrorBody>()?;
        let (conversations, rejected) = page.conversations.into_parts();
        let items = conversations
            .into_iter()
            .map(ConversationSummary::from)
            .collect();
        Ok(Decoded::new(items, rejected))
    }

    fn decode_messages(
        &self,
        _conversation: &ConversationId,
        body: Body,
        since: Option<&Timestamp>,
    ) -> Result<Decoded<Message>, SourceError> {
        let page: MessagesPage = body.decode::<_, ErrorBody>()?;
        let (wire, rejected) = page.messages.into_parts();
        let items = wire
            .into_iter()
            .filter(|m| since.is_none_or(|t| m.date >= *t))
            .map(Message::from)
            .collect();
        Ok(Decoded::new(items, rejected))
    }
}
