//! Test support shared by the workspace's integration tests. Not published; a dev-dependency
//! only.
//!
//! ```no_run
//! # async fn demo() {
//! let server = inbox_testkit::mock_server().await; // fails the test on any unmatched request
//! let page = inbox_testkit::fixture("partoo/messages-page-1.json");
//! let http = inbox_testkit::paused_clock_client();
//! # let _ = (server, page, http);
//! # }
//! ```

use std::path::PathBuf;

pub mod postgres;

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The workspace's `fixtures/` folder.
pub fn fixtures_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// The JSON of `fixtures/<rel>`.
///
/// # Panics
///
/// When the file is missing or not JSON: a test cannot go on without its fixture.
pub fn fixture(rel: &str) -> serde_json::Value {
    let path = fixtures_root().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// A mock server, one per test, with a lowest-priority catch-all that answers 599 and
/// expects no call: any request no mock was written for fails the test when the server drops.
pub async fn mock_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|r: &Request| {
            ResponseTemplate::new(599)
                .set_body_string(format!("unexpected request: {} {}", r.method, r.url))
        })
        .with_priority(u8::MAX)
        .expect(0)
        .named("catch-all: no unexpected requests")
        .mount(&server)
        .await;
    server
}

/// An HTTP client that arms no timer of its own, for tests under `tokio::time::pause`: a
/// paused clock auto-advances to the next timer whenever the runtime waits on a socket, so a
/// connection-pool idle timer would jump the clock. Give clients `.no_timeout()` too.
///
/// # Panics
///
/// When the HTTP client cannot be built (no TLS backend): no test could run.
pub fn paused_clock_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(None)
        .build()
        .expect("an HTTP client")
}
