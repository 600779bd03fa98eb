//! Every error path, with the key checked absent from `Display`, `Debug` and the tracing
//! output (captured at TRACE level).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use inbox::{ConversationId, Inbox, PartooSource, RetryPolicy, SourceLimits, Target};
use wiremock::matchers::{any, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PARTOO_KEY: &str = "pk-SECRET-partoo-0000";
const BIRD_KEY: &str = "bk-SECRET-bird-1111";

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn assert_clean(what: &str, text: &str) {
    for key in [PARTOO_KEY, BIRD_KEY] {
        assert!(!text.contains(key), "{what} shows a key: {text}");
    }
}

fn partoo(
    base: &str,
    retry: RetryPolicy,
) -> Result<inbox::partoo::Client, inbox::partoo::ConfigError> {
    inbox::partoo::Client::builder(PARTOO_KEY)
        .base_url(base)
        .timeout(Duration::from_millis(300))
        .retry_policy(retry)
        .max_body_bytes(4096)
        .max_pages(Some(2))
        .build()
}

fn bird(base: &str) -> Result<inbox::bird::Client, inbox::bird::ConfigError> {
    inbox::bird::Client::builder(BIRD_KEY, "ws")
        .base_url(base)
        .timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        })
        .build()
}

#[test]
fn no_error_path_prints_a_key() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut texts: Vec<(String, String)> = Vec::new();
    runtime.block_on(async {
        let server = MockServer::start().await;
        for (status, route) in [
            (401u16, "401"),
            (403, "403"),
            (404, "404"),
            (409, "409"),
            (422, "422"),
            (429, "429"),
            (500, "500"),
            (501, "501"),
        ] {
            Mock::given(path(format!("/{route}/messages")))
                .respond_with(
                    ResponseTemplate::new(status)
                        .insert_header("retry-after", "0")
                        .set_body_string(r#"{"code":"X","message":"no"}"#),
                )
                .mount(&server)
                .await;
        }
        Mock::given(path("/html/messages"))
            .respond_with(ResponseTemplate::new(200).set_body_raw("<html>", "text/html"))
            .mount(&server)
            .await;
        Mock::given(path("/big/messages"))
            .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(10_000)))
            .mount(&server)
            .await;
        Mock::given(path("/slow/messages"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
            .mount(&server)
            .await;
        Mock::given(path("/loop/messages"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_string(r#"{"messages":[],"count":0,"next_cursor":"same"}"#),
            )
            .mount(&server)
            .await;
        Mock::given(path("/cap/messages"))
            .respond_with(|r: &wiremock::Request| {
                let n = r
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "cursor")
                    .map_or(0, |(_, v)| v.len());
                ResponseTemplate::new(200).set_body_string(format!(
                    r#"{{"messages":[],"count":0,"next_cursor":"{}"}}"#,
                    "c".repeat(n + 1)
                ))
            })
            .mount(&server)
            .await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(404))
            .with_priority(u8::MAX)
            .mount(&server)
            .await;

        let retry = RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        for route in [
            "401", "403", "404", "409", "422", "429", "500", "501", "html", "big", "slow", "loop",
            "cap",
        ] {
            let client = partoo(&format!("{}/{route}", server.uri()), retry).unwrap();
            texts.push((format!("{route} client"), format!("{client:?}")));
            let results: Vec<_> = client.message_pages(1).collect().await;
            let err = results
                .into_iter()
                .find_map(Result::err)
                .unwrap_or_else(|| panic!("{route}: no error"));
            texts.push((format!("{route} display"), err.to_string()));
            texts.push((format!("{route} debug"), format!("{err:?}")));
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                texts.push((format!("{route} cause"), format!("{cause} {cause:?}")));
                source = cause.source();
            }
            let bird = bird(&format!("{}/{route}", server.uri())).unwrap();
            let err = bird
                .list_messages("c", &inbox::bird::ListMessagesQuery::new())
                .await
                .unwrap_err();
            texts.push((format!("{route} bird"), format!("{err} {err:?} {bird:?}")));
        }
        // Nothing listens here: a connection error.
        let dead = partoo("http://127.0.0.1:9/v2", RetryPolicy::none()).unwrap();
        let err = dead
            .list_messages(&inbox::partoo::ListMessagesQuery::new(1))
            .await
            .unwrap_err();
        texts.push(("connect".into(), format!("{err} {err:?}")));
        // Configuration and argument errors.
        for bad in ["http://example.com/v2", "ftp://127.0.0.1", "::"] {
            let err = partoo(bad, RetryPolicy::none()).unwrap_err();
            texts.push((format!("config {bad}"), format!("{err} {err:?}")));
            let err = bird(bad).unwrap_err();
            texts.push((format!("config {bad} bird"), format!("{err} {err:?}")));
        }
        let err = bird(&server.uri())
            .unwrap()
            .list_messages("", &inbox::bird::ListMessagesQuery::new())
            .await
            .unwrap_err();
        texts.push(("argument".into(), format!("{err} {err:?}")));
        // Through the aggregator: failures and their Debug.
        let client = partoo(&format!("{}/401", server.uri()), RetryPolicy::none()).unwrap();
        let inbox = Inbox::builder()
            .source(PartooSource::new(client).limits(SourceLimits::new(1, None)))
            .build()
            .unwrap();
        texts.push(("inbox".into(), format!("{inbox:?}")));
        let timeline = inbox
            .timeline(vec![
                Target::all("partoo"),
                Target::conversation("partoo", ConversationId::Partoo(1)),
            ])
            .await
            .unwrap();
        assert_eq!(timeline.failures.len(), 2);
        for failure in &timeline.failures {
            texts.push(("failure".into(), format!("{failure} {failure:?}")));
        }
    });
    assert!(texts.len() > 60, "every path ran: {}", texts.len());
    for (what, text) in &texts {
        assert_clean(what, text);
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("http_request") && logs.contains("attempt"),
        "spans were captured: {logs}"
    );
    assert!(
        logs.contains("status=429") || logs.contains("429"),
        "{logs}"
    );
    assert_clean("tracing output", &logs);
}
