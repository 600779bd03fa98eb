//! Fault soak: the aggregator fetches every conversation of the emulator while it injects
//! 10% 5xx, 5% 429 with Retry-After, 2% bodies cut short and 2% dropped connections. Every
//! message arrives exactly once and the run ends by itself. Bounded: a fixed dataset, the
//! aggregator's bounded retries, and a deadline.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use inbox::{BirdSource, Inbox, PartooSource, Progress, RetryPolicy, SourceLimits, Target};
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
    let partoo = inbox::partoo::Client::builder(c.partoo_key.as_str())
        .base_url(&emulator.partoo_base_url())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let bird = inbox::bird::Client::builder(c.bird_key.as_str(), c.bird_workspace.as_str())
        .base_url(&emulator.bird_base_url())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let local = SourceLimits::new(8, None);
    let last = Arc::new(Mutex::new(Progress::default()));
    let seen = last.clone();
    let inbox = Inbox::builder()
        .source(PartooSource::new(partoo).limits(local))
        .source(BirdSource::new(bird).limits(local))
        .concurrency(12)
        .on_progress(move |p| *seen.lock().unwrap() = p)
        // Patient: 19% of requests fail, and this run must deliver everything.
        .retry(RetryPolicy {
            max_attempts: 10,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let started = Instant::now();
    // The stream form, so what is checked is what the fetchers delivered, before any
    // timeline-level deduplication.
    let stream = inbox
        .stream(vec![Target::all("partoo"), Target::all("bird")])
        .unwrap();
    let items: Vec<_> = tokio::time::timeout(Duration::from_secs(120), stream.collect())
        .await
        .expect("the run ends by itself");
    let took = started.elapsed();
    let failures: Vec<String> = items
        .iter()
        .filter_map(|i| i.as_ref().err().map(ToString::to_string))
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    let delivered: Vec<_> = items.into_iter().filter_map(Result::ok).collect();
    let unique: HashSet<_> = delivered.iter().map(|m| m.id.clone()).collect();
    assert_eq!(unique.len(), delivered.len(), "no message delivered twice");
    assert_eq!(delivered.len(), emulator.message_count(), "no message lost");
    let stats = emulator.stats();
    let served = stats.partoo_requests + stats.bird_requests;
    let progress = *last.lock().unwrap();
    assert_eq!(
        progress.requests, served,
        "every request the server saw was one the aggregator sent"
    );
    assert!(
        stats.faults > 10 && progress.retries >= stats.faults,
        "{stats:?} {progress:?}"
    );
    eprintln!(
        "soak: {} messages exactly once in {:.1}s; {served} requests, {} retried, faults survived: {} ({} 5xx, {} 429, {} cut bodies, {} dropped connections)",
        delivered.len(),
        took.as_secs_f64(),
        progress.retries,
        stats.faults,
        stats.server_errors,
        stats.rate_limited,
        stats.cut_bodies,
        stats.dropped,
    );
}
