//! Fault soak: the aggregator fetches every conversation of the emulator while it injects
//! 10% 5xx, 5% 429 with Retry-After, 2% bodies cut short and 2% dropped connections. Every
//! message arrives exactly once and the run ends by itself. Bounded: a fixed dataset, a
//! bounded retry policy, and a deadline.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use inbox::{BirdSource, Inbox, PartooSource, RetryPolicy, SourceLimits, Target};
use inbox_emulator::{Config, Dataset, Emulator, Faults};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_exactly_once_under_faults() {
    let faults = Faults {
        server_error: 0.10,
        rate_limited: 0.05,
        retry_after_secs: 1,
        cut_body: 0.02,
        drop_connection: 0.02,
        ..Faults::default()
    };
    let config = Config {
        seed: 42,
        dataset: Dataset::Synthetic {
            partoo_conversations: 30,
            bird_conversations: 30,
            messages_per_conversation: 20..=260,
        },
        faults,
        ..Config::default()
    };
    let emulator = Emulator::start(config).await.unwrap();
    let c = emulator.config().clone();
    let retry = RetryPolicy {
        base_delay: Duration::from_millis(20),
        max_backoff: Duration::from_millis(500),
        ..RetryPolicy::default()
    };
    let partoo = inbox::partoo::Client::builder(c.partoo_key.as_str())
        .base_url(&emulator.partoo_base_url())
        .timeout(Duration::from_secs(10))
        .retry_policy(retry.clone())
        .build()
        .unwrap();
    let bird = inbox::bird::Client::builder(c.bird_key.as_str(), c.bird_workspace.as_str())
        .base_url(&emulator.bird_base_url())
        .timeout(Duration::from_secs(10))
        .retry_policy(retry)
        .build()
        .unwrap();
    let local = SourceLimits {
        max_in_flight: 8,
        rate: None,
    };
    let inbox = Inbox::builder()
        .source(PartooSource::new(partoo).limits(local))
        .source(BirdSource::new(bird).limits(local))
        .concurrency(12)
        .build();
    let started = Instant::now();
    let timeline = tokio::time::timeout(
        Duration::from_secs(120),
        inbox.timeline(vec![Target::all("partoo"), Target::all("bird")]),
    )
    .await
    .expect("the run ends by itself");
    let took = started.elapsed();
    assert!(timeline.failures.is_empty(), "{:?}", timeline.failures);
    let unique: HashSet<_> = timeline.messages.iter().map(|m| m.id.clone()).collect();
    assert_eq!(unique.len(), timeline.messages.len(), "no message twice");
    assert_eq!(
        timeline.messages.len(),
        emulator.message_count(),
        "no message lost"
    );
    let stats = emulator.stats();
    let served = stats.partoo_requests + stats.bird_requests;
    let retries = served - timeline.progress.requests;
    assert!(stats.faults > 10 && retries > 0, "{stats:?}");
    eprintln!(
        "soak: {} messages exactly once in {:.1}s; {served} requests, {retries} retried, faults survived: {} ({} 5xx, {} 429, {} cut bodies, {} dropped connections)",
        timeline.messages.len(),
        took.as_secs_f64(),
        stats.faults,
        stats.server_errors,
        stats.rate_limited,
        stats.cut_bodies,
        stats.dropped,
    );
}
