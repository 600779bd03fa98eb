//! When to retry, and how long to wait: one policy, one state machine, for a client on its
//! own and for a driver (the `inbox` aggregator) that retries between request slots.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How a failed request is retried.
///
/// A failure is classified ([`ErrorClass`]): a 429, a timeout and other transient failures
/// (5xx other than 501, a refused or dropped connection, a body cut short) are retried; any
/// other error never is.
///
/// The wait before retry `n` (1-based) is the server's `Retry-After` when it sent one
/// (capped at [`RetryPolicy::max_retry_after`]), else a random duration in
/// `0..=min(max_delay, base_delay * 2^(n-1))` ("full jitter"). Three bounds stop retrying,
/// whichever comes first:
///
/// - [`RetryPolicy::max_attempts`] attempts in all;
/// - [`RetryPolicy::max_timeout_retries`] retries after a timeout (a server that never
///   answers costs a whole request timeout per attempt);
/// - [`RetryPolicy::budget`]: the time spent on one request (its attempts and the waits
///   between them) may not pass the budget by waiting; the last attempt may still run its
///   course, so one request ends within `budget` plus one request timeout.
///
/// With the defaults and the clients' 30 s request timeout, a server that never answers (or
/// trickles bytes) is given up on after 3 attempts, about 91 s; nothing ends later than
/// 150 s.
///
/// ```
/// use std::time::Duration;
/// use inbox_http::RetryPolicy;
///
/// let patient = RetryPolicy { max_attempts: 10, ..RetryPolicy::default() };
/// assert_eq!(RetryPolicy::none().max_attempts, 1);
/// assert_eq!(patient.budget, Duration::from_secs(120));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 means never retry.
    pub max_attempts: u32,
    /// Retries after a timeout, at most (whatever `max_attempts` allows).
    pub max_timeout_retries: u32,
    /// The backoff's first ceiling; it doubles each retry.
    pub base_delay: Duration,
    /// The highest backoff ceiling.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a longer one is waited for this long.
    pub max_retry_after: Duration,
    /// The most time one request may take, attempts and waits together, before a retry is
    /// refused.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, at most 2 retries after a timeout, backoff from 250 ms up to 10 s,
    /// `Retry-After` honoured up to 60 s (Partoo asks for 60 s on a 429), a 120 s budget.
    fn default() -> Self {
        Self {
            max_attempts: 6,
            max_timeout_retries: 2,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            budget: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before retry number `retry` (1 for the first retry), given the server's
    /// `Retry-After` if any.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_retry_after);
        }
        let exp = retry.saturating_sub(1).min(30);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }
}

/// What a failure means for retrying it. [`crate::Error::class`] classifies a client's
/// errors; a driver classifies its own the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The server asked us to slow down (429), and may have said for how long.
    RateLimited {
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The request timed out.
    Timeout,
    /// A failure that may pass: a 5xx other than 501, a connection refused or dropped, a
    /// body cut short.
    Transient,
    /// Anything else: trying again would fail the same way.
    Permanent,
}

impl ErrorClass {
    /// Whether the failure is worth trying again.
    pub fn is_retryable(self) -> bool {
        self != ErrorClass::Permanent
    }
}

/// The retry state of one request under a [`RetryPolicy`]: after each failed attempt,
/// [`Backoff::next`] says how long to wait before the next one, or to give up.
///
/// ```
/// use std::time::Duration;
/// use inbox_http::{Backoff, ErrorClass, RetryPolicy};
///
/// let mut backoff = Backoff::new(RetryPolicy::default());
/// let thirty = Duration::from_secs(30);
/// assert!(backoff.next(ErrorClass::Timeout, thirty).is_some());
/// assert!(backoff.next(ErrorClass::Timeout, thirty).is_some());
/// assert_eq!(backoff.next(ErrorClass::Timeout, thirty), None, "a timeout is retried twice");
/// assert_eq!(Backoff::new(RetryPolicy::default()).next(ErrorClass::Permanent, thirty), None);
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    attempts: u32,
    timeouts: u32,
    spent: Duration,
}

impl Backoff {
    /// The state before the first attempt.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            attempts: 0,
            timeouts: 0,
            spent: Duration::ZERO,
        }
    }

    /// Attempts that failed so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time spent so far: the failed attempts and the waits granted.
    pub fn spent(&self) -> Duration {
        self.spent
    }

    /// Records a failed attempt of class `class` that took `took`; returns the wait before
    /// the next attempt, or `None` to give up (with this attempt's error).
    pub fn next(&mut self, class: ErrorClass, took: Duration) -> Option<Duration> {
        self.attempts = self.attempts.saturating_add(1);
        self.spent = self.spent.saturating_add(took);
        let retry_after = match class {
            ErrorClass::Permanent => return None,
            ErrorClass::Timeout => {
                self.timeouts += 1;
                if self.timeouts > self.policy.max_timeout_retries {
                    return None;
                }
                None
            }
            ErrorClass::RateLimited { retry_after } => retry_after,
            ErrorClass::Transient => None,
        };
        if self.attempts >= self.policy.max_attempts {
            return None;
        }
        let delay = self.policy.delay(self.attempts, retry_after);
        let after = self.spent.saturating_add(delay);
        if after > self.policy.budget {
            return None;
        }
        self.spent = after;
        Some(delay)
    }
}

/// `Retry-After` as a duration: delay-seconds (`60`) or an HTTP date, counted from `now`.
/// A date in the past means "now" (zero); anything unreadable is ignored.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn backoff_stays_under_its_doubling_ceiling() {
        let policy = RetryPolicy::default();
        for retry in 1..=8 {
            let ceiling = policy.base_delay * (1 << (retry - 1));
            let ceiling = ceiling.min(policy.max_delay);
            for _ in 0..200 {
                assert!(policy.delay(retry, None) <= ceiling, "retry {retry}");
            }
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| policy.delay(3, None)).collect();
        assert!(spread.len() > 10, "full jitter spreads the waits");
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay(1, Some(7 * SEC)), 7 * SEC);
        assert_eq!(policy.delay(1, Some(3600 * SEC)), policy.max_retry_after);
    }

    #[test]
    fn attempts_are_bounded_and_permanent_errors_never_retried() {
        let mut backoff = Backoff::new(RetryPolicy::default());
        let waits: Vec<_> =
            std::iter::from_fn(|| backoff.next(ErrorClass::Transient, Duration::ZERO)).collect();
        assert_eq!(waits.len(), 5, "6 attempts: 5 waits");
        assert_eq!(backoff.attempts(), 6);
        let mut backoff = Backoff::new(RetryPolicy::none());
        assert_eq!(backoff.next(ErrorClass::Transient, Duration::ZERO), None);
        let mut backoff = Backoff::new(RetryPolicy::default());
        assert_eq!(backoff.next(ErrorClass::Permanent, Duration::ZERO), None);
    }

    #[test]
    fn timeouts_are_retried_twice_and_count_against_the_attempts() {
        let mut backoff = Backoff::new(RetryPolicy::default());
        assert!(backoff.next(ErrorClass::Transient, SEC).is_some());
        assert!(backoff.next(ErrorClass::Timeout, 30 * SEC).is_some());
        assert!(backoff.next(ErrorClass::Transient, SEC).is_some());
        assert!(backoff.next(ErrorClass::Timeout, 30 * SEC).is_some());
        assert_eq!(backoff.next(ErrorClass::Timeout, 30 * SEC), None);
    }

    #[test]
    fn the_budget_refuses_a_wait_that_would_pass_it() {
        let policy = RetryPolicy {
            max_attempts: 100,
            budget: 100 * SEC,
            ..RetryPolicy::default()
        };
        let mut backoff = Backoff::new(policy);
        let limited = ErrorClass::RateLimited {
            retry_after: Some(40 * SEC),
        };
        assert_eq!(backoff.next(limited, SEC), Some(40 * SEC));
        assert_eq!(backoff.spent(), 41 * SEC);
        assert_eq!(backoff.next(limited, SEC), Some(40 * SEC));
        // 82 s spent; 40 more would reach 122 s.
        assert_eq!(backoff.next(limited, SEC), None);
    }

    #[test]
    fn the_worst_case_with_defaults_ends_within_150_seconds() {
        // A server that never answers: each attempt costs the whole 30 s request timeout.
        let mut backoff = Backoff::new(RetryPolicy::default());
        let mut total = Duration::ZERO;
        loop {
            total += 30 * SEC;
            match backoff.next(ErrorClass::Timeout, 30 * SEC) {
                Some(wait) => total += wait,
                None => break,
            }
        }
        assert!(total <= 150 * SEC, "{total:?}");
        assert_eq!(backoff.attempts(), 3);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("60"));
        assert_eq!(retry_after(&h, now), Some(60 * SEC));
        let later = httpdate::fmt_http_date(now + 90 * SEC);
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&h, now), Some(90 * SEC));
        let earlier = httpdate::fmt_http_date(now - 90 * SEC);
        h.insert(RETRY_AFTER, HeaderValue::from_str(&earlier).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
