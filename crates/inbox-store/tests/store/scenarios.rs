//! What a provider does that a plain dataset does not, on wiremock: pages that repeat or
//! shift, timestamps shared across a page boundary, a message that changes after it was
//! stored (and an older state seen later), conversations that vanish, pages that fail,
//! items that do not decode, and Partoo's newest-first walk stopping at its checkpoint.

use std::time::Duration;

use inbox_aggregator::{
    BirdSource, Inbox, PartooSource, RetryPolicy, SourceLimits, Target, Timestamp,
};
use inbox_store::{MessageQuery, Store, SyncOptions, SyncReport};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::on_both;

const WS: &str = "ws-1";
const CONV: &str = "c0a80001-6b1e-4d3f-8e2a-5f9c00000001";

fn at(minute: u32, second: u32) -> String {
    format!("2024-11-25T20:{minute:02}:{second:02}.000Z")
}

fn bird_message(id: &str, created: &str, status: &str, updated: &str) -> Value {
    json!({
        "id": id,
        "conversationId": CONV,
        "body": {"type": "text", "text": {"text": format!("message {id}")}},
        "sender": {"id": "p-1", "type": "contact", "displayName": "Jane Roe"},
        "draft": false,
        "status": status,
        "source": "conversations",
        "createdAt": created,
        "updatedAt": updated,
    })
}

fn bird_conversation(id: &str, last: (&str, &str), updated: &str) -> Value {
    json!({
        "id": id,
        "status": "active",
        "createdAt": at(0, 0),
        "updatedAt": updated,
        "lastMessage": {"id": last.0, "createdAt": last.1, "preview": {"text": "…"}},
    })
}

fn page(results: Vec<Value>, next: Option<&str>) -> ResponseTemplate {
    let mut body = json!({ "results": results });
    if let Some(next) = next {
        body["nextPageToken"] = json!(next);
    }
    ResponseTemplate::new(200).set_body_json(body)
}

fn messages_path(conversation: &str) -> String {
    format!("/workspaces/{WS}/conversations/{conversation}/messages")
}

/// Mounts Bird's listing of `conversations` (one page), replacing any listing before it.
async fn list_bird(server: &MockServer, conversations: Vec<Value>) {
    Mock::given(method("GET"))
        .and(path(format!("/workspaces/{WS}/conversations")))
        .respond_with(page(conversations, None))
        .mount(server)
        .await;
}

/// A mock server with no catch-all: a later mount of the same route wins, so a test can
/// change what the provider says between syncs by resetting and mounting again.
async fn bird_server() -> MockServer {
    MockServer::start().await
}

fn bird_inbox(server: &MockServer, retry: RetryPolicy) -> Inbox {
    let client = inbox_aggregator::bird::Client::builder("bird-key", WS)
        .base_url(&server.uri())
        .build()
        .unwrap();
    Inbox::builder()
        .source(BirdSource::new(client).limits(SourceLimits::new(4, None)))
        .retry(retry)
        .build()
        .unwrap()
}

fn everything() -> Vec<Target> {
    vec![Target::all("bird")]
}

async fn sync(store: &Store, inbox: &Inbox, options: &SyncOptions) -> SyncReport {
    store.sync(inbox, everything(), options).await.unwrap()
}

async fn stored(store: &Store) -> Vec<(String, String, i64)> {
    use futures_util::TryStreamExt;
    store
        .messages(MessageQuery::new())
        .map_ok(|m| (m.id, m.status, m.revision))
        .try_collect()
        .await
        .unwrap()
}

/// The `dateFrom` of every message request the server received, in order.
async fn date_froms(server: &MockServer) -> Vec<Option<Timestamp>> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with("/messages"))
        .map(|r: &Request| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "dateFrom")
                .map(|(_, v)| Timestamp::parse(&v).unwrap())
        })
        .collect()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

on_both! {
async fn pages_that_repeat_or_shift_store_each_message_once(db: Db) {
    let server = bird_server().await;
    list_bird(
        &server,
        vec![bird_conversation(CONV, ("m5", &at(5, 0)), &at(5, 0))],
    )
    .await;
    let m = |n: u32| bird_message(&format!("m{n}"), &at(n, 0), "delivered", &at(n, 0));
    // A message arrived while the walk was paging: the second page starts with the last
    // of the first, and the third repeats the second whole.
    Mock::given(method("GET"))
        .and(path(messages_path(CONV)))
        .and(query_param_is_missing("pageToken"))
        .respond_with(page(vec![m(1), m(2), m(3)], Some("p2")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(messages_path(CONV)))
        .and(query_param("pageToken", "p2"))
        .respond_with(page(vec![m(3), m(4)], Some("p3")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(messages_path(CONV)))
        .and(query_param("pageToken", "p3"))
        .respond_with(page(vec![m(3), m(4), m(5)], None))
        .mount(&server)
        .await;
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let report = sync(
        &store,
        &bird_inbox(&server, RetryPolicy::none()),
        &SyncOptions::default(),
    )
    .await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let total = report.total();
    assert_eq!(total.new, 5);
    assert_eq!(total.updated, 0);
    let ids: Vec<String> = stored(&store)
        .await
        .into_iter()
        .map(|(id, ..)| id)
        .collect();
    assert_eq!(ids, ["m1", "m2", "m3", "m4", "m5"]);
    let runs = store.runs(1).await.unwrap();
    assert_eq!(runs[0].counts.new, 5);
    assert_eq!(runs[0].counts.unchanged, total.unchanged);
}
}

on_both! {
async fn messages_sharing_a_timestamp_across_a_page_boundary_are_never_skipped(db: Db) {
    let server = bird_server().await;
    let t = at(2, 0);
    list_bird(&server, vec![bird_conversation(CONV, ("m3", &t), &t)]).await;
    let first = [
        bird_message("m1", &at(1, 0), "delivered", &at(1, 0)),
        bird_message("m2", &t, "delivered", &t),
    ];
    // m2 and m3 share a timestamp and straddle the page boundary.
    Mock::given(method("GET"))
        .and(path(messages_path(CONV)))
        .and(query_param_is_missing("pageToken"))
        .and(query_param_is_missing("dateFrom"))
        .respond_with(page(first.to_vec(), Some("p2")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(messages_path(CONV)))
        .and(query_param("pageToken", "p2"))
        .respond_with(page(vec![bird_message("m3", &t, "delivered", &t)], None))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let inbox = bird_inbox(&server, RetryPolicy::none());
    let exact = SyncOptions::default().overlap(Duration::ZERO);
    let report = sync(&store, &inbox, &exact).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.total().new, 3);
    let checkpoint = &store.checkpoints().await.unwrap()[0];
    assert_eq!(
        checkpoint.at,
        Some((ts(&t).unix_nanos() as i64, "m3".to_owned()))
    );

    // A fourth message with the very same timestamp (an id that sorts before m3's):
    // with no overlap at all, the next read must still start before that instant.
    server.reset().await;
    list_bird(&server, vec![bird_conversation(CONV, ("m0", &t), &t)]).await;
    Mock::given(method("GET"))
        .and(path(messages_path(CONV)))
        .and(query_param_is_missing("pageToken"))
        .respond_with(move |r: &Request| {
            // What a provider filtering on "created after dateFrom" returns.
            let from = r
                .url
                .query_pairs()
                .find(|(k, _)| k == "dateFrom")
                .map(|(_, v)| Timestamp::parse(&v).unwrap());
            let all = [
                bird_message("m1", &at(1, 0), "delivered", &at(1, 0)),
                bird_message("m2", &at(2, 0), "delivered", &at(2, 0)),
                bird_message("m0", &at(2, 0), "delivered", &at(2, 0)),
                bird_message("m3", &at(2, 0), "delivered", &at(2, 0)),
            ];
            let kept = all
                .into_iter()
                .filter(|m| from.is_none_or(|from| ts(m["createdAt"].as_str().unwrap()) > from))
                .collect();
            page(kept, None)
        })
        .mount(&server)
        .await;
    let report = sync(&store, &inbox, &exact).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let froms = date_froms(&server).await;
    assert_eq!(froms.len(), 1, "one page read");
    let from = froms[0].expect("an incremental read names dateFrom");
    assert!(
        from < ts(&t),
        "dateFrom {from:?} is before the checkpoint's instant"
    );
    assert_eq!(report.total().new, 1, "m0 is read");
    assert_eq!(report.total().unchanged, 2, "m2 and m3 again");
    let ids: Vec<String> = stored(&store)
        .await
        .into_iter()
        .map(|(id, ..)| id)
        .collect();
    assert_eq!(ids, ["m1", "m0", "m2", "m3"]);
}
}

on_both! {
async fn a_message_changed_after_it_was_stored_is_updated_and_an_older_state_never_wins(db: Db) {
    let server = bird_server().await;
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let inbox = bird_inbox(&server, RetryPolicy::none());
    let states = [
        // (what the message says, the conversation's updatedAt)
        (("accepted", at(1, 0)), at(1, 0)),
        (("delivered", at(3, 0)), at(3, 0)),
        // An older state seen later (a lagging replica, a retried page).
        (("accepted", at(1, 0)), at(4, 0)),
    ];
    let mut updated = Vec::new();
    for ((status, message_updated), conversation_updated) in &states {
        server.reset().await;
        list_bird(
            &server,
            vec![bird_conversation(
                CONV,
                ("m1", &at(1, 0)),
                conversation_updated,
            )],
        )
        .await;
        Mock::given(method("GET"))
            .and(path(messages_path(CONV)))
            .respond_with(page(
                vec![
                    bird_message("m1", &at(1, 0), status, message_updated),
                    bird_message("m2", &at(0, 30), "read", &at(0, 30)),
                ],
                None,
            ))
            .mount(&server)
            .await;
        let report = sync(&store, &inbox, &SyncOptions::default()).await;
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        // The last message did not change but the marker did: the conversation is read
        // whole, from its start, since the change may be anywhere in it.
        assert_eq!(date_froms(&server).await, [None]);
        updated.push((
            report.total().new,
            report.total().updated,
            report.total().unchanged,
        ));
    }
    assert_eq!(updated, [(2, 0, 0), (0, 1, 1), (0, 0, 2)]);
    let rows = stored(&store).await;
    assert_eq!(
        rows,
        [
            ("m2".to_owned(), "read".to_owned(), 1),
            ("m1".to_owned(), "delivered".to_owned(), 2)
        ]
    );
}
}

on_both! {
async fn a_conversation_that_vanished_is_kept_and_marked_but_not_after_an_incomplete_listing(db: Db) {
    let server = bird_server().await;
    let other = "c0a80002-6b1e-4d3f-8e2a-5f9c00000002";
    let both = vec![
        bird_conversation(CONV, ("m1", &at(1, 0)), &at(1, 0)),
        bird_conversation(other, ("n1", &at(2, 0)), &at(2, 0)),
    ];
    list_bird(&server, both).await;
    let mut n1 = bird_message("n1", &at(2, 0), "read", &at(2, 0));
    n1["conversationId"] = json!(other);
    Mock::given(method("GET"))
        .and(path(messages_path(CONV)))
        .respond_with(page(
            vec![bird_message("m1", &at(1, 0), "read", &at(1, 0))],
            None,
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(messages_path(other)))
        .respond_with(page(vec![n1], None))
        .mount(&server)
        .await;
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let inbox = bird_inbox(&server, RetryPolicy::none());
    sync(&store, &inbox, &SyncOptions::default()).await;

    // The listing's second page fails: what it would have held is unknown, nothing is marked.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path(format!("/workspaces/{WS}/conversations")))
        .and(query_param_is_missing("pageToken"))
        .respond_with(page(
            vec![bird_conversation(CONV, ("m1", &at(1, 0)), &at(1, 0))],
            Some("l2"),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/workspaces/{WS}/conversations")))
        .and(query_param("pageToken", "l2"))
        .respond_with(ResponseTemplate::new(500).set_body_string("{}"))
        .mount(&server)
        .await;
    let report = sync(&store, &inbox, &SyncOptions::default()).await;
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert_eq!(report.total().vanished, 0);
    assert!(
        store
            .conversations()
            .await
            .unwrap()
            .iter()
            .all(|c| !c.vanished)
    );

    // A complete listing without it: kept, with its messages, and marked.
    server.reset().await;
    list_bird(
        &server,
        vec![bird_conversation(CONV, ("m1", &at(1, 0)), &at(1, 0))],
    )
    .await;
    let report = sync(&store, &inbox, &SyncOptions::default()).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.total().vanished, 1);
    let conversations = store.conversations().await.unwrap();
    let gone = conversations.iter().find(|c| c.id == other).unwrap();
    assert!(gone.vanished);
    assert_eq!(gone.messages, 1);
    assert!(
        !conversations
            .iter()
            .find(|c| c.id == CONV)
            .unwrap()
            .vanished
    );
    assert_eq!(store.messages_count().await.unwrap(), 2);
}
}

on_both! {
async fn a_failed_page_holds_the_checkpoint_back_and_the_next_sync_reads_it_again(db: Db) {
    let server = bird_server().await;
    list_bird(
        &server,
        vec![bird_conversation(CONV, ("m4", &at(4, 0)), &at(4, 0))],
    )
    .await;
    let m = |n: u32| bird_message(&format!("m{n}"), &at(n, 0), "read", &at(n, 0));
    Mock::given(method("GET"))
        .and(path(messages_path(CONV)))
        .and(query_param_is_missing("pageToken"))
        .respond_with(page(vec![m(1), m(2)], Some("p2")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(messages_path(CONV)))
        .and(query_param("pageToken", "p2"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down"))
        .mount(&server)
        .await;
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let inbox = bird_inbox(&server, RetryPolicy::none());
    let options = SyncOptions::default().overlap(Duration::from_secs(30));
    let report = sync(&store, &inbox, &options).await;
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert_eq!(report.total().new, 2);
    let checkpoint = &store.checkpoints().await.unwrap()[0];
    // The first page was committed with the checkpoint it earned, no further; the walk is
    // not complete, so the next listing does not skip it.
    assert_eq!(
        checkpoint.at.as_ref().map(|(_, id)| id.as_str()),
        Some("m2")
    );
    assert!(!checkpoint.complete);
    let runs = store.runs(1).await.unwrap();
    assert_eq!(runs[0].counts.failures, 1);
    assert!(
        runs[0]
            .failure_summary
            .as_deref()
            .unwrap_or("")
            .contains("503")
    );

    server.reset().await;
    list_bird(
        &server,
        vec![bird_conversation(CONV, ("m4", &at(4, 0)), &at(4, 0))],
    )
    .await;
    Mock::given(method("GET"))
        .and(path(messages_path(CONV)))
        .respond_with(page(vec![m(2), m(3), m(4)], None))
        .mount(&server)
        .await;
    let report = sync(&store, &inbox, &options).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(
        date_froms(&server).await,
        [Timestamp::from_unix_nanos(
            ts(&at(2, 0)).unix_nanos() - 30_000_000_000 - 1
        )],
        "resumed from the checkpoint less the overlap"
    );
    assert_eq!((report.total().new, report.total().unchanged), (2, 1));
    let checkpoint = &store.checkpoints().await.unwrap()[0];
    assert!(checkpoint.complete);
    assert_eq!(
        checkpoint.at.as_ref().map(|(_, id)| id.as_str()),
        Some("m4")
    );
    assert_eq!(store.messages_count().await.unwrap(), 4);
}
}

on_both! {
async fn an_item_that_does_not_decode_is_kept_once_with_its_path_and_its_page_is_not_lost(db: Db) {
    let server = bird_server().await;
    list_bird(
        &server,
        vec![
            bird_conversation(CONV, ("m2", &at(2, 0)), &at(2, 0)),
            json!({"id": "c-bad", "createdAt": "not a time"}),
        ],
    )
    .await;
    let mut odd = bird_message("m-odd", &at(1, 30), "read", &at(1, 30));
    odd["sender"] = json!("nobody");
    Mock::given(method("GET"))
        .and(path(messages_path(CONV)))
        .respond_with(page(
            vec![
                bird_message("m1", &at(1, 0), "read", &at(1, 0)),
                odd,
                bird_message("m2", &at(2, 0), "read", &at(2, 0)),
            ],
            None,
        ))
        .mount(&server)
        .await;
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    let inbox = bird_inbox(&server, RetryPolicy::none());
    let first = sync(&store, &inbox, &SyncOptions::default()).await;
    assert_eq!(first.total().new, 2);
    assert_eq!(first.total().rejected, 2);
    // Seen again, by a full sync: still one row each.
    let again = sync(&store, &inbox, &SyncOptions::default().full(true)).await;
    assert_eq!(again.total().rejected, 2);
    let rejected = store.rejected(10).await.unwrap();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    let message = rejected.iter().find(|r| r.item == "message").unwrap();
    assert_eq!(message.conversation_id.as_deref(), Some(CONV));
    assert_eq!(message.page, Some(0));
    assert!(message.path.contains("sender"), "{message:?}");
    assert!(message.raw.contains("m-odd"));
    let conversation = rejected.iter().find(|r| r.item == "conversation").unwrap();
    assert!(conversation.path.contains("createdAt"), "{conversation:?}");
    assert!(conversation.raw.contains("c-bad"));
    assert!(message.last_seen_at >= message.first_seen_at);
    assert_eq!(store.messages_count().await.unwrap(), 2);
}
}

fn partoo_message(id: i64, minute: u32) -> Value {
    json!({
        "id": id,
        "conversation_id": 7,
        "content": format!("message {id}"),
        "content_type": "Text",
        "date": format!("2023-01-31 16:{minute:02}:00.000000+00:00"),
        "is_automated": false,
        "is_deleted": false,
        "sender_label": "Camille",
        "sender_type": "Consumer",
        "status": "Success",
        "user_id": null,
        "custom_channel": null,
    })
}

fn partoo_listing(last: i64, minute: u32) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "conversations": [{
            "id": 7,
            "status": "Open",
            "messaging_partner": "Whatsapp",
            "created_at": "2023-01-31 16:00:00.000000+00:00",
            "last_message": partoo_message(last, minute),
        }],
        "next_cursor": null,
    }))
}

fn partoo_page(ids: &[(i64, u32)], next: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "count": 6,
        "messages": ids.iter().map(|(id, minute)| partoo_message(*id, *minute)).collect::<Vec<_>>(),
        "next_cursor": next,
    }))
}

on_both! {
async fn a_partoo_walk_newest_first_stops_once_it_passes_the_checkpoint(db: Db) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u1", "org_id": 77})))
        .mount(&server)
        .await;
    let messages = |cursor: Option<&str>| {
        let m = Mock::given(method("GET"))
            .and(path("/messages"))
            .and(query_param("conversation_id", "7"));
        match cursor {
            Some(c) => m.and(query_param("cursor", c)),
            None => m.and(query_param_is_missing("cursor")),
        }
    };
    Mock::given(method("GET"))
        .and(path("/conversations"))
        .respond_with(partoo_listing(5, 5))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    messages(None)
        .respond_with(partoo_page(&[(5, 5), (4, 4)], Some("c2")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    messages(Some("c2"))
        .respond_with(partoo_page(&[(3, 3), (2, 2)], Some("c3")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    // The oldest page: read by the first sync only.
    messages(Some("c3"))
        .respond_with(partoo_page(&[(1, 1)], None))
        .expect(1)
        .mount(&server)
        .await;
    let client = inbox_aggregator::partoo::Client::builder("partoo-key")
        .base_url(&server.uri())
        .build()
        .unwrap();
    let inbox = Inbox::builder()
        .source(PartooSource::new(client).limits(SourceLimits::new(4, None)))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let store = Store::open(&db.location("inbox.db")).await.unwrap();
    // An overlap of a minute and a half: the next walk reads back to 16:03:30, then stops.
    let options = SyncOptions::default().overlap(Duration::from_secs(90));
    let first = store
        .sync(&inbox, vec![Target::all("partoo")], &options)
        .await
        .unwrap();
    assert!(first.failures.is_empty(), "{:?}", first.failures);
    assert_eq!(first.total().new, 5);
    assert_eq!(first.accounts[0].account.identity, "77");

    // A sixth message: the newest page now starts with it, and the walk stops on the
    // second page, whose oldest message is before the checkpoint less the overlap.
    Mock::given(method("GET"))
        .and(path("/conversations"))
        .respond_with(partoo_listing(6, 6))
        .mount(&server)
        .await;
    messages(None)
        .respond_with(partoo_page(&[(6, 6), (5, 5)], Some("c2")))
        .expect(1)
        .mount(&server)
        .await;
    messages(Some("c2"))
        .respond_with(partoo_page(&[(4, 4), (3, 3)], Some("c3")))
        .expect(1)
        .mount(&server)
        .await;
    let second = store
        .sync(&inbox, vec![Target::all("partoo")], &options)
        .await
        .unwrap();
    assert!(second.failures.is_empty(), "{:?}", second.failures);
    assert_eq!((second.total().new, second.total().unchanged), (1, 2));
    // GET /users/me once for this inbox, the listing, two pages of messages.
    assert_eq!(second.total().requests, 3);
    assert_eq!(store.messages_count().await.unwrap(), 6);
}
}
