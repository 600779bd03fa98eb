//! Query strings of the list endpoints, checked when built.

use std::fmt;

/// The most items Partoo returns per page (`per_page` maximum).
pub const MAX_PER_PAGE: u32 = 100;

/// The page size Partoo uses when `per_page` is not sent.
pub const DEFAULT_PER_PAGE: u32 = 30;

/// Why a query cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryError {
    /// `per_page` is outside the range Partoo accepts (1 to [`MAX_PER_PAGE`]).
    PerPageOutOfRange {
        /// The value given.
        value: u32,
    },
    /// A business id that cannot be sent in the comma-separated `business__in` list.
    InvalidBusinessId {
        /// The id given.
        id: String,
        /// Why it cannot be sent.
        reason: &'static str,
    },
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::PerPageOutOfRange { value } => write!(
                f,
                "per_page must be between 1 and {MAX_PER_PAGE} (Partoo rejects other values), got {value}"
            ),
            QueryError::InvalidBusinessId { id, reason } => {
                write!(
                    f,
                    "business id {id:?} cannot be sent in `business__in`: {reason}"
                )
            }
        }
    }
}

impl std::error::Error for QueryError {}

fn check_per_page(value: u32) -> Result<u32, QueryError> {
    if (1..=MAX_PER_PAGE).contains(&value) {
        Ok(value)
    } else {
        Err(QueryError::PerPageOutOfRange { value })
    }
}

/// The query of `GET /messages`: the messages of one conversation, a page at a time.
///
/// ```
/// use partoo_types::ListMessagesQuery;
///
/// let query = ListMessagesQuery::new(4217).with_per_page(100)?.with_cursor("c2");
/// assert_eq!(
///     query.to_pairs(),
///     [("conversation_id", "4217".to_owned()), ("per_page", "100".into()), ("cursor", "c2".into())]
/// );
/// assert!(ListMessagesQuery::new(4217).with_per_page(0).is_err());
/// # Ok::<(), partoo_types::QueryError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListMessagesQuery {
    conversation_id: i64,
    per_page: Option<u32>,
    cursor: Option<String>,
}

impl ListMessagesQuery {
    /// The first page of a conversation's messages, at Partoo's default page size.
    pub fn new(conversation_id: i64) -> Self {
        Self {
            conversation_id,
            per_page: None,
            cursor: None,
        }
    }

    /// Sets the page size: 1 to [`MAX_PER_PAGE`], else [`QueryError::PerPageOutOfRange`].
    pub fn with_per_page(mut self, per_page: u32) -> Result<Self, QueryError> {
        self.per_page = Some(check_per_page(per_page)?);
        Ok(self)
    }

    /// Asks for the page at `cursor` (a previous page's `next_cursor`).
    pub fn with_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// Sets or clears the cursor (`None`: the first page).
    pub fn set_cursor(&mut self, cursor: Option<String>) {
        self.cursor = cursor;
    }

    /// The conversation whose messages are listed.
    pub fn conversation_id(&self) -> i64 {
        self.conversation_id
    }

    /// The page size, when set ([`DEFAULT_PER_PAGE`] applies otherwise).
    pub fn per_page(&self) -> Option<u32> {
        self.per_page
    }

    /// The cursor of the page asked for, if not the first.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// The query string pairs to send, unencoded: `conversation_id`, then `per_page` and
    /// `cursor` when set.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("conversation_id", self.conversation_id.to_string())];
        if let Some(per_page) = self.per_page {
            pairs.push(("per_page", per_page.to_string()));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor", cursor.clone()));
        }
        pairs
    }
}

/// The query of `GET /conversations`: the conversations the API key can see, optionally
/// only those of some businesses.
///
/// ```
/// use partoo_types::ListConversationsQuery;
///
/// let query = ListConversationsQuery::new()
///     .with_per_page(50)?
///     .with_business_ids(["a1c9f37b4deca92f83b61d02", "9f4e2a8c0d73b154e621bc97"])?;
/// assert_eq!(
///     query.to_pairs(),
///     [
///         ("per_page", "50".to_owned()),
///         ("business__in", "a1c9f37b4deca92f83b61d02,9f4e2a8c0d73b154e621bc97".into()),
///     ]
/// );
/// # Ok::<(), partoo_types::QueryError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ListConversationsQuery {
    per_page: Option<u32>,
    cursor: Option<String>,
    business_ids: Vec<String>,
}

impl ListConversationsQuery {
    /// The first page of every conversation, at Partoo's default page size.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size: 1 to [`MAX_PER_PAGE`], else [`QueryError::PerPageOutOfRange`].
    pub fn with_per_page(mut self, per_page: u32) -> Result<Self, QueryError> {
        self.per_page = Some(check_per_page(per_page)?);
        Ok(self)
    }

    /// Asks for the page at `cursor` (a previous page's `next_cursor`).
    pub fn with_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// Sets or clears the cursor (`None`: the first page).
    pub fn set_cursor(&mut self, cursor: Option<String>) {
        self.cursor = cursor;
    }

    /// Keeps only the conversations of these businesses (`business__in`, comma-joined).
    /// Replaces any ids set before; an empty list removes the filter.
    ///
    /// Fails with [`QueryError::InvalidBusinessId`] on an empty id or one containing a comma,
    /// which the comma-separated list cannot carry.
    pub fn with_business_ids<I, S>(mut self, ids: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut checked = Vec::new();
        for id in ids {
            let id = id.into();
            let reason = if id.is_empty() {
                Some("it is empty")
            } else if id.contains(',') {
                Some("it contains a comma, the list separator")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(QueryError::InvalidBusinessId { id, reason });
            }
            checked.push(id);
        }
        self.business_ids = checked;
        Ok(self)
    }

    /// The page size, when set ([`DEFAULT_PER_PAGE`] applies otherwise).
    pub fn per_page(&self) -> Option<u32> {
        self.per_page
    }

    /// The cursor of the page asked for, if not the first.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// The business ids filtered on (empty: no filter).
    pub fn business_ids(&self) -> &[String] {
        &self.business_ids
    }

    /// The query string pairs to send, unencoded: `per_page`, `cursor` and `business__in`,
    /// each when set.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(per_page) = self.per_page {
            pairs.push(("per_page", per_page.to_string()));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor", cursor.clone()));
        }
        if !self.business_ids.is_empty() {
            pairs.push(("business__in", self.business_ids.join(",")));
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_page_bounds_are_checked_when_built() {
        for bad in [0, 101, u32::MAX] {
            let err = ListMessagesQuery::new(1).with_per_page(bad).unwrap_err();
            assert_eq!(err, QueryError::PerPageOutOfRange { value: bad });
            let text = err.to_string();
            assert!(
                text.contains("per_page") && text.contains(&bad.to_string()),
                "{text}"
            );
            let err = ListConversationsQuery::new()
                .with_per_page(bad)
                .unwrap_err();
            assert_eq!(err, QueryError::PerPageOutOfRange { value: bad });
        }
        for good in [1, 30, 100] {
            let q = ListMessagesQuery::new(1).with_per_page(good).unwrap();
            assert_eq!(q.per_page(), Some(good));
            let q = ListConversationsQuery::new().with_per_page(good).unwrap();
            assert_eq!(q.per_page(), Some(good));
        }
    }

    #[test]
    fn messages_query_pairs() {
        let mut q = ListMessagesQuery::new(4217);
        assert_eq!(q.to_pairs(), [("conversation_id", "4217".to_owned())]);
        q.set_cursor(Some("abc==".into()));
        assert_eq!(q.cursor(), Some("abc=="));
        assert_eq!(
            q.to_pairs(),
            [
                ("conversation_id", "4217".to_owned()),
                ("cursor", "abc==".to_owned())
            ]
        );
        q.set_cursor(None);
        assert_eq!(q.to_pairs().len(), 1);
    }

    #[test]
    fn conversations_query_pairs_and_business_ids() {
        assert!(ListConversationsQuery::new().to_pairs().is_empty());
        let q = ListConversationsQuery::new()
            .with_cursor("c1")
            .with_business_ids(["b1"])
            .unwrap();
        assert_eq!(
            q.to_pairs(),
            [
                ("cursor", "c1".to_owned()),
                ("business__in", "b1".to_owned())
            ]
        );
        assert_eq!(q.business_ids(), ["b1"]);
        let q = q.with_business_ids(Vec::<String>::new()).unwrap();
        assert_eq!(q.to_pairs(), [("cursor", "c1".to_owned())]);
        for bad in ["", "b1,b2"] {
            let err = ListConversationsQuery::new()
                .with_business_ids(["ok", bad])
                .unwrap_err();
            assert!(
                matches!(&err, QueryError::InvalidBusinessId { id, .. } if id == bad),
                "{err}"
            );
            assert!(err.to_string().contains("business__in"), "{err}");
        }
    }
}
