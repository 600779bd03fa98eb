//! Query parameters of the list endpoints (request side: closed, checked when built).

use std::fmt;

use inbox_wire::Timestamp;

/// Why a query could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryError {
    /// `limit` outside `1..=100`.
    LimitOutOfRange {
        /// The value asked for.
        value: u64,
    },
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::LimitOutOfRange { value } => write!(
                f,
                "invalid `limit` {value}: Bird returns 1 to {} items per page",
                Limit::MAX.get()
            ),
        }
    }
}

impl std::error::Error for QueryError {}

/// A page size Bird accepts: 1 to 100 (Bird's default is 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Limit(u8);

impl Limit {
    /// The largest page Bird returns.
    pub const MAX: Limit = Limit(100);

    /// Bird's default page size.
    pub const DEFAULT: Limit = Limit(10);

    /// A page size, checked to be within `1..=100`.
    pub fn new(value: u64) -> Result<Self, QueryError> {
        match u8::try_from(value) {
            Ok(v @ 1..=100) => Ok(Limit(v)),
            _ => Err(QueryError::LimitOutOfRange { value }),
        }
    }

    /// The page size.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u64> for Limit {
    type Error = QueryError;
    fn try_from(value: u64) -> Result<Self, QueryError> {
        Limit::new(value)
    }
}

/// The query of `GET /workspaces/{workspaceId}/conversations/{conversationId}/messages`.
///
/// ```
/// use bird_types::{Limit, ListMessagesQuery, Timestamp};
///
/// let query = ListMessagesQuery::new()
///     .limit(Limit::new(50)?)
///     .date_from(Timestamp::parse("2024-11-25T20:12:10.514+01:00")?);
/// assert_eq!(
///     query.to_pairs(),
///     [("limit", "50".to_owned()), ("dateFrom", "2024-11-25T19:12:10.514Z".to_owned())],
/// );
/// assert!(Limit::new(101).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListMessagesQuery {
    /// Page size (Bird's default: 10).
    pub limit: Option<Limit>,
    /// The `nextPageToken` of the previous page.
    pub page_token: Option<String>,
    /// The ordering flag (Bird's default: `false`).
    pub reverse: Option<bool>,
    /// Only messages created after this instant.
    pub date_from: Option<Timestamp>,
}

impl ListMessagesQuery {
    /// A query with every parameter left to Bird's default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: Limit) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets the page token (the previous page's `nextPageToken`).
    pub fn page_token(mut self, token: impl Into<String>) -> Self {
        self.page_token = Some(token.into());
        self
    }

    /// Sets the ordering flag.
    pub fn reverse(mut self, reverse: bool) -> Self {
        self.reverse = Some(reverse);
        self
    }

    /// Only messages created after `at`.
    pub fn date_from(mut self, at: Timestamp) -> Self {
        self.date_from = Some(at);
        self
    }

    /// The query pairs to send, in a fixed order, without the unset ones. `dateFrom` is
    /// written as RFC 3339 in UTC, whatever spelling the timestamp was parsed from.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = common_pairs(self.limit, self.page_token.as_deref(), self.reverse);
        if let Some(at) = &self.date_from {
            pairs.push(("dateFrom", at.to_rfc3339_utc()));
        }
        pairs
    }
}

/// The query of `GET /workspaces/{workspaceId}/conversations`.
///
/// ```
/// use bird_types::{Limit, ListConversationsQuery};
///
/// let query = ListConversationsQuery::new().limit(Limit::MAX).page_token("WyIyMDI0Il0=");
/// assert_eq!(
///     query.to_pairs(),
///     [("limit", "100".to_owned()), ("pageToken", "WyIyMDI0Il0=".to_owned())],
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListConversationsQuery {
    /// Page size (Bird's default: 10).
    pub limit: Option<Limit>,
    /// The `nextPageToken` of the previous page.
    pub page_token: Option<String>,
    /// The ordering flag (Bird's default: `false`).
    pub reverse: Option<bool>,
    /// Only conversations about this resource, e.g. `task:ab651378-...` (Bird accepts up to 60
    /// characters).
    pub resource: Option<String>,
}

impl ListConversationsQuery {
    /// A query with every parameter left to Bird's default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: Limit) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets the page token (the previous page's `nextPageToken`).
    pub fn page_token(mut self, token: impl Into<String>) -> Self {
        self.page_token = Some(token.into());
        self
    }

    /// Sets the ordering flag.
    pub fn reverse(mut self, reverse: bool) -> Self {
        self.reverse = Some(reverse);
        self
    }

    /// Only conversations about `resource`.
    pub fn resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// The query pairs to send, in a fixed order, without the unset ones.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = common_pairs(self.limit, self.page_token.as_deref(), self.reverse);
        if let Some(resource) = &self.resource {
            pairs.push(("resource", resource.clone()));
        }
        pairs
    }
}

fn common_pairs(
    limit: Option<Limit>,
    page_token: Option<&str>,
    reverse: Option<bool>,
) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::with_capacity(4);
    if let Some(limit) = limit {
        pairs.push(("limit", limit.get().to_string()));
    }
    if let Some(token) = page_token {
        pairs.push(("pageToken", token.to_owned()));
    }
    if let Some(reverse) = reverse {
        pairs.push(("reverse", reverse.to_string()));
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_accepts_1_to_100_only() {
        for bad in [0, 101, 256, u64::MAX] {
            let err = Limit::new(bad).unwrap_err();
            assert_eq!(err, QueryError::LimitOutOfRange { value: bad });
            let text = err.to_string();
            assert!(
                text.contains(&format!("`limit` {bad}")) && text.contains("1 to 100"),
                "{text}"
            );
        }
        assert_eq!(Limit::new(1).unwrap().get(), 1);
        assert_eq!(Limit::new(100).unwrap(), Limit::MAX);
        assert_eq!(Limit::try_from(10).unwrap(), Limit::DEFAULT);
    }

    #[test]
    fn messages_query_pairs_in_order() {
        assert!(ListMessagesQuery::new().to_pairs().is_empty());
        let query = ListMessagesQuery::new()
            .date_from(Timestamp::parse("2024-01-01 01:30:00+02:00").unwrap())
            .reverse(true)
            .page_token("tok")
            .limit(Limit::new(7).unwrap());
        assert_eq!(
            query.to_pairs(),
            [
                ("limit", "7".to_owned()),
                ("pageToken", "tok".to_owned()),
                ("reverse", "true".to_owned()),
                ("dateFrom", "2023-12-31T23:30:00Z".to_owned()),
            ]
        );
    }

    #[test]
    fn conversations_query_pairs() {
        let query = ListConversationsQuery::new()
            .resource("task:1")
            .reverse(false);
        assert_eq!(
            query.to_pairs(),
            [
                ("reverse", "false".to_owned()),
                ("resource", "task:1".to_owned())
            ]
        );
    }
}
