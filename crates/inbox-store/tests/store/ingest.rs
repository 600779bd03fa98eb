//! Writes from outside a sync (webhooks): idempotent, never regressing, deliveries applied
//! once, rejected bodies kept once.

use inbox_aggregator::Account;
use inbox_aggregator::model::{Message, Provider};
use inbox_aggregator::partoo::Message as PartooMessage;
use inbox_store::{Delivery, MessageQuery, Store, WebhookRejection};
use serde_json::json;

use crate::support::TempDir;

fn partoo(id: i64, status: &str, deleted: bool) -> Message {
    let wire = json!({
        "id": id,
        "conversation_id": 7,
        "content": "Bonjour",
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

async fn rows(store: &Store) -> Vec<(String, String, i64)> {
    use futures_util::TryStreamExt;
    store
        .messages(MessageQuery::new())
        .map_ok(|m| (m.id, m.status, m.revision))
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_late_created_event_never_takes_a_message_back_and_replays_change_nothing() {
    let dir = TempDir::new("ingest-order");
    let store = Store::open(&dir.db("inbox.db")).await.unwrap();
    let sending = partoo(1, "Sending", false);
    let success = partoo(1, "Success", false);
    // message_updated (Success) arrives before message_created (Sending).
    let updated = store
        .upsert_messages(&account(), std::slice::from_ref(&success), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.new, 1);
    let created = store
        .insert_new_messages(&account(), std::slice::from_ref(&sending), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((created.new, created.unchanged), (0, 1));
    // An upsert of the older state is refused by the lifecycle too.
    let again = store
        .upsert_messages(&account(), std::slice::from_ref(&sending), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.unchanged, 1);
    let success_status = rows(&store).await[0].1.clone();
    // The same delivery twice (Partoo's retries): one row, one revision.
    store
        .upsert_messages(&account(), std::slice::from_ref(&success), None)
        .await
        .unwrap();
    assert_eq!(
        rows(&store).await,
        [("1".into(), success_status.clone(), 1)]
    );
    // A deletion is newer than anything.
    let deleted = partoo(1, "Success", true);
    let counts = store
        .upsert_messages(&account(), &[deleted], None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counts.updated, 1);
    assert_eq!(rows(&store).await[0].2, 2);
}

#[tokio::test]
async fn a_delivery_is_applied_once_and_a_rejected_body_kept_once() {
    let dir = TempDir::new("ingest-delivery");
    let store = Store::open(&dir.db("inbox.db")).await.unwrap();
    let delivery = Delivery {
        provider: "bird",
        id: "evt-1",
        event_type: Some("conversation.updated"),
    };
    let message = partoo(2, "Success", false);
    assert!(
        store
            .upsert_messages(&account(), std::slice::from_ref(&message), Some(delivery))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .upsert_messages(&account(), &[message], Some(delivery))
            .await
            .unwrap()
            .is_none(),
        "seen before: acknowledged, not applied"
    );
    let rejection = WebhookRejection {
        provider: "partoo",
        event_type: Some("message_created"),
        path: "payload.message.date",
        message: "not a timestamp",
        raw: r#"{"type":"message_created","payload":{"message":{"date":"soon"}}}"#,
    };
    store.reject_webhook(rejection).await.unwrap();
    store.reject_webhook(rejection).await.unwrap();
    let kept = store.webhook_rejected(10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].path, "payload.message.date");
    assert_eq!(kept[0].raw, rejection.raw);
    assert_eq!(kept[0].event_type.as_deref(), Some("message_created"));
}
