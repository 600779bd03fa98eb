//! The aggregator against wiremock servers for both providers at once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use inbox::{
    BirdSource, BuildError, ConversationId, FailureKind, Inbox, PageEvent, PartooSource, Provider,
    RetryPolicy, SourceLimits, Target, Timestamp,
};
use serde_json::{Value, json};
use wiremock::matchers::{path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const WS: &str = "ws-1";

use inbox_testkit::fixture;

/// A Partoo text message of conversation `conv`, sent `minute` minutes after 10:00.
fn partoo_message(id: i64, conv: i64, minute: u32) -> Value {
    let mut m = fixture("partoo/messages-page-1.json")["messages"][0].clone();
    m["id"] = json!(id);
    m["conversation_id"] = json!(conv);
    m["date"] = json!(format!("2024-05-01 10:{minute:02}:00.000000+00:00"));
    m
}

fn bird_message(id: &str, conv: &str, minute: u32) -> Value {
    let mut m = fixture("bird/messages/page-1.json")["results"][0].clone();
    m["id"] = json!(id);
    m["conversationId"] = json!(conv);
    m["createdAt"] = json!(format!("2024-05-01T10:{minute:02}:30.000Z"));
    m
}

fn partoo_page(messages: Vec<Value>, next: Option<&str>) -> Value {
    json!({"messages": messages, "count": 0, "next_cursor": next})
}

fn bird_page(messages: Vec<Value>, next: Option<&str>) -> Value {
    let mut page = json!({"results": messages});
    if let Some(next) = next {
        page["nextPageToken"] = json!(next);
    }
    page
}

use inbox_testkit::mock_server as server;

use inbox_testkit::paused_clock_client as http;

fn unlimited(conversations: usize) -> SourceLimits {
    SourceLimits::new(conversations, None)
}

/// A Partoo source whose client would retry a lot on its own: inside an inbox its requests
/// are single attempts, and only the inbox's policy counts.
fn partoo(server: &MockServer) -> PartooSource {
    let client = inbox::partoo::Client::builder("pk")
        .base_url(&format!("{}/v2", server.uri()))
        .no_timeout()
        .http_client(http())
        .retry_policy(RetryPolicy {
            max_attempts: 50,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    PartooSource::new(client).limits(unlimited(8))
}

fn bird(server: &MockServer) -> BirdSource {
    let client = inbox::bird::Client::builder("bk", WS)
        .base_url(&server.uri())
        .no_timeout()
        .http_client(http())
        .build()
        .unwrap();
    BirdSource::new(client).limits(unlimited(8))
}

async fn mount_partoo(
    server: &MockServer,
    conv: i64,
    cursor: Option<&str>,
    body: Value,
    expect: u64,
) {
    let mock =
        Mock::given(path("/v2/messages")).and(query_param("conversation_id", conv.to_string()));
    let mock = match cursor {
        Some(c) => mock.and(query_param("cursor", c)),
        None => mock.and(query_param_is_missing("cursor")),
    };
    mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(expect)
        .mount(server)
        .await;
}

async fn mount_bird(
    server: &MockServer,
    conv: &str,
    token: Option<&str>,
    body: Value,
    expect: u64,
) {
    let mock = Mock::given(path(format!(
        "/workspaces/{WS}/conversations/{conv}/messages"
    )));
    let mock = match token {
        Some(t) => mock.and(query_param("pageToken", t)),
        None => mock.and(query_param_is_missing("pageToken")),
    };
    mock.respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(expect)
        .mount(server)
        .await;
}

#[tokio::test(start_paused = true)]
async fn merges_orders_and_deduplicates_both_providers() {
    let (p, b) = (server().await, server().await);
    // Partoo 1: two pages, and message 12 shows up on both (a page shift): once in the result.
    mount_partoo(
        &p,
        1,
        None,
        partoo_page(
            vec![partoo_message(11, 1, 1), partoo_message(12, 1, 5)],
            Some("p1"),
        ),
        1,
    )
    .await;
    mount_partoo(
        &p,
        1,
        Some("p1"),
        partoo_page(
            vec![partoo_message(12, 1, 5), partoo_message(13, 1, 9)],
            None,
        ),
        1,
    )
    .await;
    mount_partoo(
        &p,
        2,
        None,
        partoo_page(vec![partoo_message(21, 2, 3)], None),
        1,
    )
    .await;
    mount_bird(
        &b,
        "b1",
        None,
        bird_page(
            vec![bird_message("b1-1", "b1", 0), bird_message("b1-2", "b1", 4)],
            Some("t1"),
        ),
        1,
    )
    .await;
    mount_bird(
        &b,
        "b1",
        Some("t1"),
        bird_page(vec![bird_message("b1-3", "b1", 8)], None),
        1,
    )
    .await;
    mount_bird(
        &b,
        "b2",
        None,
        bird_page(vec![bird_message("b2-1", "b2", 2)], None),
        1,
    )
    .await;

    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .on_progress(move |pr| seen.lock().unwrap().push(pr))
        .build()
        .unwrap();
    let timeline = inbox
        .timeline(vec![
            Target::conversation("partoo", ConversationId::Partoo(1)),
            Target::conversation("bird", ConversationId::Bird("b1".into())),
            Target::conversation("partoo", ConversationId::Partoo(2)),
            Target::conversation("bird", ConversationId::Bird("b2".into())),
            Target::conversation("partoo", ConversationId::Partoo(2)),
        ])
        .await
        .unwrap();
    assert!(timeline.failures.is_empty(), "{:?}", timeline.failures);
    let ids: Vec<String> = timeline.messages.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(
        ids,
        ["b1-1", "11", "b2-1", "21", "b1-2", "12", "b1-3", "13"]
    );
    let times: Vec<i64> = timeline
        .messages
        .iter()
        .map(|m| m.timestamp.unix_seconds())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(
        timeline
            .messages
            .iter()
            .filter(|m| m.provider == Provider::Bird)
            .count(),
        4
    );
    let last = *progress.lock().unwrap().last().unwrap();
    assert_eq!(
        (
            last.conversations_total,
            last.conversations_done,
            last.messages,
            last.requests
        ),
        (4, 4, 8, 6)
    );
    assert_eq!(timeline.progress, last);
}

#[tokio::test(start_paused = true)]
async fn a_failing_conversation_is_reported_and_the_others_complete() {
    let (p, b) = (server().await, server().await);
    mount_partoo(
        &p,
        1,
        None,
        partoo_page(vec![partoo_message(11, 1, 1)], Some("p1")),
        1,
    )
    .await;
    Mock::given(path("/v2/messages"))
        .and(query_param("cursor", "p1"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(fixture("partoo/errors/404-not-found.json")),
        )
        .expect(1)
        .mount(&p)
        .await;
    mount_partoo(
        &p,
        2,
        None,
        partoo_page(vec![partoo_message(21, 2, 3)], None),
        1,
    )
    .await;
    mount_bird(
        &b,
        "b1",
        None,
        bird_page(vec![bird_message("b1-1", "b1", 0)], None),
        1,
    )
    .await;
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .build()
        .unwrap();
    let timeline = inbox
        .timeline(vec![
            Target::conversation("partoo", ConversationId::Partoo(1)),
            Target::conversation("partoo", ConversationId::Partoo(2)),
            Target::conversation("bird", ConversationId::Bird("b1".into())),
        ])
        .await
        .unwrap();
    let ids: Vec<String> = timeline.messages.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(
        ids,
        ["b1-1", "11", "21"],
        "messages before the failure are kept"
    );
    assert_eq!(timeline.failures.len(), 1, "{:?}", timeline.failures);
    let failure = timeline
        .failures
        .iter()
        .find(|f| f.source == "partoo")
        .unwrap();
    assert_eq!(failure.conversation, Some(ConversationId::Partoo(1)));
    assert!(matches!(failure.kind, FailureKind::Conversation(_)));
    assert!(failure.to_string().contains("not found (404)"), "{failure}");
    assert_eq!(
        (
            timeline.progress.conversations_done,
            timeline.progress.conversations_failed
        ),
        (3, 1)
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_slows_its_source_down_without_failing_it() {
    let (p, b) = (server().await, server().await);
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&p)
        .await;
    mount_partoo(
        &p,
        1,
        None,
        partoo_page(vec![partoo_message(11, 1, 1)], None),
        1,
    )
    .await;
    mount_bird(
        &b,
        "b1",
        None,
        bird_page(vec![bird_message("b1-1", "b1", 0)], None),
        1,
    )
    .await;
    let started = tokio::time::Instant::now();
    // The client does not retry: the 429s reach the aggregator, which pauses the source.
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .build()
        .unwrap();
    let timeline = inbox
        .timeline(vec![
            Target::conversation("partoo", ConversationId::Partoo(1)),
            Target::conversation("bird", ConversationId::Bird("b1".into())),
        ])
        .await
        .unwrap();
    assert!(timeline.failures.is_empty(), "{:?}", timeline.failures);
    assert_eq!(timeline.messages.len(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(60),
        "two pauses of 30 s: {:?}",
        started.elapsed()
    );

    // With no patience left, the rate limit fails that conversation only.
    let (p, b) = (server().await, server().await);
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .expect(2)
        .mount(&p)
        .await;
    mount_bird(
        &b,
        "b1",
        None,
        bird_page(vec![bird_message("b1-1", "b1", 0)], None),
        1,
    )
    .await;
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .retry(RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let timeline = inbox
        .timeline(vec![
            Target::conversation("partoo", ConversationId::Partoo(1)),
            Target::conversation("bird", ConversationId::Bird("b1".into())),
        ])
        .await
        .unwrap();
    assert_eq!(timeline.messages.len(), 1);
    assert!(
        timeline.failures[0]
            .to_string()
            .contains("rate limited (429)"),
        "{}",
        timeline.failures[0]
    );
}

#[tokio::test(start_paused = true)]
async fn since_filters_both_and_stops_newest_first_partoo_paging() {
    let (p, b) = (server().await, server().await);
    // Bird reads `dateFrom` as "created after": the source asks from just before `since`, so
    // a message stamped exactly at `since` is kept, as for Partoo.
    let mut exactly_at_since = bird_message("b1-1", "b1", 4);
    exactly_at_since["createdAt"] = json!("2024-05-01T10:04:00.000Z");
    // Newest first: page 1 holds 10:09 and 10:05; `since` is 10:04, so page 2 (10:03, 10:01)
    // is still needed, but page 3 is not.
    mount_partoo(
        &p,
        1,
        None,
        partoo_page(
            vec![partoo_message(14, 1, 9), partoo_message(13, 1, 5)],
            Some("p1"),
        ),
        1,
    )
    .await;
    mount_partoo(
        &p,
        1,
        Some("p1"),
        partoo_page(
            vec![partoo_message(12, 1, 3), partoo_message(11, 1, 1)],
            Some("p2"),
        ),
        1,
    )
    .await;
    mount_partoo(
        &p,
        1,
        Some("p2"),
        partoo_page(vec![partoo_message(10, 1, 0)], None),
        0,
    )
    .await;
    Mock::given(path(format!("/workspaces/{WS}/conversations/b1/messages")))
        .and(query_param("dateFrom", "2024-05-01T10:03:59.999999999Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(bird_page(
            vec![exactly_at_since, bird_message("b1-2", "b1", 6)],
            None,
        )))
        .expect(1)
        .mount(&b)
        .await;
    let since = Timestamp::parse("2024-05-01T10:04:00Z").unwrap();
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .since(since)
        .build()
        .unwrap();
    let timeline = inbox
        .timeline(vec![
            Target::conversation("partoo", ConversationId::Partoo(1)),
            Target::conversation("bird", ConversationId::Bird("b1".into())),
        ])
        .await
        .unwrap();
    assert!(timeline.failures.is_empty(), "{:?}", timeline.failures);
    let ids: Vec<String> = timeline.messages.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(ids, ["b1-1", "13", "b1-2", "14"]);
}

#[tokio::test(start_paused = true)]
async fn discovers_every_conversation_of_a_source() {
    let (p, b) = (server().await, server().await);
    let mut page = fixture("partoo/conversations/conversations-page-1.json");
    page["next_cursor"] = Value::Null;
    let conversation_ids: Vec<i64> = page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    Mock::given(path("/v2/conversations"))
        .and(query_param("per_page", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&page))
        .expect(1)
        .mount(&p)
        .await;
    for (i, id) in conversation_ids.iter().enumerate() {
        mount_partoo(
            &p,
            *id,
            None,
            partoo_page(vec![partoo_message(1000 + i as i64, *id, 1)], None),
            1,
        )
        .await;
    }
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .build()
        .unwrap();
    let timeline = inbox.timeline(vec![Target::all("partoo")]).await.unwrap();
    assert!(timeline.failures.is_empty(), "{:?}", timeline.failures);
    assert_eq!(timeline.messages.len(), conversation_ids.len());
    assert_eq!(
        timeline.progress.conversations_total,
        conversation_ids.len()
    );
}

#[tokio::test(start_paused = true)]
async fn a_transient_failure_after_the_client_retries_resumes_the_page() {
    let (p, b) = (server().await, server().await);
    mount_partoo(
        &p,
        1,
        None,
        partoo_page(vec![partoo_message(11, 1, 1)], Some("p1")),
        1,
    )
    .await;
    Mock::given(path("/v2/messages"))
        .and(query_param("cursor", "p1"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&p)
        .await;
    mount_partoo(
        &p,
        1,
        Some("p1"),
        partoo_page(vec![partoo_message(12, 1, 2)], None),
        1,
    )
    .await;
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .build()
        .unwrap();
    let timeline = inbox
        .timeline(vec![Target::conversation(
            "partoo",
            ConversationId::Partoo(1),
        )])
        .await
        .unwrap();
    assert!(timeline.failures.is_empty(), "{:?}", timeline.failures);
    let ids: Vec<String> = timeline.messages.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(
        ids,
        ["11", "12"],
        "resumed from the same cursor, nothing lost or repeated"
    );

    // Past the bound, the conversation fails with the last error; the others are unaffected.
    let (p, b) = (server().await, server().await);
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(502))
        .expect(2)
        .mount(&p)
        .await;
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .retry(RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let timeline = inbox
        .timeline(vec![Target::conversation(
            "partoo",
            ConversationId::Partoo(1),
        )])
        .await
        .unwrap();
    assert!(
        timeline.failures[0]
            .to_string()
            .contains("server error (502)"),
        "{}",
        timeline.failures[0]
    );
}

#[tokio::test(start_paused = true)]
async fn listing_gives_summaries_and_keeps_an_odd_conversation_raw() {
    let (p, b) = (server().await, server().await);
    let mut first = fixture("partoo/conversations/conversations-page-1.json");
    first["next_cursor"] = json!("c2");
    let mut second = fixture("partoo/conversations/conversations-page-2.json");
    second["next_cursor"] = Value::Null;
    second["conversations"][0]["created_at"] = json!("not a date");
    let want: Vec<i64> = [&first, &second]
        .iter()
        .flat_map(|page| {
            page["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap())
        })
        .skip_while(|_| false)
        .collect();
    let odd = second["conversations"][0]["id"].as_i64().unwrap();
    Mock::given(path("/v2/conversations"))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&first))
        .expect(1)
        .mount(&p)
        .await;
    Mock::given(path("/v2/conversations"))
        .and(query_param("cursor", "c2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&second))
        .expect(1)
        .mount(&p)
        .await;
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .build()
        .unwrap();
    let listing = inbox.conversations("partoo").await.unwrap();
    assert!(listing.complete);
    let ids: Vec<i64> = listing
        .conversations
        .iter()
        .map(|c| match &c.id {
            ConversationId::Partoo(id) => *id,
            other => panic!("{other:?}"),
        })
        .collect();
    let without_odd: Vec<i64> = want.iter().copied().filter(|id| *id != odd).collect();
    assert_eq!(ids, without_odd);
    assert!(
        listing
            .conversations
            .iter()
            .all(|c| c.provider == Provider::Partoo)
    );
    assert_eq!(listing.failures.len(), 1, "{:?}", listing.failures);
    match &listing.failures[0].kind {
        FailureKind::InvalidConversation(raw) => {
            assert_eq!(raw.path, "created_at");
            assert!(raw.raw.get().contains("not a date"), "the raw JSON is kept");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        inbox.conversations("nowhere").await,
        Err(inbox::UnknownSource { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_message_that_does_not_decode_keeps_its_raw_json_in_the_stream() {
    let (p, b) = (server().await, server().await);
    let mut bad = partoo_message(13, 1, 3);
    bad["date"] = json!("not a date");
    mount_partoo(
        &p,
        1,
        None,
        partoo_page(vec![partoo_message(11, 1, 1), bad], Some("p1")),
        1,
    )
    .await;
    mount_partoo(
        &p,
        1,
        Some("p1"),
        partoo_page(vec![partoo_message(12, 1, 2)], None),
        1,
    )
    .await;
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .build()
        .unwrap();
    let items: Vec<_> = inbox
        .stream(vec![Target::conversation(
            "partoo",
            ConversationId::Partoo(1),
        )])
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().id.to_string(), "11");
    match &items[1] {
        Err(failure) => match &failure.kind {
            FailureKind::InvalidMessage(raw) => {
                assert_eq!((raw.index, raw.path.as_str()), (1, "date"));
                assert!(raw.raw.get().contains("not a date"));
                assert_eq!(failure.conversation, Some(ConversationId::Partoo(1)));
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert_eq!(items[2].as_ref().unwrap().id.to_string(), "12");
}

#[tokio::test(start_paused = true)]
async fn pages_say_which_conversation_and_which_page_is_the_last() {
    let (p, b) = (server().await, server().await);
    mount_partoo(
        &p,
        1,
        None,
        partoo_page(vec![partoo_message(11, 1, 1)], Some("p1")),
        1,
    )
    .await;
    mount_partoo(
        &p,
        1,
        Some("p1"),
        partoo_page(
            vec![partoo_message(11, 1, 1), partoo_message(12, 1, 2)],
            None,
        ),
        1,
    )
    .await;
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .build()
        .unwrap();
    let events: Vec<PageEvent> = inbox
        .pages(vec![Target::conversation(
            "partoo",
            ConversationId::Partoo(1),
        )])
        .unwrap()
        .collect()
        .await;
    let pages: Vec<_> = events
        .iter()
        .map(|e| match e {
            PageEvent::Page(page) => (
                page.index,
                page.last,
                page.messages
                    .iter()
                    .map(|m| m.id.to_string())
                    .collect::<Vec<_>>(),
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        pages,
        [
            (0, false, vec!["11".to_owned()]),
            (1, true, vec!["12".to_owned()]),
        ],
        "a message seen again on a later page comes once"
    );
}

#[tokio::test(start_paused = true)]
async fn a_target_may_ask_for_its_own_since() {
    let (p, b) = (server().await, server().await);
    Mock::given(path(format!("/workspaces/{WS}/conversations/b1/messages")))
        .and(query_param("dateFrom", "2024-05-01T10:04:59.999999999Z"))
        .and(query_param("reverse", "true"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(bird_page(vec![bird_message("b1-2", "b1", 6)], None)),
        )
        .expect(1)
        .mount(&b)
        .await;
    mount_bird(
        &b,
        "b2",
        None,
        bird_page(vec![bird_message("b2-1", "b2", 1)], None),
        1,
    )
    .await;
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .build()
        .unwrap();
    let since = Timestamp::parse("2024-05-01T10:05:00Z").unwrap();
    let timeline = inbox
        .timeline(vec![
            Target::conversation("bird", ConversationId::Bird("b1".into())).since(since),
            Target::conversation("bird", ConversationId::Bird("b2".into())),
        ])
        .await
        .unwrap();
    assert!(timeline.failures.is_empty(), "{:?}", timeline.failures);
    let ids: Vec<String> = timeline.messages.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(ids, ["b2-1", "b1-2"]);
}

#[test]
fn two_sources_of_one_name_or_a_target_of_none_are_refused() {
    let server = "http://127.0.0.1:9";
    let client = || {
        inbox::partoo::Client::builder("pk")
            .base_url(server)
            .build()
            .unwrap()
    };
    let err = Inbox::builder()
        .source(PartooSource::new(client()))
        .source(PartooSource::new(client()))
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::DuplicateSource {
            name: "partoo".into()
        }
    );
    assert!(err.to_string().contains("`partoo`"), "{err}");
    let inbox = Inbox::builder()
        .source(PartooSource::new(client()))
        .source(PartooSource::new(client()).named("partoo-2"))
        .build()
        .unwrap();
    assert_eq!(inbox.source_names(), ["partoo", "partoo-2"]);
    let err = inbox
        .stream(vec![
            Target::all("partoo"),
            Target::conversation("bird", ConversationId::Bird("b1".into())),
        ])
        .err()
        .unwrap();
    assert_eq!(err.name, "bird");
    assert_eq!(
        err.to_string(),
        "no source named `bird` in this inbox (its sources: partoo, partoo-2)"
    );
    assert!(inbox.pages(vec![Target::all("nowhere")]).is_err());
}

#[tokio::test(start_paused = true)]
async fn the_inbox_policy_governs_retries_not_the_clients() {
    let (p, b) = (server().await, server().await);
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&p)
        .await;
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let timeline = inbox
        .timeline(vec![Target::conversation(
            "partoo",
            ConversationId::Partoo(1),
        )])
        .await
        .unwrap();
    assert_eq!(timeline.failures.len(), 1);
    assert_eq!(
        timeline.progress.requests, 1,
        "one attempt: the client's 50 do not apply"
    );
    let error = timeline.failures[0].error().unwrap();
    assert_eq!(error.attempts(), 1);
    assert_eq!(inbox.requests("partoo"), 1, "counted per source too");
    assert_eq!(inbox.requests("bird"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_bird_message_without_its_conversation_id_gets_the_one_fetched() {
    let (p, b) = (server().await, server().await);
    let mut anonymous = bird_message("b1-1", "b1", 0);
    anonymous.as_object_mut().unwrap().remove("conversationId");
    mount_bird(&b, "b1", None, bird_page(vec![anonymous], None), 1).await;
    let inbox = Inbox::builder()
        .source(partoo(&p))
        .source(bird(&b))
        .build()
        .unwrap();
    let timeline = inbox
        .timeline(vec![Target::conversation(
            "bird",
            ConversationId::Bird("b1".into()),
        )])
        .await
        .unwrap();
    assert!(timeline.failures.is_empty(), "{:?}", timeline.failures);
    assert_eq!(
        timeline.messages[0].conversation_id,
        ConversationId::Bird("b1".into())
    );
}

/// A third provider, written against the trait alone: it serves Partoo-shaped pages from
/// memory and panics where told to.
struct Scripted {
    name: &'static str,
    panic_listing: bool,
    panic_on: Option<i64>,
}

#[async_trait::async_trait]
impl inbox::MessageSource for Scripted {
    fn name(&self) -> &str {
        self.name
    }

    fn limits(&self) -> SourceLimits {
        unlimited(4)
    }

    fn provider(&self) -> Provider {
        Provider::Partoo
    }

    async fn account(&self) -> Result<String, inbox::SourceError> {
        Ok(self.name.to_owned())
    }

    async fn fetch(
        &self,
        page: inbox::PageRequest<'_>,
    ) -> Result<inbox::Fetched, inbox::SourceError> {
        let body = match page {
            inbox::PageRequest::Conversations { .. } => {
                assert!(!self.panic_listing, "listing blew up");
                json!({"conversations": [{"id": 1}, {"id": 2}], "next_cursor": null})
            }
            inbox::PageRequest::Messages { conversation, .. } => {
                let ConversationId::Partoo(id) = conversation else {
                    unreachable!()
                };
                assert!(self.panic_on != Some(*id), "fetching {id} blew up");
                partoo_page(vec![partoo_message(100 + id, *id, 1)], None)
            }
            _ => unreachable!(),
        };
        let body = inbox::Body {
            status: 200,
            content_type: "application/json".into(),
            bytes: body.to_string().into_bytes(),
        };
        Ok(inbox::Fetched::new(body, None))
    }

    fn decode_conversations(
        &self,
        body: inbox::Body,
    ) -> Result<inbox::Decoded<inbox::ConversationSummary>, inbox::SourceError> {
        let page: inbox::partoo::ConversationsPage =
            body.decode::<_, inbox::partoo::ErrorBody>()?;
        let (items, rejected) = page.conversations.into_parts();
        let items = items
            .into_iter()
            .map(inbox::ConversationSummary::from)
            .collect();
        Ok(inbox::Decoded::new(items, rejected))
    }

    fn decode_messages(
        &self,
        _conversation: &ConversationId,
        body: inbox::Body,
        _since: Option<&Timestamp>,
    ) -> Result<inbox::Decoded<inbox::Message>, inbox::SourceError> {
        let page: inbox::partoo::MessagesPage = body.decode::<_, inbox::partoo::ErrorBody>()?;
        let (items, rejected) = page.messages.into_parts();
        let items = items.into_iter().map(inbox::Message::from).collect();
        Ok(inbox::Decoded::new(items, rejected))
    }
}

#[tokio::test]
async fn a_third_source_plugs_in_and_its_panics_become_failures() {
    let inbox = Inbox::builder()
        .source(Scripted {
            name: "third",
            panic_listing: false,
            panic_on: Some(2),
        })
        .source(Scripted {
            name: "fourth",
            panic_listing: true,
            panic_on: None,
        })
        .build()
        .unwrap();
    let timeline = inbox
        .timeline(vec![Target::all("third"), Target::all("fourth")])
        .await
        .unwrap();
    let ids: Vec<String> = timeline.messages.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(ids, ["101"], "the healthy conversation is delivered");
    assert_eq!(timeline.failures.len(), 2, "{:?}", timeline.failures);
    let text: Vec<String> = timeline.failures.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|t| t.starts_with("third conversation 2: the page fetcher stopped")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("fourth: listing conversations failed: listing stopped")),
        "{text:?}"
    );
    assert_eq!(
        (
            timeline.progress.conversations_done,
            timeline.progress.conversations_failed
        ),
        (2, 1)
    );
}
