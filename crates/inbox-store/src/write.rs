//! The writes: one function a row kind, each given the transaction it is part of.

use std::collections::HashMap;

use inbox_aggregator::model::{ConversationSummary, Message, Status};
use inbox_aggregator::{Rejected, Timestamp};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::sync::Counts;

/// Nanoseconds since the epoch, as stored (clamped to what an `i64` holds: years 1678 to
/// 2262).
pub(crate) fn nanos(t: &Timestamp) -> i64 {
    let n = t.unix_nanos();
    i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
}

/// Now, as stored.
pub(crate) fn now() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}

/// A status's place in the lifecycle: what orders two states of a message that carries no
/// `updated_at` (Partoo). `None` for a status the provider did not document: then the state
/// seen last wins.
pub(crate) fn lifecycle(message: &Message) -> Option<i64> {
    if message.is_deleted {
        return Some(6);
    }
    match message.status {
        Status::Pending => Some(1),
        Status::Failed { .. } => Some(2),
        Status::Sent => Some(3),
        Status::Delivered => Some(4),
        Status::Read => Some(5),
        Status::Deleted => Some(6),
        _ => None,
    }
}

/// What an upsert did to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upserted {
    /// First seen.
    New,
    /// Seen before in another state, and this one is newer: the row changed, its revision
    /// went up.
    Updated,
    /// Seen before as it is, or in a newer state: the row is as it was.
    Unchanged,
}

/// The account of `provider` named `identity`, created when new.
pub(crate) async fn account(
    conn: &mut AnyConnection,
    provider: &str,
    identity: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO accounts (provider, identity, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (provider, identity) DO NOTHING",
    )
    .bind(provider)
    .bind(identity)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query("SELECT id FROM accounts WHERE provider = $1 AND identity = $2")
        .bind(provider)
        .bind(identity)
        .fetch_one(&mut *conn)
        .await?;
    row.try_get(0)
}

/// Starts a sync run of `account`.
pub(crate) async fn start_run(
    conn: &mut AnyConnection,
    account: i64,
    full: bool,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO sync_runs (account_id, started_at, full_sync) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(account)
    .bind(now())
    .bind(i64::from(full))
    .fetch_one(&mut *conn)
    .await?;
    row.try_get(0)
}

/// Ends a run with its counts and the first failures.
pub(crate) async fn finish_run(
    conn: &mut AnyConnection,
    run: i64,
    counts: &Counts,
    failure_summary: Option<&str>,
) -> Result<(), sqlx::Error> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    sqlx::query(
        "UPDATE sync_runs SET finished_at = $2, requests = $3, conversations_listed = $4, \
         conversations_changed = $5, conversations_skipped = $6, conversations_vanished = $7, \
         messages_new = $8, messages_updated = $9, messages_unchanged = $10, rejected = $11, \
         failures = $12, failure_summary = $13 WHERE id = $1",
    )
    .bind(run)
    .bind(now())
    .bind(n(counts.requests))
    .bind(n(counts.listed))
    .bind(n(counts.changed))
    .bind(n(counts.skipped))
    .bind(n(counts.vanished))
    .bind(n(counts.new))
    .bind(n(counts.updated))
    .bind(n(counts.unchanged))
    .bind(n(counts.rejected))
    .bind(n(counts.failures))
    .bind(failure_summary)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a conversation summary as listed at `listed_at` (a vanished one is back).
pub(crate) async fn conversation(
    conn: &mut AnyConnection,
    account: i64,
    summary: &ConversationSummary,
    listed_at: i64,
) -> Result<(), sqlx::Error> {
    let origin = serde_json::to_string(&summary.origin).unwrap_or_default();
    let contact = summary.contact.as_ref();
    sqlx::query(
        "INSERT INTO conversations (account_id, id, status, channel, channel_id, contact_name, \
         contact_address, created_at, last_message_id, last_message_at, last_activity, origin, \
         listed_at, vanished_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL) \
         ON CONFLICT (account_id, id) DO UPDATE SET status = excluded.status, \
         channel = excluded.channel, channel_id = excluded.channel_id, \
         contact_name = excluded.contact_name, contact_address = excluded.contact_address, \
         created_at = excluded.created_at, last_message_id = excluded.last_message_id, \
         last_message_at = excluded.last_message_at, last_activity = excluded.last_activity, \
         origin = excluded.origin, listed_at = excluded.listed_at, vanished_at = NULL",
    )
    .bind(account)
    .bind(summary.id.to_string())
    .bind(summary.status.as_ref().map(|s| s.as_str()))
    .bind(summary.channel.as_ref().map(|c| c.as_str()))
    .bind(summary.channel_id.as_deref())
    .bind(contact.and_then(|c| c.name.as_deref()))
    .bind(contact.and_then(|c| c.address.as_deref()))
    .bind(summary.created_at.as_ref().map(nanos))
    .bind(
        summary
            .last_activity
            .message_id
            .as_ref()
            .map(ToString::to_string),
    )
    .bind(summary.last_activity.message_at.as_ref().map(nanos))
    .bind(summary.last_activity.key())
    .bind(origin)
    .bind(listed_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the conversations of `account` that a complete listing at `listed_at` did not hold
/// as vanished (kept, not deleted); returns how many were newly marked.
pub(crate) async fn mark_vanished(
    conn: &mut AnyConnection,
    account: i64,
    listed_at: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE conversations SET vanished_at = $2 \
         WHERE account_id = $1 AND listed_at < $2 AND vanished_at IS NULL",
    )
    .bind(account)
    .bind(listed_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Stores messages, each once per (account, id): a new one is inserted; a known one is
/// updated in place (its revision bumped) only when it differs and is not older than the
/// stored state: by `updated_at` when both have one, else by the lifecycle; when neither
/// tells, the state seen last wins. With `only_new`, an insert that leaves a known message
/// as it is (a "created" event is the first state of a message, so one arriving late must
/// not overwrite a later state).
///
/// Written as few multi-row statements: one round trip to the database for up to
/// [`ROWS_PER_STATEMENT`] messages, not one each. Says what happened to each, in order.
pub(crate) async fn messages(
    conn: &mut AnyConnection,
    rows: &[(i64, &Message)],
    at: i64,
    only_new: bool,
) -> Result<Vec<Upserted>, sqlx::Error> {
    let mut out = Vec::with_capacity(rows.len());
    let mut rest = rows;
    while !rest.is_empty() {
        // A statement's rows have distinct keys: the outcome of each is then told apart by
        // its key, and one statement never touches a row twice.
        let mut seen = std::collections::HashSet::with_capacity(rest.len().min(ROWS_PER_STATEMENT));
        let len = rest
            .iter()
            .take(ROWS_PER_STATEMENT)
            .take_while(|(account, m)| seen.insert((*account, &m.id)))
            .count();
        let (chunk, after) = rest.split_at(len);
        statement(conn, chunk, at, only_new, &mut out).await?;
        rest = after;
    }
    Ok(out)
}

/// Rows of one multi-row statement at most: 18 parameters each, far below the limits of
/// SQLite (32 766) and PostgreSQL (65 535).
pub(crate) const ROWS_PER_STATEMENT: usize = 128;

const COLUMNS: usize = 17;

async fn statement(
    conn: &mut AnyConnection,
    chunk: &[(i64, &Message)],
    at: i64,
    only_new: bool,
    out: &mut Vec<Upserted>,
) -> Result<(), sqlx::Error> {
    use std::fmt::Write as _;
    // SQLite gets anonymous `?` placeholders, bound in order. With numbered ones (`$n`) every
    // bind asks SQLite for the parameter's name, which it finds by a linear scan of all the
    // statement's names: binding 128 rows of 19 took longer than executing them.
    let anonymous = conn.backend_name() == "SQLite";
    let mut sql = String::with_capacity(MESSAGE_INSERT.len() + chunk.len() * 110 + 900);
    sql.push_str(MESSAGE_INSERT);
    for k in 0..chunk.len() {
        let base = 1 + k * COLUMNS;
        sql.push_str(if k == 0 { " (" } else { ", (" });
        for c in 0..COLUMNS {
            // Column 15 (revision) is a constant.
            if anonymous {
                sql.push_str("?,");
            } else {
                let _ = write!(sql, "${},", base + c + 1);
            }
            if c == 14 {
                sql.push_str("1,");
            }
        }
        // The time stored, the same for every row: `$1` once, or bound twice per row.
        sql.push_str(if anonymous { "?, ?)" } else { "$1, $1)" });
    }
    sql.push_str(if only_new {
        MESSAGE_IF_NEW
    } else {
        MESSAGE_UPSERT
    });
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    if !anonymous {
        query = query.bind(at);
    }
    for (account, message) in chunk {
        query = query
            .bind(*account)
            .bind(message.id.to_string())
            .bind(message.provider.to_string())
            .bind(message.conversation_id.to_string())
            .bind(nanos(&message.timestamp))
            .bind(message.updated_at.as_ref().map(nanos))
            .bind(message.direction.as_str())
            .bind(message.sender.role.as_str())
            .bind(message.status.as_str())
            .bind(message.content.kind())
            .bind(message.text.as_str())
            .bind(i64::from(message.is_deleted))
            .bind(i64::from(message.is_automated))
            .bind(i64::from(message.is_draft))
            .bind(lifecycle(message))
            .bind(serde_json::to_string(&message.without_origin()).unwrap_or_default())
            .bind(serde_json::to_string(&message.origin).unwrap_or_default());
        if anonymous {
            query = query.bind(at).bind(at);
        }
    }
    let returned = query.fetch_all(conn).await?;
    let mut changed: HashMap<(i64, String), i64> = HashMap::with_capacity(returned.len());
    for row in returned {
        changed.insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
    }
    for (account, message) in chunk {
        out.push(match changed.get(&(*account, message.id.to_string())) {
            None => Upserted::Unchanged,
            Some(1) => Upserted::New,
            Some(_) => Upserted::Updated,
        });
    }
    Ok(())
}

/// The insert's head; the rows follow.
const MESSAGE_INSERT: &str = "INSERT INTO messages (account_id, id, provider, conversation_id, ts, \
         updated_at, direction, role, status, kind, preview, is_deleted, is_automated, is_draft, \
         lifecycle, revision, unified, origin, stored_at, changed_at) VALUES";

/// The upsert's tail, by the rule of [`messages`].
const MESSAGE_UPSERT: &str = " ON CONFLICT (account_id, id) DO UPDATE SET conversation_id = excluded.conversation_id, \
         ts = excluded.ts, updated_at = excluded.updated_at, direction = excluded.direction, \
         role = excluded.role, status = excluded.status, kind = excluded.kind, \
         preview = excluded.preview, is_deleted = excluded.is_deleted, \
         is_automated = excluded.is_automated, is_draft = excluded.is_draft, \
         lifecycle = excluded.lifecycle, revision = messages.revision + 1, \
         unified = excluded.unified, origin = excluded.origin, changed_at = excluded.changed_at \
         WHERE messages.origin <> excluded.origin AND (CASE \
           WHEN excluded.updated_at IS NOT NULL AND messages.updated_at IS NOT NULL \
             THEN excluded.updated_at >= messages.updated_at \
           WHEN excluded.lifecycle IS NOT NULL AND messages.lifecycle IS NOT NULL \
             THEN excluded.lifecycle >= messages.lifecycle \
           ELSE 1 = 1 END) \
         RETURNING account_id, id, revision";

/// The insert-unless-known's tail.
const MESSAGE_IF_NEW: &str =
    " ON CONFLICT (account_id, id) DO NOTHING RETURNING account_id, id, revision";

/// Where a rejected item came from.
pub(crate) struct Origin<'a> {
    pub(crate) item: &'static str,
    pub(crate) conversation: Option<&'a str>,
    pub(crate) page: Option<usize>,
    pub(crate) run: Option<i64>,
}

/// Keeps an item that did not decode, raw, with where and why; the same item seen again
/// is one row (its last sighting updated).
pub(crate) async fn rejected(
    conn: &mut AnyConnection,
    account: i64,
    from: &Origin<'_>,
    item: &Rejected,
) -> Result<(), sqlx::Error> {
    let raw = item.raw.get();
    let digest: String = Sha256::digest(raw.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let at = now();
    sqlx::query(
        "INSERT INTO rejected (account_id, item, conversation_id, page, digest, path, message, \
         raw, sync_run_id, first_seen_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
         ON CONFLICT (account_id, item, digest) DO UPDATE SET last_seen_at = excluded.last_seen_at, \
         sync_run_id = excluded.sync_run_id",
    )
    .bind(account)
    .bind(from.item)
    .bind(from.conversation)
    .bind(from.page.and_then(|p| i64::try_from(p).ok()))
    .bind(digest)
    .bind(item.path.as_str())
    .bind(item.message.as_str())
    .bind(raw)
    .bind(from.run)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Where the mirror of one conversation stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    /// The newest (created time, id) such that every older message is stored.
    pub(crate) at: Option<(i64, String)>,
    /// The listing's marker when the conversation was last read to its end.
    pub(crate) marker: Option<String>,
    /// The listing's last message then.
    pub(crate) last_message_id: Option<String>,
}

/// Every checkpoint of `account`, by conversation id.
pub(crate) async fn checkpoints(
    conn: &mut AnyConnection,
    account: i64,
) -> Result<HashMap<String, Checkpoint>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT conversation_id, at, message_id, marker, last_message_id FROM checkpoints \
         WHERE account_id = $1",
    )
    .bind(account)
    .fetch_all(conn)
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let at: Option<i64> = row.try_get(1)?;
        let id: Option<String> = row.try_get(2)?;
        out.insert(
            row.try_get(0)?,
            Checkpoint {
                at: at.zip(id),
                marker: row.try_get(3)?,
                last_message_id: row.try_get(4)?,
            },
        );
    }
    Ok(out)
}

/// Writes a conversation's checkpoint.
pub(crate) async fn save_checkpoint(
    conn: &mut AnyConnection,
    account: i64,
    conversation: &str,
    checkpoint: &Checkpoint,
) -> Result<(), sqlx::Error> {
    let (at, id) = match &checkpoint.at {
        Some((at, id)) => (Some(*at), Some(id.as_str())),
        None => (None, None),
    };
    sqlx::query(
        "INSERT INTO checkpoints (account_id, conversation_id, at, message_id, marker, \
         last_message_id, synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (account_id, conversation_id) DO UPDATE SET at = excluded.at, \
         message_id = excluded.message_id, marker = excluded.marker, \
         last_message_id = excluded.last_message_id, synced_at = excluded.synced_at",
    )
    .bind(account)
    .bind(conversation)
    .bind(at)
    .bind(id)
    .bind(checkpoint.marker.as_deref())
    .bind(checkpoint.last_message_id.as_deref())
    .bind(now())
    .execute(conn)
    .await?;
    Ok(())
}
