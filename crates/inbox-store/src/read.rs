//! Reading the mirror back: messages as a stream, full-text search, conversations, runs.

use futures_util::{Stream, TryStreamExt};
use inbox_aggregator::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::StoreError;
use crate::open::{Backend, Store};
use crate::write::nanos;

/// Which stored messages to read. Every filter is optional; the default is every message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageQuery {
    /// Only messages created at or after this instant.
    pub since: Option<Timestamp>,
    /// Only messages created before this instant.
    pub until: Option<Timestamp>,
    /// Only this provider's (`partoo`, `bird`).
    pub provider: Option<String>,
    /// Only this conversation's (the provider's id, as text).
    pub conversation: Option<String>,
    /// Only messages stored or changed at or after this instant (what a sync that started
    /// then brought).
    pub changed_since: Option<Timestamp>,
}

impl MessageQuery {
    /// Every message.
    pub fn new() -> Self {
        Self::default()
    }

    /// Created at or after `t`.
    pub fn since(mut self, t: Timestamp) -> Self {
        self.since = Some(t);
        self
    }

    /// Created before `t`.
    pub fn until(mut self, t: Timestamp) -> Self {
        self.until = Some(t);
        self
    }

    /// Of one provider.
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// Of one conversation.
    pub fn conversation(mut self, id: impl Into<String>) -> Self {
        self.conversation = Some(id.into());
        self
    }

    /// Stored or changed at or after `t`.
    pub fn changed_since(mut self, t: Timestamp) -> Self {
        self.changed_since = Some(t);
        self
    }
}

/// A stored message: the columns one queries, and its unified JSON whole.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredMessage {
    /// `partoo` or `bird`.
    pub provider: String,
    /// The account's identity (a Bird workspace id, a Partoo organisation id).
    pub account: String,
    /// The provider's message id.
    pub id: String,
    /// The provider's conversation id.
    pub conversation_id: String,
    /// When it was created, nanoseconds since the epoch (UTC).
    pub timestamp_nanos: i64,
    /// `inbound`, `outbound`, `system`.
    pub direction: String,
    /// The sender's role.
    pub role: String,
    /// The unified status.
    pub status: String,
    /// The content kind.
    pub kind: String,
    /// The one-line text.
    pub text: String,
    /// How many times the row changed since it was first stored, plus one.
    pub revision: i64,
    /// The message in the unified JSON shape (the documented one, `origin` included).
    pub json: String,
}

impl StoredMessage {
    /// When it was created.
    pub fn timestamp(&self) -> Option<Timestamp> {
        Timestamp::from_unix_nanos(i128::from(self.timestamp_nanos))
    }
}

/// The columns [`stored_message`] reads, in its order.
macro_rules! message_columns {
    () => {
        "m.provider, a.identity, m.id, m.conversation_id, m.ts, m.direction, m.role, \
         m.status, m.kind, m.preview, m.revision, m.unified, m.origin"
    };
}

fn stored_message(row: &AnyRow) -> Result<StoredMessage, StoreError> {
    let damaged = |e: sqlx::Error| StoreError::Damaged {
        what: "message row".into(),
        reason: e.to_string(),
    };
    let unified: String = row.try_get(11).map_err(damaged)?;
    let origin: String = row.try_get(12).map_err(damaged)?;
    // The unified JSON is an object without its last key: put `origin` back.
    let json = match unified.strip_suffix('}') {
        Some(rest) if rest.len() > 1 => format!("{rest},\"origin\":{origin}}}"),
        Some(_) => format!("{{\"origin\":{origin}}}"),
        None => {
            return Err(StoreError::Damaged {
                what: "message row".into(),
                reason: "its unified JSON is not an object".into(),
            });
        }
    };
    Ok(StoredMessage {
        provider: row.try_get(0).map_err(damaged)?,
        account: row.try_get(1).map_err(damaged)?,
        id: row.try_get(2).map_err(damaged)?,
        conversation_id: row.try_get(3).map_err(damaged)?,
        timestamp_nanos: row.try_get(4).map_err(damaged)?,
        direction: row.try_get(5).map_err(damaged)?,
        role: row.try_get(6).map_err(damaged)?,
        status: row.try_get(7).map_err(damaged)?,
        kind: row.try_get(8).map_err(damaged)?,
        text: row.try_get(9).map_err(damaged)?,
        revision: row.try_get(10).map_err(damaged)?,
        json,
    })
}

/// A hit of a full-text search.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SearchHit {
    /// The message.
    pub message: StoredMessage,
    /// How well it matches: lower is better (SQLite's bm25).
    pub rank: f64,
}

/// A stored conversation summary.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredConversation {
    /// `partoo` or `bird`.
    pub provider: String,
    /// The account's identity.
    pub account: String,
    /// The provider's conversation id.
    pub id: String,
    /// Its unified status, where known.
    pub status: Option<String>,
    /// Its channel, where known.
    pub channel: Option<String>,
    /// The contact's name, where known.
    pub contact_name: Option<String>,
    /// When its last message was sent, nanoseconds since the epoch.
    pub last_message_at: Option<i64>,
    /// The messages stored of it.
    pub messages: i64,
    /// Whether a complete listing no longer held it.
    pub vanished: bool,
}

/// Where the mirror of one conversation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredCheckpoint {
    /// `partoo` or `bird`.
    pub provider: String,
    /// The account's identity.
    pub account: String,
    /// The provider's conversation id.
    pub conversation_id: String,
    /// The created time (nanoseconds since the epoch) and id of the newest message such
    /// that every older message of the conversation is stored; `None` before any.
    pub at: Option<(i64, String)>,
    /// Whether the conversation was read to its end since its last listed change.
    pub complete: bool,
}

/// An item a provider sent that did not decode, kept raw with where it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredRejected {
    /// `partoo` or `bird`.
    pub provider: String,
    /// The account's identity.
    pub account: String,
    /// `message` or `conversation`.
    pub item: String,
    /// The conversation whose page held it (messages only).
    pub conversation_id: Option<String>,
    /// The page of the walk it came on, from 0 (messages only).
    pub page: Option<i64>,
    /// The JSON path of the problem, inside the item.
    pub path: String,
    /// What was wrong there.
    pub message: String,
    /// The item as the provider sent it.
    pub raw: String,
    /// When it was first and last seen (nanoseconds since the epoch): seeing it again
    /// keeps one row.
    pub first_seen_at: i64,
    /// When it was last seen.
    pub last_seen_at: i64,
}

/// A stored sync run of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncRun {
    /// Its id.
    pub id: i64,
    /// `partoo` or `bird`.
    pub provider: String,
    /// The account's identity.
    pub account: String,
    /// When it started and finished (nanoseconds since the epoch); `None` if it never
    /// finished (the process stopped, or the database refused a write).
    pub started_at: i64,
    /// When it finished.
    pub finished_at: Option<i64>,
    /// Whether it read everything (`--full`).
    pub full: bool,
    /// What it did.
    pub counts: crate::Counts,
    /// Its first failures, one a line.
    pub failure_summary: Option<String>,
}

impl Store {
    /// The stored messages matching `query`, oldest first (ties by provider, then id), each
    /// once, streamed: memory stays flat however many there are.
    pub fn messages(
        &self,
        query: MessageQuery,
    ) -> impl Stream<Item = Result<StoredMessage, StoreError>> + Send + '_ {
        const SQL: &str = concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages m JOIN accounts a ON a.id = m.account_id \
             WHERE ($1 IS NULL OR m.ts >= $1) AND ($2 IS NULL OR m.ts < $2) \
             AND ($3 IS NULL OR m.provider = $3) AND ($4 IS NULL OR m.conversation_id = $4) \
             AND ($5 IS NULL OR m.changed_at >= $5) \
             ORDER BY m.ts, m.provider, m.id"
        );
        sqlx::query(SQL)
            .bind(query.since.as_ref().map(nanos))
            .bind(query.until.as_ref().map(nanos))
            .bind(query.provider)
            .bind(query.conversation)
            .bind(query.changed_since.as_ref().map(nanos))
            .fetch(&self.pool)
            .map_err(|e| self.err("reading messages", e))
            .and_then(|row| async move { stored_message(&row) })
    }

    /// The messages whose text matches `text` (every word of it, any order; punctuation
    /// is not syntax), best match first, at most `limit`.
    pub async fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>, StoreError> {
        let query = fts_query(text);
        if query.is_empty() {
            return Ok(Vec::new());
        }
        // Lower is better on both: SQLite's bm25, and PostgreSQL's rank negated.
        const SQLITE: &str = concat!(
            "SELECT ",
            message_columns!(),
            ", bm25(messages_fts) AS rank FROM messages_fts \
             JOIN messages m ON m.rowid = messages_fts.rowid \
             JOIN accounts a ON a.id = m.account_id \
             WHERE messages_fts MATCH $1 ORDER BY rank, m.ts LIMIT $2"
        );
        const POSTGRES: &str = concat!(
            "SELECT ",
            message_columns!(),
            ", CAST(-ts_rank(m.search, q) AS DOUBLE PRECISION) AS rank \
             FROM messages m JOIN accounts a ON a.id = m.account_id, \
             plainto_tsquery('inbox_search'::regconfig, $1) q \
             WHERE m.search @@ q ORDER BY rank, m.ts LIMIT $2"
        );
        let (sql, query) = match self.backend {
            Backend::Sqlite => (SQLITE, query),
            // Its own parser: every word, punctuation not syntax.
            Backend::Postgres => (POSTGRES, text.to_owned()),
        };
        let rows = sqlx::query(sql)
            .bind(query)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err("searching", e))?;
        rows.iter()
            .map(|row| {
                Ok(SearchHit {
                    message: stored_message(row)?,
                    rank: row.try_get(13).unwrap_or(0.0),
                })
            })
            .collect()
    }

    /// How many messages are stored.
    pub async fn messages_count(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT count(*) FROM messages")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.err("counting messages", e))?;
        let n: i64 = row
            .try_get(0)
            .map_err(|e| self.err("counting messages", e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The journal mode of the database (`wal` once opened; PostgreSQL has none and
    /// answers `server`).
    pub async fn journal_mode(&self) -> Result<String, StoreError> {
        if self.backend == Backend::Postgres {
            return Ok("server".to_owned());
        }
        let row = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.err("reading the journal mode", e))?;
        row.try_get(0)
            .map_err(|e| self.err("reading the journal mode", e))
    }

    /// Every stored conversation, newest activity first.
    pub async fn conversations(&self) -> Result<Vec<StoredConversation>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.provider, a.identity, c.id, c.status, c.channel, c.contact_name, \
             c.last_message_at, \
             (SELECT count(*) FROM messages m WHERE m.account_id = c.account_id \
              AND m.conversation_id = c.id), \
             CAST(CASE WHEN c.vanished_at IS NULL THEN 0 ELSE 1 END AS BIGINT) \
             FROM conversations c JOIN accounts a ON a.id = c.account_id \
             ORDER BY c.last_message_at DESC, a.provider, c.id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err("reading conversations", e))?;
        rows.iter()
            .map(|row| {
                let damaged = |e: sqlx::Error| StoreError::Damaged {
                    what: "conversation row".into(),
                    reason: e.to_string(),
                };
                let vanished: i64 = row.try_get(8).map_err(damaged)?;
                Ok(StoredConversation {
                    provider: row.try_get(0).map_err(damaged)?,
                    account: row.try_get(1).map_err(damaged)?,
                    id: row.try_get(2).map_err(damaged)?,
                    status: row.try_get(3).map_err(damaged)?,
                    channel: row.try_get(4).map_err(damaged)?,
                    contact_name: row.try_get(5).map_err(damaged)?,
                    last_message_at: row.try_get(6).map_err(damaged)?,
                    messages: row.try_get(7).map_err(damaged)?,
                    vanished: vanished != 0,
                })
            })
            .collect()
    }

    /// Every conversation's checkpoint.
    pub async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.provider, a.identity, k.conversation_id, k.at, k.message_id, \
             CAST(CASE WHEN k.marker IS NULL THEN 0 ELSE 1 END AS BIGINT) FROM checkpoints k JOIN accounts a ON a.id = k.account_id \
             ORDER BY a.provider, a.identity, k.conversation_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err("reading checkpoints", e))?;
        rows.iter()
            .map(|row| {
                let damaged = |e: sqlx::Error| StoreError::Damaged {
                    what: "checkpoint row".into(),
                    reason: e.to_string(),
                };
                let at: Option<i64> = row.try_get(3).map_err(damaged)?;
                let id: Option<String> = row.try_get(4).map_err(damaged)?;
                let complete: i64 = row.try_get(5).map_err(damaged)?;
                Ok(StoredCheckpoint {
                    provider: row.try_get(0).map_err(damaged)?,
                    account: row.try_get(1).map_err(damaged)?,
                    conversation_id: row.try_get(2).map_err(damaged)?,
                    at: at.zip(id),
                    complete: complete != 0,
                })
            })
            .collect()
    }

    /// The last `limit` rejected items, the most recently seen first.
    pub async fn rejected(&self, limit: usize) -> Result<Vec<StoredRejected>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.provider, a.identity, r.item, r.conversation_id, r.page, r.path, \
             r.message, r.raw, r.first_seen_at, r.last_seen_at \
             FROM rejected r JOIN accounts a ON a.id = r.account_id \
             ORDER BY r.last_seen_at DESC, r.id DESC LIMIT $1",
        )
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err("reading rejected items", e))?;
        rows.iter()
            .map(|row| {
                let damaged = |e: sqlx::Error| StoreError::Damaged {
                    what: "rejected item row".into(),
                    reason: e.to_string(),
                };
                Ok(StoredRejected {
                    provider: row.try_get(0).map_err(damaged)?,
                    account: row.try_get(1).map_err(damaged)?,
                    item: row.try_get(2).map_err(damaged)?,
                    conversation_id: row.try_get(3).map_err(damaged)?,
                    page: row.try_get(4).map_err(damaged)?,
                    path: row.try_get(5).map_err(damaged)?,
                    message: row.try_get(6).map_err(damaged)?,
                    raw: row.try_get(7).map_err(damaged)?,
                    first_seen_at: row.try_get(8).map_err(damaged)?,
                    last_seen_at: row.try_get(9).map_err(damaged)?,
                })
            })
            .collect()
    }

    /// The last `limit` sync runs, newest first.
    pub async fn runs(&self, limit: usize) -> Result<Vec<SyncRun>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.id, a.provider, a.identity, r.started_at, r.finished_at, r.full_sync, \
             r.requests, r.conversations_listed, r.conversations_changed, \
             r.conversations_skipped, r.conversations_vanished, r.messages_new, \
             r.messages_updated, r.messages_unchanged, r.rejected, r.failures, r.failure_summary \
             FROM sync_runs r JOIN accounts a ON a.id = r.account_id \
             ORDER BY r.id DESC LIMIT $1",
        )
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err("reading sync runs", e))?;
        rows.iter()
            .map(|row| {
                let damaged = |e: sqlx::Error| StoreError::Damaged {
                    what: "sync run row".into(),
                    reason: e.to_string(),
                };
                let n = |i: usize| -> Result<u64, StoreError> {
                    let v: i64 = row.try_get(i).map_err(damaged)?;
                    Ok(u64::try_from(v).unwrap_or(0))
                };
                let full: i64 = row.try_get(5).map_err(damaged)?;
                let counts = crate::Counts {
                    requests: n(6)?,
                    listed: n(7)?,
                    changed: n(8)?,
                    skipped: n(9)?,
                    vanished: n(10)?,
                    new: n(11)?,
                    updated: n(12)?,
                    unchanged: n(13)?,
                    rejected: n(14)?,
                    failures: n(15)?,
                };
                Ok(SyncRun {
                    id: row.try_get(0).map_err(damaged)?,
                    provider: row.try_get(1).map_err(damaged)?,
                    account: row.try_get(2).map_err(damaged)?,
                    started_at: row.try_get(3).map_err(damaged)?,
                    finished_at: row.try_get(4).map_err(damaged)?,
                    full: full != 0,
                    counts,
                    failure_summary: row.try_get(16).map_err(damaged)?,
                })
            })
            .collect()
    }
}

/// The FTS5 query for what a user typed: each word quoted (so that no character is syntax),
/// all of them required.
fn fts_query(text: &str) -> String {
    text.split_whitespace()
        .map(|word| word.replace('"', "\"\""))
        .filter(|word| word.chars().any(char::is_alphanumeric))
        .map(|word| format!("\"{word}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_becomes_a_query_without_syntax() {
        assert_eq!(fts_query("  bonjour   Hugo "), "\"bonjour\" \"Hugo\"");
        assert_eq!(fts_query("a\"b OR (c"), "\"a\"\"b\" \"OR\" \"(c\"");
        assert_eq!(fts_query(" - * "), "");
    }
}
