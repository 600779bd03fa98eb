//! Writes from outside a sync (webhooks): idempotent, never regressing, deliveries applied
//! once, rejected bodies kept once, many in one transaction.

use inbox_aggregator::Account;
use inbox_aggregator::model::{Message, Provider};
use inbox_aggregator::partoo::Message as PartooMessage;
use inbox_store::{Counts, Delivery, Ingest, Ingested, MessageQuery, Store, WebhookRejection};
use serde_json::json;

use crate::support::{TempDir, on_both};

fn partoo(id: i64, status: &str, deleted: bool) -> Message {
    partoo_saying(id, status, deleted, "Bonjour")
}

fn partoo_saying(id: i64, status: &str, deleted: bool, text: &str) -> Message {
    let wire = json!({
        "id": id,
        "conversation_id": 7,
        "content": text,
        "content_type": "Text",
        "date": "2023-01-31 16:22:17.327878+00:00",
        "is_automated": false,
        "is_deleted": deleted,
        "sender_label": "Camille",
        "sender_type": "User",
        "status": status,
        "user_id": null,
        "custom_channel": null,
    });
    let wire = PartooMessage::from_slice(wire.to_string().as_bytes()).unwrap();
    Message::from(wire)
}

fn account() -> Account {
    Account::new(Provider::Partoo, "4242")
}

fn messages(messages: Vec<Message>, only_new: bool, delivery: Option<Delivery>) -> Ingest {
    Ingest::Messages {
        account: account(),
        messages,
        only_new,
        delivery,
    }
}

async fn one(store: &Store, write: Ingest) -> Ingested {
    store.ingest(&[write]).await.unwrap()[0]
}

fn counts(done: Ingested) -> Counts {
    match done {
        Ingested::Applied(counts) => counts,
        other => panic!("not applied: {other:?}"),
    }
}

async fn rows(store: &Store) -> Vec<(String, String, i64)> {
    use futures_util::TryStreamExt;
    store
        .messages(MessageQuery::new())
        .map_ok(|m| (m.id, m.status, m.revision))
        .try_collect()
        .await
        .unwrap()
}

on_both! {
async fn a_late_created_event_never_takes_a_message_back_and_replays_change_nothing(db: Db) {
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let sending = partoo(1, "Sending", false);
    let success = partoo(1, "Success", false);
    // message_updated (Success) arrives before message_created (Sending).
    let updated = counts(one(&store, messages(vec![success.clone()], false, None)).await);
    assert_eq!(updated.new, 1);
    let created = counts(one(&store, messages(vec![sending.clone()], true, None)).await);
    assert_eq!((created.new, created.unchanged), (0, 1));
    // An upsert of the older state is refused by the lifecycle too.
    let again = counts(one(&store, messages(vec![sending], false, None)).await);
    assert_eq!(again.unchanged, 1);
    let status = rows(&store).await[0].1.clone();
    // The same delivery twice (Partoo's retries): one row, one revision.
    one(&store, messages(vec![success], false, None)).await;
    assert_eq!(rows(&store).await, [("1".into(), status, 1)]);
    // A deletion is newer than anything.
    let deleted = counts(
        one(
            &store,
            messages(vec![partoo(1, "Success", true)], false, None),
        )
        .await,
    );
    assert_eq!(deleted.updated, 1);
    assert_eq!(rows(&store).await[0].2, 2);
}
}

on_both! {
async fn a_batch_commits_together_deliveries_apply_once_and_rejected_bodies_are_kept_once(db: Db) {
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let delivery = Delivery {
        provider: "bird".into(),
        id: "evt-1".into(),
        event_type: Some("conversation.updated".into()),
    };
    let rejection = WebhookRejection {
        provider: "partoo".into(),
        event_type: Some("message_created".into()),
        path: "payload.message.date".into(),
        message: "not a timestamp".into(),
        raw: r#"{"type":"message_created","payload":{"message":{"date":"soon"}}}"#.into(),
    };
    let batch = vec![
        messages(
            vec![partoo(2, "Success", false)],
            false,
            Some(delivery.clone()),
        ),
        messages(
            vec![partoo(3, "Success", false)],
            false,
            Some(delivery.clone()),
        ),
        Ingest::Rejected(rejection.clone()),
        Ingest::Rejected(rejection.clone()),
        messages(vec![partoo(4, "Success", false)], true, None),
    ];
    let done = store.ingest(&batch).await.unwrap();
    assert_eq!(done.len(), 5);
    assert_eq!(counts(done[0]).new, 1);
    assert_eq!(
        done[1],
        Ingested::Duplicate,
        "the same delivery in one batch"
    );
    assert_eq!(counts(done[4]).new, 1);
    let ids: Vec<String> = rows(&store).await.into_iter().map(|(id, ..)| id).collect();
    assert_eq!(ids, ["2", "4"]);
    // Seen again in a later batch: acknowledged, not applied.
    assert_eq!(
        one(
            &store,
            messages(vec![partoo(5, "Success", false)], false, Some(delivery))
        )
        .await,
        Ingested::Duplicate
    );
    let kept = store.webhook_rejected(10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].path, rejection.path);
    assert_eq!(kept[0].raw, rejection.raw);
    assert_eq!(kept[0].event_type, rejection.event_type);
}
}

on_both! {
async fn one_batch_holding_a_message_in_several_states_and_many_messages_applies_each_in_order(db: Db) {
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    // Messages 1..=300 in one write: more than one multi-row statement holds.
    let many: Vec<Message> = (1..=300).map(|id| partoo(id, "Success", false)).collect();
    let batch = vec![
        messages(vec![partoo(1000, "Sending", false)], false, None),
        messages(
            vec![
                partoo(1000, "Success", false),
                // Older than what precedes it in the same write: refused.
                partoo(1000, "Sending", false),
                partoo(1000, "Success", true),
            ],
            false,
            None,
        ),
        // A late "created" in the same batch leaves the message as it is.
        messages(vec![partoo(1000, "Sending", false)], true, None),
        messages(many, false, None),
        messages(vec![partoo(7, "Success", true)], false, None),
    ];
    let done = store.ingest(&batch).await.unwrap();
    let c: Vec<Counts> = done.into_iter().map(counts).collect();
    assert_eq!((c[0].new, c[0].updated, c[0].unchanged), (1, 0, 0));
    assert_eq!((c[1].new, c[1].updated, c[1].unchanged), (0, 2, 1));
    assert_eq!((c[2].new, c[2].unchanged), (0, 1));
    assert_eq!(c[3].new, 300);
    assert_eq!(c[4].updated, 1);
    let stored = rows(&store).await;
    assert_eq!(stored.len(), 301);
    let of = |id: &str| stored.iter().find(|(i, ..)| i == id).cloned().unwrap();
    // Sending → Success → deleted: revision 3.
    assert_eq!(of("1000").2, 3);
    assert_eq!(of("7").2, 2);
    assert_eq!(of("300").2, 1);
}
}

on_both! {
async fn a_search_finds_every_word_in_any_order_without_accents_and_syntax_is_text(db: Db) {
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let said = [
        (1, "Bonjour, ma commande n°12 est-elle prête ?"),
        (2, "La commande est partie hier"),
        (3, "Merci beaucoup !"),
    ];
    let written = messages(
        said.iter()
            .map(|(id, text)| partoo_saying(*id, "Success", false, text))
            .collect(),
        false,
        None,
    );
    store.ingest(&[written]).await.unwrap();
    let ids = |hits: Vec<inbox_store::SearchHit>| {
        let mut ids: Vec<String> = hits.into_iter().map(|h| h.message.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(store.search("commande", 10).await.unwrap()), ["1", "2"]);
    assert_eq!(ids(store.search("PRETE commande", 10).await.unwrap()), ["1"]);
    assert_eq!(ids(store.search("merci", 10).await.unwrap()), ["3"]);
    // Words a query language would read as operators are words here.
    assert!(store.search("commande OR merci", 10).await.unwrap().is_empty());
    assert!(store.search("\"(*", 10).await.unwrap().is_empty());
    assert_eq!(store.search("commande", 1).await.unwrap().len(), 1);
}
}

#[tokio::test]
async fn a_long_open_store_sees_what_another_one_commits_between_its_checkpoints() {
    let dir = TempDir::new("snapshot");
    let path = dir.db("inbox.db");
    let reader = Store::open_with(
        &path,
        inbox_store::OpenOptions::default()
            .checkpoint_every(Some(std::time::Duration::from_millis(5))),
    )
    .await
    .unwrap();
    let writer = Store::open(&path).await.unwrap();
    for id in 1..=40 {
        one(
            &writer,
            messages(vec![partoo(id, "Success", false)], false, None),
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(12)).await;
        assert_eq!(
            reader.messages_count().await.unwrap(),
            u64::try_from(id).unwrap(),
            "a read after the commit sees it"
        );
    }
}

on_both! {
async fn a_held_writer_commits_each_batch_as_it_goes_and_gives_the_connection_back(db: Db) {
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let delivery = Delivery {
        provider: "partoo".into(),
        id: "evt-9".into(),
        event_type: Some("message_created".into()),
    };
    let mut writer = store.writer().await.unwrap();
    let first = writer
        .ingest(&[messages(vec![partoo(1, "Success", false)], true, Some(delivery.clone()))])
        .await
        .unwrap();
    assert_eq!(counts(first[0]).new, 1);
    // Committed before the next batch, though the connection is still held: readers see
    // it, and the same delivery in the next batch is a duplicate.
    assert_eq!(rows(&store).await, [("1".into(), "sent".into(), 1)]);
    let second = writer
        .ingest(&[
            messages(vec![partoo(2, "Success", false)], true, Some(delivery)),
            messages(vec![partoo(3, "Success", false)], true, None),
        ])
        .await
        .unwrap();
    assert_eq!(second[0], Ingested::Duplicate);
    assert_eq!(counts(second[1]).new, 1);
    drop(writer);
    // The connection went back to the store: its own writes go on.
    one(&store, messages(vec![partoo(4, "Success", false)], true, None)).await;
    let ids: Vec<String> = rows(&store).await.into_iter().map(|(id, ..)| id).collect();
    assert_eq!(ids, ["1", "3", "4"]);
}
}

/// SQLite only: there the store has one writing connection, which a held writer keeps from
/// the rest of the process (on PostgreSQL it is one connection of the pool).
#[tokio::test]
async fn a_held_writer_hears_another_write_waiting_which_goes_on_once_it_is_dropped() {
    let db = crate::support::Db::sqlite("held_writer_waiting");
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let mut writer = store.writer().await.unwrap();
    assert!(!writer.others_waiting());
    writer
        .ingest(&[messages(vec![partoo(1, "Success", false)], true, None)])
        .await
        .unwrap();
    let other = store.clone();
    let waiting = tokio::spawn(async move {
        other
            .ingest(&[messages(vec![partoo(2, "Success", false)], true, None)])
            .await
    });
    let mut polls = 0;
    while !writer.others_waiting() {
        polls += 1;
        assert!(
            polls < 5_000,
            "the other write never queued for the connection"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    assert!(
        !waiting.is_finished(),
        "it cannot write while the connection is held"
    );
    drop(writer);
    let done = waiting.await.unwrap().unwrap();
    assert_eq!(counts(done[0]).new, 1);
    let ids: Vec<String> = rows(&store).await.into_iter().map(|(id, ..)| id).collect();
    assert_eq!(ids, ["1", "2"]);
}
