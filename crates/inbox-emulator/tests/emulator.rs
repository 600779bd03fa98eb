//! The emulator end to end, over real TCP: pagination, limits, auth, decoding with the wire
//! types, determinism, faults, keep-alive, looping cursors, the fixtures dataset, activity,
//! per-conversation counters, fixed ports, webhooks and sends.

// Helpers outside `#[test]` functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use futures_util::TryStreamExt;
use inbox_emulator::{
    Config, Dataset, Emulator, Faults, MessageRequests, SendFaults, Stats, WebhookConfig,
    WebhookFaults, WebhookKeys, WebhookStats, generate,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// ----------------------------------------------------------------------------------------
// Helpers
// ----------------------------------------------------------------------------------------

fn fixtures_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn small(partoo: usize, bird: usize, messages: std::ops::RangeInclusive<usize>) -> Config {
    Config {
        dataset: Dataset::Synthetic {
            partoo_conversations: partoo,
            bird_conversations: bird,
            messages_per_conversation: messages,
        },
        ..Config::default()
    }
}

/// One request with reqwest: the status, the raw body, the content type and `Allow`.
struct Reply {
    status: u16,
    body: Vec<u8>,
    content_type: Option<String>,
    allow: Option<String>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn get(client: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> Reply {
    send(client.get(url), headers).await
}

/// One POST of `body` (sent as is, with `Content-Type: application/json`).
async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> Reply {
    let request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    send(request, headers).await
}

async fn send(mut request: reqwest::RequestBuilder, headers: &[(&str, &str)]) -> Reply {
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type");
    let allow = header("allow");
    let body = response.bytes().await.expect("body read").to_vec();
    Reply {
        status,
        body,
        content_type,
        allow,
    }
}

struct Api<'a> {
    emulator: &'a Emulator,
    client: reqwest::Client,
}

impl<'a> Api<'a> {
    fn new(emulator: &'a Emulator) -> Self {
        Api {
            emulator,
            client: reqwest::Client::new(),
        }
    }

    async fn partoo(&self, path_and_query: &str) -> Reply {
        let key = self.emulator.config().partoo_key.clone();
        let url = format!("{}{path_and_query}", self.emulator.partoo_base_url());
        get(&self.client, &url, &[("x-APIKey", &key)]).await
    }

    async fn bird(&self, path_and_query: &str) -> Reply {
        let auth = format!("AccessKey {}", self.emulator.config().bird_key);
        let url = format!(
            "{}/workspaces/{}{path_and_query}",
            self.emulator.bird_base_url(),
            self.emulator.config().bird_workspace
        );
        get(&self.client, &url, &[("Authorization", &auth)]).await
    }

    /// Every Partoo message of a conversation, page by page; the pages' sizes too.
    async fn partoo_walk(&self, id: i64, per_page: Option<usize>) -> (Vec<Value>, Vec<usize>) {
        let mut messages = Vec::new();
        let mut sizes = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/messages?conversation_id={id}");
            if let Some(n) = per_page {
                path.push_str(&format!("&per_page={n}"));
            }
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let reply = self.partoo(&path).await;
            assert_eq!(
                reply.status,
                200,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            let page = partoo_types::MessagesPage::from_slice(&reply.body).unwrap();
            assert!(page.messages.rejected().is_empty());
            let value = reply.json();
            let items = value["messages"].as_array().unwrap().clone();
            sizes.push(items.len());
            messages.extend(items);
            match value["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => {
                    assert!(value["next_cursor"].is_null());
                    assert_eq!(value["count"].as_u64(), Some(messages.len() as u64));
                    return (messages, sizes);
                }
            }
        }
    }

    /// Every Bird message of a conversation, page by page, with a query suffix.
    async fn bird_walk(&self, id: &str, query: &str) -> (Vec<Value>, Vec<usize>) {
        let mut messages = Vec::new();
        let mut sizes = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut path = format!("/conversations/{id}/messages?{query}");
            if let Some(t) = &token {
                path.push_str(&format!("&pageToken={t}"));
            }
            let reply = self.bird(&path).await;
            assert_eq!(
                reply.status,
                200,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            let page = bird_types::MessagesPage::from_slice(&reply.body).unwrap();
            assert!(page.results.rejected().is_empty());
            let value = reply.json();
            let items = value["results"].as_array().unwrap().clone();
            sizes.push(items.len());
            messages.extend(items);
            match value.get("nextPageToken") {
                Some(next) => token = Some(next.as_str().unwrap().to_owned()),
                None => {
                    assert_eq!(value["total"].as_u64(), Some(messages.len() as u64));
                    assert_eq!(value["totalType"], "equal");
                    return (messages, sizes);
                }
            }
        }
    }
}

/// Sends raw bytes and reads one response: status line, headers and a `Content-Length`
/// body. `None` when the connection closes first.
async fn read_response(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Option<(u16, String, Vec<u8>)> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(buf[..end].to_vec()).unwrap();
            let status = head[9..12].parse().unwrap();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().unwrap())
                })
                .unwrap();
            while buf.len() < end + 4 + length {
                let mut chunk = [0u8; 8192];
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[end + 4..end + 4 + length].to_vec();
            buf.drain(..end + 4 + length);
            return Some((status, head, body));
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn partoo_request(emulator: &Emulator, target: &str, extra: &str) -> String {
    format!(
        "GET /v2{target} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-APIKey: {}\r\n{extra}\r\n",
        emulator.config().partoo_key
    )
}

fn port(url: &str) -> u16 {
    let rest = url.strip_prefix("http://127.0.0.1:").unwrap();
    rest.split('/').next().unwrap().parse().unwrap()
}

/// The unified content kind of a message (`interactive:list`, `event:conversation_solved`).
fn kind(message: &inbox_normalize::Message) -> String {
    let content = serde_json::to_value(&message.content).unwrap();
    let kind = content["kind"].as_str().unwrap().to_owned();
    match kind.as_str() {
        "interactive" => format!("interactive:{}", content["interactive"].as_str().unwrap()),
        "event" => format!("event:{}", content["event"].as_str().unwrap()),
        _ => kind,
    }
}

// ----------------------------------------------------------------------------------------
// Pagination
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn partoo_pagination_walks_every_message_once() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let api = Api::new(&emulator);
    let mut seen = HashSet::new();
    let mut total = 0;
    for id in emulator.partoo_conversation_ids() {
        let (messages, sizes) = api.partoo_walk(id, Some(7)).await;
        assert!(
            sizes[..sizes.len() - 1].iter().all(|&n| n == 7),
            "{sizes:?}"
        );
        let dates: Vec<&str> = messages
            .iter()
            .map(|m| m["date"].as_str().unwrap())
            .collect();
        assert!(dates.windows(2).all(|w| w[0] < w[1]), "oldest first");
        for m in &messages {
            assert_eq!(m["conversation_id"], id);
            assert!(
                seen.insert(m["id"].as_i64().unwrap()),
                "duplicate {}",
                m["id"]
            );
        }
        total += messages.len();
        // The default page size is 30; 100 is the most.
        let (again, sizes) = api.partoo_walk(id, None).await;
        assert_eq!(again, messages);
        assert!(sizes[0] == 30 || sizes.len() == 1, "{sizes:?}");
        let (_, sizes) = api.partoo_walk(id, Some(100)).await;
        assert!(sizes[0] == 100 || sizes.len() == 1, "{sizes:?}");
    }
    assert!(total > 0);
    // Conversations are paged too, every one exactly once.
    let mut listed = Vec::new();
    let mut cursor = String::new();
    loop {
        let reply = api
            .partoo(&format!("/conversations?per_page=5&cursor={cursor}"))
            .await;
        assert_eq!(reply.status, 200);
        let page = partoo_types::ConversationsPage::from_slice(&reply.body).unwrap();
        assert!(page.conversations.rejected().is_empty());
        assert_eq!(page.count, Some(12));
        listed.extend(page.conversations.iter().map(|c| c.id));
        match page.next_cursor {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(listed, emulator.partoo_conversation_ids());
    let one = api.partoo(&format!("/conversations/{}", listed[3])).await;
    assert_eq!(one.status, 200);
    assert_eq!(
        partoo_types::Conversation::from_slice(&one.body)
            .unwrap()
            .id,
        listed[3]
    );
}

#[tokio::test]
async fn bird_pagination_walks_every_message_once_in_both_orders() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let api = Api::new(&emulator);
    let mut seen = HashSet::new();
    for id in emulator.bird_conversation_ids() {
        let (newest_first, sizes) = api.bird_walk(&id, "limit=9").await;
        assert!(
            sizes[..sizes.len() - 1].iter().all(|&n| n == 9),
            "{sizes:?}"
        );
        let times: Vec<&str> = newest_first
            .iter()
            .map(|m| m["createdAt"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] > w[1]), "newest first");
        for m in &newest_first {
            assert_eq!(m["conversationId"], id.as_str());
            assert!(seen.insert(m["id"].as_str().unwrap().to_owned()));
        }
        let (mut oldest_first, _) = api.bird_walk(&id, "limit=100&reverse=true").await;
        oldest_first.reverse();
        assert_eq!(oldest_first, newest_first);
        let (_, sizes) = api.bird_walk(&id, "").await;
        assert!(
            sizes[0] == 10 || sizes.len() == 1,
            "default limit 10: {sizes:?}"
        );
        // dateFrom keeps the messages created strictly after it.
        if newest_first.len() > 3 {
            let from = times[2];
            let (after, _) = api
                .bird_walk(&id, &format!("limit=2&dateFrom={from}"))
                .await;
            assert_eq!(after, newest_first[..2].to_vec());
        }
    }
    assert!(!seen.is_empty());
    let mut listed = Vec::new();
    let mut token = String::new();
    loop {
        let reply = api
            .bird(&format!("/conversations?limit=5&pageToken={token}"))
            .await;
        assert_eq!(reply.status, 200);
        let page = bird_types::ConversationsPage::from_slice(&reply.body).unwrap();
        assert!(page.results.rejected().is_empty());
        listed.extend(page.results.iter().map(|c| c.id.clone()));
        match page.next_page() {
            Some(next) => token = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(listed, emulator.bird_conversation_ids());
    let one = api.bird(&format!("/conversations/{}", listed[1])).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["id"], listed[1].as_str());
}

#[tokio::test]
async fn the_provider_clients_fetch_the_whole_dataset() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let config = emulator.config();
    let partoo = partoo_client::Client::builder(config.partoo_key.clone())
        .base_url(&emulator.partoo_base_url())
        .build()
        .unwrap();
    let bird = bird_client::Client::builder(config.bird_key.clone(), config.bird_workspace.clone())
        .base_url(&emulator.bird_base_url())
        .build()
        .unwrap();
    let mut total = 0;
    let conversations: Vec<_> = partoo
        .conversations(partoo_client::ListConversationsQuery::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(conversations.len(), 12);
    for conversation in conversations {
        let messages: Vec<_> = partoo
            .messages(conversation.id)
            .try_collect()
            .await
            .unwrap();
        total += messages.len();
    }
    let conversations: Vec<_> = bird
        .conversations(bird_client::ListConversationsQuery::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(conversations.len(), 12);
    for conversation in conversations {
        let messages: Vec<_> = bird.messages(conversation.id).try_collect().await.unwrap();
        total += messages.len();
    }
    assert_eq!(total, emulator.message_count());
    // A few long conversations (hundreds of messages), the rest within 3..=40.
    let stats = emulator.stats();
    assert!(stats.partoo_requests > 12 && stats.bird_requests > 12);
    assert_eq!((stats.partoo_connections, stats.bird_connections), (1, 1));
}

#[tokio::test]
async fn many_accounts_each_open_their_own_data_and_are_counted_apart() {
    let emulator = Emulator::start(Config {
        accounts: 3,
        latency: Duration::from_millis(40),
        ..small(2, 2, 5..=5)
    })
    .await
    .unwrap();
    assert_eq!(emulator.account_count(), 3);
    assert!(emulator.account(3).is_none() && emulator.account_stats(3).is_none());
    let config = emulator.config().clone();
    let first = emulator.account(0).unwrap().clone();
    assert_eq!(
        (first.partoo_key.as_str(), first.partoo_org_id, first.seed),
        (
            config.partoo_key.as_str(),
            config.partoo_org_id,
            config.seed
        )
    );
    let second = emulator.account(2).unwrap().clone();
    assert_eq!(
        second.bird_workspace,
        format!("{}-2", config.bird_workspace)
    );
    assert_eq!(second.partoo_org_id, config.partoo_org_id + 2);

    // Each account's clients read its whole dataset, and exactly the ids it reports.
    let mut bird_ids = Vec::new();
    for i in 0..3 {
        let account = emulator.account(i).unwrap();
        let partoo = partoo_client::Client::builder(account.partoo_key.clone())
            .base_url(&emulator.partoo_base_url())
            .build()
            .unwrap();
        let bird =
            bird_client::Client::builder(account.bird_key.clone(), account.bird_workspace.clone())
                .base_url(&emulator.bird_base_url())
                .build()
                .unwrap();
        let want = emulator.message_ids(i).unwrap();
        assert_eq!(want.len(), 20, "2 conversations of 5 messages per provider");
        for (conversation, ids) in &want.partoo {
            let got: Vec<String> = partoo
                .messages(*conversation)
                .map_ok(|m| m.id.to_string())
                .try_collect()
                .await
                .unwrap();
            assert_eq!(&got, ids, "account {i}, Partoo conversation {conversation}");
        }
        for (conversation, ids) in &want.bird {
            let mut got: Vec<String> = bird
                .messages(conversation.clone())
                .map_ok(|m| m.id.to_string())
                .try_collect()
                .await
                .unwrap();
            got.reverse(); // Bird lists newest first.
            assert_eq!(&got, ids, "account {i}, Bird conversation {conversation}");
        }
        bird_ids.push(want.bird.into_values().flatten().collect::<BTreeSet<_>>());
    }
    assert!(
        bird_ids[0].is_disjoint(&bird_ids[1]) && bird_ids[1].is_disjoint(&bird_ids[2]),
        "each account has its own dataset"
    );

    let client = reqwest::Client::new();
    let me = |key: String| {
        let client = client.clone();
        let url = format!("{}/users/me", emulator.partoo_base_url());
        async move { get(&client, &url, &[("x-APIKey", &key)]).await }
    };
    let reply = me(second.partoo_key.clone()).await;
    assert_eq!(reply.json()["org_id"], json!(config.partoo_org_id + 2));
    let reply = me(format!("{}-3", config.partoo_key)).await;
    assert_eq!(reply.status, 401, "no account 3");
    // A key opens its own workspace only.
    let other = emulator.account(1).unwrap().bird_workspace.clone();
    let reply = get(
        &client,
        &format!(
            "{}/workspaces/{other}/conversations",
            emulator.bird_base_url()
        ),
        &[("Authorization", &format!("AccessKey {}", second.bird_key))],
    )
    .await;
    assert_eq!(
        (reply.status, reply.json()["code"].clone()),
        (403, json!("Forbidden"))
    );

    // Two requests of account 2 at once, while account 1's come one at a time.
    let before = emulator.account_stats(1).unwrap();
    let (a, b) = tokio::join!(me(second.partoo_key.clone()), me(second.partoo_key.clone()));
    assert_eq!((a.status, b.status), (200, 200));
    let one = emulator.account(1).unwrap().partoo_key.clone();
    me(one.clone()).await;
    me(one).await;
    let stats = emulator.account_stats(2).unwrap();
    assert_eq!(stats.partoo_peak_in_flight, 2);
    let stats = emulator.account_stats(1).unwrap();
    assert_eq!(stats.partoo_peak_in_flight, 1);
    assert_eq!(stats.partoo_requests, before.partoo_requests + 2);
    assert_eq!(stats.bird_peak_in_flight, 1);
    assert!(stats.bird_requests > 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn synthetic_sizes_follow_the_range() {
    let emulator = Emulator::start(small(13, 7, 3..=40)).await.unwrap();
    let api = Api::new(&emulator);
    let mut long = 0;
    for (i, id) in emulator.partoo_conversation_ids().into_iter().enumerate() {
        let count = api
            .partoo(&format!("/messages?conversation_id={id}&per_page=1"))
            .await
            .json()["count"]
            .as_u64()
            .unwrap();
        if i % 6 == 0 {
            assert!((250..=400).contains(&count), "{i}: {count}");
            long += 1;
        } else {
            assert!((3..=40).contains(&count), "{i}: {count}");
        }
    }
    assert_eq!(long, 3);
    let exact = Emulator::start(small(5, 5, 17..=17)).await.unwrap();
    assert_eq!(exact.message_count(), 170);
    let empty = Emulator::start(small(2, 2, 0..=0)).await.unwrap();
    assert_eq!(empty.message_count(), 0);
    let api = Api::new(&empty);
    let id = empty.partoo_conversation_ids()[0];
    let (messages, _) = api.partoo_walk(id, None).await;
    assert!(messages.is_empty());
    let (messages, _) = api.bird_walk(&empty.bird_conversation_ids()[0], "").await;
    assert!(messages.is_empty());
    let conversations = api.bird("/conversations").await;
    bird_types::ConversationsPage::from_slice(&conversations.body).unwrap();
}

// ----------------------------------------------------------------------------------------
// Limits, auth, errors
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn page_sizes_outside_1_to_100_are_refused_with_the_documented_body() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let api = Api::new(&emulator);
    let id = emulator.partoo_conversation_ids()[0];
    for bad in ["0", "101", "-1", "100000000000000000000"] {
        for path in [
            format!("/messages?conversation_id={id}&per_page={bad}"),
            format!("/conversations?per_page={bad}"),
        ] {
            let reply = api.partoo(&path).await;
            assert_eq!(reply.status, 400, "{path}");
            let expected = if bad.len() > 4 {
                json!({"error": {"json": {"per_page": ["Not a valid integer."]}}})
            } else {
                json!({"error": {"json": {"per_page": ["Must be between 1 and 100."]}}})
            };
            assert_eq!(reply.json(), expected, "{path}");
            assert_eq!(reply.content_type.as_deref(), Some("application/json"));
        }
    }
    let bird_id = &emulator.bird_conversation_ids()[0];
    for bad in ["0", "101", "ten"] {
        for path in [
            format!("/conversations/{bird_id}/messages?limit={bad}"),
            format!("/conversations?limit={bad}"),
        ] {
            let reply = api.bird(&path).await;
            assert_eq!(reply.status, 400, "{path}");
            assert_eq!(reply.json()["code"], "InvalidParameter");
            assert!(reply.json()["message"].as_str().unwrap().contains("limit"));
        }
    }
    for ok in ["1", "100"] {
        assert_eq!(
            api.partoo(&format!("/messages?conversation_id={id}&per_page={ok}"))
                .await
                .status,
            200
        );
        assert_eq!(
            api.bird(&format!("/conversations/{bird_id}/messages?limit={ok}"))
                .await
                .status,
            200
        );
    }
    // Partoo: a missing or invalid conversation id, a bad cursor.
    let reply = api.partoo("/messages?per_page=0").await;
    assert_eq!(
        reply.json(),
        json!({"error": {"json": {
            "conversation_id": ["Missing data for required field."],
            "per_page": ["Must be between 1 and 100."],
        }}})
    );
    let reply = api.partoo("/messages?conversation_id=abc").await;
    assert_eq!(
        (reply.status, reply.json()),
        (
            400,
            json!({"error": {"json": {"conversation_id": ["Not a valid integer."]}}})
        )
    );
    let reply = api
        .partoo(&format!("/messages?conversation_id={id}&cursor=nope"))
        .await;
    assert_eq!(
        (reply.status, reply.json()),
        (
            400,
            json!({"error": {"json": {"cursor": ["Invalid cursor."]}}})
        )
    );
    // A cursor of another conversation is not one of this one.
    let other = emulator.partoo_conversation_ids()[1];
    let first = api
        .partoo(&format!("/messages?conversation_id={id}&per_page=1"))
        .await
        .json();
    let cursor = first["next_cursor"].as_str().unwrap();
    let reply = api
        .partoo(&format!(
            "/messages?conversation_id={other}&cursor={cursor}"
        ))
        .await;
    assert_eq!(reply.status, 400);
    // Bird: bad token, reverse and dateFrom.
    for query in ["pageToken=nope", "reverse=maybe", "dateFrom=yesterday"] {
        let reply = api
            .bird(&format!("/conversations/{bird_id}/messages?{query}"))
            .await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(reply.json()["code"], "InvalidParameter");
    }
    assert_eq!(api.bird("/conversations?pageToken=nope").await.status, 400);
    assert_eq!(api.partoo("/conversations?cursor=nope").await.status, 400);
}

#[tokio::test]
async fn auth_and_not_found_bodies() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let client = reqwest::Client::new();
    let partoo = emulator.partoo_base_url();
    let bird = emulator.bird_base_url();
    let id = emulator.partoo_conversation_ids()[0];
    let messages = format!("{partoo}/messages?conversation_id={id}");
    let unauthenticated = json!({"error": {"authentication": "User not authenticated"}});
    for headers in [vec![], vec![("x-APIKey", "wrong")], vec![("x-APIKey", "")]] {
        let reply = get(&client, &messages, &headers).await;
        assert_eq!((reply.status, reply.json()), (401, unauthenticated.clone()));
    }
    let key = emulator.config().partoo_key.clone();
    let with_key = [("x-APIKey", key.as_str())];
    // 403: a business the key may not see.
    let reply = get(
        &client,
        &format!("{partoo}/conversations?business__in=not-mine"),
        &with_key,
    )
    .await;
    assert_eq!(
        (reply.status, reply.json()),
        (
            403,
            json!({"error": {"authorization": "Operation not allowed"}})
        )
    );
    // The businesses it may see filter the listing.
    let all = get(
        &client,
        &format!("{partoo}/conversations?per_page=100"),
        &with_key,
    )
    .await
    .json();
    let business = all["conversations"][0]["business"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let filtered = get(
        &client,
        &format!("{partoo}/conversations?per_page=100&business__in={business}"),
        &with_key,
    )
    .await
    .json();
    let expected: Vec<&Value> = all["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["business"]["id"] == business.as_str())
        .collect();
    assert_eq!(
        filtered["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        expected
    );
    assert_eq!(filtered["count"], expected.len());
    let reply = get(
        &client,
        &format!("{partoo}/conversations?business__in={business},"),
        &with_key,
    )
    .await;
    assert_eq!(reply.status, 400);
    // 404s.
    let not_found = json!({"error": {"json": "Resource not found"}});
    for path in [
        "/messages?conversation_id=1",
        "/conversations/1",
        "/nothing",
        "/conversations/x",
    ] {
        let reply = get(&client, &format!("{partoo}{path}"), &with_key).await;
        assert_eq!(
            (reply.status, reply.json()),
            (404, not_found.clone()),
            "{path}"
        );
    }

    let workspace = &emulator.config().bird_workspace;
    let bird_id = &emulator.bird_conversation_ids()[0];
    let url = format!("{bird}/workspaces/{workspace}/conversations/{bird_id}/messages");
    let good = format!("AccessKey {}", emulator.config().bird_key);
    for headers in [
        vec![],
        vec![("Authorization", "AccessKey wrong")],
        vec![("Authorization", "Bearer emulator-bird-key")],
    ] {
        let reply = get(&client, &url, &headers).await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.json()["code"], "Unauthorized");
        assert!(reply.json()["message"].is_string());
    }
    let auth = [("Authorization", good.as_str())];
    let reply = get(
        &client,
        &format!("{bird}/workspaces/someone-else/conversations"),
        &auth,
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.json()["code"], "Forbidden");
    let missing = format!(
        "{bird}/workspaces/{workspace}/conversations/00000000-0000-4000-8000-000000000000/messages"
    );
    let reply = get(&client, &missing, &auth).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json()["code"], "NotFound");
    bird_types::ErrorBody::from_slice(&reply.body).unwrap();
    let reply = get(&client, &format!("{bird}/elsewhere"), &auth).await;
    assert_eq!(reply.status, 404);
    // GET and POST only, each where it is served.
    let reply = client
        .put(format!("{partoo}/messages"))
        .header("x-APIKey", &key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 405);
    assert_eq!(reply.headers()["allow"], "GET, POST");
    let reply = post(&client, &format!("{partoo}/conversations"), &with_key, "{}").await;
    assert_eq!((reply.status, reply.allow.as_deref()), (405, Some("GET")));
    assert_eq!(
        reply.json(),
        json!({"error": {"json": "only GET is supported here"}})
    );
}

// ----------------------------------------------------------------------------------------
// Content
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn served_pages_decode_and_cover_every_content_kind() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let api = Api::new(&emulator);
    let mut kinds = BTreeSet::new();
    for id in emulator.partoo_conversation_ids() {
        let (messages, _) = api.partoo_walk(id, Some(100)).await;
        for value in messages {
            let message: partoo_types::Message = serde_json::from_value(value).unwrap();
            assert!(!message.content.is_raw(), "{message:?}");
            assert!(message.content_type.is_known() && message.sender_type.is_known());
            assert!(message.status.as_ref().is_some_and(|s| s.is_known()));
            let unified = inbox_normalize::Message::from(message);
            assert!(!format!("{:?}", unified.status).starts_with("Unknown"));
            kinds.insert(format!("partoo {}", kind(&unified)));
        }
    }
    for id in emulator.bird_conversation_ids() {
        let (messages, _) = api.bird_walk(&id, "limit=100").await;
        for value in messages {
            let message: bird_types::Message = serde_json::from_value(value).unwrap();
            assert!(message.status.is_known() && message.source.is_known());
            assert!(message.sender.participant_type.is_known());
            if let Some(body) = message.body() {
                assert!(
                    !matches!(body.content, bird_types::BodyContent::Untyped(_)),
                    "{body:?}"
                );
            }
            let unified = inbox_normalize::Message::from(message);
            assert!(!format!("{:?}", unified.status).starts_with("Unknown"));
            assert!(!format!("{:?}", unified.sender.role).starts_with("Unknown"));
            kinds.insert(format!("bird {}", kind(&unified)));
        }
    }
    let expected: BTreeSet<String> = [
        "partoo text",
        "partoo image",
        "partoo video",
        "partoo audio",
        "partoo file",
        "partoo story_reply",
        "partoo story_mention",
        "partoo unsupported",
        "partoo event:conversation_solved",
        "partoo event:conversation_reopened",
        "bird text",
        "bird html",
        "bird image",
        "bird file",
        "bird gif",
        "bird location",
        "bird interactive:carousel",
        "bird interactive:list",
        "bird interactive:section",
        "bird interactive:authentication",
        "bird interactive:permission_request",
        "bird template",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(kinds, expected);
}

#[test]
fn generated_pages_decode_with_every_kind_in_realistic_proportions() {
    for seed in [0, 7, 42] {
        let body = generate::partoo_page(seed, 100);
        let page = partoo_types::MessagesPage::from_slice(&body).unwrap();
        assert_eq!(
            (page.messages.len(), page.messages.rejected().len()),
            (100, 0)
        );
        let mut kinds = std::collections::BTreeMap::<String, usize>::new();
        for message in page.messages.iter() {
            assert!(!message.content.is_raw());
            *kinds.entry(kind(&message.clone().into())).or_default() += 1;
        }
        assert_eq!(kinds.len(), 10, "{kinds:?}");
        assert!(kinds["text"] >= 50, "mostly text: {kinds:?}");

        let body = generate::bird_page(seed, 100);
        let page = bird_types::MessagesPage::from_slice(&body).unwrap();
        assert_eq!(
            (page.results.len(), page.results.rejected().len()),
            (100, 0)
        );
        assert_eq!(page.next_page(), None);
        let mut kinds = std::collections::BTreeMap::<String, usize>::new();
        for message in page.results.iter() {
            *kinds.entry(kind(&message.clone().into())).or_default() += 1;
        }
        assert_eq!(kinds.len(), 12, "{kinds:?}");
        assert!(kinds["text"] >= 50, "mostly text: {kinds:?}");
        assert!(!kinds.contains_key("unknown"));
    }
    assert_eq!(generate::partoo_page(1, 100), generate::partoo_page(1, 100));
    assert_ne!(generate::partoo_page(1, 100), generate::partoo_page(2, 100));
    assert_eq!(generate::bird_page(1, 3), generate::bird_page(1, 3));
    let empty: Value = serde_json::from_slice(&generate::bird_page(1, 0)).unwrap();
    assert_eq!(empty["results"], json!([]));
}

// ----------------------------------------------------------------------------------------
// Determinism
// ----------------------------------------------------------------------------------------

async fn snapshot(emulator: &Emulator) -> Vec<Vec<u8>> {
    let api = Api::new(emulator);
    let mut bodies = vec![
        api.partoo("/conversations?per_page=100").await.body,
        api.bird("/conversations?limit=100").await.body,
    ];
    for id in emulator.partoo_conversation_ids() {
        bodies.push(
            api.partoo(&format!("/messages?conversation_id={id}&per_page=100"))
                .await
                .body,
        );
    }
    for id in emulator.bird_conversation_ids() {
        bodies.push(
            api.bird(&format!("/conversations/{id}/messages?limit=100"))
                .await
                .body,
        );
    }
    bodies
}

#[tokio::test]
async fn the_same_seed_gives_the_same_bytes() {
    let a = Emulator::start(Config::default()).await.unwrap();
    let b = Emulator::start(Config::default()).await.unwrap();
    assert_eq!(a.partoo_conversation_ids(), b.partoo_conversation_ids());
    assert_eq!(a.bird_conversation_ids(), b.bird_conversation_ids());
    assert_eq!(a.message_count(), b.message_count());
    assert_eq!(snapshot(&a).await, snapshot(&b).await);
    let c = Emulator::start(Config {
        seed: 8,
        ..Config::default()
    })
    .await
    .unwrap();
    assert_ne!(a.bird_conversation_ids(), c.bird_conversation_ids());
    assert_ne!(snapshot(&a).await, snapshot(&c).await);
}

// ----------------------------------------------------------------------------------------
// Faults
// ----------------------------------------------------------------------------------------

#[derive(Debug, Default, PartialEq)]
struct Seen {
    ok: usize,
    rate_limited: usize,
    server: [usize; 3],
    cut: usize,
    dropped: usize,
}

async fn hammer(emulator: &Emulator, requests: usize) -> (Seen, Vec<String>) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let id = emulator.partoo_conversation_ids()[0];
    let url = format!(
        "{}/messages?conversation_id={id}&per_page=100",
        emulator.partoo_base_url()
    );
    let key = emulator.config().partoo_key.clone();
    let mut seen = Seen::default();
    let mut sequence = Vec::new();
    for _ in 0..requests {
        let outcome = match client.get(&url).header("x-APIKey", &key).send().await {
            Err(_) => {
                seen.dropped += 1;
                "dropped".to_owned()
            }
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response.headers().get("retry-after").cloned();
                match response.bytes().await {
                    Err(_) => {
                        seen.cut += 1;
                        "cut".to_owned()
                    }
                    Ok(body) => {
                        let value: Value = serde_json::from_slice(&body).unwrap();
                        match status {
                            200 => seen.ok += 1,
                            429 => {
                                assert_eq!(retry_after.unwrap(), "3");
                                assert!(value["error"]["rate_limit"].is_string());
                                seen.rate_limited += 1;
                            }
                            500 | 502 | 503 => {
                                assert!(value["error"]["server"].is_string());
                                seen.server[match status {
                                    500 => 0,
                                    502 => 1,
                                    _ => 2,
                                }] += 1;
                            }
                            other => panic!("unexpected {other}"),
                        }
                        status.to_string()
                    }
                }
            }
        };
        sequence.push(outcome);
    }
    (seen, sequence)
}

fn faulty() -> Config {
    Config {
        faults: Faults {
            rate_limited: 0.1,
            retry_after_secs: 3,
            server_error: 0.15,
            slow: 0.1,
            slow_delay: Duration::from_millis(20),
            cut_body: 0.1,
            drop_connection: 0.1,
            ..Faults::default()
        },
        ..Config::default()
    }
}

#[tokio::test]
async fn faults_are_injected_counted_and_repeatable() {
    let emulator = Emulator::start(faulty()).await.unwrap();
    let (seen, sequence) = hammer(&emulator, 300).await;
    let stats = emulator.stats();
    assert!(
        seen.rate_limited > 0 && seen.cut > 0 && seen.dropped > 0,
        "{seen:?}"
    );
    assert!(
        seen.server.iter().all(|&n| n > 0),
        "500, 502 and 503: {seen:?}"
    );
    assert_eq!(stats.rate_limited, seen.rate_limited);
    assert_eq!(stats.server_errors, seen.server.iter().sum::<usize>());
    assert_eq!(stats.cut_bodies, seen.cut);
    assert_eq!(stats.dropped, seen.dropped);
    assert!(stats.slow > 0, "{stats:?}");
    assert_eq!(
        stats.faults,
        stats.rate_limited + stats.server_errors + stats.slow + stats.cut_bodies + stats.dropped
    );
    assert_eq!(stats.partoo_requests, 300);
    // Every fault cost its connection (cut and dropped), the rest were kept alive.
    assert_eq!(stats.partoo_connections, 1 + seen.cut + seen.dropped);
    // Roughly the fractions asked for (10%, 15%, 10%, 10%, 10% of 300).
    assert!((15..=50).contains(&seen.rate_limited), "{seen:?}");
    assert!(
        (25..=70).contains(&seen.server.iter().sum::<usize>()),
        "{seen:?}"
    );

    // The same configuration and the same requests meet the same faults.
    let again = Emulator::start(faulty()).await.unwrap();
    let (_, repeat) = hammer(&again, 300).await;
    assert_eq!(repeat, sequence);
    assert_eq!(again.stats(), stats);
}

#[tokio::test]
async fn latency_is_added_to_every_response() {
    let emulator = Emulator::start(Config {
        latency: Duration::from_millis(30),
        ..Config::default()
    })
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let start = std::time::Instant::now();
    for _ in 0..3 {
        assert_eq!(api.bird("/conversations").await.status, 200);
    }
    assert!(start.elapsed() >= Duration::from_millis(90));
}

fn only(faults: Faults) -> Config {
    Config {
        faults,
        ..Config::default()
    }
}

/// The Partoo URL of the first conversation's first 100 messages, and its key.
fn first_page(emulator: &Emulator) -> (String, String) {
    let id = emulator.partoo_conversation_ids()[0];
    let url = format!(
        "{}/messages?conversation_id={id}&per_page=100",
        emulator.partoo_base_url()
    );
    (url, emulator.config().partoo_key.clone())
}

#[tokio::test]
async fn a_cut_body_is_a_body_error_after_half_of_what_the_head_announced() {
    let emulator = Emulator::start(only(Faults {
        cut_body: 1.0,
        ..Faults::default()
    }))
    .await
    .unwrap();
    let (url, key) = first_page(&emulator);
    let client = reqwest::Client::new();
    let mut response = client
        .get(&url)
        .header("x-APIKey", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let announced: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(announced > 10_000);
    let mut received = 0;
    let error = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received += chunk.len(),
            Ok(None) => panic!("the body ended whole"),
            Err(error) => break error,
        }
    };
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    assert_eq!(received, announced / 2);
    let stats = emulator.stats();
    assert_eq!((stats.cut_bodies, stats.faults), (1, 1));
}

#[tokio::test]
async fn a_dropped_connection_is_a_connection_error_without_a_response() {
    let emulator = Emulator::start(only(Faults {
        drop_connection: 1.0,
        ..Faults::default()
    }))
    .await
    .unwrap();
    let (url, key) = first_page(&emulator);
    let error = reqwest::Client::new()
        .get(&url)
        .header("x-APIKey", &key)
        .send()
        .await
        .unwrap_err();
    assert!(error.is_request() && !error.is_timeout(), "{error:?}");
    assert_eq!(error.status(), None);
    // On the wire: the connection closes, not a byte of answer.
    let mut stream = TcpStream::connect(emulator.partoo_addr()).await.unwrap();
    let request = partoo_request(&emulator, "/conversations", "");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert_eq!(emulator.stats().dropped, 2);
}

#[tokio::test]
async fn a_hang_never_answers_and_a_client_timeout_ends_it() {
    let emulator = Emulator::start(only(Faults {
        hang: 1.0,
        ..Faults::default()
    }))
    .await
    .unwrap();
    let (url, key) = first_page(&emulator);
    let started = std::time::Instant::now();
    let error = reqwest::Client::new()
        .get(&url)
        .header("x-APIKey", &key)
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(emulator.stats().hung, 1);
}

#[tokio::test(start_paused = true)]
async fn a_hang_holds_the_connection_open_until_shutdown() {
    let emulator = Emulator::start(only(Faults {
        hang: 1.0,
        ..Faults::default()
    }))
    .await
    .unwrap();
    let mut stream = TcpStream::connect(emulator.partoo_addr()).await.unwrap();
    let request = partoo_request(&emulator, "/conversations", "");
    stream.write_all(request.as_bytes()).await.unwrap();
    // An hour of (virtual) waiting: no head, and the connection is still open.
    let mut byte = [0u8; 1];
    let waited = tokio::time::timeout(Duration::from_secs(3600), stream.read(&mut byte)).await;
    assert!(waited.is_err(), "{waited:?}");
    assert_eq!(emulator.stats().hung, 1);
    emulator.shutdown().await;
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await;
    assert!(matches!(read, Ok(Ok(0) | Err(_))), "{read:?}");
}

#[tokio::test]
async fn a_hang_ends_when_the_client_gives_up() {
    let emulator = Emulator::start(only(Faults {
        hang: 1.0,
        ..Faults::default()
    }))
    .await
    .unwrap();
    let alive = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let idle = alive();
    let mut stream = TcpStream::connect(emulator.partoo_addr()).await.unwrap();
    let request = partoo_request(&emulator, "/conversations", "");
    stream.write_all(request.as_bytes()).await.unwrap();
    while emulator.stats().hung == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(alive(), idle + 1, "the hanging connection's task");
    drop(stream);
    // hyper sees the connection close and drops the request: nothing is left behind.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while alive() > idle && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(alive(), idle);
}

#[tokio::test(start_paused = true)]
async fn a_trickle_sends_the_head_then_one_byte_per_interval() {
    let emulator = Emulator::start(only(Faults {
        trickle: 1.0,
        trickle_interval: Duration::from_secs(2),
        ..Faults::default()
    }))
    .await
    .unwrap();
    let mut stream = TcpStream::connect(emulator.partoo_addr()).await.unwrap();
    let request = partoo_request(&emulator, "/nothing", "");
    let started = tokio::time::Instant::now();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut arrivals = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0);
        received.extend_from_slice(&chunk[..n]);
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    // The head comes at once, announcing the whole body.
    assert!(started.elapsed() < Duration::from_millis(100));
    let head = String::from_utf8(received[..head_end].to_vec()).unwrap();
    assert!(head.starts_with("HTTP/1.1 404 "), "{head}");
    let body = json!({"error": {"json": "Resource not found"}}).to_string();
    assert!(
        head.contains(&format!("Content-Length: {}", body.len())),
        "{head}"
    );
    let mut got = received[head_end..].to_vec();
    while got.len() < body.len() {
        let n = stream.read(&mut chunk).await.unwrap();
        assert_eq!(n, 1, "one byte at a time");
        got.extend_from_slice(&chunk[..n]);
        arrivals.push(started.elapsed());
    }
    assert_eq!(String::from_utf8(got).unwrap(), body);
    for (i, at) in arrivals.iter().enumerate() {
        let expected = Duration::from_secs(2 * (i as u64 + 1));
        assert!(
            *at >= expected && *at < expected + Duration::from_millis(100),
            "byte {i} at {at:?}"
        );
    }
    assert_eq!(emulator.stats().trickled, 1);
}

#[tokio::test(start_paused = true)]
async fn latency_and_slow_answers_run_on_tokio_time() {
    let emulator = Emulator::start(Config {
        latency: Duration::from_secs(10),
        faults: "slow=1,slow-ms=5000".parse().unwrap(),
        ..Config::default()
    })
    .await
    .unwrap();
    let mut stream = TcpStream::connect(emulator.partoo_addr()).await.unwrap();
    let started = tokio::time::Instant::now();
    let request = partoo_request(&emulator, "/conversations", "");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let (status, _, _) = read_response(&mut stream, &mut buf).await.unwrap();
    assert_eq!(status, 200);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(15) && took < Duration::from_secs(16),
        "{took:?}"
    );
    assert_eq!(emulator.stats().slow, 1);
}

#[tokio::test]
async fn a_parsed_spec_drives_the_faults() {
    let faults: Faults = "429=1,retry-after=7".parse().unwrap();
    let emulator = Emulator::start(only(faults)).await.unwrap();
    let api = Api::new(&emulator);
    let reply = api.bird("/conversations").await;
    assert_eq!(reply.status, 429);
    assert_eq!(
        reply.json(),
        json!({"code": "TooManyRequests", "message": "Too many requests"})
    );
    let error = "429=1,5xx=0.5".parse::<Faults>().unwrap_err();
    assert!(error.to_string().contains("more than 1"), "{error}");
}

// ----------------------------------------------------------------------------------------
// HTTP
// ----------------------------------------------------------------------------------------

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let id = emulator.partoo_conversation_ids()[1];
    let mut stream = TcpStream::connect(("127.0.0.1", port(&emulator.partoo_base_url())))
        .await
        .unwrap();
    let mut buf = Vec::new();
    let request = partoo_request(
        &emulator,
        &format!("/messages?conversation_id={id}&per_page=2"),
        "",
    );
    for _ in 0..50 {
        stream.write_all(request.as_bytes()).await.unwrap();
        let (status, head, body) = read_response(&mut stream, &mut buf).await.unwrap();
        assert_eq!(status, 200);
        assert!(head.contains("Content-Type: application/json"));
        assert!(!head.to_ascii_lowercase().contains("connection: close"));
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap()["messages"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
    // Pipelined: three requests at once, three answers in order.
    let pipelined = format!(
        "{}{}{}",
        request,
        partoo_request(&emulator, "/nothing", ""),
        request
    );
    stream.write_all(pipelined.as_bytes()).await.unwrap();
    let statuses = [
        read_response(&mut stream, &mut buf).await.unwrap().0,
        read_response(&mut stream, &mut buf).await.unwrap().0,
        read_response(&mut stream, &mut buf).await.unwrap().0,
    ];
    assert_eq!(statuses, [200, 404, 200]);
    // `Connection: close` is honoured.
    stream
        .write_all(partoo_request(&emulator, "/conversations", "Connection: close\r\n").as_bytes())
        .await
        .unwrap();
    let (status, head, _) = read_response(&mut stream, &mut buf).await.unwrap();
    assert_eq!(status, 200);
    assert!(head.contains("Connection: close"));
    assert!(read_response(&mut stream, &mut buf).await.is_none());
    let stats = emulator.stats();
    assert_eq!((stats.partoo_connections, stats.partoo_requests), (1, 54));
    assert_eq!((stats.bird_connections, stats.bird_requests), (0, 0));

    // reqwest keeps one connection for sequential requests.
    let api = Api::new(&emulator);
    for _ in 0..20 {
        assert_eq!(api.bird("/conversations").await.status, 200);
    }
    assert_eq!(emulator.stats().bird_connections, 1);
}

#[tokio::test]
async fn hostile_requests_get_a_clear_answer_and_never_a_panic() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let address = ("127.0.0.1", port(&emulator.partoo_base_url()));
    let huge_header = format!(
        "GET /v2/conversations HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let many_headers = format!(
        "GET /v2/conversations HTTP/1.1\r\n{}\r\n",
        (0..101)
            .map(|i| format!("X-{i}: y\r\n"))
            .collect::<String>()
    );
    // hyper refuses malformed heads itself: a bare status, no body, the connection closed.
    let refused: Vec<(Vec<u8>, u16)> = vec![
        (huge_header.into_bytes(), 431),
        (many_headers.into_bytes(), 431),
        (b"NONSENSE\r\n\r\n".to_vec(), 400),
        (b"GET /v2/conversations HTTP/9.9\r\n\r\n".to_vec(), 400),
        (
            b"GET /v2/conversations HTTP/1.1\r\nbroken header\r\n\r\n".to_vec(),
            400,
        ),
        (
            b"GET /v2/conversations HTTP/1.1\r\nContent-Length: x\r\n\r\n".to_vec(),
            400,
        ),
        (b"GET /v2/\xff HTTP/1.1\r\n\r\n".to_vec(), 400),
    ];
    let count = refused.len();
    for (request, expected) in refused {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(&request).await.unwrap();
        let mut buf = Vec::new();
        let (status, head, body) = read_response(&mut stream, &mut buf).await.unwrap();
        let start = String::from_utf8_lossy(&request[..40.min(request.len())]).into_owned();
        assert_eq!(status, expected, "{start}");
        assert!(head.contains("Connection: close"), "{start}");
        assert!(body.is_empty(), "{start}");
        assert!(
            read_response(&mut stream, &mut buf).await.is_none(),
            "{start}"
        );
    }
    // Malformed requests are requests too.
    assert_eq!(emulator.stats().partoo_requests, count);
    // A body announced too large is refused with the provider's body, and the connection
    // closed (the body is not read).
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /v2/conversations HTTP/1.1\r\nContent-Length: 999999\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let (status, head, body) = read_response(&mut stream, &mut buf).await.unwrap();
    assert_eq!(status, 413);
    assert!(head.contains("Connection: close"));
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"error": {"json": "the request body is too large"}})
    );
    // Malformed queries and paths, with the key.
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut buf = Vec::new();
    for (target, expected) in [
        ("/messages?conversation_id=%zz", 400),
        ("/messages?conversation_id=%ff", 400),
        ("/%zz", 404),
        ("/messages?conversation_id=1&&&per_page=", 400),
    ] {
        stream
            .write_all(partoo_request(&emulator, target, "").as_bytes())
            .await
            .unwrap();
        let (status, _, _) = read_response(&mut stream, &mut buf).await.unwrap();
        assert_eq!(status, expected, "{target}");
    }
    // A GET with a small body is read past, and the connection goes on.
    let id = emulator.partoo_conversation_ids()[0];
    let with_body = partoo_request(
        &emulator,
        &format!("/messages?conversation_id={id}"),
        "Content-Length: 5\r\n",
    ) + "hello";
    stream.write_all(with_body.as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut stream, &mut buf).await.unwrap().0, 200);
    // So is a chunked one.
    let chunked = partoo_request(
        &emulator,
        &format!("/messages?conversation_id={id}"),
        "Transfer-Encoding: chunked\r\n",
    ) + "5\r\nhello\r\n0\r\n\r\n";
    stream.write_all(chunked.as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut stream, &mut buf).await.unwrap().0, 200);
    // HEAD gets a head and no body.
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "HEAD /v2/conversations HTTP/1.1\r\nx-APIKey: {}\r\nConnection: close\r\n\r\n",
        emulator.config().partoo_key
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 405 "), "{answer}");
    assert!(answer.ends_with("\r\n\r\n"), "{answer}");
    // A client that goes away mid-request is no problem.
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(b"GET /v2/conv").await.unwrap();
    drop(stream);
    let api = Api::new(&emulator);
    assert_eq!(api.partoo("/conversations").await.status, 200);

    // Hostile POST bodies: each gets the provider's answer, and the connection goes on.
    let key = emulator.config().partoo_key.clone();
    let post_partoo = |target: &str, body: &[u8]| {
        let mut request = format!(
            "POST /v2{target} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-APIKey: {key}\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        request
    };
    let id = emulator.partoo_conversation_ids()[0];
    let invalid_json = json!({"error": {"json": {"_schema": ["Invalid JSON body."]}}});
    let not_integer = json!({"error": {"json": {"conversation_id": ["Not a valid integer."]}}});
    let not_found = json!({"error": {"json": "Resource not found"}});
    let text = |conversation: &str, content: &str| {
        format!(
            r#"{{"conversation_id": {conversation}, "content_type": "Text", "content": {content}}}"#
        )
        .into_bytes()
    };
    let deep = "[".repeat(60_000).into_bytes();
    let wide = format!("[{}1]", "1,".repeat(20_000)).into_bytes();
    let cases: Vec<(&str, Vec<u8>, u16, Value)> = vec![
        (
            "/messages",
            b"\xff\xfe\x00{".to_vec(),
            400,
            invalid_json.clone(),
        ),
        ("/messages", deep, 400, invalid_json.clone()),
        (
            "/messages",
            b"{\"a\": nul".to_vec(),
            400,
            invalid_json.clone(),
        ),
        (
            "/messages",
            wide,
            400,
            json!({"error": {"json": {"_schema": ["Invalid input type."]}}}),
        ),
        (
            "/messages",
            text("1e999999", "\"x\""),
            400,
            invalid_json.clone(),
        ),
        (
            "/messages",
            text(&id.to_string(), r#""\ud800""#),
            400,
            invalid_json.clone(),
        ),
        (
            "/messages",
            text("18446744073709551616", "\"x\""),
            400,
            not_integer.clone(),
        ),
        (
            "/messages",
            text("\"9223372036854775808\"", "\"x\""),
            400,
            not_integer,
        ),
        (
            "/messages",
            text("-9223372036854775808", "\"x\""),
            404,
            not_found.clone(),
        ),
        (
            "/messages/%ff/retry",
            b"{}".to_vec(),
            404,
            not_found.clone(),
        ),
        (
            "/messages/99999999999999999999999/retry",
            Vec::new(),
            404,
            not_found.clone(),
        ),
        ("/messages/1e3/retry", Vec::new(), 404, not_found.clone()),
    ];
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut buf = Vec::new();
    let refused = emulator.stats().sends_refused;
    for (target, body, status, expected) in &cases {
        stream.write_all(&post_partoo(target, body)).await.unwrap();
        let (got, _, answer) = read_response(&mut stream, &mut buf).await.unwrap();
        let answer: Value = serde_json::from_slice(&answer).unwrap();
        let start = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        assert_eq!(
            (got, answer),
            (*status, expected.clone()),
            "{target} {start}"
        );
    }
    let sends = cases.iter().filter(|(t, ..)| *t == "/messages").count();
    assert_eq!(emulator.stats().sends_refused, refused + sends);
    // A chunked send is read whole and accepted; NUL characters are text like any other.
    let body = text(&id.to_string(), r#""nul \u0000 and 😀""#);
    let mut chunked = format!(
        "POST /v2/messages HTTP/1.1\r\nHost: x\r\nx-APIKey: {key}\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for piece in body.chunks(7) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    stream.write_all(&chunked).await.unwrap();
    let (status, _, _) = read_response(&mut stream, &mut buf).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(emulator.sent().len(), 1);
    assert_eq!(emulator.sent()[0].content, "nul \u{0} and 😀");
    // A chunked body past 64 KiB: a 413, the connection closed, a send refused.
    let refused = emulator.stats().sends_refused;
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /v2/messages HTTP/1.1\r\nHost: x\r\nx-APIKey: {key}\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, "x".repeat(16 * 1024));
    for _ in 0..5 {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let mut buf = Vec::new();
    let (status, head, _) = read_response(&mut stream, &mut buf).await.unwrap();
    assert_eq!(status, 413);
    assert!(head.contains("Connection: close"));
    assert_eq!(emulator.stats().sends_refused, refused + 1);
    // A body that stops short of its length: an answer or a closed connection, no panic.
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut short = post_partoo("/messages", &text(&id.to_string(), "\"x\""));
    short.truncate(short.len() - 10);
    stream.write_all(&short).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut buf = Vec::new();
    if let Some((status, _, _)) = read_response(&mut stream, &mut buf).await {
        assert_eq!(status, 400);
    }
    // Bird: a payload with many problems gets them all; the server goes on.
    let bird_address = ("127.0.0.1", port(&emulator.bird_base_url()));
    let mut stream = TcpStream::connect(bird_address).await.unwrap();
    let images = vec![json!({"mediaUrl": "javascript:alert(1)"}); 500];
    let body = json!({"body": {"type": "image", "image": {"images": images}}}).to_string();
    let conversation = &emulator.bird_conversation_ids()[0];
    let request = format!(
        "POST /workspaces/{}/conversations/{conversation}/messages HTTP/1.1\r\nHost: x\r\n\
         Authorization: AccessKey {}\r\nContent-Length: {}\r\n\r\n{body}",
        emulator.config().bird_workspace,
        emulator.config().bird_key,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let (status, _, answer) = read_response(&mut stream, &mut buf).await.unwrap();
    assert_eq!(status, 422);
    let answer: Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(answer["details"].as_object().unwrap().len(), 500);
    assert_eq!(
        answer["details"][".body.image.images[499].mediaUrl"],
        json!(["must be an http or https URL"])
    );
    assert_eq!(api.partoo("/conversations").await.status, 200);
    assert_eq!(api.bird("/conversations").await.status, 200);
    assert_eq!(emulator.sent().len(), 1);
}

#[tokio::test]
async fn a_looping_conversation_hands_back_the_same_cursor() {
    let defaults = Emulator::start(Config::default()).await.unwrap();
    let partoo_id = defaults.partoo_conversation_ids()[2];
    let bird_id = defaults.bird_conversation_ids()[2].clone();
    let emulator = Emulator::start(Config {
        looping_conversations: vec![partoo_id.to_string(), bird_id.clone()],
        ..Config::default()
    })
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let mut cursors = Vec::new();
    let mut cursor = String::new();
    for _ in 0..5 {
        let page = api
            .partoo(&format!(
                "/messages?conversation_id={partoo_id}&per_page=2&cursor={cursor}"
            ))
            .await
            .json();
        cursor = page["next_cursor"].as_str().unwrap().to_owned();
        cursors.push(cursor.clone());
    }
    assert!(cursors.iter().all(|c| *c == cursors[0]), "{cursors:?}");
    let mut tokens = Vec::new();
    let mut token = String::new();
    for _ in 0..5 {
        let page = api
            .bird(&format!(
                "/conversations/{bird_id}/messages?limit=100&pageToken={token}"
            ))
            .await
            .json();
        token = page["nextPageToken"].as_str().unwrap().to_owned();
        tokens.push(token.clone());
    }
    assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
    // The client notices, after two pages.
    let client = partoo_client::Client::builder(emulator.config().partoo_key.clone())
        .base_url(&emulator.partoo_base_url())
        .build()
        .unwrap();
    let result: Result<Vec<_>, _> = client.messages(partoo_id).try_collect().await;
    assert!(
        matches!(
            result,
            Err(partoo_client::Error::Paging(
                partoo_client::PagingError::Loop { .. }
            ))
        ),
        "{result:?}"
    );
    // The other conversations page normally.
    let other = emulator.partoo_conversation_ids()[3];
    let (messages, _) = api.partoo_walk(other, Some(5)).await;
    assert!(!messages.is_empty());
}

#[tokio::test]
async fn the_fixtures_dataset_serves_the_fixture_messages() {
    let root = fixtures_root();
    let emulator = Emulator::start(Config {
        dataset: Dataset::Fixtures(root.clone()),
        ..Config::default()
    })
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let partoo_ids = emulator.partoo_conversation_ids();
    assert_eq!(partoo_ids, [4217, 5301, 4380, 4402, 4455, 6001, 4500]);
    let read = |path: &str| -> Value {
        serde_json::from_slice(&std::fs::read(root.join(path)).unwrap()).unwrap()
    };
    let mut expected: Vec<Value> = read("partoo/messages-page-1.json")["messages"]
        .as_array()
        .unwrap()
        .clone();
    expected.extend(
        read("partoo/messages-page-2.json")["messages"]
            .as_array()
            .unwrap()
            .clone(),
    );
    let (messages, sizes) = api.partoo_walk(4217, Some(5)).await;
    assert_eq!(messages, expected);
    assert_eq!(sizes, [5, 5, 5, 1]);
    let (messages, _) = api.partoo_walk(5301, None).await;
    assert_eq!(
        messages,
        read("partoo/messages-unicode.json")["messages"]
            .as_array()
            .unwrap()
            .clone()
    );
    let (messages, _) = api.partoo_walk(4380, None).await;
    assert!(messages.is_empty(), "listed without messages");
    let listing = api.partoo("/conversations?per_page=3").await;
    let page = partoo_types::ConversationsPage::from_slice(&listing.body).unwrap();
    assert_eq!((page.conversations.len(), page.count), (3, Some(7)));
    assert_eq!(
        listing.json()["conversations"][0],
        read("partoo/conversations/conversations-page-1.json")["conversations"][0]
    );

    // Bird: the listed conversations, then the one only met through its messages.
    let bird_ids = emulator.bird_conversation_ids();
    let conversation = "16e1df9e-c6ac-406b-b1ce-13f34d0dea08";
    assert_eq!(
        bird_ids,
        [
            "c0a80001-6b1e-4d3f-8e2a-5f9c00000001",
            "c0a80002-6b1e-4d3f-8e2a-5f9c00000002",
            "c0a80003-6b1e-4d3f-8e2a-5f9c00000003",
            conversation
        ]
    );
    let mut expected = Vec::new();
    for file in ["page-1", "page-2", "bodies", "templates"] {
        expected.extend(
            read(&format!("bird/messages/{file}.json"))["results"]
                .as_array()
                .unwrap()
                .clone(),
        );
    }
    let (mut messages, sizes) = api.bird_walk(conversation, "limit=4&reverse=true").await;
    assert_eq!(sizes.len(), expected.len().div_ceil(4));
    assert_eq!(messages, expected, "oldest first when reversed");
    let (newest_first, _) = api.bird_walk(conversation, "limit=100").await;
    messages.reverse();
    assert_eq!(newest_first, messages);
    let (after, _) = api
        .bird_walk(
            conversation,
            "dateFrom=2024-11-26T10:09:00.000Z&reverse=true",
        )
        .await;
    let ids: Vec<&str> = after.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids[0], "7e1d006e-2f4b-4c8e-9a61-3b5c0000006e");
    assert_eq!(ids.len(), 4);
    let listing = api.bird("/conversations?limit=100").await;
    let page = bird_types::ConversationsPage::from_slice(&listing.body).unwrap();
    assert!(
        page.results.rejected().is_empty(),
        "{:?}",
        page.results.rejected()
    );
    assert_eq!(page.results.len(), 4);
    assert_eq!(emulator.message_count(), 16 + 6 + 2 + expected.len());

    let missing = Emulator::start(Config {
        dataset: Dataset::Fixtures(root.join("does-not-exist")),
        ..Config::default()
    })
    .await;
    assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let partoo = port(&emulator.partoo_base_url());
    let bird = port(&emulator.bird_base_url());
    let mut open = TcpStream::connect(("127.0.0.1", partoo)).await.unwrap();
    emulator.shutdown().await;
    assert!(TcpStream::connect(("127.0.0.1", partoo)).await.is_err());
    assert!(TcpStream::connect(("127.0.0.1", bird)).await.is_err());
    // The open connection was closed too.
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), open.read(&mut byte)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");

    let emulator = Emulator::start(Config::default()).await.unwrap();
    let partoo = port(&emulator.partoo_base_url());
    drop(emulator);
    let mut refused = false;
    for _ in 0..50 {
        if TcpStream::connect(("127.0.0.1", partoo)).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused);
}

// ----------------------------------------------------------------------------------------
// Activity, per-conversation counters, fixed ports
// ----------------------------------------------------------------------------------------

impl Api<'_> {
    /// One Partoo messages page: its messages and next cursor.
    async fn partoo_page(
        &self,
        id: i64,
        per_page: usize,
        cursor: Option<&str>,
    ) -> (Vec<Value>, Option<String>) {
        let mut path = format!("/messages?conversation_id={id}&per_page={per_page}");
        if let Some(c) = cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let reply = self.partoo(&path).await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let page = reply.json();
        let next = page["next_cursor"].as_str().map(str::to_owned);
        (page["messages"].as_array().unwrap().clone(), next)
    }

    /// One Bird messages page: its messages and next token.
    async fn bird_page(
        &self,
        id: &str,
        query: &str,
        token: Option<&str>,
    ) -> (Vec<Value>, Option<String>) {
        let mut path = format!("/conversations/{id}/messages?{query}");
        if let Some(t) = token {
            path.push_str(&format!("&pageToken={t}"));
        }
        let reply = self.bird(&path).await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let page = reply.json();
        let next = page["nextPageToken"].as_str().map(str::to_owned);
        (page["results"].as_array().unwrap().clone(), next)
    }

    async fn partoo_listing(&self) -> Vec<Value> {
        let page = self.partoo("/conversations?per_page=100").await.json();
        page["conversations"].as_array().unwrap().clone()
    }

    async fn bird_listing(&self) -> Vec<Value> {
        let page = self.bird("/conversations?limit=100").await.json();
        page["results"].as_array().unwrap().clone()
    }
}

fn ids(messages: &[Value]) -> Vec<String> {
    messages.iter().map(|m| m["id"].to_string()).collect()
}

#[tokio::test]
async fn activity_adds_newer_messages_and_moves_others_along_their_lifecycle() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let api = Api::new(&emulator);
    let mut before_partoo = Vec::new();
    for id in emulator.partoo_conversation_ids() {
        before_partoo.push(api.partoo_walk(id, Some(100)).await.0);
    }
    let mut before_bird = Vec::new();
    for id in emulator.bird_conversation_ids() {
        before_bird.push(api.bird_walk(&id, "limit=100&reverse=true").await.0);
    }
    let newest_partoo = before_partoo
        .iter()
        .flatten()
        .map(|m| m["date"].as_str().unwrap().to_owned())
        .max()
        .unwrap();
    let newest_bird = before_bird
        .iter()
        .flatten()
        .map(|m| m["createdAt"].as_str().unwrap().to_owned())
        .max()
        .unwrap();
    let count = emulator.message_count();

    let activity = emulator.simulate_activity(3, 4);
    // Four conversations of each get new messages, two more a status change.
    assert_eq!(activity.partoo_conversations.len(), 6, "{activity:?}");
    assert_eq!(activity.bird_conversations.len(), 6, "{activity:?}");
    assert_eq!(
        (activity.partoo_changed.len(), activity.bird_changed.len()),
        (2, 2)
    );
    assert!((4..=12).contains(&activity.partoo_added.len()));
    assert!((4..=12).contains(&activity.bird_added.len()));
    assert_eq!(
        emulator.message_count(),
        count + activity.partoo_added.len() + activity.bird_added.len()
    );

    // Partoo: oldest first, the new messages last, newer than every message there was.
    let listing = api.partoo_listing().await;
    let page = partoo_types::ConversationsPage::from_slice(
        &api.partoo("/conversations?per_page=100").await.body,
    )
    .unwrap();
    assert!(page.conversations.rejected().is_empty());
    let added: HashSet<i64> = activity.partoo_added.iter().copied().collect();
    let changed: HashSet<i64> = activity.partoo_changed.iter().copied().collect();
    let mut seen_added = 0;
    let mut seen_changed = 0;
    for (i, id) in emulator.partoo_conversation_ids().into_iter().enumerate() {
        let (now, _) = api.partoo_walk(id, Some(100)).await;
        let before = &before_partoo[i];
        let new: Vec<&Value> = now
            .iter()
            .filter(|m| added.contains(&m["id"].as_i64().unwrap()))
            .collect();
        let touched = activity.partoo_conversations.contains(&id);
        if new.is_empty() {
            assert_eq!(now.len(), before.len());
        } else {
            assert!(touched);
            // Appended after what was there, in order, each newer than the one before.
            assert_eq!(&now[..before.len()].len(), &before.len());
            assert_eq!(now[before.len()..].iter().collect::<Vec<_>>(), new);
            let dates: Vec<&str> = new.iter().map(|m| m["date"].as_str().unwrap()).collect();
            assert!(dates[0] > newest_partoo.as_str(), "{dates:?}");
            assert!(dates.windows(2).all(|w| w[0] < w[1]));
            for m in &new {
                assert_eq!(m["conversation_id"], id);
                serde_json::from_value::<partoo_types::Message>((*m).clone()).unwrap();
            }
            seen_added += new.len();
            // The listing shows the newest as its last message.
            let entry = listing.iter().find(|c| c["id"] == id).unwrap();
            assert_eq!(entry["last_message"], **new.last().unwrap());
        }
        for (old, now) in before.iter().zip(&now) {
            if old == now {
                continue;
            }
            // A status change: same message, same date, one step further.
            assert!(touched);
            assert!(changed.contains(&now["id"].as_i64().unwrap()), "{now}");
            assert_eq!(
                (old["id"].clone(), old["date"].clone()),
                (now["id"].clone(), now["date"].clone())
            );
            let moved = (old["status"] == "Sending" && now["status"] == "Success")
                || (old["status"] == "Success"
                    && old["is_deleted"] == false
                    && now["is_deleted"] == true);
            assert!(moved, "{old}\n{now}");
            seen_changed += 1;
        }
    }
    assert_eq!((seen_added, seen_changed), (added.len(), changed.len()));

    // Bird: newest first, the new messages first, newer than every message there was.
    let listing = api.bird_listing().await;
    let added: HashSet<String> = activity.bird_added.iter().cloned().collect();
    let changed: HashSet<String> = activity.bird_changed.iter().cloned().collect();
    let mut seen_added = 0;
    let mut seen_changed = 0;
    for (i, id) in emulator.bird_conversation_ids().into_iter().enumerate() {
        let (newest_first, _) = api.bird_walk(&id, "limit=7").await;
        let before = &before_bird[i];
        let fresh = newest_first.len() - before.len();
        let new = &newest_first[..fresh];
        assert!(
            new.iter()
                .all(|m| added.contains(m["id"].as_str().unwrap()))
        );
        let entry = listing.iter().find(|c| c["id"] == id.as_str()).unwrap();
        if fresh > 0 {
            assert!(activity.bird_conversations.contains(&id));
            let times: Vec<&str> = new
                .iter()
                .map(|m| m["createdAt"].as_str().unwrap())
                .collect();
            assert!(times.last().unwrap() > &newest_bird.as_str(), "{times:?}");
            assert!(times.windows(2).all(|w| w[0] > w[1]), "newest first");
            assert_eq!(entry["lastMessage"]["id"], new[0]["id"]);
            assert_eq!(entry["lastMessage"]["createdAt"], new[0]["createdAt"]);
            assert!(entry["updatedAt"].as_str().unwrap() >= new[0]["createdAt"].as_str().unwrap());
            seen_added += fresh;
        }
        let mut oldest_first: Vec<Value> = newest_first[fresh..].to_vec();
        oldest_first.reverse();
        for (old, now) in before.iter().zip(&oldest_first) {
            if old == now {
                continue;
            }
            assert!(changed.contains(now["id"].as_str().unwrap()), "{now}");
            let moved = (old["status"] == "sent" && now["status"] == "delivered")
                || (old["status"] == "delivered" && now["status"] == "read");
            assert!(moved, "{old}\n{now}");
            assert_eq!(old["createdAt"], now["createdAt"]);
            let updated = now["updatedAt"].as_str().unwrap();
            assert!(updated > old["updatedAt"].as_str().unwrap());
            assert!(updated > newest_bird.as_str());
            // The conversation's updatedAt follows.
            assert!(entry["updatedAt"].as_str().unwrap() >= updated);
            // `read` is outside Bird's published statuses (its own examples send it): the wire
            // type keeps it, and the unified model reads it.
            let message: bird_types::Message = serde_json::from_value(now.clone()).unwrap();
            assert!(message.status.is_known() || now["status"] == "read");
            let unified = inbox_normalize::Message::from(message);
            assert!(!format!("{:?}", unified.status).starts_with("Unknown"));
            seen_changed += 1;
        }
    }
    assert_eq!((seen_added, seen_changed), (added.len(), changed.len()));
    // Every page still decodes with the wire types, new messages among them.
    for id in emulator.bird_conversation_ids() {
        api.bird_walk(&id, "limit=100").await;
    }
}

#[tokio::test]
async fn pagination_under_way_survives_new_messages() {
    let emulator = Emulator::start(small(3, 3, 30..=30)).await.unwrap();
    let api = Api::new(&emulator);
    let partoo = emulator.partoo_conversation_ids()[1];
    let bird = emulator.bird_conversation_ids()[1].clone();
    let (whole_partoo, _) = api.partoo_walk(partoo, Some(100)).await;
    let (whole_bird, _) = api.bird_walk(&bird, "limit=100").await;

    // One page of each walk, then new messages in every conversation.
    let (mut partoo_walk, partoo_cursor) = api.partoo_page(partoo, 8, None).await;
    let (mut newest_first, bird_token) = api.bird_page(&bird, "limit=8", None).await;
    let (mut oldest_first, reverse_token) =
        api.bird_page(&bird, "limit=8&reverse=true", None).await;
    let activity = emulator.simulate_activity(11, 3);
    assert_eq!(activity.partoo_conversations.len(), 3);
    let added_partoo = emulator.message_count();
    assert!(added_partoo > 180);

    // Partoo, oldest first: the walk goes on and ends with the new messages.
    let mut cursor = partoo_cursor;
    while let Some(c) = cursor {
        let (items, next) = api.partoo_page(partoo, 8, Some(&c)).await;
        partoo_walk.extend(items);
        cursor = next;
    }
    assert_eq!(partoo_walk[..30], whole_partoo[..]);
    let (now, _) = api.partoo_walk(partoo, Some(100)).await;
    assert_eq!(partoo_walk, now);
    assert!(partoo_walk.len() > 30);

    // Bird, newest first: the walk goes on below where it was; the new messages are on top,
    // for the next walk.
    let mut token = bird_token;
    while let Some(t) = token {
        let (items, next) = api.bird_page(&bird, "limit=8", Some(&t)).await;
        newest_first.extend(items);
        token = next;
    }
    assert_eq!(newest_first, whole_bird);
    let (fresh, _) = api.bird_walk(&bird, "limit=8").await;
    let new = fresh.len() - whole_bird.len();
    assert!(new > 0);
    assert_eq!(fresh[new..], whole_bird[..]);
    assert_eq!(
        ids(&fresh).iter().collect::<HashSet<_>>().len(),
        fresh.len()
    );

    // Bird, oldest first: the new messages come last.
    let mut token = reverse_token;
    while let Some(t) = token {
        let (items, next) = api.bird_page(&bird, "limit=8&reverse=true", Some(&t)).await;
        oldest_first.extend(items);
        token = next;
    }
    let mut expected = fresh.clone();
    expected.reverse();
    assert_eq!(oldest_first, expected);

    // dateFrom the newest message seen before: exactly the new ones.
    let since = whole_bird[0]["createdAt"].as_str().unwrap();
    let (after, _) = api
        .bird_walk(&bird, &format!("dateFrom={since}&limit=2"))
        .await;
    assert_eq!(after, fresh[..new].to_vec());

    // A token of one order is not one of the other.
    let (_, token) = api.bird_page(&bird, "limit=2", None).await;
    let reply = api
        .bird(&format!(
            "/conversations/{bird}/messages?reverse=true&pageToken={}",
            token.unwrap()
        ))
        .await;
    assert_eq!(reply.status, 400);
}

#[tokio::test]
async fn activity_is_deterministic_for_a_seed() {
    let a = Emulator::start(Config::default()).await.unwrap();
    let b = Emulator::start(Config::default()).await.unwrap();
    let first = a.simulate_activity(5, 3);
    assert_eq!(b.simulate_activity(5, 3), first);
    let second = a.simulate_activity(6, 2);
    assert_eq!(b.simulate_activity(6, 2), second);
    assert_ne!(first, second);
    assert_eq!(snapshot(&a).await, snapshot(&b).await);
    // Another seed changes other things.
    let c = Emulator::start(Config::default()).await.unwrap();
    assert_ne!(c.simulate_activity(99, 3), first);
    // Asking for more conversations than there are changes them all, and no more.
    let d = Emulator::start(small(2, 2, 5..=5)).await.unwrap();
    let all = d.simulate_activity(1, 100);
    assert_eq!(all.partoo_conversations, d.partoo_conversation_ids());
    assert_eq!(all.bird_conversations, d.bird_conversation_ids());
    assert!(all.partoo_changed.is_empty() && all.bird_changed.is_empty());
    // Fixtures are served as read.
    let fixtures = Emulator::start(Config {
        dataset: Dataset::Fixtures(fixtures_root()),
        ..Config::default()
    })
    .await
    .unwrap();
    assert!(fixtures.simulate_activity(1, 3).is_empty());
}

#[tokio::test]
async fn message_requests_are_counted_per_conversation() {
    let emulator = Emulator::start(Config::default()).await.unwrap();
    let api = Api::new(&emulator);
    assert_eq!(emulator.message_requests(), MessageRequests::default());
    let partoo = emulator.partoo_conversation_ids();
    let bird = emulator.bird_conversation_ids();
    api.partoo_page(partoo[0], 5, None).await;
    api.partoo_page(partoo[0], 5, None).await;
    api.partoo_page(partoo[2], 5, None).await;
    api.bird_page(&bird[1], "limit=5", None).await;
    // Refused and other requests do not count.
    let cursor = api
        .partoo(&format!(
            "/messages?conversation_id={}&cursor=nope",
            partoo[3]
        ))
        .await;
    assert_eq!(cursor.status, 400);
    api.partoo("/conversations").await;
    api.bird(&format!("/conversations/{}", bird[2])).await;
    let counts = emulator.message_requests();
    assert_eq!(
        counts.partoo,
        [(partoo[0], 2), (partoo[2], 1)].into_iter().collect()
    );
    assert_eq!(counts.bird, [(bird[1].clone(), 1)].into_iter().collect());

    // An incremental sync: read the listings, fetch only the conversations whose listing
    // entry changed, and the counters show it fetched exactly those. (Partoo's listing has
    // no `updatedAt`: a status change below the last message does not show in it, which is
    // why Partoo recommends webhooks.)
    let partoo_before = api.partoo_listing().await;
    let bird_before = api.bird_listing().await;
    let activity = emulator.simulate_activity(8, 3);
    let partoo_after = api.partoo_listing().await;
    let bird_after = api.bird_listing().await;
    let snapshot = emulator.message_requests();
    let mut expected = BTreeSet::new();
    for (before, after) in partoo_before.iter().zip(&partoo_after) {
        let id = after["id"].as_i64().unwrap();
        if activity
            .partoo_added
            .contains(&after["last_message"]["id"].as_i64().unwrap())
        {
            expected.insert(id);
        }
        if before != after {
            api.partoo_walk(id, Some(100)).await;
        }
    }
    for (before, after) in bird_before.iter().zip(&bird_after) {
        if before["updatedAt"] != after["updatedAt"] {
            let id = after["id"].as_str().unwrap();
            let since = before["updatedAt"].as_str().unwrap();
            api.bird_page(id, &format!("dateFrom={since}"), None).await;
        }
    }
    let fetched = emulator.message_requests().since(&snapshot);
    let partoo_fetched: BTreeSet<i64> = fetched.partoo.keys().copied().collect();
    assert!(
        partoo_fetched.is_superset(&expected),
        "{partoo_fetched:?} {expected:?}"
    );
    assert!(
        partoo_fetched
            .iter()
            .all(|id| activity.partoo_conversations.contains(id)),
        "{partoo_fetched:?} {activity:?}"
    );
    assert_eq!(expected.len(), 3, "three conversations got new messages");
    // Bird's updatedAt shows every change.
    assert_eq!(
        fetched.bird.keys().cloned().collect::<BTreeSet<_>>(),
        activity
            .bird_conversations
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
    );
}

#[tokio::test]
async fn listeners_can_have_fixed_ports() {
    // Two free ports, found by binding and letting go.
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (partoo_port, bird_port) = (free(), free());
    let emulator = Emulator::start(Config {
        partoo_port: Some(partoo_port),
        bird_port: Some(bird_port),
        ..Config::default()
    })
    .await
    .unwrap();
    assert_eq!(
        emulator.partoo_base_url(),
        format!("http://127.0.0.1:{partoo_port}/v2")
    );
    assert_eq!(
        emulator.bird_base_url(),
        format!("http://127.0.0.1:{bird_port}")
    );
    assert_eq!(emulator.partoo_addr().port(), partoo_port);
    assert_eq!(Api::new(&emulator).bird("/conversations").await.status, 200);
    // A port already taken is an error, not another port.
    let taken = Emulator::start(Config {
        bird_port: Some(bird_port),
        ..Config::default()
    })
    .await;
    assert_eq!(taken.unwrap_err().kind(), std::io::ErrorKind::AddrInUse);
    emulator.shutdown().await;
}

// ----------------------------------------------------------------------------------------
// Webhooks
// ----------------------------------------------------------------------------------------

/// A webhook request the receiver got.
#[derive(Debug, Clone)]
struct Hook {
    headers: std::collections::HashMap<String, String>,
    body: Vec<u8>,
}

impl Hook {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

type Hooks = std::sync::Arc<std::sync::Mutex<Vec<(String, Hook)>>>;

/// A loopback webhook receiver (hyper's server): records every request, by path, then
/// answers with the next status of its script (0: closes the connection without an
/// answer), 200 once the script is used up.
struct Receiver {
    addr: std::net::SocketAddr,
    hooks: Hooks,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(script: &[u16]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hooks = Hooks::default();
        let script = std::sync::Arc::new(std::sync::Mutex::new(
            script
                .iter()
                .copied()
                .collect::<std::collections::VecDeque<u16>>(),
        ));
        let recorded = std::sync::Arc::clone(&hooks);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let hooks = std::sync::Arc::clone(&recorded);
                let script = std::sync::Arc::clone(&script);
                let service = hyper::service::service_fn(move |request| {
                    receive(
                        request,
                        std::sync::Arc::clone(&hooks),
                        std::sync::Arc::clone(&script),
                    )
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver { addr, hooks, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What was POSTed to `path`, in arrival order.
    fn received(&self, path: &str) -> Vec<Hook> {
        self.hooks
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, hook)| hook.clone())
            .collect()
    }
}

/// Records one request and answers it as the script says.
async fn receive(
    request: hyper::Request<hyper::body::Incoming>,
    hooks: Hooks,
    script: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<u16>>>,
) -> Result<hyper::Response<String>, std::io::Error> {
    use http_body_util::BodyExt as _;
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes()
        .to_vec();
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    hooks
        .lock()
        .unwrap()
        .push((parts.uri.path().to_owned(), Hook { headers, body }));
    let status = script.lock().unwrap().pop_front().unwrap_or(200);
    if status == 0 {
        return Err(std::io::Error::other("closed without an answer"));
    }
    let mut response = hyper::Response::new(String::new());
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    Ok(response)
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A small dataset (six messages per conversation) delivering webhooks to `receiver`.
fn hooked(receiver: &Receiver, partoo: bool, bird: bool, faults: WebhookFaults) -> Config {
    Config {
        webhooks: WebhookConfig {
            partoo_url: partoo.then(|| receiver.url("/partoo")),
            bird_url: bird.then(|| receiver.url("/bird")),
            faults,
        },
        ..small(5, 5, 6..=6)
    }
}

async fn flush(emulator: &Emulator) {
    tokio::time::timeout(Duration::from_secs(10), emulator.flush_webhooks())
        .await
        .expect("webhooks flushed in time");
}

fn partoo_verifies(keys: &WebhookKeys, hook: &Hook) -> bool {
    use base64::Engine as _;
    use ed25519_dalek::pkcs8::DecodePublicKey as _;
    let key = ed25519_dalek::VerifyingKey::from_public_key_pem(&keys.partoo_public_key_pem)
        .expect("the PEM parses back");
    let signature = base64::engine::general_purpose::STANDARD
        .decode(hook.header("x-partoo-signature-v1"))
        .expect("the signature is base64");
    let signature = ed25519_dalek::Signature::from_slice(&signature).expect("64 bytes");
    key.verify_strict(&hook.body, &signature).is_ok()
}

/// Bird's signature of a hook, recomputed from its timestamp, the URL and its body.
fn bird_signature(keys: &WebhookKeys, url: &str, hook: &Hook) -> String {
    use base64::Engine as _;
    use hmac::{KeyInit as _, Mac as _};
    use sha2::Digest as _;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(keys.bird_signing_key.as_bytes()).unwrap();
    mac.update(hook.header("messagebird-request-timestamp").as_bytes());
    mac.update(b"\n");
    mac.update(url.as_bytes());
    mac.update(b"\n");
    mac.update(&sha2::Sha256::digest(&hook.body));
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn bird_verifies(keys: &WebhookKeys, url: &str, hook: &Hook) -> bool {
    bird_signature(keys, url, hook) == hook.header("messagebird-signature")
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn timestamp(hook: &Hook) -> i64 {
    hook.header("messagebird-request-timestamp")
        .parse()
        .unwrap()
}

#[tokio::test]
async fn webhooks_carry_what_the_api_serves_signed() {
    let receiver = Receiver::start(&[]).await;
    let emulator = Emulator::start(hooked(&receiver, true, true, WebhookFaults::default()))
        .await
        .unwrap();
    let activity = emulator.simulate_activity(5, 2);
    assert!(!activity.partoo_added.is_empty() && !activity.bird_added.is_empty());
    assert!(!activity.partoo_changed.is_empty() && !activity.bird_changed.is_empty());
    flush(&emulator).await;
    let keys = emulator.webhook_keys();
    let api = Api::new(&emulator);
    let org_id = emulator.config().partoo_org_id;

    // Keys: the PEM and the raw base64 are the same key; the same seed, the same keys.
    assert!(
        keys.partoo_public_key_pem
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    {
        use base64::Engine as _;
        use ed25519_dalek::pkcs8::DecodePublicKey as _;
        let key =
            ed25519_dalek::VerifyingKey::from_public_key_pem(&keys.partoo_public_key_pem).unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&keys.partoo_public_key_base64)
            .unwrap();
        assert_eq!(raw, key.as_bytes());
    }
    assert!(!keys.bird_signing_key.is_empty());
    assert!(keys.bird_signing_key.chars().all(|c| c.is_ascii_graphic()));
    let quiet = Emulator::start(small(1, 1, 6..=6)).await.unwrap();
    assert_eq!(quiet.webhook_keys(), keys);
    let other = Emulator::start(Config {
        seed: 8,
        ..small(1, 1, 6..=6)
    })
    .await
    .unwrap();
    assert_ne!(other.webhook_keys(), keys);
    // Without URLs, nothing is produced and a flush resolves at once.
    quiet.simulate_activity(5, 1);
    quiet.flush_webhooks().await;
    assert_eq!(quiet.webhook_stats(), WebhookStats::default());

    // Partoo: message_created per added message, then message_updated per changed one.
    let partoo = receiver.received("/partoo");
    let expected: Vec<(&str, i64)> = activity
        .partoo_added
        .iter()
        .map(|&id| ("message_created", id))
        .chain(
            activity
                .partoo_changed
                .iter()
                .map(|&id| ("message_updated", id)),
        )
        .collect();
    let got: Vec<(String, i64)> = partoo
        .iter()
        .map(|hook| {
            let body = hook.json();
            (
                body["type"].as_str().unwrap().to_owned(),
                body["payload"]["message"]["id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        expected
            .iter()
            .map(|(t, id)| (t.to_string(), *id))
            .collect::<Vec<_>>()
    );
    let listing = api.partoo_listing().await;
    for hook in &partoo {
        assert!(
            partoo_verifies(&keys, hook),
            "{}",
            String::from_utf8_lossy(&hook.body)
        );
        assert_eq!(hook.header("content-type"), "application/json");
        let body = hook.json();
        assert_eq!(body.as_object().unwrap().len(), 2);
        let payload = &body["payload"];
        assert_eq!(payload["org_id"], json!(org_id));
        let conversation = &payload["conversation"];
        let id = conversation["id"].as_i64().unwrap();
        let listed = listing.iter().find(|c| c["id"] == json!(id)).unwrap();
        assert_eq!(
            conversation,
            &json!({
                "id": listed["id"],
                "consumer_img": listed["consumer_img"],
                "consumer_name": listed["consumer_name"],
                "business": {"id": listed["business"]["id"]},
                "messaging_partner": listed["messaging_partner"],
                "custom_channel": listed["custom_channel"],
            })
        );
        let (messages, _) = api.partoo_walk(id, Some(100)).await;
        let served = messages
            .iter()
            .find(|m| m["id"] == payload["message"]["id"])
            .unwrap();
        assert_eq!(&payload["message"], served);
    }

    // Bird: per conversation touched, a channel event per added message, then
    // conversation.updated with the conversation as listed.
    let bird = receiver.received("/bird");
    let bird_url = receiver.url("/bird");
    assert_eq!(
        bird.len(),
        activity.bird_added.len() + activity.bird_conversations.len()
    );
    let bodies: Vec<Value> = bird.iter().map(Hook::json).collect();
    let channel_ids: Vec<String> = bodies
        .iter()
        .filter(|b| b["service"] == "channels")
        .map(|b| b["payload"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(channel_ids, activity.bird_added);
    let updated: BTreeSet<String> = bodies
        .iter()
        .filter(|b| b["service"] == "conversations")
        .map(|b| b["payload"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        updated,
        activity
            .bird_conversations
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
    );
    let listing = api.bird_listing().await;
    let mut request_ids = HashSet::new();
    let now = unix_now();
    for (i, (hook, body)) in bird.iter().zip(&bodies).enumerate() {
        assert!(bird_verifies(&keys, &bird_url, hook), "{body}");
        assert_eq!(hook.header("content-type"), "application/json");
        assert!((now - timestamp(hook)).abs() < 120, "{}", timestamp(hook));
        assert!(request_ids.insert(hook.header("messagebird-request-id").to_owned()));
        assert_eq!(body.as_object().unwrap().len(), 3);
        if body["service"] == "conversations" {
            assert_eq!(body["event"], "conversation.updated");
            let listed = listing
                .iter()
                .find(|c| c["id"] == body["payload"]["id"])
                .unwrap();
            assert_eq!(&body["payload"], listed);
            assert!(listed.get("lastMessage").is_some() && listed.get("updatedAt").is_some());
            // Its channel events came before it.
            let id = body["payload"]["id"].clone();
            assert!(
                bodies[i + 1..]
                    .iter()
                    .all(|b| b["service"] != "channels" || b["payload"]["conversationId"] != id)
            );
        } else {
            let payload = &body["payload"];
            let conversation = payload["conversationId"].as_str().unwrap();
            let (messages, _) = api.bird_walk(conversation, "limit=100&reverse=true").await;
            let served = messages.iter().find(|m| m["id"] == payload["id"]).unwrap();
            assert_eq!(
                payload,
                &json!({
                    "id": served["id"],
                    "conversationId": served["conversationId"],
                    "createdAt": served["createdAt"],
                    "body": served["body"],
                })
            );
            let direction = if served["sender"]["type"] == "contact" {
                "whatsapp.inbound"
            } else {
                "whatsapp.outbound"
            };
            assert_eq!(body["event"], direction);
        }
    }

    let total = partoo.len() + bird.len();
    assert_eq!(
        emulator.webhook_stats(),
        WebhookStats {
            events: total,
            deliveries: total,
            accepted: total,
            ..WebhookStats::default()
        }
    );
    emulator.shutdown().await;
}

/// Runs one round of activity (the same for every call) with `faults`; what each receiver
/// path got, and the stats.
async fn faulty_round(faults: &str) -> (Vec<Hook>, Vec<Hook>, WebhookStats, WebhookKeys, String) {
    let receiver = Receiver::start(&[]).await;
    let faults: WebhookFaults = faults.parse().unwrap();
    let emulator = Emulator::start(hooked(&receiver, true, true, faults))
        .await
        .unwrap();
    emulator.simulate_activity(5, 3);
    flush(&emulator).await;
    let stats = emulator.webhook_stats();
    let keys = emulator.webhook_keys();
    emulator.shutdown().await;
    (
        receiver.received("/partoo"),
        receiver.received("/bird"),
        stats,
        keys,
        receiver.url("/bird"),
    )
}

fn bodies(hooks: &[Hook]) -> Vec<Vec<u8>> {
    hooks.iter().map(|h| h.body.clone()).collect()
}

fn request_ids(hooks: &[Hook]) -> Vec<String> {
    hooks
        .iter()
        .map(|h| h.header("messagebird-request-id").to_owned())
        .collect()
}

/// Pairs swapped: what reordering every event gives (an odd last one comes at the flush).
fn swapped<T: Clone>(items: &[T]) -> Vec<T> {
    items
        .chunks(2)
        .flat_map(|pair| pair.iter().rev().cloned())
        .collect()
}

#[tokio::test]
async fn webhook_faults_at_full_rate_do_what_they_say() {
    let (partoo, bird, stats, keys, url) = faulty_round("none").await;
    let (np, nb) = (partoo.len(), bird.len());
    // Odd counts: with every event reordered, the last one waits for the flush.
    assert!(np % 2 == 1 && nb % 2 == 1, "{np} {nb}");
    assert_eq!(stats.events, np + nb);
    assert!(partoo.iter().all(|h| partoo_verifies(&keys, h)));
    assert!(bird.iter().all(|h| bird_verifies(&keys, &url, h)));

    // Dropped: nothing arrives.
    let (p, b, s, _, _) = faulty_round("drop=1").await;
    assert!(p.is_empty() && b.is_empty());
    assert_eq!(
        s,
        WebhookStats {
            events: np + nb,
            dropped: np + nb,
            ..WebhookStats::default()
        }
    );

    // Duplicated: each event twice in a row, the same bytes, request id and signature.
    let (p, b, s, k, u) = faulty_round("duplicate=1").await;
    let twice = |items: Vec<Vec<u8>>| -> Vec<Vec<u8>> {
        items.into_iter().flat_map(|x| [x.clone(), x]).collect()
    };
    assert_eq!(bodies(&p), twice(bodies(&partoo)));
    assert_eq!(bodies(&b), twice(bodies(&bird)));
    for pair in p.chunks(2) {
        assert_eq!(pair[0].headers, pair[1].headers);
        assert!(partoo_verifies(&k, &pair[0]));
    }
    for pair in b.chunks(2) {
        assert_eq!(pair[0].headers, pair[1].headers);
        assert!(bird_verifies(&k, &u, &pair[0]));
    }
    assert_eq!(
        s,
        WebhookStats {
            events: np + nb,
            deliveries: 2 * (np + nb),
            accepted: 2 * (np + nb),
            duplicated: np + nb,
            ..WebhookStats::default()
        }
    );

    // Reordered: every event held back until after the next, the last one until the flush.
    let (p, b, s, _, _) = faulty_round("reorder=1").await;
    assert_eq!(bodies(&p), swapped(&bodies(&partoo)));
    assert_eq!(bodies(&b), swapped(&bodies(&bird)));
    assert_eq!(request_ids(&b), swapped(&request_ids(&bird)));
    assert_eq!(s.reordered, np.div_ceil(2) + nb.div_ceil(2));
    assert_eq!((s.accepted, s.deliveries), (np + nb, np + nb));

    // Bad signatures: still base64 of the right length, never valid.
    let (p, b, s, k, u) = faulty_round("bad-signature=1").await;
    assert_eq!(bodies(&p), bodies(&partoo));
    assert_eq!(bodies(&b), bodies(&bird));
    assert!(p.iter().all(|h| !partoo_verifies(&k, h)));
    for hook in &b {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(hook.header("messagebird-signature"))
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert!(!bird_verifies(&k, &u, hook));
    }
    assert_eq!(s.bad_signatures, np + nb);
    assert_eq!(s.accepted, np + nb);

    // Stale: Bird timestamps 10 minutes back, signed for them; Partoo has none.
    let (p, b, s, k, u) = faulty_round("stale=1").await;
    let now = unix_now();
    for hook in &b {
        assert!(now - timestamp(hook) >= 9 * 60, "{}", timestamp(hook));
        assert!(bird_verifies(&k, &u, hook));
    }
    assert!(p.iter().all(|h| partoo_verifies(&k, h)));
    assert_eq!(s.stale, nb);
    assert_eq!(s.accepted, np + nb);
}

#[tokio::test]
async fn webhook_deliveries_retry_5xx_and_connection_errors_but_not_4xx() {
    async fn round(script: &[u16], partoo: bool) -> (Vec<Hook>, WebhookStats) {
        let receiver = Receiver::start(script).await;
        let emulator =
            Emulator::start(hooked(&receiver, partoo, !partoo, WebhookFaults::default()))
                .await
                .unwrap();
        emulator.simulate_activity(5, 2);
        flush(&emulator).await;
        let stats = emulator.webhook_stats();
        emulator.shutdown().await;
        let path = if partoo { "/partoo" } else { "/bird" };
        (receiver.received(path), stats)
    }

    // 503, then 200: the first event is sent again, the same bytes and signature.
    let (hooks, stats) = round(&[503], true).await;
    let n = stats.events;
    assert!(n >= 2);
    assert_eq!(hooks.len(), n + 1);
    assert_eq!(hooks[0].body, hooks[1].body);
    assert_eq!(hooks[0].headers, hooks[1].headers);
    assert_eq!(
        stats,
        WebhookStats {
            events: n,
            deliveries: n + 1,
            accepted: n,
            retried: 1,
            ..WebhookStats::default()
        }
    );

    // A connection closed without an answer is retried too.
    let (hooks, stats) = round(&[0], true).await;
    assert_eq!(hooks.len(), stats.events + 1);
    assert_eq!(hooks[0].body, hooks[1].body);
    assert_eq!((stats.retried, stats.accepted), (1, stats.events));

    // Bird retries as well, with the same request id.
    let (hooks, stats) = round(&[500, 502], false).await;
    assert_eq!(hooks.len(), stats.events + 2);
    assert_eq!(
        request_ids(&hooks[..3]),
        vec![request_ids(&hooks[..1])[0].clone(); 3]
    );
    assert_eq!((stats.retried, stats.accepted), (2, stats.events));

    // A 4xx is not retried.
    let (hooks, stats) = round(&[400; 32], true).await;
    assert_eq!(hooks.len(), stats.events);
    assert_eq!(
        (
            stats.deliveries,
            stats.refused,
            stats.retried,
            stats.accepted
        ),
        (stats.events, stats.events, 0, 0)
    );

    // Partoo gives up after 5 retries (6 attempts): the last failure counts as refused.
    let (hooks, stats) = round(&[503; 6], true).await;
    assert_eq!(hooks.len(), stats.events + 5);
    assert!(hooks[..6].iter().all(|h| h.body == hooks[0].body));
    assert_ne!(hooks[6].body, hooks[0].body);
    assert_eq!(
        (stats.retried, stats.refused, stats.accepted),
        (5, 1, stats.events - 1)
    );
    assert_eq!(
        stats.deliveries,
        stats.accepted + stats.refused + stats.retried
    );
}

// ----------------------------------------------------------------------------------------
// Sends
// ----------------------------------------------------------------------------------------

impl Api<'_> {
    /// `POST /v2/messages` with account 0's key.
    async fn partoo_send(&self, body: &Value) -> Reply {
        let key = self.emulator.config().partoo_key.clone();
        let url = format!("{}/messages", self.emulator.partoo_base_url());
        post(&self.client, &url, &[("x-APIKey", &key)], body.to_string()).await
    }

    /// `POST /v2/messages/{id}/retry` with account 0's key.
    async fn partoo_retry(&self, id: &str) -> Reply {
        let key = self.emulator.config().partoo_key.clone();
        let url = format!("{}/messages/{id}/retry", self.emulator.partoo_base_url());
        post(&self.client, &url, &[("x-APIKey", &key)], "").await
    }

    /// `POST /workspaces/{ws}/conversations/{id}/messages` with account 0's key.
    async fn bird_send(&self, conversation: &str, body: &Value) -> Reply {
        let auth = format!("AccessKey {}", self.emulator.config().bird_key);
        let url = format!(
            "{}/workspaces/{}/conversations/{conversation}/messages",
            self.emulator.bird_base_url(),
            self.emulator.config().bird_workspace
        );
        post(
            &self.client,
            &url,
            &[("Authorization", &auth)],
            body.to_string(),
        )
        .await
    }
}

/// Every Partoo message id account `i` serves, as integers.
fn partoo_ids(emulator: &Emulator, i: usize) -> BTreeSet<i64> {
    emulator
        .message_ids(i)
        .unwrap()
        .partoo
        .values()
        .flatten()
        .map(|id| id.parse().unwrap())
        .collect()
}

/// A Partoo conversation on an ordinary channel (neither SMS nor a custom one).
async fn ordinary_partoo(api: &Api<'_>) -> i64 {
    api.partoo_listing()
        .await
        .iter()
        .find(|c| c["messaging_partner"] != "SMS" && c["messaging_partner"] != "Custom")
        .and_then(|c| c["id"].as_i64())
        .expect("an ordinary Partoo conversation")
}

/// A Bird conversation that is not closed.
fn open_bird(emulator: &Emulator) -> String {
    let closed = emulator.closed_bird_conversations(0);
    emulator
        .bird_conversation_ids()
        .into_iter()
        .find(|id| !closed.contains(id))
        .expect("an open Bird conversation")
}

#[tokio::test]
async fn partoo_sends_are_accepted_served_last_and_recorded() {
    let emulator = Emulator::start(small(30, 2, 5..=8)).await.unwrap();
    let api = Api::new(&emulator);
    let id = ordinary_partoo(&api).await;
    let existing = partoo_ids(&emulator, 0);
    let (before, _) = api.partoo_walk(id, Some(100)).await;
    let text = "Bonjour Camille, votre commande est prête 🥐";
    let reply = api
        .partoo_send(&json!({"conversation_id": id, "content_type": "Text", "content": text}))
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    let message_id = reply.json()["message_id"].as_i64().unwrap();
    assert_eq!(
        reply.json(),
        json!({"status": "success", "message_id": message_id})
    );
    assert!(!existing.contains(&message_id));
    assert!(existing.iter().all(|&other| other < message_id));

    // Served on the last page, oldest first, shaped as the generator's user messages.
    let (after, sizes) = api.partoo_walk(id, Some(2)).await;
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(sizes.last(), Some(&(after.len() - 2 * (sizes.len() - 1))));
    let last = after.last().unwrap();
    let date = last["date"].as_str().unwrap().to_owned();
    assert_eq!(
        last,
        &json!({
            "content": text,
            "content_type": "Text",
            "conversation_id": id,
            "custom_channel": null,
            "date": date,
            "id": message_id,
            "is_automated": false,
            "is_deleted": false,
            "sender_label": "Camille Martin",
            "sender_type": "User",
            "status": "Success",
            "user_id": "5f3c2a1b9d8e7f6a5b4c3d2e",
        })
    );
    // Newer than every message (the spelling is fixed-width: text order is time order).
    let previous = before.last().unwrap()["date"].as_str().unwrap().to_owned();
    assert!(date > previous, "{date} after {previous}");
    assert_eq!(date.len(), "2023-01-31 16:22:17.327878+00:00".len());
    // The conversation's last message follows, in both listings.
    let one = api.partoo(&format!("/conversations/{id}")).await.json();
    assert_eq!(&one["last_message"], last);
    assert_eq!(one["has_one_user_message"], true);
    let listed = api.partoo_listing().await;
    let listed = listed.iter().find(|c| c["id"] == json!(id)).unwrap();
    assert_eq!(listed, &one);

    // Media: the URL as an image's content, `{file_name, url}` for the others.
    let media = [
        (
            "Image",
            "https://cdn.example.com/p/photo.jpg",
            json!("https://cdn.example.com/p/photo.jpg"),
        ),
        (
            "Video",
            "https://cdn.example.com/v/clip.mp4?signature=abc#t=1",
            json!({"file_name": "clip.mp4", "url": "https://cdn.example.com/v/clip.mp4?signature=abc#t=1"}),
        ),
        (
            "Audio",
            "https://cdn.example.com/voice.ogg",
            json!({"file_name": "voice.ogg", "url": "https://cdn.example.com/voice.ogg"}),
        ),
        (
            "Document",
            "https://cdn.example.com/docs/",
            json!({"file_name": null, "url": "https://cdn.example.com/docs/"}),
        ),
    ];
    let mut ids = vec![message_id];
    for (kind, url, content) in &media {
        let reply = api
            .partoo_send(&json!({"conversation_id": id, "content_type": kind, "content": url}))
            .await;
        assert_eq!(reply.status, 200, "{kind}");
        let new = reply.json()["message_id"].as_i64().unwrap();
        assert!(new > *ids.last().unwrap(), "{kind}");
        ids.push(new);
        let (messages, _) = api.partoo_walk(id, Some(100)).await;
        let last = messages.last().unwrap();
        assert_eq!(last["id"], json!(new));
        assert_eq!(last["content_type"], *kind);
        assert_eq!(&last["content"], content, "{kind}");
    }
    // A numeric string is an integer, as Partoo's own validation reads it.
    let reply = api
        .partoo_send(
            &json!({"conversation_id": id.to_string(), "content_type": "Text", "content": "ok"}),
        )
        .await;
    assert_eq!(reply.status, 200);
    ids.push(reply.json()["message_id"].as_i64().unwrap());

    // What the wire types (the walk decoded every page) and the normalized model read of
    // it.
    let (messages, _) = api.partoo_walk(id, Some(100)).await;
    let sent: partoo_types::Message =
        serde_json::from_value(messages[before.len()].clone()).unwrap();
    assert_eq!(sent.id, message_id);
    let model = inbox_normalize::Message::from(sent);
    assert_eq!(
        serde_json::to_value(model.direction).unwrap(),
        json!("outbound")
    );

    let sent = emulator.sent();
    assert_eq!(sent.len(), ids.len());
    assert_eq!(
        sent[0],
        inbox_emulator::Sent {
            provider: "partoo",
            account: 0,
            conversation_id: id.to_string(),
            message_id: message_id.to_string(),
            content_type: "Text".to_owned(),
            content: text.to_owned(),
            reference: None,
            failed: false,
        }
    );
    assert_eq!(
        sent.iter()
            .map(|s| s.message_id.clone())
            .collect::<Vec<_>>(),
        ids.iter().map(i64::to_string).collect::<Vec<_>>()
    );
    assert_eq!(sent[2].content_type, "Video");
    assert_eq!(
        sent[2].content,
        "https://cdn.example.com/v/clip.mp4?signature=abc#t=1"
    );
    let stats = emulator.stats();
    assert_eq!((stats.sends_accepted, stats.sends_refused), (ids.len(), 0));
    assert_eq!((stats.send_timeouts, stats.delivery_failures), (0, 0));
    // Sends are not message-list requests.
    assert_eq!(partoo_ids(&emulator, 0).len(), existing.len() + ids.len());
}

#[tokio::test]
async fn partoo_refuses_sends_with_the_documented_bodies() {
    let emulator = Emulator::start(small(30, 1, 3..=5)).await.unwrap();
    let api = Api::new(&emulator);
    let id = ordinary_partoo(&api).await;
    let sms = emulator.sms_partoo_conversations(0);
    assert!(!sms.is_empty(), "the dataset has an SMS conversation");
    assert!(emulator.sms_partoo_conversations(1).is_empty());
    let count = emulator.message_count();
    let fields = |pairs: &[(&str, &str)]| {
        let map: serde_json::Map<String, Value> = pairs
            .iter()
            .map(|(f, m)| ((*f).to_owned(), json!([m])))
            .collect();
        json!({"error": {"json": map}})
    };
    let missing = "Missing data for required field.";
    let cases: Vec<(String, u16, Value)> = vec![
        (
            "not json".into(),
            400,
            fields(&[("_schema", "Invalid JSON body.")]),
        ),
        ("".into(), 400, fields(&[("_schema", "Invalid JSON body.")])),
        (
            "[1, 2]".into(),
            400,
            fields(&[("_schema", "Invalid input type.")]),
        ),
        (
            "{}".into(),
            400,
            fields(&[
                ("content", missing),
                ("content_type", missing),
                ("conversation_id", missing),
            ]),
        ),
        (
            json!({"conversation_id": "abc", "content_type": "Sticker", "content": 3}).to_string(),
            400,
            fields(&[
                ("content", "Not a valid string."),
                (
                    "content_type",
                    "Must be one of: Text, Image, Video, Audio, Document.",
                ),
                ("conversation_id", "Not a valid integer."),
            ]),
        ),
        (
            json!({"conversation_id": null, "content_type": "Text", "content": "  "}).to_string(),
            400,
            fields(&[
                ("content", "Field may not be blank."),
                ("conversation_id", "Field may not be null."),
            ]),
        ),
        (
            json!({"conversation_id": 1.5, "content_type": "text", "content": "hi"}).to_string(),
            400,
            fields(&[
                (
                    "content_type",
                    "Must be one of: Text, Image, Video, Audio, Document.",
                ),
                ("conversation_id", "Not a valid integer."),
            ]),
        ),
        (
            json!({"conversation_id": id, "content_type": "Image", "content": "photo.jpg"})
                .to_string(),
            400,
            fields(&[("content", "Not a valid URL.")]),
        ),
        (
            json!({"conversation_id": 1, "content_type": "Text", "content": "hi"}).to_string(),
            404,
            json!({"error": {"json": "Resource not found"}}),
        ),
        (
            json!({"conversation_id": sms[0], "content_type": "Image",
                "content": "https://cdn.example.com/a.jpg"})
            .to_string(),
            400,
            json!({"error": {"json": {"content_type": ["SMS conversations take text only."]}}}),
        ),
    ];
    let key = emulator.config().partoo_key.clone();
    let url = format!("{}/messages", emulator.partoo_base_url());
    for (body, status, expected) in &cases {
        let reply = post(&api.client, &url, &[("x-APIKey", &key)], body.clone()).await;
        assert_eq!(
            (reply.status, reply.json()),
            (*status, expected.clone()),
            "{body}"
        );
        partoo_types::ErrorBody::from_slice(&reply.body).unwrap();
    }
    // Without a key, or with nobody's.
    for headers in [vec![], vec![("x-APIKey", "nobody")]] {
        let reply = post(&api.client, &url, &headers, "{}").await;
        assert_eq!(
            (reply.status, reply.json()),
            (
                401,
                json!({"error": {"authentication": "User not authenticated"}})
            )
        );
    }
    // Nothing was sent.
    assert!(emulator.sent().is_empty());
    assert_eq!(emulator.message_count(), count);
    assert_eq!(emulator.stats().sends_refused, cases.len() + 2);
    assert_eq!(emulator.stats().sends_accepted, 0);
    // Text into an SMS conversation is fine.
    let reply = api
        .partoo_send(&json!({"conversation_id": sms[0], "content_type": "Text", "content": "Hi"}))
        .await;
    assert_eq!(reply.status, 200);
    // Methods: each path takes its own.
    let reply = get(
        &api.client,
        &format!("{}/messages/1/retry", emulator.partoo_base_url()),
        &[("x-APIKey", &key)],
    )
    .await;
    assert_eq!((reply.status, reply.allow.as_deref()), (405, Some("POST")));
    assert_eq!(
        reply.json(),
        json!({"error": {"json": "only POST is supported here"}})
    );
    for path in ["/users/me", "/conversations/1"] {
        let reply = post(
            &api.client,
            &format!("{}{path}", emulator.partoo_base_url()),
            &[("x-APIKey", &key)],
            "{}",
        )
        .await;
        assert_eq!((reply.status, reply.allow.as_deref()), (405, Some("GET")));
    }
    let reply = api
        .client
        .delete(&url)
        .header("x-APIKey", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 405);
    assert_eq!(reply.headers()["allow"], "GET, POST");
    let reply = post(
        &api.client,
        &format!("{}/messages/1", emulator.partoo_base_url()),
        &[("x-APIKey", &key)],
        "{}",
    )
    .await;
    assert_eq!(reply.status, 404);
    let stats = emulator.stats();
    assert_eq!(
        (stats.sends_accepted, stats.sends_refused),
        (1, cases.len() + 2)
    );
}

#[tokio::test]
async fn a_failed_partoo_message_is_retried_once() {
    let emulator = Emulator::start(Config {
        send_faults: "fail=1".parse().unwrap(),
        ..Config::default()
    })
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let id = ordinary_partoo(&api).await;
    let reply = api
        .partoo_send(&json!({"conversation_id": id, "content_type": "Text", "content": "Hello"}))
        .await;
    assert_eq!(reply.status, 200);
    let message_id = reply.json()["message_id"].as_i64().unwrap();
    let last = |messages: Vec<Value>| messages.last().unwrap().clone();
    let served = last(api.partoo_walk(id, Some(100)).await.0);
    assert_eq!(
        (&served["id"], &served["status"]),
        (&json!(message_id), &json!("Failed"))
    );
    assert!(emulator.sent()[0].failed);
    assert_eq!(emulator.stats().delivery_failures, 1);

    let reply = api.partoo_retry(&message_id.to_string()).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({"status": "success"}))
    );
    let retried = last(api.partoo_walk(id, Some(100)).await.0);
    let mut expected = served.clone();
    expected["status"] = json!("Success");
    assert_eq!(retried, expected);
    let one = api.partoo(&format!("/conversations/{id}")).await.json();
    assert_eq!(one["last_message"], expected);
    assert!(!emulator.sent()[0].failed);
    // Once: it is not failed any more.
    let not_failed = json!({"error": {"json": "Only a failed message can be retried."}});
    let reply = api.partoo_retry(&message_id.to_string()).await;
    assert_eq!((reply.status, reply.json()), (400, not_failed.clone()));
    for unknown in ["999999999", "abc", "-1"] {
        let reply = api.partoo_retry(unknown).await;
        assert_eq!(
            (reply.status, reply.json()),
            (404, json!({"error": {"json": "Resource not found"}})),
            "{unknown}"
        );
    }

    // The dataset's own messages: a Failed one is retried, another is refused.
    let mut failed = None;
    let mut succeeded = None;
    for conversation in emulator.partoo_conversation_ids() {
        let (messages, _) = api.partoo_walk(conversation, Some(100)).await;
        for (position, m) in messages.iter().enumerate() {
            let spot = (conversation, position, m["id"].as_i64().unwrap());
            match m["status"].as_str() {
                Some("Failed") if m["id"] != json!(message_id) => failed = failed.or(Some(spot)),
                Some("Success") => succeeded = succeeded.or(Some(spot)),
                _ => {}
            }
        }
    }
    let (conversation, position, drawn) = failed.expect("a drawn Failed message");
    let reply = api.partoo_retry(&drawn.to_string()).await;
    assert_eq!(reply.status, 200);
    let (messages, _) = api.partoo_walk(conversation, Some(100)).await;
    assert_eq!(messages[position]["id"], json!(drawn));
    assert_eq!(messages[position]["status"], "Success");
    let (_, _, fine) = succeeded.unwrap();
    let reply = api.partoo_retry(&fine.to_string()).await;
    assert_eq!((reply.status, reply.json()), (400, not_failed));
    // Retries are not sends.
    let stats = emulator.stats();
    assert_eq!((stats.sends_accepted, stats.sends_refused), (1, 0));
}

#[tokio::test]
async fn bird_sends_are_accepted_served_first_and_recorded() {
    let emulator = Emulator::start(small(1, 30, 5..=8)).await.unwrap();
    let api = Api::new(&emulator);
    let id = open_bird(&emulator);
    let (before, _) = api.bird_page(&id, "limit=100", None).await;
    let total = api
        .bird(&format!("/conversations/{id}/messages?limit=1"))
        .await
        .json()["total"]
        .clone();
    let newest = before[0]["createdAt"].as_str().unwrap().to_owned();
    let reply = api
        .bird_send(
            &id,
            &json!({"body": {"type": "text", "text": {"text": "Hi John, your order shipped."}},
                "reference": "outbox-1"}),
        )
        .await;
    assert_eq!(
        reply.status,
        202,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.content_type.as_deref(), Some("application/json"));
    let message = reply.json();
    // Exactly what the listing serves now, on top of its first page.
    let page = api
        .bird(&format!("/conversations/{id}/messages?limit=3"))
        .await;
    assert!(
        String::from_utf8_lossy(&page.body).contains(&*String::from_utf8_lossy(&reply.body)),
        "{}",
        String::from_utf8_lossy(&page.body)
    );
    let page = page.json();
    assert_eq!(page["results"][0], message);
    assert_eq!(page["total"], json!(total.as_u64().unwrap() + 1));
    let decoded = bird_types::Message::from_slice(&reply.body).unwrap();
    assert_eq!(decoded.reference.as_deref(), Some("outbox-1"));
    let created = message["createdAt"].as_str().unwrap().to_owned();
    assert!(created > newest, "{created} after {newest}");
    let contact = before
        .iter()
        .find(|m| m["sender"]["type"] == "contact")
        .map(|m| m["sender"].clone())
        .unwrap();
    assert_eq!(
        message,
        json!({
            "body": {"type": "text", "text": {"text": "Hi John, your order shipped."}},
            "conversationId": id,
            "createdAt": created,
            "draft": false,
            "id": message["id"],
            "interactions": null,
            "recipients": [{
                "contactAnnotation": {"name": contact["displayName"]},
                "id": contact["id"],
                "identifierKey": contact["contact"]["identifierKey"],
                "identifierValue": contact["contact"]["identifierValue"],
                "platformAddress": contact["contact"]["platformAddress"],
                "type": "to",
            }],
            "reference": "outbox-1",
            "sender": {
                "avatarUrl": "",
                "displayName": "My first key",
                "id": "7e1d0104-2f4b-4c8e-9a61-3b5c00000104",
                "status": "active",
                "type": "accessKey",
            },
            "source": "conversations",
            "status": "accepted",
            "updatedAt": created,
        })
    );
    // `dateFrom` sees it; the conversation's last message and update time follow.
    let (since, _) = api
        .bird_page(&id, &format!("dateFrom={newest}"), None)
        .await;
    assert_eq!(since, std::slice::from_ref(&message));
    let listed = api.bird(&format!("/conversations/{id}")).await.json();
    assert_eq!(
        listed["lastMessage"],
        json!({
            "createdAt": created,
            "id": message["id"],
            "preview": {"text": "Hi John, your order shipped."},
            "recipients": null,
            "sender": message["sender"],
            "status": "accepted",
            "type": "text",
        })
    );
    assert_eq!(listed["updatedAt"], json!(created));
    assert!(api.bird_listing().await.contains(&listed));
    bird_types::ConversationsPage::from_slice(&api.bird("/conversations?limit=100").await.body)
        .unwrap();

    // An image from a flow, a file answering a message, a template, one from the contact.
    let answered = before[1]["id"].as_str().unwrap().to_owned();
    let sends = [
        json!({"body": {"type": "image", "image": {"images": [
                {"mediaUrl": "https://media.example.com/a.png", "altText": "A receipt"},
                {"mediaUrl": "https://media.example.com/b.png"}]}},
            "participantType": "flow", "participantId": "my-flow"}),
        json!({"body": {"type": "file", "file": {"files": [{"mediaUrl": "https://media.example.com/r.pdf",
                "contentType": "application/pdf", "filename": "receipt.pdf"}]}},
            "replyToMessageId": answered}),
        json!({"template": {"projectId": "p-1", "version": "v-1", "name": "order_ready", "locale": "en",
                "parameters": [{"type": "string", "key": "order", "value": "42"},
                    {"type": "number", "key": "total", "value": 12.5}]},
            "reference": ""}),
        json!({"body": {"type": "text", "text": {"text": "Thanks!"}}, "participantType": "contact"}),
    ];
    let mut answers = vec![message.clone()];
    for body in &sends {
        let reply = api.bird_send(&id, body).await;
        assert_eq!(reply.status, 202, "{body}");
        bird_types::Message::from_slice(&reply.body).unwrap();
        let answer = reply.json();
        let (first, _) = api.bird_page(&id, "limit=1", None).await;
        assert_eq!(first, std::slice::from_ref(&answer));
        assert_eq!(answer.get("body"), body.get("body"), "{body}");
        assert_eq!(answer.get("template"), body.get("template"), "{body}");
        answers.push(answer);
    }
    assert_eq!(
        answers[1]["sender"],
        json!({"avatarUrl": "", "displayName": "Order confirmation flow", "id": "my-flow",
            "status": "active", "type": "flow"})
    );
    assert_eq!(answers[2]["replyToMessageId"], json!(answered));
    assert!(answers[3].get("body").is_none());
    assert_eq!(answers[3]["reference"], "");
    assert_eq!(answers[4]["sender"], contact);
    assert!(answers[4].get("recipients").is_none());
    let listed = api.bird(&format!("/conversations/{id}")).await.json();
    assert_eq!(listed["lastMessage"]["id"], answers[4]["id"]);
    assert_eq!(listed["lastMessageIncomingAt"], answers[4]["createdAt"]);
    let times: Vec<&str> = answers
        .iter()
        .map(|a| a["createdAt"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");

    let sent = emulator.sent();
    let summary: Vec<(&str, &str, &str, Option<&str>)> = sent
        .iter()
        .map(|s| {
            (
                s.provider,
                s.content_type.as_str(),
                s.content.as_str(),
                s.reference.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "bird",
                "text",
                "Hi John, your order shipped.",
                Some("outbox-1")
            ),
            ("bird", "image", "https://media.example.com/a.png", None),
            ("bird", "file", "https://media.example.com/r.pdf", None),
            ("bird", "template", "order_ready", Some("")),
            ("bird", "text", "Thanks!", None),
        ]
    );
    for (record, answer) in sent.iter().zip(&answers) {
        assert_eq!(record.conversation_id, id);
        assert_eq!(json!(record.message_id), answer["id"]);
        assert!(!record.failed);
    }
    let (template, _) = api.bird_page(&id, "limit=2", None).await;
    let template = &template[1];
    assert_eq!(template["template"]["name"], "order_ready");
    let listed_after_template = &answers[3];
    assert_eq!(listed_after_template["status"], "accepted");
    assert_eq!(emulator.stats().sends_accepted, 5);
}

#[tokio::test]
async fn bird_refuses_sends_with_the_documented_bodies() {
    let emulator = Emulator::start(small(1, 30, 3..=5)).await.unwrap();
    let api = Api::new(&emulator);
    let id = open_bird(&emulator);
    let closed = emulator.closed_bird_conversations(0);
    assert!(!closed.is_empty(), "the dataset has a closed conversation");
    let listing = api.bird_listing().await;
    for conv in &listing {
        let is_closed = closed.contains(&conv["id"].as_str().unwrap().to_owned());
        assert_eq!(conv["status"] == "closed", is_closed);
    }
    let count = emulator.message_count();
    let invalid = |details: Value| {
        json!({"code": "InvalidPayload", "message": "The request payload is not valid",
            "details": details})
    };
    let text = json!({"type": "text", "text": {"text": "hi"}});
    let cases: Vec<(String, String, u16, Value)> = vec![
        (
            id.clone(),
            "{\"body\": ".into(),
            400,
            json!({"code": "InvalidParameter", "message": "The request body is not valid JSON"}),
        ),
        (
            id.clone(),
            "".into(),
            400,
            json!({"code": "InvalidParameter", "message": "The request body is not valid JSON"}),
        ),
        (
            id.clone(),
            "[]".into(),
            422,
            invalid(json!({".": ["must be an object"]})),
        ),
        (
            id.clone(),
            "{}".into(),
            422,
            invalid(json!({".body": ["is required when there is no template"]})),
        ),
        (
            id.clone(),
            json!({"body": {"type": "text", "text": {"text": ""}}}).to_string(),
            422,
            invalid(json!({".body.text.text": ["is required"]})),
        ),
        (
            id.clone(),
            json!({"body": {"type": "html", "html": {"html": "<p>x</p>"}}}).to_string(),
            422,
            invalid(json!({".body.type": ["must be one of text, image, file"]})),
        ),
        (
            id.clone(),
            json!({"body": {"type": "image", "image": {"images": [{"altText": "x"}, "y"]}}})
                .to_string(),
            422,
            invalid(json!({
                ".body.image.images[0].mediaUrl": ["is required"],
                ".body.image.images[1]": ["must be an object"],
            })),
        ),
        (
            id.clone(),
            json!({"body": {"type": "file", "file": {"files": []}}}).to_string(),
            422,
            invalid(json!({".body.file.files": ["must not be empty"]})),
        ),
        (
            id.clone(),
            json!({"body": text, "template": {"name": "x", "locale": "en"}}).to_string(),
            422,
            invalid(json!({".template": ["must be absent when there is a body"]})),
        ),
        (
            id.clone(),
            json!({"body": text, "participantType": "robot", "participantId": 7,
                "replyToMessageId": "", "reference": false})
            .to_string(),
            422,
            invalid(json!({
                ".participantId": ["must be a string"],
                ".participantType": ["must be one of accessKey, contact, flow"],
                ".reference": ["must be a string"],
                ".replyToMessageId": ["must not be empty"],
            })),
        ),
        (
            id.clone(),
            json!({"template": {"parameters": [{"type": "date", "key": "d", "value": 1},
                {"type": "string", "value": 2}]}})
            .to_string(),
            422,
            invalid(json!({
                ".template.locale": ["is required"],
                ".template.name": ["is required when there is no projectId"],
                ".template.parameters[0].type": ["must be one of string, number"],
                ".template.parameters[1].key": ["is required"],
                ".template.parameters[1].value": ["must be a string"],
            })),
        ),
        (
            "00000000-0000-4000-8000-000000000000".into(),
            json!({"body": text}).to_string(),
            404,
            json!({"code": "NotFound", "message": "Conversation not found"}),
        ),
        (
            closed[0].clone(),
            json!({"body": text}).to_string(),
            409,
            json!({"code": "ConversationClosed", "message": "The conversation is closed"}),
        ),
    ];
    let auth = format!("AccessKey {}", emulator.config().bird_key);
    let workspace = &emulator.config().bird_workspace;
    let base = emulator.bird_base_url();
    for (conversation, body, status, expected) in &cases {
        let url = format!("{base}/workspaces/{workspace}/conversations/{conversation}/messages");
        let reply = post(&api.client, &url, &[("Authorization", &auth)], body.clone()).await;
        assert_eq!(
            (reply.status, reply.json()),
            (*status, expected.clone()),
            "{body}"
        );
        bird_types::ErrorBody::from_slice(&reply.body).unwrap();
    }
    // Keys and workspaces, as for reads.
    let url = format!("{base}/workspaces/{workspace}/conversations/{id}/messages");
    let reply = post(&api.client, &url, &[], json!({"body": text}).to_string()).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json()["code"], "Unauthorized");
    let elsewhere = format!("{base}/workspaces/someone-else/conversations/{id}/messages");
    let reply = post(
        &api.client,
        &elsewhere,
        &[("Authorization", &auth)],
        json!({"body": text}).to_string(),
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.json()["code"], "Forbidden");
    assert!(emulator.sent().is_empty());
    assert_eq!(emulator.message_count(), count);
    assert_eq!(emulator.stats().sends_refused, cases.len() + 2);
    // Methods.
    for path in ["/conversations", &format!("/conversations/{id}")] {
        let reply = post(
            &api.client,
            &format!("{base}/workspaces/{workspace}{path}"),
            &[("Authorization", &auth)],
            "{}",
        )
        .await;
        assert_eq!((reply.status, reply.allow.as_deref()), (405, Some("GET")));
        assert_eq!(
            reply.json(),
            json!({"code": "MethodNotAllowed", "message": "only GET is supported here"})
        );
    }
    let reply = api
        .client
        .patch(&url)
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 405);
    assert_eq!(reply.headers()["allow"], "GET, POST");
    assert_eq!(emulator.stats().sends_accepted, 0);
}

/// A send of either provider as a bare request (account 0's keys), in turn: Partoo text
/// for even `n`, Bird text for odd.
fn nth_send(emulator: &Emulator, client: &reqwest::Client, n: usize) -> reqwest::RequestBuilder {
    let config = emulator.config();
    if n.is_multiple_of(2) {
        let id = emulator.partoo_conversation_ids()[n / 2 % 3];
        client
            .post(format!("{}/messages", emulator.partoo_base_url()))
            .header("x-APIKey", &config.partoo_key)
            .header("content-type", "application/json")
            .body(
                json!({"conversation_id": id, "content_type": "Text", "content": format!("send {n}")})
                    .to_string(),
            )
    } else {
        let open: Vec<String> = {
            let closed = emulator.closed_bird_conversations(0);
            emulator
                .bird_conversation_ids()
                .into_iter()
                .filter(|id| !closed.contains(id))
                .collect()
        };
        let id = &open[n / 2 % open.len()];
        client
            .post(format!(
                "{}/workspaces/{}/conversations/{id}/messages",
                emulator.bird_base_url(),
                config.bird_workspace
            ))
            .header("Authorization", format!("AccessKey {}", config.bird_key))
            .header("content-type", "application/json")
            .body(
                json!({"body": {"type": "text", "text": {"text": format!("send {n}")}}})
                    .to_string(),
            )
    }
}

/// 16 sends in turn with `send_faults` (a client that gives up after 300 ms): which were
/// answered, what was recorded, the counters.
async fn faulty_sends(send_faults: &str) -> (Vec<bool>, Vec<inbox_emulator::Sent>, Stats) {
    let emulator = Emulator::start(Config {
        send_faults: send_faults.parse().unwrap(),
        ..small(3, 8, 5..=5)
    })
    .await
    .unwrap();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let mut answered = Vec::new();
    for n in 0..16 {
        match nth_send(&emulator, &client, n).send().await {
            Ok(response) => {
                assert!(response.status().is_success());
                answered.push(true);
            }
            Err(error) => {
                assert!(error.is_timeout(), "{error:?}");
                answered.push(false);
            }
        }
    }
    let sent = emulator.sent();
    let stats = emulator.stats();
    // Every accepted send is served, answered or not, with the status the fault gave it.
    let ids = emulator.message_ids(0).unwrap();
    for record in &sent {
        let served = match record.provider {
            "partoo" => &ids.partoo[&record.conversation_id.parse().unwrap()],
            _ => &ids.bird[&record.conversation_id],
        };
        assert!(served.contains(&record.message_id), "{record:?}");
    }
    let api = Api::new(&emulator);
    for record in sent.iter().filter(|r| r.provider == "partoo") {
        let (messages, _) = api
            .partoo_walk(record.conversation_id.parse().unwrap(), Some(100))
            .await;
        let message = messages
            .iter()
            .find(|m| m["id"] == json!(record.message_id.parse::<i64>().unwrap()))
            .unwrap();
        let status = if record.failed { "Failed" } else { "Success" };
        assert_eq!(message["status"], status);
    }
    emulator.shutdown().await;
    (answered, sent, stats)
}

#[tokio::test]
async fn send_faults_are_counted_and_repeatable_for_a_seed() {
    let (answered, sent, stats) = faulty_sends("timeout=0.3,fail=0.4").await;
    let timeouts = answered.iter().filter(|a| !**a).count();
    let failures = sent.iter().filter(|s| s.failed).count();
    assert!(timeouts > 0 && timeouts < 16, "{answered:?}");
    assert!(failures > 0, "{sent:?}");
    assert!(sent.iter().all(|s| s.provider == "partoo" || !s.failed));
    // Accepted, all of them, in the order sent, the timed-out ones too.
    assert_eq!(sent.len(), 16);
    for (n, record) in sent.iter().enumerate() {
        assert_eq!(record.provider, if n % 2 == 0 { "partoo" } else { "bird" });
        assert_eq!(record.content, format!("send {n}"));
    }
    assert_eq!(stats.sends_accepted, 16);
    assert_eq!(stats.send_timeouts, timeouts);
    assert_eq!(stats.delivery_failures, failures);
    assert_eq!(stats.sends_refused, 0);
    // The same seed, the same fates.
    let (again, sent_again, stats_again) = faulty_sends("timeout=0.3,fail=0.4").await;
    assert_eq!(again, answered);
    let fates = |sent: &[inbox_emulator::Sent]| -> Vec<(String, bool)> {
        sent.iter()
            .map(|s| (s.message_id.clone(), s.failed))
            .collect()
    };
    assert_eq!(fates(&sent_again), fates(&sent));
    assert_eq!(stats_again, stats);
    // Without send faults: every answer arrives, nothing fails.
    let (clean, sent, stats) = faulty_sends("none").await;
    assert!(clean.iter().all(|a| *a));
    assert!(sent.iter().all(|s| !s.failed));
    assert_eq!((stats.send_timeouts, stats.delivery_failures), (0, 0));
}

#[tokio::test]
async fn a_send_that_times_out_after_accepting_is_still_sent() {
    let emulator = Emulator::start(Config {
        send_faults: SendFaults {
            timeout_after_accept: 1.0,
            ..SendFaults::default()
        },
        ..small(3, 8, 5..=5)
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    for n in 0..2 {
        let started = std::time::Instant::now();
        let error = nth_send(&emulator, &client, n)
            .timeout(Duration::from_millis(200))
            .send()
            .await
            .unwrap_err();
        assert!(error.is_timeout(), "{error:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    let sent = emulator.sent();
    assert_eq!(sent.len(), 2);
    let api = Api::new(&emulator);
    let partoo = &sent[0];
    let (messages, _) = api
        .partoo_walk(partoo.conversation_id.parse().unwrap(), Some(100))
        .await;
    assert_eq!(
        messages.last().unwrap()["id"].to_string(),
        partoo.message_id
    );
    assert_eq!(messages.last().unwrap()["content"], "send 0");
    let bird = &sent[1];
    let (first, _) = api.bird_page(&bird.conversation_id, "limit=1", None).await;
    assert_eq!(first[0]["id"], json!(bird.message_id));
    let stats = emulator.stats();
    assert_eq!((stats.sends_accepted, stats.send_timeouts), (2, 2));
    // The connection stays open without an answer: a raw client sees nothing.
    let mut stream = TcpStream::connect(emulator.partoo_addr()).await.unwrap();
    let id = emulator.partoo_conversation_ids()[0];
    let body = json!({"conversation_id": id, "content_type": "Text", "content": "raw"}).to_string();
    let request = format!(
        "POST /v2/messages HTTP/1.1\r\nHost: x\r\nx-APIKey: {}\r\nContent-Length: {}\r\n\r\n{body}",
        emulator.config().partoo_key,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut byte = [0u8; 1];
    let waited = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut byte)).await;
    assert!(waited.is_err(), "{waited:?}");
    assert_eq!(emulator.sent().len(), 3);
    emulator.shutdown().await;
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await;
    assert!(matches!(read, Ok(Ok(0) | Err(_))), "{read:?}");
}

#[tokio::test]
async fn request_faults_answer_before_accepting_or_travel_after() {
    let client = reqwest::Client::new();
    for (spec, accepted) in [
        ("429=1", false),
        ("5xx=1", false),
        ("drop=1", false),
        ("hang=1", false),
        ("cut=1", true),
        ("slow=1,slow-ms=10", true),
        ("trickle=1,trickle-ms=1", true),
    ] {
        let emulator = Emulator::start(Config {
            faults: spec.parse().unwrap(),
            ..small(3, 8, 5..=5)
        })
        .await
        .unwrap();
        let count = emulator.message_count();
        // Long enough for a trickled answer, short for one that never comes.
        let patience = Duration::from_millis(if spec == "hang=1" { 300 } else { 10_000 });
        for n in 0..2 {
            let request = nth_send(&emulator, &client, n).timeout(patience);
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let body = response.bytes().await.map(|b| b.to_vec());
                    Some((status, body))
                }
                Err(_) => None,
            };
            match spec {
                "429=1" => assert_eq!(outcome.unwrap().0, 429),
                "5xx=1" => assert!(outcome.unwrap().0 >= 500),
                "drop=1" | "hang=1" => assert!(outcome.is_none()),
                "cut=1" => assert!(outcome.is_none_or(|(_, body)| body.is_err())),
                _ => {
                    let (status, body) = outcome.unwrap();
                    assert!((200..300).contains(&status));
                    let body: Value = serde_json::from_slice(&body.unwrap()).unwrap();
                    assert!(body.is_object());
                }
            }
        }
        let sent = emulator.sent();
        let stats = emulator.stats();
        if accepted {
            assert_eq!(sent.len(), 2, "{spec}");
            assert_eq!(emulator.message_count(), count + 2, "{spec}");
            assert_eq!(stats.sends_accepted, 2, "{spec}");
        } else {
            assert!(sent.is_empty(), "{spec}");
            assert_eq!(emulator.message_count(), count, "{spec}");
            assert_eq!(
                (stats.sends_accepted, stats.sends_refused),
                (0, 0),
                "{spec}"
            );
        }
        assert_eq!(stats.faults, 2, "{spec}");
        emulator.shutdown().await;
    }
}

#[tokio::test]
async fn sends_produce_webhooks_as_activity_does() {
    let receiver = Receiver::start(&[]).await;
    let emulator = Emulator::start(Config {
        accounts: 2,
        send_faults: "fail=1".parse().unwrap(),
        ..hooked(&receiver, true, true, WebhookFaults::default())
    })
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let keys = emulator.webhook_keys();
    let id = ordinary_partoo(&api).await;
    let reply = api
        .partoo_send(&json!({"conversation_id": id, "content_type": "Text", "content": "Hello"}))
        .await;
    let message_id = reply.json()["message_id"].as_i64().unwrap();
    let created = api.partoo_walk(id, Some(100)).await.0.pop().unwrap();
    assert_eq!(api.partoo_retry(&message_id.to_string()).await.status, 200);
    let updated = api.partoo_walk(id, Some(100)).await.0.pop().unwrap();
    let bird_id = open_bird(&emulator);
    let reply = api
        .bird_send(
            &bird_id,
            &json!({"body": {"type": "text", "text": {"text": "Hi"}}, "reference": "r"}),
        )
        .await;
    assert_eq!(reply.status, 202);
    let message = reply.json();
    // Account 1's sends are its own: the webhook subscription is account 0's.
    let other = emulator.account(1).unwrap().clone();
    let other_partoo = *emulator
        .message_ids(1)
        .unwrap()
        .partoo
        .keys()
        .next()
        .unwrap();
    let reply = post(
        &api.client,
        &format!("{}/messages", emulator.partoo_base_url()),
        &[("x-APIKey", &other.partoo_key)],
        json!({"conversation_id": other_partoo, "content_type": "Text", "content": "x"})
            .to_string(),
    )
    .await;
    assert_eq!(reply.status, 200);
    flush(&emulator).await;

    let partoo = receiver.received("/partoo");
    assert_eq!(partoo.len(), 2);
    for hook in &partoo {
        assert!(partoo_verifies(&keys, hook));
    }
    let bodies: Vec<Value> = partoo.iter().map(Hook::json).collect();
    assert_eq!(bodies[0]["type"], "message_created");
    assert_eq!(bodies[0]["payload"]["message"], created);
    assert_eq!(created["status"], "Failed");
    assert_eq!(bodies[1]["type"], "message_updated");
    assert_eq!(bodies[1]["payload"]["message"], updated);
    assert_eq!(updated["status"], "Success");
    assert_eq!(bodies[0]["payload"]["conversation"]["id"], json!(id));
    assert_eq!(
        bodies[0]["payload"]["org_id"],
        json!(emulator.config().partoo_org_id)
    );

    let bird = receiver.received("/bird");
    let bird_url = receiver.url("/bird");
    assert_eq!(bird.len(), 2);
    for hook in &bird {
        assert!(bird_verifies(&keys, &bird_url, hook));
    }
    let bodies: Vec<Value> = bird.iter().map(Hook::json).collect();
    assert_eq!(
        bodies[0],
        json!({"service": "channels", "event": "whatsapp.outbound", "payload": {
            "id": message["id"], "conversationId": bird_id,
            "createdAt": message["createdAt"], "body": message["body"]}})
    );
    let listed = api.bird(&format!("/conversations/{bird_id}")).await.json();
    assert_eq!(
        bodies[1],
        json!({"service": "conversations", "event": "conversation.updated", "payload": listed})
    );
    assert_eq!(listed["lastMessage"]["id"], message["id"]);
    let stats = emulator.webhook_stats();
    assert_eq!((stats.events, stats.accepted), (4, 4));
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_send_with_account_1_keys_lands_in_account_1() {
    let emulator = Emulator::start(Config {
        accounts: 2,
        ..small(3, 3, 5..=5)
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let one = emulator.account(1).unwrap().clone();
    let before = [
        emulator.message_ids(0).unwrap(),
        emulator.message_ids(1).unwrap(),
    ];
    let partoo_conv = *before[1].partoo.keys().next().unwrap();
    let reply = post(
        &client,
        &format!("{}/messages", emulator.partoo_base_url()),
        &[("x-APIKey", &one.partoo_key)],
        json!({"conversation_id": partoo_conv, "content_type": "Text", "content": "one"})
            .to_string(),
    )
    .await;
    assert_eq!(reply.status, 200);
    let partoo_id = reply.json()["message_id"].as_i64().unwrap().to_string();
    assert!(
        before[1]
            .partoo
            .values()
            .flatten()
            .all(|id| *id != partoo_id)
    );
    let bird_conv = before[1]
        .bird
        .keys()
        .find(|id| !emulator.closed_bird_conversations(1).contains(id))
        .unwrap()
        .clone();
    assert!(!before[0].bird.contains_key(&bird_conv));
    let url = |workspace: &str, conv: &str| {
        format!(
            "{}/workspaces/{workspace}/conversations/{conv}/messages",
            emulator.bird_base_url()
        )
    };
    let text = json!({"body": {"type": "text", "text": {"text": "one"}}}).to_string();
    let auth_one = format!("AccessKey {}", one.bird_key);
    let reply = post(
        &client,
        &url(&one.bird_workspace, &bird_conv),
        &[("Authorization", &auth_one)],
        text.clone(),
    )
    .await;
    assert_eq!(reply.status, 202);
    let bird_id = reply.json()["id"].as_str().unwrap().to_owned();
    // Account 0's key may not write into account 1's workspace; account 1's conversation
    // is not in account 0's.
    let auth_zero = format!("AccessKey {}", emulator.config().bird_key);
    let reply = post(
        &client,
        &url(&one.bird_workspace, &bird_conv),
        &[("Authorization", &auth_zero)],
        text.clone(),
    )
    .await;
    assert_eq!(reply.status, 403);
    let reply = post(
        &client,
        &url(&emulator.config().bird_workspace, &bird_conv),
        &[("Authorization", &auth_zero)],
        text,
    )
    .await;
    assert_eq!(reply.status, 404);

    let after = [
        emulator.message_ids(0).unwrap(),
        emulator.message_ids(1).unwrap(),
    ];
    assert_eq!(after[0], before[0]);
    assert_eq!(
        after[1].partoo[&partoo_conv].last(),
        Some(&partoo_id),
        "{:?}",
        after[1].partoo[&partoo_conv]
    );
    assert_eq!(after[1].bird[&bird_conv].last(), Some(&bird_id));
    assert_eq!(after[1].len(), before[1].len() + 2);
    let sent = emulator.sent();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|s| s.account == 1));
    assert_eq!(sent[0].message_id, partoo_id);
    assert_eq!(sent[1].message_id, bird_id);
    let stats = emulator.account_stats(1).unwrap();
    assert_eq!((stats.partoo_requests, stats.bird_requests), (1, 1));
}

#[tokio::test]
async fn sends_work_on_fixture_conversations() {
    let emulator = Emulator::start(Config {
        dataset: Dataset::Fixtures(fixtures_root()),
        ..Config::default()
    })
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let existing = partoo_ids(&emulator, 0);
    // A listed conversation with messages.
    let ids = emulator.message_ids(0).unwrap();
    let (&id, _) = ids.partoo.iter().find(|(_, m)| !m.is_empty()).unwrap();
    let reply = api
        .partoo_send(
            &json!({"conversation_id": id, "content_type": "Text", "content": "Fixture reply"}),
        )
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let message_id = reply.json()["message_id"].as_i64().unwrap();
    assert!(existing.iter().all(|&other| other < message_id));
    let (messages, _) = api.partoo_walk(id, Some(100)).await;
    let last = messages.last().unwrap();
    assert_eq!(last["id"], json!(message_id));
    assert_eq!(last["content"], "Fixture reply");
    let one = api.partoo(&format!("/conversations/{id}")).await.json();
    assert_eq!(&one["last_message"], last);
    assert_eq!(one["has_one_user_message"], true);
    // A fixture message that is Failed can be retried.
    let failed = emulator
        .message_ids(0)
        .unwrap()
        .partoo
        .keys()
        .copied()
        .collect::<Vec<_>>();
    let mut retried = false;
    for conversation in failed {
        let (messages, _) = api.partoo_walk(conversation, Some(100)).await;
        let Some(position) = messages.iter().position(|m| m["status"] == "Failed") else {
            continue;
        };
        let target = messages[position]["id"].to_string();
        assert_eq!(api.partoo_retry(&target).await.status, 200);
        let (after, _) = api.partoo_walk(conversation, Some(100)).await;
        let mut expected = messages[position].clone();
        expected["status"] = json!("Success");
        assert_eq!(after[position], expected);
        retried = true;
        break;
    }
    assert!(retried, "the fixtures hold a Failed Partoo message");

    // Bird: the conversation's listing entry follows the sent message.
    let bird = emulator.message_ids(0).unwrap().bird;
    let closed = emulator.closed_bird_conversations(0);
    let (conversation, _) = bird
        .iter()
        .find(|(c, m)| !m.is_empty() && !closed.contains(c))
        .unwrap();
    let before = api
        .bird(&format!("/conversations/{conversation}"))
        .await
        .json();
    let reply = api
        .bird_send(
            conversation,
            &json!({"body": {"type": "text", "text": {"text": "Fixture reply"}}}),
        )
        .await;
    assert_eq!(
        reply.status,
        202,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let message = reply.json();
    bird_types::Message::from_slice(&reply.body).unwrap();
    let (first, _) = api.bird_page(conversation, "limit=1", None).await;
    assert_eq!(first, std::slice::from_ref(&message));
    let after = api
        .bird(&format!("/conversations/{conversation}"))
        .await
        .json();
    assert_eq!(after["lastMessage"]["id"], message["id"]);
    assert_eq!(after["lastMessage"]["preview"]["text"], "Fixture reply");
    assert!(after["updatedAt"].as_str() >= before["updatedAt"].as_str());
    assert_eq!(after["id"], before["id"]);
    bird_types::Conversation::from_slice(after.to_string().as_bytes()).unwrap();
    assert_eq!(emulator.sent().len(), 2);
}

#[tokio::test]
async fn activity_after_sends_leaves_sent_messages_alone_and_listings_consistent() {
    let emulator = Emulator::start(small(6, 6, 4..=6)).await.unwrap();
    let api = Api::new(&emulator);
    let closed = emulator.closed_bird_conversations(0);
    let mut partoo_sent = Vec::new();
    for id in emulator.partoo_conversation_ids() {
        let reply = api
            .partoo_send(&json!({"conversation_id": id, "content_type": "Text", "content": "sent"}))
            .await;
        assert_eq!(reply.status, 200);
        let (messages, _) = api.partoo_walk(id, Some(100)).await;
        partoo_sent.push((id, messages.last().unwrap().clone()));
    }
    let mut bird_sent = Vec::new();
    for id in emulator.bird_conversation_ids() {
        if closed.contains(&id) {
            continue;
        }
        let reply = api
            .bird_send(
                &id,
                &json!({"body": {"type": "text", "text": {"text": "sent"}}}),
            )
            .await;
        assert_eq!(reply.status, 202);
        bird_sent.push((id, reply.json()));
    }
    // Status changes only (no conversation gets new messages: 0), then new messages too.
    for (seed, conversations) in [(1, 0), (2, 3), (3, 6), (4, 6)] {
        emulator.simulate_activity(seed, conversations);
    }
    for (id, sent) in &partoo_sent {
        let (messages, _) = api.partoo_walk(*id, Some(100)).await;
        let served = messages.iter().find(|m| m["id"] == sent["id"]).unwrap();
        assert_eq!(served, sent);
        let one = api.partoo(&format!("/conversations/{id}")).await.json();
        assert_eq!(&one["last_message"], messages.last().unwrap());
        assert_eq!(one["has_one_user_message"], true);
    }
    for (id, sent) in &bird_sent {
        let (messages, _) = api.bird_walk(id, "limit=100").await;
        let served = messages.iter().find(|m| m["id"] == sent["id"]).unwrap();
        assert_eq!(served, sent);
        let one = api.bird(&format!("/conversations/{id}")).await.json();
        let newest = &messages[0];
        assert_eq!(one["lastMessage"]["id"], newest["id"]);
        assert_eq!(one["lastMessage"]["status"], newest["status"]);
        assert!(one["updatedAt"].as_str() >= newest["createdAt"].as_str());
        // The last message from the contact, wherever the sent one sits.
        let incoming = messages
            .iter()
            .find(|m| m["sender"]["type"] == "contact")
            .map(|m| m["createdAt"].clone());
        assert_eq!(one.get("lastMessageIncomingAt").cloned(), incoming, "{id}");
    }
}
