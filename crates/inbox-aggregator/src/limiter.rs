//! Per-source bounds: conversations at once, a sliding window of requests, and a pause
//! after a 429.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::source::SourceLimits;

/// The bounds of one source, shared by all its conversations. Its locks are never held
/// across an await.
pub(crate) struct Limiter {
    conversations: Arc<Semaphore>,
    window: Option<Mutex<Window>>,
    paused_until: Mutex<Option<Instant>>,
}

/// A sliding window: the start times of the last `limit` requests. A request may start when
/// fewer than `limit` started within the last `per`, so no window of that length ever holds
/// more (a token bucket refilled at the same rate would let twice as many through its
/// first window).
struct Window {
    limit: usize,
    per: Duration,
    started: VecDeque<Instant>,
}

impl Limiter {
    pub(crate) fn new(limits: SourceLimits) -> Self {
        let window = limits.rate.filter(|r| r.requests > 0).map(|rate| {
            let limit = usize::try_from(rate.requests).unwrap_or(usize::MAX);
            Mutex::new(Window {
                limit,
                per: rate.per,
                started: VecDeque::with_capacity(limit.min(1024)),
            })
        });
        Self {
            conversations: Arc::new(Semaphore::new(limits.max_conversations.max(1))),
            window,
            paused_until: Mutex::new(None),
        }
    }

    /// A slot for one conversation of this source (each has at most one request in flight).
    pub(crate) async fn conversation_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.conversations.clone().acquire_owned().await.ok()
    }

    /// Waits until a request may be sent: after any pause, and when the window has room.
    /// The request is counted as started when this returns.
    pub(crate) async fn ready(&self) {
        loop {
            let pause = *self
                .paused_until
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match pause {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        let Some(window) = &self.window else { return };
        loop {
            let wait_until = {
                let mut w = window.lock().unwrap_or_else(PoisonError::into_inner);
                let now = Instant::now();
                while w
                    .started
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= w.per)
                {
                    w.started.pop_front();
                }
                if w.started.len() < w.limit {
                    w.started.push_back(now);
                    return;
                }
                w.started.front().map(|oldest| *oldest + w.per)
            };
            if let Some(until) = wait_until {
                tokio::time::sleep_until(until).await;
            }
        }
    }

    /// Slows the whole source down after a 429: no request before `wait` has passed.
    pub(crate) fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
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
    async fn no_window_of_the_period_holds_more_than_the_limit() {
        let limiter = Limiter::new(SourceLimits::new(
            4,
            Some(Rate {
                requests: 300,
                per: Duration::from_secs(60),
            }),
        ));
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..1000 {
            limiter.ready().await;
            starts.push(start.elapsed());
        }
        // The first 300 go at once, the next 300 a minute later, and so on.
        assert!(starts[299] < Duration::from_millis(1));
        assert!(starts[300] >= Duration::from_secs(60));
        for (i, t) in starts.iter().enumerate() {
            let in_window = starts[i..]
                .iter()
                .take_while(|u| **u < *t + Duration::from_secs(60))
                .count();
            assert!(
                in_window <= 300,
                "{in_window} requests within 60 s from {t:?}"
            );
        }
        // Partoo's documented 300 a minute, kept over 1000 requests: about 3 minutes 20.
        assert!(starts[999] >= Duration::from_secs(180), "{:?}", starts[999]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_delays_every_request() {
        let limiter = Limiter::new(SourceLimits::new(1, None));
        limiter.pause(Duration::from_secs(30));
        limiter.pause(Duration::from_secs(5));
        let start = Instant::now();
        limiter.ready().await;
        assert_eq!(start.elapsed().as_secs(), 30, "the longer pause wins");
    }
}
