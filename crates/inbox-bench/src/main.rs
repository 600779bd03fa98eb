//! The benchmarks, run by `cargo xtask bench` (release build). Each prints one line
//! `<name>: ratio=<X> (target <T>)` and the figures behind it; the exit code says whether
//! every target was met. Nothing here is a test: the numbers are measured, not asserted.
//!
//! - `inbox-bench decode`: a realistic 100-message page of each provider (from the
//!   emulator's generator), bytes → typed page → unified messages, against
//!   `serde_json::from_slice::<serde_json::Value>` of the same bytes, interleaved.
//! - `inbox-bench fetch`: the aggregator against the emulator with a fixed latency.
//! - `inbox-bench sync`: the mirror's ingest against its bare-insert floor, a resync with
//!   nothing changed, the memory of a syncing process.
//! - `inbox-bench webhook`: `inbox serve` (the release binary beside this one) taking signed
//!   Partoo events over loopback: events per second, p50 and p99 latency.
//! - `inbox-bench workers`: accounts synced per second by three workers sharing one
//!   PostgreSQL (the tests' throwaway server) against one, at L=20 ms; and the store's
//!   write rate on PostgreSQL against SQLite for the same sync.
//! - `inbox-bench decode-probe partoo|bird N`: N decodes of the page and nothing else, for a
//!   profiler.
//! - `inbox-bench ingest-probe BATCH`: the webhook server's writer alone: the benchmark's
//!   events decoded, then stored BATCH to a commit; the cost of each per event.
//! - `inbox-bench fetch-probe K LATENCY_MS`: one fetch with its figures, to see where time
//!   goes at other sizes; `plain-probe K LATENCY_MS`: the same round trips by plain loops.

#![allow(clippy::print_stdout)]

mod alloc;
mod decode;
mod fetch;
mod sync;
mod webhook;
mod workers;

use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    let met = match args.as_slice() {
        ["decode"] => decode::run(),
        ["decode-probe", provider, n] => n.parse().is_ok_and(|n| decode::probe(provider, n)),
        ["fetch"] => runtime().is_ok_and(|rt| rt.block_on(fetch::run())),
        ["fetch-probe", k, ms] => match (k.parse(), ms.parse()) {
            (Ok(k), Ok(ms)) => runtime().is_ok_and(|rt| rt.block_on(fetch::probe(k, ms))),
            _ => false,
        },
        ["plain-probe", k, ms] => match (k.parse(), ms.parse()) {
            (Ok(k), Ok(ms)) => runtime().is_ok_and(|rt| {
                rt.block_on(async {
                    match fetch::plain(k, std::time::Duration::from_millis(ms)).await {
                        Ok(took) => {
                            println!("K={k} L={ms}ms: plain loops {:.3} s", took.as_secs_f64());
                            true
                        }
                        Err(e) => {
                            println!("{e}");
                            false
                        }
                    }
                })
            }),
            _ => false,
        },
        ["sync"] => runtime().is_ok_and(|rt| rt.block_on(sync::run())),
        ["webhook"] => runtime().is_ok_and(|rt| rt.block_on(webhook::run())),
        ["ingest-probe", batch] => batch
            .parse()
            .is_ok_and(|b| runtime().is_ok_and(|rt| rt.block_on(webhook::ingest_probe(b)))),
        ["workers"] => runtime().is_ok_and(|rt| rt.block_on(workers::run())),
        ["sync-child", rest @ ..] => runtime().is_ok_and(|rt| rt.block_on(sync::child(rest))),
        ["fetch-child", rest @ ..] => runtime().is_ok_and(|rt| rt.block_on(fetch::child(rest))),
        [] => {
            let decode = decode::run();
            let fetch = runtime().is_ok_and(|rt| rt.block_on(fetch::run()));
            let sync = runtime().is_ok_and(|rt| rt.block_on(sync::run()));
            let webhook = runtime().is_ok_and(|rt| rt.block_on(webhook::run()));
            let workers = runtime().is_ok_and(|rt| rt.block_on(workers::run()));
            decode && fetch && sync && webhook && workers
        }
        _ => {
            eprintln!(
                "usage: inbox-bench [decode|fetch|sync|webhook|workers|decode-probe PROVIDER N|ingest-probe BATCH|fetch-probe K LATENCY_MS|plain-probe K LATENCY_MS]"
            );
            return ExitCode::from(2);
        }
    };
    if met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
