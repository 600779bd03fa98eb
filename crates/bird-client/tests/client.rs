//! bird-client against wiremock: one server per test, `.expect(n)` on every mock, bodies from
//! `fixtures/bird/`, and a catch-all that fails on any unexpected request.

#![allow(clippy::unwrap_used)]

use bird_client::{Client, Error, Limit, ListConversationsQuery, ListMessagesQuery, Timestamp};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "bird-access-key-DO-NOT-PRINT-5d2b";
const WS: &str = "ws-0b6c2f4e";
const CONV: &str = "16e1df9e-c6ac-406b-b1ce-13f34d0dea08";
const MESSAGES_PATH: &str =
    "/workspaces/ws-0b6c2f4e/conversations/16e1df9e-c6ac-406b-b1ce-13f34d0dea08/messages";
const CONVERSATIONS_PATH: &str = "/workspaces/ws-0b6c2f4e/conversations";

fn fixture(rel: &str) -> Value {
    inbox_testkit::fixture(&format!("bird/{rel}"))
}

fn ids(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

use inbox_testkit::mock_server as server;

fn client(server: &MockServer) -> Client {
    builder(server).build().unwrap()
}

/// Paused-clock tests arm no timer but the retry waits: under auto-advance, any armed timer
/// (a request timeout, the pool's idle timer) fires while a socket is pending.
fn builder(server: &MockServer) -> bird_client::ClientBuilder {
    Client::builder(KEY, WS)
        .base_url(&server.uri())
        .no_timeout()
        .http_client(inbox_testkit::paused_clock_client())
}

/// Page `n` of a walk over `pages` pages: three messages of the first fixture page,
/// renumbered `m-{n}-{i}`, and the token `token-{n+1}` unless it is the last page.
fn walk_page(n: usize, pages: usize) -> Value {
    let template = fixture("messages/page-1.json");
    let mut messages = template["results"].as_array().unwrap().clone();
    messages.truncate(3);
    for (i, m) in messages.iter_mut().enumerate() {
        m["id"] = json!(format!("m-{n}-{i}"));
    }
    let mut page = json!({"results": messages, "total": 3 * pages, "totalType": "equal"});
    if n + 1 < pages {
        page["nextPageToken"] = json!(format!("token-{}", n + 1));
    }
    page
}

async fn mount_walk(server: &MockServer, pages: usize, expect_each: u64) {
    for n in 0..pages {
        let mock = Mock::given(method("GET"))
            .and(path(MESSAGES_PATH))
            .and(header("authorization", format!("AccessKey {KEY}").as_str()))
            .and(query_param("limit", "100"))
            .and(query_param_is_missing("reverse"))
            .and(query_param_is_missing("dateFrom"));
        let mock = if n == 0 {
            mock.and(query_param_is_missing("pageToken"))
        } else {
            mock.and(query_param("pageToken", format!("token-{n}")))
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(walk_page(n, pages)))
            .expect(expect_each)
            .mount(server)
            .await;
    }
}

#[tokio::test(start_paused = true)]
async fn sends_the_access_key_and_every_message_query_parameter() {
    let server = server().await;
    let body = fixture("messages/page-1.json");
    Mock::given(method("GET"))
        .and(path(MESSAGES_PATH))
        .and(header("authorization", format!("AccessKey {KEY}").as_str()))
        .and(query_param("limit", "25"))
        .and(query_param("pageToken", "WyIyMDI0Il0="))
        .and(query_param("reverse", "true"))
        // Given with a +01:00 offset, sent as RFC 3339 in UTC.
        .and(query_param("dateFrom", "2024-11-25T19:12:10.514Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&body))
        .expect(1)
        .mount(&server)
        .await;
    let query = ListMessagesQuery::new()
        .limit(Limit::new(25).unwrap())
        .page_token("WyIyMDI0Il0=")
        .reverse(true)
        .date_from(Timestamp::parse("2024-11-25T20:12:10.514+01:00").unwrap());
    let page = client(&server).list_messages(CONV, &query).await.unwrap();
    let got: Vec<&str> = page.results.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(got, ids(&body));
    assert!(page.results.rejected().is_empty());
    assert_eq!(page.next_page(), body["nextPageToken"].as_str());
}

#[tokio::test(start_paused = true)]
async fn sends_every_conversation_query_parameter() {
    let server = server().await;
    let body = fixture("conversations/page-1.json");
    Mock::given(method("GET"))
        .and(path(CONVERSATIONS_PATH))
        .and(header("authorization", format!("AccessKey {KEY}").as_str()))
        .and(query_param("limit", "10"))
        .and(query_param("pageToken", "c1"))
        .and(query_param("reverse", "false"))
        .and(query_param(
            "resource",
            "task:ab651378-21c3-4f2a-9a0e-2b1c9c6b9e11",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(&body))
        .expect(1)
        .mount(&server)
        .await;
    let query = ListConversationsQuery::new()
        .limit(Limit::DEFAULT)
        .page_token("c1")
        .reverse(false)
        .resource("task:ab651378-21c3-4f2a-9a0e-2b1c9c6b9e11");
    let page = client(&server).list_conversations(&query).await.unwrap();
    let got: Vec<&str> = page.results.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(got, ids(&body));
    assert_eq!(page.next_page(), body["nextPageToken"].as_str());
}

#[tokio::test(start_paused = true)]
async fn workspace_and_conversation_ids_are_encoded_path_segments() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(
            "/api/workspaces/ws%201/conversations/a%2Fb%3Fc/messages",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("messages/page-2.json")))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(KEY, "ws 1")
        .base_url(&format!("{}/api", server.uri()))
        .no_timeout()
        .http_client(inbox_testkit::paused_clock_client())
        .build()
        .unwrap();
    assert_eq!(client.workspace_id(), "ws 1");
    let page = client
        .list_messages("a/b?c", &ListMessagesQuery::new())
        .await
        .unwrap();
    assert_eq!(page.results.len(), 2);
    assert_eq!(page.next_page(), None);
}

#[tokio::test(start_paused = true)]
async fn an_empty_conversation_id_is_refused_before_sending() {
    let server = server().await;
    let err = client(&server)
        .list_messages("", &ListMessagesQuery::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m.contains("conversation id")),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_five_page_walk_yields_every_message_once_in_order() {
    let server = server().await;
    mount_walk(&server, 5, 1).await;
    let got: Vec<String> = client(&server)
        .messages(CONV)
        .map_ok(|m| String::from(m.id))
        .try_collect()
        .await
        .unwrap();
    let want: Vec<String> = (0..5)
        .flat_map(|n| (0..3).map(move |i| format!("m-{n}-{i}")))
        .collect();
    assert_eq!(got, want);
}

#[tokio::test(start_paused = true)]
async fn message_pages_from_keeps_the_query_on_every_page() {
    let server = server().await;
    for (token, next) in [("start", Some("token-2")), ("token-2", None)] {
        let mut page = fixture("messages/page-2.json");
        match next {
            Some(next) => page["nextPageToken"] = json!(next),
            None => assert!(page.get("nextPageToken").is_none()),
        }
        Mock::given(path(MESSAGES_PATH))
            .and(query_param("limit", "20"))
            .and(query_param("reverse", "true"))
            .and(query_param("dateFrom", "2024-11-25T20:00:00Z"))
            .and(query_param("pageToken", token))
            .respond_with(ResponseTemplate::new(200).set_body_json(page))
            .expect(1)
            .mount(&server)
            .await;
    }
    let query = ListMessagesQuery::new()
        .limit(Limit::new(20).unwrap())
        .reverse(true)
        .date_from(Timestamp::parse("2024-11-25T20:00:00Z").unwrap())
        .page_token("start");
    let pages: Vec<_> = client(&server)
        .message_pages_from(CONV, query.clone())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].next_page(), Some("token-2"));
    assert_eq!(pages[1].next_page(), None);
    server.verify().await;

    // `messages_from` walks the same pages; the query's limit defaults to 100 when unset.
    let server = self::server().await;
    Mock::given(path(MESSAGES_PATH))
        .and(query_param("limit", "100"))
        .and(query_param("reverse", "true"))
        .and(query_param_is_missing("pageToken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("messages/page-2.json")))
        .expect(1)
        .mount(&server)
        .await;
    let got: Vec<String> = client(&server)
        .messages_from(CONV, ListMessagesQuery::new().reverse(true))
        .map_ok(|m| String::from(m.id))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got, ids(&fixture("messages/page-2.json")));
}

#[tokio::test(start_paused = true)]
async fn conversations_walk_every_page_with_the_query_kept() {
    let server = server().await;
    let first = fixture("conversations/page-1.json");
    let second = fixture("conversations/page-2.json");
    let token = first["nextPageToken"].as_str().unwrap().to_owned();
    Mock::given(path(CONVERSATIONS_PATH))
        .and(query_param("limit", "100"))
        .and(query_param("resource", "task:1"))
        .and(query_param_is_missing("pageToken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&first))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(CONVERSATIONS_PATH))
        .and(query_param("limit", "100"))
        .and(query_param("resource", "task:1"))
        .and(query_param("pageToken", token.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(&second))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let got: Vec<String> = client
        .conversations(ListConversationsQuery::new().resource("task:1"))
        .map_ok(|c| String::from(c.id))
        .try_collect()
        .await
        .unwrap();
    let want: Vec<String> = ids(&first).into_iter().chain(ids(&second)).collect();
    assert!(want.len() > 2, "fixtures hold several conversations");
    assert_eq!(got, want);
}

#[tokio::test(start_paused = true)]
async fn documented_error_bodies_are_parsed_and_never_retried() {
    for (status, file, code, message) in [
        (
            403u16,
            "errors/forbidden.json",
            "Forbidden",
            "You do not have access to this resource",
        ),
        (
            404,
            "errors/not-found.json",
            "NotFound",
            "Conversation not found",
        ),
        (
            409,
            "errors/conflict.json",
            "Conflict",
            "Conversation is closed",
        ),
        (
            422,
            "errors/invalid-payload.json",
            "InvalidPayload",
            "The payload is invalid",
        ),
    ] {
        let server = server().await;
        Mock::given(path(MESSAGES_PATH))
            .respond_with(ResponseTemplate::new(status).set_body_json(fixture(file)))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .list_messages(CONV, &ListMessagesQuery::new())
            .await
            .unwrap_err();
        let api = match (&err, status) {
            (Error::Forbidden(e), 403)
            | (Error::NotFound(e), 404)
            | (Error::Conflict(e), 409)
            | (Error::Rejected(e), 422) => e,
            other => panic!("{file}: unexpected {other:?}"),
        };
        assert_eq!(api.status, status);
        let body = api.body.as_ref().unwrap();
        assert_eq!((body.code.as_str(), body.message.as_str()), (code, message));
        assert!(
            err.to_string().contains(&format!("{code}: {message}")),
            "{err}"
        );
        if status == 422 {
            let details = body.details.as_ref().unwrap();
            assert_eq!(
                details[".receiver.contacts[0]"][0],
                "identifierValue must be a valid phone number"
            );
            assert!(err.to_string().contains(".receiver.contacts[0]"), "{err}");
        }
        server.verify().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_401_is_never_retried() {
    let server = server().await;
    Mock::given(path(CONVERSATIONS_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_string("Unauthorized"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .list_conversations(&ListConversationsQuery::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Unauthorized(e) if e.body.is_none() && e.snippet == "Unauthorized"),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn one_bad_message_never_costs_its_page() {
    let server = server().await;
    let mut page = fixture("messages/page-1.json");
    page["results"][3]["createdAt"] = json!("not a date");
    page.as_object_mut().unwrap().remove("nextPageToken");
    let want = ids(&page);
    Mock::given(path(MESSAGES_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(&page))
        .expect(1)
        .mount(&server)
        .await;
    let results: Vec<_> = client(&server).messages(CONV).collect().await;
    assert_eq!(results.len(), want.len());
    for (i, (result, id)) in results.iter().zip(&want).enumerate() {
        match (i, result) {
            (3, Err(Error::InvalidItem(r))) => {
                assert_eq!((r.index, r.path.as_str()), (3, "createdAt"));
                assert!(r.raw.get().contains("not a date"));
                assert!(r.raw.get().contains(id.as_str()));
            }
            (i, Ok(m)) if i != 3 => assert_eq!(&m.id, id),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn an_attempt_is_one_request_and_is_never_retried() {
    let server = server().await;
    Mock::given(path(MESSAGES_PATH))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(CONVERSATIONS_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(fixture("conversations/page-1.json")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client
        .list_messages_attempt(CONV, &ListMessagesQuery::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Server(ref e) if e.status == 503),
        "{err:?}"
    );
    let body = client
        .list_conversations_attempt(&ListConversationsQuery::new())
        .await
        .unwrap();
    let page: bird_client::ConversationsPage = body.decode::<_, bird_client::ErrorBody>().unwrap();
    assert_eq!(
        bird_client::ConversationsPage::peek_next_page_token(&body.bytes)
            .unwrap()
            .as_deref(),
        page.next_page()
    );
    assert!(matches!(
        client
            .list_messages_attempt("", &ListMessagesQuery::new())
            .await,
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn the_builder_points_at_production_and_needs_a_key_and_a_workspace() {
    let client = Client::builder(KEY, WS).build().unwrap();
    assert_eq!(
        client.base_url().as_str(),
        format!("{}/", bird_client::PRODUCTION_URL)
    );
    assert_eq!(client.workspace_id(), WS);
    for (key, ws, what) in [
        ("", WS, "the Bird access key is empty"),
        (KEY, "", "the Bird workspace id is empty"),
        (KEY, "  ", "the Bird workspace id is empty"),
    ] {
        let err = Client::builder(key, ws).build().unwrap_err();
        assert_eq!(err.to_string(), what, "{key:?} {ws:?}");
    }
}

#[test]
fn page_sizes_outside_1_to_100_are_refused() {
    for bad in [0, 101] {
        let err = Limit::new(bad).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("`limit` {bad}")) && text.contains("1 to 100"),
            "{text}"
        );
    }
    assert_eq!(Limit::new(100).unwrap(), bird_client::STREAM_PAGE_SIZE);
    assert_eq!(Limit::new(1).unwrap().get(), 1);
}
