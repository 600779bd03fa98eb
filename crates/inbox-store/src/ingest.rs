//! Writes that arrive outside a sync: a webhook's message or conversation, a delivery seen,
//! an authentic body that did not decode.

use inbox_aggregator::Account;
use inbox_aggregator::model::{ConversationSummary, Message};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::error::StoreError;
use crate::open::Store;
use crate::sync::Counts;
use crate::write;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `partoo` or `bird`.
    pub provider: String,
    /// Bird's `messagebird-request-id`, or a digest of the body.
    pub id: String,
    /// The event type.
    pub event_type: Option<String>,
}

/// An authentic webhook body that did not decode, to keep raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRejection {
    /// `partoo` or `bird`.
    pub provider: String,
    /// The event type, when it could be read.
    pub event_type: Option<String>,
    /// The JSON path of the problem.
    pub path: String,
    /// What was wrong there.
    pub message: String,
    /// The body as received (lossily UTF-8).
    pub raw: String,
}

/// One write from outside a sync (a webhook's effect). [`Store::ingest`] commits many in one
/// transaction.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Ingest {
    /// Messages of an account: upserted by the rule of a sync (each (account, id) once, a
    /// change updated in place, an older state never over a newer one) or, with `only_new`,
    /// inserted only when not stored yet (a "created" event is a message's first state, so
    /// one arriving after an "updated" event never takes it back).
    Messages {
        /// Whose.
        account: Account,
        /// The messages.
        messages: Vec<Message>,
        /// Insert only.
        only_new: bool,
        /// The delivery, applied once.
        delivery: Option<Delivery>,
    },
    /// A conversation summary of an account; with `vanished` (deleted at the provider) kept
    /// and marked, as a sync marks one a listing no longer holds.
    Conversation {
        /// Whose.
        account: Account,
        /// The summary.
        summary: Box<ConversationSummary>,
        /// Deleted at the provider.
        vanished: bool,
        /// The delivery, applied once.
        delivery: Option<Delivery>,
    },
    /// An authentic body that did not decode, kept once per body.
    Rejected(WebhookRejection),
}

/// The store's writing connection, held (see [`Store::writer`]).
pub struct Writer {
    store: Store,
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("store", &self.store.location())
            .finish_non_exhaustive()
    }
}

impl Writer {
    /// Whether another write of this process is waiting for the connection this writer
    /// holds: the time to drop it, so that it gets its turn.
    pub fn others_waiting(&self) -> bool {
        self.store.writers_waiting()
    }

    /// [`Store::ingest`] on the held connection: `writes` in one transaction, in order.
    pub async fn ingest(&mut self, writes: &[Ingest]) -> Result<Vec<Ingested>, StoreError> {
        let tx = sqlx::Connection::begin_with(&mut *self.conn, self.store.backend().begin_write())
            .await
            .map_err(|e| self.store.err("storing webhook events", e))?;
        self.store.ingest_in(tx, writes).await
    }
}

/// What one [`Ingest`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ingested {
    /// Applied: what happened to the messages (all zero for a conversation or a rejection).
    Applied(Counts),
    /// Its delivery was seen before: nothing written.
    Duplicate,
}

impl Store {
    /// Commits `writes` in one transaction, in order, and says what each did. Many events
    /// in one transaction cost one commit: a webhook server batches what arrives at once.
    /// A sync writing the same rows at the same time cannot lose either update: each upsert
    /// is one statement that compares with the stored row, and the database serializes
    /// writers. On an error nothing of the batch is written.
    pub async fn ingest(&self, writes: &[Ingest]) -> Result<Vec<Ingested>, StoreError> {
        let tx = self
            .begin_write()
            .await
            .map_err(|e| self.err("storing webhook events", e))?;
        self.ingest_in(tx, writes).await
    }

    /// Takes the store's writing connection and holds it until the [`Writer`] is dropped,
    /// for a process that writes many transactions in a row (a webhook server under load):
    /// each [`Writer::ingest`] then costs its transaction only, not taking the connection
    /// from the pool and giving it back.
    ///
    /// On SQLite the store has one writing connection, so while it is held every other write
    /// of this process waits for it (syncs, the outbox, other `ingest` calls, the holder's
    /// own included), up to the store's lock timeout, then fails with
    /// [`StoreError::Locked`]. Hold it for a burst, and give it back as soon as
    /// [`Writer::others_waiting`] says another write is waiting. [`Store::close`] waits until
    /// it is dropped, and dropping it hands the connection back through a task of the Tokio
    /// runtime. On PostgreSQL it is one connection of the store's pool: nobody waits for it,
    /// but the other users of the pool have one connection fewer.
    pub async fn writer(&self) -> Result<Writer, StoreError> {
        let conn = self
            .writing_connection()
            .await
            .map_err(|e| self.err("taking the writing connection", e))?;
        Ok(Writer {
            store: self.clone(),
            conn,
        })
    }

    /// [`Store::ingest`] in the transaction `tx`.
    async fn ingest_in(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Any>,
        writes: &[Ingest],
    ) -> Result<Vec<Ingested>, StoreError> {
        let mut accounts: Vec<(Account, i64)> = Vec::new();
        let mut done = Vec::with_capacity(writes.len());
        // The messages of consecutive message writes of one kind, written together in one
        // round trip (their order kept), and which write each belongs to.
        let mut pending = Pending::default();
        let at = write::now();
        for (index, item) in writes.iter().enumerate() {
            let (account, delivery) = match item {
                Ingest::Messages {
                    account, delivery, ..
                }
                | Ingest::Conversation {
                    account, delivery, ..
                } => (account, delivery.as_ref()),
                Ingest::Rejected(rejection) => {
                    reject(self, &mut tx, rejection, at).await?;
                    done.push(Ingested::Applied(Counts::default()));
                    continue;
                }
            };
            if !record(self, &mut tx, delivery).await? {
                done.push(Ingested::Duplicate);
                continue;
            }
            let id = self.account_id(&mut tx, &mut accounts, account).await?;
            let outcome = match item {
                Ingest::Messages {
                    messages, only_new, ..
                } => {
                    if pending.only_new != *only_new {
                        pending.flush(self, &mut tx, at, &mut done).await?;
                        pending.only_new = *only_new;
                    }
                    pending
                        .rows
                        .extend(messages.iter().map(|m| (index, (id, m))));
                    Ingested::Applied(Counts::default())
                }
                Ingest::Conversation {
                    summary, vanished, ..
                } => {
                    write::conversation(&mut tx, id, summary, at)
                        .await
                        .map_err(|e| self.err("storing a conversation", e))?;
                    if *vanished {
                        sqlx::query(
                            "UPDATE conversations SET vanished_at = $3 \
                             WHERE account_id = $1 AND id = $2",
                        )
                        .bind(id)
                        .bind(summary.id.to_string())
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.err("marking a conversation", e))?;
                    }
                    Ingested::Applied(Counts::default())
                }
                // Kept above.
                Ingest::Rejected(_) => Ingested::Applied(Counts::default()),
            };
            done.push(outcome);
        }
        pending.flush(self, &mut tx, at, &mut done).await?;
        tx.commit()
            .await
            .map_err(|e| self.err("storing webhook events", e))?;
        if let Ok(mut known) = self.accounts.lock() {
            for (account, id) in accounts {
                known.insert((account.provider.to_string(), account.identity), id);
            }
        }
        Ok(done)
    }

    /// The id of `account`: known to the store, or stored if new and kept in `cache` for
    /// the batch (and for the store once the batch commits).
    async fn account_id(
        &self,
        tx: &mut sqlx::AnyConnection,
        cache: &mut Vec<(Account, i64)>,
        account: &Account,
    ) -> Result<i64, StoreError> {
        if let Some((_, id)) = cache.iter().find(|(a, _)| a == account) {
            return Ok(*id);
        }
        let key = (account.provider.to_string(), account.identity.clone());
        let known = self
            .accounts
            .lock()
            .ok()
            .and_then(|accounts| accounts.get(&key).copied());
        if let Some(id) = known {
            return Ok(id);
        }
        let id = write::account(tx, &key.0, &key.1)
            .await
            .map_err(|e| self.err("storing the account", e))?;
        cache.push((account.clone(), id));
        Ok(id)
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

/// Messages waiting to be written together: each with the index of its write.
#[derive(Default)]
struct Pending<'a> {
    only_new: bool,
    rows: Vec<(usize, (i64, &'a Message))>,
}

impl Pending<'_> {
    /// Writes what waits, counting each message into its write's outcome.
    async fn flush(
        &mut self,
        store: &Store,
        tx: &mut sqlx::AnyConnection,
        at: i64,
        done: &mut [Ingested],
    ) -> Result<(), StoreError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows: Vec<(i64, &Message)> = self.rows.iter().map(|(_, row)| *row).collect();
        let upserted = write::messages(tx, &rows, at, self.only_new)
            .await
            .map_err(|e| store.err("storing a message", e))?;
        for ((index, _), upserted) in self.rows.drain(..).zip(upserted) {
            if let Some(Ingested::Applied(counts)) = done.get_mut(index) {
                counts.count(upserted);
            }
        }
        Ok(())
    }
}

/// Records `delivery` in `tx`; `false` when it was recorded before.
async fn record(
    store: &Store,
    tx: &mut sqlx::AnyConnection,
    delivery: Option<&Delivery>,
) -> Result<bool, StoreError> {
    let Some(delivery) = delivery else {
        return Ok(true);
    };
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (provider, delivery_id, event_type, received_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (provider, delivery_id) DO NOTHING",
    )
    .bind(&delivery.provider)
    .bind(&delivery.id)
    .bind(delivery.event_type.as_deref())
    .bind(write::now())
    .execute(tx)
    .await
    .map_err(|e| store.err("recording a delivery", e))?;
    Ok(done.rows_affected() == 1)
}

/// Keeps `rejection` in `tx`, once per body.
async fn reject(
    store: &Store,
    tx: &mut sqlx::AnyConnection,
    rejection: &WebhookRejection,
    at: i64,
) -> Result<(), StoreError> {
    let digest: String = Sha256::digest(rejection.raw.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    sqlx::query(
        "INSERT INTO webhook_rejected (provider, event_type, digest, path, message, raw, \
         first_seen_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (provider, digest) DO UPDATE SET last_seen_at = excluded.last_seen_at",
    )
    .bind(&rejection.provider)
    .bind(rejection.event_type.as_deref())
    .bind(digest)
    .bind(&rejection.path)
    .bind(&rejection.message)
    .bind(&rejection.raw)
    .bind(at)
    .execute(tx)
    .await
    .map_err(|e| store.err("keeping a rejected webhook", e))?;
    Ok(())
}
