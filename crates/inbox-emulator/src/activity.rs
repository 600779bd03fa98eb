//! Simulated activity: new messages arriving in some conversations, and messages moving
//! along their lifecycle in others, while the emulator serves.

use serde_json::Value;

use crate::dataset::{Clock, Conv, Data, Edit, Live, Provider, SentEdit, Source};
use crate::generate::{BirdConv, Lifecycle, PartooConv};
use crate::rng::Rng;
use crate::time;

const SALT_ACTIVITY: u64 = 0x0041_4354_4956;

/// How many of a conversation's newest messages a status change looks among.
const RECENT: usize = 50;

/// What [`Emulator::simulate_activity`](crate::Emulator::simulate_activity) changed.
///
/// Conversation ids are in listing order; message ids in the order the messages were added
/// or changed (added messages oldest first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// The Partoo conversations that changed (a message added or changed).
    pub partoo_conversations: Vec<i64>,
    /// The Bird conversations that changed.
    pub bird_conversations: Vec<String>,
    /// The ids of the Partoo messages added.
    pub partoo_added: Vec<i64>,
    /// The ids of the Bird messages added.
    pub bird_added: Vec<String>,
    /// The ids of the Partoo messages whose status changed (`Sending` to `Success`, or a
    /// `Success` message deleted): always a conversation's last message, the one its
    /// listing shows.
    pub partoo_changed: Vec<i64>,
    /// The ids of the Bird messages whose status changed (`sent` to `delivered`, or
    /// `delivered` to `read`).
    pub bird_changed: Vec<String>,
}

impl Activity {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.partoo_conversations.is_empty() && self.bird_conversations.is_empty()
    }
}

/// One message that a round of activity added or changed: where it sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Touch {
    /// Which API.
    pub(crate) provider: Provider,
    /// The conversation's index in its provider's listing.
    pub(crate) conversation: usize,
    /// The message's position in the conversation's oldest-first log.
    pub(crate) position: usize,
    /// Added (else: its status changed).
    pub(crate) added: bool,
}

/// Runs one round of activity on `data` (see `Emulator::simulate_activity`).
#[cfg(test)]
pub(crate) fn simulate(data: &Data, seed: u64, conversations: usize) -> Activity {
    simulate_then(data, seed, conversations, |_| {})
}

/// Runs one round of activity on `data`, then calls `then` with what changed, in the order
/// it changed, before the next round can start (the round's lock still held): what `then`
/// reads of the data is the state this round left.
pub(crate) fn simulate_then(
    data: &Data,
    seed: u64,
    conversations: usize,
    then: impl FnOnce(&[Touch]),
) -> Activity {
    // Held for the whole round: rounds happen one after the other, each from where the
    // last one left the clock.
    let mut clock = data
        .clock
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut activity = Activity::default();
    let mut touches = Vec::new();
    for provider in [Provider::Partoo, Provider::Bird] {
        let convs = data.conversations(provider);
        let salt = match provider {
            Provider::Partoo => 1,
            Provider::Bird => 2,
        };
        let mut rng = Rng::of(&[seed, SALT_ACTIVITY, salt]);
        // Fixture conversations are served as read; only synthetic ones change.
        let mut order: Vec<usize> = (0..convs.len())
            .filter(|&i| !matches!(convs[i].source, Source::Fixed(_)))
            .collect();
        shuffle(&mut order, &mut rng);
        let n = conversations.min(order.len());
        let (appended, others) = order.split_at(n);
        let mut changed: Vec<usize> = Vec::new();
        for &i in appended {
            let added = append(&convs[i], &mut clock, &mut rng);
            touches.extend(added.iter().map(|&(position, _)| Touch {
                provider,
                conversation: i,
                position,
                added: true,
            }));
            activity_push_added(&mut activity, added);
            changed.push(i);
        }
        let want = n.div_ceil(2);
        let mut status_changes = 0;
        for &i in others {
            if status_changes == want {
                break;
            }
            if let Some((position, id)) = advance(&convs[i], &mut clock, &mut rng) {
                touches.push(Touch {
                    provider,
                    conversation: i,
                    position,
                    added: false,
                });
                match id {
                    Changed::Partoo(id) => activity.partoo_changed.push(id),
                    Changed::Bird(id) => activity.bird_changed.push(id),
                }
                changed.push(i);
                status_changes += 1;
            }
        }
        changed.sort_unstable();
        for i in changed {
            match provider {
                Provider::Partoo => {
                    if let Ok(id) = convs[i].key.parse() {
                        activity.partoo_conversations.push(id);
                    }
                }
                Provider::Bird => activity.bird_conversations.push(convs[i].key.clone()),
            }
        }
    }
    then(&touches);
    drop(clock);
    activity
}

fn activity_push_added(activity: &mut Activity, added: Vec<(usize, Changed)>) {
    for (_, id) in added {
        match id {
            Changed::Partoo(id) => activity.partoo_added.push(id),
            Changed::Bird(id) => activity.bird_added.push(id),
        }
    }
}

/// A message id of either provider.
enum Changed {
    Partoo(i64),
    Bird(String),
}

/// A Fisher-Yates shuffle.
fn shuffle(items: &mut [usize], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.index(i + 1);
        items.swap(i, j);
    }
}

/// Moves the clock on by a realistic gap between two events (whole milliseconds, as Bird
/// shows them), and returns the new now.
fn tick(clock: &mut Clock, rng: &mut Rng) -> i64 {
    clock.now += rng.range(20_000, 600_000) as i64 * 1000;
    clock.now
}

/// Appends 1 to 3 new messages, newer than every message there is; returns their positions
/// and ids.
fn append(conv: &Conv, clock: &mut Clock, rng: &mut Rng) -> Vec<(usize, Changed)> {
    let count = rng.range(1, 3);
    conv.update(|live| {
        let mut added = Vec::new();
        for _ in 0..count {
            let at = tick(clock, rng);
            let i = live.len;
            let mut lifecycle = Lifecycle {
                created: Some(at),
                ..Lifecycle::default()
            };
            let (json, id) = match &conv.source {
                Source::Partoo(p) => {
                    let id = clock.next_partoo_id;
                    clock.next_partoo_id += 1;
                    lifecycle.id = Some(id);
                    (p.message(i, &lifecycle), Changed::Partoo(id))
                }
                Source::Bird(b) => {
                    let (json, summary) = b.message(i, &lifecycle);
                    (json, Changed::Bird(summary.id))
                }
                Source::Fixed(_) => return added,
            };
            live.edits.insert(
                i,
                Edit {
                    lifecycle,
                    json,
                    created: time::from_micros(at),
                    sent: None,
                },
            );
            live.len += 1;
            live.touched = Some(at);
            added.push((i, id));
        }
        relist(conv, live);
        added
    })
}

/// Moves one of the conversation's recent messages along its lifecycle, when one can move;
/// returns its position and id.
fn advance(conv: &Conv, clock: &mut Clock, rng: &mut Rng) -> Option<(usize, Changed)> {
    conv.update(|live| {
        let recent = (live.len.saturating_sub(RECENT)..live.len).rev();
        let (i, lifecycle, id) = match &conv.source {
            Source::Partoo(p) => partoo_next(p, live, recent)?,
            Source::Bird(b) => {
                let at = tick(clock, rng);
                bird_next(b, live, recent, at)?
            }
            Source::Fixed(_) => return None,
        };
        let (json, created) = match &conv.source {
            Source::Partoo(p) => (p.message(i, &lifecycle), p.time(i)),
            Source::Bird(b) => (b.message_json(i, &lifecycle), b.time(i)),
            Source::Fixed(_) => return None,
        };
        let created = lifecycle.created.unwrap_or(created);
        live.edits.insert(
            i,
            Edit {
                lifecycle,
                json,
                created: time::from_micros(created),
                sent: None,
            },
        );
        if let Some(updated) = lifecycle.updated {
            live.touched = Some(live.touched.map_or(updated, |t| t.max(updated)));
        }
        relist(conv, live);
        Some((i, id))
    })
}

/// The last message moves on: `Sending` becomes `Success`, or a `Success` message is
/// deleted. Only the last: Partoo's listing shows its conversations' last message and
/// nothing else, so a change below it could only be seen by its webhooks, and the
/// emulator's activity stays what a sync driven by the listing can see. A message sent
/// through the API is left alone (only a retry changes it).
fn partoo_next(
    p: &PartooConv,
    live: &Live,
    mut recent: impl Iterator<Item = usize>,
) -> Option<(usize, Lifecycle, Changed)> {
    let i = recent.next()?;
    if is_sent(live, i) {
        return None;
    }
    let lifecycle = live.lifecycle(i);
    let id = lifecycle.id.unwrap_or(p.first_message_id + i as i64);
    let state = p.state(i, &lifecycle);
    let next = match (state.status, state.is_deleted) {
        ("Sending", _) => Lifecycle {
            status: Some("Success"),
            ..lifecycle
        },
        ("Success", false) => Lifecycle {
            deleted: Some(true),
            ..lifecycle
        },
        _ => return None,
    };
    Some((i, next, Changed::Partoo(id)))
}

/// The newest outbound `sent` or `delivered` message moves on (`delivered`, `read`), with
/// a new `updatedAt`. Messages sent through the API are left alone.
fn bird_next(
    b: &BirdConv,
    live: &Live,
    recent: impl Iterator<Item = usize>,
    at: i64,
) -> Option<(usize, Lifecycle, Changed)> {
    recent.filter(|&i| !is_sent(live, i)).find_map(|i| {
        let lifecycle = live.lifecycle(i);
        let summary = b.summary(i, &lifecycle);
        let status = match summary.status {
            _ if summary.inbound => return None,
            "sent" => "delivered",
            "delivered" => "read",
            _ => return None,
        };
        let next = Lifecycle {
            status: Some(status),
            // Later than it last changed, whatever the clock says.
            updated: Some(at.max(summary.updated + 1000)),
            ..lifecycle
        };
        Some((i, next, Changed::Bird(summary.id)))
    })
}

/// Whether message `i` was sent through the API.
fn is_sent(live: &Live, i: usize) -> bool {
    live.edits.get(&i).is_some_and(|e| e.sent.is_some())
}

/// Rewrites the conversation's listing entry from what it holds now: synthetic ones from
/// the seed, with what the seed did not draw (messages sent through the API) taken from
/// the live edits; fixture ones, which only sends and retries change, by setting the
/// fields that follow their last message.
pub(crate) fn relist(conv: &Conv, live: &mut Live) {
    let last = live.len.checked_sub(1);
    let sent = |i: usize| live.edits.get(&i).and_then(|e| e.sent.as_ref());
    let listing = match &conv.source {
        Source::Partoo(p) => {
            let last = last.map(|i| match live.edits.get(&i) {
                Some(edit) => edit.json.clone(),
                None => p.message(i, &Lifecycle::default()),
            });
            p.conversation(live.len, last.as_deref(), |i| sent(i).is_some())
        }
        Source::Bird(b) => {
            let listing = b.conversation(
                live.len,
                |i| live.lifecycle(i),
                live.touched,
                |i| sent(i).map(SentEdit::inbound),
            );
            // The seed's `updatedAt` and `lastMessageIncomingAt` already count sent
            // messages (by their lifecycle and `sent`); only the summary is not drawn.
            match last.and_then(sent) {
                Some(SentEdit::Bird { last_message, .. }) => {
                    patch(&listing, vec![("lastMessage", raw_value(last_message))])
                }
                _ => listing,
            }
        }
        Source::Fixed(_) => {
            let Some(edit) = last.and_then(|i| live.edits.get(&i)) else {
                return;
            };
            let fields = match &edit.sent {
                Some(SentEdit::Bird { .. }) => {
                    let updated = serde_json::from_str::<Value>(live.listing.get())
                        .ok()
                        .and_then(|l| l.get("updatedAt")?.as_str().and_then(time::parse));
                    bird_last_fields(edit, updated)
                }
                // A Partoo send, or a retried message (only Partoo messages are retried).
                Some(SentEdit::Partoo { .. }) | None => {
                    let mut fields = vec![("last_message", raw_value(&edit.json))];
                    if edit.sent.is_some() {
                        fields.push(("has_one_user_message", Value::Bool(true)));
                    }
                    fields
                }
            };
            patch(&live.listing, fields)
        }
    };
    live.listing = listing;
}

/// The fixture Bird listing fields a sent last message sets: `lastMessage`, `updatedAt`
/// (unless `updated`, the entry's, is later), and `lastMessageIncomingAt` when the contact
/// sent it.
fn bird_last_fields(edit: &Edit, updated: Option<time::Instant>) -> Vec<(&'static str, Value)> {
    let Some(SentEdit::Bird {
        last_message,
        inbound,
    }) = &edit.sent
    else {
        return Vec::new();
    };
    let created = Value::String(time::bird_date(time::micros(edit.created)));
    let mut fields = vec![("lastMessage", raw_value(last_message))];
    if updated.is_none_or(|u| u <= edit.created) {
        fields.push(("updatedAt", created.clone()));
    }
    if *inbound {
        fields.push(("lastMessageIncomingAt", created));
    }
    fields
}

fn raw_value(raw: &serde_json::value::RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

/// A listing entry with `fields` set (the entry as it was when it is not an object).
fn patch(
    listing: &serde_json::value::RawValue,
    fields: Vec<(&'static str, Value)>,
) -> Box<serde_json::value::RawValue> {
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(listing.get()) else {
        return listing.to_owned();
    };
    for (key, value) in fields {
        map.insert(key.to_owned(), value);
    }
    crate::generate::raw(&map)
}
