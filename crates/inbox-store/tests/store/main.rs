//! The mirror against the emulator and against wiremock, on SQLite files in a temporary
//! folder: exactly once, incremental, fault-tolerant, and refusing what it cannot use.

#![allow(clippy::unwrap_used)]

mod support;

mod ingest;
mod open;
mod outbox;
mod scenarios;
mod schedule;
mod sync;
