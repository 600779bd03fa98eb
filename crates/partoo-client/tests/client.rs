//! partoo-client against wiremock: one server per test, `.expect(n)` on every mock, bodies from
//! `fixtures/partoo/`, and a catch-all that fails on any unexpected request.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use partoo_client::{Client, Error, ErrorBody, ListConversationsQuery, ListMessagesQuery};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "partoo-key-DO-NOT-PRINT-7c1e";

fn fixture(rel: &str) -> Value {
    inbox_testkit::fixture(&format!("partoo/{rel}"))
}

use inbox_testkit::mock_server as server;

fn client(server: &MockServer) -> Client {
    builder(server).build().unwrap()
}

/// Paused-clock tests arm no timer but the retry waits (see inbox-http's tests).
fn builder(server: &MockServer) -> partoo_client::ClientBuilder {
    let http = inbox_testkit::paused_clock_client();
    Client::builder(KEY)
        .base_url(&format!("{}/v2", server.uri()))
        .no_timeout()
        .http_client(http)
}

/// Page `n` of a 5-page conversation: the first fixture page's messages, renumbered.
fn walk_page(n: usize, pages: usize) -> Value {
    let template = fixture("messages-page-1.json");
    let mut messages = template["messages"].as_array().unwrap().clone();
    messages.truncate(3);
    for (i, m) in messages.iter_mut().enumerate() {
        m["id"] = json!(100 * n + i);
    }
    let next = if n + 1 < pages {
        json!(format!("cursor-{}", n + 1))
    } else {
        Value::Null
    };
    json!({"messages": messages, "count": 3 * pages, "next_cursor": next})
}

async fn mount_walk(server: &MockServer, pages: usize, expect_each: u64) {
    for n in 0..pages {
        let mock = Mock::given(method("GET"))
            .and(path("/v2/messages"))
            .and(query_param("conversation_id", "4217"))
            .and(query_param("per_page", "100"));
        let mock = if n == 0 {
            mock.and(query_param_is_missing("cursor"))
        } else {
            mock.and(query_param("cursor", format!("cursor-{n}")))
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(walk_page(n, pages)))
            .expect(expect_each)
            .mount(server)
            .await;
    }
}

#[tokio::test(start_paused = true)]
async fn sends_the_key_and_every_message_query_parameter() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/v2/messages"))
        .and(header("x-apikey", KEY))
        .and(query_param("conversation_id", "4217"))
        .and(query_param("per_page", "25"))
        .and(query_param("cursor", "abc=="))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("messages-page-2.json")))
        .expect(1)
        .mount(&server)
        .await;
    let query = ListMessagesQuery::new(4217)
        .with_per_page(25)
        .unwrap()
        .with_cursor("abc==");
    let page = client(&server).list_messages(&query).await.unwrap();
    assert_eq!(
        page.messages.len(),
        fixture("messages-page-2.json")["messages"]
            .as_array()
            .unwrap()
            .len()
    );
    assert!(page.messages.rejected().is_empty());
}

#[tokio::test(start_paused = true)]
async fn sends_every_conversation_query_parameter() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/v2/conversations"))
        .and(header("x-apikey", KEY))
        .and(query_param("per_page", "10"))
        .and(query_param("cursor", "c1"))
        .and(query_param("business__in", "b1,b2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("conversations/conversations-page-1.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let query = ListConversationsQuery::new()
        .with_per_page(10)
        .unwrap()
        .with_cursor("c1")
        .with_business_ids(["b1", "b2"])
        .unwrap();
    let page = client(&server).list_conversations(&query).await.unwrap();
    assert!(!page.conversations.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_five_page_walk_yields_every_message_once_in_order() {
    let server = server().await;
    mount_walk(&server, 5, 1).await;
    let ids: Vec<i64> = client(&server)
        .messages(4217)
        .map_ok(|m| m.id)
        .try_collect()
        .await
        .unwrap();
    let want: Vec<i64> = (0..5)
        .flat_map(|n| (0..3).map(move |i| (100 * n + i) as i64))
        .collect();
    assert_eq!(ids, want);
}

#[tokio::test(start_paused = true)]
async fn documented_error_bodies_are_parsed_and_never_retried() {
    for (status, file, summary) in [
        (
            401u16,
            "errors/401-error-key.json",
            "authentication: User not authenticated",
        ),
        (
            401,
            "errors/401-errors-key.json",
            "authentication: User not authenticated",
        ),
        (
            403,
            "errors/403-forbidden.json",
            "authorization: Operation not allowed",
        ),
        (404, "errors/404-not-found.json", "json: Resource not found"),
    ] {
        let server = server().await;
        Mock::given(path("/v2/messages"))
            .respond_with(ResponseTemplate::new(status).set_body_json(fixture(file)))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .list_messages(&ListMessagesQuery::new(1))
            .await
            .unwrap_err();
        let parsed = match &err {
            Error::Unauthorized(e) | Error::Forbidden(e) | Error::NotFound(e) => {
                e.body.as_ref().map(|b| b.summary())
            }
            other => panic!("{file}: unexpected {other:?}"),
        };
        assert_eq!(parsed.as_deref(), Some(summary), "{file}");
        assert!(err.to_string().contains(summary), "{err}");
    }
    for (status, file) in [
        (400u16, "errors/400-invalid-query.json"),
        (415, "errors/415-unsupported-media-type.json"),
    ] {
        let server = server().await;
        Mock::given(path("/v2/messages"))
            .respond_with(ResponseTemplate::new(status).set_body_json(fixture(file)))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .list_messages(&ListMessagesQuery::new(1))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Rejected(e) if e.status == status && e.body.is_some()),
            "{file}: {err:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn one_bad_message_never_costs_its_page() {
    let server = server().await;
    let mut page = walk_page(0, 1);
    page["messages"][1]["date"] = json!("not a date");
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .expect(1)
        .mount(&server)
        .await;
    let results: Vec<_> = client(&server).messages(4217).collect().await;
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[2].is_ok());
    match &results[1] {
        Err(Error::InvalidItem(r)) => {
            assert_eq!((r.index, r.path.as_str()), (1, "date"));
            assert!(r.raw.get().contains("not a date"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn an_attempt_is_one_request_and_is_never_retried() {
    let server = server().await;
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/conversations"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "60"))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client
        .list_messages_attempt(&ListMessagesQuery::new(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Server(ref e) if e.status == 503),
        "{err:?}"
    );
    let err = client
        .list_conversations_attempt(&ListConversationsQuery::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(60)),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn attempts_return_bodies_the_page_types_scan_and_decode() {
    let server = server().await;
    Mock::given(path("/v2/conversations"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("conversations/conversations-page-1.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let body = client(&server)
        .list_conversations_attempt(&ListConversationsQuery::new())
        .await
        .unwrap();
    let page: partoo_client::ConversationsPage = body.decode::<_, ErrorBody>().unwrap();
    assert_eq!(
        partoo_client::ConversationsPage::peek_next_cursor(&body.bytes).unwrap(),
        page.next_cursor
    );
}

#[test]
fn the_builders_point_at_production_or_the_sandbox_and_need_a_key() {
    assert_eq!(
        Client::builder(KEY).build().unwrap().base_url().as_str(),
        partoo_client::PRODUCTION_URL
    );
    assert_eq!(
        Client::sandbox_builder(KEY)
            .build()
            .unwrap()
            .base_url()
            .as_str(),
        partoo_client::SANDBOX_URL
    );
    let err = Client::builder(" ").build().unwrap_err();
    assert_eq!(err.to_string(), "the Partoo API key is empty");
    for bad in [0, 101] {
        let err = ListMessagesQuery::new(1).with_per_page(bad).unwrap_err();
        assert!(err.to_string().contains(&bad.to_string()), "{err}");
    }
}

#[tokio::test(start_paused = true)]
async fn me_names_the_keys_organisation() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/v2/users/me"))
        .and(header("x-apikey", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "u1", "first_name": "Camille", "org_id": 4242, "role": "ORG_ADMIN"
        })))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server);
    let user = client.me().await.unwrap();
    assert_eq!(user.org_id, Some(partoo_client::OrgId::Number(4242)));
    let body = client.me_attempt().await.unwrap();
    assert_eq!(partoo_client::User::from_slice(&body.bytes).unwrap(), user);
}
