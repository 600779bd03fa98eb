//! Partoo as a [`MessageSource`].

use std::time::Duration;

use async_trait::async_trait;
use inbox_normalize::{ConversationId, Message, Timestamp};
use partoo_client::{
    Body, Client, ErrorBody, ListConversationsQuery, ListMessagesQuery, MAX_PER_PAGE, MessagesPage,
};

use inbox_http::RetryPolicy;

use crate::source::{MessageSource, Page, Rate, SourceError, SourceErrorKind, SourceLimits};

/// Partoo's documented limit: 300 requests a minute per organisation.
pub const PARTOO_RATE: Rate = Rate {
    requests: 300,
    per: Duration::from_secs(60),
};

/// A Partoo client as a [`MessageSource`], optionally filtered by business.
///
/// The source sends one attempt per request and leaves retrying to whoever drives it (the
/// aggregator, or the trait's provided methods), so that a wait never holds a request slot:
/// the client's own retry policy is set aside; its timeouts, body cap and the rest stay.
///
/// Partoo has no date filter: with `since`, messages older than it are dropped client side,
/// and when a page turns out to be ordered newest first (its first message is newer than its
/// last) paging stops after the first page that reaches past `since`. Oldest-first
/// conversations are read whole.
#[derive(Debug, Clone)]
pub struct PartooSource {
    client: Client,
    name: String,
    business_ids: Vec<String>,
    limits: SourceLimits,
}

impl PartooSource {
    /// A source named `"partoo"`, all conversations, within Partoo's documented rate limit
    /// and 16 requests in flight.
    pub fn new(client: Client) -> Self {
        Self {
            client: client.with_retry_policy(RetryPolicy::none()),
            name: "partoo".into(),
            business_ids: Vec::new(),
            limits: SourceLimits {
                max_in_flight: 16,
                rate: Some(PARTOO_RATE),
            },
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
}

fn query_error(e: partoo_client::QueryError) -> SourceError {
    SourceError::new(SourceErrorKind::Other, e)
}

#[async_trait]
impl MessageSource for PartooSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn limits(&self) -> SourceLimits {
        self.limits
    }

    async fn conversations_page(
        &self,
        cursor: Option<String>,
    ) -> Result<Page<ConversationId>, SourceError> {
        let mut query = ListConversationsQuery::new()
            .with_per_page(MAX_PER_PAGE)
            .map_err(query_error)?;
        if !self.business_ids.is_empty() {
            query = query
                .with_business_ids(self.business_ids.iter().cloned())
                .map_err(query_error)?;
        }
        query.set_cursor(cursor);
        let page = self.client.list_conversations(&query).await?;
        let next = page.next_cursor;
        let (conversations, rejected) = page.conversations.into_parts();
        let items = conversations
            .into_iter()
            .map(|c| ConversationId::Partoo(c.id))
            .collect();
        Ok(Page {
            items,
            rejected,
            next,
        })
    }

    async fn fetch_messages(
        &self,
        conversation: &ConversationId,
        _since: Option<&Timestamp>,
        cursor: Option<String>,
    ) -> Result<Body, SourceError> {
        let ConversationId::Partoo(id) = conversation else {
            let message = format!(
                "source `{}` cannot fetch conversation {conversation} of another provider",
                self.name
            );
            return Err(SourceError::new(SourceErrorKind::Other, message));
        };
        let mut query = ListMessagesQuery::new(*id)
            .with_per_page(MAX_PER_PAGE)
            .map_err(query_error)?;
        query.set_cursor(cursor);
        Ok(self.client.list_messages_body(&query).await?)
    }

    fn next_cursor(
        &self,
        conversation: &ConversationId,
        body: &Body,
        since: Option<&Timestamp>,
    ) -> Result<Option<String>, SourceError> {
        if since.is_some() {
            // Whether a newest-first walk may stop depends on the messages' dates.
            return Ok(self
                .decode_messages(conversation, body.clone(), since)?
                .next);
        }
        MessagesPage::peek_next_cursor(&body.bytes).map_err(|e| body.invalid::<ErrorBody>(e).into())
    }

    fn decode_messages(
        &self,
        _conversation: &ConversationId,
        body: Body,
        since: Option<&Timestamp>,
    ) -> Result<Page<Message>, SourceError> {
        let page: MessagesPage = body.decode::<_, ErrorBody>()?;
        let mut next = page.next_cursor;
        let (wire, rejected) = page.messages.into_parts();
        if let Some(since) = since {
            let newest_first =
                matches!((wire.first(), wire.last()), (Some(a), Some(b)) if a.date > b.date);
            let reaches_past = wire.last().is_some_and(|oldest| oldest.date < *since);
            if newest_first && reaches_past {
                next = None;
            }
        }
        let items = wire
            .into_iter()
            .filter(|m| since.is_none_or(|t| m.date >= *t))
            .map(Message::from)
            .collect();
        Ok(Page {
            items,
            rejected,
            next,
        })
    }
}
