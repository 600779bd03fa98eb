//! Per-source bounds: requests in flight, a token bucket, and a pause after a 429.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::source::SourceLimits;

/// The bounds of one source, shared by all its conversations.
pub(crate) struct Limiter {
    in_flight: Arc<Semaphore>,
    bucket: Option<Mutex<Bucket>>,
    paused_until: Mutex<Option<Instant>>,
}

struct Bucket {
    capacity: f64,
    tokens: f64,
    per_token: Duration,
    last: Instant,
}

impl Limiter {
    pub(crate) fn new(limits: SourceLimits) -> Self {
        let bucket = limits.rate.filter(|r| r.requests > 0).map(|rate| {
            let capacity = f64::from(rate.requests);
            Mutex::new(Bucket {
                capacity,
                tokens: capacity,
                per_token: rate.per.div_f64(capacity),
                last: Instant::now(),
            })
        });
        Self {
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            bucket,
            paused_until: Mutex::new(None),
        }
    }

    /// A slot for one conversation of this source (each has at most one request in flight).
    pub(crate) async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        self.in_flight.clone().acquire_owned().await.ok()
    }

    /// Waits until a request may be sent: after any pause, and when the bucket has a token.
    pub(crate) async fn ready(&self) {
        loop {
            let pause = *self.paused_until.lock().await;
            match pause {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        let Some(bucket) = &self.bucket else { return };
        let wait = {
            let mut b = bucket.lock().await;
            let now = Instant::now();
            let refill = now.duration_since(b.last).as_secs_f64() / b.per_token.as_secs_f64();
            b.tokens = (b.tokens + refill).min(b.capacity);
            b.last = now;
            b.tokens -= 1.0;
            if b.tokens >= 0.0 {
                Duration::ZERO
            } else {
                b.per_token.mul_f64(-b.tokens)
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Slows the whole source down after a 429: no request before `wait` has passed.
    pub(crate) async fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().await;
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Rate;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_allows_a_burst_then_the_rate() {
        let limiter = Limiter::new(SourceLimits {
            max_in_flight: 4,
            rate: Some(Rate {
                requests: 5,
                per: Duration::from_secs(1),
            }),
        });
        let start = Instant::now();
        for _ in 0..5 {
            limiter.ready().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(1),
            "burst of 5 is free"
        );
        for _ in 0..5 {
            limiter.ready().await;
        }
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(999) && elapsed <= Duration::from_millis(1001),
            "{elapsed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_delays_every_request() {
        let limiter = Limiter::new(SourceLimits {
            max_in_flight: 1,
            rate: None,
        });
        limiter.pause(Duration::from_secs(30)).await;
        limiter.pause(Duration::from_secs(5)).await;
        let start = Instant::now();
        limiter.ready().await;
        assert_eq!(start.elapsed().as_secs(), 30, "the longer pause wins");
    }
}
