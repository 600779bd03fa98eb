//! decode: bytes → typed page → unified messages, against bytes → `serde_json::Value`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use inbox::Message;

use crate::alloc::allocated;

const MESSAGES: usize = 100;
const ROUNDS: usize = 41;
const TARGET: f64 = 0.5;

/// A typed decode of a page, returning something that depends on all of it.
type Decoder = fn(&[u8]) -> usize;

/// Runs both providers; returns whether both met the target.
pub(crate) fn run() -> bool {
    let partoo = inbox_emulator::generate::partoo_page(7, MESSAGES);
    let bird = inbox_emulator::generate::bird_page(7, MESSAGES);
    let a = one(
        "decode-partoo",
        &partoo,
        typed_partoo,
        &[("wire", wire_partoo), ("scan", scan)],
    );
    let b = one(
        "decode-bird",
        &bird,
        typed_bird,
        &[("wire", wire_bird), ("scan", scan)],
    );
    a && b
}

/// The wire decode alone: the typed page, dropped without normalizing.
fn wire_partoo(bytes: &[u8]) -> usize {
    partoo_types::MessagesPage::from_slice(bytes).map_or(0, |page| black_box(page).messages.len())
}

/// The wire decode alone: the typed page, dropped without normalizing.
fn wire_bird(bytes: &[u8]) -> usize {
    bird_types::MessagesPage::from_slice(bytes).map_or(0, |page| black_box(page).results.len())
}

/// serde_json reading the page and keeping nothing (`IgnoredAny`): what any decode of it
/// through serde_json pays at least.
fn scan(bytes: &[u8]) -> usize {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_or(0, |_| 1)
}

fn typed_partoo(bytes: &[u8]) -> usize {
    match partoo_types::MessagesPage::from_slice(bytes) {
        Ok(page) => page
            .messages
            .into_iter()
            .map(Message::from)
            .map(|m| black_box(m).text.len())
            .sum(),
        Err(_) => 0,
    }
}

fn typed_bird(bytes: &[u8]) -> usize {
    match bird_types::MessagesPage::from_slice(bytes) {
        Ok(page) => page
            .results
            .into_iter()
            .map(Message::from)
            .map(|m| black_box(m).text.len())
            .sum(),
        Err(_) => 0,
    }
}

fn value(bytes: &[u8]) -> usize {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .map_or(0, |v| usize::from(black_box(v).is_object()))
}

/// Median time per call of `f` over `ROUNDS` rounds, each timing `iters` calls.
fn time_per_call(f: &dyn Fn() -> usize, iters: u32) -> Duration {
    let started = Instant::now();
    for _ in 0..iters {
        black_box(f());
    }
    started.elapsed() / iters
}

/// Times `typed` against `Value`, interleaved, then each of `parts` (the pieces of `typed`
/// shown beside it) against `Value` in rounds of its own; prints the lines and returns
/// whether the target was met.
fn one(name: &str, bytes: &[u8], typed: Decoder, parts: &[(&str, Decoder)]) -> bool {
    // Check the page is what we think it is before timing it.
    let decoded = typed(bytes);
    assert!(decoded > 0, "{name}: the generated page did not decode");
    for (part, f) in parts {
        assert!(
            f(bytes) > 0,
            "{name}: the generated page did not decode ({part})"
        );
    }
    // Warm up, and size the rounds to about 20 ms each.
    for _ in 0..200 {
        black_box(typed(bytes));
        black_box(value(bytes));
    }
    let probe = time_per_call(&|| value(bytes), 50);
    let iters =
        u32::try_from((Duration::from_millis(20).as_nanos() / probe.as_nanos().max(1)).max(20))
            .unwrap_or(20);
    let (t, v) = interleaved(bytes, typed, iters);
    let ratio = t.as_secs_f64() / v.as_secs_f64();
    let (typed_bytes, typed_calls) = allocations(|| typed(bytes));
    let (value_bytes, value_calls) = allocations(|| value(bytes));
    println!(
        "{name}: ratio={ratio:.2} (target {TARGET:.1}; bytes allocated per page at most Value's)"
    );
    println!(
        "  page: {MESSAGES} messages, {:.1} KiB; median of {ROUNDS} interleaved rounds of {iters} decodes",
        bytes.len() as f64 / 1024.0
    );
    println!(
        "  typed+normalized: {:.1} µs/page, {:.2} M messages/s, {:.1} KiB in {typed_calls} allocations per page",
        t.as_secs_f64() * 1e6,
        MESSAGES as f64 / t.as_secs_f64() / 1e6,
        typed_bytes as f64 / 1024.0
    );
    println!(
        "  serde_json::Value: {:.1} µs/page, {:.2} M messages/s, {:.1} KiB in {value_calls} allocations per page",
        v.as_secs_f64() * 1e6,
        MESSAGES as f64 / v.as_secs_f64() / 1e6,
        value_bytes as f64 / 1024.0
    );
    // The pieces, each against Value in rounds of their own (after the measurement above,
    // so that it is made exactly as it always was).
    let shown: Vec<String> = parts
        .iter()
        .map(|(part, f)| {
            let (d, v) = interleaved(bytes, *f, iters);
            format!(
                "{part} {:.1} µs ({:.2} of Value)",
                d.as_secs_f64() * 1e6,
                d.as_secs_f64() / v.as_secs_f64()
            )
        })
        .collect();
    println!("  of which: {}", shown.join(", "));
    ratio <= TARGET && typed_bytes <= value_bytes
}

/// The median times per call of `f` and of `Value`, over `ROUNDS` interleaved rounds of
/// `iters` calls, alternating which goes first so drift hits both alike.
fn interleaved(bytes: &[u8], f: Decoder, iters: u32) -> (Duration, Duration) {
    let (mut f_times, mut value_times) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            f_times.push(time_per_call(&|| f(bytes), iters));
            value_times.push(time_per_call(&|| value(bytes), iters));
        } else {
            value_times.push(time_per_call(&|| value(bytes), iters));
            f_times.push(time_per_call(&|| f(bytes), iters));
        }
    }
    (median(&mut f_times), median(&mut value_times))
}

fn allocations(f: impl Fn() -> usize) -> (u64, u64) {
    let (b0, c0) = allocated();
    black_box(f());
    let (b1, c1) = allocated();
    (b1 - b0, c1 - c0)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// `decode-probe PROVIDER N`: N decodes of the page, nothing else, for a profiler
/// (`perf record`, `heaptrack`) to see where a decode's time and bytes go.
pub(crate) fn probe(provider: &str, n: usize) -> bool {
    let (bytes, typed): (Vec<u8>, Decoder) = match provider {
        "partoo" => (
            inbox_emulator::generate::partoo_page(7, MESSAGES),
            typed_partoo,
        ),
        "bird" => (inbox_emulator::generate::bird_page(7, MESSAGES), typed_bird),
        _ => return false,
    };
    let mut total = 0;
    for _ in 0..n {
        total += black_box(typed(&bytes));
    }
    total > 0
}
