//! What the emulator serves, and how it changes at runtime.
//!
//! Each conversation has a **base**: its messages as the seed drew them (synthetic data) or
//! as the fixtures hold them, serialized once each, oldest first. Synthetic bases are kept
//! in a bounded cache and drawn again when evicted, so thousands of conversations do not
//! grow the emulator's memory with them; fixture bases are held whole.
//!
//! On top of the base, each conversation has a **live** part, held with the conversation
//! and never evicted: its listing entry as it stands, how many messages it has now, and the
//! messages that differ from the base (appended ones, and base messages whose status
//! changed), each serialized once when it changed. A message keeps its position in the
//! conversation's oldest-first log forever: messages are appended, never inserted, removed
//! or reordered. That is what makes page tokens survive appends (see `api`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::generate::{BUSINESSES, BirdConv, Lifecycle, PartooConv};
use crate::rng::Rng;
use crate::time::{self, Instant};
use crate::{Config, Dataset};

/// How many bytes of serialized synthetic messages the cache keeps: every conversation of
/// the default dataset (about 1 MiB), or dozens of long conversations being paged at once.
/// A dataset of thousands of conversations does not grow the emulator's memory with it.
const CACHE_BUDGET_BYTES: usize = 16 * 1024 * 1024;

/// One in this many synthetic conversations (indices 0, 6, 12, ...) is long.
const LONG_EVERY: usize = 6;

/// Which API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Provider {
    Partoo,
    Bird,
}

/// A conversation's base messages, serialized, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Messages {
    items: Vec<Box<RawValue>>,
    times: Vec<Instant>,
}

impl Messages {
    fn push(&mut self, json: Box<RawValue>, at: Instant) {
        self.items.push(json);
        self.times.push(at);
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn shrink_to_fit(&mut self) {
        self.items.shrink_to_fit();
        self.times.shrink_to_fit();
    }

    /// Roughly what it holds in memory.
    fn bytes(&self) -> usize {
        self.items.iter().map(|m| m.get().len() + 32).sum::<usize>()
            + self.times.len() * std::mem::size_of::<Instant>()
    }
}

/// Where a conversation's base messages come from.
pub(crate) enum Source {
    /// Drawn from the seed, on demand.
    Partoo(PartooConv),
    /// Drawn from the seed, on demand.
    Bird(BirdConv),
    /// Read from fixtures, held whole.
    Fixed(Arc<Messages>),
}

/// A message that differs from the base: appended (by activity or a send), or moved along
/// its lifecycle.
#[derive(Debug)]
pub(crate) struct Edit {
    /// How it differs from what the seed drew.
    pub(crate) lifecycle: Lifecycle,
    /// The message as served now.
    pub(crate) json: Box<RawValue>,
    /// When it was created.
    pub(crate) created: Instant,
    /// Set on a message sent through the API: the seed did not draw it, so what the
    /// generator would draw at its position says nothing of it.
    pub(crate) sent: Option<SentEdit>,
}

/// What the data layer keeps of a message sent through the API, beyond its JSON.
#[derive(Debug)]
pub(crate) enum SentEdit {
    /// A Partoo send, at this index of the emulator's log of sends.
    Partoo {
        /// Its index in the log.
        log: usize,
    },
    /// A Bird send.
    Bird {
        /// What the conversations listing shows of it (`lastMessage`).
        last_message: Box<RawValue>,
        /// Whether the contact sent it (`participantType` `contact`).
        inbound: bool,
    },
}

impl SentEdit {
    /// Whether the contact sent it.
    pub(crate) fn inbound(&self) -> bool {
        matches!(self, SentEdit::Bird { inbound: true, .. })
    }
}

/// What a conversation shows now.
pub(crate) struct Live {
    /// Its entry in the conversations listing.
    pub(crate) listing: Box<RawValue>,
    /// How many messages it has (the base, then the appended ones).
    pub(crate) len: usize,
    /// The messages that differ from the base, by position.
    pub(crate) edits: BTreeMap<usize, Edit>,
    /// When one of its messages last changed, microseconds since the epoch.
    pub(crate) touched: Option<i64>,
}

impl Live {
    /// The lifecycle of message `i` (the drawn one when it never changed).
    pub(crate) fn lifecycle(&self, i: usize) -> Lifecycle {
        self.edits.get(&i).map(|e| e.lifecycle).unwrap_or_default()
    }
}

/// A conversation of either provider.
pub(crate) struct Conv {
    /// The id, as a string (Partoo ids are integers).
    pub(crate) key: String,
    /// The Partoo business it belongs to, when known.
    pub(crate) business: Option<String>,
    /// Whether its message pagination hands back the same cursor forever.
    pub(crate) looping: bool,
    /// Its channel as its listing entry names it (Partoo's `messaging_partner`: `SMS`,
    /// `Whatsapp`, ...), when it does.
    pub(crate) partner: Option<String>,
    /// Its status as its listing entry names it (Bird's `status`: `active`, `closed`;
    /// Partoo's: `Open`, `Closed`), when it does. Neither activity nor sends change it.
    pub(crate) status: Option<String>,
    /// Where its base messages come from.
    pub(crate) source: Source,
    /// How many base messages it has.
    pub(crate) base_len: usize,
    live: RwLock<Live>,
    /// Message-list requests answered for it.
    requests: AtomicUsize,
}

impl Conv {
    fn new(
        key: String,
        business: Option<String>,
        listing: Box<RawValue>,
        len: usize,
        source: Source,
    ) -> Self {
        #[derive(serde::Deserialize)]
        struct Facts {
            messaging_partner: Option<String>,
            status: Option<String>,
        }
        let facts = serde_json::from_str::<Facts>(listing.get()).ok();
        let (partner, status) = facts.map_or((None, None), |f| (f.messaging_partner, f.status));
        Conv {
            key,
            business,
            looping: false,
            partner,
            status,
            source,
            base_len: len,
            live: RwLock::new(Live {
                listing,
                len,
                edits: BTreeMap::new(),
                touched: None,
            }),
            requests: AtomicUsize::new(0),
        }
    }

    /// Reads what it shows now.
    pub(crate) fn live<T>(&self, f: impl FnOnce(&Live) -> T) -> T {
        f(&self.live.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Changes what it shows.
    pub(crate) fn update<T>(&self, f: impl FnOnce(&mut Live) -> T) -> T {
        f(&mut self.live.write().unwrap_or_else(PoisonError::into_inner))
    }

    /// How many messages it has now.
    pub(crate) fn len(&self) -> usize {
        self.live(|live| live.len)
    }

    /// Counts a message-list request answered for it.
    pub(crate) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Message-list requests answered for it so far.
    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

/// A conversation's messages as served now: the base, with the live edits over it.
pub(crate) struct View<'a> {
    base: &'a Messages,
    live: &'a Live,
}

impl View<'_> {
    /// How many messages.
    pub(crate) fn len(&self) -> usize {
        self.live.len
    }

    /// Message `i` (oldest first); `None` out of range.
    pub(crate) fn get(&self, i: usize) -> Option<&RawValue> {
        if i >= self.live.len {
            return None;
        }
        match self.live.edits.get(&i) {
            Some(edit) => Some(&edit.json),
            None => self.base.items.get(i).map(AsRef::as_ref),
        }
    }

    /// The position of the first message created strictly after `at`. Appended messages
    /// are newer than every base message, and each newer than the one before.
    pub(crate) fn first_after(&self, at: Instant) -> usize {
        let in_base = self.base.times.partition_point(|t| *t <= at);
        if in_base < self.base.len() {
            return in_base;
        }
        let appended = self
            .live
            .edits
            .range(self.base.len()..)
            .take_while(|(_, edit)| edit.created <= at)
            .count();
        (self.base.len() + appended).min(self.live.len)
    }
}

#[derive(Default)]
struct Cache {
    entries: HashMap<(Provider, usize), (Arc<Messages>, u64)>,
    bytes: usize,
    tick: u64,
}

/// Where activity stands: its clock, and the next Partoo message id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// Now, for activity: past every message of the dataset, microseconds since the epoch.
    pub(crate) now: i64,
    /// The id of the next Partoo message appended, by activity or a send (past every id of
    /// the dataset).
    pub(crate) next_partoo_id: i64,
}

/// The dataset being served.
pub(crate) struct Data {
    partoo: Vec<Conv>,
    bird: Vec<Conv>,
    partoo_index: HashMap<String, usize>,
    bird_index: HashMap<String, usize>,
    /// Partoo business ids the key may see.
    businesses: HashSet<String>,
    cache: Mutex<Cache>,
    /// Held for the whole of an activity, so that activities happen one after the other.
    pub(crate) clock: Mutex<Clock>,
}

impl Data {
    /// Builds the dataset a configuration asks for.
    pub(crate) fn build(config: &Config) -> io::Result<Data> {
        let built = match &config.dataset {
            Dataset::Synthetic {
                partoo_conversations,
                bird_conversations,
                messages_per_conversation,
            } => synthetic(
                config.seed,
                *partoo_conversations,
                *bird_conversations,
                (
                    *messages_per_conversation.start(),
                    *messages_per_conversation.end(),
                ),
            ),
            Dataset::Fixtures(root) => fixtures(root)?,
        };
        let looping: HashSet<&str> = config
            .looping_conversations
            .iter()
            .map(String::as_str)
            .collect();
        let finish = |mut convs: Vec<Conv>| {
            let mut index = HashMap::with_capacity(convs.len());
            for (i, conv) in convs.iter_mut().enumerate() {
                conv.looping = looping.contains(conv.key.as_str());
                index.entry(conv.key.clone()).or_insert(i);
            }
            (convs, index)
        };
        let (partoo, partoo_index) = finish(built.partoo);
        let (bird, bird_index) = finish(built.bird);
        Ok(Data {
            partoo,
            bird,
            partoo_index,
            bird_index,
            businesses: built.businesses,
            cache: Mutex::default(),
            clock: Mutex::new(built.clock),
        })
    }

    /// The conversations of a provider, in listing order.
    pub(crate) fn conversations(&self, provider: Provider) -> &[Conv] {
        match provider {
            Provider::Partoo => &self.partoo,
            Provider::Bird => &self.bird,
        }
    }

    /// The index of a conversation by id.
    pub(crate) fn find(&self, provider: Provider, id: &str) -> Option<usize> {
        match provider {
            Provider::Partoo => self.partoo_index.get(id).copied(),
            Provider::Bird => self.bird_index.get(id).copied(),
        }
    }

    /// Whether the Partoo key may see this business.
    pub(crate) fn business_visible(&self, id: &str) -> bool {
        self.businesses.contains(id)
    }

    /// Total messages now, both providers.
    pub(crate) fn message_count(&self) -> usize {
        self.partoo.iter().chain(&self.bird).map(Conv::len).sum()
    }

    /// Where the Partoo message `id` is: its conversation's index and its position there;
    /// `None` when no conversation holds it.
    pub(crate) fn find_partoo_message(&self, id: i64) -> Option<(usize, usize)> {
        #[derive(serde::Deserialize)]
        struct Id {
            id: Option<i64>,
        }
        for (index, conv) in self.partoo.iter().enumerate() {
            if let Source::Partoo(p) = &conv.source {
                let first = p.first_message_id;
                if id >= first && id - first < conv.base_len as i64 {
                    return Some((index, (id - first) as usize));
                }
            }
            // Appended by activity or a send: the id is in the lifecycle.
            let appended = conv.live(|live| {
                live.edits
                    .range(conv.base_len..)
                    .find(|(_, edit)| edit.lifecycle.id == Some(id))
                    .map(|(position, _)| *position)
            });
            if let Some(position) = appended {
                return Some((index, position));
            }
        }
        // Fixture messages: read.
        for (index, conv) in self.partoo.iter().enumerate() {
            if let Source::Fixed(messages) = &conv.source {
                let position = messages.items.iter().position(|item| {
                    serde_json::from_str::<Id>(item.get()).is_ok_and(|m| m.id == Some(id))
                });
                if let Some(position) = position {
                    return Some((index, position));
                }
            }
        }
        None
    }

    /// Reads conversation `index`'s messages as served now, in one consistent state.
    pub(crate) fn with_messages<T>(
        &self,
        provider: Provider,
        index: usize,
        f: impl FnOnce(&View<'_>) -> T,
    ) -> Option<T> {
        let conv = self.conversations(provider).get(index)?;
        let base = self.base(provider, index, conv);
        Some(conv.live(|live| f(&View { base: &base, live })))
    }

    /// The base messages of conversation `index` (from the cache when they are in it).
    fn base(&self, provider: Provider, index: usize, conv: &Conv) -> Arc<Messages> {
        if let Source::Fixed(messages) = &conv.source {
            return Arc::clone(messages);
        }
        let key = (provider, index);
        {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache.tick += 1;
            let tick = cache.tick;
            if let Some((messages, used)) = cache.entries.get_mut(&key) {
                *used = tick;
                return Arc::clone(messages);
            }
        }
        // Drawn outside the lock: two requests may both draw a conversation, and get the
        // same bytes.
        let none = Lifecycle::default();
        let mut messages = Messages::default();
        match &conv.source {
            Source::Partoo(p) => {
                for i in 0..conv.base_len {
                    messages.push(p.message(i, &none), time::from_micros(p.time(i)));
                }
            }
            Source::Bird(b) => {
                for i in 0..conv.base_len {
                    messages.push(b.message_json(i, &none), time::from_micros(b.time(i)));
                }
            }
            Source::Fixed(_) => {}
        }
        messages.shrink_to_fit();
        let messages = Arc::new(messages);
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.tick += 1;
        let tick = cache.tick;
        let size = messages.bytes();
        if let Some((old, _)) = cache.entries.insert(key, (Arc::clone(&messages), tick)) {
            cache.bytes = cache.bytes.saturating_sub(old.bytes());
        }
        cache.bytes += size;
        while cache.bytes > CACHE_BUDGET_BYTES {
            let oldest = cache
                .entries
                .iter()
                .filter(|(k, _)| **k != key)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| *k);
            let Some(oldest) = oldest else { break };
            if let Some((old, _)) = cache.entries.remove(&oldest) {
                cache.bytes = cache.bytes.saturating_sub(old.bytes());
            }
        }
        messages
    }

    /// How many bytes of base messages the cache holds now.
    #[cfg(test)]
    pub(crate) fn cached_bytes(&self) -> usize {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .bytes
    }
}

/// How many messages synthetic conversation `index` has: drawn from `lo..=hi`, except one
/// conversation in six (indices 0, 6, 12, ...) that has 250 to 400; a single-value range
/// gives every conversation exactly that many.
fn message_count(seed: u64, salt: u64, index: usize, (lo, hi): (usize, usize)) -> usize {
    if hi <= lo {
        return lo;
    }
    let mut rng = Rng::of(&[seed, salt, index as u64, 0x0043_4f55_4e54]);
    if index.is_multiple_of(LONG_EVERY) {
        rng.range(250, 400) as usize
    } else {
        rng.range(lo as u64, hi as u64) as usize
    }
}

/// What a dataset is built into.
struct Built {
    partoo: Vec<Conv>,
    bird: Vec<Conv>,
    businesses: HashSet<String>,
    clock: Clock,
}

/// How long after the newest message of a dataset activity starts: past every interaction
/// and `updatedAt` the generator draws (at most about 15 minutes after a message).
const ACTIVITY_MARGIN_MICROS: i64 = 3_600 * 1_000_000;

/// The start of activity after `newest` (microseconds): the next whole minute past the
/// margin.
fn activity_start(newest: i64) -> i64 {
    let minute = 60 * 1_000_000;
    (newest.saturating_add(ACTIVITY_MARGIN_MICROS) / minute + 1) * minute
}

fn synthetic(seed: u64, partoo_n: usize, bird_n: usize, range: (usize, usize)) -> Built {
    let none = Lifecycle::default();
    let mut next_id = 1_000_001_i64;
    let mut newest = i64::MIN;
    let partoo = (0..partoo_n)
        .map(|i| {
            let len = message_count(seed, 0x5041_5254, i, range);
            let conv = PartooConv::new(seed, i, len, next_id, i == 0);
            next_id += len as i64;
            let last = len.checked_sub(1).map(|i| conv.message(i, &none));
            if let Some(i) = len.checked_sub(1) {
                newest = newest.max(conv.time(i));
            }
            Conv::new(
                conv.id.to_string(),
                Some(BUSINESSES[conv.business % BUSINESSES.len()].id.to_owned()),
                conv.conversation(len, last.as_deref(), |_| false),
                len,
                Source::Partoo(conv),
            )
        })
        .collect();
    let bird = (0..bird_n)
        .map(|i| {
            let len = message_count(seed, 0x4249_5244, i, range);
            let conv = BirdConv::new(seed, i, len, i == 0);
            if let Some(i) = len.checked_sub(1) {
                newest = newest.max(conv.time(i));
            }
            Conv::new(
                conv.id.clone(),
                None,
                conv.conversation(len, |_| none, None, |_| None),
                len,
                Source::Bird(conv),
            )
        })
        .collect();
    let businesses = BUSINESSES.iter().map(|b| b.id.to_owned()).collect();
    let newest = if newest == i64::MIN {
        time::micros_of(2025, 1, 1, 0, 0)
    } else {
        newest
    };
    Built {
        partoo,
        bird,
        businesses,
        clock: Clock {
            now: activity_start(newest),
            next_partoo_id: next_id,
        },
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

fn invalid(path: &Path, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("fixture {}: {what}", path.display()),
    )
}

/// Every `.json` file under `dir`, sorted, skipping `drift/` and `errors/` folders.
fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<Vec<_>>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            let skip = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n == "drift" || n == "errors");
            if !skip {
                json_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

fn read_json(path: &Path) -> io::Result<Value> {
    let bytes = std::fs::read(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| invalid(path, e))
}

/// Messages of one fixture conversation, in the order met, deduplicated by message id.
#[derive(Default)]
struct Group {
    seen: HashSet<String>,
    items: Vec<(Instant, Value)>,
}

impl Group {
    fn add(&mut self, message: Value, date_key: &str) {
        let id = message.get("id").map(Value::to_string).unwrap_or_default();
        if !self.seen.insert(id) {
            return;
        }
        let at = message
            .get(date_key)
            .and_then(Value::as_str)
            .and_then(time::parse)
            .unwrap_or(Instant::MIN);
        self.items.push((at, message));
    }

    /// Serialized, oldest first (ties keep the order met).
    fn into_messages(mut self) -> io::Result<(Messages, Vec<Value>)> {
        self.items.sort_by_key(|(at, _)| *at);
        let mut messages = Messages::default();
        let mut values = Vec::with_capacity(self.items.len());
        for (at, value) in self.items {
            messages.push(serde_json::value::to_raw_value(&value)?, at);
            values.push(value);
        }
        messages.shrink_to_fit();
        Ok((messages, values))
    }
}

/// Conversations met in listing pages (in order), and message groups by conversation.
#[derive(Default)]
struct Found {
    listed: Vec<(String, Value)>,
    listed_ids: HashSet<String>,
    groups: Vec<(String, Group)>,
    group_index: HashMap<String, usize>,
}

impl Found {
    fn list(&mut self, id: String, conversation: Value) {
        if self.listed_ids.insert(id.clone()) {
            self.listed.push((id, conversation));
        }
    }

    fn message(&mut self, conversation: String, message: Value, date_key: &str) {
        let i = *self
            .group_index
            .entry(conversation.clone())
            .or_insert_with(|| {
                self.groups.push((conversation, Group::default()));
                self.groups.len() - 1
            });
        self.groups[i].1.add(message, date_key);
    }

    /// Every conversation: the listed ones in order, then the ones only met through their
    /// messages, with a listing entry made by `derive`.
    fn into_convs(
        mut self,
        derive: impl Fn(&str, &[Value]) -> Value,
        business: impl Fn(&Value) -> Option<String>,
    ) -> io::Result<Vec<Conv>> {
        let mut groups: HashMap<String, Group> = self.groups.drain(..).collect();
        let mut convs = Vec::new();
        let mut derived = Vec::new();
        for (id, listing) in std::mem::take(&mut self.listed) {
            let (messages, _) = groups.remove(&id).unwrap_or_default().into_messages()?;
            convs.push(fixed_conv(id, &listing, business(&listing), messages)?);
        }
        let mut rest: Vec<(String, Group)> = groups.into_iter().collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, group) in rest {
            let (messages, values) = group.into_messages()?;
            let listing = derive(&id, &values);
            derived.push(fixed_conv(id, &listing, business(&listing), messages)?);
        }
        convs.extend(derived);
        Ok(convs)
    }
}

fn fixed_conv(
    key: String,
    listing: &Value,
    business: Option<String>,
    messages: Messages,
) -> io::Result<Conv> {
    let listing = serde_json::value::to_raw_value(listing)?;
    Ok(Conv::new(
        key,
        business,
        listing,
        messages.len(),
        Source::Fixed(Arc::new(messages)),
    ))
}

fn fixtures(root: &Path) -> io::Result<Built> {
    let mut partoo = Found::default();
    let mut bird = Found::default();
    let partoo_dir = root.join("partoo");
    let bird_dir = root.join("bird");
    if !partoo_dir.is_dir() && !bird_dir.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "no fixtures under {}: expected partoo/ or bird/",
                root.display()
            ),
        ));
    }
    let mut files = Vec::new();
    if partoo_dir.is_dir() {
        json_files(&partoo_dir, &mut files)?;
    }
    for path in files.drain(..) {
        let value = read_json(&path)?;
        if let Some(messages) = value.get("messages").and_then(Value::as_array) {
            for message in messages {
                if let Some(id) = message.get("conversation_id").and_then(Value::as_i64) {
                    partoo.message(id.to_string(), message.clone(), "date");
                }
            }
        } else if let Some(conversations) = value.get("conversations").and_then(Value::as_array) {
            for conversation in conversations {
                if let Some(id) = conversation.get("id").and_then(Value::as_i64) {
                    partoo.list(id.to_string(), conversation.clone());
                }
            }
        } else if let Some(id) = value.get("id").and_then(Value::as_i64) {
            // One conversation (`GET /conversations/{id}`).
            if value.get("business").is_some() || value.get("messaging_partner").is_some() {
                partoo.list(id.to_string(), value.clone());
            }
        }
    }
    if bird_dir.is_dir() {
        json_files(&bird_dir, &mut files)?;
    }
    for path in files {
        let value = read_json(&path)?;
        let Some(results) = value.get("results").and_then(Value::as_array) else {
            continue;
        };
        for item in results {
            let id = item.get("id").and_then(Value::as_str);
            if item.get("sender").is_some() {
                if let Some(conversation) = item.get("conversationId").and_then(Value::as_str) {
                    bird.message(conversation.to_owned(), item.clone(), "createdAt");
                }
            } else if let Some(id) = id {
                bird.list(id.to_owned(), item.clone());
            }
        }
    }
    let businesses: HashSet<String> = partoo
        .listed
        .iter()
        .filter_map(|(_, c)| partoo_business(c))
        .collect();
    let partoo = partoo.into_convs(derive_partoo, partoo_business)?;
    let bird = bird.into_convs(derive_bird, |_| None)?;
    // Activity does not change fixture conversations (see `activity`); its clock still
    // starts past every fixture message.
    let newest = partoo
        .iter()
        .chain(&bird)
        .filter_map(|conv| match &conv.source {
            Source::Fixed(messages) => messages.times.iter().max().copied(),
            _ => None,
        })
        .filter(|at| *at != Instant::MIN)
        .max()
        .map_or_else(|| time::micros_of(2025, 1, 1, 0, 0), time::micros);
    // Sends into fixture conversations take ids past every fixture message's.
    let next_partoo_id = partoo
        .iter()
        .filter_map(|conv| match &conv.source {
            Source::Fixed(messages) => Some(messages),
            _ => None,
        })
        .flat_map(|messages| &messages.items)
        .filter_map(|item| {
            #[derive(serde::Deserialize)]
            struct Id {
                id: Option<i64>,
            }
            serde_json::from_str::<Id>(item.get()).ok()?.id
        })
        .max()
        .map_or(1, |id| id.saturating_add(1));
    Ok(Built {
        partoo,
        bird,
        businesses,
        clock: Clock {
            now: activity_start(newest),
            next_partoo_id,
        },
    })
}

fn partoo_business(conversation: &Value) -> Option<String> {
    conversation
        .get("business")
        .and_then(|b| b.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// A Partoo listing entry for a conversation only met through its messages.
fn derive_partoo(id: &str, messages: &[Value]) -> Value {
    let consumer = messages
        .iter()
        .find(|m| m.get("sender_type").and_then(Value::as_str) == Some("Consumer"))
        .and_then(|m| m.get("sender_label").cloned())
        .unwrap_or(Value::Null);
    let first_date = messages
        .first()
        .and_then(|m| m.get("date").cloned())
        .unwrap_or(Value::Null);
    let user_message = messages.iter().any(|m| {
        m.get("sender_type").and_then(Value::as_str) == Some("User")
            && m.get("user_id").is_some_and(|u| !u.is_null())
    });
    json!({
        "assigned_user_id": null,
        "consumer_img": null,
        "consumer_name": consumer,
        "consumer_phone_number": null,
        "created_at": first_date,
        "custom_channel": null,
        "first_message_date": first_date,
        "has_one_user_message": user_message,
        "id": id.parse::<i64>().unwrap_or_default(),
        "is_expired": false,
        "is_read": true,
        "is_solved": false,
        "issues": [],
        "last_message": messages.last().cloned().unwrap_or(Value::Null),
        "status": "Open",
    })
}

/// A Bird listing entry for a conversation only met through its messages.
fn derive_bird(id: &str, messages: &[Value]) -> Value {
    let mut participants: Vec<Value> = Vec::new();
    for sender in messages.iter().filter_map(|m| m.get("sender")) {
        let sender_id = sender.get("id");
        if participants.len() < 5 && !participants.iter().any(|p| p.get("id") == sender_id) {
            participants.push(sender.clone());
        }
    }
    let created = messages
        .first()
        .and_then(|m| m.get("createdAt").cloned())
        .unwrap_or_else(|| json!("1970-01-01T00:00:00.000Z"));
    let updated = messages
        .last()
        .and_then(|m| m.get("createdAt").cloned())
        .unwrap_or_else(|| created.clone());
    let channel = messages
        .iter()
        .find_map(|m| m.get("channelId").cloned())
        .unwrap_or_else(|| json!("00000000-0000-4000-8000-000000000000"));
    let mut conversation = json!({
        "accessibility": "open",
        "activeParticipantCount": participants.len(),
        "channelId": channel,
        "createdAt": created,
        "description": "",
        "featuredParticipants": participants,
        "id": id,
        "name": format!("Conversation {id}"),
        "pendingParticipantCount": 0,
        "platformStyle": "email",
        "status": "active",
        "style": "default",
        "updatedAt": updated,
        "visibility": "private",
    });
    if let (Some(first), Some(map)) = (
        messages.iter().find_map(|m| m.get("sender")),
        conversation.as_object_mut(),
    ) {
        map.insert("initiatingParticipant".to_owned(), first.clone());
    }
    conversation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_bounded_and_changes_outlive_eviction() {
        let config = Config {
            dataset: Dataset::Synthetic {
                partoo_conversations: 300,
                bird_conversations: 300,
                messages_per_conversation: 100..=100,
            },
            ..Config::default()
        };
        let data = Data::build(&config).unwrap();
        let activity = crate::activity::simulate(&data, 1, 4);
        assert!(!activity.partoo_added.is_empty() && !activity.bird_added.is_empty());
        // Read everything: far more than the cache holds.
        let mut total = 0;
        for provider in [Provider::Partoo, Provider::Bird] {
            for i in 0..300 {
                total += data.with_messages(provider, i, |view| view.len()).unwrap();
            }
        }
        assert_eq!(total, data.message_count());
        assert!(
            data.cached_bytes() <= CACHE_BUDGET_BYTES,
            "{}",
            data.cached_bytes()
        );
        // What changed is still served, evicted base or not.
        for id in &activity.bird_added {
            let served = activity.bird_conversations.iter().any(|conv| {
                let index = data.find(Provider::Bird, conv).unwrap();
                data.with_messages(Provider::Bird, index, |view| {
                    (0..view.len()).any(|p| view.get(p).unwrap().get().contains(id.as_str()))
                })
                .unwrap()
            });
            assert!(served, "{id}");
        }
    }
}
