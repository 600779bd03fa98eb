//! The facade's integration tests, one binary: the aggregator against wiremock servers for
//! both providers; its bounds, cancellation and timeouts against the emulator under a paused
//! clock; the secrets audit over every error path; and the fault soak against the emulator.

#![allow(clippy::unwrap_used)]

// The tests read as a user of the facade would write them.
extern crate inbox_aggregator as inbox;

mod aggregator;
mod bounds;
mod secrets;
mod soak;
