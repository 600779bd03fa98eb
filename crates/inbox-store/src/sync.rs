//! Incremental sync: list, skip what did not change, read the rest from its checkpoint, and
//! commit each page with the checkpoint it earns, in one transaction.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use inbox_aggregator::{
    Account, ConversationId, Failure, Inbox, MessagePage, PageEvent, Target, Timestamp,
};

use crate::error::StoreError;
use crate::open::Store;
use crate::write::{self, Checkpoint, Upserted, nanos};

/// How a sync reads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncOptions {
    /// Read every conversation whole, whatever the checkpoints say (they are rewritten).
    pub full: bool,
    /// How far before a checkpoint an incremental read starts again (default 15 minutes):
    /// messages that arrive late, or share the checkpoint's timestamp, are read again
    /// rather than missed. Reading one twice costs nothing: it is an upsert.
    pub overlap: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            full: false,
            overlap: Duration::from_secs(15 * 60),
        }
    }
}

impl SyncOptions {
    /// Reads everything again (`--full`).
    pub fn full(mut self, full: bool) -> Self {
        self.full = full;
        self
    }

    /// Sets the overlap.
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }
}

/// What one sync did, or what one stored run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Requests sent (retries included).
    pub requests: u64,
    /// Conversations the listings held.
    pub listed: u64,
    /// Conversations read: new, changed since their last sync, or named.
    pub changed: u64,
    /// Conversations skipped: their last activity is what the store has.
    pub skipped: u64,
    /// Conversations a complete listing no longer held (kept, marked).
    pub vanished: u64,
    /// Messages stored for the first time.
    pub new: u64,
    /// Messages that changed (status, deletion...): updated in place.
    pub updated: u64,
    /// Messages read again as they were stored (or in an older state).
    pub unchanged: u64,
    /// Items that did not decode, kept raw.
    pub rejected: u64,
    /// Failures: conversations or listings not read to their end.
    pub failures: u64,
}

impl Counts {
    /// Counts what one message upsert did.
    pub(crate) fn count(&mut self, upserted: Upserted) {
        match upserted {
            Upserted::New => self.new += 1,
            Upserted::Updated => self.updated += 1,
            Upserted::Unchanged => self.unchanged += 1,
        }
    }

    fn add(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.listed += other.listed;
        self.changed += other.changed;
        self.skipped += other.skipped;
        self.vanished += other.vanished;
        self.new += other.new;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
        self.failures += other.failures;
    }
}

/// One account's part of a sync.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AccountSync {
    /// The inbox source it was read through.
    pub source: String,
    /// The account.
    pub account: Account,
    /// The sync run stored for it.
    pub run: i64,
    /// What it did.
    pub counts: Counts,
}

/// What a sync did.
#[derive(Debug)]
#[non_exhaustive]
pub struct SyncReport {
    /// Each account's part.
    pub accounts: Vec<AccountSync>,
    /// Everything that was not read to its end, and why. The next sync reads it again.
    pub failures: Vec<Failure>,
    /// How long it took.
    pub took: Duration,
}

impl SyncReport {
    /// The counts of every account together.
    pub fn total(&self) -> Counts {
        let mut total = Counts::default();
        for account in &self.accounts {
            total.add(&account.counts);
        }
        total.failures = total.failures.max(self.failures.len() as u64);
        total
    }
}

/// The first failures of a run that its row keeps, one a line.
const FAILURES_KEPT: usize = 20;

/// One account being synced.
struct Part {
    source: Arc<str>,
    account: Account,
    account_id: i64,
    run: i64,
    requests_before: usize,
    counts: Counts,
    failure_lines: Vec<String>,
}

/// One conversation being read: what its pages earn it.
struct Walk {
    part: usize,
    id: String,
    checkpoint: Checkpoint,
    /// The listing's marker and last message, saved when the walk reaches the end.
    marker: Option<String>,
    last_message_id: Option<String>,
    /// Whether every page so far came oldest first and continued the one before: then the
    /// checkpoint may advance page by page.
    ascending: bool,
    newest: Option<(i64, String)>,
}

impl Store {
    /// Syncs `targets` through `inbox` into the store: lists each account's conversations
    /// (for `Target::All`), skips those whose last activity is what the store has, reads
    /// the others from their checkpoint (less the overlap) and commits each page with the
    /// checkpoint it earns in one transaction, so a crash or a kill loses nothing and the
    /// next sync continues where this one stopped. A failure (a conversation, a listing, an
    /// account) is reported and recorded in the account's sync run, and the rest goes on;
    /// only a database error stops the sync.
    ///
    /// How a conversation is read again: a new one, or one read with `full`, from its
    /// start; one whose last message changed, from its checkpoint less the overlap (Bird
    /// filters on `dateFrom`; a Partoo walk newest first stops past it, one oldest first is
    /// read whole); one whose last message is the same but whose marker moved (a status
    /// changed, Bird's `updatedAt`), whole, since the change may be anywhere in it.
    pub async fn sync(
        &self,
        inbox: &Inbox,
        targets: Vec<Target>,
        options: &SyncOptions,
    ) -> Result<SyncReport, StoreError> {
        let started = Instant::now();
        let mut by_source: Vec<(String, Vec<Target>)> = Vec::new();
        for target in targets {
            let name = target.source().to_owned();
            match by_source.iter_mut().find(|(n, _)| *n == name) {
                Some((_, targets)) => targets.push(target),
                None => by_source.push((name, vec![target])),
            }
        }
        let mut failures = Vec::new();
        let mut parts: Vec<Part> = Vec::new();
        let mut walks: HashMap<(Arc<str>, ConversationId), Walk> = HashMap::new();
        let mut wanted: Vec<Target> = Vec::new();
        // Accounts and listings of every source at once: each waits on its own provider.
        let prepared = futures_util::future::join_all(
            by_source
                .into_iter()
                .map(|(name, targets)| self.prepare(inbox, name, targets, options)),
        )
        .await;
        for prepared in prepared {
            match prepared? {
                Prepared::Failed(failure) => failures.push(failure),
                Prepared::Ready {
                    mut part,
                    targets,
                    conversations,
                    failures: listing_failures,
                } => {
                    let index = parts.len();
                    for failure in listing_failures {
                        note_failure(&mut part, &failure);
                        failures.push(failure);
                    }
                    for (id, mut walk) in conversations {
                        walk.part = index;
                        walks.insert((part.source.clone(), id), walk);
                    }
                    wanted.extend(targets);
                    parts.push(part);
                }
            }
        }
        let pages = inbox.pages(wanted).map_err(|e| StoreError::Damaged {
            what: "sync targets".into(),
            reason: e.to_string(),
        })?;
        futures_util::pin_mut!(pages);
        while let Some(event) = pages.next().await {
            match event {
                PageEvent::Page(page) => {
                    let key = (page.source.clone(), page.conversation.clone());
                    let Some(walk) = walks.get_mut(&key) else {
                        continue;
                    };
                    let Some(part) = parts.get_mut(walk.part) else {
                        continue;
                    };
                    self.commit_page(part, walk, &page).await?;
                }
                PageEvent::Failure(failure) => {
                    if let Some(part) = parts.iter_mut().find(|p| *p.source == *failure.source) {
                        note_failure(part, &failure);
                    }
                    failures.push(failure);
                }
                _ => {}
            }
        }
        let mut accounts = Vec::with_capacity(parts.len());
        for mut part in parts {
            let requests = inbox
                .requests(&part.source)
                .saturating_sub(part.requests_before);
            part.counts.requests = requests as u64;
            let summary = (!part.failure_lines.is_empty()).then(|| part.failure_lines.join("\n"));
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(|e| self.err("finishing a sync run", e))?;
            write::finish_run(&mut conn, part.run, &part.counts, summary.as_deref())
                .await
                .map_err(|e| self.err("finishing a sync run", e))?;
            accounts.push(AccountSync {
                source: part.source.to_string(),
                account: part.account,
                run: part.run,
                counts: part.counts,
            });
        }
        Ok(SyncReport {
            accounts,
            failures,
            took: started.elapsed(),
        })
    }

    /// An account's start: its identity, its run, its listing and what to read.
    async fn prepare(
        &self,
        inbox: &Inbox,
        name: String,
        targets: Vec<Target>,
        options: &SyncOptions,
    ) -> Result<Prepared, StoreError> {
        let requests_before = inbox.requests(&name);
        let account = match inbox.account(&name).await {
            Ok(account) => account,
            Err(failure) => return Ok(Prepared::Failed(failure)),
        };
        let provider = account.provider.to_string();
        let mut tx = self
            .begin_write()
            .await
            .map_err(|e| self.err("starting a sync run", e))?;
        let account_id = write::account(&mut tx, &provider, &account.identity)
            .await
            .map_err(|e| self.err("storing the account", e))?;
        let run = write::start_run(&mut tx, account_id, options.full)
            .await
            .map_err(|e| self.err("starting a sync run", e))?;
        let checkpoints = write::checkpoints(&mut tx, account_id)
            .await
            .map_err(|e| self.err("reading the checkpoints", e))?;
        tx.commit()
            .await
            .map_err(|e| self.err("starting a sync run", e))?;
        let source: Arc<str> = name.as_str().into();
        let mut part = Part {
            source: source.clone(),
            account,
            account_id,
            run,
            requests_before,
            counts: Counts::default(),
            failure_lines: Vec::new(),
        };
        let overlap = i64::try_from(options.overlap.as_nanos()).unwrap_or(i64::MAX);
        let mut conversations: Vec<(ConversationId, Walk)> = Vec::new();
        let mut wanted: Vec<Target> = Vec::new();
        let mut failures = Vec::new();
        let walk = |id: &ConversationId, marker: Option<String>, last: Option<String>| {
            let key = id.to_string();
            let checkpoint = checkpoints.get(&key).cloned().unwrap_or_default();
            Walk {
                part: 0,
                id: key,
                checkpoint,
                marker,
                last_message_id: last,
                ascending: true,
                newest: None,
            }
        };
        // Read from the checkpoint less the overlap, unless told to read whole.
        let since = |walk: &Walk, whole: bool| -> Option<Timestamp> {
            if options.full || whole {
                return None;
            }
            let (at, _) = walk.checkpoint.at.as_ref()?;
            Timestamp::from_unix_nanos(i128::from(at.saturating_sub(overlap)))
        };
        for target in targets {
            match target {
                Target::All { .. } => {
                    let listing =
                        inbox
                            .conversations(&name)
                            .await
                            .map_err(|e| StoreError::Damaged {
                                what: "sync targets".into(),
                                reason: e.to_string(),
                            })?;
                    let listed_at = write::now();
                    let mut tx = self
                        .begin_write()
                        .await
                        .map_err(|e| self.err("storing the listing", e))?;
                    for summary in &listing.conversations {
                        write::conversation(&mut tx, account_id, summary, listed_at)
                            .await
                            .map_err(|e| self.err("storing a conversation", e))?;
                    }
                    for failure in &listing.failures {
                        if let inbox_aggregator::FailureKind::InvalidConversation(raw) =
                            &failure.kind
                        {
                            let from = write::Origin {
                                item: "conversation",
                                conversation: None,
                                page: None,
                                run: Some(run),
                            };
                            write::rejected(&mut tx, account_id, &from, raw)
                                .await
                                .map_err(|e| self.err("keeping a rejected conversation", e))?;
                            part.counts.rejected += 1;
                        }
                    }
                    if listing.complete {
                        part.counts.vanished +=
                            write::mark_vanished(&mut tx, account_id, listed_at)
                                .await
                                .map_err(|e| self.err("marking vanished conversations", e))?;
                    }
                    tx.commit()
                        .await
                        .map_err(|e| self.err("storing the listing", e))?;
                    part.counts.listed += listing.conversations.len() as u64;
                    for summary in listing.conversations {
                        let marker = summary.last_activity.key();
                        let last = summary
                            .last_activity
                            .message_id
                            .as_ref()
                            .map(ToString::to_string);
                        let w = walk(&summary.id, Some(marker.clone()), last.clone());
                        if !options.full && w.checkpoint.marker.as_deref() == Some(&marker) {
                            part.counts.skipped += 1;
                            continue;
                        }
                        // The same last message, yet the marker moved: a change somewhere
                        // in the conversation, not a new message at its end.
                        let whole = last.is_some() && w.checkpoint.last_message_id == last;
                        let mut target = Target::conversation(name.clone(), summary.id.clone());
                        if let Some(since) = since(&w, whole) {
                            target = target.since(since);
                        }
                        part.counts.changed += 1;
                        wanted.push(target);
                        conversations.push((summary.id, w));
                    }
                    failures.extend(listing.failures.into_iter().filter(|f| {
                        !matches!(
                            f.kind,
                            inbox_aggregator::FailureKind::InvalidConversation(_)
                        )
                    }));
                }
                Target::Conversation { id, .. } => {
                    let w = walk(&id, None, None);
                    let mut target = Target::conversation(name.clone(), id.clone());
                    if let Some(since) = since(&w, false) {
                        target = target.since(since);
                    }
                    part.counts.changed += 1;
                    wanted.push(target);
                    conversations.push((id, w));
                }
                _ => {}
            }
        }
        Ok(Prepared::Ready {
            part,
            targets: wanted,
            conversations,
            failures,
        })
    }

    /// Commits one page: its messages, its rejected items, and the checkpoint it earns, in
    /// one transaction.
    async fn commit_page(
        &self,
        part: &mut Part,
        walk: &mut Walk,
        page: &MessagePage,
    ) -> Result<(), StoreError> {
        let keys: Vec<(i64, String)> = page
            .messages
            .iter()
            .map(|m| (nanos(&m.timestamp), m.id.to_string()))
            .collect();
        let sorted = keys.windows(2).all(|w| w[0] <= w[1]);
        let continues = match (&walk.newest, keys.first()) {
            (Some(newest), Some(first)) => first >= newest,
            _ => true,
        };
        walk.ascending &= sorted && continues;
        if let Some(max) = keys.iter().max()
            && walk.newest.as_ref().is_none_or(|n| max > n)
        {
            walk.newest = Some(max.clone());
        }
        let mut checkpoint = walk.checkpoint.clone();
        let advance = |checkpoint: &mut Checkpoint, to: &Option<(i64, String)>| {
            if let Some(to) = to
                && checkpoint.at.as_ref().is_none_or(|at| to > at)
            {
                checkpoint.at = Some(to.clone());
            }
        };
        if walk.ascending {
            advance(&mut checkpoint, &walk.newest);
        }
        if page.last {
            advance(&mut checkpoint, &walk.newest);
            if walk.marker.is_some() {
                checkpoint.marker = walk.marker.clone();
                checkpoint.last_message_id = walk.last_message_id.clone();
            }
        }
        let at = write::now();
        let mut counts = Counts::default();
        let mut tx = self
            .begin_write()
            .await
            .map_err(|e| self.err("storing a page", e))?;
        let rows: Vec<(i64, &inbox_aggregator::model::Message)> =
            page.messages.iter().map(|m| (part.account_id, m)).collect();
        let upserted = write::messages(&mut tx, &rows, at, false)
            .await
            .map_err(|e| self.err("storing a page's messages", e))?;
        for upserted in upserted {
            counts.count(upserted);
        }
        let from = write::Origin {
            item: "message",
            conversation: Some(&walk.id),
            page: Some(page.index),
            run: Some(part.run),
        };
        for raw in &page.rejected {
            write::rejected(&mut tx, part.account_id, &from, raw)
                .await
                .map_err(|e| self.err("keeping a rejected message", e))?;
            counts.rejected += 1;
        }
        if checkpoint != walk.checkpoint || page.last {
            write::save_checkpoint(&mut tx, part.account_id, &walk.id, &checkpoint)
                .await
                .map_err(|e| self.err("storing a checkpoint", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| self.err("storing a page", e))?;
        walk.checkpoint = checkpoint;
        part.counts.add(&counts);
        Ok(())
    }
}

/// An account ready to be read, or the failure that stopped it.
enum Prepared {
    Failed(Failure),
    Ready {
        part: Part,
        targets: Vec<Target>,
        conversations: Vec<(ConversationId, Walk)>,
        failures: Vec<Failure>,
    },
}

fn note_failure(part: &mut Part, failure: &Failure) {
    part.counts.failures += 1;
    if part.failure_lines.len() < FAILURES_KEPT {
        part.failure_lines.push(failure.to_string());
    }
}
