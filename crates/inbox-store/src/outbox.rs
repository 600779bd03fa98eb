//! The outbox: sends that are never doubled nor lost.
//!
//! [`Outbox::send`] writes the draft as one outbox row (a v4 UUID, which is also Bird's
//! `reference` of the message; its status, attempts, next attempt, last error) and returns
//! at once. A sender ([`Outbox::send_due`] once, [`Outbox::run`] until shut down; in
//! `inbox serve`, `inbox worker`, or on its own) leases due rows, sends them, stores the
//! provider's message id and marks them sent; the message enters the mirror as an outbound
//! message with status pending, which a sync or a webhook then brings up to date.
//!
//! How nothing is sent twice: before its attempt, a lease marks the row *uncertain* (in the
//! same write that leases it). A send that fails where it cannot have gone out (a 429, a
//! 5xx, no connection, a refusal) clears the mark; one that may have gone out (a timeout, a
//! lost connection, a crash of the sender) leaves it, and whoever leases the row next looks
//! for the message at the provider first (Bird by `reference`; Partoo by the newest
//! messages of the conversation, sent by a user with the same content, at or after the
//! attempt started, not another send's) and sends only when it is not there. A lease lasts
//! [`OutboxOptions::lease`]; an attempt is given up on at half of it, so a lease never runs
//! out under a send still in flight.
//!
//! How nothing is lost: the row is written before anything is sent, and it leaves the
//! pending states only as `sent` (with the message id) or `failed` (a refusal, or
//! [`OutboxOptions::max_attempts`] spent), with the error kept.
//!
//! Sends of one conversation go out in the order they were written: a round takes the
//! oldest unsettled row of each conversation only.

use std::time::Duration;

use inbox_aggregator::model::ConversationId;
use inbox_aggregator::{Draft, Inbox, Lookup, Refusal, SendError, Sent, Timestamp};
use sqlx::Row;

use crate::write::{self, now};
use crate::{Store, StoreError};

/// Where an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// Leased by a sender, being sent (or its sender died: the lease runs out).
    Sending,
    /// Sent: the provider has it.
    Sent,
    /// Given up on: refused, or out of attempts. Its error says why.
    Failed,
}

impl OutboxStatus {
    /// As stored: `pending`, `sending`, `sent`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => OutboxStatus::Pending,
            "sending" => OutboxStatus::Sending,
            "sent" => OutboxStatus::Sent,
            "failed" => OutboxStatus::Failed,
            _ => return None,
        })
    }

    /// Whether it is done with (sent or failed).
    pub fn is_settled(self) -> bool {
        matches!(self, OutboxStatus::Sent | OutboxStatus::Failed)
    }
}

/// One row of the outbox.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OutboxEntry {
    /// Its id (a v4 UUID; Bird's `reference` of the message).
    pub id: String,
    /// The inbox source that sends it.
    pub source: String,
    /// `partoo` or `bird`.
    pub provider: String,
    /// The conversation.
    pub conversation_id: String,
    /// What to send; `None` when the stored draft does not decode (written by a newer
    /// version, say): such a row fails as `damaged` instead of stopping the others.
    pub draft: Option<Draft>,
    /// The draft as stored (JSON).
    pub raw_draft: String,
    /// Where it stands.
    pub status: OutboxStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (nanoseconds since the epoch).
    pub next_attempt_at: i64,
    /// Whether the last attempt may have gone out (it is looked for before sending again).
    pub uncertain: bool,
    /// The last error.
    pub last_error: Option<String>,
    /// What its refusal means, when it failed for good: `unauthorized`, `forbidden`,
    /// `not_found`, `closed`, `invalid_payload`, `invalid`, `other`, or `attempts` (out of
    /// attempts), `uncertain` (it may have been sent and cannot be checked), `damaged` (its
    /// draft does not decode).
    pub refusal: Option<String>,
    /// The provider's id of the message, once sent.
    pub message_id: Option<String>,
    /// When it was written.
    pub created_at: i64,
    /// When it was sent.
    pub sent_at: Option<i64>,
}

/// How a sender works.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OutboxOptions {
    /// How long a leased row is a sender's (default 60 s). An attempt is given up on, as
    /// uncertain, at half of it.
    pub lease: Duration,
    /// Attempts before a row fails for good (default 10).
    pub max_attempts: u32,
    /// Rows sent at once, each of another conversation (default 8).
    pub batch: usize,
    /// How often [`Outbox::run`] looks for due rows when there were none (default 1 s).
    pub poll: Duration,
    /// The first retry's delay; each next one doubles it, up to 10 minutes (default 1 s).
    pub backoff: Duration,
    /// How long after an attempt that may have gone out the provider is looked at (at
    /// least; default 5 s): an accepted message may take a moment to be listed.
    pub lookup_delay: Duration,
}

impl Default for OutboxOptions {
    fn default() -> Self {
        OutboxOptions {
            lease: Duration::from_secs(60),
            max_attempts: 10,
            batch: 8,
            poll: Duration::from_secs(1),
            backoff: Duration::from_secs(1),
            lookup_delay: Duration::from_secs(5),
        }
    }
}

impl OutboxOptions {
    /// With this lease.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// With this many attempts at most.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// With this many rows at once.
    pub fn batch(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// Polling every `poll`.
    pub fn poll(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// With this first retry delay.
    pub fn backoff(mut self, first: Duration) -> Self {
        self.backoff = first;
        self
    }

    /// Looking at the provider no sooner than `delay` after an uncertain attempt.
    pub fn lookup_delay(mut self, delay: Duration) -> Self {
        self.lookup_delay = delay;
        self
    }

    fn retry_delay(&self, attempts: u32) -> Duration {
        let doubled = self
            .backoff
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(16));
        doubled.min(Duration::from_secs(600))
    }
}

/// Why [`Outbox::send`] refused a draft: nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// The draft breaks a documented limit, or the source cannot send it (or does not
    /// exist, or the conversation is another provider's).
    #[error(transparent)]
    Invalid(SendError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one round of a sender did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendRound {
    /// Rows leased.
    pub leased: usize,
    /// Sent (or found already sent at the provider).
    pub sent: usize,
    /// Of those, found at the provider after an uncertain attempt (not sent again).
    pub found: usize,
    /// Failed for good.
    pub failed: usize,
    /// Put back for a later attempt.
    pub retried: usize,
}

/// A store's outbox, and the inbox that sends it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbox {
    store: Store,
    inbox: Inbox,
    options: OutboxOptions,
    owner: String,
}

/// A row a sender leased, with what it was before the lease.
struct Leased {
    entry: OutboxEntry,
    /// The previous attempt may have gone out.
    was_uncertain: bool,
    /// When the oldest attempt that may have gone out started (kept while uncertain).
    previous_start: Option<i64>,
    /// This lease's own owner mark (the sender and the attempt): what its settle matches.
    owner: String,
    /// No request of this lease is in flight after this (half the lease).
    deadline: tokio::time::Instant,
}

/// How an attempt ended, for the row.
enum Settle {
    /// Sent (boxed: a message is large), and whether it was found rather than sent.
    Sent(Box<Sent>, bool),
    Failed(String, &'static str),
    Retry {
        error: String,
        uncertain: bool,
    },
}

fn refusal_name(reason: &Refusal) -> &'static str {
    match reason {
        Refusal::Unauthorized => "unauthorized",
        Refusal::Forbidden => "forbidden",
        Refusal::NotFound => "not_found",
        Refusal::Closed => "closed",
        Refusal::InvalidPayload { .. } => "invalid_payload",
        _ => "other",
    }
}

fn conversation_of(provider: &str, id: &str) -> Option<ConversationId> {
    match provider {
        "partoo" => id.parse().ok().map(ConversationId::Partoo),
        "bird" => Some(ConversationId::Bird(id.into())),
        _ => None,
    }
}

fn timestamp(nanos: i64) -> Option<Timestamp> {
    Timestamp::from_unix_nanos(i128::from(nanos))
}

/// The columns an [`OutboxEntry`] is read from, in order.
macro_rules! columns {
    () => {
        "id, source, provider, conversation_id, draft, status, attempts, next_attempt_at, \
         uncertain, last_error, refusal, message_id, created_at, sent_at, attempt_started_at"
    };
}

impl Store {
    fn outbox_row(
        &self,
        row: &sqlx::any::AnyRow,
    ) -> Result<(OutboxEntry, Option<i64>), StoreError> {
        let damaged = |e: sqlx::Error| self.err("reading the outbox", e);
        let raw_draft: String = row.try_get(4).map_err(damaged)?;
        let status: String = row.try_get(5).map_err(damaged)?;
        let id: String = row.try_get(0).map_err(damaged)?;
        let status = OutboxStatus::parse(&status).ok_or_else(|| StoreError::Damaged {
            what: format!("outbox row {id}"),
            reason: format!("unknown status `{status}`"),
        })?;
        let attempts: i64 = row.try_get(6).map_err(damaged)?;
        let uncertain: i64 = row.try_get(8).map_err(damaged)?;
        Ok((
            OutboxEntry {
                id,
                source: row.try_get(1).map_err(damaged)?,
                provider: row.try_get(2).map_err(damaged)?,
                conversation_id: row.try_get(3).map_err(damaged)?,
                draft: serde_json::from_str(&raw_draft).ok(),
                raw_draft,
                status,
                attempts: u32::try_from(attempts.max(0)).unwrap_or(u32::MAX),
                next_attempt_at: row.try_get(7).map_err(damaged)?,
                uncertain: uncertain != 0,
                last_error: row.try_get(9).map_err(damaged)?,
                refusal: row.try_get(10).map_err(damaged)?,
                message_id: row.try_get(11).map_err(damaged)?,
                created_at: row.try_get(12).map_err(damaged)?,
                sent_at: row.try_get(13).map_err(damaged)?,
            },
            row.try_get(14).map_err(damaged)?,
        ))
    }

    /// The outbox rows with one of `statuses` (all when empty), oldest first, at most
    /// `limit`. A row this version cannot read (an unknown status) is left out, with a
    /// warning.
    pub async fn outbox_entries(
        &self,
        statuses: &[OutboxStatus],
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let cap = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = Vec::new();
        if statuses.is_empty() {
            rows = sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM outbox ORDER BY created_at, id LIMIT $1"
            ))
            .bind(cap)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err("reading the outbox", e))?;
        }
        // One query per status asked for (there are four), each ordered; merged below.
        for status in statuses {
            rows.extend(
                sqlx::query(concat!(
                    "SELECT ",
                    columns!(),
                    " FROM outbox WHERE status = $1 ORDER BY created_at, id LIMIT $2"
                ))
                .bind(status.as_str())
                .bind(cap)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.err("reading the outbox", e))?,
            );
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            match self.outbox_row(row) {
                Ok((entry, _)) => out.push(entry),
                Err(error) => tracing::warn!(%error, "an outbox row this version cannot read"),
            }
        }
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        out.dedup_by(|a, b| a.id == b.id);
        out.truncate(limit);
        Ok(out)
    }

    /// One outbox row.
    pub async fn outbox_entry(&self, id: &str) -> Result<Option<OutboxEntry>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.err("reading the outbox", e))?;
        row.map(|row| self.outbox_row(&row).map(|(entry, _)| entry))
            .transpose()
    }
}

/// Rows read per page while looking for due rows of this inbox's sources.
const LEASE_PAGE: i64 = 256;

impl Outbox {
    /// The outbox of `store`, sent through `inbox`'s sources, with the default options.
    pub fn new(store: Store, inbox: Inbox) -> Self {
        Outbox {
            store,
            inbox,
            options: OutboxOptions::default(),
            owner: format!("{}:{}", std::process::id(), uuid::Uuid::new_v4().simple()),
        }
    }

    /// With these options.
    pub fn with_options(mut self, options: OutboxOptions) -> Self {
        self.options = options;
        self
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Writes `draft` for `conversation` through `source` and returns its id at once (a v4
    /// UUID), once it is committed. Refused, with nothing written, when the source does not
    /// exist, reads another provider than the conversation's, or cannot take the draft as
    /// it is (see [`inbox_aggregator::MessageSource::check_draft`]).
    pub async fn send(
        &self,
        source: &str,
        conversation: &ConversationId,
        draft: Draft,
    ) -> Result<String, OutboxError> {
        let provider = self
            .inbox
            .check_draft(source, &draft)
            .map_err(OutboxError::Invalid)?;
        if provider != conversation.provider() {
            return Err(OutboxError::Invalid(SendError::Invalid(format!(
                "the source `{source}` reads {provider}, the conversation {conversation} is {}'s",
                conversation.provider()
            ))));
        }
        let json = serde_json::to_string(&draft)
            .map_err(|e| OutboxError::Invalid(SendError::Invalid(format!("the draft: {e}"))))?;
        let id = uuid::Uuid::new_v4().to_string();
        let at = now();
        sqlx::query(
            "INSERT INTO outbox (id, source, provider, conversation_id, draft, status, \
             attempts, next_attempt_at, uncertain, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, 0, $6)",
        )
        .bind(&id)
        .bind(source)
        .bind(provider.to_string())
        .bind(conversation.to_string())
        .bind(&json)
        .bind(at)
        .execute(&self.store.pool)
        .await
        .map_err(|e| self.store.err("writing to the outbox", e))?;
        Ok(id)
    }

    /// Leases the due rows (the oldest unsettled one of each conversation, up to the batch)
    /// and settles each: sent, failed for good, or put back for later. Returns what it did.
    pub async fn send_due(&self) -> Result<SendRound, StoreError> {
        let leased = self.lease().await?;
        let mut round = SendRound {
            leased: leased.len(),
            ..SendRound::default()
        };
        let settled =
            futures_util::future::join_all(leased.into_iter().map(|row| self.attempt(row))).await;
        for outcome in settled {
            match outcome? {
                Settle::Sent(_, found) => {
                    round.sent += 1;
                    round.found += usize::from(found);
                }
                Settle::Failed(..) => round.failed += 1,
                Settle::Retry { .. } => round.retried += 1,
            }
        }
        Ok(round)
    }

    /// Sends until `shutdown` resolves: a round, then the next at once when it leased
    /// anything, else after [`OutboxOptions::poll`]. A round under way when shutdown comes
    /// finishes (its requests end by half the lease).
    pub async fn run(
        &self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), StoreError> {
        tokio::pin!(shutdown);
        loop {
            let round = self.send_due().await;
            let idle = match round {
                Ok(round) => round.leased == 0,
                Err(error) => {
                    tracing::warn!(%error, "the outbox sender failed a round");
                    true
                }
            };
            let pause = if idle {
                self.options.poll
            } else {
                Duration::ZERO
            };
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// How many rows of this inbox's sources are still to be sent (pending or sending).
    pub async fn unsettled(&self) -> Result<usize, StoreError> {
        let rows = sqlx::query(
            "SELECT source, COUNT(*) FROM outbox WHERE status IN ('pending', 'sending') \
             GROUP BY source",
        )
        .fetch_all(&self.store.pool)
        .await
        .map_err(|e| self.store.err("reading the outbox", e))?;
        let sources = self.inbox.source_names();
        let mut n = 0usize;
        for row in &rows {
            let source: String = row
                .try_get(0)
                .map_err(|e| self.store.err("reading the outbox", e))?;
            let count: i64 = row
                .try_get(1)
                .map_err(|e| self.store.err("reading the outbox", e))?;
            if sources.contains(&source.as_str()) {
                n = n.saturating_add(usize::try_from(count).unwrap_or(0));
            }
        }
        Ok(n)
    }

    /// Takes the due rows of this inbox's sources: each the oldest unsettled row of its
    /// conversation, its lease run out (or never taken), its attempt due. Read page by page
    /// (rows of sources this inbox does not have are left to a sender that has them, and
    /// never hide this one's). The lease and the uncertain mark are one write per row,
    /// conditioned on the row being as read (another sender's lease wins); while a row is
    /// uncertain, it keeps the start of its oldest unresolved attempt, where a lookup
    /// starts.
    async fn lease(&self) -> Result<Vec<Leased>, StoreError> {
        let at = now();
        let sources = self.inbox.source_names();
        let lease = i64::try_from(self.options.lease.as_nanos()).unwrap_or(i64::MAX);
        let mut leased = Vec::new();
        let mut offset = 0i64;
        loop {
            let rows = sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM outbox o \
                 WHERE o.status IN ('pending', 'sending') AND o.next_attempt_at <= $1 \
                 AND (o.lease_until IS NULL OR o.lease_until < $1) \
                 AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.source = o.source \
                   AND e.conversation_id = o.conversation_id \
                   AND e.status IN ('pending', 'sending') \
                   AND (e.created_at < o.created_at \
                     OR (e.created_at = o.created_at AND e.id < o.id))) \
                 ORDER BY o.next_attempt_at, o.created_at, o.id LIMIT $2 OFFSET $3"
            ))
            .bind(at)
            .bind(LEASE_PAGE)
            .bind(offset)
            .fetch_all(&self.store.pool)
            .await
            .map_err(|e| self.store.err("leasing outbox rows", e))?;
            let page = rows.len();
            for row in &rows {
                if leased.len() >= self.options.batch {
                    return Ok(leased);
                }
                let (mut entry, previous_start) = match self.store.outbox_row(row) {
                    Ok(read) => read,
                    Err(error) => {
                        tracing::warn!(%error, "an outbox row this version cannot read");
                        continue;
                    }
                };
                if !sources.contains(&entry.source.as_str()) {
                    continue;
                }
                let Some(attempts) = entry.attempts.checked_add(1) else {
                    continue;
                };
                let owner = format!("{}#{attempts}", self.owner);
                // Taken before the lease is written: the deadline is never past its end.
                let deadline = tokio::time::Instant::now() + self.options.lease / 2;
                let started = now();
                let taken = sqlx::query(
                    "UPDATE outbox SET status = 'sending', attempts = attempts + 1, \
                     lease_owner = $2, lease_until = $3, \
                     attempt_started_at = CASE WHEN uncertain = 1 AND attempt_started_at \
                       IS NOT NULL THEN attempt_started_at ELSE $4 END, \
                     uncertain = 1 \
                     WHERE id = $1 AND attempts = $5 AND status IN ('pending', 'sending') \
                     AND (lease_until IS NULL OR lease_until < $4)",
                )
                .bind(&entry.id)
                .bind(&owner)
                .bind(started.saturating_add(lease))
                .bind(started)
                .bind(i64::from(entry.attempts))
                .execute(&self.store.pool)
                .await
                .map_err(|e| self.store.err("leasing outbox rows", e))?;
                if taken.rows_affected() == 1 {
                    let was_uncertain = entry.uncertain;
                    entry.attempts = attempts;
                    entry.status = OutboxStatus::Sending;
                    entry.uncertain = true;
                    leased.push(Leased {
                        entry,
                        was_uncertain,
                        previous_start: if was_uncertain { previous_start } else { None },
                        owner,
                        deadline,
                    });
                }
            }
            if i64::try_from(page).unwrap_or(0) < LEASE_PAGE {
                return Ok(leased);
            }
            offset = offset.saturating_add(LEASE_PAGE);
        }
    }

    /// One leased row: looked for first when its last attempt may have gone out, then
    /// sent; the row settled by how it ended. Every request of it ends by the lease's
    /// deadline (half the lease).
    async fn attempt(&self, row: Leased) -> Result<Settle, StoreError> {
        let entry = &row.entry;
        let Some(draft) = &entry.draft else {
            let error = format!("its draft does not decode: {}", entry.raw_draft);
            return self.settle(&row, Settle::Failed(error, "damaged")).await;
        };
        let Some(conversation) = conversation_of(&entry.provider, &entry.conversation_id) else {
            let error = format!(
                "conversation `{}` is not a {} conversation id",
                entry.conversation_id, entry.provider
            );
            return self.settle(&row, Settle::Failed(error, "invalid")).await;
        };
        if row.was_uncertain {
            match self.look_up(&row, draft, &conversation).await? {
                Ok(Some(sent)) => {
                    return self.settle(&row, Settle::Sent(Box::new(sent), true)).await;
                }
                Ok(None) => {
                    // Not there: that attempt did not land. This one starts now.
                    sqlx::query(
                        "UPDATE outbox SET attempt_started_at = $3 \
                         WHERE id = $1 AND lease_owner = $2",
                    )
                    .bind(&entry.id)
                    .bind(&row.owner)
                    .bind(now())
                    .execute(&self.store.pool)
                    .await
                    .map_err(|e| self.store.err("leasing outbox rows", e))?;
                }
                Err(settle) => return self.settle(&row, settle).await,
            }
        }
        let sent = self
            .inbox
            .send_before(
                &entry.source,
                &conversation,
                draft,
                &entry.id,
                Some(row.deadline),
            )
            .await;
        let settle = match sent {
            Ok(sent) => Settle::Sent(Box::new(sent), false),
            Err(error) => self.after(entry, error),
        };
        self.settle(&row, settle).await
    }

    /// Looks for the message of an uncertain attempt: `Ok(Some)` found (not to be sent
    /// again), `Ok(None)` not there (to be sent), `Err` how to settle the row instead.
    async fn look_up(
        &self,
        row: &Leased,
        draft: &Draft,
        conversation: &ConversationId,
    ) -> Result<Result<Option<Sent>, Settle>, StoreError> {
        let entry = &row.entry;
        let start = row.previous_start.unwrap_or(entry.created_at);
        let Some(since) = timestamp(start) else {
            return Ok(Err(Settle::Failed(
                "may have been sent; its attempt has no time to look from".into(),
                "uncertain",
            )));
        };
        // Never this one's: the messages other sends of the conversation took, and those
        // the mirror held before the attempt.
        let taken = sqlx::query(
            "SELECT message_id FROM outbox WHERE conversation_id = $1 AND provider = $2 \
             AND message_id IS NOT NULL AND id <> $3",
        )
        .bind(&entry.conversation_id)
        .bind(&entry.provider)
        .bind(&entry.id)
        .fetch_all(&self.store.pool)
        .await
        .map_err(|e| self.store.err("reading the outbox", e))?;
        let mirrored = sqlx::query(
            "SELECT id FROM messages WHERE conversation_id = $1 AND provider = $2 \
             AND stored_at < $3",
        )
        .bind(&entry.conversation_id)
        .bind(&entry.provider)
        .bind(start)
        .fetch_all(&self.store.pool)
        .await
        .map_err(|e| self.store.err("reading the mirror", e))?;
        let exclude: Vec<String> = taken
            .iter()
            .chain(&mirrored)
            .filter_map(|r| r.try_get::<String, _>(0).ok())
            .collect();
        let lookup = Lookup {
            conversation,
            draft,
            reference: &entry.id,
            since: &since,
            exclude: &exclude,
        };
        let found = self
            .inbox
            .find_sent(&entry.source, lookup, Some(row.deadline))
            .await;
        Ok(match found {
            Ok(found) => Ok(found),
            Err(SendError::Invalid(why)) => Err(Settle::Failed(
                format!("may have been sent, and cannot be looked for: {why}"),
                "uncertain",
            )),
            Err(error) => Err(self.give_up_or_retry(
                entry,
                format!("may have been sent; looking for it failed: {error}"),
                true,
            )),
        })
    }

    fn give_up_or_retry(&self, entry: &OutboxEntry, error: String, uncertain: bool) -> Settle {
        if entry.attempts >= self.options.max_attempts {
            let kind = if uncertain { "uncertain" } else { "attempts" };
            Settle::Failed(
                format!("{error} (gave up after {} attempts)", entry.attempts),
                kind,
            )
        } else {
            Settle::Retry { error, uncertain }
        }
    }

    /// How a failed send settles its row.
    fn after(&self, entry: &OutboxEntry, error: SendError) -> Settle {
        let message = error.to_string();
        match error {
            SendError::Refused { reason, .. } => Settle::Failed(message, refusal_name(&reason)),
            SendError::Invalid(_) => Settle::Failed(message, "invalid"),
            SendError::Uncertain(_) => self.give_up_or_retry(entry, message, true),
            // Nothing went out: later, while attempts last.
            _ => self.give_up_or_retry(entry, message, false),
        }
    }

    /// Writes how a row settled, if the lease is still this one.
    async fn settle(&self, row: &Leased, settle: Settle) -> Result<Settle, StoreError> {
        let entry = &row.entry;
        let at = now();
        match &settle {
            Settle::Sent(sent, _) => self.mark_sent(row, sent, at).await?,
            Settle::Failed(error, refusal) => {
                tracing::warn!(id = %entry.id, error = %error, "a send failed for good");
                let done = sqlx::query(
                    "UPDATE outbox SET status = 'failed', uncertain = 0, last_error = $3, \
                     refusal = $4, lease_owner = NULL, lease_until = NULL \
                     WHERE id = $1 AND lease_owner = $2",
                )
                .bind(&entry.id)
                .bind(&row.owner)
                .bind(error)
                .bind(*refusal)
                .execute(&self.store.pool)
                .await
                .map_err(|e| self.store.err("settling an outbox row", e))?;
                lease_kept(entry, done.rows_affected());
            }
            Settle::Retry { error, uncertain } => {
                let mut delay = self.options.retry_delay(entry.attempts);
                if *uncertain {
                    delay = delay.max(self.options.lookup_delay);
                }
                let next = at.saturating_add(i64::try_from(delay.as_nanos()).unwrap_or(i64::MAX));
                tracing::info!(id = %entry.id, error = %error, uncertain, "a send will be tried again");
                let done = sqlx::query(
                    "UPDATE outbox SET status = 'pending', uncertain = $5, last_error = $3, \
                     next_attempt_at = $4, lease_owner = NULL, lease_until = NULL \
                     WHERE id = $1 AND lease_owner = $2",
                )
                .bind(&entry.id)
                .bind(&row.owner)
                .bind(error)
                .bind(next)
                .bind(i64::from(*uncertain))
                .execute(&self.store.pool)
                .await
                .map_err(|e| self.store.err("settling an outbox row", e))?;
                lease_kept(entry, done.rows_affected());
            }
        }
        Ok(settle)
    }

    /// Marks a row sent and stores its message (insert only: a sync or a webhook that
    /// brought it first keeps its state), in one transaction; when the message cannot be
    /// stored, the row is marked sent alone (the next sync brings the message).
    async fn mark_sent(&self, row: &Leased, sent: &Sent, at: i64) -> Result<(), StoreError> {
        let entry = &row.entry;
        // The account names the message in the mirror: asked once per inbox, and not
        // waited for long (the message then comes with the next sync).
        let account = match &sent.message {
            Some(_) => {
                tokio::time::timeout(Duration::from_secs(5), self.inbox.account(&entry.source))
                    .await
                    .ok()
                    .and_then(Result::ok)
            }
            None => None,
        };
        let store = &self.store;
        let mark = "UPDATE outbox SET status = 'sent', uncertain = 0, message_id = $3, \
                    sent_at = $4, last_error = NULL, lease_owner = NULL, lease_until = NULL \
                    WHERE id = $1 AND lease_owner = $2";
        if let (Some(message), Some(account)) = (&sent.message, account) {
            let together = async {
                let mut tx = store.begin_write().await?;
                let done = sqlx::query(mark)
                    .bind(&entry.id)
                    .bind(&row.owner)
                    .bind(&sent.id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                let provider = account.provider.to_string();
                let id = write::account(&mut tx, &provider, &account.identity).await?;
                write::messages(&mut tx, &[(id, message)], at, true).await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(done.rows_affected())
            };
            match together.await {
                Ok(n) => {
                    lease_kept(entry, n);
                    return Ok(());
                }
                Err(error) => {
                    tracing::warn!(id = %entry.id, %error, "a sent message could not be stored; the next sync brings it");
                }
            }
        }
        let done = sqlx::query(mark)
            .bind(&entry.id)
            .bind(&row.owner)
            .bind(&sent.id)
            .bind(at)
            .execute(&store.pool)
            .await
            .map_err(|e| store.err("recording a send", e))?;
        lease_kept(entry, done.rows_affected());
        Ok(())
    }
}

/// Warns when a settle found the lease gone (another sender took the row over).
fn lease_kept(entry: &OutboxEntry, rows: u64) {
    if rows == 0 {
        tracing::warn!(id = %entry.id, "an outbox row's lease ran out before it settled");
    }
}
