//! Partoo as a [`MessageSource`].

use std::time::Duration;

use async_trait::async_trait;
use inbox_normalize::{ConversationId, ConversationSummary, Message, Provider, Timestamp};
use partoo_client::{
    Body, Client, Content, Conversation, ConversationsPage, ErrorBody, ListConversationsQuery,
    ListMessagesQuery, MAX_PER_PAGE, MessagesPage, SendContentType, SendMessage, SendResponse,
    SenderType, User,
};

use crate::send::{CLOCK_MARGIN, Draft, Lookup, SendError, Sent};
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

/// The invalid fields of a Partoo 400: `{"error": {"json": {"field": ["message"]}}}` gives
/// `(".field", ["message"])`; a `json` that is a message gives `(".", [message])`.
fn invalid_fields(body: &ErrorBody) -> Vec<(String, Vec<String>)> {
    let messages = |value: &serde_json::Value| match value {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect(),
        other => vec![other.to_string()],
    };
    match body.detail("json") {
        Some(serde_json::Value::Object(fields)) => fields
            .iter()
            .map(|(field, value)| (format!(".{field}"), messages(value)))
            .collect(),
        Some(other) => vec![(".".to_owned(), messages(other))],
        None => Vec::new(),
    }
}

fn send_error(error: partoo_client::Error) -> SendError {
    SendError::from_client(error, invalid_fields)
}

fn read_error(error: partoo_client::Error) -> SendError {
    SendError::from_read(error, invalid_fields)
}

/// What Partoo is sent for a draft, and the file's size when the draft gives it.
fn wire_draft(id: i64, draft: &Draft) -> Result<(SendMessage, Option<u64>), SendError> {
    let media = |kind, m: &crate::MediaDraft| (SendMessage::media(id, kind, m.url.clone()), m.size);
    Ok(match draft {
        Draft::Text { text } => (SendMessage::text(id, text.clone()), None),
        Draft::Image(m) => media(SendContentType::Image, m),
        Draft::Video(m) => media(SendContentType::Video, m),
        Draft::Audio(m) => media(SendContentType::Audio, m),
        Draft::Document(m) => media(SendContentType::Document, m),
        Draft::Template(_) => {
            return Err(SendError::Invalid(
                "Partoo sends no templates: send text or a file".into(),
            ));
        }
    })
}

/// The message Partoo will list for a send it accepted (it answers an id only): sent by a
/// user, status `Sending`, dated now.
fn sent_message(id: i64, message: &SendMessage, draft: &Draft) -> Option<Message> {
    let content = match (message.content_type, draft) {
        (SendContentType::Text | SendContentType::Image, _) => {
            serde_json::Value::String(message.content.clone())
        }
        (_, Draft::Video(m) | Draft::Audio(m) | Draft::Document(m)) => serde_json::json!({
            "url": m.url,
            "file_name": m.name(),
        }),
        _ => serde_json::Value::String(message.content.clone()),
    };
    let wire = serde_json::json!({
        "id": id,
        "conversation_id": message.conversation_id,
        "content_type": message.content_type.as_str(),
        "content": content,
        "date": crate::send::now()?.to_string(),
        "sender_type": "User",
        "status": "Sending",
        "is_deleted": false,
        "is_automated": false,
    });
    serde_json::from_value::<partoo_client::Message>(wire)
        .ok()
        .map(Message::from)
}

/// Whether a listed message is the one a draft sent: sent by a user, of the same kind, with
/// the same text or file URL.
fn same_content(message: &partoo_client::Message, sent: &SendMessage) -> bool {
    if message.sender_type != SenderType::User
        || message.content_type.as_str() != sent.content_type.as_str()
    {
        return false;
    }
    match &message.content {
        Content::Text(text) | Content::Image(text) => *text == sent.content,
        Content::Video(m) | Content::Audio(m) | Content::Document(m) => m.url == sent.content,
        _ => false,
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

    fn check_draft(&self, draft: &Draft) -> Result<(), SendError> {
        let (message, size) = wire_draft(0, draft)?;
        message
            .check(size, None)
            .map_err(|refusal| SendError::Invalid(refusal.to_string()))
    }

    /// `POST /messages`, after the documented limits: an empty text, a file over its
    /// type's limit (when the draft gives its size), and media into an SMS conversation
    /// (the conversation is read first, `GET /conversations/{id}`, for any draft but text).
    /// The `reference` is not sent: Partoo has no field for it.
    async fn send(
        &self,
        conversation: &ConversationId,
        draft: &Draft,
        _reference: &str,
    ) -> Result<Sent, SendError> {
        let ConversationId::Partoo(id) = conversation else {
            return Err(SendError::Invalid(format!(
                "source `{}` cannot send into conversation {conversation} of another provider",
                self.name
            )));
        };
        let (message, size) = wire_draft(*id, draft)?;
        message
            .check(size, None)
            .map_err(|refusal| SendError::Invalid(refusal.to_string()))?;
        if message.content_type != SendContentType::Text {
            let body = self
                .client
                .conversation_attempt(*id)
                .await
                .map_err(read_error)?;
            let found: Conversation =
                body.decode::<_, ErrorBody>()
                    .map_err(|e| SendError::NotSent {
                        class: inbox_http::ErrorClass::Permanent,
                        message: e.to_string(),
                    })?;
            message
                .check(size, found.messaging_partner.as_ref())
                .map_err(|refusal| SendError::Invalid(refusal.to_string()))?;
        }
        let body = self
            .client
            .send_message_attempt(&message)
            .await
            .map_err(send_error)?;
        // A 2xx: Partoo created it. An answer that cannot be read leaves its id unknown.
        let answer: SendResponse = body
            .decode::<_, ErrorBody>()
            .map_err(|e| SendError::Uncertain(e.to_string()))?;
        let id = answer.message_id;
        Ok(Sent::new(id.to_string(), sent_message(id, &message, draft)))
    }

    /// Walks the conversation's messages (oldest first, Partoo's order) for one sent by a
    /// user with the same kind and content, dated at or after the attempt (less
    /// [`CLOCK_MARGIN`]), whose id is not excluded; the first such.
    async fn find_sent(&self, lookup: Lookup<'_>) -> Result<Option<Sent>, SendError> {
        let ConversationId::Partoo(id) = lookup.conversation else {
            return Err(SendError::Invalid(format!(
                "source `{}` cannot look in conversation {} of another provider",
                self.name, lookup.conversation
            )));
        };
        let (message, _) = wire_draft(*id, lookup.draft)?;
        let since = crate::send::before(lookup.since, CLOCK_MARGIN);
        let mut cursor: Option<String> = None;
        let mut pages = 0usize;
        loop {
            let mut query = ListMessagesQuery::new(*id)
                .with_per_page(MAX_PER_PAGE)
                .map_err(|e| SendError::Invalid(e.to_string()))?;
            query.set_cursor(cursor.take());
            let body = self
                .client
                .list_messages_attempt(&query)
                .await
                .map_err(read_error)?;
            let page: MessagesPage =
                body.decode::<_, ErrorBody>()
                    .map_err(|e| SendError::NotSent {
                        class: inbox_http::ErrorClass::Transient,
                        message: e.to_string(),
                    })?;
            let MessagesPage {
                messages,
                next_cursor,
                ..
            } = page;
            let found = messages.into_iter().find(|m| {
                m.date >= since
                    && same_content(m, &message)
                    && !lookup.exclude.contains(&m.id.to_string())
            });
            if let Some(m) = found {
                return Ok(Some(Sent::new(m.id.to_string(), Some(Message::from(m)))));
            }
            pages += 1;
            match next_cursor {
                Some(next) if pages < 10_000 => cursor = Some(next),
                _ => return Ok(None),
            }
        }
    }

    /// `POST /messages/{message_id}/retry`.
    async fn retry_failed(&self, message_id: &str) -> Result<(), SendError> {
        let id: i64 = message_id.trim().parse().map_err(|_| {
            SendError::Invalid(format!("`{message_id}` is not a Partoo message id"))
        })?;
        let body = self
            .client
            .retry_message_attempt(id)
            .await
            .map_err(send_error)?;
        body.decode::<partoo_client::RetryResponse, ErrorBody>()
            .map(|_| ())
            .map_err(|e| SendError::Uncertain(e.to_string()))
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
