//! Fault injection: which fault (if any) a request gets, decided by a seeded hash of the
//! request's sequence number, so a run with the same requests gets the same faults; and the
//! compact spelling of [`Faults`] (`5xx=0.1,429=0.05,...`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

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
    /// The head announces the whole body; half of it is sent, then the body fails.
    CutBody,
    /// The connection closes without an answer.
    Drop,
    /// Never answered: no head, the connection left open.
    Hang,
    /// The head, then the body one byte at a time.
    Trickle,
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
    // New kinds go last, so that a configuration without them meets the same faults.
    let kinds = [
        (faults.rate_limited, Fault::RateLimited),
        (faults.server_error, Fault::ServerError(500)),
        (faults.slow, Fault::Slow),
        (faults.cut_body, Fault::CutBody),
        (faults.drop_connection, Fault::Drop),
        (faults.hang, Fault::Hang),
        (faults.trickle, Fault::Trickle),
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

// ---------------------------------------------------------------------------------------
// The compact spelling
// ---------------------------------------------------------------------------------------

/// Why a faults spec (see [`Faults`]'s `FromStr`) was refused: the message names the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFaultsError {
    message: String,
}

impl fmt::Display for ParseFaultsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseFaultsError {}

/// The names of a spec's items, in the order they are documented and written.
const NAMES: [&str; 10] = [
    "5xx",
    "429",
    "cut",
    "drop",
    "slow",
    "hang",
    "trickle",
    "retry-after",
    "slow-ms",
    "trickle-ms",
];

pub(crate) fn error(message: String) -> ParseFaultsError {
    ParseFaultsError { message }
}

/// The items of a compact spec (comma-separated `name=value`, each of `names` at most once,
/// spaces around items and around `=` ignored; empty or `none`: no item), as (index in
/// `names`, value, the item as written). `what` and `example` word the errors.
pub(crate) fn spec_items<'a>(
    spec: &'a str,
    names: &[&str],
    what: &str,
    example: &str,
) -> Result<Vec<(usize, &'a str, &'a str)>, ParseFaultsError> {
    let spec = spec.trim();
    if spec.is_empty() || spec.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let mut seen = vec![false; names.len()];
    let mut items = Vec::new();
    for item in spec.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(error(format!("empty item in {what}s \"{spec}\"")));
        }
        let Some((name, value)) = item.split_once('=') else {
            return Err(error(format!(
                "missing \"=\" in \"{item}\"; expected name=value, e.g. {example}"
            )));
        };
        let (name, value) = (name.trim(), value.trim());
        let Some(slot) = names.iter().position(|n| n.eq_ignore_ascii_case(name)) else {
            return Err(error(format!(
                "unknown {what} \"{name}\"; expected one of {}",
                names.join(", ")
            )));
        };
        if std::mem::replace(&mut seen[slot], true) {
            return Err(error(format!("\"{}\" given twice", names[slot])));
        }
        items.push((slot, value, item));
    }
    Ok(items)
}

/// A spec value that is a number from 0 to 1 (`kind` names it in the error).
pub(crate) fn spec_fraction(value: &str, item: &str, kind: &str) -> Result<f64, ParseFaultsError> {
    let f: f64 = value
        .parse()
        .map_err(|_| error(format!("not a number in \"{item}\"")))?;
    if !(0.0..=1.0).contains(&f) {
        return Err(error(format!(
            "{kind} out of range in \"{item}\": expected 0 to 1"
        )));
    }
    Ok(f)
}

impl FromStr for Faults {
    type Err = ParseFaultsError;

    /// Reads a compact spec: comma-separated `name=value` items, each name at most once,
    /// spaces around items and around `=` ignored; an empty spec (or `none`) is no faults.
    ///
    /// | item | sets | value |
    /// |---|---|---|
    /// | `5xx=F` | [`Faults::server_error`] | a fraction, `0` to `1` |
    /// | `429=F` | [`Faults::rate_limited`] | a fraction |
    /// | `cut=F` | [`Faults::cut_body`] | a fraction |
    /// | `drop=F` | [`Faults::drop_connection`] | a fraction |
    /// | `slow=F` | [`Faults::slow`] | a fraction |
    /// | `hang=F` | [`Faults::hang`] | a fraction |
    /// | `trickle=F` | [`Faults::trickle`] | a fraction |
    /// | `retry-after=S` | [`Faults::retry_after_secs`] | whole seconds |
    /// | `slow-ms=M` | [`Faults::slow_delay`] | whole milliseconds |
    /// | `trickle-ms=M` | [`Faults::trickle_interval`] | whole milliseconds |
    ///
    /// What is not given keeps its [default](Faults::default). The fractions must add up to
    /// at most 1 (they are shares of all requests and do not overlap).
    ///
    /// ```
    /// use std::time::Duration;
    /// use inbox_emulator::Faults;
    ///
    /// let faults: Faults = "5xx=0.1, 429=0.05, cut=0.02, retry-after=2".parse().unwrap();
    /// assert_eq!(faults.server_error, 0.1);
    /// assert_eq!(faults.retry_after_secs, 2);
    /// assert_eq!(faults.slow_delay, Duration::from_secs(1));
    /// assert_eq!("".parse::<Faults>().unwrap(), Faults::default());
    /// let error = "5xx=0.1,oops=1".parse::<Faults>().unwrap_err();
    /// assert!(error.to_string().starts_with("unknown fault \"oops\""));
    /// ```
    fn from_str(spec: &str) -> Result<Faults, ParseFaultsError> {
        let mut faults = Faults::default();
        for (slot, value, item) in spec_items(spec, &NAMES, "fault", "5xx=0.1")? {
            let share = || spec_fraction(value, item, "fraction");
            let whole = || -> Result<u64, ParseFaultsError> {
                value
                    .parse()
                    .map_err(|_| error(format!("not a whole number in \"{item}\"")))
            };
            match slot {
                0 => faults.server_error = share()?,
                1 => faults.rate_limited = share()?,
                2 => faults.cut_body = share()?,
                3 => faults.drop_connection = share()?,
                4 => faults.slow = share()?,
                5 => faults.hang = share()?,
                6 => faults.trickle = share()?,
                7 => faults.retry_after_secs = whole()?,
                8 => faults.slow_delay = Duration::from_millis(whole()?),
                _ => faults.trickle_interval = Duration::from_millis(whole()?),
            }
        }
        let total = faults.total();
        // A little slack for decimal fractions that add up to 1 in text (0.7 + 0.2 + 0.1).
        if total > 1.0 + 1e-9 {
            return Err(error(format!(
                "fractions add up to {total}, more than 1 (they are shares of all requests)"
            )));
        }
        Ok(faults)
    }
}

impl Faults {
    /// The share of requests that meet a fault: the fractions added up.
    fn total(&self) -> f64 {
        [
            self.server_error,
            self.rate_limited,
            self.cut_body,
            self.drop_connection,
            self.slow,
            self.hang,
            self.trickle,
        ]
        .iter()
        .map(|&f| fraction(f))
        .sum()
    }
}

impl fmt::Display for Faults {
    /// The compact spec that [`FromStr`] reads back: the fractions that are not zero, then
    /// the settings that differ from the default; `none` when nothing does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let defaults = Faults::default();
        let shares = [
            (self.server_error, "5xx"),
            (self.rate_limited, "429"),
            (self.cut_body, "cut"),
            (self.drop_connection, "drop"),
            (self.slow, "slow"),
            (self.hang, "hang"),
            (self.trickle, "trickle"),
        ];
        let mut items: Vec<String> = shares
            .iter()
            .filter(|(share, _)| fraction(*share) > 0.0)
            .map(|(share, name)| format!("{name}={}", fraction(*share)))
            .collect();
        if self.retry_after_secs != defaults.retry_after_secs {
            items.push(format!("retry-after={}", self.retry_after_secs));
        }
        if self.slow_delay != defaults.slow_delay {
            items.push(format!("slow-ms={}", self.slow_delay.as_millis()));
        }
        if self.trickle_interval != defaults.trickle_interval {
            items.push(format!("trickle-ms={}", self.trickle_interval.as_millis()));
        }
        if items.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&items.join(","))
        }
    }
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
            hang: 0.05,
            trickle: 0.05,
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
        assert!((share(Fault::Hang) - 0.05).abs() < 0.02);
        assert!((share(Fault::Trickle) - 0.05).abs() < 0.02);
        assert!((share(Fault::None) - 0.4).abs() < 0.02);
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

    #[test]
    fn new_kinds_leave_old_decisions_alone() {
        let old = Faults {
            rate_limited: 0.1,
            cut_body: 0.1,
            ..Faults::default()
        };
        let new = Faults {
            hang: 0.1,
            trickle: 0.1,
            ..old.clone()
        };
        for n in 0..2_000 {
            let before = decide(&old, 3, n, || 0);
            let after = decide(&new, 3, n, || 0);
            assert!(before == after || before == Fault::None, "{n}");
        }
    }

    #[test]
    fn specs_parse() {
        let faults: Faults =
            "5xx=0.1,429=0.05,cut=0.02,drop=0.02,slow=0.01,hang=0.01,trickle=0.01,retry-after=2"
                .parse()
                .unwrap();
        assert_eq!(
            faults,
            Faults {
                server_error: 0.1,
                rate_limited: 0.05,
                cut_body: 0.02,
                drop_connection: 0.02,
                slow: 0.01,
                hang: 0.01,
                trickle: 0.01,
                retry_after_secs: 2,
                ..Faults::default()
            }
        );
        let timed: Faults = " slow = 1 , slow-ms=250,TRICKLE=0, trickle-ms=5 "
            .parse()
            .unwrap();
        assert_eq!(timed.slow, 1.0);
        assert_eq!(timed.slow_delay, Duration::from_millis(250));
        assert_eq!(timed.trickle_interval, Duration::from_millis(5));
        assert_eq!("none".parse::<Faults>().unwrap(), Faults::default());
        assert_eq!("  ".parse::<Faults>().unwrap(), Faults::default());
        assert!("5xx=0.7,429=0.2,cut=0.1".parse::<Faults>().is_ok());
        // Display writes what FromStr reads back.
        for faults in [faults, timed, Faults::default()] {
            assert_eq!(faults.to_string().parse::<Faults>().unwrap(), faults);
        }
        assert_eq!(Faults::default().to_string(), "none");
        assert_eq!(
            "cut=0.5,retry-after=3"
                .parse::<Faults>()
                .unwrap()
                .to_string(),
            "cut=0.5,retry-after=3"
        );
    }

    #[test]
    fn bad_specs_name_the_bad_item() {
        let cases = [
            (
                "x=0.1",
                "unknown fault \"x\"; expected one of 5xx, 429, cut, drop, slow, hang",
            ),
            (
                "5xx=2",
                "fraction out of range in \"5xx=2\": expected 0 to 1",
            ),
            ("cut=-0.1", "fraction out of range in \"cut=-0.1\""),
            ("cut=NaN", "fraction out of range in \"cut=NaN\""),
            ("drop=lots", "not a number in \"drop=lots\""),
            (
                "retry-after=1.5",
                "not a whole number in \"retry-after=1.5\"",
            ),
            ("slow-ms=-1", "not a whole number in \"slow-ms=-1\""),
            ("hang", "missing \"=\" in \"hang\""),
            ("5xx=0.1,,cut=0.1", "empty item"),
            ("cut=0.1,cut=0.2", "\"cut\" given twice"),
            ("5xx=0.6,429=0.6", "fractions add up to 1.2, more than 1"),
        ];
        for (spec, expected) in cases {
            let error = spec.parse::<Faults>().unwrap_err().to_string();
            assert!(error.starts_with(expected), "{spec}: {error}");
        }
    }
}
