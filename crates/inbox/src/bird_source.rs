//! Bird as a [`MessageSource`].

use std::time::Duration;

use async_trait::async_trait;
use bird_client::{
    Body, Client, ErrorBody, Limit, ListConversationsQuery, ListMessagesQuery, MessagesPage,
};
use inbox_normalize::{ConversationId, Message, Timestamp};

use inbox_http::RetryPolicy;

use crate::source::{MessageSource, Page, Rate, SourceError, SourceErrorKind, SourceLimits};

/// Bird's documented limit: 50 GET requests a second per workspace.
pub const BIRD_RATE: Rate = Rate {
    requests: 50,
    per: Duration::from_secs(1),
};

/// A Bird client (one workspace) as a [`MessageSource`].
///
/// Like [`crate::PartooSource`], one attempt per request: retries are the driver's, so a wait
/// never holds a request slot.
///
/// `since` is sent as `dateFrom` (which Bird reads as "created after", so one nanosecond
/// earlier is sent), so Bird filters on its side; messages are also checked on ours, so the
/// result is the same as for Partoo: created at or after `since`.
#[derive(Debug, Clone)]
pub struct BirdSource {
    client: Client,
    name: String,
    limits: SourceLimits,
}

impl BirdSource {
    /// A source named `"bird"`, within Bird's documented rate limit and 16 requests in flight.
    pub fn new(client: Client) -> Self {
        Self {
            client: client.with_retry_policy(RetryPolicy::none()),
            name: "bird".into(),
            limits: SourceLimits {
                max_in_flight: 16,
                rate: Some(BIRD_RATE),
            },
        }
    }

    /// Renames the source (two workspaces in one inbox need two names).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Replaces the bounds the aggregator keeps to.
    pub fn limits(mut self, limits: SourceLimits) -> Self {
        self.limits = limits;
        self
    }
}

fn page_size() -> Result<Limit, SourceError> {
    Limit::new(100).map_err(|e| SourceError::new(SourceErrorKind::Other, e))
}

#[async_trait]
impl MessageSource for BirdSource {
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
        let mut query = ListConversationsQuery::new().limit(page_size()?);
        if let Some(cursor) = cursor {
            query = query.page_token(cursor);
        }
        let page = self.client.list_conversations(&query).await?;
        let next = page.next_page().map(str::to_owned);
        let (conversations, rejected) = page.results.into_parts();
        let items = conversations
            .into_iter()
            .map(|c| ConversationId::Bird(c.id))
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
        since: Option<&Timestamp>,
        cursor: Option<String>,
    ) -> Result<Body, SourceError> {
        let ConversationId::Bird(id) = conversation else {
            let message = format!(
                "source `{}` cannot fetch conversation {conversation} of another provider",
                self.name
            );
            return Err(SourceError::new(SourceErrorKind::Other, message));
        };
        let mut query = ListMessagesQuery::new().limit(page_size()?);
        if let Some(since) = since {
            // `dateFrom` means "created after": ask from one nanosecond earlier so a message
            // stamped exactly at `since` is included, as it is for Partoo.
            let just_before = Timestamp::from_unix_nanos(since.unix_nanos() - 1).unwrap_or(*since);
            query = query.date_from(just_before);
        }
        if let Some(cursor) = cursor {
            query = query.page_token(cursor);
        }
        Ok(self.client.list_messages_body(id, &query).await?)
    }

    fn next_cursor(
        &self,
        _conversation: &ConversationId,
        body: &Body,
        _since: Option<&Timestamp>,
    ) -> Result<Option<String>, SourceError> {
        MessagesPage::peek_next_page_token(&body.bytes)
            .map_err(|e| body.invalid::<ErrorBody>(e).into())
    }

    fn decode_messages(
        &self,
        conversation: &ConversationId,
        body: Body,
        since: Option<&Timestamp>,
    ) -> Result<Page<Message>, SourceError> {
        let page: MessagesPage = body.decode::<_, ErrorBody>()?;
        let next = page.next_page().map(str::to_owned);
        let (wire, rejected) = page.results.into_parts();
        let items = wire
            .into_iter()
            .filter(|m| since.is_none_or(|t| m.created_at >= *t))
            .map(|wire| {
                let mut message = Message::from(wire);
                // `conversationId` is optional in Bird's schema: name the one fetched.
                if matches!(&message.conversation_id, ConversationId::Bird(id) if id.is_empty()) {
                    message.conversation_id = conversation.clone();
                }
                message
            })
            .collect();
        Ok(Page {
            items,
            rejected,
            next,
        })
    }
}
