//! Bounds, cancellation and timeouts, against the emulator under a paused clock: its latency
//! and the clients' timeouts are tokio timers, so these tests take no real time and measure
//! what they measure exactly.

use std::time::Duration;

use futures_util::StreamExt;
use inbox::{
    BirdSource, ConversationId, ErrorClass, FailureKind, Inbox, InboxBuilder, PartooSource,
    SourceLimits, Target,
};
use inbox_emulator::{Config, Dataset, Emulator, Faults};
use tokio::time::Instant;

fn dataset(partoo: usize, bird: usize, messages: usize) -> Dataset {
    Dataset::Synthetic {
        partoo_conversations: partoo,
        bird_conversations: bird,
        messages_per_conversation: messages..=messages,
    }
}

/// An inbox on the emulator: clients that arm no timer of their own but the request timeout
/// (`timeout: None` for none), so the paused clock moves only with the emulator's latency,
/// the clients' timeouts and the inbox's waits.
fn inbox(
    emulator: &Emulator,
    timeout: Option<Duration>,
    partoo: SourceLimits,
    bird: SourceLimits,
) -> InboxBuilder {
    let c = emulator.config();
    let mut p = inbox::partoo::Client::builder(c.partoo_key.as_str())
        .base_url(&emulator.partoo_base_url())
        .http_client(inbox_testkit::paused_clock_client());
    let mut b = inbox::bird::Client::builder(c.bird_key.as_str(), c.bird_workspace.as_str())
        .base_url(&emulator.bird_base_url())
        .http_client(inbox_testkit::paused_clock_client());
    (p, b) = match timeout {
        Some(t) => (p.timeout(t), b.timeout(t)),
        None => (p.no_timeout(), b.no_timeout()),
    };
    Inbox::builder()
        .source(PartooSource::new(p.build().unwrap()).limits(partoo))
        .source(BirdSource::new(b.build().unwrap()).limits(bird))
}

fn every_conversation(emulator: &Emulator) -> Vec<Target> {
    let mut targets: Vec<Target> = emulator
        .partoo_conversation_ids()
        .into_iter()
        .map(|id| Target::conversation("partoo", ConversationId::Partoo(id)))
        .collect();
    targets.extend(
        emulator
            .bird_conversation_ids()
            .into_iter()
            .map(|id| Target::conversation("bird", ConversationId::Bird(id.into()))),
    );
    targets
}

#[tokio::test(start_paused = true)]
async fn concurrency_bounds_are_never_exceeded_and_are_used() {
    let emulator = Emulator::start(Config {
        dataset: dataset(12, 12, 3),
        latency: Duration::from_millis(60),
        ..Config::default()
    })
    .await
    .unwrap();
    let inbox = inbox(
        &emulator,
        None,
        SourceLimits::new(2, None),
        SourceLimits::new(8, None),
    )
    .concurrency(5)
    .build()
    .unwrap();
    let timeline = inbox.timeline(every_conversation(&emulator)).await.unwrap();
    assert!(timeline.failures.is_empty(), "{:?}", timeline.failures);
    assert_eq!(timeline.messages.len(), emulator.message_count());
    let stats = emulator.stats();
    assert!(
        stats.partoo_peak_in_flight <= 2,
        "Partoo peaked at {}",
        stats.partoo_peak_in_flight
    );
    assert!(
        stats.peak_in_flight <= 5,
        "peaked at {}",
        stats.peak_in_flight
    );
    assert_eq!(
        stats.peak_in_flight, 5,
        "the bound is used, not just respected"
    );
}

#[tokio::test(start_paused = true)]
async fn the_stream_holds_no_more_than_the_pages_in_flight() {
    let emulator = Emulator::start(Config {
        dataset: dataset(20, 0, 100),
        ..Config::default()
    })
    .await
    .unwrap();
    let inbox = inbox(
        &emulator,
        None,
        SourceLimits::new(2, None),
        SourceLimits::new(2, None),
    )
    .buffer(1)
    .build()
    .unwrap();
    let stream = inbox.stream(every_conversation(&emulator)).unwrap();
    futures_util::pin_mut!(stream);
    assert!(stream.next().await.unwrap().is_ok());
    // A consumer that stops reading: the fetchers fill the one-page buffer and wait, each
    // conversation slot holding the page it could not hand over; nothing more is fetched.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let fetched = emulator.stats().partoo_requests;
    assert!(
        fetched <= 4,
        "{fetched} pages fetched for a stalled consumer: the one being read, one buffered, one per slot (2)"
    );
    let rest = stream.count().await;
    assert_eq!(rest + 1, emulator.message_count());
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_stops_the_listing_and_every_conversation_at_once() {
    // 30 listing pages of Partoo at 50 ms each, and long Bird conversations.
    let emulator = Emulator::start(Config {
        dataset: dataset(3000, 8, 400),
        latency: Duration::from_millis(50),
        ..Config::default()
    })
    .await
    .unwrap();
    let inbox = inbox(
        &emulator,
        None,
        SourceLimits::new(4, None),
        SourceLimits::new(4, None),
    )
    .build()
    .unwrap();
    let mut targets = vec![Target::all("partoo")];
    targets.extend(
        emulator
            .bird_conversation_ids()
            .into_iter()
            .map(|id| Target::conversation("bird", ConversationId::Bird(id.into()))),
    );
    // Boxed, not `pin_mut!`ed: dropping a `pin_mut!` binding drops a reference, not the stream.
    let mut stream = Box::pin(inbox.stream(targets).unwrap());
    let waited = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(waited.is_err(), "nothing comes while the listing goes on");
    let listed = emulator.stats().partoo_requests;
    assert!(listed >= 3, "the listing was paging: {listed}");
    drop(stream);
    tokio::time::sleep(Duration::from_millis(10)).await;
    let at_drop = emulator.stats();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let later = emulator.stats();
    assert_eq!(
        (later.partoo_requests, later.bird_requests),
        (at_drop.partoo_requests, at_drop.bird_requests),
        "no request after the drop"
    );
    assert!(
        at_drop.partoo_requests < 30,
        "the listing did not finish: {at_drop:?}"
    );
}

/// With the default settings (30 s request timeout, the default retry policy), a
/// conversation whose server cannot answer ends with a timeout failure within 150 s.
async fn a_timeout_failure_within_150_s(faults: Faults) {
    let emulator = Emulator::start(Config {
        dataset: dataset(1, 0, 3),
        faults,
        ..Config::default()
    })
    .await
    .unwrap();
    let inbox = inbox(
        &emulator,
        Some(Duration::from_secs(30)),
        SourceLimits::new(1, None),
        SourceLimits::new(1, None),
    )
    .build()
    .unwrap();
    let id = emulator.partoo_conversation_ids()[0];
    let started = Instant::now();
    let timeline = inbox
        .timeline(vec![Target::conversation(
            "partoo",
            ConversationId::Partoo(id),
        )])
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(timeline.failures.len(), 1, "{:?}", timeline.failures);
    let failure = &timeline.failures[0];
    assert!(matches!(failure.kind, FailureKind::Conversation(_)));
    let error = failure.error().unwrap();
    assert_eq!(error.class(), ErrorClass::Timeout);
    assert_eq!(error.attempts(), 3, "a timeout is retried twice");
    let text = failure.to_string();
    assert!(
        text.starts_with(&format!(
            "partoo conversation {id}: request timed out: GET http://"
        )) && text.contains("(gave up after 3 attempts in 9"),
        "{text}"
    );
    assert!(
        took >= Duration::from_secs(90) && took <= Duration::from_secs(150),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_fails_its_conversation_within_150_seconds() {
    a_timeout_failure_within_150_s(Faults {
        hang: 1.0,
        ..Faults::default()
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_server_that_trickles_a_byte_a_second_fails_its_conversation_within_150_seconds() {
    a_timeout_failure_within_150_s(Faults {
        trickle: 1.0,
        trickle_interval: Duration::from_secs(1),
        ..Faults::default()
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn each_source_names_the_account_it_reads() {
    let emulator = Emulator::start(Config {
        dataset: dataset(1, 1, 3),
        ..Config::default()
    })
    .await
    .unwrap();
    let inbox = inbox(
        &emulator,
        None,
        SourceLimits::new(1, None),
        SourceLimits::new(1, None),
    )
    .build()
    .unwrap();
    let partoo = inbox.account("partoo").await.unwrap();
    assert_eq!(
        (partoo.provider, partoo.identity.as_str()),
        (inbox::Provider::Partoo, "4242")
    );
    let bird = inbox.account("bird").await.unwrap();
    assert_eq!(bird.identity, emulator.config().bird_workspace);
    assert!(inbox.account("nowhere").await.is_err());
}
