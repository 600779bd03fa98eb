//! The shared runtime against a wiremock server: retries, errors, caps, redaction.

// Helpers outside `#[test]` functions unwrap test-local values too.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use inbox_http::{
    Config, Error, ErrorClass, RetryPolicy, Secret, Transport, TransportKind, parse_base_url,
};
use reqwest::header::HeaderName;
use serde::Deserialize;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_SECRET_4242";

/// The provider error body used by these tests: `{"message": "..."}`.
#[derive(Debug, Deserialize)]
struct Body {
    message: String,
}

impl std::fmt::Display for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

type E = Error<Body>;

use inbox_testkit::mock_server as server;

/// A provider for the shared builder, authenticating with `x-apikey`.
#[derive(Debug)]
struct Example;

impl inbox_http::Api for Example {
    type Client = Transport;
    const AUTH_HEADER: &'static str = "x-apikey";
    const AUTH_PREFIX: &'static str = "";
    const KEY_NAME: &'static str = "API key";
    fn build(self, transport: Transport) -> Result<Transport, inbox_http::ConfigError> {
        Ok(transport)
    }
}

/// A transport from `config`, authenticating with [`KEY`] as `x-apikey`.
fn build(config: Config) -> Transport {
    Transport::new(
        config,
        HeaderName::from_static("x-apikey"),
        "",
        "API key",
        &Secret::new(KEY),
    )
    .unwrap()
}

fn transport(server: &MockServer, retry: RetryPolicy) -> Transport {
    let mut config = Config::new(parse_base_url(&format!("{}/v2", server.uri())).unwrap());
    config.retry = retry;
    // A paused clock auto-advances to the next timer whenever the runtime waits on a socket,
    // so paused tests arm no timer but the retry waits: no request timeout (it has its own
    // test on a real clock) and no connection-pool idle timer.
    config.timeout = None;
    config.http_client = Some(inbox_testkit::paused_clock_client());
    build(config)
}

fn patient() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        ..RetryPolicy::default()
    }
}

async fn get(t: &Transport) -> Result<serde_json::Value, E> {
    t.get_json(&["messages"], &[("per_page", "100".into())])
        .await
}

#[tokio::test(start_paused = true)]
async fn sends_the_key_and_query_and_decodes() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/v2/messages"))
        .and(header("x-apikey", KEY))
        .and(header("accept", "application/json"))
        .and(query_param("per_page", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"ok":true}"#))
        .expect(1)
        .mount(&server)
        .await;
    let value = get(&transport(&server, patient())).await.unwrap();
    assert_eq!(value["ok"], true);
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_is_waited_out_then_succeeds() {
    let server = server().await;
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "60"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .expect(1)
        .mount(&server)
        .await;
    let started = tokio::time::Instant::now();
    get(&transport(&server, patient())).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(60) && waited < Duration::from_secs(61),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_503_is_retried_with_backoff_then_succeeds() {
    let server = server().await;
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let started = tokio::time::Instant::now();
    get(&transport(&server, patient())).await.unwrap();
    // Two waits, each at most its full-jitter ceiling (250 ms, then 500 ms).
    assert!(
        started.elapsed() <= Duration::from_millis(750),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_the_attempt_limit_with_the_last_error() {
    let server = server().await;
    Mock::given(path("/v2/messages"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "2")
                .set_body_string(r#"{"message":"slow down"}"#),
        )
        .expect(3)
        .mount(&server)
        .await;
    let policy = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    let err = get(&transport(&server, policy)).await.unwrap_err();
    match &err {
        Error::RateLimited { retry_after, error } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(2)));
            assert_eq!(
                error.body.as_ref().map(|b| b.message.as_str()),
                Some("slow down")
            );
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "rate limited (429), retry after 2s: slow down"
    );
}

#[tokio::test(start_paused = true)]
async fn the_time_budget_stops_retries_early() {
    let server = server().await;
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "50"))
        .expect(2)
        .mount(&server)
        .await;
    let policy = RetryPolicy {
        max_attempts: 10,
        budget: Duration::from_secs(90),
        ..RetryPolicy::default()
    };
    let started = tokio::time::Instant::now();
    let err = get(&transport(&server, policy)).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(started.elapsed().as_secs(), 50, "one wait of 50 s, not two");
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_never_retried() {
    for (status, check) in [
        (
            401u16,
            (|e: &E| matches!(e, Error::Unauthorized(_))) as fn(&E) -> bool,
        ),
        (403, |e| matches!(e, Error::Forbidden(_))),
        (404, |e| matches!(e, Error::NotFound(_))),
        (409, |e| matches!(e, Error::Conflict(_))),
        (400, |e| matches!(e, Error::Rejected(_))),
        (501, |e| matches!(e, Error::Server(_))),
    ] {
        let server = server().await;
        Mock::given(path("/v2/messages"))
            .respond_with(ResponseTemplate::new(status).set_body_string(r#"{"message":"no"}"#))
            .expect(1)
            .mount(&server)
            .await;
        let err = get(&transport(&server, patient())).await.unwrap_err();
        assert!(check(&err), "{status}: {err:?}");
        assert_eq!(err.status(), Some(status));
        assert!(err.to_string().ends_with(": no"), "{err}");
    }
}

#[tokio::test(start_paused = true)]
async fn retries_can_be_turned_off() {
    let server = server().await;
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(500))
        .expect(1)
        .mount(&server)
        .await;
    let err = get(&transport(&server, RetryPolicy::none()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Server(ref e) if e.status == 500 && e.body.is_none()),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_slow_server_times_out_and_the_timeout_is_retried() {
    let server = server().await;
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .expect(2)
        .mount(&server)
        .await;
    let mut config = Config::new(parse_base_url(&format!("{}/v2", server.uri())).unwrap());
    config.timeout = Some(Duration::from_millis(200));
    config.retry = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    let t = build(config);
    let started = std::time::Instant::now();
    let err = get(&t).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn a_non_json_body_names_status_content_type_and_place() {
    let server = server().await;
    Mock::given(path("/v2/messages"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("<html>proxy error</html>", "text/html"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = get(&transport(&server, patient())).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("200") && text.contains("text/html") && text.contains("<html>proxy error"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn bodies_over_the_cap_are_refused() {
    let server = server().await;
    Mock::given(path("/v2/messages"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(format!("[{}0]", "0,".repeat(600))),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut config = Config::new(parse_base_url(&format!("{}/v2", server.uri())).unwrap());
    config.max_body_bytes = 1000;
    config.timeout = None;
    let t = build(config);
    let err = get(&t).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::BodyTooLarge {
                status: 200,
                limit: 1000
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_body_cut_short_is_a_transport_error_and_is_retried() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A raw server: promises 100 bytes, sends 10, hangs up. Twice.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(async move {
        for _ in 0..2 {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"a\":[1,2,")
                .await;
        }
    });
    let mut config = Config::new(parse_base_url(&format!("http://{addr}/v2")).unwrap());
    config.retry = RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    let t = build(config);
    let err = get(&t).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::BodyCutShort,
                ..
            }
        ),
        "{err:?}"
    );
    served.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_key_never_prints() {
    let server = server().await;
    Mock::given(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(401).set_body_string(r#"{"message":"bad key"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let t = transport(&server, patient());
    let err = get(&t).await.unwrap_err();
    let builder = inbox_http::ClientBuilder::new(
        Example,
        parse_base_url(&server.uri()).unwrap(),
        Secret::new(KEY),
    );
    let builder_debug = format!("{builder:?}");
    assert!(builder_debug.contains("[redacted]"), "{builder_debug}");
    let refused = builder.base_url("http://example.com").build().unwrap_err();
    for text in [
        format!("{t:?}"),
        format!("{err}"),
        format!("{err:?}"),
        format!("{:?}", Secret::new(KEY)),
        builder_debug,
        format!("{refused} {refused:?}"),
    ] {
        assert!(!text.contains(KEY), "key leaked: {text}");
    }
}

/// A raw server that runs `behave` on every connection, counting them.
async fn raw_server<F, Fut>(behave: F) -> (std::net::SocketAddr, Arc<AtomicUsize>)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(behave(socket));
        }
    });
    (addr, accepted)
}

/// A transport with the default settings (30 s request timeout, the default retry policy)
/// to a raw server, for tests under a paused clock.
fn defaults(addr: std::net::SocketAddr) -> Transport {
    let mut config = Config::new(parse_base_url(&format!("http://{addr}/v2")).unwrap());
    config.http_client = Some(inbox_testkit::paused_clock_client());
    build(config)
}

/// Checks the worst case the retry policy promises with default settings: a request that
/// cannot succeed ends with a timeout, after at most 3 attempts (a timeout is retried
/// twice), within 150 s. Under a paused clock, so the test takes no real time.
async fn ends_in_a_timeout_within_150_s(addr: std::net::SocketAddr, accepted: &AtomicUsize) {
    let started = tokio::time::Instant::now();
    let err = get(&defaults(addr)).await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Timeout);
    let text = err.to_string();
    assert!(
        text.starts_with("request timed out: GET http://") && text.ends_with("/v2/messages"),
        "names the timeout and the URL, not the query: {text}"
    );
    assert!(
        took >= Duration::from_secs(90) && took <= Duration::from_secs(150),
        "three 30 s attempts, within 150 s: {took:?}"
    );
    assert!(accepted.load(Ordering::SeqCst) <= 3, "at most 3 attempts");
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_ends_in_a_timeout_within_150_seconds() {
    use tokio::io::AsyncReadExt;
    let (addr, accepted) = raw_server(|mut socket| async move {
        let mut buf = [0u8; 4096];
        // Read the request, then nothing: hold the connection until the client hangs up.
        while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
    ends_in_a_timeout_within_150_s(addr, &accepted).await;
}

#[tokio::test(start_paused = true)]
async fn a_server_that_trickles_a_byte_a_second_ends_in_a_timeout_within_150_seconds() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (addr, accepted) = raw_server(|mut socket| async move {
        let mut buf = [0u8; 4096];
        let _ = socket.read(&mut buf).await;
        let head =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n[";
        if socket.write_all(head).await.is_err() {
            return;
        }
        for _ in 0..100_000 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if socket.write_all(b"1").await.is_err() {
                return;
            }
        }
    })
    .await;
    ends_in_a_timeout_within_150_s(addr, &accepted).await;
}

#[tokio::test]
async fn redirects_are_not_followed_so_the_key_goes_nowhere_else() {
    let (server, elsewhere) = (server().await, server().await);
    Mock::given(path("/v2/messages"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/stolen", elsewhere.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    // `elsewhere` has only its catch-all, which expects no request at all.
    let config = Config::new(parse_base_url(&format!("{}/v2", server.uri())).unwrap());
    let t = build(config);
    let err = get(&t).await.unwrap_err();
    assert!(
        matches!(&err, Error::Rejected(e) if e.status == 302),
        "{err:?}"
    );
    assert!(err.to_string().contains("not followed"), "{err}");
}

// ----------------------------------------------------------------------------------------
// POST: a request that changes something is retried only when it cannot have taken effect
// ----------------------------------------------------------------------------------------

async fn post(t: &Transport) -> Result<serde_json::Value, E> {
    let body = t
        .post_json::<Body>(&["messages"], &serde_json::json!({"text": "hello"}))
        .await?;
    body.decode()
}

#[tokio::test(start_paused = true)]
async fn a_post_is_sent_as_json_and_retried_after_429s() {
    let server = server().await;
    let matches = || {
        Mock::given(method("POST"))
            .and(path("/v2/messages"))
            .and(header("x-apikey", KEY))
            .and(header("content-type", "application/json"))
            .and(wiremock::matchers::body_json(
                serde_json::json!({"text": "hello"}),
            ))
    };
    matches()
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "2"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    matches()
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    matches()
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"id": 7}"#))
        .expect(1)
        .with_priority(3)
        .mount(&server)
        .await;
    let sent = post(&transport(&server, patient())).await.unwrap();
    assert_eq!(sent["id"], 7);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_post_answered_503_is_not_retried_it_may_have_been_taken() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string(r#"{"message":"busy"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let err = post(&transport(&server, patient())).await.unwrap_err();
    assert!(matches!(err, Error::Server(_)), "{err:?}");
    assert_eq!(err.effect(), inbox_http::Effect::Unknown);
}

#[tokio::test(start_paused = true)]
async fn a_refused_post_is_not_retried_and_took_no_effect() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(409).set_body_string(r#"{"message":"closed"}"#))
        .expect(1)
        .mount(&server)
        .await;
    let err = post(&transport(&server, patient())).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(err.effect(), inbox_http::Effect::None);
}

#[tokio::test]
async fn a_post_that_times_out_is_not_retried_its_effect_unknown() {
    let server = server().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .expect(1)
        .mount(&server)
        .await;
    let mut config = Config::new(parse_base_url(&format!("{}/v2", server.uri())).unwrap());
    config.timeout = Some(Duration::from_millis(200));
    config.retry = RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    let err = post(&build(config)).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Timeout,
                method: "POST",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.effect(), inbox_http::Effect::Unknown);
    assert!(err.to_string().contains("POST"), "{err}");
}

#[tokio::test]
async fn a_post_to_nobody_cannot_have_been_sent() {
    // A port nobody listens on: every attempt is refused before anything is sent.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = Config::new(parse_base_url(&format!("http://{addr}/v2")).unwrap());
    config.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    let err = post(&build(config)).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.effect(), inbox_http::Effect::None);
}

#[tokio::test(start_paused = true)]
async fn a_post_answered_with_a_body_cut_short_is_not_retried() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"id\":")
                .await;
        }
    });
    let mut config = Config::new(parse_base_url(&format!("http://{addr}/v2")).unwrap());
    config.retry = RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    let err = post(&build(config)).await.unwrap_err();
    assert_eq!(err.effect(), inbox_http::Effect::Unknown, "{err:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "one attempt only");
}
