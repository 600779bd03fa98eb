//! Bird as a [`MessageSource`].

use std::time::Duration;

use async_trait::async_trait;
use bird_client::{
    Body, Client, ConversationsPage, ErrorBody, Limit, ListConversationsQuery, ListMessagesQuery,
    MessagesPage, SendBody, SendFile, SendImage, SendMessage, SendParameter, SendTemplate,
};
use inbox_normalize::{ConversationId, ConversationSummary, Message, Provider, Timestamp};

use crate::send::{CLOCK_MARGIN, Draft, Lookup, SendError, Sent};
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

fn send_error(error: bird_client::Error) -> SendError {
    SendError::from_client(error, ErrorBody::invalid_fields)
}

fn read_error(error: bird_client::Error) -> SendError {
    SendError::from_read(error, ErrorBody::invalid_fields)
}

/// What Bird is sent for a draft: text, an image, a file (video, audio and documents go as
/// files, with their MIME type) or a template; with `reference`.
fn wire_draft(draft: &Draft, reference: &str) -> SendMessage {
    let file = |m: &crate::MediaDraft| {
        SendBody::File(vec![SendFile {
            media_url: m.url.clone(),
            content_type: m.mime_type(),
            filename: m.name(),
        }])
    };
    let message = match draft {
        Draft::Text { text } => SendMessage::text(text.clone()),
        Draft::Image(m) => SendMessage::body(SendBody::Image(vec![SendImage {
            media_url: m.url.clone(),
            alt_text: None,
        }])),
        Draft::Video(m) | Draft::Audio(m) | Draft::Document(m) => SendMessage::body(file(m)),
        Draft::Template(t) => SendMessage::template(SendTemplate {
            project_id: t.project_id.clone(),
            version: t.version.clone(),
            name: t.name.clone(),
            locale: t.locale.clone(),
            parameters: t
                .parameters
                .iter()
                .map(|(key, value)| SendParameter {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
        }),
    };
    message.reference(reference)
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

    fn check_draft(&self, draft: &Draft) -> Result<(), SendError> {
        wire_draft(draft, "")
            .check()
            .map_err(|(path, what)| SendError::Invalid(format!("`{path}` {what}")))
    }

    /// `POST .../conversations/{id}/messages` with the draft and `reference`, after what
    /// Bird would refuse with a 422 ([`SendMessage::check`]).
    async fn send(
        &self,
        conversation: &ConversationId,
        draft: &Draft,
        reference: &str,
    ) -> Result<Sent, SendError> {
        let ConversationId::Bird(id) = conversation else {
            return Err(SendError::Invalid(format!(
                "source `{}` cannot send into conversation {conversation} of another provider",
                self.name
            )));
        };
        let message = wire_draft(draft, reference);
        if let Err((path, what)) = message.check() {
            return Err(SendError::Invalid(format!("`{path}` {what}")));
        }
        let body = self
            .client
            .send_message_attempt(id, &message)
            .await
            .map_err(send_error)?;
        // A 2xx: Bird took it. An answer that cannot be read leaves its id unknown (the
        // reference finds it).
        let sent: bird_client::Message = body
            .decode::<_, ErrorBody>()
            .map_err(|e| SendError::Uncertain(e.to_string()))?;
        Ok(Sent::new(sent.id.to_string(), Some(Message::from(sent))))
    }

    /// Lists the conversation's messages created since the attempt (less
    /// [`CLOCK_MARGIN`], `dateFrom`, oldest first) for the one with the send's `reference`.
    async fn find_sent(&self, lookup: Lookup<'_>) -> Result<Option<Sent>, SendError> {
        let ConversationId::Bird(id) = lookup.conversation else {
            return Err(SendError::Invalid(format!(
                "source `{}` cannot look in conversation {} of another provider",
                self.name, lookup.conversation
            )));
        };
        let from = crate::send::before(lookup.since, CLOCK_MARGIN);
        let mut token: Option<String> = None;
        let mut pages = 0usize;
        loop {
            let mut query = ListMessagesQuery::new()
                .limit(Limit::MAX)
                .reverse(true)
                .date_from(from);
            if let Some(token) = token.take() {
                query = query.page_token(token);
            }
            let body = self
                .client
                .list_messages_attempt(id, &query)
                .await
                .map_err(read_error)?;
            let page: MessagesPage =
                body.decode::<_, ErrorBody>()
                    .map_err(|e| SendError::NotSent {
                        class: inbox_http::ErrorClass::Transient,
                        message: e.to_string(),
                    })?;
            let MessagesPage {
                results,
                next_page_token,
                ..
            } = page;
            let found = results.into_iter().find(|m| {
                m.reference.as_deref() == Some(lookup.reference)
                    && !lookup.exclude.contains(&m.id.to_string())
            });
            if let Some(m) = found {
                return Ok(Some(Sent::new(m.id.to_string(), Some(Message::from(m)))));
            }
            pages += 1;
            match next_page_token {
                Some(next) if pages < 10_000 => token = Some(next),
                _ => return Ok(None),
            }
        }
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
