//! When to retry, and how long to wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How a client retries a request that failed in a way worth retrying: 429, 5xx other than
/// 501, timeouts, connection errors and bodies cut short. Other 4xx are never retried.
///
/// The wait before retry `n` (1-based) is the server's `Retry-After` when it sent one (capped
/// at [`RetryPolicy::max_retry_after`]), else a random duration in
/// `0..=min(max_backoff, base_delay * 2^(n-1))` ("full jitter"). Attempts are bounded by
/// [`RetryPolicy::max_attempts`] and the sum of waits by [`RetryPolicy::max_total_wait`]:
/// when the next wait would pass it, the client gives up with the last error.
///
/// ```
/// use std::time::Duration;
/// use inbox_http::RetryPolicy;
///
/// let patient = RetryPolicy { max_attempts: 6, ..RetryPolicy::default() };
/// assert!(RetryPolicy::none().max_attempts == 1);
/// assert!(patient.max_total_wait >= Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 means never retry.
    pub max_attempts: u32,
    /// The backoff's first ceiling; it doubles each retry.
    pub base_delay: Duration,
    /// The highest backoff ceiling.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; a longer one is waited for this long.
    pub max_retry_after: Duration,
    /// The most time spent waiting between attempts of one request.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, backoff from 250 ms up to 10 s, `Retry-After` honoured up to 60 s (Partoo
    /// asks for 60 s on a 429), at most 2 minutes of waiting per request.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            max_total_wait: Duration::from_secs(120),
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
            .min(self.max_backoff);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(random_u64() % nanos.saturating_add(1))
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

/// A small, fast, non-cryptographic generator for jitter (xorshift64*), seeded per process
/// from the clock and stepped atomically.
fn random_u64() -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0x9E37_79B9_7F4A_7C15, |d| d.as_nanos() as u64);
        x = seed | 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    STATE.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_stays_under_its_doubling_ceiling() {
        let policy = RetryPolicy::default();
        for retry in 1..=8 {
            let ceiling = policy.base_delay * (1 << (retry - 1));
            let ceiling = ceiling.min(policy.max_backoff);
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
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3600))),
            policy.max_retry_after
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("60"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(60)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(90)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&earlier).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
