//! Bird as a [`MessageSource`].

use std::time::Duration;

use async_trait::async_trait;
use bird_client::{
    Body, Client, ConversationsPage, ErrorBody, Limit, ListConversationsQuery, ListMessagesQuery,
    MessagesPage,
};
use inbox_normalize::{ConversationId, ConversationSummary, Message, Provider, Timestamp};

use crate::source::{
    Decoded, Fetched, MessageSource, PageRequest, Rate, SourceError, SourceLimits,
};

/// Bird's documented limit: 50 GET requests a second per workspace.
pub const BIRD_RATE: Rate = Rate {
    requests: 50,
    per: Duration::from_secs(1),
};

/// A Bird client (one workspace) as a [`MessageSource`].
///
/// Like [`crate::PartooSource`], one attempt per request: retries are the inbox's, so a wait
/// never holds a request slot.
///
/// Messages are paged oldest first (`reverse=true`): a walk interrupted after a page has read
/// everything up to that page's newest message, and messages that arrive during the walk
/// come on its last pages instead of shifting the pages already read.
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
    /// A source named `"bird"`, within Bird's documented rate limit and 16 conversations at
    /// once.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            name: "bird".into(),
            limits: SourceLimits::new(16, Some(BIRD_RATE)),
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

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn fetch_conversations(&self, cursor: Option<&str>) -> Result<Fetched, SourceError> {
        let mut query = ListConversationsQuery::new().limit(Limit::MAX);
        if let Some(cursor) = cursor {
            query = query.page_token(cursor);
        }
        let body = self.client.list_conversations_attempt(&query).await?;
        let next = ConversationsPage::peek_next_page_token(&body.bytes)
            .map_err(|e| body.invalid::<ErrorBody>(e))?;
        Ok(Fetched::new(body, next))
    }

    async fn fetch_messages(
        &self,
        conversation: &ConversationId,
        since: Option<&Timestamp>,
        cursor: Option<&str>,
    ) -> Result<Fetched, SourceError> {
        let ConversationId::Bird(id) = conversation else {
            return Err(SourceError::permanent(format!(
                "source `{}` cannot fetch conversation {conversation} of another provider",
                self.name
            )));
        };
        let mut query = ListMessagesQuery::new().limit(Limit::MAX).reverse(true);
        if let Some(since) = since {
            // `dateFrom` means "created after": ask from one nanosecond earlier so a message
            // stamped exactly at `since` is included, as it is for Partoo.
            let just_before = Timestamp::from_unix_nanos(since.unix_nanos() - 1).unwrap_or(*since);
            query = query.date_from(just_before);
        }
        if let Some(cursor) = cursor {
            query = query.page_token(cursor);
        }
        let body = self.client.list_messages_attempt(id, &query).await?;
        let next = MessagesPage::peek_next_page_token(&body.bytes)
            .map_err(|e| body.invalid::<ErrorBody>(e))?;
        Ok(Fetched::new(body, next))
    }
}

#[async_trait]
impl MessageSource for BirdSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn limits(&self) -> SourceLimits {
        self.limits
    }

    fn provider(&self) -> Provider {
        Provider::Bird
    }

    /// The workspace id (no request needed).
    async fn account(&self) -> Result<String, SourceError> {
        Ok(self.client.workspace_id().to_owned())
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
        let (conversations, rejected) = page.results.into_parts();
        let items = conversations
            .into_iter()
            .map(ConversationSummary::from)
            .collect();
        Ok(Decoded::new(items, rejected))
    }

    fn decode_messages(
        &self,
        conversation: &ConversationId,
        body: Body,
        since: Option<&Timestamp>,
    ) -> Result<Decoded<Message>, SourceError> {
        let page: MessagesPage = body.decode::<_, ErrorBody>()?;
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
        Ok(Decoded::new(items, rejected))
    }
}
