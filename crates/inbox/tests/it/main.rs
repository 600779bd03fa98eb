//! The facade's integration tests, one binary: the aggregator against wiremock servers for
//! both providers, the secrets audit over every error path, and the fault soak against the
//! emulator.

#![allow(clippy::unwrap_used)]

mod aggregator;
mod secrets;
mod soak;
