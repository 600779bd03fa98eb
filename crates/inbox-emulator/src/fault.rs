//! Fault injection: which fault (if any) a request gets, decided by a seeded hash of the
//! request's sequence number, so a run with the same requests gets the same faults.

use crate::Faults;
use crate::rng::Rng;

const SALT: u64 = 0x0046_4155_4c54;

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Fault {
    /// Answered normally.
    None,
    /// 429 with `Retry-After`.
    RateLimited,
    /// 500, 502 or 503.
    ServerError(u16),
    /// Answered normally, after an extra delay.
    Slow,
    /// The head announces the whole body; half of it is sent, then the connection closes.
    CutBody,
    /// The connection closes without an answer.
    Drop,
}

/// A fraction clamped into `0.0..=1.0` (NaN counts as 0).
fn fraction(rate: f64) -> f64 {
    if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

/// The fault of request number `n` (counted from 0 across both providers); `server_errors`
/// is how many server errors were injected before, to take 500, 502 and 503 in turn.
pub(crate) fn decide(
    faults: &Faults,
    seed: u64,
    n: u64,
    server_errors: impl FnOnce() -> usize,
) -> Fault {
    let roll = Rng::of(&[seed, SALT, n]).unit();
    let mut edge = 0.0;
    let kinds = [
        (faults.rate_limited, Fault::RateLimited),
        (faults.server_error, Fault::ServerError(500)),
        (faults.slow, Fault::Slow),
        (faults.cut_body, Fault::CutBody),
        (faults.drop_connection, Fault::Drop),
    ];
    for (rate, fault) in kinds {
        edge += fraction(rate);
        if roll < edge {
            return match fault {
                Fault::ServerError(_) => Fault::ServerError([500, 502, 503][server_errors() % 3]),
                other => other,
            };
        }
    }
    Fault::None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_are_respected() {
        let faults = Faults {
            rate_limited: 0.1,
            server_error: 0.2,
            slow: 0.05,
            cut_body: 0.05,
            drop_connection: 0.1,
            ..Faults::default()
        };
        let mut counts = std::collections::HashMap::new();
        let mut errors = 0;
        for n in 0..20_000 {
            let fault = decide(&faults, 7, n, || {
                errors += 1;
                errors - 1
            });
            *counts.entry(fault).or_insert(0usize) += 1;
        }
        let share = |f| counts.get(&f).copied().unwrap_or(0) as f64 / 20_000.0;
        assert!((share(Fault::RateLimited) - 0.1).abs() < 0.02);
        assert!((share(Fault::Slow) - 0.05).abs() < 0.02);
        assert!((share(Fault::Drop) - 0.1).abs() < 0.02);
        assert!((share(Fault::None) - 0.5).abs() < 0.02);
        let five = share(Fault::ServerError(500));
        assert!(
            (five - share(Fault::ServerError(503))).abs() < 0.001,
            "{counts:?}"
        );
        assert_eq!(decide(&Faults::default(), 7, 1, || 0), Fault::None);
        let all = Faults {
            drop_connection: f64::INFINITY,
            rate_limited: f64::NAN,
            ..Faults::default()
        };
        assert_eq!(decide(&all, 7, 1, || 0), Fault::Drop);
    }
}
