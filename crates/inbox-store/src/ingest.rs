//! Writes that arrive outside a sync: a webhook's message or conversation, a delivery seen,
//! an authentic body that did not decode.

use inbox_aggregator::Account;
use inbox_aggregator::model::{ConversationSummary, Message};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::error::StoreError;
use crate::open::Store;
use crate::sync::Counts;
use crate::write::{self, Upserted};

/// An authentic webhook body that did not decode, kept raw.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredWebhookRejected {
    /// `partoo` or `bird`.
    pub provider: String,
    /// The event type, when it could be read.
    pub event_type: Option<String>,
    /// The JSON path of the problem.
    pub path: String,
    /// What was wrong there.
    pub message: String,
    /// The body as received.
    pub raw: String,
    /// When it was first seen (nanoseconds since the epoch).
    pub first_seen_at: i64,
    /// When it was last seen.
    pub last_seen_at: i64,
}

/// A webhook delivery, recorded in the transaction of its effect: a delivery seen before (a
/// retry, a replay, a duplicate) is acknowledged without being applied again, and one whose
/// effect did not commit is not recorded, so the provider's retry is applied.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// `partoo` or `bird`.
    pub provider: &'a str,
    /// Bird's `messagebird-request-id`, or a digest of the body.
    pub id: &'a str,
    /// The event type.
    pub event_type: Option<&'a str>,
}

/// Records `delivery` in `tx`; `false` when it was recorded before.
async fn record(
    store: &Store,
    tx: &mut sqlx::AnyConnection,
    delivery: Option<Delivery<'_>>,
) -> Result<bool, StoreError> {
    let Some(delivery) = delivery else {
        return Ok(true);
    };
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (provider, delivery_id, event_type, received_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (provider, delivery_id) DO NOTHING",
    )
    .bind(delivery.provider)
    .bind(delivery.id)
    .bind(delivery.event_type)
    .bind(write::now())
    .execute(tx)
    .await
    .map_err(|e| store.err("recording a delivery", e))?;
    Ok(done.rows_affected() == 1)
}

/// What a rejected webhook body was.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRejection<'a> {
    /// `partoo` or `bird`.
    pub provider: &'a str,
    /// The event type, when it could be read.
    pub event_type: Option<&'a str>,
    /// The JSON path of the problem.
    pub path: &'a str,
    /// What was wrong there.
    pub message: &'a str,
    /// The body as received (lossily UTF-8).
    pub raw: &'a str,
}

impl Store {
    /// Upserts messages of `account` that arrived outside a sync (a webhook), in one
    /// transaction, by the same rule as a sync: each (account, id) once, a change updates
    /// it in place, an older state never overwrites a newer one. A sync writing the same
    /// row at the same time cannot lose either update: each upsert is one statement that
    /// compares with the stored row, and the database serializes writers.
    ///
    /// With a `delivery`, returns `None` (and writes nothing) when it was seen before.
    pub async fn upsert_messages(
        &self,
        account: &Account,
        messages: &[Message],
        delivery: Option<Delivery<'_>>,
    ) -> Result<Option<Counts>, StoreError> {
        self.ingest(account, messages, delivery, false).await
    }

    /// Inserts messages of `account` that are not stored yet and leaves known ones as they
    /// are: for "created" events, which carry a message's first state, so one that arrives
    /// after an "updated" event never takes the message back. Otherwise as
    /// [`Store::upsert_messages`].
    pub async fn insert_new_messages(
        &self,
        account: &Account,
        messages: &[Message],
        delivery: Option<Delivery<'_>>,
    ) -> Result<Option<Counts>, StoreError> {
        self.ingest(account, messages, delivery, true).await
    }

    async fn ingest(
        &self,
        account: &Account,
        messages: &[Message],
        delivery: Option<Delivery<'_>>,
        only_new: bool,
    ) -> Result<Option<Counts>, StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.err("storing messages", e))?;
        if !record(self, &mut tx, delivery).await? {
            return Ok(None);
        }
        let account_id = write::account(&mut tx, &account.provider.to_string(), &account.identity)
            .await
            .map_err(|e| self.err("storing the account", e))?;
        let at = write::now();
        let mut counts = Counts::default();
        for message in messages {
            match write::message_as(&mut tx, account_id, message, at, only_new)
                .await
                .map_err(|e| self.err("storing a message", e))?
            {
                Upserted::New => counts.new += 1,
                Upserted::Updated => counts.updated += 1,
                Upserted::Unchanged => counts.unchanged += 1,
            }
        }
        tx.commit()
            .await
            .map_err(|e| self.err("storing messages", e))?;
        Ok(Some(counts))
    }

    /// Upserts a conversation summary of `account` that arrived outside a sync. With
    /// `vanished` (the provider said it was deleted) it is kept and marked, as a sync marks
    /// one a listing no longer holds. With a `delivery`, returns `false` (and writes
    /// nothing) when it was seen before.
    pub async fn upsert_conversation(
        &self,
        account: &Account,
        summary: &ConversationSummary,
        vanished: bool,
        delivery: Option<Delivery<'_>>,
    ) -> Result<bool, StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.err("storing a conversation", e))?;
        if !record(self, &mut tx, delivery).await? {
            return Ok(false);
        }
        let account_id = write::account(&mut tx, &account.provider.to_string(), &account.identity)
            .await
            .map_err(|e| self.err("storing the account", e))?;
        let at = write::now();
        write::conversation(&mut tx, account_id, summary, at)
            .await
            .map_err(|e| self.err("storing a conversation", e))?;
        if vanished {
            sqlx::query(
                "UPDATE conversations SET vanished_at = $3 WHERE account_id = $1 AND id = $2",
            )
            .bind(account_id)
            .bind(summary.id.to_string())
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err("marking a conversation", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| self.err("storing a conversation", e))?;
        Ok(true)
    }

    /// Keeps an authentic webhook body that did not decode, once per body.
    pub async fn reject_webhook(&self, rejection: WebhookRejection<'_>) -> Result<(), StoreError> {
        let digest: String = Sha256::digest(rejection.raw.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let at = write::now();
        sqlx::query(
            "INSERT INTO webhook_rejected (provider, event_type, digest, path, message, raw, \
             first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (provider, digest) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        )
        .bind(rejection.provider)
        .bind(rejection.event_type)
        .bind(digest)
        .bind(rejection.path)
        .bind(rejection.message)
        .bind(rejection.raw)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(|e| self.err("keeping a rejected webhook", e))?;
        Ok(())
    }

    /// The last `limit` rejected webhook bodies, the most recently seen first.
    pub async fn webhook_rejected(
        &self,
        limit: usize,
    ) -> Result<Vec<StoredWebhookRejected>, StoreError> {
        let rows = sqlx::query(
            "SELECT provider, event_type, path, message, raw, first_seen_at, last_seen_at \
             FROM webhook_rejected ORDER BY last_seen_at DESC, id DESC LIMIT $1",
        )
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err("reading rejected webhooks", e))?;
        rows.iter()
            .map(|row| {
                let damaged = |e: sqlx::Error| StoreError::Damaged {
                    what: "rejected webhook row".into(),
                    reason: e.to_string(),
                };
                Ok(StoredWebhookRejected {
                    provider: row.try_get(0).map_err(damaged)?,
                    event_type: row.try_get(1).map_err(damaged)?,
                    path: row.try_get(2).map_err(damaged)?,
                    message: row.try_get(3).map_err(damaged)?,
                    raw: row.try_get(4).map_err(damaged)?,
                    first_seen_at: row.try_get(5).map_err(damaged)?,
                    last_seen_at: row.try_get(6).map_err(damaged)?,
                })
            })
            .collect()
    }
}
