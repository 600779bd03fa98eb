//! The outbox against the emulator: written first, sent once, found again after an answer
//! lost, refused with a typed error and nothing sent.

use std::time::Duration;

use inbox_aggregator::model::ConversationId;
use inbox_aggregator::{Draft, MediaDraft, Refusal, SendError};
use inbox_emulator::{Config, Dataset, Emulator, SendFaults};
use inbox_store::{MessageQuery, Outbox, OutboxError, OutboxOptions, OutboxStatus, Store};

use crate::support::{inbox, on_both};

fn config(send_faults: SendFaults) -> Config {
    Config {
        dataset: Dataset::Synthetic {
            // Enough for SMS conversations (one Partoo conversation in ten) and closed ones.
            partoo_conversations: 30,
            bird_conversations: 6,
            messages_per_conversation: 3..=12,
        },
        send_faults,
        ..Config::default()
    }
}

/// Sends what is due until nothing is left (or a minute went by).
async fn drain(outbox: &Outbox) {
    let started = std::time::Instant::now();
    while outbox.unsettled().await.unwrap() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the outbox never drained"
        );
        if outbox.send_due().await.unwrap().leased == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A Partoo conversation that is not on SMS, and a Bird one that is not closed.
fn open_conversations(emulator: &Emulator) -> (ConversationId, ConversationId) {
    let sms = emulator.sms_partoo_conversations(0);
    let closed = emulator.closed_bird_conversations(0);
    let p = emulator
        .partoo_conversation_ids()
        .into_iter()
        .find(|id| !sms.contains(id))
        .unwrap();
    let b = emulator
        .bird_conversation_ids()
        .into_iter()
        .find(|id| !closed.contains(id))
        .unwrap();
    (ConversationId::Partoo(p), ConversationId::Bird(b.into()))
}

on_both! {
async fn sends_are_written_first_then_sent_once_in_order_and_mirrored_as_pending(db: Db) {
    let emulator = Emulator::start(config(SendFaults::default())).await.unwrap();
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let outbox = Outbox::new(store.clone(), inbox(&emulator));
    let (p, b) = open_conversations(&emulator);
    let mut ids = Vec::new();
    for text in ["first", "second", "third"] {
        ids.push(outbox.send("partoo", &p, Draft::text(text)).await.unwrap());
    }
    ids.push(outbox.send("bird", &b, Draft::text("hello bird")).await.unwrap());
    let image = MediaDraft::new("https://cdn.example/photo.png").size(1_000);
    ids.push(outbox.send("bird", &b, Draft::Image(image)).await.unwrap());
    // Written, not sent.
    let pending = store.outbox_entries(&[OutboxStatus::Pending], 100).await.unwrap();
    assert_eq!(pending.len(), 5);
    assert!(emulator.sent().is_empty());

    drain(&outbox).await;
    let sent = emulator.sent();
    assert_eq!(sent.len(), 5, "{sent:#?}");
    let partoo_texts: Vec<&str> = sent
        .iter()
        .filter(|s| s.provider == "partoo")
        .map(|s| s.content.as_str())
        .collect();
    assert_eq!(partoo_texts, ["first", "second", "third"], "in the order written");
    let entries = store.outbox_entries(&[], 100).await.unwrap();
    assert!(entries.iter().all(|e| e.status == OutboxStatus::Sent && e.attempts == 1));
    for (entry, id) in entries.iter().zip(&ids) {
        assert_eq!(&entry.id, id);
        let at = sent
            .iter()
            .find(|s| Some(&s.message_id) == entry.message_id.as_ref())
            .expect("its message id is the provider's");
        if at.provider == "bird" {
            assert_eq!(at.reference.as_deref(), Some(id.as_str()), "Bird keeps the outbox id");
        }
    }
    // In the mirror at once, outbound and pending; a sync then brings the provider's own.
    let stored = store.messages_count().await.unwrap();
    assert_eq!(stored, 5);
    let mut query = MessageQuery::new();
    query.provider = Some("partoo".into());
    let messages = futures_util::TryStreamExt::try_collect::<Vec<_>>(store.messages(query))
        .await
        .unwrap();
    assert!(messages.iter().all(|m| m.direction == "outbound" && m.status == "pending"), "{messages:#?}");
    let report = store
        .sync(&inbox(&emulator), crate::support::everything(), &inbox_store::SyncOptions::default())
        .await
        .unwrap();
    assert!(report.failures.is_empty());
    assert_eq!(store.messages_count().await.unwrap() as usize, emulator.message_count());
    store.close().await;
}
}

on_both! {
async fn an_answer_lost_after_acceptance_is_found_at_the_provider_not_sent_again(db: Db) {
    let emulator = Emulator::start(config(SendFaults {
        timeout_after_accept: 1.0,
        delivery_failure: 0.0,
    }))
    .await
    .unwrap();
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let options = OutboxOptions::default()
        .lease(Duration::from_millis(1200))
        .backoff(Duration::from_millis(10))
        .lookup_delay(Duration::from_millis(50));
    let outbox = Outbox::new(store.clone(), inbox(&emulator)).with_options(options);
    let (p, b) = open_conversations(&emulator);
    // Twice the same text into one conversation: each finds its own message, not the other's.
    outbox.send("partoo", &p, Draft::text("same words")).await.unwrap();
    outbox.send("partoo", &p, Draft::text("same words")).await.unwrap();
    outbox.send("bird", &b, Draft::text("same words")).await.unwrap();
    drain(&outbox).await;
    let sent = emulator.sent();
    assert_eq!(sent.len(), 3, "each accepted once, though no answer ever came: {sent:#?}");
    let entries = store.outbox_entries(&[], 100).await.unwrap();
    let mut ids: Vec<_> = entries.iter().filter_map(|e| e.message_id.clone()).collect();
    assert!(entries.iter().all(|e| e.status == OutboxStatus::Sent && e.attempts == 2), "{entries:#?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "two sends of the same words found two messages");
    assert_eq!(emulator.stats().send_timeouts, 3);
    store.close().await;
}
}

on_both! {
async fn refusals_are_typed_and_send_nothing(db: Db) {
    let emulator = Emulator::start(config(SendFaults::default())).await.unwrap();
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let inbox = inbox(&emulator);
    let outbox = Outbox::new(store.clone(), inbox.clone());
    let (p, b) = open_conversations(&emulator);

    // Refused before anything is written: a file over its limit, an empty text, a template
    // to Partoo, a source that reads the other provider.
    let big = Draft::Image(MediaDraft::new("https://cdn.example/big.jpg").size(6 * 1024 * 1024));
    for (source, conversation, draft) in [
        ("partoo", &p, big.clone()),
        ("bird", &b, Draft::text("  ")),
        ("partoo", &b, Draft::text("wrong provider")),
    ] {
        let refused = outbox.send(source, conversation, draft).await;
        assert!(matches!(refused, Err(OutboxError::Invalid(SendError::Invalid(_)))), "{refused:?}");
    }
    assert!(store.outbox_entries(&[], 100).await.unwrap().is_empty());
    // The same checks through the inbox directly.
    let refused = inbox.send("partoo", &p, &big, "ref").await.unwrap_err();
    assert!(refused.to_string().contains("5242880-byte limit"), "{refused}");

    // Refused by what the conversation is: media into SMS (Partoo reads the conversation
    // first), text into a closed Bird conversation (Bird's 409).
    let sms = ConversationId::Partoo(emulator.sms_partoo_conversations(0)[0]);
    let closed = ConversationId::Bird(emulator.closed_bird_conversations(0)[0].as_str().into());
    let photo = Draft::Image(MediaDraft::new("https://cdn.example/p.jpg"));
    match inbox.send("partoo", &sms, &photo, "ref").await {
        Err(SendError::Invalid(why)) => assert!(why.contains("SMS"), "{why}"),
        other => panic!("{other:?}"),
    }
    match inbox.send("bird", &closed, &Draft::text("hello?"), "ref").await {
        Err(SendError::Refused {
            status: 409,
            reason: Refusal::Closed,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // Through the outbox, they fail for good with what they mean.
    outbox.send("partoo", &sms, photo).await.unwrap();
    outbox.send("bird", &closed, Draft::text("hello?")).await.unwrap();
    drain(&outbox).await;
    let failed = store.outbox_entries(&[OutboxStatus::Failed], 100).await.unwrap();
    let refusals: Vec<_> = failed.iter().map(|e| e.refusal.clone().unwrap_or_default()).collect();
    assert_eq!(refusals, ["invalid", "closed"], "{failed:#?}");
    assert!(failed.iter().all(|e| e.attempts == 1 && !e.uncertain));
    assert!(emulator.sent().is_empty(), "nothing was sent");
    assert_eq!(store.messages_count().await.unwrap(), 0);
    store.close().await;
}
}

#[tokio::test]
async fn bird_s_own_422_is_typed_with_its_paths() {
    let emulator = Emulator::start(config(SendFaults::default()))
        .await
        .unwrap();
    let c = emulator.config();
    let client = bird_client_for(&emulator, &c.bird_key, &c.bird_workspace);
    let (_, b) = open_conversations(&emulator);
    let ConversationId::Bird(id) = b else {
        unreachable!()
    };
    // Unchecked, as another client might send it.
    let empty = inbox_aggregator::bird::SendMessage::text("");
    let err = client.send_message_attempt(&id, &empty).await.unwrap_err();
    let inbox_aggregator::bird::Error::Rejected(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status, 422);
    let fields = api.body.as_ref().unwrap().invalid_fields();
    assert!(
        fields.iter().any(|(path, _)| path == ".body.text.text"),
        "{fields:?}"
    );
    match SendError::from_client(err, inbox_aggregator::bird::ErrorBody::invalid_fields) {
        SendError::Refused {
            reason: Refusal::InvalidPayload { fields },
            ..
        } => assert!(!fields.is_empty()),
        other => panic!("{other:?}"),
    }
    assert!(emulator.sent().is_empty());
}

fn bird_client_for(
    emulator: &Emulator,
    key: &str,
    workspace: &str,
) -> inbox_aggregator::bird::Client {
    inbox_aggregator::bird::Client::builder(key, workspace)
        .base_url(&emulator.bird_base_url())
        .build()
        .unwrap()
}

on_both! {
async fn rows_of_sources_a_sender_lacks_neither_block_it_nor_are_touched(db: Db) {
    let emulator = Emulator::start(config(SendFaults::default())).await.unwrap();
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let (p, _) = open_conversations(&emulator);
    // Another account's sender ("other") wrote many due rows, one conversation each.
    let c = emulator.config();
    let other = inbox_aggregator::Inbox::builder()
        .source(inbox_aggregator::PartooSource::new(
            inbox_aggregator::partoo::Client::builder(c.partoo_key.as_str())
                .base_url(&emulator.partoo_base_url())
                .build()
                .unwrap(),
        ).named("other"))
        .build()
        .unwrap();
    let theirs = Outbox::new(store.clone(), other);
    for n in 0..300 {
        let conversation = ConversationId::Partoo(1_000_000 + n);
        theirs.send("other", &conversation, Draft::text("theirs")).await.unwrap();
    }
    let ours = Outbox::new(store.clone(), inbox(&emulator));
    ours.send("partoo", &p, Draft::text("ours")).await.unwrap();
    assert_eq!(ours.unsettled().await.unwrap(), 1, "only its own rows count");
    drain(&ours).await;
    let sent = emulator.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].content, "ours");
    let left = store.outbox_entries(&[OutboxStatus::Pending], 1000).await.unwrap();
    assert_eq!(left.len(), 300, "the other source's rows are left as they were");
    assert!(left.iter().all(|e| e.attempts == 0 && e.source == "other"));
    store.close().await;
}
}
