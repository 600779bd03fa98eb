//! The list-messages response page.

use inbox_wire::{DecodeError, List};

use crate::conversation::ConversationsPage;
use crate::message::Message;

inbox_wire::open_enum! {
    /// How exact a page's `total` is.
    pub enum TotalType {
        /// Not said (Bird's enum lists the empty string).
        Unspecified = "",
        /// `total` is exact.
        Equal = "equal",
        /// `total` is a lower bound.
        GreaterThanOrEqual = "greaterThanOrEqual",
    }
}

inbox_wire::wire_struct! {
    /// A page of `GET /workspaces/{workspaceId}/conversations/{conversationId}/messages`.
    ///
    /// A message that does not decode is kept raw in `results.rejected()` (with its index, JSON
    /// path and error); the others still decode.
    #[derive(Debug, Clone, PartialEq)]
    pub struct MessagesPage {
        /// The messages, each in its own box: a page grows by pointers, not by copies of
        /// whole messages (most of a kilobyte each), and a message becomes a unified
        /// message's `origin` without being copied.
        results: req List<Box<Message>> = "results",
        /// The token for the next page; absent on the last page.
        next_page_token: opt String = "nextPageToken",
        /// How many messages there are in all.
        total: opt u64 = "total",
        /// How exact `total` is.
        total_type: opt TotalType = "totalType",
    }
}

impl MessagesPage {
    /// Decodes a response body: one fast pass, and a tolerant one only when something does not
    /// fit (see [`inbox_wire::from_slice`]). Fails only when the page itself cannot be decoded;
    /// the error names the JSON path.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        inbox_wire::from_slice(bytes)
    }

    /// The token to pass as `pageToken` for the next page; `None` on the last page (an
    /// empty token counts as none).
    pub fn next_page(&self) -> Option<&str> {
        self.next_page_token.as_deref().filter(|t| !t.is_empty())
    }

    /// The `nextPageToken` of a page body, read without decoding its messages (they are
    /// only scanned over): a pager can ask for the next page before decoding this one.
    /// `None` on the last page (absent or empty).
    ///
    /// ```
    /// let body = br#"{"results": [{"id": "m1"}], "nextPageToken": "t2"}"#;
    /// assert_eq!(bird_types::MessagesPage::peek_next_page_token(body)?.as_deref(), Some("t2"));
    /// # Ok::<(), bird_types::DecodeError>(())
    /// ```
    pub fn peek_next_page_token(bytes: &[u8]) -> Result<Option<String>, DecodeError> {
        #[derive(serde::Deserialize)]
        struct Envelope {
            #[serde(default, rename = "nextPageToken")]
            next_page_token: Option<String>,
        }
        let envelope: Envelope = inbox_wire::from_slice(bytes)?;
        Ok(envelope.next_page_token.filter(|t| !t.is_empty()))
    }
}

impl ConversationsPage {
    /// The `nextPageToken` of a conversations page body, read without decoding its
    /// conversations; `None` on the last page (absent or empty).
    ///
    /// ```
    /// let body = br#"{"results": [{"id": "c1"}], "nextPageToken": "t2"}"#;
    /// let next = bird_types::ConversationsPage::peek_next_page_token(body)?;
    /// assert_eq!(next.as_deref(), Some("t2"));
    /// # Ok::<(), bird_types::DecodeError>(())
    /// ```
    pub fn peek_next_page_token(bytes: &[u8]) -> Result<Option<String>, DecodeError> {
        MessagesPage::peek_next_page_token(bytes)
    }
}
